//! The effective configuration as `ndpresponder check` prints it.

use super::values::{word_for, HOSTS_MODES, LOG_LEVELS, SOURCE_POLICIES};
use super::{Config, RangeOrigin, RateLimit, UplinkConfig};
use ipnet::Ipv6Net;
use std::fmt::Write;

/// Human-readable and stable (same config, same text): every setting of every uplink,
/// defaults included, so a user sees what the daemon will actually do.
pub fn render(config: &Config) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "enabled: {}", yes_no(config.enabled));
    let _ = writeln!(
        out,
        "log_level: {}",
        word_for(&LOG_LEVELS, &config.log_level)
    );
    if config.uplinks.is_empty() {
        out.push_str("uplinks: none\n");
    }
    for u in &config.uplinks {
        let _ = writeln!(out, "uplink {}:", u.name);
        let _ = writeln!(out, "  device: {}", u.device);
        let _ = writeln!(
            out,
            "  interface: {}",
            u.interface.as_deref().unwrap_or("-")
        );
        let _ = writeln!(out, "  prefixes: {}", nets(&u.prefixes));
        let _ = writeln!(out, "  excludes: {}", nets(&u.excludes));
        let downstreams = match u.downstreams.is_empty() {
            true => "-".to_string(),
            false => u.downstreams.join(" "),
        };
        let _ = writeln!(out, "  downstreams: {downstreams}");
        let _ = writeln!(out, "  hosts: {}", hosts(u));
        let _ = writeln!(out, "  announce: {}", yes_no(u.announce));
        let _ = writeln!(out, "  source: {}", word_for(&SOURCE_POLICIES, &u.source));
        let _ = writeln!(out, "  router: {}", yes_no(u.router));
        let _ = writeln!(out, "  override: {}", yes_no(u.override_flag));
        let _ = writeln!(out, "  rate_limit: {}", limit(u.rate_limit));
        let _ = writeln!(out, "  source_rate_limit: {}", limit(u.source_rate_limit));
    }
    out
}

/// The policy, or with `hosts` unset the default of each origin.
pub fn hosts(u: &UplinkConfig) -> String {
    match u.hosts {
        Some(mode) => word_for(&HOSTS_MODES, &mode).to_string(),
        None => format!(
            "{} (static), {} (routed)",
            word_for(&HOSTS_MODES, &RangeOrigin::Static.default_hosts()),
            word_for(&HOSTS_MODES, &RangeOrigin::Route.default_hosts())
        ),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn nets(list: &[Ipv6Net]) -> String {
    if list.is_empty() {
        return "-".to_string();
    }
    list.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn limit(l: RateLimit) -> String {
    if l.rate == 0 {
        "off".to_string()
    } else {
        format!("{}/s burst {}", l.rate, l.burst)
    }
}
