//! Real Neighbor Discovery frames captured from the Linux kernel (6.18) and ndisc6, for tests.
//!
//! Captured with `scripts/capture-wire-fixtures.sh`: two network namespaces joined by a veth
//! pair, A = `wa` 02:00:00:00:00:0a 2001:db8::a, B = `wb` 02:00:00:00:00:0b 2001:db8::b,
//! forwarding off, `tcpdump -i wa -w` in A (so it saw A's frames leaving and B's arriving),
//! then `tcpdump -xx -r` for the bytes. Every frame is complete from the Ethernet header on,
//! no FCS, no padding (each is at least 60 bytes). Each line is `bytes // offset range, field`.

/// DAD probe sent by A's kernel when `ip addr add 2001:db8::a/64 dev wa` ran (step 1):
/// source ::, destination the target's solicited-node group, no SLLA (RFC 4861 section 7.2.2)
/// but an enhanced-DAD Nonce option (RFC 7527, `enhanced_dad=1`), an option type the parser
/// must skip.
#[rustfmt::skip]
pub const NS_DAD: &[u8] = &[
    0x33, 0x33, 0xff, 0x00, 0x00, 0x0a, //  0.. 6 Ethernet destination 33:33:ff:00:00:0a
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //  6..12 Ethernet source 02:00:00:00:00:0a
    0x86, 0xdd, // 12..14 EtherType 0x86dd IPv6
    0x60, 0x00, 0x00, 0x00, // 14..18 IPv6 version 6, traffic class 0, flow label 0x00000
    0x00, 0x20, // 18..20 IPv6 payload length 32
    0x3a, // 20..21 IPv6 next header 58 (ICMPv6)
    0xff, // 21..22 IPv6 hop limit 255
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 22..38 IPv6 source ::
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x0a, // 38..54 IPv6 destination ff02::1:ff00:a
    0x87, // 54..55 ICMPv6 type 135 (Neighbor Solicitation)
    0x00, // 55..56 ICMPv6 code 0
    0x0a, 0x3a, // 56..58 ICMPv6 checksum 0x0a3a
    0x00, 0x00, 0x00, 0x00, // 58..62 reserved
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, // 62..78 target 2001:db8::a
    0x0e, 0x01, // 78..80 option type 14 (Nonce, RFC 7527), length 1 (8 bytes)
    0x8e, 0xc7, 0xd5, 0xbe, 0xd0, 0x11, // 80..86 option data
];

/// Address resolution by A's kernel for 2001:db8::b (`ping -6`, step 2): multicast to
/// ff02::1:ff00:b from A's global address, with SLLA.
#[rustfmt::skip]
pub const NS_MULTICAST: &[u8] = &[
    0x33, 0x33, 0xff, 0x00, 0x00, 0x0b, //  0.. 6 Ethernet destination 33:33:ff:00:00:0b
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //  6..12 Ethernet source 02:00:00:00:00:0a
    0x86, 0xdd, // 12..14 EtherType 0x86dd IPv6
    0x60, 0x00, 0x00, 0x00, // 14..18 IPv6 version 6, traffic class 0, flow label 0x00000
    0x00, 0x20, // 18..20 IPv6 payload length 32
    0x3a, // 20..21 IPv6 next header 58 (ICMPv6)
    0xff, // 21..22 IPv6 hop limit 255
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, // 22..38 IPv6 source 2001:db8::a
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x0b, // 38..54 IPv6 destination ff02::1:ff00:b
    0x87, // 54..55 ICMPv6 type 135 (Neighbor Solicitation)
    0x00, // 55..56 ICMPv6 code 0
    0x1c, 0x03, // 56..58 ICMPv6 checksum 0x1c03
    0x00, 0x00, 0x00, 0x00, // 58..62 reserved
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, // 62..78 target 2001:db8::b
    0x01, 0x01, // 78..80 option type 1 (Source Link-Layer Address), length 1 (8 bytes)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, // 80..86 option data 02:00:00:00:00:0a
];

/// B's kernel answering [`NS_MULTICAST`]: unicast back to A, flags S|O (no R: forwarding off),
/// TLLA. The shape of NA the daemon sends.
#[rustfmt::skip]
pub const NA_SOLICITED: &[u8] = &[
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //  0.. 6 Ethernet destination 02:00:00:00:00:0a
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, //  6..12 Ethernet source 02:00:00:00:00:0b
    0x86, 0xdd, // 12..14 EtherType 0x86dd IPv6
    0x60, 0x00, 0x00, 0x00, // 14..18 IPv6 version 6, traffic class 0, flow label 0x00000
    0x00, 0x20, // 18..20 IPv6 payload length 32
    0x3a, // 20..21 IPv6 next header 58 (ICMPv6)
    0xff, // 21..22 IPv6 hop limit 255
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, // 22..38 IPv6 source 2001:db8::b
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, // 38..54 IPv6 destination 2001:db8::a
    0x88, // 54..55 ICMPv6 type 136 (Neighbor Advertisement)
    0x00, // 55..56 ICMPv6 code 0
    0x8a, 0x4d, // 56..58 ICMPv6 checksum 0x8a4d
    0x60, 0x00, 0x00, 0x00, // 58..62 flags S|O (0x60), reserved
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, // 62..78 target 2001:db8::b
    0x02, 0x01, // 78..80 option type 2 (Target Link-Layer Address), length 1 (8 bytes)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, // 80..86 option data 02:00:00:00:00:0b
];

/// NUD probe by A's kernel (step 3: entry forced STALE, then traffic; after
/// delay_first_probe_time the PROBE state sends a unicast NS to the cached MAC). Source is A's
/// link-local address, destination the target itself; the kernel still adds SLLA.
#[rustfmt::skip]
pub const NS_UNICAST_NUD: &[u8] = &[
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, //  0.. 6 Ethernet destination 02:00:00:00:00:0b
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //  6..12 Ethernet source 02:00:00:00:00:0a
    0x86, 0xdd, // 12..14 EtherType 0x86dd IPv6
    0x60, 0x00, 0x00, 0x00, // 14..18 IPv6 version 6, traffic class 0, flow label 0x00000
    0x00, 0x20, // 18..20 IPv6 payload length 32
    0x3a, // 20..21 IPv6 next header 58 (ICMPv6)
    0xff, // 21..22 IPv6 hop limit 255
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a, // 22..38 IPv6 source fe80::ff:fe00:a
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, // 38..54 IPv6 destination 2001:db8::b
    0x87, // 54..55 ICMPv6 type 135 (Neighbor Solicitation)
    0x00, // 55..56 ICMPv6 code 0
    0x1c, 0x87, // 56..58 ICMPv6 checksum 0x1c87
    0x00, 0x00, 0x00, 0x00, // 58..62 reserved
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, // 62..78 target 2001:db8::b
    0x01, 0x01, // 78..80 option type 1 (Source Link-Layer Address), length 1 (8 bytes)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, // 80..86 option data 02:00:00:00:00:0a
];

/// B's kernel answering [`NS_UNICAST_NUD`]: flags S only and no TLLA option, because Linux
/// sets O and includes TLLA only for multicast solicitations (`ndisc_recv_ns`). 78 bytes.
#[rustfmt::skip]
pub const NA_UNICAST_NO_TLLA: &[u8] = &[
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //  0.. 6 Ethernet destination 02:00:00:00:00:0a
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, //  6..12 Ethernet source 02:00:00:00:00:0b
    0x86, 0xdd, // 12..14 EtherType 0x86dd IPv6
    0x60, 0x00, 0x00, 0x00, // 14..18 IPv6 version 6, traffic class 0, flow label 0x00000
    0x00, 0x18, // 18..20 IPv6 payload length 24
    0x3a, // 20..21 IPv6 next header 58 (ICMPv6)
    0xff, // 21..22 IPv6 hop limit 255
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, // 22..38 IPv6 source 2001:db8::b
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a, // 38..54 IPv6 destination fe80::ff:fe00:a
    0x88, // 54..55 ICMPv6 type 136 (Neighbor Advertisement)
    0x00, // 55..56 ICMPv6 code 0
    0xde, 0x99, // 56..58 ICMPv6 checksum 0xde99
    0x40, 0x00, 0x00, 0x00, // 58..62 flags S (0x40), reserved
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, // 62..78 target 2001:db8::b
];

/// Multicast NS from user space: `ndisc6 -1 -r 1 2001:db8::b wa` (step 4) through a raw ICMPv6
/// socket. The kernel gave it a non-zero flow label (auto flow labels for sockets).
#[rustfmt::skip]
pub const NS_NDISC6: &[u8] = &[
    0x33, 0x33, 0xff, 0x00, 0x00, 0x0b, //  0.. 6 Ethernet destination 33:33:ff:00:00:0b
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //  6..12 Ethernet source 02:00:00:00:00:0a
    0x86, 0xdd, // 12..14 EtherType 0x86dd IPv6
    0x60, 0x01, 0x7c, 0xec, // 14..18 IPv6 version 6, traffic class 0, flow label 0x17cec
    0x00, 0x20, // 18..20 IPv6 payload length 32
    0x3a, // 20..21 IPv6 next header 58 (ICMPv6)
    0xff, // 21..22 IPv6 hop limit 255
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a, // 22..38 IPv6 source fe80::ff:fe00:a
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x0b, // 38..54 IPv6 destination ff02::1:ff00:b
    0x87, // 54..55 ICMPv6 type 135 (Neighbor Solicitation)
    0x00, // 55..56 ICMPv6 code 0
    0x4c, 0x3b, // 56..58 ICMPv6 checksum 0x4c3b
    0x00, 0x00, 0x00, 0x00, // 58..62 reserved
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, // 62..78 target 2001:db8::b
    0x01, 0x01, // 78..80 option type 1 (Source Link-Layer Address), length 1 (8 bytes)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, // 80..86 option data 02:00:00:00:00:0a
];

/// NUD probe by A's kernel for B's link-local address: A cached fe80::ff:fe00:b as STALE from a
/// NUD probe B sent it, used the entry for its answer, and probed it a second later. Link-local
/// source, destination and target.
#[rustfmt::skip]
pub const NS_LINK_LOCAL_NUD: &[u8] = &[
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, //  0.. 6 Ethernet destination 02:00:00:00:00:0b
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //  6..12 Ethernet source 02:00:00:00:00:0a
    0x86, 0xdd, // 12..14 EtherType 0x86dd IPv6
    0x60, 0x00, 0x00, 0x00, // 14..18 IPv6 version 6, traffic class 0, flow label 0x00000
    0x00, 0x20, // 18..20 IPv6 payload length 32
    0x3a, // 20..21 IPv6 next header 58 (ICMPv6)
    0xff, // 21..22 IPv6 hop limit 255
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a, // 22..38 IPv6 source fe80::ff:fe00:a
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0b, // 38..54 IPv6 destination fe80::ff:fe00:b
    0x87, // 54..55 ICMPv6 type 135 (Neighbor Solicitation)
    0x00, // 55..56 ICMPv6 code 0
    0x7c, 0xf7, // 56..58 ICMPv6 checksum 0x7cf7
    0x00, 0x00, 0x00, 0x00, // 58..62 reserved
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0b, // 62..78 target fe80::ff:fe00:b
    0x01, 0x01, // 78..80 option type 1 (Source Link-Layer Address), length 1 (8 bytes)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, // 80..86 option data 02:00:00:00:00:0a
];

/// A's kernel defending 2001:db8::a against B's DAD probe (step 5: the same address added on B):
/// to ff02::1 (RFC 4861 section 7.2.4), S clear, O set, TLLA.
#[rustfmt::skip]
pub const NA_DAD_DEFENCE: &[u8] = &[
    0x33, 0x33, 0x00, 0x00, 0x00, 0x01, //  0.. 6 Ethernet destination 33:33:00:00:00:01
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, //  6..12 Ethernet source 02:00:00:00:00:0a
    0x86, 0xdd, // 12..14 EtherType 0x86dd IPv6
    0x60, 0x00, 0x00, 0x00, // 14..18 IPv6 version 6, traffic class 0, flow label 0x00000
    0x00, 0x20, // 18..20 IPv6 payload length 32
    0x3a, // 20..21 IPv6 next header 58 (ICMPv6)
    0xff, // 21..22 IPv6 hop limit 255
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, // 22..38 IPv6 source 2001:db8::a
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // 38..54 IPv6 destination ff02::1
    0x88, // 54..55 ICMPv6 type 136 (Neighbor Advertisement)
    0x00, // 55..56 ICMPv6 code 0
    0xf9, 0x0f, // 56..58 ICMPv6 checksum 0xf90f
    0x20, 0x00, 0x00, 0x00, // 58..62 flags O (0x20), reserved
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, // 62..78 target 2001:db8::a
    0x02, 0x01, // 78..80 option type 2 (Target Link-Layer Address), length 1 (8 bytes)
    0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, // 80..86 option data 02:00:00:00:00:0a
];

/// Every fixture with its name, for properties that hold for all of them.
pub const ALL: [(&str, &[u8]); 8] = [
    ("NS_DAD", NS_DAD),
    ("NS_MULTICAST", NS_MULTICAST),
    ("NA_SOLICITED", NA_SOLICITED),
    ("NS_UNICAST_NUD", NS_UNICAST_NUD),
    ("NA_UNICAST_NO_TLLA", NA_UNICAST_NO_TLLA),
    ("NS_NDISC6", NS_NDISC6),
    ("NS_LINK_LOCAL_NUD", NS_LINK_LOCAL_NUD),
    ("NA_DAD_DEFENCE", NA_DAD_DEFENCE),
];

/// Offset of the ICMPv6 message in the fixtures above (no extension headers).
pub const ICMP_AT: usize = 54;

/// Recomputes the ICMPv6 checksum of a fixture-shaped frame after a test changed a field, so
/// that the test fails for the reason it is about. `icmp_at` is where the message starts; it
/// ends where the IPv6 Payload Length says.
pub fn refresh_checksum(frame: &mut [u8], icmp_at: usize) {
    let src = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&frame[22..38]).unwrap());
    let dst = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&frame[38..54]).unwrap());
    let end = 54 + usize::from(u16::from_be_bytes([frame[18], frame[19]]));
    let message = &mut frame[icmp_at..end];
    message[2..4].fill(0);
    let sum = crate::wire::icmpv6::checksum(&src, &dst, message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
}

/// Sets the IPv6 Payload Length of a frame.
pub fn set_payload_len(frame: &mut [u8], len: u16) {
    frame[18..20].copy_from_slice(&len.to_be_bytes());
}

/// `frame` with an extension header of type `kind` inserted after the fixed header: the
/// header's first byte is overwritten with the frame's old Next Header and Payload Length
/// grows by the header's size. The ICMPv6 checksum stays valid (its pseudo-header counts the
/// ICMPv6 length, not the Payload Length, RFC 8200 section 8.1).
pub fn with_extension_header(frame: &[u8], kind: u8, header: &[u8]) -> Vec<u8> {
    let mut out = frame[..54].to_vec();
    let mut header = header.to_vec();
    header[0] = frame[20];
    out[20] = kind;
    out.extend_from_slice(&header);
    out.extend_from_slice(&frame[54..]);
    let len = u16::from_be_bytes([frame[18], frame[19]]) + header.len() as u16;
    set_payload_len(&mut out, len);
    out
}

/// Two made-up unicast MACs for frames the tests build.
pub const MAC_A: crate::wire::EthernetAddress = crate::wire::EthernetAddress([2, 0, 0, 0, 0, 0x0a]);
pub const MAC_B: crate::wire::EthernetAddress = crate::wire::EthernetAddress([2, 0, 0, 0, 0, 0x0b]);

pub fn ip(text: &str) -> std::net::Ipv6Addr {
    text.parse().unwrap()
}

/// A copy of `base` changed by `change`, with the checksum recomputed afterwards.
pub fn mutated(base: &[u8], change: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut frame = base.to_vec();
    change(&mut frame);
    refresh_checksum(&mut frame, ICMP_AT);
    frame
}
