//! The whole receive decision, `Responder::handle`, on arbitrary frames, for three uplinks
//! that differ in source policy, flags and rate limits. Invariants:
//! - a frame `parse_ns` rejects is never answered (ignored when not an NS, else a drop
//!   without a parsed NS);
//! - a valid NS gets exactly `decide`'s answer, or a drop that carries the parsed NS;
//! - an answer is for a covered target, from our MAC, and emits an NA that `parse_na`
//!   reads back unchanged;
//! - the same NS again at the same instant is refused by whichever bucket is size 1, and
//!   answered again identically when neither limit is on;
//! - every counted NS is either a drop or an answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::config::{RateLimit, SourcePolicy, UplinkConfig};
use ndpresponder::core::responder::{
    coverage, decide, Coverage, DropReason, InterfaceFacts, Responder, Verdict,
};
use ndpresponder::wire::{emit_na, parse_na, parse_ns, EthernetAddress, Invalid, NA_FRAME_LEN};
use ndpresponder_fuzz::with_repaired_checksum;
use std::net::Ipv6Addr;

const NOW_NS: u64 = 5_000_000_000;
const OFF: RateLimit = RateLimit { rate: 0, burst: 0 };
const ONE: RateLimit = RateLimit { rate: 1, burst: 1 };
const MANY: RateLimit = RateLimit {
    rate: 1000,
    burst: 1000,
};

/// Uplinks covering the fixtures' 2001:db8::/64 (minus a hole) and a ULA range; the first
/// two bound the answers so that a second identical NS shows which bucket holds.
fn uplinks() -> [(UplinkConfig, Option<DropReason>); 3] {
    let base = UplinkConfig {
        prefixes: ["2001:db8::/64", "fd00::/8", "2001:db8::8000/113"]
            .iter()
            .map(|p| p.parse().expect("valid test prefix"))
            .collect(),
        excludes: vec!["2001:db8::ff00/120".parse().expect("valid test prefix")],
        rate_limit: MANY,
        source_rate_limit: ONE,
        ..UplinkConfig::new("wan", "eth0")
    };
    let link_local = UplinkConfig {
        source: SourcePolicy::LinkLocal,
        router: false,
        override_flag: true,
        rate_limit: ONE,
        source_rate_limit: OFF,
        ..base.clone()
    };
    let auto = UplinkConfig {
        source: SourcePolicy::Auto,
        rate_limit: OFF,
        source_rate_limit: OFF,
        ..base.clone()
    };
    [
        (base, Some(DropReason::SourceRateLimit)),
        (link_local, Some(DropReason::RateLimit)),
        (auto, None),
    ]
}

fn check(frame: &[u8], facts: &InterfaceFacts<'_>) {
    let parsed = parse_ns(frame);
    for (cfg, second_drop) in uplinks() {
        let mut responder = Responder::new(cfg.clone(), NOW_NS);
        let verdict = responder.handle(frame, facts, NOW_NS);
        // (NS counted, answers) expected in the counters.
        let mut counted = (u64::from(verdict != Verdict::Ignore), 0);
        match (&parsed, verdict) {
            (Err(Invalid::OtherType), v) => assert_eq!(v, Verdict::Ignore),
            (Err(_), Verdict::Drop(_, None)) => {}
            (Err(e), v) => panic!("parse_ns said {e:?} but handle gave {v:?}"),
            (Ok(ns), Verdict::Answer(na)) => {
                assert_eq!(decide(&cfg, facts, ns), Ok(na));
                assert!(matches!(
                    coverage(&cfg, &ns.body.target),
                    Coverage::Covered(_)
                ));
                assert_eq!(na.body.target, ns.body.target);
                assert_eq!(na.headers.eth_src, facts.mac);
                let mut buf = [0u8; NA_FRAME_LEN];
                let len = emit_na(&na, &mut buf).expect("NA fits NA_FRAME_LEN");
                let back = parse_na(&buf[..len]).expect("our own NA is valid");
                assert_eq!(back, na);
                let again = responder.handle(frame, facts, NOW_NS);
                counted = (2, 1);
                match second_drop {
                    Some(reason) => assert_eq!(again, Verdict::Drop(reason, Some(*ns))),
                    None => {
                        assert_eq!(again, Verdict::Answer(na));
                        counted.1 = 2;
                    }
                }
            }
            (Ok(ns), Verdict::Drop(reason, Some(dropped))) => {
                assert_eq!(*ns, dropped);
                assert_eq!(decide(&cfg, facts, ns).err(), Some(reason));
            }
            (Ok(ns), v) => panic!("valid NS {ns:?} gave {v:?}"),
        }
        let c = responder.counters();
        let drops: u64 = c.drops.iter().sum();
        assert_eq!(c.ns_received, counted.0);
        assert_eq!(c.ns_received, drops + counted.1);
    }
}

fuzz_target!(|frame: &[u8]| {
    let addresses = [
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xc),
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xc),
    ];
    let facts = InterfaceFacts {
        mac: EthernetAddress([0x02, 0, 0, 0, 0, 0x0c]),
        link_local: Some(addresses[1]),
        addresses: &addresses,
        follow: None,
    };
    check(frame, &facts);
    if let Some(repaired) = with_repaired_checksum(frame) {
        check(&repaired, &facts);
    }
});
