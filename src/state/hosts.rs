//! The hosts the kernel knows on each device: IPv6 neighbour entries in a usable state,
//! kept current from rtnetlink (`crate::state::rtnl`). The `known` hosts policy answers only
//! for these, so a wide range does not make the upstream router cache every address in it.
//!
//! Bounded: at most [`MAX_HOSTS`] entries; an entry that does not fit is counted in
//! [`HostTable::refused`] and left out. Lookups allocate nothing (one per received NS).

use std::net::Ipv6Addr;

/// Entries kept at most: 20 bytes each, so a full table is 320 KiB.
pub const MAX_HOSTS: usize = 16 * 1024;

/// (address, device), sorted, so one address's entries on several devices are adjacent.
type Entry = ([u8; 16], u32);

#[derive(Debug, Default)]
pub struct HostTable {
    entries: Vec<Entry>,
    refused: u64,
}

impl HostTable {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries left out because the table was full, since start.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Forgets every entry (before a re-dump after lost events); the refusal count stays.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Records that `addr` is (or is no longer) a usable neighbour on `ifindex`; returns
    /// false when nothing changed.
    pub fn apply(&mut self, ifindex: u32, addr: &Ipv6Addr, present: bool) -> bool {
        let entry = (addr.octets(), ifindex);
        match (self.entries.binary_search(&entry), present) {
            (Ok(_), true) | (Err(_), false) => false,
            (Ok(i), false) => {
                self.entries.remove(i);
                true
            }
            (Err(i), true) => {
                if self.entries.len() >= MAX_HOSTS {
                    self.refused += 1;
                    return false;
                }
                self.entries.insert(i, entry);
                true
            }
        }
    }

    /// A device is gone, and its neighbours with it.
    pub fn forget_device(&mut self, ifindex: u32) {
        self.entries.retain(|(_, i)| *i != ifindex);
    }

    /// Whether `addr` is a neighbour on any of `devices`. No allocation.
    pub fn known_on(&self, addr: &Ipv6Addr, devices: &[u32]) -> bool {
        let octets = addr.octets();
        let first = self.entries.partition_point(|(a, _)| *a < octets);
        self.entries[first..]
            .iter()
            .take_while(|(a, _)| *a == octets)
            .any(|(_, i)| devices.contains(i))
    }

    /// The lowest address above `after` (the lowest of all without one) with an entry on
    /// any of `devices`: an announcement sweep's next host. No allocation.
    pub fn next_on(&self, after: Option<&Ipv6Addr>, devices: &[u32]) -> Option<Ipv6Addr> {
        let first = after.map_or(0, |a| {
            let octets = a.octets();
            self.entries.partition_point(|(e, _)| *e <= octets)
        });
        self.entries[first..]
            .iter()
            .find(|(_, i)| devices.contains(i))
            .map(|(a, _)| Ipv6Addr::from(*a))
    }

    /// How many entries are on any of `devices` (for status).
    pub fn count_on(&self, devices: &[u32]) -> usize {
        self.entries
            .iter()
            .filter(|(_, i)| devices.contains(i))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn known_only_on_the_devices_asked_for() {
        let mut h = HostTable::default();
        assert!(h.apply(5, &ip("2001:db8::5"), true));
        assert!(!h.apply(5, &ip("2001:db8::5"), true));
        assert!(h.apply(7, &ip("2001:db8::5"), true));
        assert!(h.apply(5, &ip("2001:db8::6"), true));
        assert!(h.known_on(&ip("2001:db8::5"), &[7]));
        assert!(h.known_on(&ip("2001:db8::6"), &[3, 5]));
        assert!(!h.known_on(&ip("2001:db8::6"), &[7]));
        assert!(!h.known_on(&ip("2001:db8::7"), &[5, 7]));
        assert_eq!(h.count_on(&[5]), 2);
        assert!(h.apply(5, &ip("2001:db8::5"), false));
        assert!(!h.known_on(&ip("2001:db8::5"), &[5]));
        h.forget_device(7);
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn next_on_walks_the_addresses_of_some_devices_in_order() {
        let mut h = HostTable::default();
        for (dev, addr) in [
            (5, "2001:db8::9"),
            (7, "2001:db8::5"),
            (5, "2001:db8::5"),
            (3, "2001:db8::7"),
        ] {
            h.apply(dev, &ip(addr), true);
        }
        let walk = |devices: &[u32]| {
            let mut seen = Vec::new();
            let mut after = None;
            while let Some(a) = h.next_on(after.as_ref(), devices) {
                seen.push(a);
                after = Some(a);
            }
            seen
        };
        assert_eq!(walk(&[5, 7]), vec![ip("2001:db8::5"), ip("2001:db8::9")]);
        assert_eq!(walk(&[3]), vec![ip("2001:db8::7")]);
        assert_eq!(
            h.next_on(Some(&ip("2001:db8::6")), &[5]),
            Some(ip("2001:db8::9"))
        );
        assert!(walk(&[]).is_empty());
    }

    #[test]
    fn the_table_is_bounded_and_counts_refusals() {
        let mut h = HostTable::default();
        for i in 0..MAX_HOSTS as u128 + 3 {
            h.apply(2, &Ipv6Addr::from((0x2001_0db8u128 << 96) | i), true);
        }
        assert_eq!(h.len(), MAX_HOSTS);
        assert_eq!(h.refused(), 3);
        // Room again after a removal.
        h.apply(2, &ip("2001:db8::"), false);
        assert!(h.apply(2, &ip("2001:db8::1:0:0"), true));
    }
}
