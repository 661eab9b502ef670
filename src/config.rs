//! The typed, validated configuration the daemon runs on.
//!
//! It is built from command-line flags or from a UCI file (see `uci`), and is the input of
//! the decision core. Validation errors name where they come from (file:line, section,
//! option) so a user can fix them without reading code.

use ipnet::Ipv6Net;

/// Which IPv6 source address the NA leaves from (default: `schema::SOURCE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourcePolicy {
    /// The solicited target address itself: passes anti-spoofing filters that only allow
    /// the host's own /64 (the reason this project exists).
    Target,
    /// The uplink's link-local address, as the kernel's proxy_ndp does.
    LinkLocal,
    /// Link-local when the NS came from a link-local address, else the target.
    Auto,
}

/// Which addresses of a range are answered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostsMode {
    /// Every address in the range.
    Any,
    /// Only addresses with a usable neighbour entry on a downstream device (or assigned to
    /// one): answering for all 2^64 addresses of a routed /64 would let anyone fill the
    /// upstream router's neighbour cache.
    Known,
    /// As `Known`, and an unknown target is probed on the downstream device; the NS is
    /// answered once the host answers (see `core::probe`).
    Probe,
}

/// Where a range comes from; the hosts policy defaults differ by origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeOrigin {
    /// A configured `prefix`.
    Static,
    /// A current prefix of a `prefix_from` interface, as netifd reports it.
    Netifd,
    /// A route of the main table through a downstream device.
    Route,
}

impl RangeOrigin {
    /// The policy when `hosts` is not set: static prefixes were chosen by the user, often
    /// narrow, and answered whole as before; a delegated or routed range is usually a
    /// whole /64 or wider, and answering for all of it lets anyone fill the upstream
    /// router's neighbour cache.
    pub fn default_hosts(self) -> HostsMode {
        match self {
            RangeOrigin::Static => HostsMode::Any,
            RangeOrigin::Netifd | RangeOrigin::Route => HostsMode::Known,
        }
    }
}

/// What netifd currently gives an uplink through its `prefix_from` interfaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetifdRanges {
    /// The interfaces' prefixes (assignments and received prefixes).
    pub prefixes: Vec<Ipv6Net>,
    /// The devices the hosts of those prefixes are on: where `known` and `probe` look for
    /// them, as they look on the downstream devices for routed ranges.
    pub devices: Vec<String>,
}

/// Token bucket parameters; `rate == 0` disables the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Tokens added per second.
    pub rate: u32,
    /// Bucket size.
    pub burst: u32,
}

/// What one uplink answers for and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UplinkConfig {
    /// UCI section name (or the device name for command-line uplinks).
    pub name: String,
    /// Linux network device, e.g. `eth0`.
    pub device: String,
    /// Optional netifd logical interface (`wan`), used by the procd triggers.
    pub interface: Option<String>,
    /// The static `prefix` list.
    pub prefixes: Vec<Ipv6Net>,
    pub excludes: Vec<Ipv6Net>,
    /// Devices behind this host (`br-lan`, `docker0`): a target whose route in the main
    /// table leaves through one of them, and not through the uplink, is answered for.
    pub downstreams: Vec<String>,
    /// Hosts policy for every range of this uplink; `None` = by origin
    /// ([`RangeOrigin::default_hosts`]).
    pub hosts: Option<HostsMode>,
    /// Announce hosts that appear on a downstream device in a range (see `core::announce`).
    pub announce: bool,
    /// netifd interfaces whose current prefixes are answered for as well.
    pub prefix_from: Vec<String>,
    /// Their current prefixes and host devices: filled in by the daemon as netifd reports
    /// them, empty in a configuration as read.
    pub netifd: NetifdRanges,
    pub source: SourcePolicy,
    /// NA Router flag (RFC 4861 section 4.4); default on.
    pub router: bool,
    /// NA Override flag; proxies SHOULD clear it (RFC 4861 section 7.2.8); default off.
    pub override_flag: bool,
    /// Limit on NAs sent on this uplink.
    pub rate_limit: RateLimit,
    /// Limit on NAs sent in answer to any one source address.
    pub source_rate_limit: RateLimit,
}

/// Log verbosity, in syslog order (default: `schema::LOG_LEVEL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warning,
    Notice,
    Info,
    Debug,
}

impl UplinkConfig {
    /// Uplink `name` on `device` with every other option at its default (`schema`): no
    /// interface, ranges, excludes, downstreams or `prefix_from`; hosts by origin.
    pub fn new(name: impl Into<String>, device: impl Into<String>) -> UplinkConfig {
        UplinkConfig {
            name: name.into(),
            device: device.into(),
            interface: None,
            prefixes: Vec::new(),
            excludes: Vec::new(),
            downstreams: Vec::new(),
            hosts: None,
            announce: schema::ANNOUNCE,
            prefix_from: Vec::new(),
            netifd: NetifdRanges::default(),
            source: schema::SOURCE,
            router: schema::ROUTER,
            override_flag: schema::OVERRIDE,
            rate_limit: schema::rate_limit(schema::RATE_LIMIT),
            source_rate_limit: schema::rate_limit(schema::SOURCE_RATE_LIMIT),
        }
    }

    /// The hosts policy for a range of `origin`.
    pub fn hosts_for(&self, origin: RangeOrigin) -> HostsMode {
        self.hosts.unwrap_or(origin.default_hosts())
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub enabled: bool,
    pub log_level: LogLevel,
    pub uplinks: Vec<UplinkConfig>,
}

mod diagnostic;
mod from_uci;
mod render;
pub mod schema;
pub mod values;

#[cfg(test)]
mod tests;

pub use diagnostic::{ConfigError, Diagnostic, Loaded};
pub use from_uci::{from_uci, from_uci_text};
pub use render::render;

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: schema::GLOBAL_ENABLED,
            log_level: schema::LOG_LEVEL,
            uplinks: Vec::new(),
        }
    }
}
