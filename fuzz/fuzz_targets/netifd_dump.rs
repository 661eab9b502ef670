//! `state::netifd::parse_dump` on an arbitrary blobmsg payload, as the DATA of a
//! `network.interface dump` reply, for the interfaces lan, wan and wan6.
//! Invariants (`check_dump` in `fuzz/src/lib.rs`): only those interfaces, each at most once;
//! at most `MAX_RANGES_PER_INTERFACE` prefixes each, none twice, host bits cleared; the result
//! written back as a dump parses to itself; and an error names the dump.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder_fuzz::{check_dump, WANTED};

fuzz_target!(|data: &[u8]| {
    if let Err(e) = check_dump(data, &WANTED) {
        assert!(e.starts_with("network.interface dump: "), "{e}");
    }
});
