//! Announcing a host that appeared behind a downstream device, so the upstream router can
//! reach it at once instead of after its first resolution: an unsolicited NA for it to all
//! nodes (RFC 4861 section 7.2.6), and, because a router with no entry for the address
//! ignores an unsolicited NA (section 7.2.5), an NS from the host's address to the default
//! router with our link-layer address, which makes the router create the entry (section
//! 7.2.3). A sweep announces every host again when the upstream router may have lost them
//! all (the uplink came back, the ranges or the router changed), at the budget's pace,
//! resuming where it stopped. Pure: frames, a budget and the sweep's cursor; the daemon
//! decides when and sends.

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
    /// Hosts announced (by sweeps too).
    pub sent: u64,
    /// Hosts not announced: over the rate.
    pub refused: u64,
    /// Sweeps finished.
    pub sweeps: u64,
    /// Hosts announced by sweeps.
    pub swept: u64,
}

/// Tokens a sweep leaves in the bucket for hosts that appear while it runs, so a long
/// sweep does not make their announcements `refused`.
pub const SWEEP_RESERVE: u32 = 10;
/// A sweep out of tokens resumes when this many more are back: ten hosts every 100 ms at
/// the full rate rather than one every 10 ms.
pub const SWEEP_BATCH: u32 = 10;

/// Why a sweep started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepTrigger {
    /// The daemon read the kernel's tables at start.
    Start,
    /// It read them again after lost rtnetlink events.
    Reread,
    /// The uplink became armed again (link up, device re-created, `enabled` back on).
    Armed,
    /// The ranges it answers for changed (a reload, netifd renumbering a `prefix_from`
    /// interface), or its downstream devices or hosts policy.
    Ranges,
    /// `announce` was turned on by a reload.
    Enabled,
    /// The uplink's default router appeared or changed: the new one knows none of them.
    Router,
}

impl SweepTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            SweepTrigger::Start => "start",
            SweepTrigger::Reread => "reread",
            SweepTrigger::Armed => "armed",
            SweepTrigger::Ranges => "ranges",
            SweepTrigger::Enabled => "enabled",
            SweepTrigger::Router => "router",
        }
    }
}

/// The kinds of hosts a sweep walks, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pass {
    /// Neighbour entries on the host devices (the downstream devices and those netifd
    /// names for the `prefix_from` prefixes).
    Neighbours,
    /// /128 routes through the downstream devices.
    HostRoutes,
    /// The host devices' own addresses.
    DeviceAddresses,
}

impl Pass {
    const ALL: [Pass; 3] = [Pass::Neighbours, Pass::HostRoutes, Pass::DeviceAddresses];

    fn next(self) -> Option<Pass> {
        Pass::ALL.get(self as usize + 1).copied()
    }
}

/// What a sweep walks: the daemon's tables as they are at each step (they may change
/// between steps; the cursor is an address, not a position, so it stays valid).
pub trait SweepSource {
    /// The lowest address of `pass` above `after` (the lowest of all without one).
    fn next(&self, pass: Pass, after: Option<Ipv6Addr>) -> Option<Ipv6Addr>;
    /// Whether `addr` is among the hosts of `pass`.
    fn contains(&self, pass: Pass, addr: &Ipv6Addr) -> bool;
    /// Whether the uplink answers for `addr` now: the one test of what is announced.
    fn ours(&self, addr: &Ipv6Addr) -> bool;
}

/// A sweep in progress: where it stands, nothing per host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sweep {
    trigger: SweepTrigger,
    pass: Pass,
    /// The last address of `pass` dealt with.
    after: Option<Ipv6Addr>,
    /// When it may go on (the budget's tokens are back).
    resume_ns: u64,
    started_ns: u64,
    announced: u64,
    /// Sweeps this one replaced before they finished.
    restarts: u32,
}

/// A finished sweep, for the daemon's log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepDone {
    pub trigger: SweepTrigger,
    pub announced: u64,
    pub restarts: u32,
    pub elapsed_ns: u64,
}

/// One uplink's announcement budget, counters and sweep.
pub struct Announcer {
    budget: TokenBucket,
    counters: AnnounceCounters,
    sweep: Option<Sweep>,
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
            sweep: None,
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

    /// Starts a sweep from the first host; one in progress starts over (the new trigger
    /// may have changed which hosts are ours, or the router lost what was sent).
    pub fn start_sweep(&mut self, trigger: SweepTrigger, now_ns: u64) {
        let restarts = self.sweep.map_or(0, |s| s.restarts + 1);
        self.sweep = Some(Sweep {
            trigger,
            pass: Pass::Neighbours,
            after: None,
            resume_ns: now_ns,
            started_ns: now_ns,
            announced: 0,
            restarts,
        });
    }

    /// Drops the sweep in progress (the uplink is no longer armed).
    pub fn cancel_sweep(&mut self) {
        self.sweep = None;
    }

    /// Why the sweep in progress started; none without one.
    pub fn sweep_trigger(&self) -> Option<SweepTrigger> {
        self.sweep.map(|s| s.trigger)
    }

    /// When the sweep in progress wants to go on; none without one.
    pub fn sweep_due(&self) -> Option<u64> {
        self.sweep.map(|s| s.resume_ns)
    }

    /// Goes on with the sweep: announces (through `announce`) each host of `source` that is
    /// ours, in pass and address order, from where it stopped, while the budget lasts
    /// beyond [`SWEEP_RESERVE`]; then waits for [`SWEEP_BATCH`] tokens. A host that is in an
    /// earlier pass too was announced there. Returns the sweep when it finished.
    pub fn sweep(
        &mut self,
        source: &impl SweepSource,
        now_ns: u64,
        mut announce: impl FnMut(Ipv6Addr),
    ) -> Option<SweepDone> {
        let sweep = self.sweep.as_mut()?;
        if now_ns < sweep.resume_ns {
            return None;
        }
        loop {
            let Some(addr) = source.next(sweep.pass, sweep.after) else {
                match sweep.pass.next() {
                    Some(pass) => {
                        sweep.pass = pass;
                        sweep.after = None;
                        continue;
                    }
                    None => break,
                }
            };
            let earlier = Pass::ALL
                .iter()
                .take_while(|p| **p < sweep.pass)
                .any(|p| source.contains(*p, &addr));
            if !earlier && source.ours(&addr) {
                if !self.budget.take_keeping(now_ns, SWEEP_RESERVE) {
                    sweep.resume_ns = self
                        .budget
                        .ready_at(now_ns, SWEEP_RESERVE + SWEEP_BATCH)
                        .max(now_ns + 1);
                    return None;
                }
                announce(addr);
                sweep.announced += 1;
                self.counters.sent += 1;
                self.counters.swept += 1;
            }
            sweep.after = Some(addr);
        }
        let done = self.sweep.take().map(|s| SweepDone {
            trigger: s.trigger,
            announced: s.announced,
            restarts: s.restarts,
            elapsed_ns: now_ns.saturating_sub(s.started_ns),
        });
        self.counters.sweeps += 1;
        done
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
                refused: 5,
                ..AnnounceCounters::default()
            }
        );
        assert!(a.take(1_000_000_000));
    }

    const SEC: u64 = 1_000_000_000;

    /// Tables as sorted sets, one per pass, and the addresses the uplink answers for.
    #[derive(Default)]
    struct Tables {
        passes: [std::collections::BTreeSet<Ipv6Addr>; 3],
        ours: std::collections::BTreeSet<Ipv6Addr>,
    }

    impl Tables {
        fn add(&mut self, pass: Pass, addr: Ipv6Addr, ours: bool) {
            self.passes[pass as usize].insert(addr);
            if ours {
                self.ours.insert(addr);
            }
        }
    }

    impl SweepSource for Tables {
        fn next(&self, pass: Pass, after: Option<Ipv6Addr>) -> Option<Ipv6Addr> {
            let set = &self.passes[pass as usize];
            match after {
                None => set.iter().next().copied(),
                Some(a) => set
                    .range((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
                    .next()
                    .copied(),
            }
        }
        fn contains(&self, pass: Pass, addr: &Ipv6Addr) -> bool {
            self.passes[pass as usize].contains(addr)
        }
        fn ours(&self, addr: &Ipv6Addr) -> bool {
            self.ours.contains(addr)
        }
    }

    fn host(i: u32) -> Ipv6Addr {
        Ipv6Addr::from((0x2001_0db8u128 << 96) | u128::from(i))
    }

    /// `n` neighbours, all ours.
    fn neighbours(n: u32) -> Tables {
        let mut t = Tables::default();
        for i in 0..n {
            t.add(Pass::Neighbours, host(i), true);
        }
        t
    }

    /// Steps the sweep at each time it asks for until it finishes; what it announced, in
    /// order, and how it ended.
    fn run(a: &mut Announcer, t: &Tables, from_ns: u64) -> (Vec<Ipv6Addr>, SweepDone) {
        let mut sent = Vec::new();
        let mut now = from_ns;
        for _ in 0..10_000 {
            if let Some(done) = a.sweep(t, now, |h| sent.push(h)) {
                return (sent, done);
            }
            let due = a
                .sweep_due()
                .expect("a sweep that did not finish is pending");
            assert!(
                due > now,
                "a pending sweep must not ask to run again at once"
            );
            now = due;
        }
        panic!("the sweep never finished");
    }

    #[test]
    fn a_sweep_larger_than_the_budget_resumes_when_tokens_are_back() {
        let t = neighbours(250);
        let mut a = Announcer::new(0);
        a.start_sweep(SweepTrigger::Armed, 0);
        let mut first = Vec::new();
        assert_eq!(a.sweep(&t, 0, |h| first.push(h)), None);
        // The burst less the reserve at once; then it waits for a batch.
        assert_eq!(first.len(), (ANNOUNCE_RATE - SWEEP_RESERVE) as usize);
        assert_eq!(
            a.sweep_due(),
            Some(SWEEP_BATCH as u64 * SEC / ANNOUNCE_RATE as u64)
        );
        // Too early: nothing happens.
        assert_eq!(a.sweep(&t, 1, |_| panic!("announced before due")), None);
        let (rest, done) = run(&mut a, &t, 0);
        let all: Vec<_> = first.iter().chain(&rest).copied().collect();
        assert_eq!(
            all,
            (0..250).map(host).collect::<Vec<_>>(),
            "each once, in order"
        );
        assert_eq!(
            (done.trigger, done.announced, done.restarts),
            (SweepTrigger::Armed, 250, 0)
        );
        // 160 hosts past the first 90, at 100/s.
        assert_eq!(done.elapsed_ns, 16 * SEC / 10);
        let c = *a.counters();
        assert_eq!((c.sent, c.swept, c.sweeps, c.refused), (250, 250, 1, 0));
        assert_eq!(a.sweep_due(), None, "idle after the sweep");
    }

    #[test]
    fn a_host_appearing_during_a_long_sweep_is_not_refused() {
        let t = neighbours(1000);
        let mut a = Announcer::new(0);
        a.start_sweep(SweepTrigger::Start, 0);
        a.sweep(&t, 0, |_| {});
        for _ in 0..SWEEP_RESERVE {
            assert!(a.take(0), "the reserve is there for new hosts");
        }
        assert!(!a.take(0));
        assert_eq!(a.counters().refused, 1);
        let (_, done) = run(&mut a, &t, 0);
        assert_eq!(done.announced, 1000);
    }

    #[test]
    fn a_new_trigger_restarts_the_sweep_from_the_first_host() {
        let t = neighbours(150);
        let mut a = Announcer::new(0);
        a.start_sweep(SweepTrigger::Armed, 0);
        let mut first = Vec::new();
        a.sweep(&t, 0, |h| first.push(h));
        assert_eq!(first.len(), 90);
        a.start_sweep(SweepTrigger::Ranges, 5 * SEC);
        assert_eq!(a.sweep_due(), Some(5 * SEC), "due at once");
        let (second, done) = run(&mut a, &t, 5 * SEC);
        // The restart announces every host again, each once; only the first sweep's hosts
        // were announced twice.
        assert_eq!(second, (0..150).map(host).collect::<Vec<_>>());
        assert_eq!((done.trigger, done.restarts), (SweepTrigger::Ranges, 1));
        let c = *a.counters();
        assert_eq!((c.sent, c.sweeps), (240, 1));
        a.start_sweep(SweepTrigger::Router, 9 * SEC);
        assert_eq!(
            run(&mut a, &t, 9 * SEC).1.restarts,
            0,
            "a new sweep after one finished"
        );
    }

    #[test]
    fn each_host_once_across_passes_and_only_ours_spend_the_budget() {
        let mut t = Tables::default();
        t.add(Pass::Neighbours, host(1), true);
        t.add(Pass::Neighbours, host(3), false);
        t.add(Pass::HostRoutes, host(1), true);
        t.add(Pass::HostRoutes, host(2), true);
        t.add(Pass::DeviceAddresses, host(2), true);
        t.add(Pass::DeviceAddresses, host(0), true);
        // Hosts not ours: walked past without a token.
        for i in 100..400 {
            t.add(Pass::Neighbours, host(i), false);
        }
        let mut a = Announcer::new(0);
        a.start_sweep(SweepTrigger::Start, 0);
        let mut sent = Vec::new();
        let done = a.sweep(&t, 0, |h| sent.push(h)).expect("finished at once");
        assert_eq!(sent, vec![host(1), host(2), host(0)]);
        assert_eq!((done.announced, done.elapsed_ns), (3, 0));
    }

    #[test]
    fn the_cursor_survives_table_changes_between_steps() {
        let mut t = neighbours(200);
        let mut a = Announcer::new(0);
        a.start_sweep(SweepTrigger::Armed, 0);
        let mut sent = Vec::new();
        a.sweep(&t, 0, |h| sent.push(h));
        let last = *sent.last().unwrap();
        // Hosts gone before and after the cursor, one new before it, one new after it.
        t.passes[0].remove(&host(3));
        t.passes[0].remove(&host(150));
        t.passes[0].remove(&last);
        let before = Ipv6Addr::from((0x2001_0db7u128 << 96) | 5);
        t.add(Pass::Neighbours, host(1000), true);
        t.add(Pass::Neighbours, before, true);
        let (rest, done) = run(&mut a, &t, 0);
        assert_eq!(
            rest.first(),
            Some(&host(90)),
            "resumes right after the cursor"
        );
        assert!(!rest.contains(&host(150)) && rest.contains(&host(1000)));
        assert!(
            !rest.contains(&before),
            "behind the cursor: announced as it appears"
        );
        let all: Vec<_> = sent.iter().chain(&rest).collect();
        let unique: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "nothing twice");
        assert_eq!(done.announced, 90 + 109 + 1);
    }

    #[test]
    fn a_cancelled_sweep_is_not_pending() {
        let t = neighbours(500);
        let mut a = Announcer::new(0);
        a.start_sweep(SweepTrigger::Armed, 0);
        a.sweep(&t, 0, |_| {});
        a.cancel_sweep();
        assert_eq!(a.sweep_due(), None);
        assert_eq!(a.sweep(&t, 10 * SEC, |_| panic!("cancelled")), None);
        assert_eq!(a.counters().sweeps, 0);
        a.start_sweep(SweepTrigger::Armed, 10 * SEC);
        assert_eq!(run(&mut a, &t, 10 * SEC).1.restarts, 0);
    }
}
