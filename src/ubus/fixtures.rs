//! Test access to the frames captured from a real ubusd (`tests/fixtures/ubus`).

use super::blobmsg::BlobmsgBuilder;

pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ubus");

/// One `=== MSG` block of a transcript.
#[derive(Debug, Clone)]
pub struct Frame {
    pub from: String,
    pub to: String,
    pub bytes: Vec<u8>,
}

pub fn read(name: &str) -> String {
    let path = format!("{DIR}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Frames of a transcript in recorded order: `=== MSG <n>  <from> -> <to> ...` then
/// `HEX <frame>`.
pub fn transcript(name: &str) -> Vec<Frame> {
    let text = read(name);
    let mut frames = Vec::new();
    let mut pending: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("=== MSG ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            assert_eq!(words[2], "->", "{line}");
            pending = Some((words[1].to_owned(), words[3].to_owned()));
        } else if let Some(h) = line.strip_prefix("HEX ") {
            let (from, to) = pending.take().expect("HEX line without a MSG header");
            frames.push(Frame {
                from,
                to,
                bytes: hex(h.trim()),
            });
        }
    }
    assert!(!frames.is_empty(), "{name} has no frames");
    frames
}

/// Frames `from -> to` of a transcript.
pub fn frames(name: &str, from: &str, to: &str) -> Vec<Vec<u8>> {
    transcript(name)
        .into_iter()
        .filter(|f| f.from == from && f.to == to)
        .map(|f| f.bytes)
        .collect()
}

/// The reply table of the recorded C server's `status` (header of 04-call-status.txt):
/// version="0.1.0", uptime=1234 int32, running=true, packets=5000000000 int64,
/// config={upstream="wan",ttl=300,enabled=false}, prefixes=[..], interfaces=[{..}],
/// reloads=<counter> int32.
pub fn recorded_status_reply(reloads: u32) -> Vec<u8> {
    let mut b = BlobmsgBuilder::new();
    b.put_string("version", "0.1.0");
    b.put_u32("uptime", 1234);
    b.put_bool("running", true);
    b.put_u64("packets", 5_000_000_000);
    let config = b.open_table("config");
    b.put_string("upstream", "wan");
    b.put_u32("ttl", 300);
    b.put_bool("enabled", false);
    b.close(config);
    let prefixes = b.open_array("prefixes");
    // Names inside arrays are dropped by the builder (array elements are unnamed).
    b.put_string("ignored", "2001:db8::/64");
    b.put_string("", "fd00::/48");
    b.close(prefixes);
    let interfaces = b.open_array("interfaces");
    let iface = b.open_table("");
    b.put_string("name", "br-lan");
    b.put_u32("proxied", 3);
    b.close(iface);
    b.close(interfaces);
    b.put_u32("reloads", reloads);
    b.finish()
}
