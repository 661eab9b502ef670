//! Packet formats: Ethernet, IPv6 and the ICMPv6 Neighbor Solicitation / Advertisement.
//!
//! Modelled on smoltcp's `wire` module: each layer has a view type over a byte buffer
//! (`Frame`/`Packet<T: AsRef<[u8]>>` whose `new_checked` verifies the length once, with field
//! offsets kept in a `field` module) and, where useful, a `Repr` with `parse`/`emit`. Nothing
//! here allocates, does I/O or uses native-endian conversions, so the same tests hold on
//! big-endian MIPS.
//!
//! The layers of an NDP frame: [`ethernet`] and [`ipv6`] views, whose fields an NDP frame
//! needs are [`Headers`]; the NS/NA bodies ([`NsRepr`], [`NaRepr`] with [`NaFlags`]) over the
//! ICMPv6 message ([`icmpv6::NdiscPacket`]); and [`NdiscFrame`] joining headers and body
//! ([`NsFrame`], [`NaFrame`]). Validation errors are [`Invalid`], from the drop-reason table
//! in `crate::reasons`.
//!
//! The daemon calls the frame-level functions re-exported below: [`parse_ns`] for every
//! received frame and [`emit_na`] for every answer.

pub mod ethernet;
mod frame;
pub mod icmpv6;
pub mod ipv6;
mod na;
mod ndisc;
mod ns;

#[cfg(test)]
mod fixtures;

use std::fmt;

pub use crate::reasons::Invalid;
pub use ethernet::{EthernetAddress, ParseEthernetAddressError};
pub use frame::{Headers, NdiscFrame};
pub use ipv6::{is_solicited_node, solicited_node};
pub use na::{emit_na, parse_na, NaFrame, NA_FRAME_LEN};
pub use ndisc::{NaFlags, NaRepr, NsRepr};
pub use ns::{emit_ns, parse_ns, NsFrame, NS_FRAME_LEN_MAX};

/// A view's buffer is shorter than the header (or the length field) it must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncated;

/// The output buffer cannot hold the frame to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall {
    /// Bytes the frame needs.
    pub needed: usize,
    /// Bytes the buffer had.
    pub available: usize,
}

impl fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "buffer too small: frame needs {} bytes, buffer has {}",
            self.needed, self.available
        )
    }
}

impl std::error::Error for BufferTooSmall {}
