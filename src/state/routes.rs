//! The kernel's main IPv6 routing table as far as answering needs it: every route's
//! destination, metric, type and output devices, kept current from rtnetlink
//! (`crate::state::rtnl`), with a longest-prefix lookup that allocates nothing, because it
//! runs once per received NS.
//!
//! Bounded: at most [`MAX_ROUTES`] routes are kept; a route that does not fit is counted in
//! [`RouteTable::refused`] and left out (status shows both).

use ipnet::Ipv6Net;
use std::net::Ipv6Addr;

/// Routes kept at most. A home router or a VPS has tens; a host with Docker networks or
/// per-host /128 routes (odhcpd relay, WireGuard peers) a few thousand. Each route costs
/// about 130 bytes, so a full table is about 2 MiB.
pub const MAX_ROUTES: usize = 16 * 1024;

/// Nexthops kept per route. A multipath route with more nexthops than this is marked
/// `truncated`, and never counts as pointing downstream: its other nexthops may be the
/// uplink.
pub const MAX_NEXTHOPS: usize = 4;

/// The route's type (`rtm_type`, linux/rtnetlink.h). Only unicast routes deliver traffic
/// to a device; the others make the kernel drop it or answer with an ICMPv6 error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteKind {
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
    /// Any other type (local, broadcast, nat, ...): nothing to answer for.
    Other(u8),
}

impl RouteKind {
    pub fn from_rtm_type(t: u8) -> RouteKind {
        match t {
            1 => RouteKind::Unicast,
            6 => RouteKind::Blackhole,
            7 => RouteKind::Unreachable,
            8 => RouteKind::Prohibit,
            9 => RouteKind::Throw,
            other => RouteKind::Other(other),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Unicast => "unicast",
            RouteKind::Blackhole => "blackhole",
            RouteKind::Unreachable => "unreachable",
            RouteKind::Prohibit => "prohibit",
            RouteKind::Throw => "throw",
            RouteKind::Other(_) => "other",
        }
    }
}

/// One way out of a route: the device, and the gateway when there is one. Two nexthops of a
/// multipath route may share a device (two routers on one LAN); the gateway tells them
/// apart when one of them is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nexthop {
    pub oif: u32,
    pub gateway: Option<Ipv6Addr>,
}

impl Nexthop {
    /// A directly connected nexthop (no gateway) out of `oif`.
    pub fn dev(oif: u32) -> Nexthop {
        Nexthop { oif, gateway: None }
    }
}

/// One route of the main table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: Ipv6Net,
    /// `RTA_PRIORITY`: among routes to the same destination the lowest metric is used.
    pub metric: u32,
    pub kind: RouteKind,
    /// Each nexthop (`RTA_OIF`/`RTA_GATEWAY`, or each `rtnexthop` of `RTA_MULTIPATH`);
    /// empty for a route through a nexthop object (`RTA_NH_ID`), whose device is not in
    /// the message.
    pub nexthops: heapless::Vec<Nexthop, MAX_NEXTHOPS>,
    /// More nexthops than `nexthops` holds.
    pub truncated: bool,
}

impl Route {
    fn key(&self) -> (u8, u128, u32) {
        (
            self.dst.prefix_len(),
            u128::from(self.dst.network()),
            self.metric,
        )
    }

    /// Adds a nexthop, once; marks the route truncated when there is no room.
    pub fn add_nexthop(&mut self, nexthop: Nexthop) {
        if !self.nexthops.contains(&nexthop) && self.nexthops.push(nexthop).is_err() {
            self.truncated = true;
        }
    }

    /// The output devices of the nexthops.
    pub fn oifs(&self) -> impl Iterator<Item = u32> + '_ {
        self.nexthops.iter().map(|n| n.oif)
    }
}

/// What an RTM_NEWROUTE/RTM_DELROUTE asks of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteChange {
    /// A new route, or more nexthops for an existing one (kernels before 4.11 announce
    /// each nexthop of an IPv6 multipath route separately; later ones send them all).
    Add,
    /// `NLM_F_REPLACE`: the route replaces the one with the same destination and metric.
    Replace,
    /// The listed nexthops are gone; the route is gone when none is left.
    Delete,
}

/// The table. Kept sorted by (prefix length, network, metric), so all routes of one prefix
/// length are adjacent and the lowest metric comes first.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
    /// How many routes of each prefix length are kept, so a lookup skips absent lengths.
    per_len: Vec<u32>,
    /// Routes left out because the table was full, since start.
    refused: u64,
}

fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

impl RouteTable {
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn refused(&self) -> u64 {
        self.refused
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// Forgets every route (before a re-dump after lost events); the refusal count stays.
    pub fn clear(&mut self) {
        self.routes.clear();
        self.per_len.clear();
    }

    fn position(&self, key: (u8, u128, u32)) -> Result<usize, usize> {
        self.routes.binary_search_by(|r| r.key().cmp(&key))
    }

    fn count(&mut self, len: u8, up: bool) {
        if self.per_len.is_empty() {
            self.per_len = vec![0; 129];
        }
        let c = &mut self.per_len[usize::from(len)];
        if up {
            *c += 1;
        } else {
            *c = c.saturating_sub(1);
        }
    }

    /// Applies one change; returns false when nothing changed.
    pub fn apply(&mut self, route: &Route, change: RouteChange) -> bool {
        let at = self.position(route.key());
        match (change, at) {
            (RouteChange::Delete, Err(_)) => false,
            (RouteChange::Delete, Ok(i)) => {
                let kept = &mut self.routes[i];
                if route.nexthops.is_empty() || route.truncated {
                    self.remove(i);
                    return true;
                }
                let before = kept.nexthops.len();
                kept.nexthops.retain(|n| !route.nexthops.contains(n));
                if kept.nexthops.is_empty() {
                    self.remove(i);
                    return true;
                }
                kept.nexthops.len() != before
            }
            (RouteChange::Add, Ok(i)) if self.routes[i].kind == route.kind => {
                let kept = &mut self.routes[i];
                let before = (kept.nexthops.len(), kept.truncated);
                for nexthop in &route.nexthops {
                    kept.add_nexthop(*nexthop);
                }
                kept.truncated |= route.truncated;
                (kept.nexthops.len(), kept.truncated) != before
            }
            (RouteChange::Add | RouteChange::Replace, Ok(i)) => {
                let changed = self.routes[i] != *route;
                self.routes[i] = route.clone();
                changed
            }
            (RouteChange::Add | RouteChange::Replace, Err(i)) => {
                if self.routes.len() >= MAX_ROUTES {
                    self.refused += 1;
                    return false;
                }
                self.routes.insert(i, route.clone());
                self.count(route.dst.prefix_len(), true);
                true
            }
        }
    }

    fn remove(&mut self, i: usize) {
        let r = self.routes.remove(i);
        self.count(r.dst.prefix_len(), false);
    }

    /// A device is gone: its nexthops with it (the kernel may announce the routes' removal
    /// after the link's, or not at all).
    pub fn forget_device(&mut self, ifindex: u32) {
        let before = self.routes.len();
        self.routes.retain_mut(|r| {
            let had = r.nexthops.len();
            r.nexthops.retain(|n| n.oif != ifindex);
            had == 0 || !r.nexthops.is_empty()
        });
        if self.routes.len() != before {
            self.per_len = vec![0; 129];
            for r in &self.routes {
                self.per_len[usize::from(r.dst.prefix_len())] += 1;
            }
        }
    }

    /// The default router on device `oif`: the gateway of the lowest-metric unicast default
    /// route (::/0) with a nexthop through it.
    pub fn default_router(&self, oif: u32) -> Option<Ipv6Addr> {
        self.routes
            .iter()
            .filter(|r| r.dst.prefix_len() == 0 && r.kind == RouteKind::Unicast)
            .flat_map(|r| r.nexthops.iter())
            .find(|n| n.oif == oif && n.gateway.is_some())
            .and_then(|n| n.gateway)
    }

    /// The lowest destination above `after` (the lowest of all without one) of a /128
    /// route with a nexthop through any of `devices`: an announcement sweep's next host.
    /// No allocation.
    pub fn next_host_route(&self, after: Option<&Ipv6Addr>, devices: &[u32]) -> Option<Ipv6Addr> {
        let first = match after {
            Some(a) => self
                .routes
                .partition_point(|r| r.key() <= (128, u128::from(*a), u32::MAX)),
            None => self.routes.partition_point(|r| r.dst.prefix_len() < 128),
        };
        self.routes[first..]
            .iter()
            .find(|r| r.oifs().any(|o| devices.contains(&o)))
            .map(|r| r.dst.network())
    }

    /// Whether a /128 route to `addr` has a nexthop through any of `devices`.
    pub fn has_host_route(&self, addr: &Ipv6Addr, devices: &[u32]) -> bool {
        let key = (128, u128::from(*addr), 0);
        let first = self.routes.partition_point(|r| r.key() < key);
        self.routes[first..]
            .iter()
            .take_while(|r| r.key().0 == 128 && r.key().1 == key.1)
            .any(|r| r.oifs().any(|o| devices.contains(&o)))
    }

    /// The route the kernel would use for `addr` in this table: the longest matching prefix,
    /// and of those the lowest metric. No allocation.
    pub fn lookup(&self, addr: &Ipv6Addr) -> Option<&Route> {
        let bits = u128::from(*addr);
        for len in (0..=128u8).rev() {
            if self.per_len.get(usize::from(len)).copied().unwrap_or(0) == 0 {
                continue;
            }
            let key = (len, bits & mask(len), 0);
            let i = self.routes.partition_point(|r| r.key() < key);
            if let Some(r) = self.routes.get(i) {
                if r.key().0 == key.0 && r.key().1 == key.1 {
                    return Some(r);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dst: &str, metric: u32, oifs: &[u32]) -> Route {
        let mut r = Route {
            dst: dst.parse().unwrap(),
            metric,
            kind: RouteKind::Unicast,
            nexthops: heapless::Vec::new(),
            truncated: false,
        };
        for oif in oifs {
            r.add_nexthop(Nexthop::dev(*oif));
        }
        r
    }

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn via(t: &RouteTable, addr: &str) -> Option<(String, Vec<u32>)> {
        t.lookup(&ip(addr))
            .map(|r| (r.dst.to_string(), r.oifs().collect()))
    }

    fn via_of(t: &RouteTable, addr: &str) -> Vec<Nexthop> {
        t.lookup(&ip(addr)).unwrap().nexthops.to_vec()
    }

    #[test]
    fn host_routes_through_some_devices_in_order() {
        let mut t = RouteTable::default();
        for (dst, metric, oifs) in [
            ("2001:db8::9/128", 1024, &[4][..]),
            ("2001:db8::5/128", 1024, &[2]),
            ("2001:db8::5/128", 10, &[4]),
            ("2001:db8::7/128", 1024, &[4, 2]),
            ("2001:db8::/64", 1024, &[4]),
            ("::/0", 1024, &[2]),
        ] {
            t.apply(&route(dst, metric, oifs), RouteChange::Add);
        }
        let mut seen = Vec::new();
        let mut after = None;
        while let Some(a) = t.next_host_route(after.as_ref(), &[4]) {
            seen.push(a);
            after = Some(a);
        }
        // 2001:db8::5 once, though two routes lead to it.
        assert_eq!(
            seen,
            vec![ip("2001:db8::5"), ip("2001:db8::7"), ip("2001:db8::9")]
        );
        assert_eq!(t.next_host_route(None, &[2]), Some(ip("2001:db8::5")));
        assert_eq!(t.next_host_route(Some(&ip("2001:db8::7")), &[2]), None);
        assert!(t.has_host_route(&ip("2001:db8::5"), &[4]));
        assert!(t.has_host_route(&ip("2001:db8::7"), &[2]));
        assert!(!t.has_host_route(&ip("2001:db8::9"), &[2]));
        assert!(
            !t.has_host_route(&ip("2001:db8::"), &[4]),
            "a /64 is not a host route"
        );
    }

    #[test]
    fn longest_match_wins_not_first_or_lowest_metric() {
        let mut t = RouteTable::default();
        assert!(t.apply(&route("::/0", 1, &[2]), RouteChange::Add));
        assert!(t.apply(&route("2001:db8::/32", 1, &[2]), RouteChange::Add));
        assert!(t.apply(&route("2001:db8:1::/64", 1024, &[3]), RouteChange::Add));
        assert!(t.apply(&route("2001:db8:1::5/128", 2048, &[4]), RouteChange::Add));
        assert_eq!(
            via(&t, "2001:db8:1::5"),
            Some(("2001:db8:1::5/128".into(), vec![4]))
        );
        assert_eq!(
            via(&t, "2001:db8:1::6"),
            Some(("2001:db8:1::/64".into(), vec![3]))
        );
        assert_eq!(
            via(&t, "2001:db8:2::6"),
            Some(("2001:db8::/32".into(), vec![2]))
        );
        assert_eq!(via(&t, "2001:db9::"), Some(("::/0".into(), vec![2])));
        assert!(t.apply(&route("::/0", 1, &[2]), RouteChange::Delete));
        assert_eq!(via(&t, "2001:db9::"), None);
    }

    #[test]
    fn lowest_metric_of_one_prefix_is_used() {
        let mut t = RouteTable::default();
        t.apply(&route("2001:db8:1::/64", 1024, &[3]), RouteChange::Add);
        t.apply(&route("2001:db8:1::/64", 100, &[2]), RouteChange::Add);
        assert_eq!(via(&t, "2001:db8:1::9").unwrap().1, vec![2]);
        t.apply(&route("2001:db8:1::/64", 100, &[2]), RouteChange::Delete);
        assert_eq!(via(&t, "2001:db8:1::9").unwrap().1, vec![3]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn multipath_nexthops_are_added_and_removed_one_by_one() {
        let mut t = RouteTable::default();
        t.apply(&route("2001:db8:1::/64", 1, &[3]), RouteChange::Add);
        assert!(t.apply(&route("2001:db8:1::/64", 1, &[4]), RouteChange::Add));
        assert!(!t.apply(&route("2001:db8:1::/64", 1, &[3, 4]), RouteChange::Add));
        assert_eq!(via(&t, "2001:db8:1::1").unwrap().1, vec![3, 4]);
        assert!(t.apply(&route("2001:db8:1::/64", 1, &[3]), RouteChange::Delete));
        assert_eq!(via(&t, "2001:db8:1::1").unwrap().1, vec![4]);
        assert!(t.apply(&route("2001:db8:1::/64", 1, &[4]), RouteChange::Delete));
        assert!(t.is_empty());
        // Replace takes the new nexthops as they are.
        t.apply(&route("2001:db8:1::/64", 1, &[3, 4]), RouteChange::Add);
        assert!(t.apply(&route("2001:db8:1::/64", 1, &[5]), RouteChange::Replace));
        assert_eq!(via(&t, "2001:db8:1::1").unwrap().1, vec![5]);
        // Two gateways on one device: removing one keeps the other.
        let via = |gw: &str| Nexthop {
            oif: 3,
            gateway: Some(ip(gw)),
        };
        let mut two = route("2001:db8:3::/64", 1, &[]);
        two.add_nexthop(via("fe80::a"));
        two.add_nexthop(via("fe80::b"));
        t.apply(&two, RouteChange::Add);
        let mut one = route("2001:db8:3::/64", 1, &[]);
        one.add_nexthop(via("fe80::a"));
        assert!(t.apply(&one, RouteChange::Delete));
        assert_eq!(via_of(&t, "2001:db8:3::1"), vec![via("fe80::b")]);
        // Too many nexthops: the route is kept, marked truncated.
        let mut wide = route("2001:db8:2::/64", 1, &[1, 2, 3, 4]);
        wide.add_nexthop(Nexthop::dev(5));
        assert!(wide.truncated);
        t.apply(&wide, RouteChange::Add);
        assert!(t.lookup(&ip("2001:db8:2::1")).unwrap().truncated);
    }

    #[test]
    fn a_type_change_replaces_and_unreachable_routes_are_kept() {
        let mut t = RouteTable::default();
        t.apply(&route("2001:db8::/56", 1, &[3]), RouteChange::Add);
        let mut unreachable = route("2001:db8::/56", 1, &[1]);
        unreachable.kind = RouteKind::Unreachable;
        assert!(t.apply(&unreachable, RouteChange::Add));
        assert_eq!(
            t.lookup(&ip("2001:db8::1")).unwrap().kind,
            RouteKind::Unreachable
        );
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn the_default_router_is_the_gateway_of_the_best_default_route_on_the_device() {
        let mut t = RouteTable::default();
        let gw = |oif, gw: &str, metric| {
            let mut r = route("::/0", metric, &[]);
            r.add_nexthop(Nexthop {
                oif,
                gateway: Some(ip(gw)),
            });
            r
        };
        t.apply(&gw(2, "fe80::2", 1024), RouteChange::Add);
        t.apply(&gw(2, "fe80::1", 100), RouteChange::Add);
        t.apply(&gw(3, "fe80::3", 1), RouteChange::Add);
        t.apply(&route("::/0", 1, &[4]), RouteChange::Add);
        assert_eq!(t.default_router(2), Some(ip("fe80::1")));
        assert_eq!(t.default_router(3), Some(ip("fe80::3")));
        assert_eq!(t.default_router(4), None);
    }

    #[test]
    fn a_deleted_device_takes_its_routes() {
        let mut t = RouteTable::default();
        t.apply(&route("2001:db8:1::/64", 1, &[3]), RouteChange::Add);
        t.apply(&route("2001:db8:2::/64", 1, &[3, 4]), RouteChange::Add);
        t.apply(&route("2001:db8:3::/64", 1, &[]), RouteChange::Add);
        t.forget_device(3);
        assert_eq!(via(&t, "2001:db8:1::1"), None);
        assert_eq!(via(&t, "2001:db8:2::1").unwrap().1, vec![4]);
        assert!(via(&t, "2001:db8:3::1").is_some());
    }

    #[test]
    fn the_table_is_bounded_and_counts_refusals() {
        let mut t = RouteTable::default();
        for i in 0..MAX_ROUTES as u128 + 10 {
            let net = Ipv6Net::new(Ipv6Addr::from((0x2001_0db8u128 << 96) | i), 128).unwrap();
            t.apply(
                &Route {
                    dst: net,
                    ..route("::/0", 1, &[3])
                },
                RouteChange::Add,
            );
        }
        assert_eq!(t.len(), MAX_ROUTES);
        assert_eq!(t.refused(), 10);
        assert!(t.lookup(&ip("2001:db8::5")).is_some());
        assert!(t.lookup(&ip("2001:db8::ffff:ffff")).is_none());
    }
}
