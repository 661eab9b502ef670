//! The socket probes are sent from (see `crate::core::probe`): an unbound IPv6 UDP socket.
//! An empty datagram to the discard port (RFC 863) makes the kernel resolve the target on
//! the device its route leaves through; what happens to the datagram afterwards does not
//! matter.

use super::SysError;
use std::net::{Ipv6Addr, SocketAddrV6, UdpSocket};

/// The discard service port (RFC 863): a host that receives the datagram ignores it.
const DISCARD_PORT: u16 = 9;

pub struct ProbeSocket {
    socket: UdpSocket,
}

impl ProbeSocket {
    pub fn open() -> Result<ProbeSocket, SysError> {
        let wrap = |call| move |err| SysError { call, err };
        let socket = UdpSocket::bind(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 0, 0, 0))
            .map_err(wrap("bind(probe socket)"))?;
        socket
            .set_nonblocking(true)
            .map_err(wrap("fcntl(probe socket)"))?;
        Ok(ProbeSocket { socket })
    }

    /// Starts the kernel's address resolution of `target`.
    pub fn probe(&self, target: &Ipv6Addr) -> Result<(), SysError> {
        self.socket
            .send_to(&[], SocketAddrV6::new(*target, DISCARD_PORT, 0, 0))
            .map(|_| ())
            .map_err(|err| SysError {
                call: "sendto(probe)",
                err,
            })
    }
}
