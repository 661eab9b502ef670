//! IPv6 multicast group memberships held on an AF_INET6 socket: the kernel sends the MLD
//! reports for them and answers queries (RFC 3810 section 6), which a packet socket's
//! PACKET_MR_ALLMULTI never does.

use super::{check, setsockopt, SysError};
use std::net::Ipv6Addr;
use std::os::fd::{FromRawFd, OwnedFd};

/// A UDP socket that is never bound, so it receives nothing; it only holds memberships.
/// Closing it leaves every group it joined.
#[derive(Debug)]
pub struct GroupSocket {
    fd: OwnedFd,
}

impl GroupSocket {
    pub fn open() -> Result<GroupSocket, SysError> {
        // SAFETY: plain socket(2) call.
        let raw = check(
            unsafe {
                libc::socket(
                    libc::AF_INET6,
                    libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    0,
                )
            },
            "socket(AF_INET6)",
        )?;
        // SAFETY: `raw` is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(GroupSocket { fd })
    }

    /// Joins `group` on `ifindex` (IPV6_ADD_MEMBERSHIP, ipv6(7)).
    pub fn join(&self, ifindex: u32, group: &Ipv6Addr) -> Result<(), SysError> {
        self.membership(
            libc::IPV6_ADD_MEMBERSHIP,
            ifindex,
            group,
            "setsockopt(IPV6_ADD_MEMBERSHIP)",
        )
    }

    /// Leaves `group` on `ifindex` (IPV6_DROP_MEMBERSHIP).
    pub fn leave(&self, ifindex: u32, group: &Ipv6Addr) -> Result<(), SysError> {
        self.membership(
            libc::IPV6_DROP_MEMBERSHIP,
            ifindex,
            group,
            "setsockopt(IPV6_DROP_MEMBERSHIP)",
        )
    }

    fn membership(
        &self,
        option: libc::c_int,
        ifindex: u32,
        group: &Ipv6Addr,
        call: &'static str,
    ) -> Result<(), SysError> {
        use std::os::fd::AsRawFd;
        let mreq = libc::ipv6_mreq {
            ipv6mr_multiaddr: libc::in6_addr {
                s6_addr: group.octets(),
            },
            ipv6mr_interface: ifindex as _,
        };
        setsockopt(self.fd.as_raw_fd(), libc::IPPROTO_IPV6, option, &mreq, call)
    }
}
