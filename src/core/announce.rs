//! Announcing a host that appeared behind a downstream device, so the upstream router can
//! reach it at once instead of after its first resolution: an unsolicited NA for it to all
//! nodes (RFC 4861 section 7.2.6), and, because a router with no entry for the address
//! ignores an unsolicited NA (section 7.2.5), an NS from the host's address to the default
//! router with our link-layer address, which makes the router create the entry (section
//! 7.2.3). Pure: frames and a budget; the daemon decides when and sends.

use crate::config::{RateLimit, UplinkConfig};
use crate::core::ratelimit::TokenBucket;
use crate::core::responder::na_source;
use crate::wire::{
    solicited_node, EthernetAddress, Headers, NaFlags, NaFrame, NaRepr, NsFrame, NsRepr,
};
use std::net::Ipv6Addr;

/// Announcements per second per uplink, burst the same: a bridge full of containers
/// starting at once is announced over a few seconds instead of in one flood.
pub const ANNOUNCE_RATE: u32 = 100;

const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The unsolicited NA for `host` from an uplink with `mac` and `link_local`: to all nodes,
/// Solicited clear, Override clear (we proxy; the host's own answer must win, RFC 4861
/// section 7.2.8), Router as configured.
pub fn unsolicited_na(
    cfg: &UplinkConfig,
    mac: EthernetAddress,
    link_local: Option<Ipv6Addr>,
    host: Ipv6Addr,
) -> NaFrame {
    NaFrame {
        headers: Headers {
            eth_src: mac,
            eth_dst: EthernetAddress::from_ipv6_multicast(&ALL_NODES),
            // As for an answer to a global solicitor: the target itself under `target` and
            // `auto`, the link-local address under `link-local`.
            ip_src: na_source(cfg.source, host, &host, link_local),
            ip_dst: ALL_NODES,
            hop_limit: 255,
        },
        body: NaRepr {
            flags: NaFlags::empty().with(NaFlags::ROUTER, cfg.router),
            target: host,
            target_lladdr: Some(mac),
        },
    }
}

/// The NS from `host` (with our `mac` as its link-layer address) for `router`, to the
/// router's solicited-node group.
pub fn router_ns(mac: EthernetAddress, host: Ipv6Addr, router: Ipv6Addr) -> NsFrame {
    let group = solicited_node(&router);
    NsFrame {
        headers: Headers {
            eth_src: mac,
            eth_dst: EthernetAddress::from_ipv6_multicast(&group),
            ip_src: host,
            ip_dst: group,
            hop_limit: 255,
        },
        body: NsRepr {
            target: router,
            source_lladdr: Some(mac),
        },
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnnounceCounters {
    /// Hosts announced.
    pub sent: u64,
    /// Hosts not announced: over the rate.
    pub refused: u64,
}

/// One uplink's announcement budget and counters.
pub struct Announcer {
    budget: TokenBucket,
    counters: AnnounceCounters,
}

impl Announcer {
    pub fn new(now_ns: u64) -> Announcer {
        Announcer {
            budget: TokenBucket::new(
                RateLimit {
                    rate: ANNOUNCE_RATE,
                    burst: ANNOUNCE_RATE,
                },
                now_ns,
            ),
            counters: AnnounceCounters::default(),
        }
    }

    pub fn counters(&self) -> &AnnounceCounters {
        &self.counters
    }

    /// Whether a host may be announced now; counts the outcome.
    pub fn take(&mut self, now_ns: u64) -> bool {
        let ok = self.budget.take(now_ns);
        match ok {
            true => self.counters.sent += 1,
            false => self.counters.refused += 1,
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourcePolicy;
    use crate::wire::{emit_na, emit_ns, parse_na, parse_ns, NA_FRAME_LEN, NS_FRAME_LEN_MAX};

    const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 1, 0]);

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn cfg() -> UplinkConfig {
        UplinkConfig {
            downstreams: vec!["docker0".into()],
            announce: true,
            override_flag: true,
            rate_limit: RateLimit { rate: 0, burst: 0 },
            source_rate_limit: RateLimit { rate: 0, burst: 0 },
            ..UplinkConfig::new("wan", "eth0")
        }
    }

    #[test]
    fn the_na_goes_to_all_nodes_unsolicited_without_override() {
        let host = ip("2001:db8::5");
        let na = unsolicited_na(&cfg(), MAC, Some(ip("fe80::100")), host);
        let mut buf = [0u8; NA_FRAME_LEN];
        let n = emit_na(&na, &mut buf).unwrap();
        let back = parse_na(&buf[..n]).expect("a valid NA (RFC 4861 section 7.1.2)");
        assert_eq!(back, na);
        assert_eq!((na.headers.ip_src, na.headers.ip_dst), (host, ALL_NODES));
        assert_eq!(
            na.headers.eth_dst,
            EthernetAddress([0x33, 0x33, 0, 0, 0, 1])
        );
        assert_eq!(na.body.flags, NaFlags::ROUTER, "S and O clear");
        let mut ll = cfg();
        ll.source = SourcePolicy::LinkLocal;
        let na = unsolicited_na(&ll, MAC, Some(ip("fe80::100")), host);
        assert_eq!(na.headers.ip_src, ip("fe80::100"));
    }

    #[test]
    fn the_ns_is_from_the_host_to_the_routers_group_with_our_address() {
        let ns = router_ns(MAC, ip("2001:db8::5"), ip("fe80::1"));
        let mut buf = [0u8; NS_FRAME_LEN_MAX];
        let n = emit_ns(&ns, &mut buf).unwrap();
        assert_eq!(parse_ns(&buf[..n]), Ok(ns));
        assert_eq!(ns.headers.ip_dst, ip("ff02::1:ff00:1"));
        assert_eq!(
            ns.headers.eth_dst,
            EthernetAddress([0x33, 0x33, 0xff, 0, 0, 1])
        );
        assert_eq!(ns.body.source_lladdr, Some(MAC));
    }

    #[test]
    fn announcements_are_rate_limited_and_counted() {
        let mut a = Announcer::new(0);
        let sent = (0..ANNOUNCE_RATE + 5).filter(|_| a.take(0)).count();
        assert_eq!(sent, ANNOUNCE_RATE as usize);
        assert_eq!(
            *a.counters(),
            AnnounceCounters {
                sent: ANNOUNCE_RATE as u64,
                refused: 5
            }
        );
        assert!(a.take(1_000_000_000));
    }
}
