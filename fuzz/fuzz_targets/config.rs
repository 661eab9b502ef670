//! `config::from_uci_text` on arbitrary file contents. Invariants: it fails exactly when
//! `uci::parse` fails or it reports at least one error; an accepted config has unique
//! devices, at least one prefix per uplink and not every prefix excluded, and renders with
//! `config::render` (a block per uplink); every diagnostic lies inside the
//! file and names it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::config::{self, values};
use ndpresponder::uci;

const FILE: &str = "/etc/config/ndpresponder";

fuzz_target!(|text: &[u8]| {
    let lines = text.iter().filter(|&&b| b == b'\n').count() + 1;
    let loaded = match config::from_uci_text(FILE, text) {
        Ok(loaded) => loaded,
        Err(e) => {
            assert!(!e.errors.is_empty(), "an error without diagnostics");
            for d in &e.errors {
                assert_eq!(d.file, FILE);
                assert!(d.line <= lines, "diagnostic line {} of {lines}", d.line);
            }
            assert!(!e.to_string().is_empty());
            if let Err(parse_error) = uci::parse(text) {
                assert_eq!(e.errors.len(), 1, "a parse error comes alone");
                assert_eq!(e.errors[0].line, parse_error.line.max(1));
            }
            return;
        }
    };
    assert!(uci::parse(text).is_ok(), "accepted a file uci cannot parse");
    for d in &loaded.warnings {
        assert_eq!(d.file, FILE);
        assert!(d.line <= lines, "warning line {} of {lines}", d.line);
        assert!(!d.to_string().is_empty());
    }
    let uplinks = &loaded.config.uplinks;
    for (i, u) in uplinks.iter().enumerate() {
        assert!(
            values::device(&u.device).is_ok(),
            "bad device {:?}",
            u.device
        );
        assert!(
            uplinks[..i].iter().all(|other| other.device != u.device),
            "device {} used twice",
            u.device
        );
        assert!(!u.prefixes.is_empty(), "uplink {} has no prefix", u.name);
        assert!(
            !u.prefixes
                .iter()
                .all(|p| values::fully_excluded(p, &u.excludes)),
            "uplink {} answers for nothing",
            u.name
        );
        assert_eq!(u.rate_limit.rate, u.rate_limit.burst);
    }
    let rendered = config::render(&loaded.config);
    for u in uplinks {
        let block = format!("uplink {}:\n  device: {}\n", u.name, u.device);
        assert!(
            rendered.contains(&block),
            "render lacks {block:?}:\n{rendered}"
        );
    }
});
