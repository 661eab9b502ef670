//! `wire::parse_na` on arbitrary frames. Invariant: an accepted NA that carries a Target
//! Link-Layer Address re-emitted with `emit_na` parses back to the same `ReceivedNa`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::wire::{emit_na, parse_na, NA_FRAME_LEN};
use ndpresponder_fuzz::with_repaired_checksum;

fn check(frame: &[u8]) {
    let Ok(na) = parse_na(frame) else {
        return;
    };
    assert!(!na.target.is_multicast());
    assert!(!(na.solicited && na.ip_dst.is_multicast()));
    let Some(frame_repr) = na.to_na_frame() else {
        assert!(na.target_lladdr.is_none());
        return;
    };
    let mut buf = [0u8; NA_FRAME_LEN];
    let len = emit_na(&frame_repr, &mut buf).expect("NA_FRAME_LEN holds every NA");
    assert_eq!(len, NA_FRAME_LEN);
    assert_eq!(parse_na(&buf), Ok(na), "re-emitted NA parses differently");
}

fuzz_target!(|frame: &[u8]| {
    check(frame);
    if let Some(repaired) = with_repaired_checksum(frame) {
        check(&repaired);
    }
});
