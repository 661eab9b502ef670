//! Neighbor Advertisement frames: emission (what the daemon sends) and receive validation
//! (RFC 4861 section 7.1.2, for tests, the load generator and the lab's capture checks).

use super::frame::{emit_frame, validate_ndisc, NdiscFrame};
use super::icmpv6::{self, NdiscPacket, TYPE_NEIGHBOR_ADVERTISEMENT};
use super::ndisc::{NaFlags, NaRepr};
use super::{ethernet, ipv6, BufferTooSmall, Invalid};

/// Frame length of the NA we send: Ethernet, IPv6, NA, Target Link-Layer Address option.
pub const NA_FRAME_LEN: usize = ethernet::HEADER_LEN
    + ipv6::HEADER_LEN
    + icmpv6::NDISC_LEN
    + icmpv6::ETHERNET_LLADDR_OPTION_LEN;

/// A Neighbor Advertisement in an Ethernet frame, received or to send.
pub type NaFrame = NdiscFrame<NaRepr>;

/// Writes the NA (no extension headers, Traffic Class and Flow Label 0) with its headers'
/// hop limit, a correct checksum and a Target Link-Layer Address option when
/// `target_lladdr` is set. Returns the frame length: [`NA_FRAME_LEN`] with the option, 78
/// without. Every byte of that length is written.
pub fn emit_na(na: &NaFrame, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
    emit_frame(na, buf)
}

/// Parses and validates a Neighbor Advertisement; `frame` starts at the Ethernet header.
/// Framing is checked as in [`super::parse_ns`], then RFC 4861 section 7.1.2 in the RFC's
/// order: `HopLimit`, `Checksum`, `Code`, `IcmpLength`, `MulticastTarget`,
/// `SolicitedMulticast`, `OptionLength`.
pub fn parse_na(frame: &[u8]) -> Result<NaFrame, Invalid> {
    let (headers, packet) = validate_ndisc(frame, TYPE_NEIGHBOR_ADVERTISEMENT)?;
    if solicited(&packet) && headers.ip_dst.is_multicast() {
        return Err(Invalid::SolicitedMulticast);
    }
    let body = NaRepr::parse(&packet)?;
    Ok(NaFrame { headers, body })
}

/// The S flag, read before the options are: the RFC checks it first.
fn solicited(packet: &NdiscPacket<&[u8]>) -> bool {
    NaFlags::from_octet(packet.flags()).contains(NaFlags::SOLICITED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{
        self, ip, mutated, set_payload_len, with_extension_header, MAC_A, MAC_B,
    };
    use crate::wire::ipv6::next_header;
    use crate::wire::{EthernetAddress, Headers};

    /// An NA with hop limit 255, as every valid one has.
    fn na(
        (eth_src, eth_dst): (EthernetAddress, EthernetAddress),
        (ip_src, ip_dst): (&str, &str),
        flags: NaFlags,
        target: &str,
        target_lladdr: Option<EthernetAddress>,
    ) -> NaFrame {
        NaFrame {
            headers: Headers {
                eth_src,
                eth_dst,
                ip_src: ip(ip_src),
                ip_dst: ip(ip_dst),
                hop_limit: 255,
            },
            body: NaRepr {
                flags,
                target: ip(target),
                target_lladdr,
            },
        }
    }

    /// The NA B's kernel sent (fixture NA_SOLICITED), written out field by field.
    fn kernel_solicited_na() -> NaFrame {
        na(
            (MAC_B, MAC_A),
            ("2001:db8::b", "2001:db8::a"),
            NaFlags::SOLICITED.with(NaFlags::OVERRIDE, true),
            "2001:db8::b",
            Some(MAC_B),
        )
    }

    /// The NA A's kernel sent to defend its address against DAD (fixture NA_DAD_DEFENCE).
    fn kernel_dad_defence_na() -> NaFrame {
        na(
            (MAC_A, EthernetAddress([0x33, 0x33, 0, 0, 0, 1])),
            ("2001:db8::a", "ff02::1"),
            NaFlags::OVERRIDE,
            "2001:db8::a",
            Some(MAC_A),
        )
    }

    /// B's kernel's answer to a unicast NS: no Target Link-Layer Address option.
    fn kernel_unicast_na() -> NaFrame {
        na(
            (MAC_B, MAC_A),
            ("2001:db8::b", "fe80::ff:fe00:a"),
            NaFlags::SOLICITED,
            "2001:db8::b",
            None,
        )
    }

    #[test]
    fn emit_matches_kernel_bytes_over_garbage() {
        for (na, expected) in [
            (kernel_solicited_na(), fixtures::NA_SOLICITED),
            (kernel_dad_defence_na(), fixtures::NA_DAD_DEFENCE),
            (kernel_unicast_na(), fixtures::NA_UNICAST_NO_TLLA),
        ] {
            let len = expected.len();
            for garbage in [0x2a, 0xd5, 0x00, 0xff] {
                let mut buf = [garbage; 128];
                assert_eq!(emit_na(&na, &mut buf), Ok(len));
                assert_eq!(&buf[..len], expected);
                assert!(buf[len..].iter().all(|&b| b == garbage));
            }
        }
    }

    #[test]
    fn frame_length_constant() {
        assert_eq!(NA_FRAME_LEN, 86);
    }

    #[test]
    fn parses_kernel_advertisements() {
        assert_eq!(parse_na(fixtures::NA_SOLICITED), Ok(kernel_solicited_na()));
        assert_eq!(
            parse_na(fixtures::NA_DAD_DEFENCE),
            Ok(kernel_dad_defence_na())
        );
        assert_eq!(
            parse_na(fixtures::NA_UNICAST_NO_TLLA),
            Ok(kernel_unicast_na())
        );
    }

    #[test]
    fn every_flag_combination_round_trips() {
        for bits in 0..8u8 {
            let mut na = kernel_solicited_na();
            na.body.flags = NaFlags::from_octet(bits << 5);
            let mut buf = [0x2a; NA_FRAME_LEN];
            emit_na(&na, &mut buf).unwrap();
            assert_eq!(&buf[58..62], &[bits << 5, 0, 0, 0]);
            assert_eq!(parse_na(&buf), Ok(na));
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
        for (name, expected, frame) in &cases {
            assert_eq!(parse_na(frame), Err(*expected), "{name}");
        }
        for &variant in Invalid::NA {
            assert!(
                cases.iter().any(|(_, expected, _)| *expected == variant),
                "{variant:?} has no test case"
            );
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
