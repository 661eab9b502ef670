//! Every reason a frame gets no answer, in one table: the receive checks of RFC 4861
//! sections 7.1.1 (NS) and 7.1.2 (NA) that `wire` applies, and the policy reasons of the
//! decision core. From each row come the variant, its documentation, the stable key that
//! status, logs and counters use, and (by its place in the table) the counter index.
//!
//! The table generates two enums: [`Invalid`], what `wire::parse_ns` and `wire::parse_na`
//! return, and [`DropReason`], what the core counts. A check shared by NS and NA, or an
//! NS-only one, is both (same name, same key); NA-only checks are never counted (the daemon
//! does not receive NAs); policy reasons exist only as [`DropReason`].

/// Sorts the table's rows by class (`ndisc`: a check NS and NA share, `ns`, `na`: a check
/// of one of them, `policy`: a decision of the core), then generates the two enums.
macro_rules! reasons {
    (@rows [$($ns:tt)*] [$($na:tt)*] [$($wire:tt)*] [$($counted:tt)*]
        #[doc = $d:literal] $v:ident = $k:literal, ndisc, $r:literal; $($rest:tt)*) => {
        reasons!(@rows [$($ns)* $v] [$($na)* $v] [$($wire)* ($d $r $v)] [$($counted)* ($d $r $v $k)]
            $($rest)*);
    };
    (@rows [$($ns:tt)*] [$($na:tt)*] [$($wire:tt)*] [$($counted:tt)*]
        #[doc = $d:literal] $v:ident = $k:literal, ns, $r:literal; $($rest:tt)*) => {
        reasons!(@rows [$($ns)* $v] [$($na)*] [$($wire)* ($d $r $v)] [$($counted)* ($d $r $v $k)]
            $($rest)*);
    };
    (@rows [$($ns:tt)*] [$($na:tt)*] [$($wire:tt)*] [$($counted:tt)*]
        #[doc = $d:literal] $v:ident = $k:literal, na, $r:literal; $($rest:tt)*) => {
        reasons!(@rows [$($ns)*] [$($na)* $v] [$($wire)* ($d $r $v)] [$($counted)*] $($rest)*);
    };
    (@rows [$($ns:tt)*] [$($na:tt)*] [$($wire:tt)*] [$($counted:tt)*]
        #[doc = $d:literal] $v:ident = $k:literal, policy, $r:literal; $($rest:tt)*) => {
        reasons!(@rows [$($ns)*] [$($na)*] [$($wire)*] [$($counted)* ($d $r $v $k)] $($rest)*);
    };
    (@rows [$($ns:ident)*] [$($na:ident)*] [$(($wd:literal $wr:literal $wv:ident))*]
        [$(($cd:literal $cr:literal $cv:ident $ck:literal))*]) => {
        /// Why a frame is not a valid Neighbor Solicitation or Advertisement. The checks are
        /// listed, and applied, in the RFC's order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Invalid {
            /// Not an IPv6 ICMPv6 message of the wanted type at all: another EtherType, IP
            /// version or upper-layer protocol, an extension-header chain that is not
            /// followed (Hop-by-Hop not first, more than 8 headers, ESP/AH/...), or another
            /// ICMPv6 type. Not counted: such frames are not what was asked for.
            OtherType,
            $( #[doc = $wd] #[doc = ""] #[doc = $wr] $wv, )*
        }

        impl Invalid {
            /// The outcomes of `parse_ns`'s checks, in their order.
            pub const NS: &'static [Invalid] = &[Invalid::OtherType, $(Invalid::$ns,)*];
            /// The outcomes of `parse_na`'s checks, in their order.
            pub const NA: &'static [Invalid] = &[Invalid::OtherType, $(Invalid::$na,)*];

            /// The counter an NS failing this check is counted under; `None` for frames
            /// that are not NS at all (and for the NA-only checks).
            pub fn counted(self) -> Option<DropReason> {
                match self {
                    $( Invalid::$ns => Some(DropReason::$ns), )*
                    _ => None,
                }
            }
        }

        /// Why an NS got no answer. Flat and in table order, so counters are an array
        /// indexed by it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum DropReason {
            $( #[doc = $cd] #[doc = ""] #[doc = $cr] $cv, )*
        }

        impl DropReason {
            /// Every reason, in counter order.
            pub const ALL: &'static [DropReason] = &[$(DropReason::$cv,)*];
            pub const COUNT: usize = DropReason::ALL.len();

            /// Stable snake_case key used in logs, counters and the ubus status.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( DropReason::$cv => $ck, )*
                }
            }

            /// The row's one-line documentation: what the reason means, as `explain` says.
            pub fn describe(self) -> &'static str {
                match self {
                    $( DropReason::$cv => $cd.trim_ascii_start(), )*
                }
            }

            /// Index into the counters array.
            pub fn index(self) -> usize {
                self as usize
            }
        }
    };
    ($($rows:tt)*) => {
        reasons!(@rows [] [] [] [] $($rows)*);
    };
}

reasons! {
    /// a header or a length field runs past the frame
    Truncated = "truncated", ndisc, "Framing, before RFC 4861 section 7.1.1: a header, the IPv6 Payload Length or an extension-header length runs past the frame, or the ICMPv6 message is shorter than its 4-byte header.";
    /// an IPv6 Fragment header
    Fragment = "fragment", ndisc, "RFC 6980 section 5: NDP messages must not be fragmented.";
    /// the IPv6 Hop Limit is not 255
    HopLimit = "hop_limit", ndisc, "RFC 4861 sections 7.1.1 and 7.1.2: the sender may be off-link.";
    /// the ICMPv6 checksum fails
    Checksum = "checksum", ndisc, "RFC 4861 sections 7.1.1 and 7.1.2; the checksum is RFC 4443 section 2.3's, its pseudo-header RFC 8200 section 8.1's.";
    /// the ICMPv6 Code is not 0
    Code = "code", ndisc, "RFC 4861 sections 7.1.1 and 7.1.2.";
    /// the ICMPv6 message is shorter than 24 octets
    IcmpLength = "icmp_length", ndisc, "RFC 4861 sections 7.1.1 and 7.1.2.";
    /// the Target Address is a multicast address
    MulticastTarget = "multicast_target", ndisc, "RFC 4861 sections 7.1.1 and 7.1.2.";
    /// an option has Length 0 or runs past the message, or a link-layer address option is not 8 octets
    OptionLength = "option_length", ndisc, "RFC 4861 sections 7.1.1 and 7.1.2; 8 octets is an Ethernet address option's size (RFC 2464 section 8).";
    /// a DAD probe (source ::) not sent to a solicited-node multicast address
    DadDestination = "dad_destination", ns, "RFC 4861 section 7.1.1.";
    /// a DAD probe (source ::) with a Source Link-Layer Address option
    DadSourceLladdr = "dad_source_lladdr", ns, "RFC 4861 section 7.1.1.";
    /// sent to a multicast address with the Solicited flag set
    SolicitedMulticast = "solicited_multicast", na, "RFC 4861 section 7.1.2.";
    /// a multicast IPv6 source
    MulticastSource = "multicast_source", policy, "RFC 4291 section 2.7: never a legitimate source, and answering it would multicast our NA to a group of the sender's choosing.";
    /// sent from the interface's own MAC (a loop, or our host's own NS)
    OwnMac = "own_mac", policy, "Policy.";
    /// assigned to this host on the device; the kernel answers it
    OwnAddress = "own_address", policy, "Policy: the host's own addresses are the kernel's to defend (RFC 4861 section 7.2.3).";
    /// inside no configured prefix
    OutOfRange = "out_of_range", policy, "Policy.";
    /// inside an exclude
    Excluded = "excluded", policy, "Policy.";
    /// the route for it does not leave through a downstream device
    NotDownstream = "not_downstream", policy, "Policy: in no configured prefix, and the longest-match route in the main table points at the uplink, at another device, or drops the traffic (unreachable, blackhole, prohibit, throw).";
    /// no neighbour entry on a downstream device
    UnknownHost = "unknown_host", policy, "Policy: the range's hosts policy is known or probe, and no downstream device has a usable neighbour entry for the target (yet).";
    /// over the uplink's answer budget
    RateLimit = "rate_limit", policy, "Policy: a token bucket per uplink.";
    /// over the answer budget for the NS's source address
    SourceRateLimit = "source_rate_limit", policy, "Policy: a token bucket per source address.";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Status and log keys are an interface: scripts and dashboards read them.
    #[test]
    fn keys_and_counter_order_are_stable() {
        let keys: Vec<&str> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            keys,
            [
                "truncated",
                "fragment",
                "hop_limit",
                "checksum",
                "code",
                "icmp_length",
                "multicast_target",
                "option_length",
                "dad_destination",
                "dad_source_lladdr",
                "multicast_source",
                "own_mac",
                "own_address",
                "out_of_range",
                "excluded",
                "not_downstream",
                "unknown_host",
                "rate_limit",
                "source_rate_limit",
            ]
        );
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }

    #[test]
    fn every_ns_check_but_other_type_is_counted() {
        for &e in Invalid::NS {
            assert_eq!(e.counted().is_none(), e == Invalid::OtherType, "{e:?}");
        }
        assert_eq!(Invalid::SolicitedMulticast.counted(), None);
    }

    #[test]
    fn descriptions_are_the_first_doc_line() {
        assert_eq!(
            DropReason::OwnAddress.describe(),
            "assigned to this host on the device; the kernel answers it"
        );
        assert_eq!(
            DropReason::OutOfRange.describe(),
            "inside no configured prefix"
        );
        assert_eq!(DropReason::Excluded.describe(), "inside an exclude");
    }
}
