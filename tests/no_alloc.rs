//! The per-packet path allocates nothing in steady state, so memory stays bounded: a counting
//! global allocator watches `Responder::handle` and `wire::emit_na` over valid, invalid and
//! out-of-range frames from many sources, with rate limits on so the limiter table churns,
//! and with ranges taken from a route table and hosts from a neighbour table.

use ndpresponder::config::{HostsMode, RateLimit, SourcePolicy, UplinkConfig};
use ndpresponder::core::follow::FollowView;
use ndpresponder::core::responder::{InterfaceFacts, Responder, Verdict};
use ndpresponder::state::hosts::HostTable;
use ndpresponder::state::links::Links;
use ndpresponder::state::routes::{Nexthop, Route, RouteChange, RouteKind, RouteTable};
use ndpresponder::wire::{
    emit_na, emit_ns, solicited_node, EthernetAddress, Headers, NsFrame, NsRepr, NA_FRAME_LEN,
    NS_FRAME_LEN_MAX,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv6Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const UPLINK: u32 = 2;
const DOWNSTREAM: u32 = 3;

/// Routes of every length from /32 to /128 (the lookup visits each), the routed
/// 2001:db8:1:2::/64 out of the downstream, and a neighbour entry for every fourth host.
fn kernel() -> (RouteTable, HostTable) {
    let mut routes = RouteTable::default();
    for len in 32..=128u8 {
        let oif = if len == 64 { DOWNSTREAM } else { UPLINK };
        let dst = Ipv6Addr::new(0x2001, 0xdb8, 1, 2 + u16::from(len != 64), 0, 0, 0, 0);
        let route = Route {
            dst: ipnet::Ipv6Net::new(dst, len).unwrap().trunc(),
            metric: 1024,
            kind: RouteKind::Unicast,
            nexthops: heapless::Vec::from_slice(&[Nexthop::dev(oif)]).unwrap(),
            truncated: false,
        };
        routes.apply(&route, RouteChange::Add);
    }
    let mut hosts = HostTable::default();
    for i in (0..1000u16).step_by(4) {
        hosts.apply(
            DOWNSTREAM,
            &Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 7, i),
            true,
        );
    }
    (routes, hosts)
}

#[test]
fn handling_a_frame_never_allocates() {
    let mac = EthernetAddress([2, 0, 0, 0, 1, 0]);
    let addrs = [
        "2001:db8:1:2::100".parse().unwrap(),
        "fe80::100".parse().unwrap(),
    ];
    let (routes, hosts) = kernel();
    let links = Links::default();
    let downstreams = [DOWNSTREAM];
    let follow = FollowView {
        uplink: UPLINK,
        downstreams: &downstreams,
        host_devices: &downstreams,
        routes: &routes,
        hosts: &hosts,
        links: &links,
    };
    for (prefixes, downstreams, follow) in [
        (vec!["2001:db8:1:2::/64".parse().unwrap()], vec![], None),
        (vec![], vec!["br-lan".to_string()], Some(follow)),
    ] {
        let facts = InterfaceFacts {
            mac,
            link_local: Some(addrs[1]),
            addresses: &addrs,
            follow,
        };
        run(&facts, prefixes, downstreams);
    }
}

fn run(facts: &InterfaceFacts<'_>, prefixes: Vec<ipnet::Ipv6Net>, downstreams: Vec<String>) {
    let routed = !downstreams.is_empty();
    let cfg = UplinkConfig {
        prefixes,
        excludes: vec!["2001:db8:1:2::1:0/112".parse().unwrap()],
        downstreams,
        hosts: routed.then_some(HostsMode::Known),
        source: SourcePolicy::Auto,
        rate_limit: RateLimit {
            rate: 5000,
            burst: 5000,
        },
        source_rate_limit: RateLimit {
            rate: 50,
            burst: 50,
        },
        ..UplinkConfig::new("wan", "eth0")
    };
    // Frames prepared up front: valid, excluded, out of range, and a corrupted checksum,
    // from 1000 different sources.
    let mut frames = Vec::new();
    for i in 0..1000u16 {
        for target in [
            Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 7, i),
            Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 1, i),
            Ipv6Addr::new(0x2001, 0xdb8, 9, 9, 0, 0, 0, i),
        ] {
            let ns = NsFrame {
                headers: Headers {
                    eth_src: EthernetAddress([2, 0, 0, 0, (i >> 8) as u8, i as u8]),
                    eth_dst: EthernetAddress::from_ipv6_multicast(&solicited_node(&target)),
                    ip_src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 1, i),
                    ip_dst: solicited_node(&target),
                    hop_limit: 255,
                },
                body: NsRepr {
                    target,
                    source_lladdr: Some(EthernetAddress([2, 0, 0, 0, 0, 1])),
                },
            };
            let mut buf = [0u8; NS_FRAME_LEN_MAX];
            let n = emit_ns(&ns, &mut buf).unwrap();
            frames.push(buf[..n].to_vec());
        }
        let mut bad = frames.last().unwrap().clone();
        bad[56] ^= 0xff;
        frames.push(bad);
    }
    let mut responder = Responder::new(cfg, 0);
    let mut tx = [0u8; NA_FRAME_LEN];
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut answered = 0u64;
    for round in 0..10u64 {
        for (i, frame) in frames.iter().enumerate() {
            let now = round * 1_000_000_000 + i as u64 * 1_000;
            if let Verdict::Answer(na) = responder.handle(frame, facts, now) {
                emit_na(&na, &mut tx).unwrap();
                answered += 1;
            }
        }
    }
    let allocated = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(
        allocated,
        0,
        "{allocated} allocations while handling {} frames",
        frames.len() * 10
    );
    // The run must have exercised answers and drops, or it proves nothing.
    assert!(answered > 1000, "answered {answered}");
    if routed {
        use ndpresponder::core::responder::DropReason;
        let c = responder.counters();
        assert!(c.drop_count(DropReason::UnknownHost) > 1000);
        assert!(c.drop_count(DropReason::NotDownstream) > 1000);
    }
    assert!(responder.counters().ns_received == frames.len() as u64 * 10);
}
