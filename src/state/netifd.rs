//! What netifd says about IPv6 prefixes: the reply of `network.interface dump` cut down to
//! the prefixes of the interfaces the rules name (`prefix_from`).
//!
//! netifd publishes per interface (`netifd_dump_status`) `ipv6-prefix-assignment`, the
//! sub-prefixes this (downstream) interface got from a delegation (`ip6assign`, or the
//! WAN's /64 with `extendprefix`), and `ipv6-prefix`, the prefixes it received itself (a
//! DHCPv6-PD uplink such as wan6 or wan_6, or `ip6prefix`). Each entry is a table with
//! `address` and `mask`. Both lists are taken: an interface has one kind or the other.

use crate::ubus::{BlobmsgList, BlobmsgValue};
use ipnet::Ipv6Net;
use std::net::Ipv6Addr;

/// Ranges kept per interface; more are dropped and counted (a delegation rarely has more
/// than a handful of prefixes, so this bounds memory against a misbehaving publisher).
pub const MAX_RANGES_PER_INTERFACE: usize = 32;

/// The prefixes of the named interfaces, in the order netifd lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetifdPrefixes {
    pub interfaces: Vec<(String, Vec<Ipv6Net>)>,
    /// Entries beyond [`MAX_RANGES_PER_INTERFACE`] or malformed, skipped.
    pub skipped: u32,
}

impl NetifdPrefixes {
    /// The prefixes of interface `name` (none when netifd does not know it or it is down).
    pub fn of(&self, name: &str) -> &[Ipv6Net] {
        self.interfaces
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[][..], |(_, p)| &p[..])
    }

    /// The interface among `names` whose prefixes contain `net`.
    pub fn origin<'a>(&self, names: &'a [String], net: &Ipv6Net) -> Option<&'a str> {
        names
            .iter()
            .find(|n| self.of(n).contains(net))
            .map(String::as_str)
    }
}

/// Parses a `dump` reply (`{"interface": [ {...}, ... ]}`), keeping only the interfaces in
/// `wanted`. Malformed blobmsg is an error naming where; entries with a bad address or
/// mask are skipped and counted.
pub fn parse_dump(data: &[u8], wanted: &[&str]) -> Result<NetifdPrefixes, String> {
    let bad = |what: &str| format!("network.interface dump: {what}");
    let list = BlobmsgList::new(data);
    let Some(BlobmsgValue::Array(ifaces)) =
        list.get("interface").map_err(|e| bad(&e.to_string()))?
    else {
        return Err(bad("no \"interface\" array"));
    };
    let mut out = NetifdPrefixes::default();
    for iface in ifaces.iter() {
        let iface = iface.map_err(|e| bad(&e.to_string()))?;
        let BlobmsgValue::Table(fields) = iface.value else {
            return Err(bad("an element of \"interface\" is not a table"));
        };
        let name = match fields.get("interface") {
            Ok(Some(BlobmsgValue::String(n))) => n,
            _ => return Err(bad("an interface without a name")),
        };
        if !wanted.contains(&name) || out.interfaces.iter().any(|(n, _)| n == name) {
            continue;
        }
        let mut nets = Vec::new();
        for key in ["ipv6-prefix-assignment", "ipv6-prefix"] {
            let Ok(Some(BlobmsgValue::Array(entries))) = fields.get(key) else {
                continue;
            };
            for entry in entries.iter() {
                match entry.ok().and_then(|e| prefix_entry(e.value)) {
                    Some(net) if nets.contains(&net) => {}
                    Some(net) if nets.len() < MAX_RANGES_PER_INTERFACE => nets.push(net),
                    _ => out.skipped += 1,
                }
            }
        }
        out.interfaces.push((name.to_string(), nets));
    }
    Ok(out)
}

/// `{address, mask}` as a prefix with host bits cleared (netifd already sends them so).
fn prefix_entry(v: BlobmsgValue<'_>) -> Option<Ipv6Net> {
    let BlobmsgValue::Table(t) = v else {
        return None;
    };
    let Ok(Some(BlobmsgValue::String(a))) = t.get("address") else {
        return None;
    };
    let Ok(Some(BlobmsgValue::Int32(mask))) = t.get("mask") else {
        return None;
    };
    let addr: Ipv6Addr = a.parse().ok()?;
    let len = u8::try_from(mask).ok()?;
    Ipv6Net::new(addr, len).ok().map(|n| n.trunc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ubus::fixtures;
    use crate::ubus::msg::{attr, Message};

    /// The DATA of the recorded dump reply (its first DATA frame to the CLI).
    fn recorded_dump() -> Vec<u8> {
        let frame = fixtures::frames("32-netifd-dump.txt", "ubusd", "cli")
            .into_iter()
            .find(|f| f[1] == 2 && f.len() > 100)
            .unwrap();
        let msg = Message::parse(&frame).unwrap();
        msg.parse_attrs()
            .unwrap()
            .nested(attr::DATA)
            .unwrap()
            .to_vec()
    }

    fn net(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn recorded_dump_gives_assignment_and_delegation() {
        let p = parse_dump(&recorded_dump(), &["lan", "wan", "wan6"]).unwrap();
        assert_eq!(p.of("lan"), [net("2001:db8:1:100::/64")]);
        assert_eq!(p.of("wan"), [net("2001:db8:1:100::/56")]);
        assert_eq!(p.of("wan6"), []);
        assert_eq!(p.skipped, 0);
        let names = ["wan".to_string(), "lan".to_string()];
        assert_eq!(p.origin(&names, &net("2001:db8:1:100::/64")), Some("lan"));
        assert_eq!(p.origin(&names, &net("2001:db8:2::/64")), None);
    }

    /// The real netifd's dumps (fixture 35): before and after wan's ip6prefix moved.
    #[test]
    fn real_netifd_dumps_before_and_after_a_renumbering() {
        let dumps: Vec<Vec<u8>> =
            fixtures::frames("35-ndpresponder-real-netifd.txt", "ubusd", "ndpresponder")
                .into_iter()
                .filter(|f| f[1] == 2)
                .filter_map(|f| {
                    let msg = Message::parse(&f).unwrap();
                    let data = msg.parse_attrs().unwrap().nested(attr::DATA)?.to_vec();
                    parse_dump(&data, &["lan"]).is_ok().then_some(data)
                })
                .collect();
        assert!(dumps.len() >= 3, "{} dumps", dumps.len());
        let first = parse_dump(&dumps[0], &["lan", "wan", "loopback"]).unwrap();
        assert_eq!(first.of("lan"), [net("2001:db8:1:100::/64")]);
        assert_eq!(first.of("wan"), [net("2001:db8:1:100::/56")]);
        assert_eq!(first.of("loopback"), []);
        let last = parse_dump(&dumps[2], &["lan", "wan"]).unwrap();
        assert_eq!(last.of("lan"), [net("2001:db8:1:200::/64")]);
        assert_eq!(last.of("wan"), [net("2001:db8:1:200::/56")]);
    }

    #[test]
    fn only_named_interfaces_are_kept() {
        let p = parse_dump(&recorded_dump(), &["lan"]).unwrap();
        assert_eq!(p.interfaces.len(), 1);
        assert_eq!(p.of("wan"), []);
    }

    fn dump_with(entries: &[(&str, u32)]) -> Vec<u8> {
        let mut b = crate::ubus::BlobmsgBuilder::new();
        let a = b.open_array("interface");
        let t = b.open_table("");
        b.put_string("interface", "wan6");
        let l = b.open_array("ipv6-prefix");
        for (addr, mask) in entries {
            let e = b.open_table("");
            b.put_string("address", addr);
            b.put_u32("mask", *mask);
            b.close(e);
        }
        b.close(l);
        b.close(t);
        b.close(a);
        b.finish()
    }

    #[test]
    fn bad_entries_are_skipped_and_the_count_is_bounded() {
        let p = parse_dump(
            &dump_with(&[("2001:db8::1", 48), ("nonsense", 64), ("2001:db8::", 129)]),
            &["wan6"],
        )
        .unwrap();
        assert_eq!(p.of("wan6"), [net("2001:db8::/48")]);
        assert_eq!(p.skipped, 2);
        let many: Vec<String> = (0..40).map(|i| format!("2001:db8:{i:x}::")).collect();
        let entries: Vec<(&str, u32)> = many.iter().map(|s| (s.as_str(), 64)).collect();
        let p = parse_dump(&dump_with(&entries), &["wan6"]).unwrap();
        assert_eq!(p.of("wan6").len(), MAX_RANGES_PER_INTERFACE);
        assert_eq!(p.skipped, 40 - MAX_RANGES_PER_INTERFACE as u32);
    }

    #[test]
    fn a_reply_without_the_array_is_an_error() {
        let e = parse_dump(&[], &["lan"]).unwrap_err();
        assert!(e.contains("network.interface dump"), "{e}");
    }
}
