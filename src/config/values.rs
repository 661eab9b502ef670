//! Parsing of single UCI option values; errors are messages naming the value.

use super::{HostsMode, LogLevel, SourcePolicy};
use ipnet::Ipv6Net;
use std::net::{Ipv4Addr, Ipv6Addr};

/// OpenWrt `get_bool` (base-files `lib/functions.sh`): the spellings LuCI and shell
/// scripts accept.
pub fn boolean(value: &str) -> Result<bool, String> {
    match value {
        "1" | "on" | "true" | "yes" | "enabled" => Ok(true),
        "0" | "off" | "false" | "no" | "disabled" => Ok(false),
        _ => Err(format!(
            "'{value}' is not a boolean (use 1/0, yes/no, on/off, true/false, enabled/disabled)"
        )),
    }
}

/// One of a fixed set of words; the error lists them all.
fn one_of<T: Copy>(value: &str, allowed: &[(&str, T)]) -> Result<T, String> {
    allowed
        .iter()
        .find(|(word, _)| *word == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let words: Vec<&str> = allowed.iter().map(|(w, _)| *w).collect();
            format!("'{value}' is not one of: {}", words.join(", "))
        })
}

pub const LOG_LEVELS: [(&str, LogLevel); 5] = [
    ("err", LogLevel::Error),
    ("warning", LogLevel::Warning),
    ("notice", LogLevel::Notice),
    ("info", LogLevel::Info),
    ("debug", LogLevel::Debug),
];

pub const SOURCE_POLICIES: [(&str, SourcePolicy); 3] = [
    ("target", SourcePolicy::Target),
    ("link-local", SourcePolicy::LinkLocal),
    ("auto", SourcePolicy::Auto),
];

pub const HOSTS_MODES: [(&str, HostsMode); 3] = [
    ("any", HostsMode::Any),
    ("known", HostsMode::Known),
    ("probe", HostsMode::Probe),
];

pub fn hosts_mode(value: &str) -> Result<HostsMode, String> {
    one_of(value, &HOSTS_MODES)
}

pub fn log_level(value: &str) -> Result<LogLevel, String> {
    one_of(value, &LOG_LEVELS)
}

pub fn source_policy(value: &str) -> Result<SourcePolicy, String> {
    one_of(value, &SOURCE_POLICIES)
}

/// The configuration word for a level or policy, as `render` shows it.
pub fn word_for<T: PartialEq>(table: &[(&'static str, T)], value: &T) -> &'static str {
    table
        .iter()
        .find(|(_, v)| v == value)
        .map_or("?", |(w, _)| *w)
}

/// A per-second rate: plain decimal digits, 0 meaning no limit.
pub fn rate(value: &str) -> Result<u32, String> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{value}' is not a whole number (0 turns the limit off)"
        ));
    }
    value
        .parse()
        .map_err(|_| format!("'{value}' is too large (at most {})", u32::MAX))
}

/// Linux `dev_valid_name` (net/core/dev.c): 1..15 bytes (IFNAMSIZ 16 with the NUL), not
/// `.` or `..`, no `/`, `:` or whitespace.
pub fn device(value: &str) -> Result<(), String> {
    let problem = if value.is_empty() {
        Some("must not be empty")
    } else if value.len() > 15 {
        Some("is longer than 15 bytes")
    } else if value == "." || value == ".." {
        Some("is not a device name")
    } else if value
        .bytes()
        .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace())
    {
        Some("contains '/', ':' or whitespace")
    } else {
        None
    };
    match problem {
        Some(p) => Err(format!("device name '{value}' {p}")),
        None => Ok(()),
    }
}

/// An IPv6 prefix parsed from the file, with what had to be fixed about it.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedPrefix {
    pub net: Ipv6Net,
    /// Set when host bits were given and cleared (2001:db8::5/64 -> 2001:db8::/64).
    pub truncated_from: Option<String>,
}

/// `ADDR/LEN` or a bare `ADDR` (meaning /128), IPv6 only.
pub fn ipv6_prefix(value: &str) -> Result<ParsedPrefix, String> {
    let (addr_text, len_text) = match value.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (value, None),
    };
    let Ok(addr) = addr_text.parse::<Ipv6Addr>() else {
        if addr_text.parse::<Ipv4Addr>().is_ok() {
            return Err(format!(
                "'{value}' is IPv4; only IPv6 prefixes can be answered for"
            ));
        }
        return Err(format!(
            "'{value}' is not an IPv6 prefix (expected e.g. 2001:db8::/64 or 2001:db8::1)"
        ));
    };
    let len = match len_text {
        None => 128,
        Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
            l.parse::<u8>().unwrap_or(u8::MAX)
        }
        Some(_) => return Err(format!("'{value}' has an invalid prefix length")),
    };
    let net =
        Ipv6Net::new(addr, len).map_err(|_| format!("'{value}' has a prefix length over 128"))?;
    let trunc = net.trunc();
    Ok(ParsedPrefix {
        net: trunc,
        truncated_from: (trunc != net).then(|| value.to_string()),
    })
}

/// Whether the union of `excludes` covers all of `prefix`: halve the prefix until each
/// part is inside one exclude or touches none.
pub fn fully_excluded(prefix: &Ipv6Net, excludes: &[Ipv6Net]) -> bool {
    if excludes.iter().any(|e| e.contains(prefix)) {
        return true;
    }
    if !excludes.iter().any(|e| prefix.contains(e)) {
        return false;
    }
    match prefix.subnets(prefix.prefix_len() + 1) {
        Ok(halves) => halves
            .into_iter()
            .all(|half| fully_excluded(&half, excludes)),
        Err(_) => false,
    }
}

/// Whether two prefixes share any address.
pub fn overlaps(a: &Ipv6Net, b: &Ipv6Net) -> bool {
    a.contains(b) || b.contains(a)
}
