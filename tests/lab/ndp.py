#!/usr/bin/env python3
"""Crafted Neighbor Solicitations and a Neighbor Advertisement capture for the namespace lab.

Run inside a namespace (`ip netns exec NS .venv/bin/python3 tests/lab/ndp.py ...`):

  ndp.py send IFACE VARIANT TARGET --src ADDR [--peer-mac MAC]
      Send one NS of the given variant out of IFACE. The Ethernet source is IFACE's MAC
      (the `own_mac` variant uses --peer-mac instead); --peer-mac is the responder's MAC,
      used as unicast destination by `unicast` and as forged source by `own_mac`.
  ndp.py burst IFACE --src ADDR --peer-mac MAC VARIANT/TARGET...
      Send one NS per VARIANT/TARGET pair, in order, from one socket (one scapy start-up
      for a whole burst of frames); VARIANT may also be cutN or vlanN (see below).
  ndp.py capture IFACE --timeout SECONDS [--count N]
      Print "ready" once listening, then one JSON line per NA received on IFACE (frames
      sent by IFACE itself are skipped) until SECONDS have passed or N NAs were seen.

Variants (RFC 4861 section 7.1.1 lists the validity rules the invalid ones break):
  valid              multicast NS to the solicited-node group, with SLLA
  unicast            reachability probe: sent to the target itself and --peer-mac, no SLLA
  dad                duplicate address detection: source ::, solicited-node destination
  hop_limit          hop limit 64 instead of 255
  checksum           wrong ICMPv6 checksum
  code               ICMP code 1
  icmp_length        ICMP message of 20 bytes (< 24)
  multicast_target   target ff02::1 (TARGET is ignored)
  option_length      an option whose length field is 0
  dad_source_lladdr  source :: with an SLLA option
  dad_destination    source :: sent to ff02::1 instead of the solicited-node group
  multicast_source   IPv6 source ff02::1 (RFC 4291 section 2.7: never a source)
  fragment           the NS inside an (atomic) IPv6 fragment; RFC 6980 section 5
  truncated          IPv6 payload length 32 but only 24 bytes of it in the frame
  own_mac            Ethernet source is the responder's own MAC
  option_overlong    an option whose length field (2, 16 bytes) runs past the message
  hbh                valid NS behind a Hop-by-Hop header (PadN): walked, so still valid
  dstopt             valid NS behind a Destination Options header (PadN): still valid
  hbh_truncated      a Hop-by-Hop header claiming 88 bytes of a 40-byte payload
  cutN               the valid frame cut to its first N bytes (Payload Length unchanged)
  vlanN              the valid frame inside an 802.1Q tag with VLAN ID N: not this link's
                     traffic
"""

import argparse
import ipaddress
import json
import logging
import struct
import sys
import time

logging.getLogger("scapy").setLevel(logging.ERROR)

from scapy.arch import get_if_hwaddr  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6ND_NA,
    ICMPv6NDOptDstLLAddr,
    IPv6,
    IPv6ExtHdrFragment,
    in6_chksum,
)
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.config import conf  # noqa: E402
from scapy.sendrecv import AsyncSniffer, sendp  # noqa: E402

ICMPV6 = 58
NS_TYPE = 135
NA_TYPE = 136
ALL_NODES = "ff02::1"

VARIANTS = (
    "valid unicast dad hop_limit checksum code icmp_length multicast_target option_length "
    "dad_source_lladdr dad_destination multicast_source fragment truncated own_mac "
    "option_overlong hbh dstopt hbh_truncated"
).split()

HOP_BY_HOP = 0
DESTINATION_OPTIONS = 60


def solicited_node(addr):
    """ff02::1:ffXX:XXXX, RFC 4291 section 2.7.1."""
    low = ipaddress.IPv6Address(addr).packed[13:]
    return str(ipaddress.IPv6Address(bytes.fromhex("ff02" + "00" * 9 + "01ff") + low))


def multicast_mac(addr):
    """33:33 + the low 32 bits of the group, RFC 2464 section 7."""
    low = ipaddress.IPv6Address(addr).packed[12:]
    return "33:33:" + ":".join("%02x" % b for b in low)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def slla(mac):
    """Source Link-Layer Address option, RFC 4861 section 4.6.1 (length in units of 8)."""
    return bytes([1, 1]) + mac_bytes(mac)


def icmp(src, dst, code, body, bad_checksum=False):
    """An ICMPv6 message with its checksum over the RFC 8200 section 8.1 pseudo-header."""
    msg = struct.pack("!BBH", NS_TYPE, code, 0) + body
    csum = in6_chksum(ICMPV6, IPv6(src=src, dst=dst), msg)
    if bad_checksum:
        csum ^= 0x5555
    return msg[:2] + struct.pack("!H", csum) + msg[4:]


def ns_body(target, options=b""):
    """Reserved field and target (RFC 4861 section 4.3), then options."""
    return b"\0\0\0\0" + ipaddress.IPv6Address(target).packed + options


def padn_header(next_header, ext_len=0):
    """A Hop-by-Hop or Destination Options header holding one PadN option (RFC 8200
    section 4.2): 8 bytes, or claiming (ext_len + 1) * 8 when ext_len is given."""
    return bytes([next_header, ext_len, 1, 4, 0, 0, 0, 0])


def craft(variant, my_mac, peer_mac, src, target):
    """The frame for one variant, as bytes."""
    if variant.startswith("cut"):
        return craft("valid", my_mac, peer_mac, src, target)[: int(variant[3:])]
    if variant.startswith("vlan"):
        frame = craft("valid", my_mac, peer_mac, src, target)
        tag = struct.pack("!HH", 0x8100, int(variant[4:]))
        return frame[:12] + tag + frame[12:]
    eth_src, hop_limit, code, bad_checksum = my_mac, 255, 0, False
    ip_src, ip_dst = src, solicited_node(target)
    body = ns_body(target, slla(my_mac))
    if variant == "unicast":
        ip_dst, body = target, ns_body(target)
    elif variant == "dad":
        ip_src, body = "::", ns_body(target)
    elif variant == "hop_limit":
        hop_limit = 64
    elif variant == "checksum":
        bad_checksum = True
    elif variant == "code":
        code = 1
    elif variant == "icmp_length":
        body = ns_body(target)[:16]
    elif variant == "multicast_target":
        target = ALL_NODES
        ip_dst, body = solicited_node(target), ns_body(target, slla(my_mac))
    elif variant == "option_length":
        body = ns_body(target, bytes([1, 0]) + mac_bytes(my_mac))
    elif variant == "dad_source_lladdr":
        ip_src = "::"
    elif variant == "dad_destination":
        ip_src, ip_dst, body = "::", ALL_NODES, ns_body(target)
    elif variant == "multicast_source":
        ip_src = ALL_NODES
    elif variant == "own_mac":
        eth_src, body = peer_mac, ns_body(target, slla(peer_mac))
    elif variant == "option_overlong":
        body = ns_body(target, bytes([1, 2]) + mac_bytes(my_mac))
    eth_dst = peer_mac if variant == "unicast" else multicast_mac(ip_dst)
    msg = icmp(ip_src, ip_dst, code, body, bad_checksum)
    eth = Ether(src=eth_src, dst=eth_dst)
    if variant == "fragment":
        frag = IPv6ExtHdrFragment(nh=ICMPV6, offset=0, m=0, id=0x4E44)
        return bytes(eth / IPv6(src=ip_src, dst=ip_dst, hlim=hop_limit, nh=44) / frag / Raw(msg))
    ext = {
        "hbh": (HOP_BY_HOP, padn_header(ICMPV6)),
        "dstopt": (DESTINATION_OPTIONS, padn_header(ICMPV6)),
        "hbh_truncated": (HOP_BY_HOP, padn_header(ICMPV6, ext_len=10)),
    }.get(variant)
    if ext is not None:
        nh, header = ext
        return bytes(eth / IPv6(src=ip_src, dst=ip_dst, hlim=hop_limit, nh=nh) / Raw(header + msg))
    frame = bytes(eth / IPv6(src=ip_src, dst=ip_dst, hlim=hop_limit, nh=ICMPV6) / Raw(msg))
    if variant == "truncated":
        return frame[: 14 + 40 + 24]
    return frame


def send(args):
    my_mac = get_if_hwaddr(args.iface)
    if args.variant in ("unicast", "own_mac") and not args.peer_mac:
        sys.exit("variant %s needs --peer-mac" % args.variant)
    frame = craft(args.variant, my_mac, args.peer_mac, args.src, args.target)
    sendp(Raw(frame), iface=args.iface, verbose=False)


def burst_variant(name):
    """A VARIANT of a burst: one of VARIANTS, cutN or vlanN."""
    for numbered in ("cut", "vlan"):
        if name.startswith(numbered) and name[len(numbered) :].isdigit():
            return name
    if name in VARIANTS:
        return name
    raise argparse.ArgumentTypeError("unknown variant %r" % name)


def burst(args):
    my_mac = get_if_hwaddr(args.iface)
    frames = []
    for spec in args.specs:
        variant, _, target = spec.partition("/")
        frames.append(craft(burst_variant(variant), my_mac, args.peer_mac, args.src, target))
    sock = conf.L2socket(iface=args.iface)
    try:
        for frame in frames:
            sock.send(Raw(frame))
    finally:
        sock.close()


def describe(pkt, my_mac):
    """One NA as a dict, or None for anything else."""
    if Ether not in pkt or pkt[Ether].src == my_mac or ICMPv6ND_NA not in pkt:
        return None
    ip, na = pkt[IPv6], pkt[ICMPv6ND_NA]
    raw_icmp = bytes(na)
    zeroed = raw_icmp[:2] + b"\0\0" + raw_icmp[4:]
    tlla = pkt[ICMPv6NDOptDstLLAddr].lladdr if ICMPv6NDOptDstLLAddr in pkt else None
    return {
        "eth_src": pkt[Ether].src,
        "eth_dst": pkt[Ether].dst,
        "ip_src": ip.src,
        "ip_dst": ip.dst,
        "hop_limit": ip.hlim,
        "router": bool(na.R),
        "solicited": bool(na.S),
        "override": bool(na.O),
        "target": na.tgt,
        "tlla": tlla,
        "code": na.code,
        "checksum_ok": in6_chksum(ICMPV6, ip, zeroed) == na.cksum,
    }


def capture(args):
    my_mac = get_if_hwaddr(args.iface)
    seen = []

    def on_packet(pkt):
        na = describe(pkt, my_mac)
        if na is not None:
            seen.append(na)
            print(json.dumps(na, sort_keys=True), flush=True)

    def ready():
        print("ready", flush=True)

    sniffer = AsyncSniffer(
        iface=args.iface,
        prn=on_packet,
        store=False,
        started_callback=ready,
        stop_filter=lambda _: args.count is not None and len(seen) >= args.count,
    )
    sniffer.start()
    deadline = time.monotonic() + args.timeout
    while sniffer.running and time.monotonic() < deadline:
        time.sleep(0.05)
    if sniffer.running:
        sniffer.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_send = sub.add_parser("send")
    p_send.add_argument("iface")
    p_send.add_argument("variant", choices=VARIANTS)
    p_send.add_argument("target")
    p_send.add_argument("--src", required=True, help="IPv6 source of the NS (unless DAD)")
    p_send.add_argument("--peer-mac", help="the responder's MAC")
    p_send.set_defaults(run=send)
    p_burst = sub.add_parser("burst")
    p_burst.add_argument("iface")
    p_burst.add_argument("--src", required=True, help="IPv6 source of the NS (unless DAD)")
    p_burst.add_argument("--peer-mac", required=True, help="the responder's MAC")
    p_burst.add_argument("specs", nargs="+", metavar="VARIANT/TARGET")
    p_burst.set_defaults(run=burst)
    p_cap = sub.add_parser("capture")
    p_cap.add_argument("iface")
    p_cap.add_argument("--timeout", type=float, required=True)
    p_cap.add_argument("--count", type=int)
    p_cap.set_defaults(run=capture)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
