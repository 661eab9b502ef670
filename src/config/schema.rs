//! The UCI schema in one table: every option of `/etc/config/ndpresponder` with its section
//! type, value type, default and help. The UCI reader takes the option names and defaults
//! from it, the command line its defaults, `ndpresponder check` its layout, and the README's
//! schema table is [`markdown`]'s output (a test keeps the two equal).

use super::values::{word_for, HOSTS_MODES, LOG_LEVELS, SOURCE_POLICIES};
use super::{Config, LogLevel, RangeOrigin, RateLimit, SourcePolicy, UplinkConfig};
use ipnet::Ipv6Net;

/// Section type of the global settings.
pub const GLOBAL_TYPE: &str = "ndpresponder";
/// Section type of one uplink.
pub const UPLINK_TYPE: &str = "uplink";

/// What an option holds; the payload is its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool(bool),
    LogLevel(LogLevel),
    Source(SourcePolicy),
    /// Per second, burst the same; 0 = no limit.
    Rate(u32),
    /// A Linux device name: required.
    Device,
    /// Free text, optional.
    Text,
    /// IPv6 prefixes, `list` or `option`, optional.
    Prefixes,
    /// Device names, `list` or `option`, optional.
    Devices,
    /// A hosts policy; unset means each origin's default ([`RangeOrigin::default_hosts`]).
    Hosts,
    /// netifd logical interface names, `list` or `option`, optional.
    Interfaces,
}

/// How `check` shows an option's effective value.
#[derive(Clone, Copy)]
pub enum Shown {
    Global(fn(&Config) -> String),
    Uplink(fn(&UplinkConfig) -> String),
    /// Not shown: only enabled uplinks are printed.
    Never,
}

/// One option of the schema.
#[derive(Clone, Copy)]
pub struct Row {
    pub section: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub shown: Shown,
}

/// Global defaults.
pub const GLOBAL_ENABLED: bool = true;
pub const LOG_LEVEL: LogLevel = LogLevel::Info;
/// Uplink defaults, for UCI and command-line uplinks alike.
pub const UPLINK_ENABLED: bool = true;
pub const SOURCE: SourcePolicy = SourcePolicy::Target;
pub const ROUTER: bool = true;
pub const OVERRIDE: bool = false;
pub const ANNOUNCE: bool = false;
/// Answers per second per uplink: far above what a router resolves in normal operation,
/// low enough to bound a scan's damage to neighbour caches.
pub const RATE_LIMIT: u32 = 10_000;
/// Answers per second to one NS source address.
pub const SOURCE_RATE_LIMIT: u32 = 1_000;

pub const GLOBAL: [Row; 2] = [
    Row {
        section: GLOBAL_TYPE,
        name: "enabled",
        kind: Kind::Bool(GLOBAL_ENABLED),
        help: "With 0 the daemon runs but answers nothing.",
        shown: Shown::Global(|c| yes_no(c.enabled)),
    },
    Row {
        section: GLOBAL_TYPE,
        name: "log_level",
        kind: Kind::LogLevel(LOG_LEVEL),
        help: "Syslog threshold.",
        shown: Shown::Global(|c| word_for(&LOG_LEVELS, &c.log_level).to_string()),
    },
];

pub const UPLINK: [Row; 14] = [
    Row {
        section: UPLINK_TYPE,
        name: "enabled",
        kind: Kind::Bool(UPLINK_ENABLED),
        help: "Disabled uplinks are ignored; their problems are only warnings.",
        shown: Shown::Never,
    },
    Row {
        section: UPLINK_TYPE,
        name: "device",
        kind: Kind::Device,
        help: "The device the Neighbor Solicitations arrive on: 1..15 bytes, no '/', ':' or \
               whitespace. Two enabled uplinks may not share a device.",
        shown: Shown::Uplink(|u| u.device.clone()),
    },
    Row {
        section: UPLINK_TYPE,
        name: "interface",
        kind: Kind::Text,
        help: "netifd logical interface ('wan'); used by the procd triggers.",
        shown: Shown::Uplink(|u| u.interface.as_deref().unwrap_or("-").to_string()),
    },
    Row {
        section: UPLINK_TYPE,
        name: "prefix",
        kind: Kind::Prefixes,
        help: "Prefixes to answer for (static ranges); items may also be space-separated. A \
               bare address means /128; host bits are cleared with a warning; IPv4 is an \
               error. Required unless 'downstream' \
               or 'prefix_from' is given.",
        shown: Shown::Uplink(|u| nets(&u.prefixes)),
    },
    Row {
        section: UPLINK_TYPE,
        name: "prefix_from",
        kind: Kind::Interfaces,
        help: "netifd interfaces ('lan', 'wan6') whose current prefixes are answered for \
               too: their ipv6-prefix-assignment entries (ip6assign, extendprefix) and \
               ipv6-prefix entries (a delegated prefix), followed over ubus as netifd \
               changes them. Their hosts are looked for on the devices netifd assigned the \
               prefixes to. Excludes apply to them as well.",
        shown: Shown::Uplink(|u| names(&u.prefix_from)),
    },
    Row {
        section: UPLINK_TYPE,
        name: "exclude",
        kind: Kind::Prefixes,
        help: "Prefixes not answered for, in static, netifd or routed ranges. Without \
               'downstream' and 'prefix_from', one outside every prefix is a warning and \
               excludes covering all the prefixes are an error.",
        shown: Shown::Uplink(|u| nets(&u.excludes)),
    },
    Row {
        section: UPLINK_TYPE,
        name: "downstream",
        kind: Kind::Devices,
        help: "Devices behind this host (br-lan, docker0): a target whose route in the main \
               table leaves through one of them, and not through the uplink, is answered \
               for. Followed live from rtnetlink; never the uplink's own device.",
        shown: Shown::Uplink(|u| match u.downstreams.is_empty() {
            true => "-".to_string(),
            false => u.downstreams.join(" "),
        }),
    },
    Row {
        section: UPLINK_TYPE,
        name: "hosts",
        kind: Kind::Hosts,
        help: "Which addresses of a range are answered for. any: all; known: hosts with a \
               neighbour entry on a downstream device, or for a netifd prefix on the device \
               netifd assigned it to (the interface's l3_device); probe: known, or found by \
               probing. known and probe need a 'downstream' or a 'prefix_from'.",
        shown: Shown::Uplink(hosts),
    },
    Row {
        section: UPLINK_TYPE,
        name: "announce",
        kind: Kind::Bool(ANNOUNCE),
        help: "Announce a host that appears on a downstream device (or a prefix_from \
               interface's device) in a range: an unsolicited NA on the uplink and an NS from \
               it to the default router; every such host again when the uplink comes back, \
               its default router changes or its ranges change. Needs a 'downstream' or a \
               'prefix_from'.",
        shown: Shown::Uplink(|u| yes_no(u.announce)),
    },
    Row {
        section: UPLINK_TYPE,
        name: "source",
        kind: Kind::Source(SOURCE),
        help: "IPv6 source of the NA. target: the solicited address itself (passes \
               hypervisor anti-spoofing filters); link-local: the uplink's link-local \
               address, as the kernel's proxy_ndp; auto: link-local when the NS came from \
               a link-local address, else target.",
        shown: Shown::Uplink(|u| word_for(&SOURCE_POLICIES, &u.source).to_string()),
    },
    Row {
        section: UPLINK_TYPE,
        name: "router",
        kind: Kind::Bool(ROUTER),
        help: "The NA Router flag (RFC 4861 section 4.4).",
        shown: Shown::Uplink(|u| yes_no(u.router)),
    },
    Row {
        section: UPLINK_TYPE,
        name: "override",
        kind: Kind::Bool(OVERRIDE),
        help: "The NA Override flag; proxies should leave it clear (RFC 4861 section 7.2.8).",
        shown: Shown::Uplink(|u| yes_no(u.override_flag)),
    },
    Row {
        section: UPLINK_TYPE,
        name: "rate_limit",
        kind: Kind::Rate(RATE_LIMIT),
        help: "NAs per second on this uplink, burst the same.",
        shown: Shown::Uplink(|u| limit(u.rate_limit)),
    },
    Row {
        section: UPLINK_TYPE,
        name: "source_rate_limit",
        kind: Kind::Rate(SOURCE_RATE_LIMIT),
        help: "NAs per second in answer to any one NS source.",
        shown: Shown::Uplink(|u| limit(u.source_rate_limit)),
    },
];

/// A rate limit with its burst, as the defaults and both configuration sources build it.
pub fn rate_limit(rate: u32) -> RateLimit {
    RateLimit { rate, burst: rate }
}

impl Kind {
    /// The value type, as the README's table says it.
    pub fn type_text(&self) -> String {
        match self {
            Kind::Bool(_) => "boolean".to_string(),
            Kind::LogLevel(_) => words(&LOG_LEVELS),
            Kind::Source(_) => words(&SOURCE_POLICIES),
            Kind::Rate(_) => "whole number, 0 = no limit".to_string(),
            Kind::Device => "device name".to_string(),
            Kind::Text => "text".to_string(),
            Kind::Prefixes => "IPv6 prefixes (list)".to_string(),
            Kind::Devices => "device names (list)".to_string(),
            Kind::Hosts => words(&HOSTS_MODES),
            Kind::Interfaces => "netifd interface names (list)".to_string(),
        }
    }

    /// The default as it would be written in the file (Markdown code), or whether the option
    /// is required.
    pub fn default_text(&self) -> String {
        match self {
            Kind::Bool(b) => format!("`{}`", u8::from(*b)),
            Kind::LogLevel(l) => format!("`{}`", word_for(&LOG_LEVELS, l)),
            Kind::Source(s) => format!("`{}`", word_for(&SOURCE_POLICIES, s)),
            Kind::Rate(n) => format!("`{n}`"),
            Kind::Device => "required".to_string(),
            Kind::Text | Kind::Prefixes | Kind::Devices | Kind::Interfaces => "none".to_string(),
            Kind::Hosts => format!(
                "`{}` for prefixes, `{}` for netifd prefixes, `{}` for routed ranges",
                word_for(&HOSTS_MODES, &RangeOrigin::Static.default_hosts()),
                word_for(&HOSTS_MODES, &RangeOrigin::Netifd.default_hosts()),
                word_for(&HOSTS_MODES, &RangeOrigin::Route.default_hosts())
            ),
        }
    }
}

fn words<T>(table: &[(&str, T)]) -> String {
    table
        .iter()
        .map(|(w, _)| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The schema as the README's Markdown table.
pub fn markdown() -> String {
    let mut out = String::from("| section | option | type | default | meaning |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for row in GLOBAL.iter().chain(&UPLINK) {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            row.section,
            row.name,
            row.kind.type_text(),
            row.kind.default_text(),
            row.help
        ));
    }
    out
}

/// The policy, or with `hosts` unset the default of each origin.
pub fn hosts(u: &UplinkConfig) -> String {
    match u.hosts {
        Some(mode) => word_for(&HOSTS_MODES, &mode).to_string(),
        None => format!(
            "{} (static), {} (netifd), {} (routed)",
            word_for(&HOSTS_MODES, &RangeOrigin::Static.default_hosts()),
            word_for(&HOSTS_MODES, &RangeOrigin::Netifd.default_hosts()),
            word_for(&HOSTS_MODES, &RangeOrigin::Route.default_hosts())
        ),
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
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

fn names(list: &[String]) -> String {
    if list.is_empty() {
        return "-".to_string();
    }
    list.join(" ")
}

fn limit(l: RateLimit) -> String {
    if l.rate == 0 {
        "off".to_string()
    } else {
        format!("{}/s burst {}", l.rate, l.burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's schema table is this table's rendering, not a second copy kept by hand.
    #[test]
    fn readme_table_is_the_rendered_schema() {
        let readme = include_str!("../../README.md");
        let begin = "<!-- uci-schema: generated from src/config/schema.rs -->\n";
        let end = "<!-- /uci-schema -->";
        let start = readme.find(begin).expect("README has the schema marker") + begin.len();
        let stop = start + readme[start..].find(end).expect("README closes the table");
        assert_eq!(
            &readme[start..stop],
            markdown(),
            "README.md's UCI table differs from the schema; paste the new rendering:\n{}",
            markdown()
        );
    }
}
