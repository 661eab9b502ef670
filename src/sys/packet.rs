//! The AF_PACKET socket an uplink receives NS and sends NA frames on.

use super::{bpf, check, check_size, setsockopt, SysError};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const ETH_P_IPV6: u16 = 0x86dd;
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
    /// kernel releases it when the socket closes, even if we crash (prior-art note 4.4).
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
        sll.sll_protocol = ETH_P_IPV6.to_be();
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
