//! `ndpload`: the benchmark's load generator (scripts/bench.sh runs it; not packaged).
//!
//! Sends Neighbor Solicitations out of one interface at a paced rate, for random targets
//! inside an "in" prefix (which the responder under test should answer) and, for a share of
//! them, inside an "out" prefix (which must stay unanswered). It receives the Neighbor
//! Advertisements on the same AF_PACKET socket, matches each to its NS by target, and prints
//! one line of `key=value` fields: `offered_rate` (or `max`), `achieved_rate` (sent over the
//! time from first to last send), `sent`/`sent_in`/`sent_out`, `send_errors`, `answered`
//! (in-range NS answered), `wrong` (NAs for out-of-range targets), `late` (in-range NAs that
//! match no outstanding NS), `unrelated`, `invalid` (frames failing `parse_na`), `ratio`
//! (answered / sent_in), `p50_us`/`p99_us` and `rx_drops` (NAs lost in our own receive
//! queue, from PACKET_STATISTICS: nonzero means the generator, not the responder, lost them).
//!
//! Each NS is what the kernel sends for address resolution (RFC 4861 section 7.2.2): to the
//! target's solicited-node group, hop limit 255, with a Source Link-Layer Address option,
//! from the interface's link-local address unless `--source` says otherwise.
//!
//! Timing: the send schedule is kept by busy-waiting on CLOCK_MONOTONIC while polling the
//! receive queue, so NAs are timestamped within a loop turn of their arrival (a sleeping
//! generator would add its own wake-up latency to every answer). Latency is measured in user
//! space, from just before send(2) to the recv(2) that returns the NA, so it includes one
//! send and one receive syscall of the generator, for every responder alike.
//!
//! Build: `cargo build --release --example ndpload`; tests: `cargo test --example ndpload`.

use ipnet::Ipv6Net;
use ndpresponder::state::links::Links;
use ndpresponder::state::rtnl::{self, RtnlEvent};
use ndpresponder::sys::netlink::{Dump, NetlinkSocket};
use ndpresponder::sys::packet::{PacketSocket, Recv};
use ndpresponder::sys::poll::{self, POLLIN};
use ndpresponder::sys::{bpf, time::monotonic_ns};
use ndpresponder::wire::{self, EthernetAddress, Headers, NsFrame, NsRepr, NS_FRAME_LEN_MAX};
use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;
use std::process::ExitCode;

const USAGE: &str = "\
Usage: ndpload -i IFACE --in PREFIX [OPTIONS]

  -i IFACE          interface to send NS and receive NA on
  --in PREFIX       targets to solicit that must be answered (at least 2 host bits)
  --out PREFIX      targets that must stay unanswered (default 2001:db8:ffff::/64)
  --out-share F     fraction of NS for --out targets, 0..1 (default 0.1)
  --rate N          NS per second; 0 = as fast as possible (default 1000)
  --duration S      seconds to send for (default 3; decimals allowed)
  --count N         stop after N NS instead (whichever of --duration/--count comes first)
  --source ADDR     IPv6 source of the NS (default: the interface's link-local address)
  --linger-ms N     how long to keep receiving after the last NS (default 300)
  --rcvbuf BYTES    receive queue to ask for (default 8388608)
  --seed N          random seed (default 1)
  --label TEXT      copied into the output line
";

/// Sends and receives this many frames at most per loop turn, so neither starves the other.
const RX_BATCH: usize = 64;
/// At most this many in-range targets are tracked: the reuse distance of a target slot.
const TABLE_BITS_MAX: u32 = 16;

mod options {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    pub struct Options {
        pub iface: String,
        pub in_prefix: Ipv6Net,
        pub out_prefix: Ipv6Net,
        pub out_share: f64,
        pub rate: u64,
        pub duration_ns: u64,
        pub count: Option<u64>,
        pub source: Option<Ipv6Addr>,
        pub linger_ns: u64,
        pub rcvbuf: usize,
        pub seed: u64,
        pub label: String,
    }

    fn num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
        v.parse()
            .map_err(|_| format!("{flag}: '{v}' is not a valid number"))
    }

    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut iface = None;
        let mut in_prefix = None;
        let mut o = Options {
            iface: String::new(),
            in_prefix: Ipv6Net::default(),
            out_prefix: "2001:db8:ffff::/64".parse().expect("constant prefix"),
            out_share: 0.1,
            rate: 1000,
            duration_ns: 3_000_000_000,
            count: None,
            source: None,
            linger_ns: 300_000_000,
            rcvbuf: 8 << 20,
            seed: 1,
            label: String::from("-"),
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            if flag == "-h" || flag == "--help" {
                return Err(USAGE.to_string());
            }
            let v = it
                .next()
                .ok_or_else(|| format!("option '{flag}' needs a value"))?;
            let prefix = |v: &str| -> Result<Ipv6Net, String> {
                v.parse::<Ipv6Net>()
                    .map(|p| p.trunc())
                    .map_err(|_| format!("{flag}: '{v}' is not an IPv6 prefix"))
            };
            match flag.as_str() {
                "-i" => iface = Some(v.clone()),
                "--in" => in_prefix = Some(prefix(v)?),
                "--out" => o.out_prefix = prefix(v)?,
                "--out-share" => o.out_share = num(flag, v)?,
                "--rate" => o.rate = num(flag, v)?,
                "--duration" => {
                    let s: f64 = num(flag, v)?;
                    if !(s > 0.0 && s < 86_400.0) {
                        return Err(format!("{flag}: '{v}' must be in (0, 86400) seconds"));
                    }
                    o.duration_ns = (s * 1e9) as u64;
                }
                "--count" => o.count = Some(num(flag, v)?),
                "--source" => o.source = Some(num(flag, v)?),
                "--linger-ms" => o.linger_ns = num::<u64>(flag, v)?.saturating_mul(1_000_000),
                "--rcvbuf" => o.rcvbuf = num(flag, v)?,
                "--seed" => o.seed = num(flag, v)?,
                "--label" => o.label = v.clone(),
                _ => return Err(format!("unknown option '{flag}'\n{USAGE}")),
            }
        }
        o.iface = iface.ok_or("-i IFACE is required")?;
        o.in_prefix = in_prefix.ok_or("--in PREFIX is required")?;
        if o.in_prefix.prefix_len() > 126 {
            return Err("--in: the prefix needs at least 2 host bits".into());
        }
        if !(0.0..=1.0).contains(&o.out_share) {
            return Err("--out-share: must be between 0 and 1".into());
        }
        if o.in_prefix.contains(&o.out_prefix) || o.out_prefix.contains(&o.in_prefix) {
            return Err("--in and --out must not overlap".into());
        }
        Ok(o)
    }
}

/// xorshift64* (Vigna 2016): fast, seedable, and good enough to spread targets.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // The state must not be zero; mix the seed so small seeds differ widely.
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift; the bias for n far below 2^64 is negligible here.
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}

/// A random address inside `net` whose low `fixed_bits` host bits are `low`.
fn address_in(net: &Ipv6Net, rng: &mut Rng, fixed_bits: u32, low: u128) -> Ipv6Addr {
    let host_bits = 128 - u32::from(net.prefix_len());
    let random = (u128::from(rng.next()) << 64) | u128::from(rng.next());
    let host_mask = if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    let low_mask = (1u128 << fixed_bits) - 1;
    let host = (random & host_mask & !low_mask) | (low & low_mask);
    Ipv6Addr::from(u128::from(net.network()) | host)
}

/// In-range targets: slot `s` of a table of `2^bits - 1` slots (slot numbers 1.., so the
/// all-zero host, the Subnet-Router anycast address of RFC 4291 section 2.6.1, never comes
/// up) is the target's low host bits; higher host bits, if the prefix has any, are random.
/// Slots are visited in a fresh random order each cycle, so a target is solicited again
/// only after every other slot was: the reuse distance is the table size.
struct InRange {
    net: Ipv6Net,
    bits: u32,
    order: Vec<u32>,
    next: usize,
}

impl InRange {
    fn new(net: Ipv6Net) -> InRange {
        let bits = (128 - u32::from(net.prefix_len())).min(TABLE_BITS_MAX);
        InRange {
            net,
            bits,
            order: (1..(1u32 << bits)).collect(),
            next: usize::MAX,
        }
    }

    fn slots(&self) -> usize {
        self.order.len()
    }

    /// The slot a target occupies (its low host bits), if it is inside the prefix.
    fn slot_of(&self, target: &Ipv6Addr) -> Option<usize> {
        if !self.net.contains(target) {
            return None;
        }
        let low = u128::from(*target) & ((1u128 << self.bits) - 1);
        // Slot numbers start at 1; table index = slot - 1.
        (low as usize).checked_sub(1)
    }

    fn next(&mut self, rng: &mut Rng) -> (usize, Ipv6Addr) {
        if self.next >= self.order.len() {
            // Fisher-Yates shuffle for the new cycle.
            for i in (1..self.order.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                self.order.swap(i, j);
            }
            self.next = 0;
        }
        let slot = self.order[self.next];
        self.next += 1;
        (
            slot as usize - 1,
            address_in(&self.net, rng, self.bits, u128::from(slot)),
        )
    }
}

/// Latency histogram in microseconds: 1 us buckets below 10 ms, 1 ms buckets to 10 s, one
/// overflow bucket. Fixed size, so recording never allocates.
struct Histogram {
    fine: Vec<u64>,
    coarse: Vec<u64>,
    overflow: u64,
    count: u64,
}

const FINE_US: u64 = 10_000;
const COARSE_MS: u64 = 10_000;

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            fine: vec![0; FINE_US as usize],
            coarse: vec![0; COARSE_MS as usize],
            overflow: 0,
            count: 0,
        }
    }

    fn record(&mut self, ns: u64) {
        let us = ns / 1000;
        if us < FINE_US {
            self.fine[us as usize] += 1;
        } else if us / 1000 < COARSE_MS {
            self.coarse[(us / 1000) as usize] += 1;
        } else {
            self.overflow += 1;
        }
        self.count += 1;
    }

    /// The smallest bucket bound (in us) at or below which at least `q` of the samples lie,
    /// or `None` without samples. Overflowed samples report as the histogram's limit.
    fn quantile_us(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (us, n) in self.fine.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(us as u64);
            }
        }
        for (ms, n) in self.coarse.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(ms as u64 * 1000);
            }
        }
        Some(COARSE_MS * 1000)
    }
}

/// What one received NA turned out to be.
#[derive(Debug, PartialEq, Eq)]
enum Match {
    /// The answer to the oldest outstanding in-range NS for its target, after this many ns.
    Answered(u64),
    /// For an in-range target with no NS outstanding: a duplicate answer, or one that came
    /// after `PENDING_PER_SLOT` newer NS had reused the slot.
    Late,
    /// For an out-of-range target: a wrong answer.
    Wrong,
    /// For a target we never asked about.
    Unrelated,
}

/// NS kept outstanding per slot: a slot's NS is matched up to this many reuses later, i.e.
/// `PENDING_PER_SLOT * slots` sends (82 ms at 100k NS/s with the sweep's 1023 targets).
const PENDING_PER_SLOT: usize = 8;

#[derive(Clone, Copy)]
struct Pending {
    target: Ipv6Addr,
    sent_ns: u64,
}

/// The outstanding NS of one slot, oldest first.
#[derive(Clone, Copy)]
struct SlotQueue {
    pending: [Pending; PENDING_PER_SLOT],
    len: usize,
}

/// The NS in flight per in-range slot, and what the NAs matched. A responder answers from
/// one receive queue in order, so an NA is matched to the oldest outstanding NS for its
/// target.
struct Tracker {
    in_range: InRange,
    out_prefix: Ipv6Net,
    slots: Vec<SlotQueue>,
}

impl Tracker {
    fn new(in_range: InRange, out_prefix: Ipv6Net) -> Tracker {
        let empty = SlotQueue {
            pending: [Pending {
                target: Ipv6Addr::UNSPECIFIED,
                sent_ns: 0,
            }; PENDING_PER_SLOT],
            len: 0,
        };
        Tracker {
            slots: vec![empty; in_range.slots()],
            in_range,
            out_prefix,
        }
    }

    /// Records an NS; when the slot is full its oldest NS is given up on (stays unanswered).
    fn sent(&mut self, slot: usize, target: Ipv6Addr, now_ns: u64) {
        let q = &mut self.slots[slot];
        if q.len == PENDING_PER_SLOT {
            q.pending.copy_within(1.., 0);
            q.len -= 1;
        }
        q.pending[q.len] = Pending {
            target,
            sent_ns: now_ns,
        };
        q.len += 1;
    }

    fn received(&mut self, target: &Ipv6Addr, now_ns: u64) -> Match {
        if self.out_prefix.contains(target) {
            return Match::Wrong;
        }
        let Some(slot) = self.in_range.slot_of(target) else {
            return Match::Unrelated;
        };
        let Some(q) = self.slots.get_mut(slot) else {
            return Match::Unrelated;
        };
        let Some(i) = q.pending[..q.len].iter().position(|p| p.target == *target) else {
            return Match::Late;
        };
        let sent_ns = q.pending[i].sent_ns;
        q.pending.copy_within(i + 1..q.len, i);
        q.len -= 1;
        Match::Answered(now_ns.saturating_sub(sent_ns))
    }
}

/// Everything the output line reports.
#[derive(Default)]
struct Report {
    sent_in: u64,
    sent_out: u64,
    send_errors: u64,
    answered: u64,
    wrong: u64,
    late: u64,
    unrelated: u64,
    invalid: u64,
    first_send_ns: u64,
    last_send_ns: u64,
}

/// The interface's index, MAC and link-local address, from an rtnetlink dump (the same
/// parser the daemon follows links with).
fn interface_facts(name: &str) -> Result<(u32, EthernetAddress, Option<Ipv6Addr>), String> {
    let mut nl = NetlinkSocket::open().map_err(|e| e.to_string())?;
    let mut links = Links::default();
    let mut buf = vec![0u8; 32768];
    for dump in [Dump::Links, Dump::Ipv6Addresses] {
        let seq = nl.request_dump(dump).map_err(|e| e.to_string())?;
        let mut done = false;
        // Bounded: a dump of a namespace's few links ends within a handful of datagrams.
        for _ in 0..10_000 {
            let mut fds = [poll::pollfd(nl.as_raw_fd(), POLLIN)];
            if poll::poll(&mut fds, 1000).map_err(|e| e.to_string())? == 0 {
                break;
            }
            let Some(n) = nl.recv(&mut buf).map_err(|e| e.to_string())? else {
                continue;
            };
            rtnl::parse(&buf[..n], |ev| {
                done |= ev == RtnlEvent::DumpDone(seq);
                links.apply(&ev);
            });
            if done {
                break;
            }
        }
        if !done {
            return Err("rtnetlink dump did not finish".into());
        }
    }
    let (ifindex, link) = links
        .by_name(name)
        .ok_or_else(|| format!("no interface '{name}'"))?;
    let mac = link
        .mac
        .ok_or_else(|| format!("'{name}' has no Ethernet address"))?;
    Ok((ifindex, mac, link.link_local()))
}

fn drain(
    sock: &PacketSocket,
    buf: &mut [u8],
    tracker: &mut Tracker,
    hist: &mut Histogram,
    r: &mut Report,
) {
    for _ in 0..RX_BATCH {
        let n = match sock.recv(buf) {
            Ok(Recv::Frame(n)) => n,
            Ok(Recv::Truncated(_)) => {
                r.invalid += 1;
                continue;
            }
            Ok(Recv::Empty) | Err(_) => return,
        };
        let now = monotonic_ns();
        let Ok(na) = wire::parse_na(&buf[..n]) else {
            r.invalid += 1;
            continue;
        };
        match tracker.received(&na.body.target, now) {
            Match::Answered(ns) => {
                r.answered += 1;
                hist.record(ns);
            }
            Match::Late => r.late += 1,
            Match::Wrong => r.wrong += 1,
            Match::Unrelated => r.unrelated += 1,
        }
    }
}

fn run(o: &options::Options) -> Result<(), String> {
    let (ifindex, mac, link_local) = interface_facts(&o.iface)?;
    let source = o
        .source
        .or(link_local)
        .ok_or("the interface has no link-local address; give --source")?;
    let sock = PacketSocket::open_with_filter(ifindex, &bpf::NA_FILTER)
        .map_err(|e| format!("{}: {e}", o.iface))?;
    sock.set_recv_buffer(o.rcvbuf).map_err(|e| e.to_string())?;
    // Start the loss count at zero (PACKET_STATISTICS resets on read).
    sock.take_stats().map_err(|e| e.to_string())?;

    let mut rng = Rng::new(o.seed);
    let mut tracker = Tracker::new(InRange::new(o.in_prefix), o.out_prefix);
    let mut hist = Histogram::new();
    let mut r = Report::default();
    let mut rx = vec![0u8; 2048];
    let mut tx = [0u8; NS_FRAME_LEN_MAX];
    // Rate 0 means no pacing at all.
    let interval_ns = 1_000_000_000u64.checked_div(o.rate).unwrap_or(0);
    let count = o.count.unwrap_or(u64::MAX);

    let start = monotonic_ns();
    r.first_send_ns = start;
    let mut i: u64 = 0;
    while i < count {
        let due = start + i.saturating_mul(interval_ns);
        let mut now = monotonic_ns();
        while now < due {
            drain(&sock, &mut rx, &mut tracker, &mut hist, &mut r);
            now = monotonic_ns();
        }
        if now - start >= o.duration_ns {
            break;
        }
        let out = rng.unit() < o.out_share;
        let (slot, target) = if out {
            (None, address_in(&o.out_prefix, &mut rng, 0, 0))
        } else {
            let (slot, target) = tracker.in_range.next(&mut rng);
            (Some(slot), target)
        };
        let group = wire::solicited_node(&target);
        let ns = NsFrame {
            headers: Headers {
                eth_src: mac,
                eth_dst: EthernetAddress::from_ipv6_multicast(&group),
                ip_src: source,
                ip_dst: group,
                hop_limit: 255,
            },
            body: NsRepr {
                target,
                source_lladdr: Some(mac),
            },
        };
        let len = wire::emit_ns(&ns, &mut tx).map_err(|e| e.to_string())?;
        let sent_at = monotonic_ns();
        match sock.send(&tx[..len]) {
            Ok(()) => {
                r.last_send_ns = sent_at;
                match slot {
                    Some(slot) => {
                        tracker.sent(slot, target, sent_at);
                        r.sent_in += 1;
                    }
                    None => r.sent_out += 1,
                }
            }
            Err(_) => r.send_errors += 1,
        }
        i += 1;
        drain(&sock, &mut rx, &mut tracker, &mut hist, &mut r);
    }
    let linger_end = monotonic_ns() + o.linger_ns;
    while monotonic_ns() < linger_end {
        drain(&sock, &mut rx, &mut tracker, &mut hist, &mut r);
    }
    let stats = sock.take_stats().map_err(|e| e.to_string())?;

    let sent = r.sent_in + r.sent_out;
    let span_s = r.last_send_ns.saturating_sub(r.first_send_ns) as f64 / 1e9;
    let achieved = if span_s > 0.0 {
        sent as f64 / span_s
    } else {
        0.0
    };
    let ratio = if r.sent_in > 0 {
        r.answered as f64 / r.sent_in as f64
    } else {
        0.0
    };
    let q = |p| {
        hist.quantile_us(p)
            .map_or("-".to_string(), |v| v.to_string())
    };
    let offered = if o.rate == 0 {
        "max".to_string()
    } else {
        o.rate.to_string()
    };
    println!(
        "ndpload label={} offered_rate={offered} achieved_rate={achieved:.0} send_s={span_s:.3} \
         sent={sent} sent_in={} sent_out={} send_errors={} answered={} wrong={} late={} \
         unrelated={} invalid={} ratio={ratio:.4} p50_us={} p99_us={} rx_drops={}",
        o.label,
        r.sent_in,
        r.sent_out,
        r.send_errors,
        r.answered,
        r.wrong,
        r.late,
        r.unrelated,
        r.invalid,
        q(0.50),
        q(0.99),
        stats.drops,
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("ndpload: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ndpload: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn in_range_visits_every_slot_once_per_cycle_and_never_host_zero() {
        let mut rng = Rng::new(7);
        let mut gen = InRange::new(net("2001:db8:1::/118"));
        assert_eq!(gen.slots(), 1023);
        let mut seen = vec![false; 1023];
        for _ in 0..1023 {
            let (slot, target) = gen.next(&mut rng);
            assert!(!seen[slot], "slot {slot} repeated within a cycle");
            seen[slot] = true;
            assert!(net("2001:db8:1::/118").contains(&target));
            assert_ne!(target, "2001:db8:1::".parse::<Ipv6Addr>().unwrap());
            assert_eq!(gen.slot_of(&target), Some(slot));
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn wide_prefix_randomises_high_host_bits() {
        let mut rng = Rng::new(3);
        let mut gen = InRange::new(net("2001:db8:1::/64"));
        assert_eq!(gen.slots(), 65535);
        let (slot_a, a) = gen.next(&mut rng);
        let (_, b) = gen.next(&mut rng);
        assert!(net("2001:db8:1::/64").contains(&a));
        assert_ne!(u128::from(a) >> 16, u128::from(b) >> 16);
        assert_eq!(gen.slot_of(&a), Some(slot_a));
    }

    #[test]
    fn tracker_matches_each_answer_to_the_oldest_outstanding_ns() {
        let mut t = Tracker::new(
            InRange::new(net("2001:db8:1::/118")),
            net("2001:db8:2::/64"),
        );
        let target: Ipv6Addr = "2001:db8:1::5".parse().unwrap();
        t.sent(4, target, 1_000);
        t.sent(4, target, 1_500);
        assert_eq!(t.received(&target, 1_750), Match::Answered(750));
        assert_eq!(t.received(&target, 1_800), Match::Answered(300));
        assert_eq!(t.received(&target, 1_850), Match::Late);
        assert_eq!(
            t.received(&"2001:db8:2::5".parse().unwrap(), 1_900),
            Match::Wrong
        );
        assert_eq!(
            t.received(&"2001:db8:3::5".parse().unwrap(), 1_900),
            Match::Unrelated
        );
        // Never solicited.
        assert_eq!(
            t.received(&"2001:db8:1::6".parse().unwrap(), 1_900),
            Match::Late
        );
    }

    #[test]
    fn tracker_gives_up_on_the_oldest_when_a_slot_is_full() {
        let mut t = Tracker::new(
            InRange::new(net("2001:db8:1::/118")),
            net("2001:db8:2::/64"),
        );
        let target: Ipv6Addr = "2001:db8:1::5".parse().unwrap();
        for i in 0..=PENDING_PER_SLOT as u64 {
            t.sent(4, target, i * 100);
        }
        // The NS sent at 0 was dropped from the table: the first answer matches the one at 100.
        assert_eq!(t.received(&target, 1_000), Match::Answered(900));
    }

    #[test]
    fn tracker_matches_by_full_target_in_wide_prefixes() {
        let mut t = Tracker::new(InRange::new(net("2001:db8:1::/64")), net("2001:db8:2::/64"));
        let old: Ipv6Addr = "2001:db8:1::aaaa:0:5".parse().unwrap();
        let new: Ipv6Addr = "2001:db8:1::bbbb:0:5".parse().unwrap();
        t.sent(4, old, 1_000);
        t.sent(4, new, 2_000);
        assert_eq!(t.received(&new, 2_600), Match::Answered(600));
        assert_eq!(t.received(&old, 2_700), Match::Answered(1_700));
        assert_eq!(t.received(&old, 2_800), Match::Late);
    }

    #[test]
    fn histogram_quantiles() {
        let mut h = Histogram::new();
        assert_eq!(h.quantile_us(0.5), None);
        for us in 1..=100u64 {
            h.record(us * 1000 + 500);
        }
        assert_eq!(h.quantile_us(0.50), Some(50));
        assert_eq!(h.quantile_us(0.99), Some(99));
        h.record(25_000_000); // 25 ms: coarse bucket
        assert_eq!(h.quantile_us(1.0), Some(25_000));
        h.record(u64::MAX);
        assert_eq!(h.quantile_us(1.0), Some(COARSE_MS * 1000));
    }

    #[test]
    fn options_parse_and_reject() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let o = options::parse(&args(
            "-i r0 --in 2001:db8:1::5/118 --rate 0 --duration 2.5",
        ))
        .unwrap();
        assert_eq!(o.in_prefix, net("2001:db8:1::/118"));
        assert_eq!(o.rate, 0);
        assert_eq!(o.duration_ns, 2_500_000_000);
        assert!(options::parse(&args("-i r0 --in 2001:db8:1::/127")).is_err());
        assert!(options::parse(&args("-i r0 --in 2001:db8::/32 --out 2001:db8:1::/64")).is_err());
        assert!(options::parse(&args("-i r0 --in 2001:db8:1::/64 --out-share 2")).is_err());
        assert!(options::parse(&args("--in 2001:db8:1::/64")).is_err());
    }
}
