//! The `status` and `explain` parts about ranges: where each range comes from (a
//! configured prefix, a netifd interface's prefix, or a route via a downstream device) and
//! where its hosts are looked for, the route and host tables' sizes and limits, and why an
//! address is or is not answered.

use super::uplink::{follow_view, Kernel, Uplink};
use super::State;
use crate::config::values::{word_for, HOSTS_MODES};
use crate::config::RangeOrigin;
use crate::core::follow::{self, Lookup, NotDownstream, Range};
use crate::core::probe::ProbeState;
use crate::core::responder::{self, RuleLookup};
use crate::state::{hosts, routes};
use crate::sys::time::monotonic_ns;
use crate::ubus::BlobmsgBuilder;
use std::net::Ipv6Addr;

/// Route-derived ranges listed per uplink at most; a host with thousands of /128 routes
/// would otherwise make `status` too large for one ubus message.
const RANGES_SHOWN: usize = 128;

fn kernel(state: &State) -> Kernel<'_> {
    Kernel {
        links: &state.links,
        routes: &state.routes,
        hosts: &state.hosts,
        probe: None,
    }
}

fn uplink_ifindex(state: &State, u: &Uplink) -> u32 {
    state
        .links
        .by_name(&u.config().device)
        .map_or(0, |(i, _)| i)
}

fn device_name(state: &State, ifindex: u32) -> String {
    state
        .links
        .get(ifindex)
        .map_or_else(|| format!("ifindex {ifindex}"), |l| l.name.to_string())
}

fn hosts_word(u: &Uplink, origin: RangeOrigin) -> &'static str {
    word_for(&HOSTS_MODES, &u.config().hosts_for(origin))
}

/// Where prefix `range` of uplink `u`'s rules comes from: a `prefix` of its configuration
/// (`static`), or the current prefixes of one of its `prefix_from` interfaces (`netifd`,
/// with the interface's name and the devices its hosts are looked for on).
fn put_prefix_origin(b: &mut BlobmsgBuilder, state: &State, u: &Uplink, range: &Range) {
    let Range::Netifd(net) = range else {
        b.put_string("origin", "static");
        return;
    };
    let cfg = u.config();
    b.put_string("origin", "netifd");
    if let Some(name) = state.netifd.prefixes.origin(&cfg.prefix_from, net) {
        b.put_string("interface", name);
        let a = b.open_array("host_devices");
        for d in state.netifd.prefixes.devices_of(name) {
            b.put_string("", d);
        }
        b.close(a);
    }
}

/// Daemon-wide: the route and host tables' sizes, limits and refusals.
pub fn put_tables(b: &mut BlobmsgBuilder, state: &State) {
    let t = b.open_table("routes");
    b.put_u32("count", state.routes.len() as u32);
    b.put_u32("limit", routes::MAX_ROUTES as u32);
    b.put_u64("refused", state.routes.refused());
    b.close(t);
    let t = b.open_table("hosts");
    b.put_u32("count", state.hosts.len() as u32);
    b.put_u32("limit", hosts::MAX_HOSTS as u32);
    b.put_u64("refused", state.hosts.refused());
    b.close(t);
}

/// Per uplink: its downstream devices, the hosts policy of each origin, and every range
/// with where it comes from.
pub fn put_uplink(b: &mut BlobmsgBuilder, state: &State, u: &Uplink) {
    let cfg = u.config();
    let a = b.open_array("downstreams");
    for name in &cfg.downstreams {
        let t = b.open_table("");
        b.put_string("device", name);
        match state.links.by_name(name) {
            Some((ifindex, link)) => {
                b.put_u32("ifindex", ifindex);
                b.put_bool("link_up", link.up);
            }
            None => b.put_bool("present", false),
        }
        b.close(t);
    }
    b.close(a);
    b.put_string("hosts_static", hosts_word(u, RangeOrigin::Static));
    b.put_string("hosts_netifd", hosts_word(u, RangeOrigin::Netifd));
    b.put_string("hosts_routed", hosts_word(u, RangeOrigin::Route));
    if !u.devices.hosts.is_empty() {
        b.put_u32("known_hosts", state.hosts.count_on(&u.devices.hosts) as u32);
    }
    if let Some(prober) = &u.prober {
        let c = prober.counters();
        let t = b.open_table("probes");
        b.put_u32("in_flight", prober.in_flight(monotonic_ns()) as u32);
        b.put_u64("sent", c.sent);
        b.put_u64("answered", c.answered);
        b.put_u64("unanswered", c.unanswered);
        b.put_u64("refused", c.refused);
        b.close(t);
    }
    if let Some(announcer) = &u.announcer {
        let c = announcer.counters();
        let t = b.open_table("announcements");
        b.put_u64("sent", c.sent);
        b.put_u64("refused", c.refused);
        b.put_u64("sweeps", c.sweeps);
        b.put_u64("swept", c.swept);
        b.put_bool("sweep_pending", announcer.sweep_due().is_some());
        b.close(t);
    }
    let a = b.open_array("ranges");
    let configured = cfg.prefixes.iter().map(|p| Range::Static(*p));
    for range in configured.chain(cfg.netifd.prefixes.iter().map(|p| Range::Netifd(*p))) {
        let t = b.open_table("");
        b.put_string("range", &range.net().to_string());
        put_prefix_origin(b, state, u, &range);
        b.put_string("hosts", hosts_word(u, range.origin()));
        b.close(t);
    }
    let kernel = kernel(state);
    let view = follow_view(cfg, &u.devices, &kernel, uplink_ifindex(state, u));
    let mut hidden = 0u32;
    let mut shown = 0usize;
    let routed = view.iter().flat_map(|view| {
        state.routes.iter().filter_map(move |r| {
            let via = follow::classify(view, r).ok()?;
            (!follow::is_link_local(&r.dst.network())).then_some((r.dst, via))
        })
    });
    for (dst, via) in routed {
        if shown == RANGES_SHOWN {
            hidden += 1;
            continue;
        }
        shown += 1;
        let t = b.open_table("");
        b.put_string("range", &dst.to_string());
        b.put_string("origin", "route");
        b.put_string("device", &device_name(state, via));
        b.put_string("hosts", hosts_word(u, RangeOrigin::Route));
        b.close(t);
    }
    b.close(a);
    if hidden > 0 {
        b.put_u32("ranges_not_shown", hidden);
    }
}

/// The rule lookup for `address` on uplink `u` (whose device has `addresses`), as the
/// packet path would make it now.
pub fn lookup(state: &State, u: &Uplink, addresses: &[Ipv6Addr], address: &Ipv6Addr) -> RuleLookup {
    let kernel = kernel(state);
    let view = follow_view(u.config(), &u.devices, &kernel, uplink_ifindex(state, u));
    responder::lookup(u.config(), addresses, view.as_ref(), address)
}

/// The devices hosts are looked for on, for a person: the downstream devices and those
/// netifd names for the `prefix_from` prefixes, as they exist now.
fn host_devices_text(state: &State, u: &Uplink) -> String {
    match u.devices.hosts.is_empty() {
        true => "the host devices (none exists now: neither a downstream device nor a \
                 device netifd names for the prefix_from interfaces)"
            .to_string(),
        false => {
            let names: Vec<String> = u
                .devices
                .hosts
                .iter()
                .map(|i| device_name(state, *i))
                .collect();
            names.join(", ")
        }
    }
}

/// Why a routed range or the hosts policy refused `address`, for a person; `None` for the
/// other reasons, which the reasons table describes.
pub fn reason(state: &State, u: &Uplink, lookup: &Lookup, address: &Ipv6Addr) -> Option<String> {
    Some(match lookup {
        Lookup::OutOfRange if !u.config().downstreams.is_empty() => {
            "out_of_range: inside no configured prefix and no route in the main table".to_string()
        }
        Lookup::NotDownstream { why, .. } => match why {
            NotDownstream::Uplink => "not_downstream: route points at the uplink".to_string(),
            NotDownstream::OtherDevice(i) => format!(
                "not_downstream: route points at {}, not a downstream device",
                device_name(state, *i)
            ),
            NotDownstream::Dropped(kind) => format!(
                "not_downstream: the route is {}; the kernel drops the traffic",
                kind.as_str()
            ),
            NotDownstream::NoDevice => "not_downstream: the route's device is not known \
                 (a nexthop object, or more nexthops than are kept)"
                .to_string(),
        },
        Lookup::UnknownHost { .. } => {
            let devices = host_devices_text(state, u);
            match u.prober.as_ref().map(|p| p.state(address, monotonic_ns())) {
                Some(Some(ProbeState::InFlight)) => {
                    format!("unknown_host: probe in flight (hosts are looked for on {devices})")
                }
                Some(Some(ProbeState::Unanswered)) => {
                    "unknown_host: probe unanswered (no host answered at this address)".to_string()
                }
                Some(None) => format!(
                    "unknown_host: no neighbour entry on {devices}; an NS for it starts a probe"
                ),
                None => format!("unknown_host: hosts 'known', and no neighbour entry on {devices}"),
            }
        }
        Lookup::Answer { .. } | Lookup::OutOfRange | Lookup::Excluded { .. } => return None,
    })
}

/// The range facts of `lookup`: which range, where it comes from, its hosts policy, and
/// the route that was not downstream.
pub fn put_lookup(b: &mut BlobmsgBuilder, state: &State, u: &Uplink, lookup: &Lookup) {
    let range = match lookup {
        Lookup::Answer { range, .. }
        | Lookup::Excluded { range, .. }
        | Lookup::UnknownHost { range } => Some(range),
        Lookup::NotDownstream { dst, .. } => {
            b.put_string("route", &dst.to_string());
            None
        }
        Lookup::OutOfRange => None,
    };
    if let Some(range) = range {
        b.put_string("rule", &range.net().to_string());
        match range {
            Range::Static(_) | Range::Netifd(_) => put_prefix_origin(b, state, u, range),
            // Not "device": the uplink entry this goes into already names its own device.
            Range::Route { ifindex, .. } => {
                b.put_string("origin", "route");
                b.put_string("route_device", &device_name(state, *ifindex));
            }
        }
        b.put_string("hosts", hosts_word(u, range.origin()));
    }
    if let Lookup::Excluded { exclude, .. } = lookup {
        b.put_string("exclude", &exclude.to_string());
    }
}
