#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets from the project's test fixtures.

Usage: fuzz/seeds.py OUT_DIR   (one sub-directory per target, e.g. OUT_DIR/wire_ns/)

Sources, so the fuzzer starts from real inputs instead of rediscovering the formats:
  wire_ns, wire_na, responder  the captured kernel frames in src/wire/fixtures.rs
  uci, config                  tests/fixtures/uci/corpus and files/etc/config/ndpresponder
  ubus_object                  the ubusd -> server streams of tests/fixtures/ubus
  ubus_blobmsg                 the DATA and SIGNATURE payloads of those frames
  netifd_dump                  the DATA payloads of the netifd recordings (30-35 in
                               tests/fixtures/ubus), among them the `dump` replies
  netifd_watch                 per client of those recordings, what ubusd sent it, after a
                               retry-mask byte (0, and 0x55 for ndpresponder's own sessions)
  rtnl                         a live RTM_GETLINK/RTM_GETADDR dump of this host when the
                               kernel allows it, plus hand-built messages
"""

import os
import re
import socket
import struct
import sys
from pathlib import Path

CRATE = Path(__file__).resolve().parent.parent
FIXTURES = CRATE / "tests/fixtures"


def wire_frames():
    """Every `pub const NAME: &[u8] = &[ ... ];` of src/wire/fixtures.rs, as bytes."""
    text = (CRATE / "src/wire/fixtures.rs").read_text()
    frames = {}
    for m in re.finditer(r"pub const (\w+): &\[u8\] = &\[(.*?)\];", text, re.S):
        # Drop the `// offset, field` comments, which hold numbers too.
        body = "\n".join(line.split("//")[0] for line in m.group(2).splitlines())
        frames[m.group(1)] = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]{2})", body))
    if not frames:
        sys.exit("no frames found in src/wire/fixtures.rs")
    return frames


def ubus_transcripts():
    """(name, [(from, to, frame bytes)]) for every transcript of tests/fixtures/ubus."""
    out = []
    for path in sorted((FIXTURES / "ubus").glob("*.txt")):
        frames, pending = [], None
        for line in path.read_text().splitlines():
            if line.startswith("=== MSG "):
                words = line.split()
                pending = (words[3], words[5])
            elif line.startswith("HEX ") and pending:
                frames.append((pending[0], pending[1], bytes.fromhex(line[4:].strip())))
                pending = None
        out.append((path.stem, frames))
    return out


def blob_attrs(payload):
    """(id, extended, payload) of each blob attribute in `payload` (libubox blob.h)."""
    at = 0
    while at + 4 <= len(payload):
        (id_len,) = struct.unpack_from(">I", payload, at)
        length = id_len & 0xFFFFFF
        if length < 4 or at + length > len(payload):
            return
        yield (id_len >> 24) & 0x7F, bool(id_len >> 31), payload[at + 4 : at + length]
        at += (length + 3) & ~3


def blobmsg_payloads(frame):
    """The blobmsg lists inside a ubus frame: SIGNATURE (6) and DATA (7) attributes."""
    root = list(blob_attrs(frame[8:]))
    if not root:
        return []
    return [p for attr_id, _, p in blob_attrs(root[0][2]) if attr_id in (6, 7) and p]


def data_payload(frame):
    """The DATA attribute (7) of a ubus frame, or None."""
    root = list(blob_attrs(frame[8:]))
    if not root:
        return None
    return next((p for attr_id, _, p in blob_attrs(root[0][2]) if attr_id == 7 and p), None)


def nlmsg(kind, body, flags=0, seq=1):
    """A netlink message in this host's byte order, as the kernel sends it."""
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 0) + body + b"\0" * (-len(body) % 4)


def rta(kind, payload):
    return struct.pack("=HH", 4 + len(payload), kind) + payload + b"\0" * (-len(payload) % 4)


def hand_built_rtnl():
    link = struct.pack("=BxHiII", 0, 1, 2, 0x1, 0) + rta(3, b"eth0\0") + rta(1, bytes([2, 0, 0, 0, 0, 0x0C]))
    addr = struct.pack("=BBBBi", 10, 64, 0, 0, 2) + rta(1, socket.inet_pton(socket.AF_INET6, "2001:db8::c"))
    return {
        "link-addr-done": nlmsg(16, link) + nlmsg(20, addr) + nlmsg(3, struct.pack("=i", 0)),
        "dellink-deladdr": nlmsg(21, addr) + nlmsg(17, link),
        "error": nlmsg(2, struct.pack("=i", -19) + nlmsg(18, b"")[:16]),
    }


def dump_ended(datagram):
    """Whether a datagram holds NLMSG_DONE or NLMSG_ERROR, which end a dump."""
    at = 0
    while at + 16 <= len(datagram):
        length, kind = struct.unpack_from("=IH", datagram, at)
        if kind in (2, 3):
            return True
        if length < 16:
            return False
        at += (length + 3) & ~3
    return False


def live_rtnl():
    """This host's link and IPv6 address dumps, one seed per datagram; empty if refused."""
    seeds = {}
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)  # NETLINK_ROUTE
        sock.settimeout(2)
        for n, (kind, family) in enumerate([(18, socket.AF_UNSPEC), (22, socket.AF_INET6)]):
            # NLM_F_REQUEST | NLM_F_DUMP; RTM_GETLINK takes an ifinfomsg, RTM_GETADDR an ifaddrmsg.
            body = struct.pack("=BxHiII", family, 0, 0, 0, 0) if kind == 18 else struct.pack("=BBBBi", family, 0, 0, 0, 0)
            sock.send(nlmsg(kind, body, flags=0x301, seq=n + 1))
            for part in range(64):
                datagram = sock.recv(32768)
                seeds[f"live-{kind}-{part}"] = datagram
                if dump_ended(datagram):
                    break
        sock.close()
    except OSError as e:
        print(f"seeds: no live rtnetlink dump ({e}); hand-built messages only", file=sys.stderr)
    return seeds


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    corpora = {t: {} for t in ["wire_ns", "wire_na", "responder", "uci", "config", "ubus_object", "ubus_blobmsg", "netifd_dump", "netifd_watch", "rtnl"]}

    for name, frame in wire_frames().items():
        for target in ("wire_ns", "wire_na", "responder"):
            corpora[target][name.lower()] = frame

    for path in sorted((FIXTURES / "uci/corpus").iterdir()):
        corpora["uci"][path.stem] = corpora["config"][path.stem] = path.read_bytes()
    shipped = (CRATE / "files/etc/config/ndpresponder").read_bytes()
    corpora["uci"]["shipped-default"] = corpora["config"]["shipped-default"] = shipped

    for name, frames in ubus_transcripts():
        stream = b"".join(f for src, dst, f in frames if (src, dst) == ("ubusd", "server"))
        if stream:
            corpora["ubus_object"][name] = stream
        for n, (_, _, frame) in enumerate(frames):
            for m, payload in enumerate(blobmsg_payloads(frame)):
                corpora["ubus_blobmsg"][f"{name}-{n}-{m}"] = payload

        if not name[:2].isdigit() or not 30 <= int(name[:2]) <= 35:
            continue
        # netifd's recordings: 30-33 libubus clients, 34-35 ndpresponder itself, whose
        # sequence numbers the watch's match, so these reach its subscribed state at once.
        for n, (_, _, frame) in enumerate(frames):
            data = data_payload(frame)
            # ubusd forwards each reply unchanged, so most come twice.
            if data and data not in corpora["netifd_dump"].values():
                corpora["netifd_dump"][f"{name}-{n}"] = data
        for client in sorted({dst for src, dst, _ in frames if src == "ubusd"}):
            stream = b"".join(f for src, dst, f in frames if (src, dst) == ("ubusd", client))
            corpora["netifd_watch"][f"{name}-{client}"] = b"\0" + stream
            if client == "ndpresponder":
                corpora["netifd_watch"][f"{name}-{client}-retries"] = b"\x55" + stream

    corpora["rtnl"].update(hand_built_rtnl())
    corpora["rtnl"].update(live_rtnl())

    for target, seeds in corpora.items():
        directory = out / target
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (directory / f"seed-{name}").write_bytes(data)
        print(f"seeds: {target}: {len(seeds)}")


if __name__ == "__main__":
    main()
