//! The socket side of [`ObjectClient`]: a non-blocking unix stream to ubusd. The daemon
//! owns the poll loop; it polls [`as_raw_fd`](UbusConnection::as_raw_fd) for reading,
//! and for writing while [`wants_write`](UbusConnection::wants_write).
//!
//! File descriptors that ubusd passes as SCM_RIGHTS (libubus `ubus_request_set_fd`) are
//! never accepted: a plain `read` gives the kernel no control buffer, so it closes them.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use super::object::{Event, ObjectClient, Status};

/// Bytes read per `read` call; frames larger than this are reassembled.
const READ_CHUNK: usize = 4096;

#[derive(Debug)]
pub struct UbusConnection<H: 'static = ()> {
    stream: UnixStream,
    object: ObjectClient<H>,
}

impl<H> UbusConnection<H> {
    /// Connect to ubusd's socket (`/var/run/ubus/ubus.sock` on OpenWrt). Registration
    /// starts when ubusd's HELLO is read by [`on_readable`](Self::on_readable).
    pub fn connect(path: &Path, object: ObjectClient<H>) -> io::Result<Self> {
        let stream = crate::sys::unix::connect_nonblocking(path)?;
        Self::from_stream(stream, object)
    }

    /// Use an already connected stream (a socketpair in tests, or an inherited fd).
    pub fn from_stream(stream: UnixStream, object: ObjectClient<H>) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        Ok(UbusConnection { stream, object })
    }

    pub fn as_raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// Queued bytes remain to be written: poll for POLLOUT.
    pub fn wants_write(&self) -> bool {
        !self.object.outgoing().is_empty()
    }

    /// The id ubusd gave our object, once registered.
    pub fn object_id(&self) -> Option<u32> {
        self.object.object_id()
    }

    pub fn object(&self) -> &ObjectClient<H> {
        &self.object
    }

    pub fn object_mut(&mut self) -> &mut ObjectClient<H> {
        &mut self.object
    }

    /// Write as much of the queue as the socket takes now.
    pub fn on_writable(&mut self) -> io::Result<()> {
        while !self.object.outgoing().is_empty() {
            match self.stream.write(self.object.outgoing()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.object.consume_outgoing(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Read everything available and hand each event to `handler` as it comes, so a call
    /// right behind the registration already sees it; a call is answered with the
    /// handler's result (ignored for other events). Then try to flush the replies.
    /// Returns `Err` when ubusd closed the connection (`UnexpectedEof`) or the session
    /// broke (`InvalidData`); the daemon then drops this connection and may reconnect
    /// later with a fresh [`ObjectClient`].
    pub fn on_readable(
        &mut self,
        mut handler: impl FnMut(&Event<H>) -> Result<Option<Vec<u8>>, Status>,
    ) -> io::Result<()> {
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            let n = match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "ubusd closed the connection",
                    ))
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            // Handle each chunk before reading on, so the buffer stays bounded.
            self.object.receive(&chunk[..n]);
            while let Some(event) = self
                .object
                .next_event()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            {
                let result = handler(&event);
                if let Event::Call(call) = event {
                    self.object.reply(&call, result);
                }
            }
        }
        self.on_writable()
    }
}

impl<H> AsRawFd for UbusConnection<H> {
    fn as_raw_fd(&self) -> RawFd {
        UbusConnection::as_raw_fd(self)
    }
}
