//! ICMPv6 (RFC 4443): the checksum, and the layout shared by Neighbor Solicitation and
//! Neighbor Advertisement messages (RFC 4861 sections 4.3 and 4.4) with their options
//! (section 4.6).

use std::net::Ipv6Addr;

use super::ethernet::{array_at, EthernetAddress};
use super::ipv6::next_header;
use super::Truncated;

/// RFC 4861 section 4.3.
pub const TYPE_NEIGHBOR_SOLICITATION: u8 = 135;
/// RFC 4861 section 4.4.
pub const TYPE_NEIGHBOR_ADVERTISEMENT: u8 = 136;

/// Type, Code, Checksum: the part every ICMPv6 message has (RFC 4443 section 2.1).
pub const HEADER_LEN: usize = 4;
/// Type, Code, Checksum, Reserved/flags, Target Address: the fixed part of NS and NA.
pub const NDISC_LEN: usize = 24;

/// Byte ranges of an NS/NA message.
pub mod field {
    use std::ops::{Range, RangeFrom};

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    /// NS: reserved. NA: R, S, O flags in the top bits (`NaFlags`), then reserved (RFC 4861
    /// section 4.4).
    pub const FLAGS_RESERVED: Range<usize> = 4..8;
    pub const TARGET: Range<usize> = 8..24;
    pub const OPTIONS: RangeFrom<usize> = 24..;
}

/// Neighbor Discovery option types (RFC 4861 section 4.6).
pub mod option_type {
    pub const SOURCE_LINK_LAYER_ADDRESS: u8 = 1;
    pub const TARGET_LINK_LAYER_ADDRESS: u8 = 2;
}

/// Length of a link-layer address option on Ethernet: 1 unit of 8 octets (RFC 2464
/// section 8).
pub const ETHERNET_LLADDR_OPTION_LEN: usize = 8;

/// One's-complement sum of big-endian 16-bit words, an odd last byte padded with zero
/// (RFC 1071).
fn sum_words(mut acc: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(2);
    for word in &mut words {
        acc += u64::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Sum of the IPv6 pseudo-header (RFC 8200 section 8.1) and `message`: source, destination,
/// upper-layer packet length as 32 bits, three zero octets and Next Header 58. The length is
/// the ICMPv6 message's own, not the IPv6 Payload Length, which also counts extension headers.
fn pseudo_header_sum(src: &Ipv6Addr, dst: &Ipv6Addr, message: &[u8]) -> u16 {
    let mut acc = sum_words(0, &src.octets());
    acc = sum_words(acc, &dst.octets());
    // A message comes from an IPv6 payload, whose length is a u16, so this never saturates.
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    acc = sum_words(acc, &len.to_be_bytes());
    acc = sum_words(acc, &[0, 0, 0, next_header::ICMPV6]);
    fold(sum_words(acc, message))
}

/// The value to store in the Checksum field of `message`, whose own checksum bytes must be
/// zero (RFC 4443 section 2.3).
pub fn checksum(src: &Ipv6Addr, dst: &Ipv6Addr, message: &[u8]) -> u16 {
    !pseudo_header_sum(src, dst, message)
}

/// Whether `message`, checksum field included, sums to all ones (RFC 1071 section 1).
pub fn checksum_valid(src: &Ipv6Addr, dst: &Ipv6Addr, message: &[u8]) -> bool {
    pseudo_header_sum(src, dst, message) == 0xffff
}

/// A read/write view of an NS or NA message (the ICMPv6 header onward).
#[derive(Debug, Clone)]
pub struct NdiscPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NdiscPacket<T> {
    /// Wraps a buffer that holds at least the 24-byte fixed part.
    pub fn new_checked(buffer: T) -> Result<NdiscPacket<T>, Truncated> {
        if buffer.as_ref().len() < NDISC_LEN {
            return Err(Truncated);
        }
        Ok(NdiscPacket { buffer })
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes(array_at(self.buffer.as_ref(), field::CHECKSUM.start))
    }

    /// The R/S/O flag octet of an NA; zero (reserved) in an NS.
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS_RESERVED.start]
    }

    pub fn target(&self) -> Ipv6Addr {
        Ipv6Addr::from(array_at::<16>(self.buffer.as_ref(), field::TARGET.start))
    }

    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::OPTIONS]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> NdiscPacket<T> {
    pub fn set_msg_type(&mut self, msg_type: u8) {
        self.buffer.as_mut()[field::TYPE] = msg_type;
    }

    pub fn set_code(&mut self, code: u8) {
        self.buffer.as_mut()[field::CODE] = code;
    }

    pub fn set_checksum(&mut self, checksum: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&checksum.to_be_bytes());
    }

    /// Writes the flag octet and clears the 24 reserved bits after it.
    pub fn set_flags(&mut self, flags: u8) {
        self.buffer.as_mut()[field::FLAGS_RESERVED].copy_from_slice(&[flags, 0, 0, 0]);
    }

    pub fn set_target(&mut self, target: &Ipv6Addr) {
        self.buffer.as_mut()[field::TARGET].copy_from_slice(&target.octets());
    }

    pub fn options_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::OPTIONS]
    }

    /// Computes and stores the checksum over the whole buffer, which must be exactly the
    /// message.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let value = checksum(src, dst, self.buffer.as_ref());
        self.set_checksum(value);
    }
}

/// The options area is malformed: an option with Length 0, one that runs past the end of the
/// message (RFC 4861 section 4.6), or a link-layer address option whose length is not the
/// 8 octets Ethernet needs (RFC 2464 section 8; Linux drops these too, `ndisc_opt_addr_data`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadOption;

/// Checks every option and returns the address in the first option of type `wanted` (a
/// link-layer address option). Later duplicates and options of other types are skipped:
/// RFC 4861 section 4.6 says unknown options must be silently ignored, and Linux's
/// `ndisc_parse_options` also keeps the first of a duplicated link-layer option. Every
/// option is still length-checked, so a bad one after the wanted one rejects the message.
pub fn find_lladdr_option(
    options: &[u8],
    wanted: u8,
) -> Result<Option<EthernetAddress>, BadOption> {
    let mut found = None;
    let mut rest = options;
    while !rest.is_empty() {
        let (kind, units) = match rest {
            [kind, units, ..] => (*kind, usize::from(*units)),
            _ => return Err(BadOption),
        };
        let len = units * 8;
        if len == 0 || len > rest.len() {
            return Err(BadOption);
        }
        let (option, after) = rest.split_at(len);
        let is_lladdr = kind == option_type::SOURCE_LINK_LAYER_ADDRESS
            || kind == option_type::TARGET_LINK_LAYER_ADDRESS;
        if is_lladdr && len != ETHERNET_LLADDR_OPTION_LEN {
            return Err(BadOption);
        }
        if kind == wanted && found.is_none() {
            found = Some(EthernetAddress(array_at(option, 2)));
        }
        rest = after;
    }
    Ok(found)
}

/// Writes a link-layer address option of `kind` for an Ethernet address into the first 8
/// bytes of `buf`, which the caller has sized.
pub fn emit_lladdr_option(kind: u8, addr: EthernetAddress, buf: &mut [u8]) {
    buf[0] = kind;
    buf[1] = (ETHERNET_LLADDR_OPTION_LEN / 8) as u8;
    buf[2..ETHERNET_LLADDR_OPTION_LEN].copy_from_slice(&addr.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures;
    use crate::wire::NaFlags;

    /// (src, dst, ICMPv6 message) of a fixture without extension headers.
    fn split(frame: &[u8]) -> (Ipv6Addr, Ipv6Addr, &[u8]) {
        let src = Ipv6Addr::from(array_at::<16>(frame, 22));
        let dst = Ipv6Addr::from(array_at::<16>(frame, 38));
        (src, dst, &frame[54..])
    }

    #[test]
    fn checksum_matches_every_kernel_frame() {
        for (name, frame) in fixtures::ALL {
            let (src, dst, message) = split(frame);
            assert!(checksum_valid(&src, &dst, message), "{name}");
            let mut zeroed = message.to_vec();
            zeroed[2..4].fill(0);
            let stored = u16::from_be_bytes([message[2], message[3]]);
            assert_eq!(checksum(&src, &dst, &zeroed), stored, "{name}");
        }
    }

    #[test]
    fn checksum_detects_single_bit_errors() {
        let (src, dst, message) = split(fixtures::NS_MULTICAST);
        for byte in 0..message.len() {
            for bit in 0..8 {
                let mut corrupted = message.to_vec();
                corrupted[byte] ^= 1 << bit;
                assert!(
                    !checksum_valid(&src, &dst, &corrupted),
                    "byte {byte} bit {bit}"
                );
            }
        }
        // The pseudo-header is covered too.
        let other = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xc);
        assert!(!checksum_valid(&other, &dst, message));
        assert!(!checksum_valid(&src, &other, message));
    }

    #[test]
    fn checksum_of_odd_length_pads_with_zero() {
        let src = Ipv6Addr::UNSPECIFIED;
        let dst = Ipv6Addr::UNSPECIFIED;
        // Pseudo-header: length 3, next header 58; words 0x0102 + 0x0300 + 3 + 58.
        let expected = !(0x0102u16 + 0x0300 + 3 + 58);
        assert_eq!(checksum(&src, &dst, &[1, 2, 3]), expected);
    }

    #[test]
    fn ndisc_view_reads_na_fields() {
        let na = NdiscPacket::new_checked(&fixtures::NA_SOLICITED[54..]).unwrap();
        assert_eq!(na.msg_type(), TYPE_NEIGHBOR_ADVERTISEMENT);
        assert_eq!(na.code(), 0);
        assert_eq!(na.checksum(), 0x8a4d);
        assert_eq!(
            na.flags(),
            NaFlags::SOLICITED.with(NaFlags::OVERRIDE, true).octet()
        );
        assert_eq!(
            na.target(),
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xb)
        );
        assert_eq!(na.options(), &[2, 1, 2, 0, 0, 0, 0, 0x0b]);
        assert_eq!(
            NdiscPacket::new_checked(&fixtures::NA_SOLICITED[54..77]).err(),
            Some(Truncated)
        );
    }

    #[test]
    fn ndisc_view_writes_every_byte() {
        let (src, dst, message) = split(fixtures::NA_SOLICITED);
        let mut buf = [0x2au8; 32];
        let mut out = NdiscPacket::new_checked(&mut buf[..]).unwrap();
        out.set_msg_type(TYPE_NEIGHBOR_ADVERTISEMENT);
        out.set_code(0);
        out.set_flags(NaFlags::SOLICITED.with(NaFlags::OVERRIDE, true).octet());
        out.set_target(&src);
        emit_lladdr_option(
            option_type::TARGET_LINK_LAYER_ADDRESS,
            EthernetAddress([2, 0, 0, 0, 0, 0x0b]),
            out.options_mut(),
        );
        out.fill_checksum(&src, &dst);
        assert_eq!(&buf[..], message);
    }

    const SLLA_A: [u8; 8] = [1, 1, 2, 0, 0, 0, 0, 0x0a];
    const SLLA_B: [u8; 8] = [1, 1, 2, 0, 0, 0, 0, 0x0b];
    const TLLA_B: [u8; 8] = [2, 1, 2, 0, 0, 0, 0, 0x0b];
    /// The enhanced-DAD nonce option (RFC 7527) the kernel put in its DAD probe.
    const NONCE: [u8; 8] = [14, 1, 0x8e, 0xc7, 0xd5, 0xbe, 0xd0, 0x11];
    const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x0a]);
    const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 0x0b]);

    #[test]
    fn lladdr_option_search() {
        use option_type::{SOURCE_LINK_LAYER_ADDRESS as S, TARGET_LINK_LAYER_ADDRESS as T};
        assert_eq!(find_lladdr_option(&[], S), Ok(None));
        assert_eq!(find_lladdr_option(&SLLA_A, S), Ok(Some(MAC_A)));
        assert_eq!(find_lladdr_option(&SLLA_A, T), Ok(None));
        assert_eq!(find_lladdr_option(&NONCE, S), Ok(None));
        assert_eq!(
            find_lladdr_option(&[NONCE, TLLA_B, SLLA_A].concat(), S),
            Ok(Some(MAC_A))
        );
        assert_eq!(
            find_lladdr_option(&[NONCE, TLLA_B, SLLA_A].concat(), T),
            Ok(Some(MAC_B))
        );
        // Duplicates: the first wins.
        assert_eq!(
            find_lladdr_option(&[SLLA_B, SLLA_A].concat(), S),
            Ok(Some(MAC_B))
        );
        // A 16-byte unknown option is skipped whole.
        let long_unknown = [200, 2, 0, 0, 0, 0, 0, 0, 1, 1, 9, 9, 9, 9, 9, 9];
        assert_eq!(
            find_lladdr_option(&[&long_unknown[..], &SLLA_A[..]].concat(), S),
            Ok(Some(MAC_A))
        );
    }

    #[test]
    fn lladdr_option_search_rejects_bad_lengths() {
        let s = option_type::SOURCE_LINK_LAYER_ADDRESS;
        // Length 0, even after the wanted option.
        assert_eq!(
            find_lladdr_option(&[SLLA_A, [9, 0, 0, 0, 0, 0, 0, 0]].concat(), s),
            Err(BadOption)
        );
        // One byte left: no room for a Length field.
        assert_eq!(
            find_lladdr_option(&[&SLLA_A[..], &[7]].concat(), s),
            Err(BadOption)
        );
        // Length 2 (16 bytes) with only 8 present.
        assert_eq!(
            find_lladdr_option(&[1, 2, 2, 0, 0, 0, 0, 0x0a], s),
            Err(BadOption)
        );
        // A link-layer address option of 16 bytes is not an Ethernet one.
        let wide = [1, 2, 2, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(find_lladdr_option(&wide, s), Err(BadOption));
    }
}
