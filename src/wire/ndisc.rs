//! The Neighbor Solicitation and Advertisement bodies (RFC 4861 sections 4.3 and 4.4) apart
//! from the IPv6 and Ethernet headers below them, as smoltcp's `wire::ndisc::Repr`: the
//! target, the flags and the link-layer address option, parsed from and emitted into an
//! [`NdiscPacket`] whose fixed part, checksum and Code the frame layer has checked.

use std::fmt;
use std::net::Ipv6Addr;

use super::ethernet::EthernetAddress;
use super::icmpv6::{
    self, option_type, NdiscPacket, NDISC_LEN, TYPE_NEIGHBOR_ADVERTISEMENT,
    TYPE_NEIGHBOR_SOLICITATION,
};
use super::Invalid;

/// The R, S and O flags of an NA, as the top bits of the octet after the checksum (RFC 4861
/// section 4.4); the other bits are reserved and neither kept nor sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NaFlags(u8);

impl NaFlags {
    /// The sender is a router.
    pub const ROUTER: NaFlags = NaFlags(0x80);
    /// An answer to an NS (clear for unsolicited NAs and answers to DAD probes).
    pub const SOLICITED: NaFlags = NaFlags(0x40);
    /// Replace a cached link-layer address.
    pub const OVERRIDE: NaFlags = NaFlags(0x20);
    const ALL: u8 = 0xe0;

    pub const fn empty() -> NaFlags {
        NaFlags(0)
    }

    /// The flags in a received octet, reserved bits dropped.
    pub const fn from_octet(octet: u8) -> NaFlags {
        NaFlags(octet & NaFlags::ALL)
    }

    pub const fn octet(self) -> u8 {
        self.0
    }

    pub const fn contains(self, flag: NaFlags) -> bool {
        self.0 & flag.0 == flag.0
    }

    /// `self` with `flag` set when `on`.
    #[must_use]
    pub const fn with(self, flag: NaFlags, on: bool) -> NaFlags {
        if on {
            NaFlags(self.0 | flag.0)
        } else {
            NaFlags(self.0 & !flag.0)
        }
    }
}

/// `RSO` with `-` for a clear flag, as the daemon's log shows them.
impl fmt::Display for NaFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (flag, letter) in [
            (NaFlags::ROUTER, 'R'),
            (NaFlags::SOLICITED, 'S'),
            (NaFlags::OVERRIDE, 'O'),
        ] {
            let shown = if self.contains(flag) { letter } else { '-' };
            fmt::Write::write_char(f, shown)?;
        }
        Ok(())
    }
}

/// A Neighbor Solicitation's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NsRepr {
    pub target: Ipv6Addr,
    /// The first Source Link-Layer Address option, if any.
    pub source_lladdr: Option<EthernetAddress>,
}

/// A Neighbor Advertisement's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NaRepr {
    pub flags: NaFlags,
    pub target: Ipv6Addr,
    /// The first Target Link-Layer Address option, if any: we always send one; Linux leaves
    /// it out of answers to unicast NS.
    pub target_lladdr: Option<EthernetAddress>,
}

/// What the frame layer needs of a body to emit it.
pub(crate) trait Body {
    /// Length of the message `emit` writes.
    fn message_len(&self) -> usize;
    /// Writes every byte of a message of `message_len` bytes but the checksum.
    fn emit(&self, packet: &mut NdiscPacket<&mut [u8]>);
}

/// The fixed part plus one Ethernet link-layer address option when there is an address.
fn message_len(lladdr: Option<EthernetAddress>) -> usize {
    NDISC_LEN + lladdr.map_or(0, |_| icmpv6::ETHERNET_LLADDR_OPTION_LEN)
}

fn parse_lladdr(packet: &NdiscPacket<&[u8]>, kind: u8) -> Result<Option<EthernetAddress>, Invalid> {
    icmpv6::find_lladdr_option(packet.options(), kind).map_err(|_| Invalid::OptionLength)
}

/// The fields NS and NA share: type, Code 0, the flag octet (reserved bits cleared), the
/// target and the link-layer address option of `kind`.
fn emit_fields(
    packet: &mut NdiscPacket<&mut [u8]>,
    msg_type: u8,
    flags: u8,
    target: &Ipv6Addr,
    option: (u8, Option<EthernetAddress>),
) {
    packet.set_msg_type(msg_type);
    packet.set_code(0);
    packet.set_flags(flags);
    packet.set_target(target);
    if let (kind, Some(addr)) = option {
        icmpv6::emit_lladdr_option(kind, addr, packet.options_mut());
    }
}

impl NsRepr {
    /// Reads the body of an NS the frame layer has checked; every option is length-checked.
    pub fn parse(packet: &NdiscPacket<&[u8]>) -> Result<NsRepr, Invalid> {
        Ok(NsRepr {
            target: packet.target(),
            source_lladdr: parse_lladdr(packet, option_type::SOURCE_LINK_LAYER_ADDRESS)?,
        })
    }
}

impl Body for NsRepr {
    fn message_len(&self) -> usize {
        message_len(self.source_lladdr)
    }

    fn emit(&self, packet: &mut NdiscPacket<&mut [u8]>) {
        let option = (option_type::SOURCE_LINK_LAYER_ADDRESS, self.source_lladdr);
        emit_fields(packet, TYPE_NEIGHBOR_SOLICITATION, 0, &self.target, option);
    }
}

impl NaRepr {
    /// Reads the body of an NA the frame layer has checked; every option is length-checked.
    pub fn parse(packet: &NdiscPacket<&[u8]>) -> Result<NaRepr, Invalid> {
        Ok(NaRepr {
            flags: NaFlags::from_octet(packet.flags()),
            target: packet.target(),
            target_lladdr: parse_lladdr(packet, option_type::TARGET_LINK_LAYER_ADDRESS)?,
        })
    }
}

impl Body for NaRepr {
    fn message_len(&self) -> usize {
        message_len(self.target_lladdr)
    }

    fn emit(&self, packet: &mut NdiscPacket<&mut [u8]>) {
        let option = (option_type::TARGET_LINK_LAYER_ADDRESS, self.target_lladdr);
        emit_fields(
            packet,
            TYPE_NEIGHBOR_ADVERTISEMENT,
            self.flags.octet(),
            &self.target,
            option,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_keep_only_r_s_o() {
        let all = NaFlags::from_octet(0xff);
        assert_eq!(all.octet(), 0xe0);
        assert_eq!(all.to_string(), "RSO");
        let s = NaFlags::empty().with(NaFlags::SOLICITED, true);
        assert_eq!(s.octet(), 0x40);
        assert_eq!(s.to_string(), "-S-");
        assert_eq!(all.with(NaFlags::ROUTER, false).to_string(), "-SO");
        assert!(!NaFlags::from_octet(0x1f).contains(NaFlags::OVERRIDE));
    }
}
