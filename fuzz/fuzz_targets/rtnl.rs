//! `rtnl::parse` on an arbitrary netlink datagram, its events applied to `links::Links`,
//! `routes::RouteTable` and `hosts::HostTable`.
//! Invariants: at most one event per 16-byte message header; link names are non-empty;
//! after each event `Links` holds what it says (a link by its index and name, an address
//! present after an add on a known link and absent after a removal, a deleted link gone);
//! the lookup of an added route's network address finds it, a lower metric for the same
//! prefix, or a more specific route; a neighbour is known on its device exactly when it is present.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::state::hosts::HostTable;
use ndpresponder::state::links::Links;
use ndpresponder::state::routes::{RouteChange, RouteTable};
use ndpresponder::state::rtnl::{self, RtnlEvent};

/// `sizeof(struct nlmsghdr)`.
const NLMSG_HDR_LEN: usize = 16;

fuzz_target!(|datagram: &[u8]| {
    let mut events = Vec::new();
    rtnl::parse(datagram, |ev| events.push(ev));
    assert!(events.len() <= datagram.len() / NLMSG_HDR_LEN);
    let mut links = Links::default();
    let mut routes = RouteTable::default();
    let mut hosts = HostTable::default();
    for ev in &events {
        let known_before = match ev {
            RtnlEvent::Address { ifindex, .. } => links.get(*ifindex).is_some(),
            _ => false,
        };
        links.apply(ev);
        match ev {
            RtnlEvent::Link {
                ifindex,
                name,
                mac,
                up,
            } => {
                assert!(!name.is_empty());
                let link = links.get(*ifindex).expect("a new link is kept");
                assert_eq!(&link.name, name);
                assert_eq!(link.mac.map(|m| m.0), *mac);
                assert_eq!(link.up, *up);
                assert!(links.by_name(name).is_some());
            }
            RtnlEvent::LinkGone { ifindex, name } => {
                assert!(!name.is_empty());
                assert!(links.get(*ifindex).is_none());
            }
            RtnlEvent::Address {
                ifindex,
                addr,
                added,
            } => match links.get(*ifindex) {
                Some(link) => {
                    assert!(known_before);
                    assert_eq!(link.addresses.contains(addr), *added);
                }
                None => assert!(!known_before),
            },
            RtnlEvent::Route { route, change } => {
                routes.apply(route, *change);
                let found = routes.lookup(&route.dst.network());
                if *change != RouteChange::Delete {
                    // Its own network address matches it, or a more specific route.
                    let found = found.expect("an added route is found");
                    assert!(found.dst.prefix_len() >= route.dst.prefix_len());
                    if found.dst == route.dst {
                        assert!(found.metric <= route.metric);
                    }
                }
            }
            RtnlEvent::Neighbour {
                ifindex,
                addr,
                present,
            } => {
                hosts.apply(*ifindex, addr, *present);
                assert_eq!(hosts.known_on(addr, &[*ifindex]), *present);
            }
            RtnlEvent::Error(errno) => assert_ne!(*errno, 0),
            RtnlEvent::DumpDone(_) => {}
        }
    }
});
