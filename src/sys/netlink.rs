//! The rtnetlink socket that tells us about links, IPv6 addresses, IPv6 routes and
//! neighbours as they change, so uplinks and routed ranges are followed by events rather
//! than by re-reading tables on a timer. Message parsing
//! is in `crate::state::rtnl`; this file only moves bytes.

use super::{check, check_size, setsockopt, SysError};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const RTMGRP_LINK: u32 = 0x1;
const RTMGRP_NEIGH: u32 = 0x4;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;
const RTMGRP_IPV6_ROUTE: u32 = 0x400;

/// What a dump request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dump {
    Links,
    Ipv6Addresses,
    Ipv6Routes,
    Ipv6Neighbours,
}

pub struct NetlinkSocket {
    fd: OwnedFd,
    seq: u32,
}

impl NetlinkSocket {
    /// Opens a NETLINK_ROUTE socket subscribed to link, IPv6 address, IPv6 route and
    /// neighbour changes.
    pub fn open() -> Result<NetlinkSocket, SysError> {
        // SAFETY: plain socket(2) call.
        let raw = check(
            unsafe {
                libc::socket(
                    libc::AF_NETLINK,
                    libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    libc::NETLINK_ROUTE,
                )
            },
            "socket(AF_NETLINK)",
        )?;
        // SAFETY: `raw` is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // A larger queue makes ENOBUFS (lost events) rare on hosts with many addresses.
        let _ = setsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &(256 * 1024) as &libc::c_int,
            "setsockopt(SO_RCVBUF)",
        );
        // SAFETY: sockaddr_nl is plain data; all-zero is a valid starting value.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        addr.nl_groups = RTMGRP_LINK | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE | RTMGRP_NEIGH;
        // SAFETY: `addr` is a valid sockaddr_nl of the size passed.
        let ret = unsafe {
            libc::bind(
                raw,
                &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        check(ret, "bind(AF_NETLINK)")?;
        Ok(NetlinkSocket { fd, seq: 0 })
    }

    /// Asks the kernel for a full dump; the answers arrive as ordinary messages, ending with
    /// NLMSG_DONE carrying the returned sequence number. Only one dump may run at a time on
    /// a socket: a request while another runs is refused (EBUSY).
    pub fn request_dump(&mut self, what: Dump) -> Result<u32, SysError> {
        self.seq = self.seq.wrapping_add(1);
        // nlmsghdr (16 bytes) + ifinfomsg (16), ifaddrmsg (8), rtmsg (12) or ndmsg (12),
        // native byte order (the kernel's own ABI on this host); the family is the first
        // byte of each.
        let (msg_type, family, body_len) = match what {
            Dump::Links => (libc::RTM_GETLINK, libc::AF_UNSPEC as u8, 16usize),
            Dump::Ipv6Addresses => (libc::RTM_GETADDR, libc::AF_INET6 as u8, 8usize),
            Dump::Ipv6Routes => (libc::RTM_GETROUTE, libc::AF_INET6 as u8, 12usize),
            Dump::Ipv6Neighbours => (libc::RTM_GETNEIGH, libc::AF_INET6 as u8, 12usize),
        };
        let len = 16 + body_len;
        let mut req = [0u8; 32];
        req[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
        req[4..6].copy_from_slice(&msg_type.to_ne_bytes());
        let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
        req[6..8].copy_from_slice(&flags.to_ne_bytes());
        req[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        req[16] = family;
        // SAFETY: `req` is valid for reads of `len` bytes.
        let ret = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                req.as_ptr() as *const libc::c_void,
                len,
                0,
            )
        };
        check_size(ret, "send(NETLINK_ROUTE dump)").map(|_| self.seq)
    }

    /// Receives one datagram of messages; `Ok(None)` when nothing is queued. ENOBUFS (the
    /// kernel dropped events) is returned as an error the caller answers with a re-dump.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<usize>, SysError> {
        // SAFETY: `buf` is valid for writes of its length.
        let ret = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        match check_size(ret, "recv(NETLINK_ROUTE)") {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.would_block() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// True for the kernel's answer (a negative errno in NLMSG_ERROR) to a dump requested while
/// another still ran: expected while resynchronising, and retried.
pub fn is_busy(errno: i32) -> bool {
    errno == -libc::EBUSY
}

/// True for the error that means "events were lost, resynchronise".
pub fn is_overrun(e: &SysError) -> bool {
    e.raw_os_error() == Some(libc::ENOBUFS)
}

impl AsRawFd for NetlinkSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
