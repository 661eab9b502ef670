//! Which range, if any, makes a target ours to answer: a configured prefix, a netifd
//! interface's prefix, or the route the kernel would use for it when that route leaves
//! through a downstream device; and then whether the hosts policy lets it through. Pure: the daemon passes a view of the route
//! and neighbour tables it keeps from rtnetlink; nothing here allocates.

use crate::config::{HostsMode, RangeOrigin, UplinkConfig};
use crate::core::responder::{coverage, Coverage};
use crate::state::hosts::HostTable;
use crate::state::links::Links;
use crate::state::routes::{Route, RouteKind, RouteTable};
use ipnet::Ipv6Net;
use std::net::Ipv6Addr;

/// What the kernel knows that the route-derived ranges and the `known` policy need.
#[derive(Clone, Copy, Debug)]
pub struct FollowView<'a> {
    /// The uplink's current ifindex (0 while it has none).
    pub uplink: u32,
    /// Current ifindexes of the configured downstream devices that exist: routes through
    /// them make ranges.
    pub downstreams: &'a [u32],
    /// Where hosts count as known: the downstream devices, and the devices netifd says the
    /// `prefix_from` prefixes' hosts are on.
    pub host_devices: &'a [u32],
    pub routes: &'a RouteTable,
    pub hosts: &'a HostTable,
    /// For the host's own addresses on downstream devices: a host that exists too.
    pub links: &'a Links,
}

/// The range a target falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// A configured prefix.
    Static(Ipv6Net),
    /// A current prefix of a `prefix_from` interface.
    Netifd(Ipv6Net),
    /// A route of the main table through downstream device `ifindex`.
    Route { dst: Ipv6Net, ifindex: u32 },
}

impl Range {
    pub fn net(&self) -> Ipv6Net {
        match self {
            Range::Static(net) | Range::Netifd(net) | Range::Route { dst: net, .. } => *net,
        }
    }

    pub fn origin(&self) -> RangeOrigin {
        match self {
            Range::Static(_) => RangeOrigin::Static,
            Range::Netifd(_) => RangeOrigin::Netifd,
            Range::Route { .. } => RangeOrigin::Route,
        }
    }
}

/// Why the route the kernel would use does not make a target ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotDownstream {
    /// A nexthop leaves through the uplink: answering would loop the traffic back out.
    Uplink,
    /// It leaves through a device that is not a configured downstream.
    OtherDevice(u32),
    /// An unreachable, blackhole, prohibit or throw route: the kernel drops the traffic.
    Dropped(RouteKind),
    /// No device is known for it (a nexthop object, or more nexthops than are kept).
    NoDevice,
}

/// The decision for one target, before rate limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Ours, in `range`, under `hosts`.
    Answer { range: Range, hosts: HostsMode },
    /// In `range`, but inside an exclude.
    Excluded { range: Range, exclude: Ipv6Net },
    /// In no prefix, and there are no downstreams or no route at all.
    OutOfRange,
    /// In no prefix, and the route for it (`dst`) is not through a downstream.
    NotDownstream { dst: Ipv6Net, why: NotDownstream },
    /// In `range`, whose policy is `known` or `probe`, but no host device has a neighbour
    /// entry for it.
    UnknownHost { range: Range },
}

/// Link-local addresses (fe80::/10) are valid on one link only (RFC 4291 section 2.5.6):
/// one behind a downstream device is never reachable from the uplink.
pub fn is_link_local(addr: &Ipv6Addr) -> bool {
    addr.segments()[0] & 0xffc0 == 0xfe80
}

/// Where `route` leaves: the downstream device it makes a range for, or why it makes none.
pub fn classify(view: &FollowView<'_>, route: &Route) -> Result<u32, NotDownstream> {
    if route.kind != RouteKind::Unicast {
        Err(NotDownstream::Dropped(route.kind))
    } else if route.truncated {
        Err(NotDownstream::NoDevice)
    } else if view.uplink != 0 && route.oifs().any(|o| o == view.uplink) {
        Err(NotDownstream::Uplink)
    } else if let Some(ifindex) = route.oifs().find(|o| view.downstreams.contains(o)) {
        Ok(ifindex)
    } else if let Some(other) = route.oifs().next() {
        Err(NotDownstream::OtherDevice(other))
    } else {
        Err(NotDownstream::NoDevice)
    }
}

/// The route-derived range for `target`, or why there is none.
fn route_range(view: &FollowView<'_>, target: &Ipv6Addr) -> Result<Range, Lookup> {
    if is_link_local(target) || view.downstreams.is_empty() {
        return Err(Lookup::OutOfRange);
    }
    let Some(route) = view.routes.lookup(target) else {
        return Err(Lookup::OutOfRange);
    };
    match classify(view, route) {
        Ok(ifindex) => Ok(Range::Route {
            dst: route.dst,
            ifindex,
        }),
        Err(why) => Err(Lookup::NotDownstream {
            dst: route.dst,
            why,
        }),
    }
}

/// Whether `target` is a host on a host device: a usable neighbour entry there, or one of
/// the host devices' own addresses.
pub fn is_known(view: &FollowView<'_>, target: &Ipv6Addr) -> bool {
    view.hosts.known_on(target, view.host_devices)
        || view.host_devices.iter().any(|i| {
            view.links
                .get(*i)
                .is_some_and(|l| l.addresses.contains(target))
        })
}

/// The whole decision for `target` on an uplink configured as `cfg`. Without a view (no
/// downstreams and no `prefix_from` configured) only the prefixes count. Kept out of line: the packet
/// path, `explain` and announcements share one copy (on MIPS each inlined copy costs
/// about 2 KiB of the binary).
#[inline(never)]
pub fn lookup(cfg: &UplinkConfig, view: Option<&FollowView<'_>>, target: &Ipv6Addr) -> Lookup {
    let range = match coverage(cfg, target) {
        Coverage::Covered(range) => range,
        Coverage::Excluded { range, exclude } => return Lookup::Excluded { range, exclude },
        Coverage::OutOfRange => {
            let Some(view) = view else {
                return Lookup::OutOfRange;
            };
            let range = match route_range(view, target) {
                Ok(range) => range,
                Err(why) => return why,
            };
            if let Some(exclude) = cfg.excludes.iter().find(|x| x.contains(target)) {
                return Lookup::Excluded {
                    range,
                    exclude: *exclude,
                };
            }
            range
        }
    };
    let hosts = cfg.hosts_for(range.origin());
    // A /128 route through a downstream device is itself the evidence that the host exists
    // (odhcpd's relay installs one per host; a WireGuard peer's device has no neighbours).
    let host_route = matches!(range, Range::Route { dst, .. } if dst.prefix_len() == 128);
    if hosts != HostsMode::Any && !host_route && !view.is_some_and(|v| is_known(v, target)) {
        return Lookup::UnknownHost { range };
    }
    Lookup::Answer { range, hosts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RateLimit;
    use crate::state::routes::{Nexthop, RouteChange};
    use crate::state::rtnl::{IfName, RtnlEvent};

    const WAN: u32 = 2;
    const LAN: u32 = 3;
    const DOCKER: u32 = 4;
    const VPN: u32 = 5;

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    fn cfg(prefixes: &[&str], hosts: Option<HostsMode>) -> UplinkConfig {
        UplinkConfig {
            prefixes: prefixes.iter().map(|p| net(p)).collect(),
            excludes: vec![net("2001:db8:0:10::ff/128")],
            downstreams: vec!["br-lan".into(), "docker0".into()],
            hosts,
            rate_limit: RateLimit { rate: 0, burst: 0 },
            source_rate_limit: RateLimit { rate: 0, burst: 0 },
            ..UplinkConfig::new("wan", "wan")
        }
    }

    struct Kernel {
        routes: RouteTable,
        hosts: HostTable,
        links: Links,
    }

    fn add(routes: &mut RouteTable, dst: &str, kind: RouteKind, oifs: &[u32]) {
        let mut route = Route {
            dst: net(dst),
            metric: 1024,
            kind,
            nexthops: heapless::Vec::new(),
            truncated: false,
        };
        for oif in oifs {
            route.add_nexthop(Nexthop::dev(*oif));
        }
        routes.apply(&route, RouteChange::Add);
    }

    /// A home router: default and the on-link /64 via the uplink, an unreachable /56 from
    /// the delegation, one /64 of it on the LAN, a Docker /80, a VPN peer's /128.
    fn kernel() -> Kernel {
        let mut routes = RouteTable::default();
        add(&mut routes, "::/0", RouteKind::Unicast, &[WAN]);
        add(
            &mut routes,
            "2001:db8:ffff::/64",
            RouteKind::Unicast,
            &[WAN],
        );
        add(&mut routes, "2001:db8::/56", RouteKind::Unreachable, &[1]);
        add(
            &mut routes,
            "2001:db8:0:10::/64",
            RouteKind::Unicast,
            &[LAN],
        );
        add(
            &mut routes,
            "2001:db8:0:20::/80",
            RouteKind::Unicast,
            &[DOCKER],
        );
        add(
            &mut routes,
            "2001:db8:0:20::/96",
            RouteKind::Unicast,
            &[WAN],
        );
        add(
            &mut routes,
            "2001:db8:0:30::9/128",
            RouteKind::Unicast,
            &[VPN],
        );
        add(
            &mut routes,
            "2001:db8:0:40::/64",
            RouteKind::Unicast,
            &[LAN, WAN],
        );
        add(
            &mut routes,
            "2001:db8:0:50::/64",
            RouteKind::Unicast,
            &[LAN, VPN],
        );
        let mut hosts = HostTable::default();
        hosts.apply(LAN, &ip("2001:db8:0:10::5"), true);
        hosts.apply(VPN, &ip("2001:db8:0:10::6"), true);
        let mut links = Links::default();
        links.apply(&RtnlEvent::Link {
            ifindex: LAN,
            name: IfName::try_from("br-lan").unwrap(),
            mac: Some([2, 0, 0, 0, 0, 3]),
            up: true,
        });
        links.apply(&RtnlEvent::Address {
            ifindex: LAN,
            addr: ip("2001:db8:0:10::1"),
            added: true,
        });
        Kernel {
            routes,
            hosts,
            links,
        }
    }

    fn view(k: &Kernel) -> FollowView<'_> {
        FollowView {
            uplink: WAN,
            downstreams: &[LAN, DOCKER],
            host_devices: &[LAN, DOCKER],
            routes: &k.routes,
            hosts: &k.hosts,
            links: &k.links,
        }
    }

    fn route(dst: &str, ifindex: u32) -> Range {
        Range::Route {
            dst: net(dst),
            ifindex,
        }
    }

    #[test]
    fn routes_through_downstreams_answer_under_their_policy() {
        let k = kernel();
        let v = view(&k);
        let any = cfg(&[], Some(HostsMode::Any));
        let answer = |hosts, range| Lookup::Answer { range, hosts };
        assert_eq!(
            lookup(&any, Some(&v), &ip("2001:db8:0:10::77")),
            answer(HostsMode::Any, route("2001:db8:0:10::/64", LAN))
        );
        // Longest match: the /80 inside the /56, not the /56 that comes first.
        assert_eq!(
            lookup(&any, Some(&v), &ip("2001:db8:0:20:0:1:0:5")),
            answer(HostsMode::Any, route("2001:db8:0:20::/80", DOCKER))
        );
        // ...and a more specific route back out of the uplink wins over the /80.
        assert_eq!(
            lookup(&any, Some(&v), &ip("2001:db8:0:20::5")),
            Lookup::NotDownstream {
                dst: net("2001:db8:0:20::/96"),
                why: NotDownstream::Uplink
            }
        );
    }

    #[test]
    fn routes_elsewhere_say_why() {
        let k = kernel();
        let v = view(&k);
        let any = cfg(&[], Some(HostsMode::Any));
        let why = |addr| match lookup(&any, Some(&v), &ip(addr)) {
            Lookup::NotDownstream { why, .. } => Some(why),
            Lookup::OutOfRange => None,
            other => panic!("{addr}: {other:?}"),
        };
        assert_eq!(why("2001:db8:ffff::5"), Some(NotDownstream::Uplink));
        assert_eq!(why("2001:db9::5"), Some(NotDownstream::Uplink));
        assert_eq!(
            why("2001:db8:0:60::5"),
            Some(NotDownstream::Dropped(RouteKind::Unreachable))
        );
        assert_eq!(
            why("2001:db8:0:30::9"),
            Some(NotDownstream::OtherDevice(VPN))
        );
        // Multipath: one nexthop out of the uplink spoils it; a third device does not.
        assert_eq!(why("2001:db8:0:40::9"), Some(NotDownstream::Uplink));
        assert!(matches!(
            lookup(&any, Some(&v), &ip("2001:db8:0:50::9")),
            Lookup::Answer { .. }
        ));
        // A link-local target is never ours, whatever the fe80::/64 routes say.
        assert_eq!(lookup(&any, Some(&v), &ip("fe80::5")), Lookup::OutOfRange);
        // Without a default route, outside everything.
        let mut bare = kernel();
        let default = bare.routes.lookup(&ip("2001:db9::")).unwrap().clone();
        bare.routes.apply(&default, RouteChange::Delete);
        assert_eq!(
            lookup(&any, Some(&view(&bare)), &ip("2001:db9::5")),
            Lookup::OutOfRange
        );
    }

    #[test]
    fn route_ranges_default_to_known_hosts_static_ones_to_any() {
        let k = kernel();
        let v = view(&k);
        let defaults = cfg(&["2001:db8:ffff::/112"], None);
        assert_eq!(
            lookup(&defaults, Some(&v), &ip("2001:db8:ffff::5")),
            Lookup::Answer {
                range: Range::Static(net("2001:db8:ffff::/112")),
                hosts: HostsMode::Any
            }
        );
        assert_eq!(
            lookup(&defaults, Some(&v), &ip("2001:db8:0:10::77")),
            Lookup::UnknownHost {
                range: route("2001:db8:0:10::/64", LAN)
            }
        );
        // A neighbour on the downstream, or the router's own LAN address: known.
        for host in ["2001:db8:0:10::5", "2001:db8:0:10::1"] {
            assert!(
                matches!(
                    lookup(&defaults, Some(&v), &ip(host)),
                    Lookup::Answer {
                        hosts: HostsMode::Known,
                        ..
                    }
                ),
                "{host}"
            );
        }
        // A neighbour entry on a device that is not a downstream does not count.
        assert!(matches!(
            lookup(&defaults, Some(&v), &ip("2001:db8:0:10::6")),
            Lookup::UnknownHost { .. }
        ));
        // A /128 route through a downstream is a known host, neighbour entry or not.
        let mut k = kernel();
        add(
            &mut k.routes,
            "2001:db8:0:10::99/128",
            RouteKind::Unicast,
            &[LAN],
        );
        assert!(matches!(
            lookup(&defaults, Some(&view(&k)), &ip("2001:db8:0:10::99")),
            Lookup::Answer {
                hosts: HostsMode::Known,
                ..
            }
        ));
        // `known` set explicitly applies to static prefixes too.
        let known = cfg(&["2001:db8:0:10::/120"], Some(HostsMode::Known));
        assert!(matches!(
            lookup(&known, Some(&v), &ip("2001:db8:0:10::7")),
            Lookup::UnknownHost {
                range: Range::Static(_)
            }
        ));
        assert!(matches!(
            lookup(&known, None, &ip("2001:db8:0:10::5")),
            Lookup::UnknownHost { .. }
        ));
    }

    /// `prefix_from 'lan'` without downstreams: netifd's /64 for lan, whose hosts are on
    /// br-lan (LAN here), known by default; routes make no ranges without downstreams.
    #[test]
    fn netifd_prefixes_default_to_known_hosts_on_their_devices() {
        let k = kernel();
        let mut c = cfg(&["2001:db8:ffff::/112"], None);
        c.downstreams.clear();
        c.prefix_from = vec!["lan".into()];
        c.netifd.prefixes = vec![net("2001:db8:0:10::/64")];
        c.netifd.devices = vec!["br-lan".into()];
        let v = FollowView {
            downstreams: &[],
            host_devices: &[LAN],
            ..view(&k)
        };
        let netifd = Range::Netifd(net("2001:db8:0:10::/64"));
        assert_eq!(
            lookup(&c, Some(&v), &ip("2001:db8:0:10::5")),
            Lookup::Answer {
                range: netifd,
                hosts: HostsMode::Known
            }
        );
        assert_eq!(
            lookup(&c, Some(&v), &ip("2001:db8:0:10::77")),
            Lookup::UnknownHost { range: netifd }
        );
        // The host with an entry only on another device is not known here either.
        assert_eq!(
            lookup(&c, Some(&v), &ip("2001:db8:0:10::6")),
            Lookup::UnknownHost { range: netifd }
        );
        // The static prefix keeps its own default.
        assert!(matches!(
            lookup(&c, Some(&v), &ip("2001:db8:ffff::5")),
            Lookup::Answer {
                hosts: HostsMode::Any,
                ..
            }
        ));
        // The Docker /80 is routed, but with no downstream configured it is no range.
        assert_eq!(
            lookup(&c, Some(&v), &ip("2001:db8:0:20:0:1:0:5")),
            Lookup::OutOfRange
        );
        // `hosts any` answers the whole netifd prefix, excludes still cut into it.
        c.hosts = Some(HostsMode::Any);
        assert_eq!(
            lookup(&c, Some(&v), &ip("2001:db8:0:10::77")),
            Lookup::Answer {
                range: netifd,
                hosts: HostsMode::Any
            }
        );
        assert_eq!(
            lookup(&c, Some(&v), &ip("2001:db8:0:10::ff")),
            Lookup::Excluded {
                range: netifd,
                exclude: net("2001:db8:0:10::ff/128")
            }
        );
    }

    #[test]
    fn excludes_and_static_prefixes_come_first() {
        let k = kernel();
        let v = view(&k);
        let any = cfg(&["2001:db8:0:20::/96"], Some(HostsMode::Any));
        assert_eq!(
            lookup(&any, Some(&v), &ip("2001:db8:0:20::5")),
            Lookup::Answer {
                range: Range::Static(net("2001:db8:0:20::/96")),
                hosts: HostsMode::Any
            }
        );
        assert_eq!(
            lookup(&any, Some(&v), &ip("2001:db8:0:10::ff")),
            Lookup::Excluded {
                range: route("2001:db8:0:10::/64", LAN),
                exclude: net("2001:db8:0:10::ff/128")
            }
        );
        assert_eq!(
            lookup(&any, None, &ip("2001:db8:0:10::77")),
            Lookup::OutOfRange
        );
    }
}
