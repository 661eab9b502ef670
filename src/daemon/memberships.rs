//! An uplink's solicited-node group memberships while it is armed, spread over as many
//! group sockets as the kernel's per-socket limit needs, and kept equal to the plan.

use crate::sys::mcast::GroupSocket;
use crate::sys::SysError;
use std::net::Ipv6Addr;

/// Memberships per socket. The kernel charges each one (a `struct ipv6_mc_socklist`, 40
/// bytes on 32-bit and 56 on 64-bit) to the socket's option memory, which
/// `net.core.optmem_max` bounds; the join past it fails with ENOMEM (net/ipv6/mcast.c).
/// That sysctl is 10240 bytes on 32-bit and 20480 on 64-bit kernels before the 128 KiB
/// default of recent ones: 255 and 365 memberships. Measured on 64-bit: 182 joins at
/// 10240, 365 at 20480, 2340 at 131072. 128 fits under every default.
/// (`net.ipv6.mld_max_msf` bounds source filters per group, which we do not use.)
const PER_SOCKET: usize = 128;

struct Held {
    socket: GroupSocket,
    groups: Vec<Ipv6Addr>,
}

/// The groups joined on one interface index. Dropping it closes the sockets, which leaves
/// every group (the kernel sends the MLD reports, RFC 3810 section 6.1).
pub struct Memberships {
    ifindex: u32,
    held: Vec<Held>,
}

impl Memberships {
    pub fn new(ifindex: u32) -> Memberships {
        Memberships {
            ifindex,
            held: Vec::new(),
        }
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// How many groups are joined.
    pub fn len(&self) -> usize {
        self.held.iter().map(|h| h.groups.len()).sum()
    }

    fn contains(&self, group: &Ipv6Addr) -> bool {
        self.held.iter().any(|h| h.groups.contains(group))
    }

    /// Leaves every group not in `wanted` (sorted) and joins every missing one. Stops at
    /// the first failed join; what is still missing is joined on the next call.
    pub fn update(&mut self, wanted: &[Ipv6Addr]) -> Result<(), SysError> {
        let ifindex = self.ifindex;
        let mut result = Ok(());
        for h in &mut self.held {
            let socket = &h.socket;
            // Forgotten even when the kernel refuses the leave: it has no such membership
            // then (the device went away and took it along).
            h.groups.retain(|group| {
                let keep = wanted.binary_search(group).is_ok();
                if !keep {
                    if let Err(e) = socket.leave(ifindex, group) {
                        result = Err(e);
                    }
                }
                keep
            });
        }
        self.held.retain(|h| !h.groups.is_empty());
        for group in wanted {
            if self.contains(group) {
                continue;
            }
            let slot = match self.held.iter().position(|h| h.groups.len() < PER_SOCKET) {
                Some(i) => i,
                None => {
                    let socket = GroupSocket::open()?;
                    self.held.push(Held {
                        socket,
                        groups: Vec::new(),
                    });
                    self.held.len() - 1
                }
            };
            let h = &mut self.held[slot];
            h.socket.join(ifindex, group)?;
            h.groups.push(*group);
        }
        result
    }
}
