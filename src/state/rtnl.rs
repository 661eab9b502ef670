//! Parsing rtnetlink messages about links, IPv6 addresses, IPv6 routes of the main table
//! and IPv6 neighbours (linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h,
//! linux/neighbour.h). Pure: bytes in, events out. Netlink uses the host's byte order, so
//! native-endian reads are right here (and only here).

use crate::state::routes::{Nexthop, Route, RouteChange, RouteKind};
use ipnet::Ipv6Net;
use std::net::Ipv6Addr;

const NLMSG_HDR_LEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const NLM_F_REPLACE: u16 = 0x100;
const IFINFOMSG_LEN: usize = 16;
const RTMSG_LEN: usize = 12;
const NDMSG_LEN: usize = 12;
const RTNEXTHOP_LEN: usize = 8;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;
const RT_TABLE_MAIN: u32 = 254;
/// A cached clone (PMTU exception), not a route anybody configured.
const RTM_F_CLONED: u32 = 0x200;
const NDA_DST: u16 = 1;
const NTF_PROXY: u8 = 0x08;
/// Neighbour states in which the kernel has heard from the host (or was told it exists):
/// NUD_REACHABLE, NUD_STALE, NUD_DELAY, NUD_PROBE, NUD_PERMANENT. NUD_INCOMPLETE (being
/// resolved, maybe for an address nobody has), NUD_FAILED and NUD_NOARP do not count.
const NUD_USABLE: u16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x80;
const IFADDRMSG_LEN: usize = 8;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFA_ADDRESS: u16 = 1;
const IFF_UP: u32 = 0x1;
const AF_INET6: u8 = 10;
/// Maximum device name length including the NUL (IFNAMSIZ).
pub const IFNAMSIZ: usize = 16;

/// A device name as the kernel reports it.
pub type IfName = heapless::String<IFNAMSIZ>;

/// One thing the kernel told us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtnlEvent {
    /// A link exists (new, changed, or part of a dump).
    Link {
        ifindex: u32,
        name: IfName,
        mac: Option<[u8; 6]>,
        up: bool,
    },
    /// A link was deleted.
    LinkGone { ifindex: u32, name: IfName },
    /// An IPv6 address was added to or removed from a link.
    Address {
        ifindex: u32,
        addr: Ipv6Addr,
        added: bool,
    },
    /// A route of the main IPv6 table changed (source-specific routes, other tables and
    /// cached clones are not reported: they do not decide where inbound traffic goes).
    Route { route: Route, change: RouteChange },
    /// An IPv6 neighbour with a global address became usable (`present`) or stopped being
    /// so (deleted, failed, or back to incomplete). Proxy entries are not reported.
    Neighbour {
        ifindex: u32,
        addr: Ipv6Addr,
        present: bool,
    },
    /// The end of the dump requested with this sequence number.
    DumpDone(u32),
    /// The kernel answered a request with an error (negative errno).
    Error(i32),
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Iterates the route attributes in `b`: (type, payload). Stops at the first malformed one.
fn attributes(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = u16_at(b, 0)? as usize;
        let kind = u16_at(b, 2)? & 0x3fff; // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
        if len < 4 || len > b.len() {
            return None;
        }
        let payload = &b[4..len];
        b = b.get(align4(len)..).unwrap_or(&[]);
        Some((kind, payload))
    })
}

/// Parses every message in one received datagram, calling `sink` for each event. Messages
/// we do not care about are skipped; a malformed message ends the datagram.
pub fn parse(mut buf: &[u8], mut sink: impl FnMut(RtnlEvent)) {
    while buf.len() >= NLMSG_HDR_LEN {
        let Some(len) = u32_at(buf, 0).map(|l| l as usize) else {
            return;
        };
        if len < NLMSG_HDR_LEN || len > buf.len() {
            return;
        }
        let kind = u16_at(buf, 4).unwrap_or(0);
        let body = &buf[NLMSG_HDR_LEN..len];
        match kind {
            NLMSG_DONE => sink(RtnlEvent::DumpDone(u32_at(buf, 8).unwrap_or(0))),
            NLMSG_ERROR => {
                let errno = u32_at(body, 0).map(|e| e as i32).unwrap_or(0);
                if errno != 0 {
                    sink(RtnlEvent::Error(errno));
                }
            }
            RTM_NEWLINK | RTM_DELLINK => {
                if let Some(ev) = parse_link(body, kind == RTM_NEWLINK) {
                    sink(ev);
                }
            }
            RTM_NEWADDR | RTM_DELADDR => {
                if let Some(ev) = parse_addr(body, kind == RTM_NEWADDR) {
                    sink(ev);
                }
            }
            RTM_NEWROUTE | RTM_DELROUTE => {
                let flags = u16_at(buf, 6).unwrap_or(0);
                let change = match (kind, flags & NLM_F_REPLACE != 0) {
                    (RTM_DELROUTE, _) => RouteChange::Delete,
                    (_, true) => RouteChange::Replace,
                    (_, false) => RouteChange::Add,
                };
                if let Some(route) = parse_route(body) {
                    sink(RtnlEvent::Route { route, change });
                }
            }
            RTM_NEWNEIGH | RTM_DELNEIGH => {
                if let Some(ev) = parse_neigh(body, kind == RTM_NEWNEIGH) {
                    sink(ev);
                }
            }
            _ => {}
        }
        buf = buf.get(align4(len)..).unwrap_or(&[]);
    }
}

fn parse_link(body: &[u8], new: bool) -> Option<RtnlEvent> {
    // struct ifinfomsg { u8 family; u8 pad; u16 type; i32 index; u32 flags; u32 change; }
    let ifindex = u32_at(body, 4)?;
    let flags = u32_at(body, 8)?;
    let mut name = IfName::new();
    let mut mac = None;
    for (kind, payload) in attributes(body.get(IFINFOMSG_LEN..)?) {
        match kind {
            IFLA_IFNAME => {
                let raw = payload.split(|&c| c == 0).next().unwrap_or(&[]);
                let s = std::str::from_utf8(raw).ok()?;
                name = IfName::try_from(s).ok()?;
            }
            IFLA_ADDRESS if payload.len() == 6 => mac = Some(payload.try_into().ok()?),
            _ => {}
        }
    }
    if name.is_empty() {
        return None;
    }
    Some(if new {
        RtnlEvent::Link {
            ifindex,
            name,
            mac,
            up: flags & IFF_UP != 0,
        }
    } else {
        RtnlEvent::LinkGone { ifindex, name }
    })
}

fn parse_addr(body: &[u8], added: bool) -> Option<RtnlEvent> {
    // struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; }
    if *body.first()? != AF_INET6 {
        return None;
    }
    let ifindex = u32_at(body, 4)?;
    let addr = attributes(body.get(IFADDRMSG_LEN..)?)
        .find(|(kind, p)| *kind == IFA_ADDRESS && p.len() == 16)
        .map(|(_, p)| Ipv6Addr::from(<[u8; 16]>::try_from(p).unwrap_or([0; 16])))?;
    Some(RtnlEvent::Address {
        ifindex,
        addr,
        added,
    })
}

fn ipv6_at(p: &[u8]) -> Option<Ipv6Addr> {
    Some(Ipv6Addr::from(<[u8; 16]>::try_from(p).ok()?))
}

fn parse_route(body: &[u8]) -> Option<Route> {
    // struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type;
    //                u32 flags; }
    if *body.first()? != AF_INET6 || body.len() < RTMSG_LEN {
        return None;
    }
    let (dst_len, src_len) = (body[1], body[2]);
    // A source-specific route (OpenWrt's "default from PREFIX") applies only to traffic
    // from that prefix; inbound traffic from anywhere never uses it.
    if src_len != 0 || u32_at(body, 8)? & RTM_F_CLONED != 0 {
        return None;
    }
    let mut table = u32::from(body[4]);
    let mut dst = Ipv6Addr::UNSPECIFIED;
    let mut metric = 0;
    let mut route = Route {
        dst: Ipv6Net::default(),
        metric: 0,
        kind: RouteKind::from_rtm_type(body[7]),
        nexthops: heapless::Vec::new(),
        truncated: false,
    };
    let (mut oif, mut gateway) = (None, None);
    for (kind, p) in attributes(&body[RTMSG_LEN..]) {
        match kind {
            RTA_DST => dst = ipv6_at(p)?,
            RTA_OIF => oif = Some(u32_at(p, 0)?),
            RTA_GATEWAY => gateway = Some(ipv6_at(p)?),
            RTA_PRIORITY => metric = u32_at(p, 0)?,
            RTA_TABLE => table = u32_at(p, 0)?,
            RTA_MULTIPATH => {
                // struct rtnexthop { u16 len; u8 flags; u8 hops; i32 ifindex; } + attrs
                let mut rest = p;
                while rest.len() >= RTNEXTHOP_LEN {
                    let len = usize::from(u16_at(rest, 0)?);
                    if len < RTNEXTHOP_LEN || len > rest.len() {
                        break;
                    }
                    let gateway = attributes(&rest[RTNEXTHOP_LEN..len])
                        .find(|(kind, _)| *kind == RTA_GATEWAY)
                        .and_then(|(_, p)| ipv6_at(p));
                    route.add_nexthop(Nexthop {
                        oif: u32_at(rest, 4)?,
                        gateway,
                    });
                    rest = rest.get(align4(len)..).unwrap_or(&[]);
                }
            }
            _ => {}
        }
    }
    if let Some(oif) = oif {
        route.add_nexthop(Nexthop { oif, gateway });
    }
    if table != RT_TABLE_MAIN {
        return None;
    }
    route.dst = Ipv6Net::new(dst, dst_len).ok()?.trunc();
    route.metric = metric;
    Some(route)
}

fn parse_neigh(body: &[u8], new: bool) -> Option<RtnlEvent> {
    // struct ndmsg { u8 family; u8 pad1; u16 pad2; i32 ifindex; u16 state; u8 flags;
    //                u8 type; }
    if *body.first()? != AF_INET6 || body.len() < NDMSG_LEN {
        return None;
    }
    let ifindex = u32_at(body, 4)?;
    let state = u16_at(body, 8)?;
    if body[10] & NTF_PROXY != 0 {
        return None;
    }
    let addr = attributes(&body[NDMSG_LEN..])
        .find(|(kind, p)| *kind == NDA_DST && p.len() == 16)
        .and_then(|(_, p)| ipv6_at(p))?;
    // Link-local and multicast entries are never targets on the uplink: not worth a slot.
    if addr.is_multicast() || addr.is_unspecified() || addr.segments()[0] & 0xffc0 == 0xfe80 {
        return None;
    }
    Some(RtnlEvent::Neighbour {
        ifindex,
        addr,
        present: new && state & NUD_USABLE != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nlmsg(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(body);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    fn rta(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
        a.extend_from_slice(&kind.to_ne_bytes());
        a.extend_from_slice(payload);
        while a.len() % 4 != 0 {
            a.push(0);
        }
        a
    }

    fn link_body(ifindex: u32, flags: u32, name: &str, mac: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 4];
        b.extend_from_slice(&ifindex.to_ne_bytes());
        b.extend_from_slice(&flags.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend(rta(IFLA_IFNAME, format!("{name}\0").as_bytes()));
        b.extend(rta(IFLA_ADDRESS, mac));
        b
    }

    fn collect(buf: &[u8]) -> Vec<RtnlEvent> {
        let mut v = Vec::new();
        parse(buf, |e| v.push(e));
        v
    }

    #[test]
    fn link_new_and_gone() {
        let mac = [2, 0, 0, 0, 0, 9];
        let mut buf = nlmsg(RTM_NEWLINK, &link_body(7, IFF_UP | 0x40, "eth0", &mac));
        buf.extend(nlmsg(RTM_DELLINK, &link_body(7, 0, "eth0", &mac)));
        let mut done = nlmsg(NLMSG_DONE, &[0, 0, 0, 0]);
        done[8..12].copy_from_slice(&42u32.to_ne_bytes());
        buf.extend(done);
        let ev = collect(&buf);
        assert_eq!(
            ev[0],
            RtnlEvent::Link {
                ifindex: 7,
                name: IfName::try_from("eth0").unwrap(),
                mac: Some(mac),
                up: true
            }
        );
        assert_eq!(
            ev[1],
            RtnlEvent::LinkGone {
                ifindex: 7,
                name: IfName::try_from("eth0").unwrap()
            }
        );
        assert_eq!(ev[2], RtnlEvent::DumpDone(42));
    }

    #[test]
    fn link_down_has_up_false_and_no_mac_for_non_ethernet() {
        let body = link_body(3, 0, "ppp0", &[]);
        let ev = collect(&nlmsg(RTM_NEWLINK, &body));
        assert!(matches!(
            ev[0],
            RtnlEvent::Link {
                up: false,
                mac: None,
                ..
            }
        ));
    }

    #[test]
    fn ipv6_address_added_and_removed_ipv4_ignored() {
        let addr: Ipv6Addr = "2001:db8::100".parse().unwrap();
        let mut body = vec![AF_INET6, 64, 0, 0];
        body.extend_from_slice(&5u32.to_ne_bytes());
        body.extend(rta(IFA_ADDRESS, &addr.octets()));
        let mut v4 = vec![2u8, 24, 0, 0];
        v4.extend_from_slice(&5u32.to_ne_bytes());
        v4.extend(rta(IFA_ADDRESS, &[192, 0, 2, 1]));
        let mut buf = nlmsg(RTM_NEWADDR, &body);
        buf.extend(nlmsg(RTM_NEWADDR, &v4));
        buf.extend(nlmsg(RTM_DELADDR, &body));
        assert_eq!(
            collect(&buf),
            vec![
                RtnlEvent::Address {
                    ifindex: 5,
                    addr,
                    added: true
                },
                RtnlEvent::Address {
                    ifindex: 5,
                    addr,
                    added: false
                },
            ]
        );
    }

    #[test]
    fn error_message_reports_errno() {
        let mut body = (-105i32).to_ne_bytes().to_vec();
        body.extend_from_slice(&[0u8; 16]);
        assert_eq!(
            collect(&nlmsg(NLMSG_ERROR, &body)),
            vec![RtnlEvent::Error(-105)]
        );
    }

    fn route_body(dst: &str, len: u8, table: u8, rtm_type: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut b = vec![AF_INET6, len, 0, 0, table, 3, 0, rtm_type, 0, 0, 0, 0];
        b.extend(rta(RTA_DST, &dst.parse::<Ipv6Addr>().unwrap().octets()));
        for a in attrs {
            b.extend(a);
        }
        b
    }

    fn nexthop(ifindex: u32, gateway: Option<&str>) -> Vec<u8> {
        let attrs = gateway.map_or(Vec::new(), |g| {
            rta(RTA_GATEWAY, &g.parse::<Ipv6Addr>().unwrap().octets())
        });
        let mut n = ((8 + attrs.len()) as u16).to_ne_bytes().to_vec();
        n.extend_from_slice(&[0, 0]);
        n.extend_from_slice(&ifindex.to_ne_bytes());
        n.extend(attrs);
        n
    }

    fn route_of(ev: &RtnlEvent) -> (&Route, RouteChange) {
        match ev {
            RtnlEvent::Route { route, change } => (route, *change),
            other => panic!("not a route: {other:?}"),
        }
    }

    #[test]
    fn main_table_routes_with_device_metric_and_multipath() {
        let oif = rta(RTA_OIF, &7u32.to_ne_bytes());
        let metric = rta(RTA_PRIORITY, &1024u32.to_ne_bytes());
        let mut buf = nlmsg(
            RTM_NEWROUTE,
            &route_body("2001:db8:1::", 64, 254, 1, &[oif.clone(), metric]),
        );
        let multipath: Vec<u8> = [nexthop(3, Some("fe80::3")), nexthop(4, None)].concat();
        buf.extend(nlmsg(
            RTM_NEWROUTE,
            &route_body(
                "2001:db8:2::",
                56,
                254,
                1,
                &[rta(RTA_MULTIPATH, &multipath)],
            ),
        ));
        buf.extend(nlmsg(
            RTM_DELROUTE,
            &route_body(
                "2001:db8:3::",
                48,
                254,
                7,
                &[rta(RTA_OIF, &1u32.to_ne_bytes())],
            ),
        ));
        let ev = collect(&buf);
        assert_eq!(ev.len(), 3);
        let (r, c) = route_of(&ev[0]);
        assert_eq!(
            (
                r.dst.to_string(),
                r.metric,
                r.kind,
                r.oifs().collect::<Vec<_>>(),
                c
            ),
            (
                "2001:db8:1::/64".into(),
                1024,
                RouteKind::Unicast,
                vec![7],
                RouteChange::Add
            )
        );
        let (r, _) = route_of(&ev[1]);
        assert_eq!(
            r.nexthops.as_slice(),
            &[
                Nexthop {
                    oif: 3,
                    gateway: Some("fe80::3".parse().unwrap())
                },
                Nexthop::dev(4)
            ]
        );
        let (r, c) = route_of(&ev[2]);
        assert_eq!((r.kind, c), (RouteKind::Unreachable, RouteChange::Delete));
    }

    #[test]
    fn replace_flag_other_tables_source_specific_and_clones() {
        let oif = rta(RTA_OIF, &7u32.to_ne_bytes());
        let mut replace = nlmsg(
            RTM_NEWROUTE,
            &route_body("::", 0, 254, 1, std::slice::from_ref(&oif)),
        );
        replace[6..8].copy_from_slice(&NLM_F_REPLACE.to_ne_bytes());
        assert_eq!(route_of(&collect(&replace)[0]).1, RouteChange::Replace);
        // Table 255 (local), or table 100 given in RTA_TABLE: not the main table.
        assert!(collect(&nlmsg(
            RTM_NEWROUTE,
            &route_body("::", 0, 255, 1, std::slice::from_ref(&oif))
        ))
        .is_empty());
        let other = rta(RTA_TABLE, &100u32.to_ne_bytes());
        assert!(collect(&nlmsg(RTM_NEWROUTE, &route_body("::", 0, 254, 1, &[other]))).is_empty());
        let mut from = route_body("::", 0, 254, 1, std::slice::from_ref(&oif));
        from[2] = 56;
        assert!(collect(&nlmsg(RTM_NEWROUTE, &from)).is_empty());
        let mut cloned = route_body("2001:db8::5", 128, 254, 1, &[oif]);
        cloned[8..12].copy_from_slice(&RTM_F_CLONED.to_ne_bytes());
        assert!(collect(&nlmsg(RTM_NEWROUTE, &cloned)).is_empty());
    }

    fn neigh_body(ifindex: u32, state: u16, flags: u8, addr: &str) -> Vec<u8> {
        let mut b = vec![AF_INET6, 0, 0, 0];
        b.extend_from_slice(&ifindex.to_ne_bytes());
        b.extend_from_slice(&state.to_ne_bytes());
        b.extend_from_slice(&[flags, 1]);
        b.extend(rta(NDA_DST, &addr.parse::<Ipv6Addr>().unwrap().octets()));
        b
    }

    #[test]
    fn neighbours_count_only_in_usable_states() {
        let present = |kind, state, flags, addr| {
            collect(&nlmsg(kind, &neigh_body(9, state, flags, addr)))
                .first()
                .map(|e| match e {
                    RtnlEvent::Neighbour {
                        present,
                        ifindex: 9,
                        ..
                    } => *present,
                    other => panic!("{other:?}"),
                })
        };
        for state in [0x02, 0x04, 0x08, 0x10, 0x80] {
            assert_eq!(
                present(RTM_NEWNEIGH, state, 0, "2001:db8::5"),
                Some(true),
                "{state:#x}"
            );
        }
        for state in [0x01, 0x20, 0x40, 0x00] {
            assert_eq!(
                present(RTM_NEWNEIGH, state, 0, "2001:db8::5"),
                Some(false),
                "{state:#x}"
            );
        }
        assert_eq!(present(RTM_DELNEIGH, 0x02, 0, "2001:db8::5"), Some(false));
        assert_eq!(present(RTM_NEWNEIGH, 0x02, NTF_PROXY, "2001:db8::5"), None);
        assert_eq!(present(RTM_NEWNEIGH, 0x02, 0, "fe80::5"), None);
    }

    #[test]
    fn malformed_input_never_panics() {
        let oif = rta(RTA_OIF, &7u32.to_ne_bytes());
        let multipath = rta(
            RTA_MULTIPATH,
            &[nexthop(3, Some("fe80::3")), nexthop(4, None)].concat(),
        );
        let route = nlmsg(
            RTM_NEWROUTE,
            &route_body("2001:db8::", 64, 254, 1, &[oif, multipath]),
        );
        let neigh = nlmsg(RTM_NEWNEIGH, &neigh_body(9, 2, 0, "2001:db8::5"));
        for good in [route, neigh] {
            for cut in 0..good.len() {
                collect(&good[..cut]);
                let mut bad = good.clone();
                bad[cut] ^= 0xff;
                collect(&bad);
            }
        }
    }

    #[test]
    fn malformed_link_input_never_panics() {
        let mac = [2, 0, 0, 0, 0, 9];
        let good = nlmsg(RTM_NEWLINK, &link_body(7, 1, "eth0", &mac));
        for cut in 0..good.len() {
            collect(&good[..cut]);
            let mut bad = good.clone();
            bad[cut] ^= 0xff;
            collect(&bad);
        }
    }
}
