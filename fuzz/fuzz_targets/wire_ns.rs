//! `wire::parse_ns` on arbitrary frames. Invariant: an accepted NS re-emitted with
//! `emit_ns` parses back to the same `NsFrame` (extension headers, padding and unknown
//! options are dropped on the way, the meaning is kept).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::wire::{emit_ns, parse_ns, NS_FRAME_LEN_MAX};
use ndpresponder_fuzz::with_repaired_checksum;

fn check(frame: &[u8]) {
    let Ok(ns) = parse_ns(frame) else {
        return;
    };
    assert_eq!(
        ns.headers.hop_limit, 255,
        "parse_ns accepted hop limit {}",
        ns.headers.hop_limit
    );
    assert!(!ns.body.target.is_multicast());
    let mut buf = [0u8; NS_FRAME_LEN_MAX];
    let len = emit_ns(&ns, &mut buf).expect("NS_FRAME_LEN_MAX holds every NS");
    assert_eq!(
        parse_ns(&buf[..len]),
        Ok(ns),
        "re-emitted NS parses differently"
    );
}

fuzz_target!(|frame: &[u8]| {
    check(frame);
    if let Some(repaired) = with_repaired_checksum(frame) {
        check(&repaired);
    }
});
