//! The classic BPF programs attached to the packet sockets.
//!
//! The filter only keeps the kernel from waking us for traffic that cannot be an NS; it
//! never truncates (so user space can verify the checksum over the whole message and count
//! every invalid NS by its reason, RFC 4861 section 7.1.1) and it does not check hop limit
//! or code for the same reason.

use super::{setsockopt, SysError};

// Opcodes from linux/filter.h (class | size | mode, class | op | src).
const LD_B_ABS: u16 = 0x30; // BPF_LD | BPF_B | BPF_ABS
const LD_H_ABS: u16 = 0x28; // BPF_LD | BPF_H | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K

/// Ancillary load of "a VLAN tag was stripped into metadata" (SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT).
const SKF_AD_VLAN_TAG_PRESENT: u32 = (-0x1000i32 + 48) as u32;
/// Ancillary load of the frame's packet type (SKF_AD_OFF + SKF_AD_PKTTYPE), and the type
/// of a frame addressed to another host (linux/if_packet.h PACKET_OTHERHOST).
const SKF_AD_PKTTYPE: u32 = (-0x1000i32 + 4) as u32;
const PACKET_OTHERHOST: u32 = 3;

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Admits IPv6 frames carrying ICMPv6 type 135 directly after the fixed header, plus frames
/// whose first next header is an extension header (Hop-by-Hop 0, Routing 43, Fragment 44,
/// Destination Options 60): the header chain is walked in user space, where an NS behind a
/// Fragment header is counted and dropped (RFC 6980 section 5). Frames of another VLAN
/// are refused: a socket bound to ETH_P_IPV6 gets them after the kernel found no VLAN
/// device for their ID, cleared the tag and marked them PACKET_OTHERHOST (net/core/dev.c,
/// __netif_receive_skb_core), so the packet type is what tells them apart; a tag still in
/// metadata is refused too. PACKET_OTHERHOST also covers unicast frames to another MAC seen
/// in promiscuous mode: a solicitation sent to another host is not ours to answer.
/// Offsets are from the Ethernet header (SOCK_RAW): EtherType 12, next header 20, ICMPv6
/// type 54.
pub const NS_FILTER: [libc::sock_filter; 16] = [
    insn(LD_B_ABS, 0, 0, SKF_AD_PKTTYPE),          // 0
    insn(JEQ_K, 13, 0, PACKET_OTHERHOST),          // 1: another VLAN or host -> drop
    insn(LD_B_ABS, 0, 0, SKF_AD_VLAN_TAG_PRESENT), // 2
    insn(JEQ_K, 11, 0, 1),                         // 3: tagged -> drop
    insn(LD_H_ABS, 0, 0, 12),                      // 4: EtherType
    insn(JEQ_K, 0, 9, 0x86dd),                     // 5: not IPv6 -> drop
    insn(LD_B_ABS, 0, 0, 20),                      // 6: next header
    insn(JEQ_K, 4, 0, 58),                         // 7: ICMPv6 -> 12
    insn(JEQ_K, 5, 0, 0),                          // 8: Hop-by-Hop -> accept
    insn(JEQ_K, 4, 0, 43),                         // 9: Routing -> accept
    insn(JEQ_K, 3, 0, 44),                         // 10: Fragment -> accept
    insn(JEQ_K, 2, 3, 60),                         // 11: Destination Options -> accept, else drop
    insn(LD_B_ABS, 0, 0, 54),                      // 12: ICMPv6 type
    insn(JEQ_K, 0, 1, 135),                        // 13: NS -> accept, else drop
    insn(RET_K, 0, 0, u32::MAX),                   // 14: accept, whole frame
    insn(RET_K, 0, 0, 0),                          // 15: drop
];

/// Admits untagged IPv6 frames carrying ICMPv6 type 136 (Neighbor Advertisement) directly
/// after the fixed header: what the load generator (examples/ndpload.rs) receives the
/// answers with. Responders send NAs without extension headers (RFC 4861 section 7.2.4
/// names none), so none are admitted.
pub const NA_FILTER: [libc::sock_filter; 10] = [
    insn(LD_B_ABS, 0, 0, SKF_AD_VLAN_TAG_PRESENT), // 0
    insn(JEQ_K, 7, 0, 1),                          // 1: tagged -> drop
    insn(LD_H_ABS, 0, 0, 12),                      // 2: EtherType
    insn(JEQ_K, 0, 5, 0x86dd),                     // 3: not IPv6 -> drop
    insn(LD_B_ABS, 0, 0, 20),                      // 4: next header
    insn(JEQ_K, 0, 3, 58),                         // 5: not ICMPv6 -> drop
    insn(LD_B_ABS, 0, 0, 54),                      // 6: ICMPv6 type
    insn(JEQ_K, 0, 1, 136),                        // 7: NA -> accept, else drop
    insn(RET_K, 0, 0, u32::MAX),                   // 8: accept, whole frame
    insn(RET_K, 0, 0, 0),                          // 9: drop
];

/// Refuses everything: attached first so that nothing unfiltered is queued while the socket
/// is set up (the libpcap and odhcpd technique).
pub const DROP_ALL: [libc::sock_filter; 1] = [insn(RET_K, 0, 0, 0)];

/// Attaches `program` to the socket (SO_ATTACH_FILTER replaces any previous one).
pub(super) fn attach(fd: libc::c_int, program: &[libc::sock_filter]) -> Result<(), SysError> {
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    setsockopt(
        fd,
        libc::SOL_SOCKET,
        libc::SO_ATTACH_FILTER,
        &prog,
        "setsockopt(SO_ATTACH_FILTER)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal classic-BPF interpreter for the opcodes our filter uses, so the program's
    /// jump offsets are checked against frames rather than trusted.
    fn run(prog: &[libc::sock_filter], frame: &[u8], vlan_tagged: bool) -> u32 {
        run_as(prog, frame, vlan_tagged, PACKET_MULTICAST)
    }

    /// linux/if_packet.h: what a multicast NS arrives as.
    const PACKET_MULTICAST: u32 = 2;

    /// [`run`] for a frame of the given packet type.
    fn run_as(prog: &[libc::sock_filter], frame: &[u8], vlan_tagged: bool, pkttype: u32) -> u32 {
        let mut acc: u32 = 0;
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            pc += 1;
            match i.code {
                LD_B_ABS if i.k == SKF_AD_VLAN_TAG_PRESENT => acc = vlan_tagged as u32,
                LD_B_ABS if i.k == SKF_AD_PKTTYPE => acc = pkttype,
                LD_B_ABS => match frame.get(i.k as usize) {
                    Some(b) => acc = *b as u32,
                    None => return 0,
                },
                LD_H_ABS => match frame.get(i.k as usize..i.k as usize + 2) {
                    Some(b) => acc = u16::from_be_bytes([b[0], b[1]]) as u32,
                    None => return 0,
                },
                JEQ_K => pc += if acc == i.k { i.jt } else { i.jf } as usize,
                RET_K => return i.k,
                other => panic!("opcode {other:#x} not modelled"),
            }
        }
    }

    fn frame(ethertype: u16, next_header: u8, icmp_type: u8) -> [u8; 64] {
        let mut f = [0u8; 64];
        f[12..14].copy_from_slice(&ethertype.to_be_bytes());
        f[20] = next_header;
        f[54] = icmp_type;
        f
    }

    #[test]
    fn admits_ns_whole() {
        assert_eq!(run(&NS_FILTER, &frame(0x86dd, 58, 135), false), u32::MAX);
    }

    #[test]
    fn refuses_other_icmpv6_and_protocols() {
        assert_eq!(run(&NS_FILTER, &frame(0x86dd, 58, 136), false), 0);
        assert_eq!(run(&NS_FILTER, &frame(0x86dd, 58, 128), false), 0);
        assert_eq!(run(&NS_FILTER, &frame(0x86dd, 6, 135), false), 0);
        assert_eq!(run(&NS_FILTER, &frame(0x0800, 58, 135), false), 0);
    }

    #[test]
    fn admits_extension_headers_for_user_space_walk() {
        for nh in [0u8, 43, 44, 60] {
            assert_eq!(run(&NS_FILTER, &frame(0x86dd, nh, 0), false), u32::MAX);
        }
    }

    #[test]
    fn refuses_vlan_tagged_and_short_frames() {
        assert_eq!(run(&NS_FILTER, &frame(0x86dd, 58, 135), true), 0);
        assert_eq!(run(&NS_FILTER, &frame(0x86dd, 58, 135)[..54], false), 0);
    }

    /// Another VLAN's NS, as a socket bound to ETH_P_IPV6 gets it: tag cleared, packet
    /// type PACKET_OTHERHOST. The lab test `malformed_burst_is_dropped_by_reason_and_valid_ns_all_answered`
    /// (tests/robustness.rs) found such frames answered before this check.
    #[test]
    fn refuses_frames_for_other_hosts_and_vlans() {
        let ns = frame(0x86dd, 58, 135);
        assert_eq!(run_as(&NS_FILTER, &ns, false, PACKET_OTHERHOST), 0);
        const PACKET_HOST: u32 = 0;
        assert_eq!(run_as(&NS_FILTER, &ns, false, PACKET_HOST), u32::MAX);
    }

    #[test]
    fn na_filter_admits_only_untagged_plain_na() {
        assert_eq!(run(&NA_FILTER, &frame(0x86dd, 58, 136), false), u32::MAX);
        assert_eq!(run(&NA_FILTER, &frame(0x86dd, 58, 135), false), 0);
        assert_eq!(run(&NA_FILTER, &frame(0x86dd, 0, 136), false), 0);
        assert_eq!(run(&NA_FILTER, &frame(0x0800, 58, 136), false), 0);
        assert_eq!(run(&NA_FILTER, &frame(0x86dd, 58, 136), true), 0);
        assert_eq!(run(&NA_FILTER, &frame(0x86dd, 58, 136)[..54], false), 0);
    }

    #[test]
    fn drop_all_drops() {
        assert_eq!(run(&DROP_ALL, &frame(0x86dd, 58, 135), false), 0);
    }
}
