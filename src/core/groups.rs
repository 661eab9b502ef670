//! Which solicited-node multicast groups an uplink joins, so that MLD-snooping switches and
//! bridges forward the Neighbor Solicitations for what it answers (RFC 4861 section 7.2.2
//! sends them to the target's solicited-node address; RFC 4291 section 2.7.1 defines it as
//! ff02::1:ff00:0/104 plus the target's low 24 bits). Pure: rules in, a bounded set out.

use crate::wire::solicited_node;
use ipnet::Ipv6Net;
use std::net::Ipv6Addr;

/// At most this many groups per uplink. Each costs the kernel one membership record and
/// one MLD multicast address record in every report (RFC 3810 section 5.2), and every
/// group past a NIC's hardware filter turns on all-multicast reception there anyway; a
/// /120 needs 256. Past the cap the uplink relies on all-multicast reception alone.
pub const GROUP_CAP: usize = 256;

/// A prefix shorter than this spans every solicited-node group: the group keeps only the
/// low 24 bits of an address.
const GROUP_BITS_FROM: u8 = 128 - 24;

/// The groups an uplink should be a member of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupPlan {
    /// Join exactly these (at most the cap), sorted, each once. A sorted vector rather
    /// than a set: on MIPS a set's code costs several KiB more.
    Join(Vec<Ipv6Addr>),
    /// The rules span more groups than the cap: join none.
    OverCap,
}

impl GroupPlan {
    /// The groups to join; none when over the cap.
    pub fn groups(&self) -> Option<&[Ipv6Addr]> {
        match self {
            GroupPlan::Join(set) => Some(set),
            GroupPlan::OverCap => None,
        }
    }
}

/// The solicited-node groups of every address in `answered` outside `excludes`, or
/// `OverCap` when there are more than `cap`. `answered` is every prefix the uplink answers
/// for; a single host is a /128.
///
/// Bounded work: within one prefix of /104 or longer, distinct addresses have distinct
/// groups, so a prefix is walked at most until it alone passes the cap; excluded runs are
/// skipped whole, each once. At most `answered.len() * (cap + 1 + excludes.len())` steps,
/// and never more than `cap + 1` groups held.
pub fn plan(answered: &[Ipv6Net], excludes: &[Ipv6Net], cap: usize) -> GroupPlan {
    let mut groups = Vec::new();
    for prefix in answered {
        if prefix.prefix_len() < GROUP_BITS_FROM {
            return GroupPlan::OverCap;
        }
        let first = u128::from(prefix.network());
        let last = u128::from(prefix.broadcast());
        let mut addr = first;
        loop {
            let ip = Ipv6Addr::from(addr);
            // Past the exclude that reaches furthest, so one step skips as much as possible.
            let skip = excludes
                .iter()
                .filter(|x| x.contains(&ip))
                .map(|x| u128::from(x.broadcast()))
                .max();
            let next = match skip {
                Some(end) => end,
                None => {
                    // Kept sorted and unique by inserting in place: less code than a sort,
                    // and the vector never holds more than cap + 1.
                    let group = solicited_node(&ip);
                    if let Err(at) = groups.binary_search(&group) {
                        groups.insert(at, group);
                    }
                    if groups.len() > cap {
                        return GroupPlan::OverCap;
                    }
                    addr
                }
            };
            if next >= last {
                break;
            }
            addr = next + 1;
        }
    }
    GroupPlan::Join(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<Ipv6Net> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn joined(answered: &[&str], excludes: &[&str], cap: usize) -> Vec<String> {
        match plan(&nets(answered), &nets(excludes), cap) {
            GroupPlan::Join(set) => set.iter().map(|g| g.to_string()).collect(),
            GroupPlan::OverCap => panic!("over the cap"),
        }
    }

    #[test]
    fn a_host_joins_its_solicited_node_group() {
        assert_eq!(
            joined(&["2001:db8:88::5/128"], &[], GROUP_CAP),
            ["ff02::1:ff00:5"]
        );
        assert_eq!(
            joined(&["2001:db8::12:3456:789a/128"], &[], GROUP_CAP),
            ["ff02::1:ff56:789a"]
        );
    }

    #[test]
    fn hosts_sharing_low_bits_share_a_group() {
        let got = joined(
            &[
                "2001:db8:1::ab:5/128",
                "2001:db8:2::ab:5/128",
                "2001:db8::6/128",
            ],
            &[],
            GROUP_CAP,
        );
        assert_eq!(got, ["ff02::1:ff00:6", "ff02::1:ffab:5"]);
    }

    #[test]
    fn a_120_fills_the_cap_exactly_and_a_119_passes_it() {
        let GroupPlan::Join(set) = plan(&nets(&["2001:db8::100/120"]), &[], GROUP_CAP) else {
            panic!("a /120 is 256 groups");
        };
        assert_eq!(set.len(), 256);
        assert_eq!(set[0], "ff02::1:ff00:100".parse::<Ipv6Addr>().unwrap());
        assert_eq!(set[255], "ff02::1:ff00:1ff".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            plan(&nets(&["2001:db8::/119"]), &[], GROUP_CAP),
            GroupPlan::OverCap
        );
    }

    #[test]
    fn ranges_in_other_prefixes_with_the_same_low_bits_count_once() {
        // Two /120s whose addresses differ only above bit 24: the same 256 groups.
        let answered = nets(&["2001:db8:1::100/120", "2001:db8:2::100/120"]);
        let GroupPlan::Join(set) = plan(&answered, &[], GROUP_CAP) else {
            panic!("the two ranges share their groups");
        };
        assert_eq!(set.len(), 256);
    }

    #[test]
    fn the_total_over_all_rules_is_capped() {
        let answered = nets(&["2001:db8::100/121", "2001:db8::200/121", "2001:db8::9/128"]);
        assert_eq!(plan(&answered, &[], 256), GroupPlan::OverCap);
        assert!(plan(&answered, &[], 257).groups().is_some());
    }

    #[test]
    fn excluded_addresses_are_not_joined() {
        let got = joined(
            &["2001:db8::/126"],
            &["2001:db8::1/128", "2001:db8::2/128"],
            GROUP_CAP,
        );
        assert_eq!(got, ["ff02::1:ff00:0", "ff02::1:ff00:3"]);
        // An exclude covering most of a /112 brings it under the cap, in a few steps.
        let got = joined(
            &["2001:db8::/112"],
            &[
                "2001:db8::/113",
                "2001:db8::8000/114",
                "2001:db8::c000/115",
                "2001:db8::e000/116",
                "2001:db8::f000/117",
                "2001:db8::f800/118",
                "2001:db8::fc00/119",
                "2001:db8::fe00/120",
            ],
            GROUP_CAP,
        );
        assert_eq!(got.len(), 256);
        assert_eq!(got[0], "ff02::1:ff00:ff00");
    }

    #[test]
    fn prefixes_shorter_than_104_span_every_group() {
        assert_eq!(
            plan(&nets(&["2001:db8::/64"]), &[], GROUP_CAP),
            GroupPlan::OverCap
        );
        assert_eq!(
            plan(&nets(&["2001:db8::/103"]), &[], usize::MAX),
            GroupPlan::OverCap
        );
    }

    #[test]
    fn the_last_address_of_the_space_ends_the_walk() {
        let got = joined(&["ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"], &[], 4);
        assert_eq!(got, ["ff02::1:ffff:fffe", "ff02::1:ffff:ffff"]);
        let got = joined(&["::/127"], &["::1/128"], 4);
        assert_eq!(got, ["ff02::1:ff00:0"]);
    }
}
