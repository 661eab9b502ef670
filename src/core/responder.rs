//! The sans-I/O core: one uplink's configuration, the facts about its interface and a
//! received frame in; an NA to send or a counted drop reason out. No syscalls, no clock, no
//! allocation: the daemon supplies the time and does the I/O.

use crate::config::{SourcePolicy, UplinkConfig};
use crate::core::follow::{self, FollowView, Lookup, Range};
use crate::core::ratelimit::{SourceLimiter, TokenBucket};
pub use crate::reasons::DropReason;
use crate::wire::{self, EthernetAddress, Headers, NaFlags, NaFrame, NaRepr, NsFrame};
use ipnet::Ipv6Net;
use std::net::Ipv6Addr;

/// Per-uplink counters, 64-bit so they never wrap in a router's lifetime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Every NS seen, valid or not.
    pub ns_received: u64,
    /// NAs handed to the kernel successfully.
    pub na_sent: u64,
    /// NAs the kernel refused to send (link went down between receive and send, ...).
    pub send_errors: u64,
    pub drops: [u64; DropReason::COUNT],
}

impl Counters {
    pub fn drop_count(&self, reason: DropReason) -> u64 {
        self.drops[reason.index()]
    }
}

/// What the core needs to know about the interface, supplied by the daemon from rtnetlink.
#[derive(Clone, Copy, Debug)]
pub struct InterfaceFacts<'a> {
    pub mac: EthernetAddress,
    /// The interface's link-local address, for the `link-local` and `auto` source policies.
    pub link_local: Option<Ipv6Addr>,
    /// Every IPv6 address assigned to the interface.
    pub addresses: &'a [Ipv6Addr],
    /// Routes and neighbours, when the uplink has downstream devices.
    pub follow: Option<FollowView<'a>>,
}

/// Why a target is (not) answered by the prefixes, independent of any packet: used for
/// decisions and for the ubus `explain` method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Inside this prefix (a `Static` or `Netifd` range).
    Covered(Range),
    /// Inside the prefix `range` but also inside this exclude.
    Excluded {
        range: Range,
        exclude: Ipv6Net,
    },
    OutOfRange,
}

/// Which prefix covers `target`: a configured one or one of the netifd interfaces'. The
/// most specific prefix wins, so a report names the rule a user would expect; between
/// equal ones the configured prefix, which the user chose.
pub fn coverage(cfg: &UplinkConfig, target: &Ipv6Addr) -> Coverage {
    let configured = cfg.prefixes.iter().map(|p| Range::Static(*p));
    let from_netifd = cfg.netifd.prefixes.iter().map(|p| Range::Netifd(*p));
    let mut best: Option<Range> = None;
    for range in configured.chain(from_netifd) {
        let net = range.net();
        if net.contains(target) && best.is_none_or(|b| net.prefix_len() > b.net().prefix_len()) {
            best = Some(range);
        }
    }
    let Some(range) = best else {
        return Coverage::OutOfRange;
    };
    match cfg.excludes.iter().find(|x| x.contains(target)) {
        Some(exclude) => Coverage::Excluded {
            range,
            exclude: *exclude,
        },
        None => Coverage::Covered(range),
    }
}

/// What one uplink's rules say about a target, whatever the packet: the rule lookup that
/// the packet path ([`decide`]) and the ubus `explain` method share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleLookup {
    /// The range the target is in (static or routed) and whether its hosts policy lets it
    /// through, or why there is none.
    pub found: Lookup,
    /// The target is assigned to the host on the uplink's device.
    pub own_address: bool,
}

impl RuleLookup {
    /// The range that answers, or why none does. The host's own address comes first: the
    /// kernel answers for it, and two answers would race.
    pub fn answer(&self) -> Result<Range, DropReason> {
        if self.own_address {
            return Err(DropReason::OwnAddress);
        }
        match self.found {
            Lookup::Answer { range, .. } => Ok(range),
            Lookup::OutOfRange => Err(DropReason::OutOfRange),
            Lookup::Excluded { .. } => Err(DropReason::Excluded),
            Lookup::NotDownstream { .. } => Err(DropReason::NotDownstream),
            Lookup::UnknownHost { .. } => Err(DropReason::UnknownHost),
        }
    }
}

/// Looks `target` up in `cfg` for an interface that has `addresses`, with the routes and
/// neighbours of `follow` when the uplink has downstream devices.
pub fn lookup(
    cfg: &UplinkConfig,
    addresses: &[Ipv6Addr],
    follow: Option<&FollowView<'_>>,
    target: &Ipv6Addr,
) -> RuleLookup {
    RuleLookup {
        found: follow::lookup(cfg, follow, target),
        own_address: addresses.contains(target),
    }
}

fn is_link_local(addr: &Ipv6Addr) -> bool {
    addr.segments()[0] & 0xffc0 == 0xfe80
}

/// The IPv6 source of our NA for an NS from `ns_source` about `target`.
pub fn na_source(
    policy: SourcePolicy,
    target: Ipv6Addr,
    ns_source: &Ipv6Addr,
    link_local: Option<Ipv6Addr>,
) -> Ipv6Addr {
    let use_link_local = match policy {
        SourcePolicy::Target => false,
        SourcePolicy::LinkLocal => true,
        SourcePolicy::Auto => is_link_local(ns_source),
    };
    match (use_link_local, link_local) {
        (true, Some(ll)) => ll,
        // Without a link-local address (it may still be tentative) the target is the only
        // address we can stand behind.
        _ => target,
    }
}

/// The policy decision for a valid NS, without rate limits.
pub fn decide(
    cfg: &UplinkConfig,
    facts: &InterfaceFacts<'_>,
    ns: &NsFrame,
) -> Result<NaFrame, DropReason> {
    let (received, target) = (&ns.headers, ns.body.target);
    if received.eth_src == facts.mac {
        return Err(DropReason::OwnMac);
    }
    if received.ip_src.is_multicast() {
        return Err(DropReason::MulticastSource);
    }
    lookup(cfg, facts.addresses, facts.follow.as_ref(), &target).answer()?;
    let dad = received.ip_src.is_unspecified();
    // RFC 4861 section 7.2.4: a DAD probe (source ::) is answered to all-nodes with S clear;
    // everything else is answered to the solicitation's source with S set.
    let (ip_dst, eth_dst) = if dad {
        let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        (all_nodes, EthernetAddress::from_ipv6_multicast(&all_nodes))
    } else {
        (received.ip_src, received.eth_src)
    };
    let flags = NaFlags::empty()
        .with(NaFlags::ROUTER, cfg.router)
        .with(NaFlags::SOLICITED, !dad)
        .with(NaFlags::OVERRIDE, cfg.override_flag);
    Ok(NaFrame {
        headers: Headers {
            eth_src: facts.mac,
            eth_dst,
            ip_src: na_source(cfg.source, target, &received.ip_src, facts.link_local),
            ip_dst,
            // RFC 4861 section 7.1.2: receivers drop NAs with any other hop limit.
            hop_limit: 255,
        },
        body: NaRepr {
            flags,
            target,
            target_lladdr: Some(facts.mac),
        },
    })
}

/// The outcome of one received frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send this NA (then report the result with `sent` or `send_failed`).
    Answer(NaFrame),
    /// A counted NS that gets no answer; the parsed NS when it was valid, for the -v log.
    Drop(DropReason, Option<NsFrame>),
    /// Not an NS at all (the filter lets extension-header frames through): not counted.
    Ignore,
}

/// One uplink's decision state: its rules, answer budget and counters.
pub struct Responder {
    cfg: UplinkConfig,
    uplink_budget: TokenBucket,
    source_budget: SourceLimiter,
    counters: Counters,
}

impl Responder {
    pub fn new(cfg: UplinkConfig, now_ns: u64) -> Responder {
        Responder {
            uplink_budget: TokenBucket::new(cfg.rate_limit, now_ns),
            source_budget: SourceLimiter::new(cfg.source_rate_limit),
            cfg,
            counters: Counters::default(),
        }
    }

    pub fn config(&self) -> &UplinkConfig {
        &self.cfg
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Takes new rules and keeps the counters (a reload must not reset what status shows).
    pub fn reconfigure(&mut self, cfg: UplinkConfig, now_ns: u64) {
        if cfg.rate_limit != self.cfg.rate_limit {
            self.uplink_budget = TokenBucket::new(cfg.rate_limit, now_ns);
        }
        if cfg.source_rate_limit != self.cfg.source_rate_limit {
            self.source_budget = SourceLimiter::new(cfg.source_rate_limit);
        }
        self.cfg = cfg;
    }

    /// Decides on one received Ethernet frame.
    pub fn handle(&mut self, frame: &[u8], facts: &InterfaceFacts<'_>, now_ns: u64) -> Verdict {
        let ns = match wire::parse_ns(frame) {
            Ok(ns) => ns,
            Err(e) => {
                let Some(reason) = e.counted() else {
                    return Verdict::Ignore;
                };
                self.counters.ns_received += 1;
                // A looped-back frame of our own is counted as such even when malformed.
                let reason = match wire::ethernet::source_addr(frame) {
                    Some(src) if src == facts.mac => DropReason::OwnMac,
                    _ => reason,
                };
                return self.dropped(reason, None);
            }
        };
        self.counters.ns_received += 1;
        match self.judge(&ns, facts, now_ns) {
            Ok(na) => Verdict::Answer(na),
            Err(reason) => self.dropped(reason, Some(ns)),
        }
    }

    /// Decides again on an NS received earlier and counted then as `unknown_host` (one
    /// that waited for a probe), under the same budgets; a drop now is not counted twice.
    pub fn answer_pending(
        &mut self,
        ns: &NsFrame,
        facts: &InterfaceFacts<'_>,
        now_ns: u64,
    ) -> Verdict {
        match self.judge(ns, facts, now_ns) {
            Ok(na) => Verdict::Answer(na),
            Err(reason) => Verdict::Drop(reason, Some(*ns)),
        }
    }

    fn judge(
        &mut self,
        ns: &NsFrame,
        facts: &InterfaceFacts<'_>,
        now_ns: u64,
    ) -> Result<NaFrame, DropReason> {
        let na = decide(&self.cfg, facts, ns)?;
        // Budget is spent only on answers. The source bucket is asked first, so a source over
        // its own share does not also drain the uplink's budget.
        if !self.source_budget.take(&ns.headers.ip_src, now_ns) {
            return Err(DropReason::SourceRateLimit);
        }
        if !self.uplink_budget.take(now_ns) {
            return Err(DropReason::RateLimit);
        }
        Ok(na)
    }

    fn dropped(&mut self, reason: DropReason, ns: Option<NsFrame>) -> Verdict {
        self.counters.drops[reason.index()] += 1;
        Verdict::Drop(reason, ns)
    }

    /// A frame too large for the receive buffer: it cannot be validated, so it is counted
    /// as a truncated NS.
    pub fn count_oversized(&mut self) {
        self.counters.ns_received += 1;
        self.counters.drops[DropReason::Truncated.index()] += 1;
    }

    /// The daemon reports how many NAs the kernel took, and how many it refused.
    pub fn sent(&mut self, n: u64) {
        self.counters.na_sent += n;
    }

    pub fn send_failed(&mut self, n: u64) {
        self.counters.send_errors += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RateLimit;
    use crate::wire::{emit_ns, solicited_node, NsRepr, NS_FRAME_LEN_MAX};

    const OUR_MAC: EthernetAddress = EthernetAddress([0x02, 0x00, 0x00, 0x00, 0x01, 0x00]);
    const ROUTER_MAC: EthernetAddress = EthernetAddress([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
    const SEC: u64 = 1_000_000_000;

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn uplink() -> UplinkConfig {
        UplinkConfig {
            prefixes: vec!["2001:db8:1:2::1:0/112".parse().unwrap()],
            excludes: vec!["2001:db8:1:2::1:ff/128".parse().unwrap()],
            rate_limit: RateLimit { rate: 0, burst: 0 },
            source_rate_limit: RateLimit { rate: 0, burst: 0 },
            ..UplinkConfig::new("wan", "eth0")
        }
    }

    const HOST_ADDRS: [Ipv6Addr; 2] = [
        Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 0x100),
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100),
    ];

    fn facts() -> InterfaceFacts<'static> {
        InterfaceFacts {
            mac: OUR_MAC,
            link_local: Some(HOST_ADDRS[1]),
            addresses: &HOST_ADDRS,
            follow: None,
        }
    }

    /// A multicast NS from the router's link-local address for `target`.
    fn ns(target: &str) -> NsFrame {
        let target = ip(target);
        let dst = solicited_node(&target);
        NsFrame {
            headers: Headers {
                eth_src: ROUTER_MAC,
                eth_dst: EthernetAddress::from_ipv6_multicast(&dst),
                ip_src: ip("fe80::1"),
                ip_dst: dst,
                hop_limit: 255,
            },
            body: NsRepr {
                target,
                source_lladdr: Some(ROUTER_MAC),
            },
        }
    }

    fn frame(ns: &NsFrame) -> Vec<u8> {
        let mut buf = [0u8; NS_FRAME_LEN_MAX];
        let n = emit_ns(ns, &mut buf).unwrap();
        buf[..n].to_vec()
    }

    fn handle(r: &mut Responder, ns: &NsFrame) -> Verdict {
        r.handle(&frame(ns), &facts(), 0)
    }

    fn answer(v: Verdict) -> NaFrame {
        match v {
            Verdict::Answer(na) => na,
            other => panic!("expected an answer, got {other:?}"),
        }
    }

    fn dropped(v: Verdict) -> DropReason {
        match v {
            Verdict::Drop(r, _) => r,
            other => panic!("expected a drop, got {other:?}"),
        }
    }

    #[test]
    fn multicast_ns_is_answered_from_the_target_to_the_solicitor() {
        let mut r = Responder::new(uplink(), 0);
        let na = answer(handle(&mut r, &ns("2001:db8:1:2::1:5")));
        assert_eq!(
            na,
            NaFrame {
                headers: Headers {
                    eth_src: OUR_MAC,
                    eth_dst: ROUTER_MAC,
                    ip_src: ip("2001:db8:1:2::1:5"),
                    ip_dst: ip("fe80::1"),
                    hop_limit: 255,
                },
                body: NaRepr {
                    flags: NaFlags::ROUTER.with(NaFlags::SOLICITED, true),
                    target: ip("2001:db8:1:2::1:5"),
                    target_lladdr: Some(OUR_MAC),
                },
            }
        );
        assert_eq!(r.counters().ns_received, 1);
    }

    #[test]
    fn unicast_reachability_probe_is_answered() {
        let mut r = Responder::new(uplink(), 0);
        let mut probe = ns("2001:db8:1:2::1:5");
        probe.headers.ip_src = ip("2001:db8:1:2::1");
        probe.headers.ip_dst = probe.body.target;
        probe.headers.eth_dst = OUR_MAC;
        probe.body.source_lladdr = None; // RFC 4861 section 7.2.2: SHOULD, not MUST, for unicast
        let na = answer(handle(&mut r, &probe));
        assert_eq!(
            (
                na.headers.ip_dst,
                na.headers.eth_dst,
                na.body.flags.contains(NaFlags::SOLICITED)
            ),
            (probe.headers.ip_src, ROUTER_MAC, true)
        );
        assert_eq!(na.headers.ip_src, probe.body.target);
    }

    #[test]
    fn dad_probe_is_answered_to_all_nodes_without_solicited() {
        let mut r = Responder::new(uplink(), 0);
        let mut dad = ns("2001:db8:1:2::1:5");
        dad.headers.ip_src = Ipv6Addr::UNSPECIFIED;
        dad.body.source_lladdr = None;
        let na = answer(handle(&mut r, &dad));
        assert_eq!(na.headers.ip_dst, ip("ff02::1"));
        assert_eq!(
            na.headers.eth_dst,
            EthernetAddress([0x33, 0x33, 0, 0, 0, 1])
        );
        assert!(!na.body.flags.contains(NaFlags::SOLICITED));
        assert_eq!(na.headers.ip_src, dad.body.target);
    }

    #[test]
    fn policy_drops_are_counted_by_reason() {
        let mut r = Responder::new(uplink(), 0);
        let cases = [
            ("2001:db8:1:2::2:5", DropReason::OutOfRange),
            ("2001:db8:1:3::1:5", DropReason::OutOfRange),
            ("2001:db8:1:2::1:ff", DropReason::Excluded),
            ("2001:db8:1:2::100", DropReason::OwnAddress),
        ];
        for (target, reason) in cases {
            assert_eq!(dropped(handle(&mut r, &ns(target))), reason, "{target}");
            // explain's lookup, without a packet, gives the same reason.
            let rules = lookup(&uplink(), &HOST_ADDRS, None, &ip(target));
            assert_eq!(rules.answer(), Err(reason), "{target}");
        }
        let mut own = ns("2001:db8:1:2::1:5");
        own.headers.eth_src = OUR_MAC;
        assert_eq!(dropped(handle(&mut r, &own)), DropReason::OwnMac);
        let mut mcast = ns("2001:db8:1:2::1:5");
        mcast.headers.ip_src = ip("ff02::1");
        assert_eq!(dropped(handle(&mut r, &mcast)), DropReason::MulticastSource);
        let c = r.counters();
        assert_eq!(c.ns_received, 6);
        assert_eq!(c.drop_count(DropReason::MulticastSource), 1);
        assert_eq!(c.drop_count(DropReason::OutOfRange), 2);
        assert_eq!(c.drop_count(DropReason::Excluded), 1);
        assert_eq!(c.drop_count(DropReason::OwnAddress), 1);
        assert_eq!(c.drop_count(DropReason::OwnMac), 1);
    }

    #[test]
    fn invalid_ns_are_counted_by_rfc_rule() {
        let mut r = Responder::new(uplink(), 0);
        let mut low_hop = ns("2001:db8:1:2::1:5");
        low_hop.headers.hop_limit = 64;
        assert_eq!(dropped(handle(&mut r, &low_hop)), DropReason::HopLimit);
        let mut bad_sum = frame(&ns("2001:db8:1:2::1:5"));
        bad_sum[14 + 40 + 2] ^= 0x55;
        assert_eq!(
            dropped(r.handle(&bad_sum, &facts(), 0)),
            DropReason::Checksum
        );
        let good = frame(&ns("2001:db8:1:2::1:5"));
        assert_eq!(
            dropped(r.handle(&good[..40], &facts(), 0)),
            DropReason::Truncated
        );
        // An invalid frame from our own MAC is a loop first and an invalid NS second.
        let mut looped = bad_sum.clone();
        wire::ethernet::Frame::new_checked(&mut looped[..])
            .unwrap()
            .set_src_addr(OUR_MAC);
        assert_eq!(dropped(r.handle(&looped, &facts(), 0)), DropReason::OwnMac);
        assert_eq!(r.counters().ns_received, 4);
        assert_eq!(r.counters().drop_count(DropReason::Checksum), 1);
    }

    #[test]
    fn frames_that_are_not_ns_are_ignored_uncounted() {
        let mut r = Responder::new(uplink(), 0);
        let mut not_ns = frame(&ns("2001:db8:1:2::1:5"));
        not_ns[12] = 0x08; // EtherType IPv4
        not_ns[13] = 0x00;
        assert_eq!(r.handle(&not_ns, &facts(), 0), Verdict::Ignore);
        assert_eq!(r.counters(), &Counters::default());
    }

    #[test]
    fn flags_and_source_policies_follow_config() {
        let mut cfg = uplink();
        cfg.router = false;
        cfg.override_flag = true;
        cfg.source = SourcePolicy::LinkLocal;
        let mut r = Responder::new(cfg.clone(), 0);
        let na = answer(handle(&mut r, &ns("2001:db8:1:2::1:5")));
        assert!(
            !na.body.flags.contains(NaFlags::ROUTER) && na.body.flags.contains(NaFlags::OVERRIDE)
        );
        assert_eq!(na.headers.ip_src, HOST_ADDRS[1]);

        cfg.source = SourcePolicy::Auto;
        r.reconfigure(cfg, 0);
        let from_ll = answer(handle(&mut r, &ns("2001:db8:1:2::1:5")));
        assert_eq!(from_ll.headers.ip_src, HOST_ADDRS[1]);
        let mut from_global = ns("2001:db8:1:2::1:5");
        from_global.headers.ip_src = ip("2001:db8:1:2::1");
        assert_eq!(
            answer(handle(&mut r, &from_global)).headers.ip_src,
            from_global.body.target
        );
    }

    #[test]
    fn link_local_policy_falls_back_to_target_without_link_local() {
        assert_eq!(
            na_source(
                SourcePolicy::LinkLocal,
                ip("2001:db8::5"),
                &ip("fe80::1"),
                None
            ),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn most_specific_prefix_is_reported() {
        let mut cfg = uplink();
        cfg.prefixes.push("2001:db8:1:2::/64".parse().unwrap());
        let stat = |p: &str| Coverage::Covered(Range::Static(p.parse().unwrap()));
        let netifd = |p: &str| Coverage::Covered(Range::Netifd(p.parse().unwrap()));
        assert_eq!(
            coverage(&cfg, &ip("2001:db8:1:2::1:5")),
            stat("2001:db8:1:2::1:0/112")
        );
        assert_eq!(
            coverage(&cfg, &ip("2001:db8:1:2::9:5")),
            stat("2001:db8:1:2::/64")
        );
        // A netifd prefix: the longer match whatever its origin, the configured one on a tie.
        cfg.netifd.prefixes = vec![
            "2001:db8:1:2::9:0/112".parse().unwrap(),
            "2001:db8:1:2::/64".parse().unwrap(),
            "2001:db8:1:3::/64".parse().unwrap(),
        ];
        assert_eq!(
            coverage(&cfg, &ip("2001:db8:1:2::9:5")),
            netifd("2001:db8:1:2::9:0/112")
        );
        assert_eq!(
            coverage(&cfg, &ip("2001:db8:1:2::8:5")),
            stat("2001:db8:1:2::/64")
        );
        assert_eq!(
            coverage(&cfg, &ip("2001:db8:1:3::5")),
            netifd("2001:db8:1:3::/64")
        );
    }

    #[test]
    fn rate_limits_bound_answers_and_count_drops() {
        let mut cfg = uplink();
        cfg.rate_limit = RateLimit { rate: 3, burst: 3 };
        cfg.source_rate_limit = RateLimit { rate: 2, burst: 2 };
        let mut r = Responder::new(cfg, 0);
        let from = |src: &str| {
            let mut n = ns("2001:db8:1:2::1:5");
            n.headers.ip_src = ip(src);
            frame(&n)
        };
        let v: Vec<Verdict> = ["fe80::1", "fe80::1", "fe80::1", "fe80::2", "fe80::3"]
            .iter()
            .map(|s| r.handle(&from(s), &facts(), 0))
            .collect();
        assert!(matches!(v[0], Verdict::Answer(_)) && matches!(v[1], Verdict::Answer(_)));
        assert_eq!(dropped(v[2]), DropReason::SourceRateLimit);
        assert!(matches!(v[3], Verdict::Answer(_)));
        assert_eq!(dropped(v[4]), DropReason::RateLimit);
        // One second later the budget is back.
        assert!(matches!(
            r.handle(&from("fe80::3"), &facts(), SEC),
            Verdict::Answer(_)
        ));
        // Reconfiguring keeps counters.
        r.reconfigure(uplink(), SEC);
        assert_eq!(r.counters().drop_count(DropReason::RateLimit), 1);
    }

    /// A solicitation that waited for its host (`hosts probe`) is answered once the host is
    /// known, without counting it again; refused again, it is not counted twice either.
    #[test]
    fn a_pending_solicitation_is_answered_once_its_host_is_known() {
        use crate::state::{hosts::HostTable, links::Links, routes::RouteTable};
        const LAN: u32 = 3;
        fn with<'a>(
            hosts: &'a HostTable,
            routes: &'a RouteTable,
            links: &'a Links,
        ) -> InterfaceFacts<'a> {
            InterfaceFacts {
                follow: Some(FollowView {
                    uplink: 2,
                    downstreams: &[LAN],
                    host_devices: &[LAN],
                    routes,
                    hosts,
                    links,
                }),
                ..facts()
            }
        }
        let mut cfg = uplink();
        cfg.downstreams = vec!["br-lan".into()];
        cfg.hosts = Some(crate::config::HostsMode::Probe);
        let target = "2001:db8:1:2::1:5";
        let (routes, links) = (RouteTable::default(), Links::default());
        let unknown = HostTable::default();
        let mut known = HostTable::default();
        known.apply(LAN, &ip(target), true);
        let ns = ns(target);
        let mut r = Responder::new(cfg, 0);
        let before = with(&unknown, &routes, &links);
        assert_eq!(
            dropped(r.handle(&frame(&ns), &before, 0)),
            DropReason::UnknownHost
        );
        assert_eq!(
            dropped(r.answer_pending(&ns, &before, 0)),
            DropReason::UnknownHost
        );
        let na = answer(r.answer_pending(&ns, &with(&known, &routes, &links), 0));
        assert_eq!(
            (na.body.target, na.headers.ip_dst),
            (ip(target), ns.headers.ip_src)
        );
        let c = r.counters();
        assert_eq!(
            (c.ns_received, c.drop_count(DropReason::UnknownHost)),
            (1, 1)
        );
    }

    /// Found by the `responder` fuzz target (fuzz/fuzz_targets/responder.rs): the captured
    /// DAD probe with its source rewritten to ffff:fffe::3:0:0 (multicast) and the checksum
    /// fixed. Before `MulticastSource` it was answered with S set to that multicast group,
    /// an NA every receiver must drop (RFC 4861 section 7.1.2).
    #[test]
    fn fuzz_multicast_source_ns_is_not_answered() {
        #[rustfmt::skip]
        const FRAME: [u8; 86] = [
            0x33, 0x33, 0xff, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x86, 0xdd, 0x60, 0x00,
            0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x01, 0xff, 0x00, 0x00, 0x0a, 0x87, 0x00, 0x0a, 0x38, 0x00, 0x00, 0x00, 0x00, 0x20, 0x01,
            0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0e, 0x01,
            0x8e, 0xc7, 0xd5, 0xbe, 0xd0, 0x11,
        ];
        let mut cfg = uplink();
        cfg.prefixes = vec!["2001:db8::/64".parse().unwrap()];
        cfg.excludes.clear();
        let mut r = Responder::new(cfg, 0);
        let ns = wire::parse_ns(&FRAME).expect("a valid NS apart from its source");
        assert!(ns.headers.ip_src.is_multicast());
        assert_eq!(
            r.handle(&FRAME, &facts(), 0),
            Verdict::Drop(DropReason::MulticastSource, Some(ns))
        );
    }
}
