//! The daemon's view of the host's links and their IPv6 addresses, kept current from
//! rtnetlink events (`crate::state::rtnl`). Pure state, so lifecycle handling is unit-testable.

use crate::state::rtnl::{IfName, RtnlEvent};
use crate::wire::EthernetAddress;
use std::collections::BTreeMap;
use std::net::Ipv6Addr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub name: IfName,
    pub mac: Option<EthernetAddress>,
    pub up: bool,
    pub addresses: Vec<Ipv6Addr>,
}

impl Link {
    pub fn link_local(&self) -> Option<Ipv6Addr> {
        self.addresses
            .iter()
            .copied()
            .find(|a| a.segments()[0] & 0xffc0 == 0xfe80)
    }
}

#[derive(Default, Debug)]
pub struct Links {
    by_index: BTreeMap<u32, Link>,
}

impl Links {
    /// Forgets everything (before a re-dump after lost events).
    pub fn clear(&mut self) {
        self.by_index.clear();
    }

    /// Applies one event; returns true if anything an uplink depends on changed.
    pub fn apply(&mut self, ev: &RtnlEvent) -> bool {
        match ev {
            RtnlEvent::Link {
                ifindex,
                name,
                mac,
                up,
            } => {
                let mac = mac.map(EthernetAddress);
                match self.by_index.get_mut(ifindex) {
                    Some(link) => {
                        let changed = link.name != *name || link.mac != mac || link.up != *up;
                        link.name = name.clone();
                        link.mac = mac;
                        link.up = *up;
                        changed
                    }
                    None => {
                        let link = Link {
                            name: name.clone(),
                            mac,
                            up: *up,
                            addresses: Vec::new(),
                        };
                        self.by_index.insert(*ifindex, link);
                        true
                    }
                }
            }
            RtnlEvent::LinkGone { ifindex, .. } => self.by_index.remove(ifindex).is_some(),
            RtnlEvent::Address {
                ifindex,
                addr,
                added,
            } => {
                let Some(link) = self.by_index.get_mut(ifindex) else {
                    return false;
                };
                let known = link.addresses.iter().position(|a| a == addr);
                match (added, known) {
                    (true, None) => link.addresses.push(*addr),
                    (false, Some(i)) => {
                        link.addresses.swap_remove(i);
                    }
                    _ => return false,
                }
                true
            }
            RtnlEvent::Route { .. }
            | RtnlEvent::Neighbour { .. }
            | RtnlEvent::DumpDone(_)
            | RtnlEvent::Error(_) => false,
        }
    }

    /// The link currently named `name` (names move between indexes on delete/recreate).
    pub fn by_name(&self, name: &str) -> Option<(u32, &Link)> {
        self.by_index
            .iter()
            .find(|(_, l)| l.name.as_str() == name)
            .map(|(i, l)| (*i, l))
    }

    pub fn get(&self, ifindex: u32) -> Option<&Link> {
        self.by_index.get(&ifindex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(ifindex: u32, name: &str, mac: u8, up: bool) -> RtnlEvent {
        RtnlEvent::Link {
            ifindex,
            name: IfName::try_from(name).unwrap(),
            mac: Some([2, 0, 0, 0, 0, mac]),
            up,
        }
    }

    fn addr(ifindex: u32, a: &str, added: bool) -> RtnlEvent {
        RtnlEvent::Address {
            ifindex,
            addr: a.parse().unwrap(),
            added,
        }
    }

    #[test]
    fn follows_up_down_and_addresses() {
        let mut l = Links::default();
        assert!(l.apply(&link(4, "eth0", 1, false)));
        assert!(!l.by_name("eth0").unwrap().1.up);
        assert!(l.apply(&link(4, "eth0", 1, true)));
        assert!(l.apply(&addr(4, "fe80::1", true)));
        assert!(l.apply(&addr(4, "2001:db8::100", true)));
        assert!(!l.apply(&addr(4, "2001:db8::100", true)));
        let (i, e) = l.by_name("eth0").unwrap();
        assert_eq!(i, 4);
        assert_eq!(e.link_local(), Some("fe80::1".parse().unwrap()));
        assert_eq!(e.addresses.len(), 2);
        assert!(l.apply(&addr(4, "2001:db8::100", false)));
        assert_eq!(l.get(4).unwrap().addresses.len(), 1);
        // Addresses for links we never heard of are ignored, not invented.
        assert!(!l.apply(&addr(9, "2001:db8::9", true)));
    }

    #[test]
    fn delete_and_recreate_gets_new_index_and_mac() {
        let mut l = Links::default();
        l.apply(&link(4, "eth0", 1, true));
        assert!(l.apply(&RtnlEvent::LinkGone {
            ifindex: 4,
            name: IfName::try_from("eth0").unwrap()
        }));
        assert!(l.by_name("eth0").is_none());
        l.apply(&link(11, "eth0", 7, true));
        let (i, e) = l.by_name("eth0").unwrap();
        assert_eq!((i, e.mac), (11, Some(EthernetAddress([2, 0, 0, 0, 0, 7]))));
    }
}
