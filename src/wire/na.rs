//! Neighbor Advertisement frames: emission (what the daemon sends) and receive validation
//! (RFC 4861 section 7.1.2, for tests and the lab's capture checks).

use std::net::Ipv6Addr;

use super::ethernet::{self, EthernetAddress};
use super::frame::{emit_headers, validate_ndisc, Headers};
use super::icmpv6::{self, na_flags, option_type, TYPE_NEIGHBOR_ADVERTISEMENT};
use super::{ipv6, BufferTooSmall, Invalid};

/// Frame length of the NA we send: Ethernet, IPv6, NA, Target Link-Layer Address option.
pub const NA_FRAME_LEN: usize = ethernet::HEADER_LEN
    + ipv6::HEADER_LEN
    + icmpv6::NDISC_LEN
    + icmpv6::ETHERNET_LLADDR_OPTION_LEN;

/// Neighbor Advertisement to send (RFC 4861 section 4.4), always with a Target Link-Layer
/// Address option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NaFrame {
    pub eth_src: EthernetAddress,
    pub eth_dst: EthernetAddress,
    pub ip_src: Ipv6Addr,
    pub ip_dst: Ipv6Addr,
    pub target: Ipv6Addr,
    pub router: bool,
    pub solicited: bool,
    pub override_flag: bool,
    pub target_lladdr: EthernetAddress,
}

/// Writes the NA with hop limit 255 (RFC 4861 section 7.1.2 makes receivers drop anything
/// else), Traffic Class and Flow Label 0, and a correct checksum. Writes exactly
/// [`NA_FRAME_LEN`] bytes, every one of them, and returns that length.
pub fn emit_na(na: &NaFrame, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
    let headers = Headers {
        eth_src: na.eth_src,
        eth_dst: na.eth_dst,
        ip_src: na.ip_src,
        ip_dst: na.ip_dst,
        hop_limit: 255,
    };
    let message_len = icmpv6::NDISC_LEN + icmpv6::ETHERNET_LLADDR_OPTION_LEN;
    let mut message = emit_headers(&headers, message_len, buf)?;
    message.set_msg_type(TYPE_NEIGHBOR_ADVERTISEMENT);
    message.set_code(0);
    let mut flags = 0;
    if na.router {
        flags |= na_flags::ROUTER;
    }
    if na.solicited {
        flags |= na_flags::SOLICITED;
    }
    if na.override_flag {
        flags |= na_flags::OVERRIDE;
    }
    message.set_flags(flags);
    message.set_target(&na.target);
    icmpv6::emit_lladdr_option(
        option_type::TARGET_LINK_LAYER_ADDRESS,
        na.target_lladdr,
        message.options_mut(),
    );
    message.fill_checksum(&na.ip_src, &na.ip_dst);
    Ok(NA_FRAME_LEN)
}

/// A validated Neighbor Advertisement as received. Unlike [`NaFrame`] the Target Link-Layer
/// Address option may be absent: Linux leaves it out of answers to unicast NS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceivedNa {
    pub eth_src: EthernetAddress,
    pub eth_dst: EthernetAddress,
    pub ip_src: Ipv6Addr,
    pub ip_dst: Ipv6Addr,
    pub target: Ipv6Addr,
    pub router: bool,
    pub solicited: bool,
    pub override_flag: bool,
    /// The first Target Link-Layer Address option, if any.
    pub target_lladdr: Option<EthernetAddress>,
}

impl ReceivedNa {
    /// The same NA as an [`NaFrame`], if it carried a Target Link-Layer Address option.
    pub fn to_na_frame(self) -> Option<NaFrame> {
        Some(NaFrame {
            eth_src: self.eth_src,
            eth_dst: self.eth_dst,
            ip_src: self.ip_src,
            ip_dst: self.ip_dst,
            target: self.target,
            router: self.router,
            solicited: self.solicited,
            override_flag: self.override_flag,
            target_lladdr: self.target_lladdr?,
        })
    }
}

/// Parses and validates a Neighbor Advertisement; `frame` starts at the Ethernet header.
/// Framing is checked as in [`super::parse_ns`], then RFC 4861 section 7.1.2 in the RFC's
/// order: `HopLimit`, `Checksum`, `Code`, `IcmpLength`, `MulticastTarget`,
/// `SolicitedMulticast`, `OptionLength`.
pub fn parse_na(frame: &[u8]) -> Result<ReceivedNa, Invalid> {
    let (headers, na) = validate_ndisc(frame, TYPE_NEIGHBOR_ADVERTISEMENT)?;
    let target = na.target();
    let flags = na.flags();
    let solicited = flags & na_flags::SOLICITED != 0;
    if solicited && headers.ip_dst.is_multicast() {
        return Err(Invalid::SolicitedMulticast);
    }
    let target_lladdr =
        icmpv6::find_lladdr_option(na.options(), option_type::TARGET_LINK_LAYER_ADDRESS)
            .map_err(|_| Invalid::OptionLength)?;
    Ok(ReceivedNa {
        eth_src: headers.eth_src,
        eth_dst: headers.eth_dst,
        ip_src: headers.ip_src,
        ip_dst: headers.ip_dst,
        target,
        router: flags & na_flags::ROUTER != 0,
        solicited,
        override_flag: flags & na_flags::OVERRIDE != 0,
        target_lladdr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{
        self, ip, mutated, set_payload_len, with_extension_header, MAC_A, MAC_B,
    };
    use crate::wire::ipv6::next_header;

    /// The NA B's kernel sent (fixture NA_SOLICITED), written out field by field.
    fn kernel_solicited_na() -> NaFrame {
        NaFrame {
            eth_src: MAC_B,
            eth_dst: MAC_A,
            ip_src: ip("2001:db8::b"),
            ip_dst: ip("2001:db8::a"),
            target: ip("2001:db8::b"),
            router: false,
            solicited: true,
            override_flag: true,
            target_lladdr: MAC_B,
        }
    }

    /// The NA A's kernel sent to defend its address against DAD (fixture NA_DAD_DEFENCE).
    fn kernel_dad_defence_na() -> NaFrame {
        NaFrame {
            eth_src: MAC_A,
            eth_dst: EthernetAddress([0x33, 0x33, 0, 0, 0, 1]),
            ip_src: ip("2001:db8::a"),
            ip_dst: ip("ff02::1"),
            target: ip("2001:db8::a"),
            router: false,
            solicited: false,
            override_flag: true,
            target_lladdr: MAC_A,
        }
    }

    #[test]
    fn emit_matches_kernel_bytes_over_garbage() {
        for (na, expected) in [
            (kernel_solicited_na(), fixtures::NA_SOLICITED),
            (kernel_dad_defence_na(), fixtures::NA_DAD_DEFENCE),
        ] {
            for garbage in [0x2a, 0xd5, 0x00, 0xff] {
                let mut buf = [garbage; 128];
                assert_eq!(emit_na(&na, &mut buf), Ok(NA_FRAME_LEN));
                assert_eq!(&buf[..NA_FRAME_LEN], expected);
                assert!(buf[NA_FRAME_LEN..].iter().all(|&b| b == garbage));
            }
        }
    }

    #[test]
    fn frame_length_constant() {
        assert_eq!(NA_FRAME_LEN, 86);
    }

    #[test]
    fn parses_kernel_advertisements() {
        let to_received = |na: NaFrame| ReceivedNa {
            eth_src: na.eth_src,
            eth_dst: na.eth_dst,
            ip_src: na.ip_src,
            ip_dst: na.ip_dst,
            target: na.target,
            router: na.router,
            solicited: na.solicited,
            override_flag: na.override_flag,
            target_lladdr: Some(na.target_lladdr),
        };
        assert_eq!(
            parse_na(fixtures::NA_SOLICITED),
            Ok(to_received(kernel_solicited_na()))
        );
        assert_eq!(
            parse_na(fixtures::NA_DAD_DEFENCE),
            Ok(to_received(kernel_dad_defence_na()))
        );
        let without_tlla = parse_na(fixtures::NA_UNICAST_NO_TLLA).unwrap();
        assert_eq!(
            without_tlla,
            ReceivedNa {
                eth_src: MAC_B,
                eth_dst: MAC_A,
                ip_src: ip("2001:db8::b"),
                ip_dst: ip("fe80::ff:fe00:a"),
                target: ip("2001:db8::b"),
                router: false,
                solicited: true,
                override_flag: false,
                target_lladdr: None,
            }
        );
        assert_eq!(without_tlla.to_na_frame(), None);
    }

    #[test]
    fn every_flag_combination_round_trips() {
        for bits in 0..8u8 {
            let na = NaFrame {
                router: bits & 1 != 0,
                solicited: bits & 2 != 0,
                override_flag: bits & 4 != 0,
                ..kernel_solicited_na()
            };
            let mut buf = [0x2a; NA_FRAME_LEN];
            emit_na(&na, &mut buf).unwrap();
            let flags = (u8::from(na.router) << 7)
                | (u8::from(na.solicited) << 6)
                | (u8::from(na.override_flag) << 5);
            assert_eq!(&buf[58..62], &[flags, 0, 0, 0]);
            assert_eq!(parse_na(&buf).unwrap().to_na_frame(), Some(na));
        }
    }

    #[test]
    fn emit_reports_short_buffers_without_writing() {
        let na = kernel_solicited_na();
        for short in 0..NA_FRAME_LEN {
            let mut buf = vec![0x2a; short];
            assert_eq!(
                emit_na(&na, &mut buf),
                Err(BufferTooSmall {
                    needed: NA_FRAME_LEN,
                    available: short
                })
            );
            assert!(buf.iter().all(|&b| b == 0x2a));
        }
    }

    #[test]
    fn solicitations_are_not_advertisements() {
        for frame in [
            fixtures::NS_MULTICAST,
            fixtures::NS_DAD,
            fixtures::NS_UNICAST_NUD,
        ] {
            assert_eq!(parse_na(frame), Err(Invalid::OtherType));
        }
    }

    #[test]
    fn each_invalid_case_gives_its_error() {
        let na = fixtures::NA_SOLICITED;
        let dad = fixtures::NA_DAD_DEFENCE;
        let cases = [
            ("ethertype", Invalid::OtherType, mutated(na, |f| f[13] = 0)),
            (
                "echo reply",
                Invalid::OtherType,
                mutated(na, |f| f[54] = 129),
            ),
            ("cut", Invalid::Truncated, na[..60].to_vec()),
            (
                "fragment",
                Invalid::Fragment,
                with_extension_header(na, next_header::FRAGMENT, &[0; 8]),
            ),
            ("hop limit", Invalid::HopLimit, mutated(na, |f| f[21] = 64)),
            ("checksum", Invalid::Checksum, {
                let mut f = na.to_vec();
                f[58] ^= 0x80;
                f
            }),
            ("code", Invalid::Code, mutated(na, |f| f[55] = 3)),
            (
                "length",
                Invalid::IcmpLength,
                mutated(na, |f| set_payload_len(f, 16)),
            ),
            (
                "multicast target",
                Invalid::MulticastTarget,
                mutated(na, |f| f[62..78].copy_from_slice(&ip("ff02::1").octets())),
            ),
            (
                "solicited to ff02::1",
                Invalid::SolicitedMulticast,
                mutated(dad, |f| f[58] |= 0x40),
            ),
            (
                "option length 0",
                Invalid::OptionLength,
                mutated(na, |f| f[79] = 0),
            ),
            (
                "option past end",
                Invalid::OptionLength,
                mutated(na, |f| f[79] = 2),
            ),
        ];
        for (name, expected, frame) in cases {
            assert_eq!(parse_na(&frame), Err(expected), "{name}");
        }
    }

    #[test]
    fn hop_by_hop_before_the_na_is_accepted() {
        let frame = with_extension_header(
            fixtures::NA_SOLICITED,
            next_header::HOP_BY_HOP,
            &[0, 0, 1, 4, 0, 0, 0, 0],
        );
        assert_eq!(parse_na(&frame), parse_na(fixtures::NA_SOLICITED));
    }

    #[test]
    fn every_truncation_is_an_error_and_corruption_never_panics() {
        for (name, frame) in fixtures::ALL {
            for len in 0..frame.len() {
                assert!(parse_na(&frame[..len]).is_err(), "{name} cut to {len}");
            }
            for at in 0..frame.len() {
                for value in 0..=255u8 {
                    let mut corrupt = frame.to_vec();
                    corrupt[at] = value;
                    let _ = parse_na(&corrupt);
                }
            }
        }
    }
}
