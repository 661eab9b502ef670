#!/usr/bin/env bash
# Demo of the problem ndpresponder solves, in network namespaces (run as root):
# a VPS routes a /112 of its on-link /64 to a container; the upstream router solicits the
# container's address from its link-local address; the hypervisor bridge drops NAs from the
# VPS whose source is outside the VPS's /64. Kernel proxy_ndp answers from the link-local
# address and is dropped; ndpresponder answers from the target address and gets through.
# The topology is scripts/lab-net.sh; everything is removed on exit, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh

readonly CT_ADDR=2001:db8:1:2::1:5
readonly CT_NET=2001:db8:1:2::1:0/112
readonly BIN=target/release/ndpresponder
readonly LAB=scripts/lab-net.sh
readonly SUFFIX=$$

step() { printf '\n==> %s\n' "$*"; }

[ "$(id -u)" -eq 0 ] || {
	echo "lab.sh needs root (network namespaces)" >&2
	exit 1
}

step "Checking the lab's tools (installing what is missing)"
require_rust
require "${LAB_TOOLS[@]}" ping:iputils-ping tcpdump:tcpdump

step "Building the release binary"
cargo build --release --quiet

work=$(mktemp -d)
daemon_pid="" tcpdump_pid=""
cleanup() {
	[ -z "$tcpdump_pid" ] || kill "$tcpdump_pid" 2> /dev/null || true
	[ -z "$daemon_pid" ] || kill "$daemon_pid" 2> /dev/null || true
	wait 2> /dev/null || true
	bash "$LAB" down "$SUFFIX"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

R=$(bash "$LAB" ns "$SUFFIX" router)
S=$(bash "$LAB" ns "$SUFFIX" server)
in_router() { ip netns exec "$R" "$@"; }
in_server() { ip netns exec "$S" "$@"; }

# Waits (at most 10 s) until FILE contains PATTERN.
wait_for() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2> /dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$2' in $1" >&2
	return 1
}

# Starts tcpdump in the server namespace on the NAs the uplink sends. Started directly (not
# through a function) so that $! is tcpdump itself. A tcpdump that exits before it listens
# (not installed, no such device) stops the demo with its error.
capture_na() {
	ip netns exec "$S" tcpdump -i wan0 -Q out -l -n -vv 'icmp6 and ip6[40] == 136' \
		> "$work/na.txt" 2> "$work/tcpdump.err" &
	tcpdump_pid=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$work/tcpdump.err" && return 0
		if ! kill -0 "$tcpdump_pid" 2> /dev/null; then
			tcpdump_pid=""
			echo "tcpdump could not run: $(cat "$work/tcpdump.err")" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "tcpdump did not start listening within 10 s: $(cat "$work/tcpdump.err")" >&2
	exit 1
}

# Stops the capture and prints the NA for the container address, with its options. Both
# steps that show one expect an NA on the uplink (the bridge may drop it further on), so
# seeing none means the demo itself broke.
show_na() {
	local status=0
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid" || status=$?
	tcpdump_pid=""
	if ! grep -q "tgt is $CT_ADDR," "$work/na.txt"; then
		echo "tcpdump (exit $status) saw no NA for $CT_ADDR: $(cat "$work/tcpdump.err")" >&2
		exit 1
	fi
	grep -A 2 "tgt is $CT_ADDR," "$work/na.txt" | head -n 3 | sed 's/^/    /'
}

# One ping round from the router to the container: status 0 if it answered, 1 if ping ran
# and got no reply. iputils ping exits 1 for "no reply", but `ip netns exec` also exits 1
# when it cannot exec ping at all, so "no reply" also needs ping's own statistics line;
# anything else (ping missing, exit 2 for an error) stops the demo.
ping_ct() {
	local out status=0
	out=$(in_router ping -6 -n -c 3 -W 1 "$CT_ADDR" 2>&1) || status=$?
	[ "$status" = 0 ] && return 0
	if [ "$status" = 1 ] && grep -q ' 0 received' <<< "$out"; then
		return 1
	fi
	echo "ping could not run (exit $status): $out" >&2
	exit 1
}

step "Creating the lab: router -- hypervisor bridge (drops NAs from outside 2001:db8:1:2::/64) -- VPS -- container"
bash "$LAB" up "$SUFFIX" link-local
echo "The router has only fe80::1 on the link, so it solicits $CT_ADDR from fe80::1."

step "1. Nothing answers for the container: ping from the router fails"
if ping_ct; then
	echo "unexpected: reachable"
	exit 1
fi
dropped=$(bash "$LAB" dropped "$SUFFIX")
echo "unreachable; the hypervisor dropped $dropped NAs (nobody sent one)"

step "2. Kernel proxy_ndp on the VPS uplink for $CT_ADDR: ping fails again"
bash "$LAB" proxy-ndp "$SUFFIX" "$CT_ADDR"
in_router ip -6 neigh flush dev r-eth0
capture_na
if ping_ct; then
	echo "unexpected: reachable"
	exit 1
fi
echo "unreachable; the kernel's NA (source = the VPS's link-local address):"
show_na
dropped=$(bash "$LAB" dropped "$SUFFIX")
echo "the hypervisor dropped $dropped NAs"
in_server sysctl -qw net.ipv6.conf.all.proxy_ndp=0 net.ipv6.conf.wan0.proxy_ndp=0
in_server ip -6 neigh del proxy "$CT_ADDR" dev wan0
in_router ip -6 neigh flush dev r-eth0

step "3. ndpresponder on the VPS uplink for $CT_NET: ping works"
ip netns exec "$S" "$BIN" -i wan0 -n "$CT_NET" -f 2> "$work/daemon.log" &
daemon_pid=$!
wait_for "$work/daemon.log" "armed device=wan0"
capture_na
ping_ct || ping_ct || {
	echo "unexpected: unreachable"
	cat "$work/daemon.log"
	exit 1
}
echo "reachable; ndpresponder's NA (source = the target address, flags R and S, TLLA):"
show_na
dropped=$(bash "$LAB" dropped "$SUFFIX")
echo "the hypervisor's drop counter is still $dropped"
kill -USR1 "$daemon_pid"
wait_for "$work/daemon.log" "counters uplink="
echo "the daemon's counters:"
grep "counters uplink=" "$work/daemon.log" | sed 's/^/    /'

step "Stopping ndpresponder (SIGTERM) and removing the lab"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=""
