//! The AF_PACKET socket an uplink receives NS and sends NA frames on.

use super::{bpf, check, check_size, setsockopt, SysError};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Bound to every protocol, not ETH_P_IPV6: a socket bound to one protocol on eth0 is also
/// handed frames that a VLAN device on it (eth0.2) has already untagged, as plain IPv6 for
/// eth0 (net/core/dev.c delivers to orig_dev's ptype_specific list). An ETH_P_ALL socket is
/// a tap on eth0 that sees each frame before VLAN demultiplexing, with the tag still in its
/// metadata, where the filter refuses it. The filter runs in the kernel for every frame of
/// the uplink, a few instructions each; our own outgoing frames are ignored (below).
const ETH_P_ALL: u16 = 0x0003;
/// linux/if_packet.h; not in every libc release we build against.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;

/// Receive queue of the daemon's NS socket. The default (net.core.rmem_default, 208 KiB)
/// holds about 270 NS on a veth (each frame is charged its ~768-byte skb), i.e. 5 ms at
/// 50k NS/s: docs/benchmark.md measured NS lost in the queue whenever the daemon was
/// descheduled that long, at offered rates it otherwise keeps up with. The queue only costs
/// memory while it is full.
const NS_RECV_BUFFER: usize = 1 << 20;

/// Result of one receive.
pub enum Recv {
    /// A frame of this many bytes is in the buffer.
    Frame(usize),
    /// The frame was longer than the buffer (its real length); it cannot be validated.
    Truncated(usize),
    /// Nothing queued.
    Empty,
}

/// What the kernel counted on a packet socket since the previous query (PACKET_STATISTICS
/// resets on read, packet(7)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketStats {
    /// Frames that passed the filter (including the dropped ones).
    pub packets: u32,
    /// Frames dropped because the receive queue was full.
    pub drops: u32,
}

/// A raw packet socket bound to one interface, behind a classic BPF filter (the daemon's is
/// NS only), in all-multicast mode.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    ifindex: u32,
}

impl PacketSocket {
    /// Opens the daemon's socket for `ifindex`, behind [`bpf::NS_FILTER`]: drop-all filter,
    /// bind, drain, ALLMULTI, real filter.
    ///
    /// ALLMULTI is a PACKET_MR_ALLMULTI membership rather than the IFF_ALLMULTI flag: the
    /// kernel releases it when the socket closes, even if we crash, whereas a flag set with
    /// SIOCSIFFLAGS stays on the device after a crash.
    pub fn open(ifindex: u32) -> Result<PacketSocket, SysError> {
        let sock = PacketSocket::open_with_filter(ifindex, &bpf::NS_FILTER)?;
        // Best effort: with the default queue a short stall loses NS (see NS_RECV_BUFFER).
        let _ = sock.set_recv_buffer(NS_RECV_BUFFER);
        Ok(sock)
    }

    /// Opens the socket as [`PacketSocket::open`] does but behind `program` (for example
    /// [`bpf::NA_FILTER`], which the load generator receives the answers with).
    pub fn open_with_filter(
        ifindex: u32,
        program: &[libc::sock_filter],
    ) -> Result<PacketSocket, SysError> {
        // Protocol 0 at creation: the socket receives nothing until bound.
        // SAFETY: plain socket(2) call.
        let raw = check(
            unsafe {
                libc::socket(
                    libc::AF_PACKET,
                    libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    0,
                )
            },
            "socket(AF_PACKET)",
        )?;
        // SAFETY: `raw` is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let sock = PacketSocket { fd, ifindex };
        bpf::attach(raw, &bpf::DROP_ALL)?;
        // Our own outgoing frames (and the host's own NS) are of no interest; ignore the
        // error on kernels older than 4.20, where the own-MAC check still catches them.
        let _ = setsockopt(
            raw,
            libc::SOL_PACKET,
            PACKET_IGNORE_OUTGOING,
            &1 as &libc::c_int,
            "setsockopt(PACKET_IGNORE_OUTGOING)",
        );
        sock.bind()?;
        sock.drain();
        let mreq = libc::packet_mreq {
            mr_ifindex: ifindex as libc::c_int,
            mr_type: libc::PACKET_MR_ALLMULTI as libc::c_ushort,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        setsockopt(
            raw,
            libc::SOL_PACKET,
            libc::PACKET_ADD_MEMBERSHIP,
            &mreq,
            "setsockopt(PACKET_ADD_MEMBERSHIP, ALLMULTI)",
        )?;
        bpf::attach(raw, program)?;
        Ok(sock)
    }

    fn bind(&self) -> Result<(), SysError> {
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid starting value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = self.ifindex as i32;
        // SAFETY: `sll` is a valid sockaddr_ll of the size passed.
        let ret = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        check(ret, "bind(AF_PACKET)").map(|_| ())
    }

    /// Empties the receive queue of whatever arrived before the real filter.
    fn drain(&self) {
        let mut scratch = [0u8; 1];
        // Bounded: the queue holds at most what arrived under the drop-all filter.
        for _ in 0..4096 {
            match self.recv(&mut scratch) {
                Ok(Recv::Empty) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Receives one frame without blocking. MSG_TRUNC makes the kernel report the real
    /// length, so a frame larger than `buf` is recognised instead of silently cut.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Recv, SysError> {
        // SAFETY: `buf` is valid for writes of its length.
        let ret = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        };
        match check_size(ret, "recv(AF_PACKET)") {
            Ok(n) if n > buf.len() => Ok(Recv::Truncated(n)),
            Ok(n) => Ok(Recv::Frame(n)),
            Err(e) if e.would_block() => Ok(Recv::Empty),
            Err(e) => Err(e),
        }
    }

    /// Sends one complete Ethernet frame out of the bound interface.
    pub fn send(&self, frame: &[u8]) -> Result<(), SysError> {
        // SAFETY: `frame` is valid for reads of its length.
        let ret = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                libc::MSG_DONTWAIT,
            )
        };
        check_size(ret, "send(AF_PACKET)").map(|_| ())
    }

    /// Asks for a receive queue of `bytes`. SO_RCVBUFFORCE lifts the `net.core.rmem_max`
    /// cap when we have CAP_NET_ADMIN; without it SO_RCVBUF gets what the cap allows.
    pub fn set_recv_buffer(&self, bytes: usize) -> Result<(), SysError> {
        let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        let fd = self.fd.as_raw_fd();
        setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            &value,
            "setsockopt(SO_RCVBUFFORCE)",
        )
        .or_else(|_| {
            setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                &value,
                "setsockopt(SO_RCVBUF)",
            )
        })
    }

    /// Frames received and dropped for a full queue since the previous call (or since the
    /// socket was opened): a full queue loses frames silently otherwise.
    pub fn take_stats(&self) -> Result<PacketStats, SysError> {
        let mut stats = libc::tpacket_stats {
            tp_packets: 0,
            tp_drops: 0,
        };
        let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: `stats` and `len` are valid out-pointers of the right size.
        let ret = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                &mut stats as *mut libc::tpacket_stats as *mut libc::c_void,
                &mut len,
            )
        };
        check(ret, "getsockopt(PACKET_STATISTICS)")?;
        Ok(PacketStats {
            packets: stats.tp_packets,
            drops: stats.tp_drops,
        })
    }

    /// Reads and clears a pending socket error (after POLLERR), so poll stops reporting it.
    pub fn take_error(&self) -> Option<SysError> {
        let mut err: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `err` and `len` are valid out-pointers of the right size.
        let ret = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                &mut err as *mut libc::c_int as *mut libc::c_void,
                &mut len,
            )
        };
        if ret < 0 {
            return Some(SysError::last("getsockopt(SO_ERROR)"));
        }
        (err != 0).then(|| SysError {
            call: "socket error",
            err: std::io::Error::from_raw_os_error(err),
        })
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Frames moved per recvmmsg/sendmmsg call. Batching is what lets one core keep up with
/// ~100k NS/s: docs/benchmark.md measured ~5.7 us of CPU per answered NS with one recv and
/// one send syscall each, most of it syscall overhead.
pub const BATCH: usize = 32;
/// Room for one received frame. An NS is 72-86 bytes; 2 KiB leaves room for ~240 options
/// and any Ethernet MTU in use on uplinks (1500). Anything longer is reported truncated and
/// counted, never cut silently.
pub const SLOT_LEN: usize = 2048;

/// Fixed receive storage for one batch: allocated once, reused for every wakeup.
pub struct RecvBatch {
    slots: Box<[[u8; SLOT_LEN]; BATCH]>,
    /// Real length of each received frame (larger than SLOT_LEN when truncated).
    lens: [usize; BATCH],
    count: usize,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch {
            slots: Box::new([[0; SLOT_LEN]; BATCH]),
            lens: [0; BATCH],
            count: 0,
        }
    }
}

impl RecvBatch {
    /// The frames of the last receive: `Ok(frame)`, or `Err(real_length)` for a frame that
    /// did not fit its slot.
    pub fn frames(&self) -> impl Iterator<Item = Result<&[u8], usize>> {
        self.slots[..self.count]
            .iter()
            .zip(&self.lens)
            .map(|(slot, &len)| {
                if len > SLOT_LEN {
                    Err(len)
                } else {
                    Ok(&slot[..len])
                }
            })
    }
}

/// Fixed send storage for one batch of NA frames.
pub struct SendBatch<const FRAME: usize> {
    slots: [[u8; FRAME]; BATCH],
    lens: [usize; BATCH],
    count: usize,
}

impl<const FRAME: usize> Default for SendBatch<FRAME> {
    fn default() -> Self {
        SendBatch {
            slots: [[0; FRAME]; BATCH],
            lens: [0; BATCH],
            count: 0,
        }
    }
}

impl<const FRAME: usize> SendBatch<FRAME> {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// Lets `fill` write a frame into the next free slot; it returns the frame's length, or
    /// `None` if it wrote nothing. False when the batch is already full.
    pub fn push(&mut self, fill: impl FnOnce(&mut [u8; FRAME]) -> Option<usize>) -> bool {
        if self.count == BATCH {
            return false;
        }
        if let Some(len) = fill(&mut self.slots[self.count]) {
            self.lens[self.count] = len.min(FRAME);
            self.count += 1;
        }
        true
    }
}

impl PacketSocket {
    /// Receives up to [`BATCH`] queued frames in one call without blocking; returns how many
    /// (0 when the queue is empty).
    pub fn recv_batch(&self, batch: &mut RecvBatch) -> Result<usize, SysError> {
        // SAFETY: iovec and mmsghdr are plain data; zeroed is a valid empty value.
        let mut iov: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for ((iov, msg), slot) in iov
            .iter_mut()
            .zip(msgs.iter_mut())
            .zip(batch.slots.iter_mut())
        {
            iov.iov_base = slot.as_mut_ptr() as *mut libc::c_void;
            iov.iov_len = SLOT_LEN;
            msg.msg_hdr.msg_iov = iov;
            msg.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every mmsghdr points at one iovec that points at a live slot of SLOT_LEN
        // bytes; the arrays outlive the call. MSG_TRUNC makes msg_len the real frame length.
        let ret = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                msgs.as_mut_ptr(),
                BATCH as libc::c_uint,
                // c_int on glibc, c_uint on musl.
                (libc::MSG_DONTWAIT | libc::MSG_TRUNC) as _,
                std::ptr::null_mut(),
            )
        };
        batch.count = 0;
        let n = match check(ret, "recvmmsg(AF_PACKET)") {
            Ok(n) => n as usize,
            Err(e) if e.would_block() => return Ok(0),
            Err(e) => return Err(e),
        };
        for (len, msg) in batch.lens.iter_mut().zip(&msgs[..n]) {
            *len = msg.msg_len as usize;
        }
        batch.count = n;
        Ok(n)
    }

    /// Sends every frame of `batch` (then empties it); returns how many the kernel took.
    pub fn send_batch<const FRAME: usize>(
        &self,
        batch: &mut SendBatch<FRAME>,
    ) -> Result<usize, SysError> {
        let count = std::mem::take(&mut batch.count);
        // SAFETY: as in recv_batch; the slots are only read.
        let mut iov: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for i in 0..count {
            iov[i].iov_base = batch.slots[i].as_ptr() as *mut libc::c_void;
            iov[i].iov_len = batch.lens[i];
            msgs[i].msg_hdr.msg_iov = &mut iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        let mut sent = 0;
        // sendmmsg may stop early (a full device queue); retry the rest once, then give up
        // on them rather than spin.
        for _ in 0..2 {
            if sent == count {
                break;
            }
            // SAFETY: msgs[sent..count] point at live iovecs over live slots.
            let ret = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    msgs[sent..].as_mut_ptr(),
                    (count - sent) as libc::c_uint,
                    // c_int on glibc, c_uint on musl.
                    libc::MSG_DONTWAIT as _,
                )
            };
            match check(ret, "sendmmsg(AF_PACKET)") {
                Ok(n) => sent += n as usize,
                // Some went out: report those; the rest count as failed sends.
                Err(_) if sent > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(sent)
    }
}
