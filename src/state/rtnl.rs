//! Parsing rtnetlink messages about links and IPv6 addresses (linux/rtnetlink.h,
//! linux/if_link.h, linux/if_addr.h). Pure: bytes in, events out. Netlink uses the host's
//! byte order, so native-endian reads are right here (and only here).

use std::net::Ipv6Addr;

const NLMSG_HDR_LEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const IFINFOMSG_LEN: usize = 16;
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
    /// The end of a dump.
    DumpDone,
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
            NLMSG_DONE => sink(RtnlEvent::DumpDone),
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
        buf.extend(nlmsg(NLMSG_DONE, &[0, 0, 0, 0]));
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
        assert_eq!(ev[2], RtnlEvent::DumpDone);
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

    #[test]
    fn malformed_input_never_panics() {
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
