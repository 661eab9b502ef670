//! Ethernet II framing (IEEE 802.3 with an EtherType) and MAC addresses.

use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use super::Truncated;

/// EtherType of IPv6 (RFC 2464 section 3).
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Destination, source, EtherType. No 802.1Q tag: AF_PACKET delivers frames with the VLAN
/// tag already stripped into the auxiliary data.
pub const HEADER_LEN: usize = 14;

/// Byte ranges of the Ethernet II header.
pub mod field {
    use std::ops::{Range, RangeFrom};

    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const PAYLOAD: RangeFrom<usize> = 14..;
}

/// A 48-bit IEEE MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);

    /// The I/G bit, the least significant bit of the first octet (IEEE 802 section 8.2).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// 33:33 + low 32 bits of the IPv6 multicast address (RFC 2464 section 7).
    pub fn from_ipv6_multicast(addr: &Ipv6Addr) -> EthernetAddress {
        let o = addr.octets();
        EthernetAddress([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// The text is not six colon-separated pairs of hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseEthernetAddressError;

impl fmt::Display for ParseEthernetAddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid MAC address, expected the form 02:00:00:00:00:01")
    }
}

impl std::error::Error for ParseEthernetAddressError {}

impl FromStr for EthernetAddress {
    type Err = ParseEthernetAddressError;

    /// Accepts exactly `xx:xx:xx:xx:xx:xx` (either case), the form `ip link` and UCI use.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut groups = s.split(':');
        for octet in out.iter_mut() {
            let group = groups.next().ok_or(ParseEthernetAddressError)?;
            // from_str_radix alone would accept "+f" and single digits.
            if group.len() != 2 || !group.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(ParseEthernetAddressError);
            }
            *octet = u8::from_str_radix(group, 16).map_err(|_| ParseEthernetAddressError)?;
        }
        if groups.next().is_some() {
            return Err(ParseEthernetAddressError);
        }
        Ok(EthernetAddress(out))
    }
}

/// A read/write view of an Ethernet II frame.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer that holds at least the 14-byte header.
    pub fn new_checked(buffer: T) -> Result<Frame<T>, Truncated> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Truncated);
        }
        Ok(Frame { buffer })
    }

    pub fn dst_addr(&self) -> EthernetAddress {
        EthernetAddress(array_at(self.buffer.as_ref(), field::DESTINATION.start))
    }

    pub fn src_addr(&self) -> EthernetAddress {
        EthernetAddress(array_at(self.buffer.as_ref(), field::SOURCE.start))
    }

    pub fn ethertype(&self) -> u16 {
        u16::from_be_bytes(array_at(self.buffer.as_ref(), field::ETHERTYPE.start))
    }
}

/// The source address of whatever `frame` holds, if it is long enough to have one: enough to
/// recognise our own frames looped back even when they are malformed.
pub fn source_addr(frame: &[u8]) -> Option<EthernetAddress> {
    Frame::new_checked(frame).ok().map(|f| f.src_addr())
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    /// Everything after the header, including any Ethernet padding; borrows the underlying
    /// buffer rather than the view, so layers can be peeled off and returned.
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    pub fn set_dst_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&addr.0);
    }

    pub fn set_src_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&addr.0);
    }

    pub fn set_ethertype(&mut self, ethertype: u16) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&ethertype.to_be_bytes());
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// The header fields of an Ethernet II frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    pub src_addr: EthernetAddress,
    pub dst_addr: EthernetAddress,
    pub ethertype: u16,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Repr {
        Repr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        }
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

/// Copies `N` bytes starting at `start`; callers have checked the length in `new_checked`.
pub(crate) fn array_at<const N: usize>(bytes: &[u8], start: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[start..start + N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures;

    #[test]
    fn display_and_from_str_round_trip() {
        let mac = EthernetAddress([0x02, 0x00, 0x00, 0xab, 0xcd, 0x0f]);
        assert_eq!(mac.to_string(), "02:00:00:ab:cd:0f");
        assert_eq!("02:00:00:ab:cd:0f".parse(), Ok(mac));
        assert_eq!("02:00:00:AB:CD:0F".parse(), Ok(mac));
    }

    #[test]
    fn from_str_rejects_malformed_text() {
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:01:02",
            "02:00:00:00:00:1",
            "02:00:00:00:00:001",
            "02-00-00-00-00-01",
            "02:00:00:00:00:0g",
            "02:00:00:00:00:+1",
            "02:00:00:00:00:01:",
            "é2:00:00:00:00:01",
        ] {
            assert_eq!(
                bad.parse::<EthernetAddress>(),
                Err(ParseEthernetAddressError),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn multicast_bit() {
        assert!(EthernetAddress::BROADCAST.is_multicast());
        assert!(EthernetAddress([0x33, 0x33, 0, 0, 0, 1]).is_multicast());
        assert!(EthernetAddress([0x01, 0, 0x5e, 0, 0, 1]).is_multicast());
        assert!(!EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]).is_multicast());
        assert!(!EthernetAddress::default().is_multicast());
    }

    #[test]
    fn ipv6_multicast_mapping_matches_kernel_frames() {
        // The kernel sent its NS for ff02::1:ff00:b to 33:33:ff:00:00:0b and its DAD-defence
        // NA for ff02::1 to 33:33:00:00:00:01.
        let ns = Frame::new_checked(fixtures::NS_MULTICAST).unwrap();
        let group: Ipv6Addr = "ff02::1:ff00:b".parse().unwrap();
        assert_eq!(EthernetAddress::from_ipv6_multicast(&group), ns.dst_addr());
        let na = Frame::new_checked(fixtures::NA_DAD_DEFENCE).unwrap();
        assert_eq!(
            EthernetAddress::from_ipv6_multicast(&Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)),
            na.dst_addr()
        );
    }

    #[test]
    fn frame_view_reads_and_writes_fields() {
        let frame = Frame::new_checked(fixtures::NA_SOLICITED).unwrap();
        let repr = Repr::parse(&frame);
        assert_eq!(repr.dst_addr, EthernetAddress([2, 0, 0, 0, 0, 0x0a]));
        assert_eq!(repr.src_addr, EthernetAddress([2, 0, 0, 0, 0, 0x0b]));
        assert_eq!(repr.ethertype, ETHERTYPE_IPV6);
        assert_eq!(frame.payload(), &fixtures::NA_SOLICITED[14..]);

        let mut buf = [0x2au8; HEADER_LEN];
        let mut out = Frame::new_checked(&mut buf[..]).unwrap();
        repr.emit(&mut out);
        assert_eq!(&buf[..], &fixtures::NA_SOLICITED[..HEADER_LEN]);
    }

    #[test]
    fn frame_needs_full_header() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                Frame::new_checked(&fixtures::NA_SOLICITED[..len]).err(),
                Some(Truncated)
            );
        }
        let empty = Frame::new_checked(&fixtures::NA_SOLICITED[..HEADER_LEN]).unwrap();
        assert!(empty.payload().is_empty());
    }
}
