//! What netifd says about IPv6 prefixes: the reply of `network.interface dump` cut down to
//! the prefixes of the interfaces the rules name (`prefix_from`), and the devices the hosts
//! in those prefixes are on.
//!
//! netifd publishes per interface (`netifd_dump_status`) `ipv6-prefix-assignment`, the
//! sub-prefixes this (downstream) interface got from a delegation (`ip6assign`, or the
//! WAN's /64 with `extendprefix`), and `ipv6-prefix`, the prefixes it received itself (a
//! DHCPv6-PD uplink such as wan6 or wan_6, or `ip6prefix`). Each entry is a table with
//! `address` and `mask`. Both lists are taken: an interface has one kind or the other.
//! `l3_device` is the device an up interface's traffic uses.
//!
//! The hosts of an assignment live on its interface's `l3_device`; the hosts of a received
//! prefix live on the devices of the interfaces that were assigned parts of it (the LANs),
//! never on the uplink that received it. Those devices are where the `known` and `probe`
//! policies look for them.

use crate::ubus::{BlobmsgList, BlobmsgValue};
use ipnet::Ipv6Net;
use std::net::Ipv6Addr;

/// Ranges kept per interface; more are dropped and counted (a delegation rarely has more
/// than a handful of prefixes, so this bounds memory against a misbehaving publisher).
pub const MAX_RANGES_PER_INTERFACE: usize = 32;

/// Host devices kept per interface (a delegation split over more LANs than this is
/// counted as skipped for the rest).
pub const MAX_DEVICES_PER_INTERFACE: usize = 16;

/// Interfaces of the dump considered when looking for the devices a received prefix was
/// assigned to; netifd on a router has tens.
const MAX_INTERFACES: usize = 256;

/// One named interface's prefixes and the devices their hosts are on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetifdInterface {
    pub name: String,
    pub prefixes: Vec<Ipv6Net>,
    pub devices: Vec<String>,
}

/// The prefixes of the named interfaces, in the order netifd lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetifdPrefixes {
    pub interfaces: Vec<NetifdInterface>,
    /// Entries beyond [`MAX_RANGES_PER_INTERFACE`] or [`MAX_DEVICES_PER_INTERFACE`], or
    /// malformed, skipped.
    pub skipped: u32,
}

impl NetifdPrefixes {
    fn get(&self, name: &str) -> Option<&NetifdInterface> {
        self.interfaces.iter().find(|i| i.name == name)
    }

    /// The prefixes of interface `name` (none when netifd does not know it or it is down).
    pub fn of(&self, name: &str) -> &[Ipv6Net] {
        self.get(name).map_or(&[][..], |i| &i.prefixes[..])
    }

    /// The devices the hosts of interface `name`'s prefixes are on.
    pub fn devices_of(&self, name: &str) -> &[String] {
        self.get(name).map_or(&[][..], |i| &i.devices[..])
    }

    /// The interface among `names` whose prefixes contain `net`.
    pub fn origin<'a>(&self, names: &'a [String], net: &Ipv6Net) -> Option<&'a str> {
        names
            .iter()
            .find(|n| self.of(n).contains(net))
            .map(String::as_str)
    }
}

/// What one interface of the dump says.
struct Entry<'a> {
    name: &'a str,
    l3_device: Option<&'a str>,
    assignments: Vec<Ipv6Net>,
    received: Vec<Ipv6Net>,
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
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for iface in ifaces.iter() {
        let iface = iface.map_err(|e| bad(&e.to_string()))?;
        let BlobmsgValue::Table(fields) = iface.value else {
            return Err(bad("an element of \"interface\" is not a table"));
        };
        let name = match fields.get("interface") {
            Ok(Some(BlobmsgValue::String(n))) => n,
            _ => return Err(bad("an interface without a name")),
        };
        if entries.len() == MAX_INTERFACES || entries.iter().any(|e| e.name == name) {
            continue;
        }
        let l3_device = match fields.get("l3_device") {
            Ok(Some(BlobmsgValue::String(d))) if !d.is_empty() => Some(d),
            _ => None,
        };
        let assignments = prefix_list(&fields, "ipv6-prefix-assignment", &mut out.skipped);
        let received = prefix_list(&fields, "ipv6-prefix", &mut out.skipped);
        entries.push(Entry {
            name,
            l3_device,
            assignments,
            received,
        });
    }
    for e in entries.iter().filter(|e| wanted.contains(&e.name)) {
        let mut prefixes = e.assignments.clone();
        for net in &e.received {
            if prefixes.contains(net) {
                continue;
            }
            match prefixes.len() < MAX_RANGES_PER_INTERFACE {
                true => prefixes.push(*net),
                false => out.skipped += 1,
            }
        }
        let mut devices = Vec::new();
        let own = e.l3_device.filter(|_| !e.assignments.is_empty());
        let assignees = entries
            .iter()
            .filter(|a| {
                a.assignments
                    .iter()
                    .any(|n| e.received.iter().any(|p| p.contains(n)))
            })
            .filter_map(|a| a.l3_device);
        for dev in own.into_iter().chain(assignees) {
            if devices.iter().any(|d| d == dev) {
                continue;
            }
            match devices.len() < MAX_DEVICES_PER_INTERFACE {
                true => devices.push(dev.to_string()),
                false => out.skipped += 1,
            }
        }
        out.interfaces.push(NetifdInterface {
            name: e.name.to_string(),
            prefixes,
            devices,
        });
    }
    Ok(out)
}

/// The prefixes under `key` of one interface's table, without duplicates and at most
/// [`MAX_RANGES_PER_INTERFACE`]; the rest and the malformed are counted in `skipped`.
fn prefix_list(fields: &BlobmsgList<'_>, key: &str, skipped: &mut u32) -> Vec<Ipv6Net> {
    let mut nets = Vec::new();
    let Ok(Some(BlobmsgValue::Array(entries))) = fields.get(key) else {
        return nets;
    };
    for entry in entries.iter() {
        match entry.ok().and_then(|e| prefix_entry(e.value)) {
            Some(net) if nets.contains(&net) => {}
            Some(net) if nets.len() < MAX_RANGES_PER_INTERFACE => nets.push(net),
            _ => *skipped += 1,
        }
    }
    nets
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
        // lan's hosts are on its own device; so are those of wan's /56, assigned to lan.
        assert_eq!(p.devices_of("lan"), ["lan0"]);
        assert_eq!(p.devices_of("wan"), ["lan0"]);
        assert!(p.devices_of("wan6").is_empty());
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
        for dump in [&first, &last] {
            assert_eq!(dump.devices_of("lan"), ["lan0"]);
            assert_eq!(dump.devices_of("wan"), ["lan0"]);
            assert!(dump.devices_of("loopback").is_empty());
        }
    }

    #[test]
    fn only_named_interfaces_are_kept() {
        let p = parse_dump(&recorded_dump(), &["lan"]).unwrap();
        assert_eq!(p.interfaces.len(), 1);
        assert_eq!(p.of("wan"), []);
    }

    /// One interface of a hand-built dump: name, `l3_device`, and entries under `key`.
    struct Iface<'a> {
        name: &'a str,
        device: Option<&'a str>,
        key: &'a str,
        entries: &'a [(&'a str, u32)],
    }

    fn dump_of(ifaces: &[Iface<'_>]) -> Vec<u8> {
        let mut b = crate::ubus::BlobmsgBuilder::new();
        let a = b.open_array("interface");
        for i in ifaces {
            let t = b.open_table("");
            b.put_string("interface", i.name);
            if let Some(d) = i.device {
                b.put_string("l3_device", d);
            }
            let l = b.open_array(i.key);
            for (addr, mask) in i.entries {
                let e = b.open_table("");
                b.put_string("address", addr);
                b.put_u32("mask", *mask);
                b.close(e);
            }
            b.close(l);
            b.close(t);
        }
        b.close(a);
        b.finish()
    }

    fn dump_with(entries: &[(&str, u32)]) -> Vec<u8> {
        dump_of(&[Iface {
            name: "wan6",
            device: Some("wan"),
            key: "ipv6-prefix",
            entries,
        }])
    }

    /// A /56 delegated to wan6 and split over two LANs (one of them down, so without a
    /// device) and a guest network assigned from another prefix.
    #[test]
    fn a_delegation_has_the_devices_of_the_interfaces_it_was_assigned_to() {
        let assigned = |name, device, entries| Iface {
            name,
            device,
            key: "ipv6-prefix-assignment",
            entries,
        };
        let dump = dump_of(&[
            Iface {
                name: "wan6",
                device: Some("wan"),
                key: "ipv6-prefix",
                entries: &[("2001:db8:5500::", 56)],
            },
            assigned("lan", Some("br-lan"), &[("2001:db8:5500::", 64)]),
            assigned("iot", Some("br-iot"), &[("2001:db8:5500:1::", 64)]),
            assigned("off", None, &[("2001:db8:5500:2::", 64)]),
            assigned("guest", Some("br-guest"), &[("2001:db8:7700::", 64)]),
        ]);
        let p = parse_dump(&dump, &["wan6", "guest", "off"]).unwrap();
        assert_eq!(p.of("wan6"), [net("2001:db8:5500::/56")]);
        assert_eq!(p.devices_of("wan6"), ["br-lan", "br-iot"]);
        assert_eq!(p.devices_of("guest"), ["br-guest"]);
        assert_eq!(p.of("off"), [net("2001:db8:5500:2::/64")]);
        assert!(p.devices_of("off").is_empty());
        // The uplink that received the prefix is never one of its host devices.
        assert!(!p.devices_of("wan6").contains(&"wan".to_string()));
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
