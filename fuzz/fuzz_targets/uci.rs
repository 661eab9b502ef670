//! `uci::parse` on arbitrary file contents. Invariants: parsing is deterministic; an
//! accepted file renders with `uci::show`, whose output has every section's
//! `pkg.reference=type` line in order, and every recorded line number lies inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndpresponder::uci::{self, Value};

fuzz_target!(|text: &[u8]| {
    let parsed = uci::parse(text);
    assert_eq!(uci::parse(text), parsed, "parse is not deterministic");
    // libuci counts lines as the newlines read so far, plus the one being read.
    let lines = text.iter().filter(|&&b| b == b'\n').count() + 1;
    let pkg = match parsed {
        Ok(pkg) => pkg,
        Err(e) => {
            assert!(e.line <= lines, "error line {} of {lines}", e.line);
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let references = uci::section_references(&pkg);
    assert_eq!(references.len(), pkg.sections.len());
    let shown = uci::show("ndpresponder", &pkg);
    let mut rest = shown.as_str();
    for (section, reference) in pkg.sections.iter().zip(&references) {
        assert!(!reference.is_empty());
        assert!(
            (1..=lines).contains(&section.line),
            "section line {}",
            section.line
        );
        let header = format!("ndpresponder.{reference}={}\n", section.section_type);
        let at = rest
            .find(&header)
            .unwrap_or_else(|| panic!("show lacks {header:?}"));
        rest = &rest[at + header.len()..];
        for option in &section.options {
            assert!(
                (1..=lines).contains(&option.line),
                "option line {}",
                option.line
            );
            if let Value::List(items) = &option.value {
                assert!(!items.is_empty(), "empty list '{}'", option.name);
            }
        }
    }
});
