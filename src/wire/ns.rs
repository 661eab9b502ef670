//! Neighbor Solicitation frames: receive validation (RFC 4861 section 7.1.1) and emission.

use super::frame::{emit_frame, validate_ndisc, NdiscFrame};
use super::icmpv6::{self, TYPE_NEIGHBOR_SOLICITATION};
use super::ndisc::NsRepr;
use super::{ethernet, ipv6, BufferTooSmall, Invalid};

/// Frame length of an NS with a Source Link-Layer Address option and no extension headers.
pub const NS_FRAME_LEN_MAX: usize = ethernet::HEADER_LEN
    + ipv6::HEADER_LEN
    + icmpv6::NDISC_LEN
    + icmpv6::ETHERNET_LLADDR_OPTION_LEN;

/// A Neighbor Solicitation in an Ethernet frame.
pub type NsFrame = NdiscFrame<NsRepr>;

/// Parses and fully validates a Neighbor Solicitation; `frame` starts at the Ethernet header.
///
/// Order of checks, which decides the error when several rules fail:
/// 1. Framing, first failure wins: Ethernet header present (`Truncated`), EtherType IPv6
///    (`OtherType`), IPv6 fixed header present (`Truncated`), version 6 (`OtherType`), Payload Length
///    within the frame (`Truncated`), extension headers: Hop-by-Hop (first only), Routing and
///    Destination Options skipped with their lengths checked (`Truncated`), at most 8,
///    Fragment (`Fragment`), anything else but ICMPv6 (`OtherType`); the ICMPv6 header present
///    (`Truncated`); type 135 (`OtherType`). So a frame that is not an NS is always `OtherType` (or
///    `Truncated`/`Fragment` when that cannot be known), never a validation error.
/// 2. RFC 4861 section 7.1.1 in the RFC's order: `HopLimit`, `Checksum`, `Code`,
///    `IcmpLength`, `MulticastTarget`, `OptionLength`, `DadDestination`, `DadSourceLladdr`.
///    The checksum covers the whole message, so it is checked before anything in the body.
///
/// Bytes after the IPv6 payload (Ethernet padding) are ignored. Unknown options are skipped
/// (RFC 4861 section 4.6); of several Source Link-Layer Address options the first wins.
pub fn parse_ns(frame: &[u8]) -> Result<NsFrame, Invalid> {
    let (headers, packet) = validate_ndisc(frame, TYPE_NEIGHBOR_SOLICITATION)?;
    let body = NsRepr::parse(&packet)?;
    if headers.ip_src.is_unspecified() {
        if !ipv6::is_solicited_node(&headers.ip_dst) {
            return Err(Invalid::DadDestination);
        }
        if body.source_lladdr.is_some() {
            return Err(Invalid::DadSourceLladdr);
        }
    }
    Ok(NsFrame { headers, body })
}

/// Writes an NS (no extension headers, Traffic Class and Flow Label 0) with its headers'
/// hop limit, a correct checksum and a Source Link-Layer Address option when
/// `source_lladdr` is set. Returns the frame length: 78, or [`NS_FRAME_LEN_MAX`] with the
/// option. Every byte of that length is written.
pub fn emit_ns(ns: &NsFrame, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
    emit_frame(ns, buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::fixtures::{
        self, ip, mutated, refresh_checksum, set_payload_len, with_extension_header, ICMP_AT,
        MAC_A, MAC_B,
    };
    use crate::wire::ipv6::next_header;
    use crate::wire::{EthernetAddress, Headers};
    use std::net::Ipv6Addr;

    /// An NS with hop limit 255, as every valid one has.
    fn ns(
        (eth_src, eth_dst): (EthernetAddress, EthernetAddress),
        (ip_src, ip_dst): (Ipv6Addr, Ipv6Addr),
        target: Ipv6Addr,
        source_lladdr: Option<EthernetAddress>,
    ) -> NsFrame {
        NsFrame {
            headers: Headers {
                eth_src,
                eth_dst,
                ip_src,
                ip_dst,
                hop_limit: 255,
            },
            body: NsRepr {
                target,
                source_lladdr,
            },
        }
    }

    #[test]
    fn parses_kernel_dad_probe() {
        assert_eq!(
            parse_ns(fixtures::NS_DAD),
            Ok(ns(
                (MAC_A, EthernetAddress([0x33, 0x33, 0xff, 0, 0, 0x0a])),
                (Ipv6Addr::UNSPECIFIED, ip("ff02::1:ff00:a")),
                ip("2001:db8::a"),
                None
            ))
        );
    }

    #[test]
    fn parses_kernel_address_resolution() {
        assert_eq!(
            parse_ns(fixtures::NS_MULTICAST),
            Ok(ns(
                (MAC_A, EthernetAddress([0x33, 0x33, 0xff, 0, 0, 0x0b])),
                (ip("2001:db8::a"), ip("ff02::1:ff00:b")),
                ip("2001:db8::b"),
                Some(MAC_A)
            ))
        );
    }

    #[test]
    fn parses_kernel_unicast_nud_probes() {
        assert_eq!(
            parse_ns(fixtures::NS_UNICAST_NUD),
            Ok(ns(
                (MAC_A, MAC_B),
                (ip("fe80::ff:fe00:a"), ip("2001:db8::b")),
                ip("2001:db8::b"),
                Some(MAC_A)
            ))
        );
        assert_eq!(
            parse_ns(fixtures::NS_LINK_LOCAL_NUD),
            Ok(ns(
                (MAC_A, MAC_B),
                (ip("fe80::ff:fe00:a"), ip("fe80::ff:fe00:b")),
                ip("fe80::ff:fe00:b"),
                Some(MAC_A)
            ))
        );
    }

    #[test]
    fn parses_ndisc6_solicitation_with_flow_label() {
        assert_eq!(
            parse_ns(fixtures::NS_NDISC6),
            Ok(ns(
                (MAC_A, EthernetAddress([0x33, 0x33, 0xff, 0, 0, 0x0b])),
                (ip("fe80::ff:fe00:a"), ip("ff02::1:ff00:b")),
                ip("2001:db8::b"),
                Some(MAC_A)
            ))
        );
    }

    #[test]
    fn advertisements_are_not_solicitations() {
        for frame in [
            fixtures::NA_SOLICITED,
            fixtures::NA_UNICAST_NO_TLLA,
            fixtures::NA_DAD_DEFENCE,
        ] {
            assert_eq!(parse_ns(frame), Err(Invalid::OtherType));
        }
    }

    #[test]
    fn emit_reproduces_kernel_frames_over_garbage() {
        for frame in [
            fixtures::NS_MULTICAST,
            fixtures::NS_UNICAST_NUD,
            fixtures::NS_LINK_LOCAL_NUD,
        ] {
            let ns = parse_ns(frame).unwrap();
            for garbage in [0x2a, 0xd5] {
                let mut buf = [garbage; 128];
                assert_eq!(emit_ns(&ns, &mut buf), Ok(NS_FRAME_LEN_MAX));
                assert_eq!(&buf[..NS_FRAME_LEN_MAX], frame);
                assert!(buf[NS_FRAME_LEN_MAX..].iter().all(|&b| b == garbage));
            }
        }
    }

    #[test]
    fn emit_ndisc6_frame_differs_only_in_flow_label() {
        let ns = parse_ns(fixtures::NS_NDISC6).unwrap();
        let mut buf = [0x2a; NS_FRAME_LEN_MAX];
        emit_ns(&ns, &mut buf).unwrap();
        let mut expected = fixtures::NS_NDISC6.to_vec();
        // Flow label 0x17cec -> 0; the flow label is not in the checksum's pseudo-header.
        expected[15..18].fill(0);
        assert_eq!(&buf[..], &expected[..]);
    }

    #[test]
    fn emit_without_slla_writes_78_bytes() {
        let ns = parse_ns(fixtures::NS_DAD).unwrap();
        let mut buf = [0x2a; 100];
        assert_eq!(emit_ns(&ns, &mut buf), Ok(78));
        // The kernel's probe minus its 8-byte nonce option: same headers but the length.
        let mut expected = fixtures::NS_DAD[..78].to_vec();
        set_payload_len(&mut expected, 24);
        refresh_checksum(&mut expected, ICMP_AT);
        assert_eq!(&buf[..78], &expected[..]);
        assert!(buf[78..].iter().all(|&b| b == 0x2a));
        assert_eq!(parse_ns(&buf[..78]), Ok(ns));
    }

    #[test]
    fn emit_keeps_hop_limit_and_round_trips() {
        let mut ns = parse_ns(fixtures::NS_MULTICAST).unwrap();
        ns.headers.hop_limit = 64;
        let mut buf = [0x2a; NS_FRAME_LEN_MAX];
        emit_ns(&ns, &mut buf).unwrap();
        assert_eq!(buf[21], 64);
        assert_eq!(parse_ns(&buf), Err(Invalid::HopLimit));
        for (_, frame) in fixtures::ALL {
            if let Ok(ns) = parse_ns(frame) {
                let len = emit_ns(&ns, &mut buf).unwrap();
                assert_eq!(parse_ns(&buf[..len]), Ok(ns));
            }
        }
    }

    #[test]
    fn emit_reports_short_buffers() {
        let with_slla = parse_ns(fixtures::NS_MULTICAST).unwrap();
        let without = parse_ns(fixtures::NS_DAD).unwrap();
        for (ns, len) in [(with_slla, NS_FRAME_LEN_MAX), (without, 78)] {
            for short in 0..len {
                let mut buf = vec![0x2a; short];
                assert_eq!(
                    emit_ns(&ns, &mut buf),
                    Err(BufferTooSmall {
                        needed: len,
                        available: short
                    })
                );
                assert!(buf.iter().all(|&b| b == 0x2a), "partial write at {short}");
            }
            assert_eq!(emit_ns(&ns, &mut vec![0; len]), Ok(len));
        }
    }

    /// One frame per way of failing, each derived from a valid kernel frame by one change.
    fn invalid_cases() -> Vec<(&'static str, Invalid, Vec<u8>)> {
        let ms = fixtures::NS_MULTICAST;
        let dad = fixtures::NS_DAD;
        let padn = [0, 0, 1, 4, 0, 0, 0, 0];
        vec![
            (
                "ethertype ipv4",
                Invalid::OtherType,
                mutated(ms, |f| f[12..14].copy_from_slice(&[8, 0])),
            ),
            (
                "ip version 4",
                Invalid::OtherType,
                mutated(ms, |f| f[14] = 0x40),
            ),
            (
                "next header tcp",
                Invalid::OtherType,
                mutated(ms, |f| f[20] = 6),
            ),
            (
                "no next header",
                Invalid::OtherType,
                mutated(ms, |f| f[20] = 59),
            ),
            (
                "echo request",
                Invalid::OtherType,
                mutated(ms, |f| f[54] = 128),
            ),
            (
                "router solicitation",
                Invalid::OtherType,
                mutated(ms, |f| f[54] = 133),
            ),
            (
                "hop-by-hop after destination options",
                Invalid::OtherType,
                with_extension_header(
                    &with_extension_header(ms, next_header::HOP_BY_HOP, &padn),
                    next_header::DESTINATION_OPTIONS,
                    &padn,
                ),
            ),
            ("ethernet header cut", Invalid::Truncated, ms[..13].to_vec()),
            ("ipv6 header cut", Invalid::Truncated, ms[..53].to_vec()),
            (
                "payload length past frame",
                Invalid::Truncated,
                ms[..85].to_vec(),
            ),
            ("payload length 87", Invalid::Truncated, {
                let mut f = ms.to_vec();
                set_payload_len(&mut f, 33);
                f
            }),
            ("icmp header cut", Invalid::Truncated, {
                let mut f = ms.to_vec();
                set_payload_len(&mut f, 3);
                f
            }),
            (
                "overlong hop-by-hop",
                Invalid::Truncated,
                with_extension_header(ms, next_header::HOP_BY_HOP, &[0, 4, 1, 2, 0, 0, 0, 0]),
            ),
            (
                "fragment header",
                Invalid::Fragment,
                with_extension_header(
                    ms,
                    next_header::FRAGMENT,
                    &[0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78],
                ),
            ),
            (
                "hop limit 254",
                Invalid::HopLimit,
                mutated(ms, |f| f[21] = 254),
            ),
            (
                "hop limit 64",
                Invalid::HopLimit,
                mutated(ms, |f| f[21] = 64),
            ),
            (
                "hop limit 0",
                Invalid::HopLimit,
                mutated(dad, |f| f[21] = 0),
            ),
            ("checksum field", Invalid::Checksum, {
                let mut f = ms.to_vec();
                f[57] ^= 0x01;
                f
            }),
            ("target changed after checksum", Invalid::Checksum, {
                let mut f = ms.to_vec();
                f[77] = 0x0c;
                f
            }),
            ("source changed after checksum", Invalid::Checksum, {
                let mut f = ms.to_vec();
                f[37] = 0x0c;
                f
            }),
            ("code 1", Invalid::Code, mutated(ms, |f| f[55] = 1)),
            ("code 255", Invalid::Code, mutated(dad, |f| f[55] = 255)),
            // Payload Length 20: the rest of the frame becomes padding.
            (
                "icmp length 20",
                Invalid::IcmpLength,
                mutated(ms, |f| set_payload_len(f, 20)),
            ),
            (
                "icmp length 23",
                Invalid::IcmpLength,
                mutated(ms, |f| set_payload_len(f, 23)),
            ),
            (
                "target ff02::1",
                Invalid::MulticastTarget,
                mutated(ms, |f| f[62..78].copy_from_slice(&ip("ff02::1").octets())),
            ),
            (
                "target solicited-node group",
                Invalid::MulticastTarget,
                mutated(ms, |f| {
                    f[62..78].copy_from_slice(&ip("ff02::1:ff00:b").octets())
                }),
            ),
            (
                "option length 0",
                Invalid::OptionLength,
                mutated(ms, |f| f[79] = 0),
            ),
            (
                "option length 2",
                Invalid::OptionLength,
                mutated(ms, |f| f[79] = 2),
            ),
            (
                "nonce length 0",
                Invalid::OptionLength,
                mutated(dad, |f| f[79] = 0),
            ),
            // ICMP length 25: one byte of a second option, no room for its length.
            (
                "stray option byte",
                Invalid::OptionLength,
                mutated(ms, |f| set_payload_len(f, 25)),
            ),
            (
                "dad to unicast",
                Invalid::DadDestination,
                mutated(dad, |f| {
                    f[38..54].copy_from_slice(&ip("2001:db8::a").octets())
                }),
            ),
            (
                "dad to all-nodes",
                Invalid::DadDestination,
                mutated(dad, |f| f[38..54].copy_from_slice(&ip("ff02::1").octets())),
            ),
            (
                "dad with slla",
                Invalid::DadSourceLladdr,
                mutated(ms, |f| f[22..38].fill(0)),
            ),
        ]
    }

    #[test]
    fn each_invalid_case_gives_its_error() {
        for (name, expected, frame) in invalid_cases() {
            assert_eq!(parse_ns(&frame), Err(expected), "{name}");
        }
    }

    #[test]
    fn every_error_variant_is_tested() {
        let cases = invalid_cases();
        for &variant in Invalid::NS {
            assert!(
                cases.iter().any(|(_, expected, _)| *expected == variant),
                "{variant:?} has no test case"
            );
        }
    }

    #[test]
    fn order_of_checks() {
        let ms = fixtures::NS_MULTICAST;
        // Not an NS wins over every validation failure.
        let echo = mutated(ms, |f| {
            f[54] = 128;
            f[21] = 64;
            f[55] = 9;
        });
        assert_eq!(parse_ns(&echo), Err(Invalid::OtherType));
        // Hop limit before checksum.
        let mut both = ms.to_vec();
        both[21] = 1;
        both[57] ^= 0xff;
        assert_eq!(parse_ns(&both), Err(Invalid::HopLimit));
        // Checksum before code (code changed without refreshing the checksum).
        let mut code = ms.to_vec();
        code[55] = 1;
        assert_eq!(parse_ns(&code), Err(Invalid::Checksum));
        // Multicast target before option length.
        let target_and_option = mutated(ms, |f| {
            f[62] = 0xff;
            f[79] = 0;
        });
        assert_eq!(parse_ns(&target_and_option), Err(Invalid::MulticastTarget));
        // Option length before the DAD rules.
        let dad_bad_option = mutated(fixtures::NS_DAD, |f| {
            f[38..54].copy_from_slice(&ip("2001:db8::a").octets());
            f[79] = 0;
        });
        assert_eq!(parse_ns(&dad_bad_option), Err(Invalid::OptionLength));
        // DAD destination before DAD SLLA.
        let dad_both = mutated(ms, |f| {
            f[22..38].fill(0);
            f[38..54].copy_from_slice(&ip("2001:db8::b").octets());
        });
        assert_eq!(parse_ns(&dad_both), Err(Invalid::DadDestination));
        // The fragment header hides the ICMPv6 type: Fragment even for hop limit 64.
        let mut fragment =
            with_extension_header(ms, next_header::FRAGMENT, &[0, 0, 0, 0, 0, 0, 0, 1]);
        fragment[21] = 64;
        assert_eq!(parse_ns(&fragment), Err(Invalid::Fragment));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for (name, frame) in fixtures::ALL {
            for len in 0..frame.len() {
                let result = parse_ns(&frame[..len]);
                if frame[54] == TYPE_NEIGHBOR_SOLICITATION {
                    assert_eq!(result, Err(Invalid::Truncated), "{name} cut to {len}");
                } else {
                    assert!(result.is_err(), "{name} cut to {len}");
                }
            }
        }
    }

    #[test]
    fn single_byte_corruption_never_panics() {
        let hbh = with_extension_header(
            fixtures::NS_MULTICAST,
            next_header::HOP_BY_HOP,
            &[0, 0, 1, 4, 0, 0, 0, 0],
        );
        let mut frames: Vec<Vec<u8>> = fixtures::ALL.iter().map(|(_, f)| f.to_vec()).collect();
        frames.push(hbh);
        for frame in frames {
            for at in 0..frame.len() {
                for value in 0..=255u8 {
                    let mut corrupt = frame.clone();
                    corrupt[at] = value;
                    let _ = parse_ns(&corrupt);
                    refresh_checksum_if_possible(&mut corrupt);
                    let _ = parse_ns(&corrupt);
                }
            }
        }
    }

    /// Refreshes the checksum when the corrupted length fields still describe the frame, so
    /// the corruption reaches the checks after the checksum.
    fn refresh_checksum_if_possible(frame: &mut [u8]) {
        let end = 54 + usize::from(u16::from_be_bytes([frame[18], frame[19]]));
        if frame[20] == next_header::ICMPV6 && (ICMP_AT + 4..=frame.len()).contains(&end) {
            refresh_checksum(frame, ICMP_AT);
        }
    }

    #[test]
    fn ethernet_padding_is_ignored() {
        let mut padded = fixtures::NS_MULTICAST.to_vec();
        padded.extend_from_slice(&[0; 18]);
        assert_eq!(parse_ns(&padded), parse_ns(fixtures::NS_MULTICAST));
        // A minimum-size frame: a 78-byte NS padded is still 78 + padding.
        let ns = parse_ns(fixtures::NS_DAD).unwrap();
        let mut buf = [0xee; 100];
        emit_ns(&ns, &mut buf).unwrap();
        assert_eq!(parse_ns(&buf), Ok(ns));
    }

    #[test]
    fn extension_headers_before_the_ns_are_accepted() {
        let plain = parse_ns(fixtures::NS_MULTICAST).unwrap();
        // PadN, and a Router Alert option (RFC 2711) followed by PadN.
        for hbh in [[0, 0, 1, 4, 0, 0, 0, 0], [0, 0, 5, 2, 0, 0, 1, 0]] {
            let frame =
                with_extension_header(fixtures::NS_MULTICAST, next_header::HOP_BY_HOP, &hbh);
            assert_eq!(parse_ns(&frame), Ok(plain));
        }
        let dst_opts = with_extension_header(
            fixtures::NS_MULTICAST,
            next_header::DESTINATION_OPTIONS,
            &[0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        let all_three = with_extension_header(
            &with_extension_header(&dst_opts, next_header::ROUTING, &[0, 0, 0, 0, 0, 0, 0, 0]),
            next_header::HOP_BY_HOP,
            &[0, 0, 1, 4, 0, 0, 0, 0],
        );
        assert_eq!(parse_ns(&dst_opts), Ok(plain));
        assert_eq!(parse_ns(&all_three), Ok(plain));
        // The DAD probe too: the solicited-node check reads the fixed header.
        let dad = with_extension_header(
            fixtures::NS_DAD,
            next_header::HOP_BY_HOP,
            &[0, 0, 1, 4, 0, 0, 0, 0],
        );
        assert_eq!(parse_ns(&dad), parse_ns(fixtures::NS_DAD));
    }

    #[test]
    fn extension_header_chain_is_bounded() {
        let padn = [0, 0, 1, 4, 0, 0, 0, 0];
        let mut frame = fixtures::NS_MULTICAST.to_vec();
        for _ in 0..8 {
            frame = with_extension_header(&frame, next_header::DESTINATION_OPTIONS, &padn);
        }
        assert!(parse_ns(&frame).is_ok());
        frame = with_extension_header(&frame, next_header::DESTINATION_OPTIONS, &padn);
        assert_eq!(parse_ns(&frame), Err(Invalid::OtherType));
    }

    /// NS_MULTICAST with `options` in place of its SLLA option.
    fn with_options(options: &[u8]) -> Vec<u8> {
        let mut frame = fixtures::NS_MULTICAST[..78].to_vec();
        frame.extend_from_slice(options);
        set_payload_len(&mut frame, (24 + options.len()) as u16);
        refresh_checksum(&mut frame, ICMP_AT);
        frame
    }

    #[test]
    fn unknown_options_are_skipped_and_first_slla_wins() {
        let slla_a = [1, 1, 2, 0, 0, 0, 0, 0x0a];
        let slla_b = [1, 1, 2, 0, 0, 0, 0, 0x0b];
        let unknown = [0xc8, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
        let nonce = &fixtures::NS_DAD[78..];
        let slla = |frame: &[u8]| parse_ns(frame).map(|ns| ns.body.source_lladdr);
        assert_eq!(slla(&with_options(&[])), Ok(None));
        assert_eq!(
            slla(&with_options(&[&unknown[..], &slla_b].concat())),
            Ok(Some(MAC_B))
        );
        assert_eq!(
            slla(&with_options(&[nonce, &slla_a, &unknown].concat())),
            Ok(Some(MAC_A))
        );
        assert_eq!(
            slla(&with_options(&[slla_b, slla_a].concat())),
            Ok(Some(MAC_B))
        );
        assert_eq!(
            slla(&with_options(&[slla_a, slla_b].concat())),
            Ok(Some(MAC_A))
        );
        // A Target Link-Layer Address option in an NS is just another option to skip.
        assert_eq!(slla(&with_options(&[2, 1, 2, 0, 0, 0, 0, 0x0b])), Ok(None));
        // A bad option after the SLLA still rejects the message.
        assert_eq!(
            slla(&with_options(
                &[&slla_a[..], &[0xc8, 0, 0, 0, 0, 0, 0, 0]].concat()
            )),
            Err(Invalid::OptionLength)
        );
    }
}
