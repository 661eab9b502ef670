//! Ethernet + IPv6 (+ extension headers) around an ICMPv6 message: the layering that NS and
//! NA share, on receive and on send.

use std::net::Ipv6Addr;

use super::ethernet::{self, EthernetAddress, ETHERTYPE_IPV6};
use super::icmpv6::{self, NdiscPacket};
use super::ipv6::{self, next_header, ChainError};
use super::ndisc::Body;
use super::{BufferTooSmall, Invalid};

/// The Ethernet and IPv6 fields of an NDP frame, received or to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Headers {
    pub eth_src: EthernetAddress,
    pub eth_dst: EthernetAddress,
    pub ip_src: Ipv6Addr,
    pub ip_dst: Ipv6Addr,
    /// Always 255 in a parsed frame (RFC 4861 sections 7.1.1 and 7.1.2); settable so tests
    /// and the load generator can emit other values.
    pub hop_limit: u8,
}

/// An NDP message in an Ethernet frame: the headers below it and its body ([`NsRepr`] or
/// [`NaRepr`]).
///
/// [`NsRepr`]: super::NsRepr
/// [`NaRepr`]: super::NaRepr
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdiscFrame<B> {
    pub headers: Headers,
    pub body: B,
}

/// Where an ICMPv6 message sits in a received frame, with the fields of the layers below it.
pub(crate) struct Icmpv6InFrame<'a> {
    pub headers: Headers,
    /// The whole ICMPv6 message (at least its 4-byte header), without Ethernet padding.
    pub message: &'a [u8],
}

// `locate_icmpv6` guarantees `message` holds the 4-byte ICMPv6 header these read.
impl Icmpv6InFrame<'_> {
    pub fn msg_type(&self) -> u8 {
        self.message[icmpv6::field::TYPE]
    }

    pub fn code(&self) -> u8 {
        self.message[icmpv6::field::CODE]
    }
}

/// Why a frame does not carry a readable ICMPv6 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotIcmpv6 {
    /// Another EtherType, IP version or upper-layer protocol, or an extension-header chain we
    /// do not follow.
    Other,
    /// A header, a length field or the ICMPv6 header runs past the frame.
    Truncated,
    /// An IPv6 Fragment header.
    Fragment,
}

/// Finds the ICMPv6 message in an Ethernet frame. Checks, in this order: Ethernet header
/// length, EtherType, IPv6 fixed-header length, version, Payload Length against the frame,
/// the extension-header chain, the upper-layer protocol, the 4-byte ICMPv6 header.
pub(crate) fn locate_icmpv6(frame: &[u8]) -> Result<Icmpv6InFrame<'_>, NotIcmpv6> {
    let eth = ethernet::Frame::new_checked(frame).map_err(|_| NotIcmpv6::Truncated)?;
    let eth_repr = ethernet::Repr::parse(&eth);
    if eth_repr.ethertype != ETHERTYPE_IPV6 {
        return Err(NotIcmpv6::Other);
    }
    let ip = ipv6::Packet::new_checked(eth.payload()).map_err(|_| NotIcmpv6::Truncated)?;
    let ip_repr = ipv6::Repr::parse(&ip).ok_or(NotIcmpv6::Other)?;
    let ip_payload = ip.payload().map_err(|_| NotIcmpv6::Truncated)?;
    let (protocol, message) =
        ipv6::upper_layer(ip_repr.next_header, ip_payload).map_err(|e| match e {
            ChainError::Truncated => NotIcmpv6::Truncated,
            ChainError::Fragment => NotIcmpv6::Fragment,
            ChainError::Unsupported => NotIcmpv6::Other,
        })?;
    if protocol != next_header::ICMPV6 {
        return Err(NotIcmpv6::Other);
    }
    if message.len() < icmpv6::HEADER_LEN {
        return Err(NotIcmpv6::Truncated);
    }
    Ok(Icmpv6InFrame {
        headers: Headers {
            eth_src: eth_repr.src_addr,
            eth_dst: eth_repr.dst_addr,
            ip_src: ip_repr.src_addr,
            ip_dst: ip_repr.dst_addr,
            hop_limit: ip_repr.hop_limit,
        },
        message,
    })
}

/// Locates the ICMPv6 message of type `msg_type` and applies the shared checks in the RFC's
/// order: hop limit 255, checksum (over the whole message, so before reading its body),
/// code 0, ICMP length at least 24, target not multicast.
pub(crate) fn validate_ndisc(
    frame: &[u8],
    msg_type: u8,
) -> Result<(Headers, NdiscPacket<&[u8]>), Invalid> {
    let located = locate_icmpv6(frame).map_err(|e| match e {
        NotIcmpv6::Other => Invalid::OtherType,
        NotIcmpv6::Truncated => Invalid::Truncated,
        NotIcmpv6::Fragment => Invalid::Fragment,
    })?;
    if located.msg_type() != msg_type {
        return Err(Invalid::OtherType);
    }
    let headers = located.headers;
    if headers.hop_limit != 255 {
        return Err(Invalid::HopLimit);
    }
    if !icmpv6::checksum_valid(&headers.ip_src, &headers.ip_dst, located.message) {
        return Err(Invalid::Checksum);
    }
    if located.code() != 0 {
        return Err(Invalid::Code);
    }
    let packet = NdiscPacket::new_checked(located.message).map_err(|_| Invalid::IcmpLength)?;
    if packet.target().is_multicast() {
        return Err(Invalid::MulticastTarget);
    }
    Ok((headers, packet))
}

/// Writes `frame` (no extension headers, Traffic Class and Flow Label 0) with a correct
/// checksum and returns its length. Every byte of that length is written, nothing after it.
pub(crate) fn emit_frame<B: Body>(
    frame: &NdiscFrame<B>,
    buf: &mut [u8],
) -> Result<usize, BufferTooSmall> {
    let message_len = frame.body.message_len();
    let mut message = emit_headers(&frame.headers, message_len, buf)?;
    frame.body.emit(&mut message);
    message.fill_checksum(&frame.headers.ip_src, &frame.headers.ip_dst);
    Ok(ethernet::HEADER_LEN + ipv6::HEADER_LEN + message_len)
}

/// Writes the Ethernet and IPv6 headers for an ICMPv6 message of `message_len` bytes at the
/// start of `buf` and returns the view of the message area (exactly `message_len` bytes),
/// whose every byte the caller must write. No extension headers are emitted. `message_len`
/// is at least the 24-byte NS/NA fixed part (the callers pass constants).
fn emit_headers<'a>(
    headers: &Headers,
    message_len: usize,
    buf: &'a mut [u8],
) -> Result<NdiscPacket<&'a mut [u8]>, BufferTooSmall> {
    let needed = ethernet::HEADER_LEN + ipv6::HEADER_LEN + message_len;
    let available = buf.len();
    let too_small = BufferTooSmall { needed, available };
    let payload_len = u16::try_from(message_len).map_err(|_| too_small)?;
    let frame_bytes = buf.get_mut(..needed).ok_or(too_small)?;
    let (eth_header, ip_packet) = frame_bytes.split_at_mut(ethernet::HEADER_LEN);
    let mut eth = ethernet::Frame::new_checked(eth_header).map_err(|_| too_small)?;
    ethernet::Repr {
        src_addr: headers.eth_src,
        dst_addr: headers.eth_dst,
        ethertype: ETHERTYPE_IPV6,
    }
    .emit(&mut eth);
    let ip_repr = ipv6::Repr {
        src_addr: headers.ip_src,
        dst_addr: headers.ip_dst,
        next_header: next_header::ICMPV6,
        payload_len,
        hop_limit: headers.hop_limit,
    };
    let message = ipv6::emit_header(&ip_repr, ip_packet)?;
    NdiscPacket::new_checked(message).map_err(|_| too_small)
}
