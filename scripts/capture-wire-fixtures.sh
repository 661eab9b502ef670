#!/usr/bin/env bash
# Capture the Linux kernel's own Neighbor Solicitations and Advertisements between two
# network namespaces joined by a veth pair, and print every frame as hex. The output is what
# src/wire/fixtures.rs was built from. Needs root; installs iproute2, procps, tcpdump,
# ndisc6 and iputils-ping when missing.
#
#   A (wire-$$-a, veth wa, 02:00:00:00:00:0a, 2001:db8::a)  <->  B (wire-$$-b, veth wb,
#   02:00:00:00:00:0b, 2001:db8::b)
#
# Captured, in this order:
#   1. DAD probe from A when 2001:db8::a is added (source ::, enhanced-DAD nonce option).
#   2. Multicast NS from A resolving 2001:db8::b (ping -6), and B's solicited NA with TLLA.
#   3. Unicast NUD probe from A after the entry is forced STALE and traffic resumes.
#   4. Multicast NS sent by ndisc6 (user space, raw socket) and B's reply.
#   5. A duplicate: B tries to add 2001:db8::a; B's DAD NS and A's NA to ff02::1.
set -eu
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"
require ip:iproute2 sysctl:procps tcpdump:tcpdump ping:iputils-ping ndisc6:ndisc6

A="wire-$$-a"
B="wire-$$-b"
OUT="${1:-/tmp/wire-fixtures-$$}"
mkdir -p "$OUT"
TCPDUMP_PID=""

cleanup() {
	if [ -n "$TCPDUMP_PID" ]; then kill "$TCPDUMP_PID" 2> /dev/null || true; fi
	ip netns del "$A" 2> /dev/null || true
	ip netns del "$B" 2> /dev/null || true
}
trap cleanup EXIT INT TERM

ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add wa address 02:00:00:00:00:0a type veth peer name wb netns "$B" \
	address 02:00:00:00:00:0b
# No router behaviour (R flag stays 0); fast NUD so a probe shows up within seconds (the
# per-interface neigh table: a fresh namespace has no neigh/default).
ip netns exec "$A" sysctl -qw net.ipv6.conf.all.forwarding=0
ip netns exec "$B" sysctl -qw net.ipv6.conf.all.forwarding=0
ip netns exec "$A" sysctl -qw net.ipv6.neigh.wa.delay_first_probe_time=1
ip netns exec "$A" sysctl -qw net.ipv6.conf.wa.enhanced_dad=1
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" link set wa up
ip -n "$B" link set wb up
# Let link-local DAD and the initial MLD reports finish before capturing.
sleep 3

ip netns exec "$A" tcpdump -i wa -U -w "$OUT/all.pcap" icmp6 2> /dev/null &
TCPDUMP_PID=$!
sleep 1

# 1. DAD for the global address on A.
ip -n "$B" addr add 2001:db8::b/64 dev wb nodad
ip -n "$A" addr add 2001:db8::a/64 dev wa
sleep 2

# 2. Address resolution: multicast NS from A, solicited NA from B.
ip netns exec "$A" ping -6 -c 1 -W 2 2001:db8::b > /dev/null
sleep 1

# 3. NUD: force STALE, send traffic: DELAY, then a unicast PROBE after 1 s.
ip -n "$A" neigh change 2001:db8::b dev wa lladdr 02:00:00:00:00:0b nud stale
ip netns exec "$A" ping -6 -c 4 -i 1 -W 1 2001:db8::b > /dev/null || true
sleep 1

# 4. ndisc6 from user space.
ip netns exec "$A" ndisc6 -1 -r 1 2001:db8::b wa > /dev/null || true
sleep 1

# 5. Duplicate address: B runs DAD for A's address, A defends with an NA to ff02::1.
ip -n "$B" addr add 2001:db8::a/64 dev wb
sleep 2

kill "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2> /dev/null || true
TCPDUMP_PID=""
tcpdump -r "$OUT/all.pcap" -nn -e -v -xx 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)' 2> /dev/null
echo "pcap: $OUT/all.pcap"
