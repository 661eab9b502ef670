//! Helpers shared by the targets: the frame targets' checksum repair, and the checks of a
//! parsed netifd dump (`netifd_dump`, and `netifd_watch` on each reply it gets).

use ndpresponder::state::netifd::{
    parse_dump, NetifdPrefixes, MAX_DEVICES_PER_INTERFACE, MAX_RANGES_PER_INTERFACE,
};
use ndpresponder::ubus::BlobmsgBuilder;
use ndpresponder::wire::{ethernet, icmpv6, ipv6};
use std::net::Ipv6Addr;

/// Offset of the ICMPv6 message in a frame without extension headers.
const ICMP_AT: usize = ethernet::HEADER_LEN + ipv6::HEADER_LEN;
/// Offset of the IPv6 Payload Length and Next Header fields.
const PAYLOAD_LEN_AT: usize = ethernet::HEADER_LEN + 4;
const NEXT_HEADER_AT: usize = ethernet::HEADER_LEN + 6;
const SRC_AT: usize = ethernet::HEADER_LEN + 8;
const DST_AT: usize = ethernet::HEADER_LEN + 24;
/// Offset of the checksum inside the ICMPv6 header (RFC 4443 section 2.1).
const CHECKSUM_AT: usize = 2;

/// `frame` with its ICMPv6 checksum recomputed, when it is IPv6 carrying ICMPv6 directly
/// (no extension headers) and its Payload Length fits the frame; `None` otherwise or when the
/// checksum was already right.
///
/// A mutated frame almost never keeps a valid checksum, and every check after the checksum
/// (RFC 4861 section 7.1.1 puts it second) would go unexplored; the targets parse both the
/// frame as given and this repaired copy.
pub fn with_repaired_checksum(frame: &[u8]) -> Option<Vec<u8>> {
    if frame.len() < ICMP_AT + icmpv6::HEADER_LEN
        || ethernet::Frame::new_checked(frame).map(|f| f.ethertype())
            != Ok(ethernet::ETHERTYPE_IPV6)
        || frame[NEXT_HEADER_AT] != ipv6::next_header::ICMPV6
    {
        return None;
    }
    let payload_len = usize::from(u16::from_be_bytes([
        frame[PAYLOAD_LEN_AT],
        frame[PAYLOAD_LEN_AT + 1],
    ]));
    let end = ICMP_AT + payload_len;
    if payload_len < icmpv6::HEADER_LEN || end > frame.len() {
        return None;
    }
    let src = addr_at(frame, SRC_AT);
    let dst = addr_at(frame, DST_AT);
    let mut out = frame.to_vec();
    let message = &mut out[ICMP_AT..end];
    message[CHECKSUM_AT..CHECKSUM_AT + 2].fill(0);
    let sum = icmpv6::checksum(&src, &dst, message);
    message[CHECKSUM_AT..CHECKSUM_AT + 2].copy_from_slice(&sum.to_be_bytes());
    (out != frame).then_some(out)
}

fn addr_at(frame: &[u8], at: usize) -> Ipv6Addr {
    let mut octets = [0; 16];
    octets.copy_from_slice(&frame[at..at + 16]);
    Ipv6Addr::from(octets)
}

/// The interfaces a `prefix_from` rule names in the targets that parse netifd's dump.
pub const WANTED: [&str; 3] = ["lan", "wan", "wan6"];

/// `parse_dump(data, wanted)` and its invariants: only wanted interfaces, each at most once;
/// at most [`MAX_RANGES_PER_INTERFACE`] prefixes each, none twice, every one with its host
/// bits cleared; at most [`MAX_DEVICES_PER_INTERFACE`] host devices, none empty or twice;
/// and the prefixes, written back as a dump, parse to themselves with nothing skipped
/// (what was kept is exactly what a well-formed dump of it says).
pub fn check_dump(data: &[u8], wanted: &[&str]) -> Result<NetifdPrefixes, String> {
    let parsed = parse_dump(data, wanted)?;
    let mut seen: Vec<&str> = Vec::new();
    for iface in &parsed.interfaces {
        let (name, nets, devices) = (&iface.name, &iface.prefixes, &iface.devices);
        assert!(wanted.contains(&name.as_str()), "{name} was not asked for");
        assert!(!seen.contains(&name.as_str()), "{name} twice");
        seen.push(name);
        assert!(
            nets.len() <= MAX_RANGES_PER_INTERFACE,
            "{name}: {} prefixes",
            nets.len()
        );
        for (i, net) in nets.iter().enumerate() {
            assert_eq!(*net, net.trunc(), "{name}: host bits set in {net}");
            assert!(!nets[..i].contains(net), "{name}: {net} twice");
        }
        assert_eq!(parsed.of(name), &nets[..]);
        assert!(
            devices.len() <= MAX_DEVICES_PER_INTERFACE,
            "{name}: {devices:?}"
        );
        for (i, d) in devices.iter().enumerate() {
            assert!(!d.is_empty(), "{name}: an empty device name");
            assert!(!devices[..i].contains(d), "{name}: {d} twice");
        }
        assert_eq!(parsed.devices_of(name), &devices[..]);
    }
    let again = parse_dump(&dump_of(&parsed), wanted).expect("a rebuilt dump parses");
    for iface in &parsed.interfaces {
        assert_eq!(
            again.of(&iface.name),
            &iface.prefixes[..],
            "the rebuilt dump differs"
        );
    }
    assert_eq!(again.interfaces.len(), parsed.interfaces.len());
    assert_eq!(again.skipped, 0);
    Ok(parsed)
}

/// `parsed` as netifd would send it: `{"interface": [{"interface": name, "ipv6-prefix":
/// [{"address", "mask"}, ...]}, ...]}`.
fn dump_of(parsed: &NetifdPrefixes) -> Vec<u8> {
    let mut b = BlobmsgBuilder::new();
    let list = b.open_array("interface");
    for i in &parsed.interfaces {
        let iface = b.open_table("");
        b.put_string("interface", &i.name);
        let prefixes = b.open_array("ipv6-prefix");
        for net in &i.prefixes {
            let entry = b.open_table("");
            b.put_string("address", &net.addr().to_string());
            b.put_u32("mask", u32::from(net.prefix_len()));
            b.close(entry);
        }
        b.close(prefixes);
        b.close(iface);
    }
    b.close(list);
    b.finish()
}
