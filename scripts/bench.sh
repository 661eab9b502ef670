#!/usr/bin/env bash
# Benchmark of NS->NA answering in a namespace lab (router -> server over a veth pair):
# ndpresponder against the kernel answering for its own addresses (the in-kernel path is the
# physical limit) and, when their Debian packages install, ndppd and npd6; and ndpresponder
# with the range routed to a downstream bridge instead of configured, answering only known
# hosts (permanent neighbour entries) or probing for them (a host namespace on the bridge
# holds the addresses).
#
# Measures, in one run: for the probing daemon, the latency of first answers (each target
# solicited for the first time); reply ratio and p50/p99 latency at several offered rates
# with a share of out-of-range targets (which must stay unanswered), then for every daemon
# with a configured prefix: CPU seconds
# per million answered NS and peak RSS after one million NS for random targets, and its
# wakeups (voluntary + involuntary context switches) over idle seconds. Prints a markdown
# report on stdout (progress on stderr).
#
# Usage (root): scripts/bench.sh [> docs/benchmark.md]
# Knobs (environment): RATES ("1000 10000 50000 100000 0", 0 = as fast as the generator can
# send), STEP_S (3), OUT_SHARE (0.1), RES_COUNT (1000000), RES_RATE (50000), IDLE_S (30),
# SKIP_INSTALL (1 = do not apt-get; scripts/common.sh).
set -euo pipefail

RATES=${RATES:-"1000 10000 50000 100000 0"}
STEP_S=${STEP_S:-3}
OUT_SHARE=${OUT_SHARE:-0.1}
RES_COUNT=${RES_COUNT:-1000000}
RES_RATE=${RES_RATE:-50000}
IDLE_S=${IDLE_S:-30}

# The sweep solicits the 1023 addresses of TARGETS (host part 0 is never used), which the
# kernel lab has assigned; the daemons are configured for the covering PREFIX. The resource
# runs solicit random addresses anywhere in PREFIX. OUT_RANGE is never configured anywhere.
TARGETS=2001:db8:1::/118
PREFIX=2001:db8:1::/64
PREFIX_NPD6=2001:db8:1:0:
OUT_RANGE=2001:db8:2::/64

cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=scripts/common.sh
. scripts/common.sh
TAG="ndpb$$"
WORK=$(mktemp -d "/tmp/${TAG}.XXXXXX")
LABS=()
PIDS=()

log() { echo "bench: $*" >&2; }
die() {
	log "$*"
	exit 1
}

cleanup() {
	local pid ns
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2> /dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2> /dev/null || true
	done
	for ns in "${LABS[@]}"; do
		ip netns del "${ns}-r" 2> /dev/null || true
		ip netns del "${ns}-s" 2> /dev/null || true
		ip netns del "${ns}-h" 2> /dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "run as root (namespaces, packet sockets, apt-get)"

# ndppd and npd6 are optional: either may be missing from a release, so each is installed
# on its own and only its rows go missing.
install_tools() {
	local daemon
	require_rust
	require ip:iproute2 sysctl:procps getconf:libc-bin
	for daemon in ndppd npd6; do
		type -P "$daemon" > /dev/null || install_packages "$daemon"
		type -P "$daemon" > /dev/null || log "no $daemon: its rows will be missing"
	done
}

build() {
	log "building release binaries"
	cargo build --release --quiet --bin ndpresponder --example ndpload >&2
	NDPRESPONDER="$ROOT/target/release/ndpresponder"
	NDPLOAD="$ROOT/target/release/examples/ndpload"
	# The static musl build is what routers run (OpenWrt's libc is musl); its RSS has no
	# shared glibc pages in it. Built only where the target's std is installed.
	MUSL_TARGET="$(uname -m)-unknown-linux-musl"
	NDPRESPONDER_MUSL=
	if rustup target list --installed 2> /dev/null | grep -qx "$MUSL_TARGET"; then
		cargo build --release --quiet --target "$MUSL_TARGET" --bin ndpresponder >&2 &&
			NDPRESPONDER_MUSL="$ROOT/target/$MUSL_TARGET/release/ndpresponder"
	fi
}

# lab NAME: namespaces NAME-r (router, r0) and NAME-s (server, s0) joined by a veth pair.
# DAD and router solicitations are off so nothing but the benchmark's own traffic flows
# (which keeps the idle measurement honest).
lab() {
	local name="${TAG}-$1" ns
	LABS+=("$name")
	for ns in "$name-r" "$name-s"; do
		ip netns add "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.accept_dad=0
		ip -n "$ns" link set lo up
	done
	ip link add r0 netns "$name-r" address 02:00:00:00:00:01 type veth \
		peer name s0 netns "$name-s" address 02:00:00:00:00:02
	ip -n "$name-r" link set r0 up
	ip -n "$name-s" link set s0 up
}

# wait_for TRIES CMD...: retries CMD every 0.1 s, at most TRIES times.
wait_for() {
	local tries=$1 i
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# follow_lab CONFIG: the server of CONFIG's lab routes PREFIX to a bridge d0 (with a global
# address outside PREFIX, the source of probes) instead of holding it: for -known with a
# permanent neighbour entry per target, for -probe with a host namespace NAME-h on the
# bridge that has the target addresses (and so answers the kernel's solicitations).
follow_lab() {
	local cfg=$1 s="${TAG}-$1-s" h="${TAG}-$1-h" i
	ip -n "$s" link add d0 type bridge mcast_snooping 0
	ip -n "$s" link set d0 up
	ip -n "$s" -6 addr add 2001:db8:3::1/128 dev d0 nodad
	ip -n "$s" -6 route add "$PREFIX" dev d0
	case $cfg in
	*-known)
		for ((i = 1; i < 1024; i++)); do
			printf 'neigh add 2001:db8:1::%x lladdr 02:00:00:aa:%02x:%02x dev d0 nud permanent\n' \
				"$i" $((i >> 8)) $((i & 255))
		done > "$WORK/neighbours"
		ip -n "$s" -batch "$WORK/neighbours"
		;;
	*-probe)
		ip netns add "$h"
		ip netns exec "$h" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
		ip -n "$s" link add hp0 type veth peer name h0 netns "$h"
		ip -n "$s" link set hp0 master d0 up
		ip -n "$h" link set lo up
		ip -n "$h" link set h0 up
		sed 's/dev s0/dev h0/' "$WORK/addresses" | ip -n "$h" -batch -
		;;
	esac
}

has_packet_socket() { [ "$(ip netns exec "$1" cat /proc/net/packet | wc -l)" -gt 1 ]; }
no_packet_socket() { ! has_packet_socket "$1"; }

# --- responders -------------------------------------------------------------------------

# start CONFIG: starts CONFIG's daemon in its lab's server namespace, sets PID[CONFIG].
# The kernel configuration has no daemon: its lab's uplink holds the 1023 target addresses.
declare -A PID=()
start() {
	local cfg=$1 ns="${TAG}-$1-s" pid
	case $cfg in
	ndpresponder*)
		local bin=$NDPRESPONDER rules=(-n "$PREFIX")
		[ "$cfg" = ndpresponder-musl ] && bin=$NDPRESPONDER_MUSL
		case $cfg in *-known | *-probe) rules=(--downstream d0 --hosts "${cfg##*-}") ;; esac
		# Rate limits off so the benchmark measures the responder, not its budget.
		ip netns exec "$ns" "$bin" -f -u -i s0 "${rules[@]}" \
			--rate-limit 0 --source-rate-limit 0 2>> "$WORK/$cfg.log" &
		pid=$!
		wait_for 100 grep -q "armed device=s0" "$WORK/$cfg.log" || die "$cfg did not arm"
		;;
	ndppd)
		printf 'proxy s0 {\n    rule %s {\n        static\n    }\n}\n' "$PREFIX" > "$WORK/ndppd.conf"
		ip netns exec "$ns" ndppd -c "$WORK/ndppd.conf" >> "$WORK/$cfg.log" 2>&1 &
		pid=$!
		wait_for 100 has_packet_socket "$ns" || die "ndppd did not open its socket"
		;;
	npd6)
		printf 'prefix=%s\ninterface=s0\n' "$PREFIX_NPD6" > "$WORK/npd6.conf"
		ip netns exec "$ns" npd6 -c "$WORK/npd6.conf" -f -l "$WORK/$cfg.log" > /dev/null 2>&1 &
		pid=$!
		wait_for 100 has_packet_socket "$ns" || die "npd6 did not open its socket"
		;;
	esac
	PIDS+=("$pid")
	PID[$cfg]=$pid
}

stop() {
	local pid=${PID[$1]}
	kill "$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
	# Its packet socket goes with it; wait so the next instance does not share the NS.
	wait_for 50 no_packet_socket "${TAG}-$1-s" || true
}

# seen CONFIG: NS the responder has counted so far (ndpresponder's SIGUSR1 counters, the
# kernel's Icmp6InNeighborSolicits); "-" where the daemon has no such counter.
seen() {
	case $1 in
	kernel)
		# shellcheck disable=SC2016 # an awk program, not shell
		ip netns exec "${TAG}-kernel-s" awk '$1 == "Icmp6InNeighborSolicits" { print $2 }' /proc/net/snmp6
		;;
	ndpresponder*)
		local before
		before=$(counter_lines "$1")
		kill -USR1 "${PID[$1]}"
		wait_for 50 more_counters "$1" "$before" || true
		grep "counters uplink" "$WORK/$1.log" | tail -1 | sed 's/.*ns_received=\([0-9]*\).*/\1/'
		;;
	*) echo - ;;
	esac
}

counter_lines() { grep -c "counters uplink" "$WORK/$1.log" || true; }
more_counters() { [ "$(counter_lines "$1")" -gt "$2" ]; }

# load CONFIG ARGS...: runs the generator in CONFIG's router namespace; prints its line.
load() {
	local cfg=$1
	shift
	ip netns exec "${TAG}-$cfg-r" "$NDPLOAD" -i r0 --out "$OUT_RANGE" --out-share "$OUT_SHARE" \
		--label "$cfg" "$@"
}

# field KEY LINE: the value of KEY=... in a generator line.
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<< "$2"; }

proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
proc_hwm_kib() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }
# Voluntary + involuntary context switches of every thread of PID.
proc_switches() {
	cat /proc/"$1"/task/*/status | awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n }'
}

# --- run ----------------------------------------------------------------------------------

install_tools
build
CONFIGS=(kernel ndpresponder)
[ -n "$NDPRESPONDER_MUSL" ] && CONFIGS+=(ndpresponder-musl)
command -v ndppd > /dev/null && CONFIGS+=(ndppd)
command -v npd6 > /dev/null && CONFIGS+=(npd6)
# Daemons with a configured prefix: the resource runs solicit random addresses of PREFIX,
# which only they answer for.
DAEMONS=("${CONFIGS[@]:1}")
FOLLOW=(ndpresponder-known ndpresponder-probe)
CONFIGS+=("${FOLLOW[@]}")
log "configurations: ${CONFIGS[*]}"

for cfg in "${CONFIGS[@]}"; do
	lab "$cfg"
done
for ((i = 1; i < 1024; i++)); do
	printf 'address add 2001:db8:1::%x/128 dev s0 nodad\n' "$i"
done > "$WORK/addresses"
ip -n "${TAG}-kernel-s" -batch "$WORK/addresses"
for cfg in "${FOLLOW[@]}"; do
	follow_lab "$cfg"
done
for cfg in "${DAEMONS[@]}" "${FOLLOW[@]}"; do
	start "$cfg"
done

# First answers: 300 NS at 100 NS/s for the 1023 targets (mostly first solicitations, so
# nearly every one waits for a probe with -probe), before anything else touched them.
declare -A FIRST=()
for cfg in ndpresponder ndpresponder-probe; do
	FIRST[$cfg]=$(load "$cfg" --in "$TARGETS" --rate 100 --duration 3)
	log "${FIRST[$cfg]}"
done

# Sweep: configurations interleaved at each rate, so a change in machine load over the
# run hits them alike.
declare -A SWEEP=() SEEN=()
for rate in $RATES; do
	for cfg in "${CONFIGS[@]}"; do
		before=$(seen "$cfg")
		line=$(load "$cfg" --in "$TARGETS" --rate "$rate" --duration "$STEP_S")
		after=$(seen "$cfg")
		log "$line"
		SWEEP["$cfg,$rate"]=$line
		if [ "$before" = - ]; then SEEN["$cfg,$rate"]=-; else SEEN["$cfg,$rate"]=$((after - before)); fi
	done
done

# Resources: a fresh daemon, RES_COUNT NS for random targets in PREFIX at RES_RATE, then
# CPU time and peak RSS; every daemon then stays idle together for the wakeup count.
declare -A RES=() CPU=() HWM=() WAKE=()
HZ=$(getconf CLK_TCK)
for cfg in "${DAEMONS[@]}"; do
	stop "$cfg"
	start "$cfg"
	t0=$(proc_ticks "${PID[$cfg]}")
	line=$(load "$cfg" --in "$PREFIX" --rate "$RES_RATE" --count "$RES_COUNT" --duration 3600)
	t1=$(proc_ticks "${PID[$cfg]}")
	log "$line"
	RES[$cfg]=$line
	CPU[$cfg]=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$(field answered "$line")" \
		'BEGIN { if (n > 0) printf "%.2f", t / hz / n * 1e6; else print "-" }')
	HWM[$cfg]=$(proc_hwm_kib "${PID[$cfg]}")
done
sleep 2
declare -A W0=()
for cfg in "${DAEMONS[@]}"; do W0[$cfg]=$(proc_switches "${PID[$cfg]}"); done
log "idle for ${IDLE_S} s"
sleep "$IDLE_S"
for cfg in "${DAEMONS[@]}"; do
	WAKE[$cfg]=$(($(proc_switches "${PID[$cfg]}") - W0[$cfg]))
done

# --- report -------------------------------------------------------------------------------

ratio_of() { field ratio "${SWEEP["$1,$2"]}"; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
rate_name() { if [ "$1" = 0 ]; then echo max; else echo "$1"; fi; }

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ndppd_version=$(dpkg-query -W -f='${Version}' ndppd 2> /dev/null || echo -)
npd6_version=$(dpkg-query -W -f='${Version}' npd6 2> /dev/null || echo -)
commit=$(git -C "$ROOT" describe --always --dirty 2> /dev/null || echo -)

cat << REPORT
## Benchmark run $(date -u '+%Y-%m-%d %H:%M UTC')

Machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, Linux $(uname -r); load average at the end
$(cut -d' ' -f1-3 /proc/loadavg). ndpresponder $commit (release profile, rate limits off:
\`--rate-limit 0 --source-rate-limit 0\`); ndppd $ndppd_version (static rule for $PREFIX);
npd6 $npd6_version (prefix=$PREFIX_NPD6). The kernel answers for 1023 addresses assigned to
the uplink. ndpresponder-musl, where present, is the same code built static for
${MUSL_TARGET} (musl, as on OpenWrt); plain ndpresponder links glibc dynamically.

Lab: router and server namespaces joined by a veth pair; \`ndpload\` in the router namespace
sends multicast NS (solicited-node group, SLLA option, from the router's link-local address)
for random targets among the 1023 addresses of $TARGETS, with a share of $OUT_SHARE of targets in
$OUT_RANGE (never configured: every answer to them counts as *wrong*), for $STEP_S s per
rate. Latency is user space to user space at the generator (send() to the recv() returning
the NA), p50/p99 in microseconds. *sent/s* is the rate the generator achieved. *seen* is
what the responder itself counted (ndpresponder's \`ns_received\`, the kernel's
Icmp6InNeighborSolicits). *late* are NAs matching no outstanding NS (more than 8 reuses of
the target late, or duplicates).

| offered NS/s | responder | sent/s | ratio | vs kernel | wrong | late | p50 us | p99 us | p50 vs kernel | seen |
|---|---|---|---|---|---|---|---|---|---|---|
REPORT
for rate in $RATES; do
	for cfg in "${CONFIGS[@]}"; do
		l=${SWEEP["$cfg,$rate"]}
		k=${SWEEP["kernel,$rate"]}
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
			"$(rate_name "$rate")" "$cfg" "$(field achieved_rate "$l")" "$(field ratio "$l")" \
			"$(div "$(field ratio "$l")" "$(field ratio "$k")")" "$(field wrong "$l")" \
			"$(field late "$l")" "$(field p50_us "$l")" "$(field p99_us "$l")" \
			"$(div "$(field p50_us "$l")" "$(field p50_us "$k")")" "${SEEN["$cfg,$rate"]}"
	done
done

cat << REPORT

Resources: each daemon freshly started, then $RES_COUNT NS for random targets anywhere in
$PREFIX at $RES_RATE NS/s (10 % out of range); CPU is the daemon's user+system time over that
run (it includes the kernel work done in its context, such as delivering its NAs) per
million NAs answered; peak RSS is VmHWM; idle wakeups are voluntary + involuntary context
switches over $IDLE_S s without traffic, right after the load.

| responder | sent/s | answered | ratio | CPU s per million answered | peak RSS KiB | idle wakeups in ${IDLE_S} s |
|---|---|---|---|---|---|---|
REPORT
for cfg in "${DAEMONS[@]}"; do
	l=${RES[$cfg]}
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$cfg" "$(field achieved_rate "$l")" \
		"$(field answered "$l")" "$(field ratio "$l")" "${CPU[$cfg]}" "${HWM[$cfg]}" "${WAKE[$cfg]}"
done

cat << REPORT

Routed ranges: ndpresponder-known and -probe have no prefix configured; their server routes
$PREFIX to a bridge (\`--downstream d0\`). -known answers for the 1023 targets because each
has a permanent neighbour entry on the bridge; -probe finds them by probing (a namespace
on the bridge holds them). Their rows in the sweep above are against the same generator.
First answers: 300 NS at 100 NS/s for random targets among the 1023, the first traffic
either daemon sees (so with -probe most NS are for a target not yet known, and wait for the
probe; targets seen again are answered from the neighbour entry the probe created).

| responder | answered | ratio | p50 us | p99 us |
|---|---|---|---|---|
REPORT
for cfg in ndpresponder ndpresponder-probe; do
	l=${FIRST[$cfg]}
	printf '| %s | %s | %s | %s | %s |\n' "$cfg" "$(field answered "$l")" "$(field ratio "$l")" \
		"$(field p50_us "$l")" "$(field p99_us "$l")"
done

# Targets, judged within this run.
verdict() { if [ "$1" = 1 ]; then echo met; else echo "**missed**"; fi; }
held=() ok=1
for rate in $RATES; do
	if [ "$(ratio_of kernel "$rate")" = 1.0000 ]; then
		held+=("$(rate_name "$rate")")
		[ "$(ratio_of ndpresponder "$rate")" = 1.0000 ] || ok=0
	fi
done
p50k=$(field p50_us "${SWEEP["kernel,10000"]-}")
p50n=$(field p50_us "${SWEEP["ndpresponder,10000"]-}")
p50ok=$(awk -v n="${p50n:--}" -v k="${p50k:--}" 'BEGIN { print (n != "-" && k != "-" && n <= 1.5 * k) ? 1 : 0 }')
cat << REPORT

Targets (ndpresponder, judged against this run):
- reply ratio 1.0000 at every rate where the kernel held 1.0000 (${held[*]:-none}): $(verdict $ok)
  ($(for r in $RATES; do printf '%s: %s; ' "$(rate_name "$r")" "$(ratio_of ndpresponder "$r")"; done))
- p50 at 10000 NS/s at most 1.5x the kernel's: $(verdict "$p50ok") (${p50n:--} us vs ${p50k:--} us)
$(for cfg in ndpresponder ndpresponder-musl; do
	[ -n "${HWM[$cfg]-}" ] || continue
	echo "- $cfg peak RSS at most 1024 KiB: $(verdict "$([ "${HWM[$cfg]}" -le 1024 ] && echo 1)") (${HWM[$cfg]} KiB)"
	echo "- $cfg zero idle wakeups: $(verdict "$([ "${WAKE[$cfg]}" -eq 0 ] && echo 1)") (${WAKE[$cfg]})"
done)
REPORT
