//! `wire::parse_na` on arbitrary frames. Invariant: an accepted NA re-emitted with `emit_na`
//! parses back to the same `NaFrame`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::wire::{emit_na, parse_na, NaFlags, NA_FRAME_LEN};
use ndpresponder_fuzz::with_repaired_checksum;

fn check(frame: &[u8]) {
    let Ok(na) = parse_na(frame) else {
        return;
    };
    assert!(!na.body.target.is_multicast());
    assert!(!(na.body.flags.contains(NaFlags::SOLICITED) && na.headers.ip_dst.is_multicast()));
    let mut buf = [0u8; NA_FRAME_LEN];
    let len = emit_na(&na, &mut buf).expect("NA_FRAME_LEN holds every NA");
    assert_eq!(
        parse_na(&buf[..len]),
        Ok(na),
        "re-emitted NA parses differently"
    );
}

fuzz_target!(|frame: &[u8]| {
    check(frame);
    if let Some(repaired) = with_repaired_checksum(frame) {
        check(&repaired);
    }
});
