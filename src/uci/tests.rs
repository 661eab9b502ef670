//! The parser against real uci: every file of `tests/fixtures/uci/corpus`, compared
//! with what upstream uci printed for it, plus no-panic checks on hostile input.

use super::*;
use std::fs;
use std::path::Path;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/uci");

/// A just-big-enough JSON reader for the `*.tree.json` fixtures (test side only).
mod json {
    #[derive(Debug, PartialEq)]
    pub enum Json {
        Null,
        Bool(bool),
        Number(String),
        Str(String),
        Array(Vec<Json>),
        Object(Vec<(String, Json)>),
    }

    impl Json {
        pub fn get(&self, key: &str) -> Option<&Json> {
            match self {
                Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }
        pub fn str(&self) -> &str {
            match self {
                Json::Str(s) => s,
                other => panic!("expected a string, got {other:?}"),
            }
        }
        pub fn array(&self) -> &[Json] {
            match self {
                Json::Array(items) => items,
                other => panic!("expected an array, got {other:?}"),
            }
        }
        pub fn bool(&self) -> bool {
            match self {
                Json::Bool(b) => *b,
                other => panic!("expected a bool, got {other:?}"),
            }
        }
    }

    pub fn parse(text: &str) -> Json {
        let mut p = Reader {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing data in JSON");
        v
    }

    struct Reader<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Reader<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }
        fn eat(&mut self, b: u8) {
            self.ws();
            assert_eq!(
                self.s[self.i], b,
                "JSON: expected {:?} at {}",
                b as char, self.i
            );
            self.i += 1;
        }
        fn value(&mut self) -> Json {
            self.ws();
            match self.s[self.i] {
                b'{' => {
                    self.i += 1;
                    let mut fields = Vec::new();
                    self.ws();
                    if self.s[self.i] == b'}' {
                        self.i += 1;
                        return Json::Object(fields);
                    }
                    loop {
                        self.ws();
                        let k = self.string();
                        self.eat(b':');
                        fields.push((k, self.value()));
                        self.ws();
                        self.i += 1;
                        if self.s[self.i - 1] == b'}' {
                            return Json::Object(fields);
                        }
                    }
                }
                b'[' => {
                    self.i += 1;
                    let mut items = Vec::new();
                    self.ws();
                    if self.s[self.i] == b']' {
                        self.i += 1;
                        return Json::Array(items);
                    }
                    loop {
                        items.push(self.value());
                        self.ws();
                        self.i += 1;
                        if self.s[self.i - 1] == b']' {
                            return Json::Array(items);
                        }
                    }
                }
                b'"' => Json::Str(self.string()),
                b't' => self.word("true", Json::Bool(true)),
                b'f' => self.word("false", Json::Bool(false)),
                b'n' => self.word("null", Json::Null),
                _ => {
                    let start = self.i;
                    while self.i < self.s.len() && b"+-.eE0123456789".contains(&self.s[self.i]) {
                        self.i += 1;
                    }
                    assert!(self.i > start, "JSON: unexpected byte at {start}");
                    Json::Number(String::from_utf8(self.s[start..self.i].to_vec()).unwrap())
                }
            }
        }
        fn word(&mut self, w: &str, v: Json) -> Json {
            assert!(self.s[self.i..].starts_with(w.as_bytes()));
            self.i += w.len();
            v
        }
        fn hex4(&mut self) -> u32 {
            let h = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
            self.i += 4;
            u32::from_str_radix(h, 16).unwrap()
        }
        fn string(&mut self) -> String {
            self.eat(b'"');
            let mut out: Vec<u8> = Vec::new();
            loop {
                let b = self.s[self.i];
                self.i += 1;
                match b {
                    b'"' => return String::from_utf8(out).unwrap(),
                    b'\\' => {
                        let e = self.s[self.i];
                        self.i += 1;
                        let c = match e {
                            b'n' => '\n',
                            b't' => '\t',
                            b'r' => '\r',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'u' => {
                                let mut u = self.hex4();
                                if (0xd800..0xdc00).contains(&u) {
                                    self.i += 2; // `\u` of the low surrogate
                                    let lo = self.hex4();
                                    u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                                }
                                char::from_u32(u).unwrap()
                            }
                            other => other as char,
                        };
                        let mut tmp = [0; 4];
                        out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                    }
                    other => out.push(other),
                }
            }
        }
    }

    #[test]
    fn reads_nested_values_and_escapes() {
        let v =
            parse(r#" {"a": [1, -2.5e3, true, null], "b": "x\"\\\n\u00fc\ud83d\ude00", "c": {}} "#);
        assert_eq!(v.get("a").unwrap().array().len(), 4);
        assert_eq!(v.get("b").unwrap().str(), "x\"\\\nü😀");
        assert_eq!(v.get("c"), Some(&Json::Object(Vec::new())));
    }
}

use json::Json;

/// The corpus cases: (name, file bytes), read from the directory, sorted.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(FIXTURES).join("corpus");
    let mut cases: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "uci"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    cases.sort();
    cases
}

fn expected(name: &str, ext: &str) -> Option<String> {
    fs::read_to_string(
        Path::new(FIXTURES)
            .join("expected")
            .join(format!("{name}.{ext}")),
    )
    .ok()
}

/// Compares a parsed package with the tree libuci produced; returns what differs.
fn tree_mismatch(pkg: &Package, tree: &Json) -> Option<String> {
    let sections = tree.get("sections")?.array();
    if sections.len() != pkg.sections.len() {
        return Some(format!(
            "{} sections, expected {}",
            pkg.sections.len(),
            sections.len()
        ));
    }
    for (got, want) in pkg.sections.iter().zip(sections) {
        let want_head = (
            want.get("name")?.str(),
            want.get("type")?.str(),
            want.get("anonymous")?.bool(),
        );
        let got_head = (got.name.as_str(), got.section_type.as_str(), got.anonymous);
        if got_head != want_head {
            return Some(format!("section {got_head:?}, expected {want_head:?}"));
        }
        let want_options = want.get("options")?.array();
        let got_options: Vec<(&str, Value)> = got
            .options
            .iter()
            .map(|o| (o.name.as_str(), o.value.clone()))
            .collect();
        let want_options: Vec<(&str, Value)> = want_options
            .iter()
            .map(|o| {
                let value = match (o.get("string"), o.get("list")) {
                    (Some(s), None) => Value::Single(s.str().to_string()),
                    (None, Some(l)) => {
                        Value::List(l.array().iter().map(|i| i.str().to_string()).collect())
                    }
                    _ => panic!("option without string or list: {o:?}"),
                };
                (o.get("name").unwrap().str(), value)
            })
            .collect();
        if got_options != want_options {
            return Some(format!(
                "section {}: options {got_options:?}, expected {want_options:?}",
                got.name
            ));
        }
    }
    None
}

#[test]
fn agrees_with_real_uci_on_whole_corpus() {
    let cases = corpus();
    assert!(cases.len() >= 41, "corpus shrank: {} files", cases.len());
    let mut failures = Vec::new();
    for (name, text) in &cases {
        let tree = json::parse(&expected(name, "tree.json").expect("tree.json"));
        let show_expected = expected(name, "show").expect(".show");
        match (parse(text), expected(name, "err")) {
            (Ok(pkg), None) => {
                let shown = show("ndpresponder", &pkg);
                if shown != show_expected {
                    failures.push(format!(
                        "{name}: show differs\n--- got\n{shown}--- expected\n{show_expected}"
                    ));
                }
                if let Some(why) = tree_mismatch(&pkg, &tree) {
                    failures.push(format!("{name}: tree: {why}"));
                }
            }
            (Err(err), Some(err_expected)) => {
                let got = format!("uci: {err}\n");
                if got != err_expected {
                    failures.push(format!("{name}: error {got:?}, expected {err_expected:?}"));
                }
                let tree_error = tree.get("error").map(|e| e.str().to_string());
                if tree_error != Some(format!(": {err}")) {
                    failures.push(format!("{name}: tree error {tree_error:?}"));
                }
                if !show_expected.is_empty() {
                    failures.push(format!("{name}: invalid file with non-empty .show"));
                }
            }
            (Ok(pkg), Some(err_expected)) => failures.push(format!(
                "{name}: accepted, uci said {err_expected:?}: {pkg:?}"
            )),
            (Err(err), None) => failures.push(format!("{name}: rejected ({err}), uci accepts")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Parses and, when that works, renders; either way it must return, not panic.
fn exercise(text: &[u8]) {
    if let Ok(pkg) = parse(text) {
        let _ = show("p", &pkg);
    }
}

#[test]
fn every_prefix_of_every_corpus_file_is_handled() {
    for (_, text) in corpus() {
        for end in 0..=text.len() {
            exercise(&text[..end]);
        }
    }
}

/// xorshift64: a fixed-seed PRNG so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_are_handled() {
    // Bytes drawn mostly from the characters the grammar cares about.
    const ALPHABET: &[u8] = b"cpol \t\n\r'\"\\#;\0abx_-=\x0b";
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let len = (rng.next() % 200) as usize;
        let text: Vec<u8> = (0..len)
            .map(|_| {
                let r = rng.next();
                if r % 4 == 0 {
                    r as u8 >> 1
                } else {
                    ALPHABET[(r >> 8) as usize % ALPHABET.len()]
                }
            })
            .collect();
        exercise(&text);
    }
}

#[test]
fn mutated_corpus_files_are_handled() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for (_, text) in corpus() {
        if text.is_empty() {
            continue;
        }
        for _ in 0..100 {
            let mut t = text.clone();
            for _ in 0..1 + rng.next() % 4 {
                let i = (rng.next() as usize) % t.len();
                t[i] = (rng.next() >> 3) as u8;
            }
            exercise(&t);
        }
    }
}

#[test]
fn long_lines_and_nul_bytes_grow_the_buffer_safely() {
    // Lines far beyond the 32-byte start buffer, with a NUL at a chunk boundary.
    let mut text = b"config t n\noption a '".to_vec();
    text.extend_from_slice(&[b'x'; 5000]);
    text.extend_from_slice(b"'\noption b y\0zz\noption c '1'\n");
    // fgets stores "y\0zz\n" in one chunk; strlen stops at the NUL, so the line is not
    // complete and the next one is read over the rest: `option b yoption c '1'`.
    let err = parse(&text).unwrap_err();
    assert_eq!(err.reason, "too many arguments");
    assert_eq!((err.line, err.byte), (3, 19));
    text.truncate(5000 + 23);
    let pkg = parse(&text).unwrap();
    let a = pkg.sections[0].option("a").unwrap();
    assert_eq!(a.value, Value::Single("x".repeat(5000)));
}

#[test]
fn show_counts_named_sections_in_anonymous_indexes() {
    let pkg = parse(b"config a x\nconfig a\nconfig b\nconfig a\n").unwrap();
    assert_eq!(show("p", &pkg), "p.x=a\np.@a[1]=a\np.@b[0]=b\np.@a[2]=a\n");
}
