#!/usr/bin/env bash
# Memory soak (as root): ndpresponder's static musl build (as on OpenWrt) on one side of a
# veth pair in two fresh namespaces, ndpload on the other sending TOTAL NS (default ten
# million) for random targets in a /64, 10 % of them out of range, at RATE NS/s (default
# 100k). Prints the daemon's VmRSS and VmHWM after each tenth, so flat memory shows as a
# flat column. Rate limits are off so every in-range NS is answered.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh
require_rust
require ip:iproute2 sysctl:procps file:file

TOTAL=${TOTAL:-10000000}
RATE=${RATE:-100000}
STEPS=10
MUSL_TARGET=x86_64-unknown-linux-musl
TAG="ndpr-soak-$$"

cleanup() {
	if [ -n "${PID-}" ]; then kill "$PID" 2> /dev/null || true; fi
	ip netns del "$TAG-r" 2> /dev/null || true
	ip netns del "$TAG-s" 2> /dev/null || true
}
trap cleanup EXIT

rustup target add "$MUSL_TARGET" > /dev/null 2>&1 || true
cargo build --release --quiet --example ndpload
if cargo build --release --quiet --target "$MUSL_TARGET" --bin ndpresponder 2> /dev/null; then
	BIN=target/$MUSL_TARGET/release/ndpresponder
else
	BIN=target/release/ndpresponder
	cargo build --release --quiet --bin ndpresponder
fi

for ns in "$TAG-r" "$TAG-s"; do
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
done
ip link add r0 netns "$TAG-r" type veth peer name s0 netns "$TAG-s"
ip -n "$TAG-r" link set r0 up
ip -n "$TAG-s" link set s0 up
for _ in $(seq 50); do
	ip -n "$TAG-r" -6 addr show dev r0 scope link | grep -q inet6 && break
	sleep 0.1
done

ip netns exec "$TAG-s" "$BIN" -f -u -i s0 -n 2001:db8:1::/64 \
	--rate-limit 0 --source-rate-limit 0 2> "/tmp/$TAG.log" &
PID=$!
for _ in $(seq 50); do
	grep -q "armed device=s0" "/tmp/$TAG.log" && break
	sleep 0.1
done

mem() { awk '/^VmRSS|^VmHWM/ { printf "%s %s KiB  ", $1, $2 }' "/proc/$PID/status"; }
echo "binary: $BIN ($(file -b "$BIN" | cut -d, -f1-2))"
echo "start:            $(mem)"
per_step=$((TOTAL / STEPS))
for step in $(seq "$STEPS"); do
	line=$(ip netns exec "$TAG-r" target/release/examples/ndpload -i r0 --in 2001:db8:1::/64 \
		--out 2001:db8:2::/64 --out-share 0.1 --rate "$RATE" --count "$per_step" --duration 3600 --label soak)
	ratio=$(tr ' ' '\n' <<< "$line" | sed -n 's/^ratio=//p')
	printf 'after %9d NS: %s ratio %s\n' $((step * per_step)) "$(mem)" "$ratio"
done
kill -USR1 "$PID"
sleep 0.3
grep counters "/tmp/$TAG.log" | tail -1
rm -f "/tmp/$TAG.log"
