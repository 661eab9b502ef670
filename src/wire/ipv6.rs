//! The IPv6 fixed header (RFC 8200 section 3), the extension-header walk (section 4) and
//! solicited-node multicast addresses (RFC 4291 section 2.7.1).

use std::net::Ipv6Addr;

use super::ethernet::array_at;
use super::{BufferTooSmall, Truncated};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;

/// Byte ranges of the fixed header.
pub mod field {
    use std::ops::Range;

    /// Version (4 bits), Traffic Class (8 bits), Flow Label (20 bits).
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
}

/// Next Header values this crate cares about (IANA "Assigned Internet Protocol Numbers").
pub mod next_header {
    pub const HOP_BY_HOP: u8 = 0;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const ICMPV6: u8 = 58;
    pub const DESTINATION_OPTIONS: u8 = 60;
}

/// A read/write view of an IPv6 packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer that holds at least the fixed header. Whether the Payload Length fits
    /// is checked by [`Packet::payload`], so a caller can look at the version first.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Truncated> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Truncated);
        }
        Ok(Packet { buffer })
    }

    fn ver_tc_flow(&self) -> u32 {
        u32::from_be_bytes(array_at(self.buffer.as_ref(), field::VER_TC_FLOW.start))
    }

    pub fn version(&self) -> u8 {
        (self.ver_tc_flow() >> 28) as u8
    }

    pub fn traffic_class(&self) -> u8 {
        (self.ver_tc_flow() >> 20) as u8
    }

    pub fn flow_label(&self) -> u32 {
        self.ver_tc_flow() & 0x000f_ffff
    }

    pub fn payload_len(&self) -> u16 {
        u16::from_be_bytes(array_at(self.buffer.as_ref(), field::PAYLOAD_LEN.start))
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array_at::<16>(self.buffer.as_ref(), field::SRC_ADDR.start))
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array_at::<16>(self.buffer.as_ref(), field::DST_ADDR.start))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The `payload_len` bytes after the fixed header, borrowed from the underlying buffer.
    /// Bytes beyond them (Ethernet padding of short frames) are not part of the packet.
    /// Jumbograms (RFC 2675) are not supported: a Payload Length of 0 gives an empty payload.
    pub fn payload(&self) -> Result<&'a [u8], Truncated> {
        let end = HEADER_LEN + usize::from(self.payload_len());
        self.buffer.as_ref().get(HEADER_LEN..end).ok_or(Truncated)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version 6, the traffic class and the flow label in one go: they share a word.
    pub fn set_ver_tc_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let word = (6u32 << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000f_ffff);
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&word.to_be_bytes());
    }

    pub fn set_payload_len(&mut self, len: u16) {
        self.buffer.as_mut()[field::PAYLOAD_LEN].copy_from_slice(&len.to_be_bytes());
    }

    pub fn set_next_header(&mut self, next_header: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = next_header;
    }

    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hop_limit;
    }

    pub fn set_src_addr(&mut self, addr: &Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&addr.octets());
    }

    pub fn set_dst_addr(&mut self, addr: &Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&addr.octets());
    }
}

/// The fixed-header fields NDP uses. Traffic Class and Flow Label are emitted as 0, as the
/// Linux kernel does for its own NS and NA (`ip6_flow_hdr(hdr, 0, 0)` in ndisc.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    pub src_addr: Ipv6Addr,
    pub dst_addr: Ipv6Addr,
    pub next_header: u8,
    pub payload_len: u16,
    pub hop_limit: u8,
}

impl Repr {
    /// `None` when the version is not 6.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Option<Repr> {
        if packet.version() != 6 {
            return None;
        }
        Some(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: packet.payload_len(),
            hop_limit: packet.hop_limit(),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_ver_tc_flow(0, 0);
        packet.set_payload_len(self.payload_len);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(&self.src_addr);
        packet.set_dst_addr(&self.dst_addr);
    }
}

/// Writes the fixed header for `repr` at the start of `buf` and returns the payload area.
pub fn emit_header<'a>(repr: &Repr, buf: &'a mut [u8]) -> Result<&'a mut [u8], BufferTooSmall> {
    let needed = HEADER_LEN + usize::from(repr.payload_len);
    let available = buf.len();
    let packet_bytes = buf
        .get_mut(..needed)
        .ok_or(BufferTooSmall { needed, available })?;
    let (header, payload) = packet_bytes.split_at_mut(HEADER_LEN);
    repr.emit(&mut Packet { buffer: header });
    Ok(payload)
}

/// Why the extension-header chain does not lead to an upper-layer header we can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// A header, or the length it claims, runs past the IPv6 payload.
    Truncated,
    /// A Fragment header: the upper layer cannot be judged without reassembly.
    Fragment,
    /// Hop-by-Hop anywhere but first (RFC 8200 section 4.1), or more than
    /// [`MAX_EXTENSION_HEADERS`] headers.
    Unsupported,
}

/// Bound on the chain walk, so a crafted packet cannot make us loop over hundreds of headers.
/// Real NDP traffic carries at most one (Hop-by-Hop, for MLD-style router alert or padding).
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// Walks Hop-by-Hop (0), Routing (43) and Destination Options (60) headers, all of which
/// share the "Next Header, Hdr Ext Len in 8-octet units not counting the first 8" layout
/// (RFC 8200 sections 4.3, 4.4, 4.6), and returns the first other Next Header value with the
/// bytes that follow it. `first` is the fixed header's Next Header; `payload` the IPv6
/// payload. A Fragment header (44) is an error; any other value ends the walk.
pub fn upper_layer(first: u8, payload: &[u8]) -> Result<(u8, &[u8]), ChainError> {
    let mut next = first;
    let mut rest = payload;
    let mut walked = 0;
    loop {
        match next {
            next_header::FRAGMENT => return Err(ChainError::Fragment),
            next_header::HOP_BY_HOP | next_header::ROUTING | next_header::DESTINATION_OPTIONS => {
                let misplaced_hbh = next == next_header::HOP_BY_HOP && walked > 0;
                if misplaced_hbh || walked == MAX_EXTENSION_HEADERS {
                    return Err(ChainError::Unsupported);
                }
                let (&following, &ext_len) = match rest {
                    [a, b, ..] => (a, b),
                    _ => return Err(ChainError::Truncated),
                };
                let header_len = (usize::from(ext_len) + 1) * 8;
                rest = rest.get(header_len..).ok_or(ChainError::Truncated)?;
                next = following;
                walked += 1;
            }
            upper => return Ok((upper, rest)),
        }
    }
}

/// The solicited-node multicast group ff02::1:ffXX:XXXX of an address: the prefix
/// ff02:0:0:0:0:1:ff00::/104 plus the low 24 bits (RFC 4291 section 2.7.1).
pub fn solicited_node(addr: &Ipv6Addr) -> Ipv6Addr {
    let mut octets = SOLICITED_NODE_PREFIX;
    octets[13..].copy_from_slice(&addr.octets()[13..]);
    Ipv6Addr::from(octets)
}

/// Whether `addr` lies in ff02::1:ff00:0/104 (RFC 4291 section 2.7.1).
pub fn is_solicited_node(addr: &Ipv6Addr) -> bool {
    addr.octets()[..13] == SOLICITED_NODE_PREFIX[..13]
}

const SOLICITED_NODE_PREFIX: [u8; 16] =
    [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures;

    fn ip(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    #[test]
    fn solicited_node_matches_rfc_and_kernel() {
        // RFC 4291 section 2.7.1's own example: 4037::01:800:200E:8C6C.
        assert_eq!(
            solicited_node(&ip("4037::1:800:200e:8c6c")),
            ip("ff02::1:ff0e:8c6c")
        );
        // The kernel's NS for 2001:db8::b went to ff02::1:ff00:b.
        let ns = Packet::new_checked(&fixtures::NS_MULTICAST[14..]).unwrap();
        assert_eq!(solicited_node(&ip("2001:db8::b")), ns.dst_addr());
    }

    #[test]
    fn solicited_node_recognition() {
        assert!(is_solicited_node(&ip("ff02::1:ff00:0")));
        assert!(is_solicited_node(&ip("ff02::1:ffff:ffff")));
        assert!(is_solicited_node(&solicited_node(&ip("fe80::1234:5678"))));
        assert!(!is_solicited_node(&ip("ff02::1")));
        assert!(!is_solicited_node(&ip("ff02::2:ff00:1")));
        assert!(!is_solicited_node(&ip("ff05::1:ff00:1")));
        assert!(!is_solicited_node(&ip("ff02::1:fe00:1")));
        assert!(!is_solicited_node(&ip("2001:db8::1:ff00:1")));
    }

    #[test]
    fn packet_view_reads_kernel_header() {
        let packet = Packet::new_checked(&fixtures::NS_NDISC6[14..]).unwrap();
        assert_eq!(packet.version(), 6);
        assert_eq!(packet.traffic_class(), 0);
        assert_eq!(packet.flow_label(), 0x17cec);
        assert_eq!(packet.payload_len(), 32);
        assert_eq!(packet.next_header(), next_header::ICMPV6);
        assert_eq!(packet.hop_limit(), 255);
        assert_eq!(packet.src_addr(), ip("fe80::ff:fe00:a"));
        assert_eq!(packet.dst_addr(), ip("ff02::1:ff00:b"));
        assert_eq!(packet.payload(), Ok(&fixtures::NS_NDISC6[54..]));
    }

    #[test]
    fn payload_excludes_padding_and_rejects_overlong_length() {
        let mut bytes = fixtures::NA_UNICAST_NO_TLLA[14..].to_vec();
        bytes.extend_from_slice(&[0; 6]);
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.payload().unwrap().len(), 24);

        let short = Packet::new_checked(&fixtures::NA_UNICAST_NO_TLLA[14..77]).unwrap();
        assert_eq!(short.payload(), Err(Truncated));
        assert_eq!(
            Packet::new_checked(&fixtures::NA_UNICAST_NO_TLLA[14..53]).err(),
            Some(Truncated)
        );
    }

    #[test]
    fn repr_round_trip_on_garbage_buffer() {
        let original = &fixtures::NA_SOLICITED[14..54];
        let repr = Repr::parse(&Packet::new_checked(original).unwrap()).unwrap();
        let mut buf = [0x2au8; HEADER_LEN + 32];
        let payload = emit_header(&repr, &mut buf).unwrap();
        assert_eq!(payload.len(), 32);
        assert_eq!(&buf[..HEADER_LEN], original);
        assert_eq!(
            emit_header(&repr, &mut [0u8; HEADER_LEN + 31]),
            Err(BufferTooSmall {
                needed: 72,
                available: 71
            })
        );
    }

    #[test]
    fn repr_rejects_other_versions() {
        let mut bytes = fixtures::NA_SOLICITED[14..].to_vec();
        bytes[0] = 0x45;
        assert_eq!(Repr::parse(&Packet::new_checked(&bytes[..]).unwrap()), None);
    }

    /// An 8-byte extension header: Next Header, Hdr Ext Len 0, PadN option of 4 zero bytes.
    fn padn_header(next: u8) -> [u8; 8] {
        [next, 0, 1, 4, 0, 0, 0, 0]
    }

    #[test]
    fn chain_walk_skips_hbh_routing_and_destination_options() {
        let mut payload = Vec::new();
        payload.extend_from_slice(&padn_header(next_header::DESTINATION_OPTIONS));
        payload.extend_from_slice(&padn_header(next_header::ROUTING));
        // A 16-byte Routing header (Hdr Ext Len 1).
        payload.extend_from_slice(&[next_header::ICMPV6, 1, 0, 0, 0, 0, 0, 0]);
        payload.extend_from_slice(&[0; 8]);
        payload.extend_from_slice(&[135, 0, 0, 0]);
        assert_eq!(
            upper_layer(next_header::HOP_BY_HOP, &payload),
            Ok((next_header::ICMPV6, &[135u8, 0, 0, 0][..]))
        );
        assert_eq!(upper_layer(6, &payload), Ok((6, &payload[..])));
    }

    #[test]
    fn chain_walk_errors() {
        let hbh = padn_header(next_header::ICMPV6);
        assert_eq!(
            upper_layer(next_header::HOP_BY_HOP, &hbh[..1]),
            Err(ChainError::Truncated)
        );
        assert_eq!(
            upper_layer(next_header::HOP_BY_HOP, &hbh[..7]),
            Err(ChainError::Truncated)
        );
        assert_eq!(
            upper_layer(next_header::HOP_BY_HOP, &hbh),
            Ok((next_header::ICMPV6, &[][..]))
        );
        // Hdr Ext Len 255 claims 2048 bytes.
        assert_eq!(
            upper_layer(
                next_header::DESTINATION_OPTIONS,
                &[58, 255, 0, 0, 0, 0, 0, 0]
            ),
            Err(ChainError::Truncated)
        );
        assert_eq!(
            upper_layer(next_header::FRAGMENT, &[58, 0, 0, 0, 0, 0, 0, 0]),
            Err(ChainError::Fragment)
        );
        let after_dst = padn_header(next_header::HOP_BY_HOP);
        assert_eq!(
            upper_layer(
                next_header::DESTINATION_OPTIONS,
                &[&after_dst[..], &hbh[..]].concat()
            ),
            Err(ChainError::Unsupported)
        );
    }

    #[test]
    fn chain_walk_is_bounded() {
        let chain = |headers: usize| {
            let mut payload = Vec::new();
            for i in 0..headers {
                let next = if i + 1 == headers {
                    next_header::ICMPV6
                } else {
                    next_header::DESTINATION_OPTIONS
                };
                payload.extend_from_slice(&padn_header(next));
            }
            payload
        };
        let at_limit = chain(MAX_EXTENSION_HEADERS);
        assert_eq!(
            upper_layer(next_header::DESTINATION_OPTIONS, &at_limit),
            Ok((next_header::ICMPV6, &[][..]))
        );
        let over = chain(MAX_EXTENSION_HEADERS + 1);
        assert_eq!(
            upper_layer(next_header::DESTINATION_OPTIONS, &over),
            Err(ChainError::Unsupported)
        );
    }
}
