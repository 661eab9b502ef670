//! The per-packet path allocates nothing in steady state, so memory stays bounded: a counting
//! global allocator watches `Responder::handle` and `wire::emit_na` over valid, invalid and
//! out-of-range frames from many sources, with rate limits on so the limiter table churns.

use ndpresponder::config::{RateLimit, SourcePolicy, UplinkConfig};
use ndpresponder::core::responder::{InterfaceFacts, Responder, Verdict};
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

#[test]
fn handling_a_frame_never_allocates() {
    let mac = EthernetAddress([2, 0, 0, 0, 1, 0]);
    let addrs = [
        "2001:db8:1:2::100".parse().unwrap(),
        "fe80::100".parse().unwrap(),
    ];
    let facts = InterfaceFacts {
        mac,
        link_local: Some(addrs[1]),
        addresses: &addrs,
    };
    let cfg = UplinkConfig {
        name: "wan".into(),
        device: "eth0".into(),
        interface: None,
        prefixes: vec!["2001:db8:1:2::/64".parse().unwrap()],
        excludes: vec!["2001:db8:1:2::1:0/112".parse().unwrap()],
        prefix_from: Vec::new(),
        source: SourcePolicy::Auto,
        router: true,
        override_flag: false,
        rate_limit: RateLimit {
            rate: 5000,
            burst: 5000,
        },
        source_rate_limit: RateLimit {
            rate: 50,
            burst: 50,
        },
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
            if let Verdict::Answer(na) = responder.handle(frame, &facts, now) {
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
    assert!(responder.counters().ns_received == frames.len() as u64 * 10);
}
