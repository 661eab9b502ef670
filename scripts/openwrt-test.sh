#!/usr/bin/env bash
# The x86_64 .ipk on OpenWrt's real userland: procd as PID 1 of new pid, mount, net, uts
# and ipc namespaces, chrooted into a copy of a staged root (procd with ujail, ubusd,
# logd, rpcd, uhttpd with its ubus plugin, opkg, uci, jshn, jsonfilter, busybox). The
# package is installed with opkg, started by procd the way a router does it, and checked
# through ubus, uhttpd's JSON-RPC, rpcd's ACLs, logd, a real NS from the veth peer,
# ubusd restarts, reload storms and opkg remove.
#
#   OPENWRT_STAGE=/path/to/stage scripts/openwrt-test.sh
#
# Without OPENWRT_STAGE it prints "SKIPPED: no OpenWrt userland" and how to build one.
# OPENWRT_IPK overrides the package (default: dist/ipk/ndpresponder_*_x86_64.ipk from
# scripts/cross.sh + scripts/package.sh); OPENWRT_KEEP=1 leaves the namespaces running.
# Needs root. Last line: "openwrt: N passed, N failed"; exits 1 on any failure.
# Commands for the shell inside the chroot are single-quoted: they expand there.
# shellcheck disable=SC2016
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

# uhttpd's port on the namespace's loopback (nothing outside the namespace reaches it).
readonly PORT=8080
# The uplink: eth0 inside the namespace, its veth peer sends the NS.
readonly UPLINK=eth0
readonly PEER=eth0-peer
# Inside and outside the prefix the shipped config lists (2001:db8:1:2::/112).
readonly COVERED=2001:db8:1:2::5
readonly UNCOVERED=2001:db8:1:3::5
readonly RELOAD_RUNS=100
readonly ZERO_SID=00000000000000000000000000000000

STAGE=${OPENWRT_STAGE-}
if [ -z "$STAGE" ]; then
	cat << 'EOF'
SKIPPED: no OpenWrt userland (OPENWRT_STAGE is not set)
  Build one from OpenWrt's repositories (libubox, ubus, uci, udebug, procd, rpcd,
  opkg-lede, jsonpath, ubox, uhttpd and openwrt's shell library) as README.md
  "Testing on OpenWrt's real userland" says, then run
  OPENWRT_STAGE=/path/to/stage scripts/openwrt-test.sh
EOF
	exit 0
fi

die() {
	echo "openwrt-test: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (namespaces, chroot, veth)"
for f in usr/sbin/procd usr/sbin/ujail usr/sbin/ubusd usr/sbin/rpcd usr/sbin/logd \
	usr/bin/uhttpd usr/lib/uhttpd_ubus.so bin/opkg sbin/uci usr/bin/jsonfilter \
	sbin/reload_config etc/rc.common lib/functions/procd.sh etc/init.d/uhttpd bin/busybox; do
	[ -e "$STAGE/$f" ] || [ -L "$STAGE/$f" ] || die "OPENWRT_STAGE=$STAGE has no /$f (see README.md)"
done
# rcS starts /etc/rc.d/S* at boot: they must be symlinks to the init scripts (a copy that
# turned them into files holding the link text starts no logd and no rpcd).
for f in "$STAGE"/etc/rc.d/S*; do
	[ -L "$f" ] || die "OPENWRT_STAGE=$STAGE: /etc/rc.d/$(basename "$f") is not a symlink"
done
IPK=${OPENWRT_IPK-}
if [ -z "$IPK" ]; then
	shopt -s nullglob
	ipks=(dist/ipk/ndpresponder_*_x86_64.ipk)
	shopt -u nullglob
	[ "${#ipks[@]}" -eq 1 ] || die "no dist/ipk/ndpresponder_*_x86_64.ipk: run scripts/cross.sh and scripts/package.sh"
	IPK=${ipks[0]}
fi
[ -f "$IPK" ] || die "no package $IPK"

# Preflight: every program run from the host side, installed from Debian if missing.
# shellcheck source=scripts/common.sh
. scripts/common.sh
require unshare:util-linux nsenter:util-linux ip:iproute2 ndisc6:ndisc6 curl:curl \
	python3:python3 || die "missing programs (above)"

passed=0
failed=0
started=$SECONDS
check() { # description, command...
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok: $what"
	else
		failed=$((failed + 1))
		echo "FAIL: $what" >&2
	fi
}
note() { echo "== $*"; }

WORK=$(mktemp -d "/tmp/ndpresponder-openwrt.$$.XXXXXX")
ROOT=$WORK/root
PID1=
WRAPPER=
PROBER=

cleanup() {
	[ -n "$PROBER" ] && kill "$PROBER" 2> /dev/null
	if [ "${OPENWRT_KEEP:-0}" = 1 ] && [ -n "$PID1" ] && [ -d "/proc/$PID1" ]; then
		echo "left running: nsenter -t $PID1 -p -m -n -u -i -r -w /bin/sh -l; stop: kill -TERM $PID1; files: $WORK"
		return
	fi
	if [ -n "$PID1" ] && [ -d "/proc/$PID1" ]; then
		# SIGTERM makes procd stop its services and exit; its namespaces (and every mount,
		# veth and socket in them) go with it.
		kill -TERM "$PID1" 2> /dev/null
		for _ in $(seq 100); do
			[ -d "/proc/$PID1" ] || break
			sleep 0.1
		done
		[ -d "/proc/$PID1" ] && kill -KILL "$PID1" 2> /dev/null
	fi
	if [ -n "$WRAPPER" ]; then
		# Without a procd (it never came up), unshare's child is what keeps the wrapper.
		[ -z "$PID1" ] && kill -KILL "$(first_child "$(first_child "$WRAPPER")")" 2> /dev/null
		wait "$WRAPPER" 2> /dev/null
	fi
	# The mounts lived in the namespace; refuse to delete through one that is still there.
	if ! grep -qF " $ROOT" /proc/mounts; then
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the root: a copy of the stage, plus what this suite configures ------------------
cp -a "$STAGE" "$ROOT"
# Writable by root, as a router's overlay is (opkg writes into /etc and /usr).
chmod -R u+w "$ROOT"
install -m 0644 "$IPK" "$ROOT/root/"
# Coldplug would walk /sys, which this chroot does not have: procd waits for a no-op.
rm -f "$ROOT/sbin/udevtrigger" "$ROOT/usr/sbin/udevtrigger"
printf '#!/bin/sh\nexit 0\n' > "$ROOT/sbin/udevtrigger"
chmod 0755 "$ROOT/sbin/udevtrigger"
# uhttpd with the ubus plugin, started at boot from /etc/rc.d like on a router.
cat > "$ROOT/etc/config/uhttpd" << EOF
config uhttpd 'main'
	list listen_http '[::1]:$PORT'
	option home '/www'
	option ubus_prefix '/ubus'
	option max_requests '5'
EOF
ln -sf ../init.d/uhttpd "$ROOT/etc/rc.d/S50uhttpd"
# What LuCI's base ACL grants every login: the ubus uci methods. Whether a session may
# read or write the ndpresponder config is then up to the package's own ACL group.
cat > "$ROOT/usr/share/rpcd/acl.d/suite-uci.json" << 'EOF'
{
	"suite-uci": {
		"description": "ubus access to rpcd's uci object, as luci-base grants it",
		"read": { "ubus": { "uci": [ "get" ] } },
		"write": { "ubus": { "uci": [ "set", "revert" ] } }
	}
}
EOF

# ---- boot ----------------------------------------------------------------------------
# PID 1 of the new namespaces, before it becomes procd: its own root mount (ujail's
# pivot_root needs the root to be a mount point), proc without kmsg (logd would drain the
# host's kernel log), a small /dev whose console is a file here, /tmp (= /var) in memory.
cat > "$WORK/pid1.sh" << 'EOF'
#!/bin/bash
set -e
r=$1
mount --make-rprivate /
mount --bind "$r" "$r"
mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
mount --bind /dev/null "$r/proc/kmsg"
mount -t tmpfs -o mode=0755,size=512k,nosuid tmpfs "$r/dev"
while read -r node major minor; do
	mknod -m 0666 "$r/dev/$node" c "$major" "$minor"
done << 'NODES'
null 1 3
zero 1 5
full 1 7
random 1 8
urandom 1 9
tty 5 0
NODES
mkdir "$r/dev/pts" "$r/dev/shm"
ln -s /proc/self/fd "$r/dev/fd"
ln -s null "$r/dev/kmsg"
touch "$r/dev/console"
mount --bind "$2" "$r/dev/console"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/tmp"
mkdir -p "$r/tmp/run" "$r/tmp/lock" "$r/tmp/state" "$r/tmp/.uci"
hostname OpenWrt
ip link set lo up
# container= tells procd it is not on hardware (no early mounts, no /dev setup); -S:
# its own messages go to stderr (early.log) until logd is up.
exec chroot "$r" /usr/bin/env -i container=ndpresponder-suite HOME=/root \
	PATH=/usr/sbin:/usr/bin:/sbin:/bin /sbin/procd -S
EOF
chmod 0755 "$WORK/pid1.sh"
: > "$WORK/console.log"
# The subshell outlives unshare so that procd's exit is not reported as a killed job.
(
	unshare --pid --fork --kill-child --mount --net --uts --ipc \
		"$WORK/pid1.sh" "$ROOT" "$WORK/console.log" > "$WORK/early.log" 2>&1
	true
) < /dev/null &
WRAPPER=$!
first_child() { # pid: its first child's pid
	local kids=()
	[ -n "$1" ] || return 1
	# The file is one line without a newline: read fails at its end but fills kids.
	read -r -a kids 2> /dev/null < "/proc/$1/task/$1/children"
	[ "${#kids[@]}" -gt 0 ] && echo "${kids[0]}"
}
for _ in $(seq 100); do
	# wrapper subshell -> unshare -> pid1.sh, which execs chroot, env and then procd
	c=$(first_child "$(first_child "$WRAPPER")")
	if [ -n "$c" ] && [ "$(readlink "/proc/$c/exe")" = "$ROOT/usr/sbin/procd" ]; then
		PID1=$c
		break
	fi
	sleep 0.05
done
[ -n "$PID1" ] || {
	cat "$WORK/early.log"
	die "procd did not start"
}
note "procd is pid $PID1 (1 in its namespace)"

# A shell inside: all of procd's namespaces and its root, a router's environment.
inside() {
	nsenter -t "$PID1" -p -m -n -u -i -r -w /usr/bin/env -i HOME=/root \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -c "$1"
}
in_net() { nsenter -t "$PID1" -n "$@"; }

boot_start=$SECONDS
inside 'i=0; until [ -S /var/run/ubus/ubus.sock ] || [ $i -ge 200 ]; do sleep 0.05; i=$((i + 1)); done
	ubus -t 30 wait_for session log service' || {
	cat "$WORK/early.log" "$WORK/console.log"
	die "procd, ubusd, rpcd and logd did not come up"
}
note "procd, ubusd, logd and rpcd up in $((SECONDS - boot_start)) s"

# The uplink: a veth pair inside the namespace. The peer skips DAD so that its link-local
# address can send the NS at once.
in_net ip link add "$UPLINK" type veth peer name "$PEER" || die "veth"
in_net sysctl -qw "net.ipv6.conf.$PEER.accept_dad=0"
in_net ip link set "$UPLINK" up
in_net ip link set "$PEER" up
uplink_mac=$(in_net ip -o link show "$UPLINK" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

rpc() { # JSON-RPC request body; prints uhttpd's answer
	in_net curl -s -m 10 -H 'Content-Type: application/json' -d "$1" "http://[::1]:$PORT/ubus"
}
for _ in $(seq 100); do
	rpc '{"jsonrpc":"2.0","id":0,"method":"list","params":["session"]}' > /dev/null && break
	sleep 0.1
done

# ---- install -------------------------------------------------------------------------
note "opkg install $(basename "$IPK")"
inside "opkg install /root/$(basename "$IPK")" > "$WORK/opkg-install.log" 2>&1
install_rc=$?
sed 's/^/   /' "$WORK/opkg-install.log"
check "opkg install exits 0" [ "$install_rc" = 0 ]
# reload_config sends config.change only for files whose checksum it has seen change
# since its last run: the first run records them.
# (reload_config's md5sum -c reports the changed files on stderr: expected, not shown.)
inside 'reload_config 2> /dev/null'

service_json() { inside "ubus call service list '{\"name\":\"ndpresponder\",\"verbose\":true}'"; }
json() { # JSON text, python expression over `d`; prints the result ("" when it fails)
	python3 -c 'import json, sys
try:
    d = json.loads(sys.argv[1])
    v = eval(sys.argv[2])
except Exception:
    sys.exit(1)
print(json.dumps(v) if isinstance(v, (dict, list, bool)) else v)' "$1" "$2" 2> /dev/null
}

svc=$(service_json)
check "service list has the service" [ -n "$(json "$svc" 'd["ndpresponder"]')" ]
check "its triggers: config.change for ndpresponder" \
	[ "$(json "$svc" '[t for t in d["ndpresponder"]["triggers"] if t[0] == "config.change" and "ndpresponder" in json.dumps(t[1])] != []')" = true ]
check "the shipped (disabled) uplink: no instance" \
	[ "$(json "$svc" 'len(d["ndpresponder"].get("instances", {}))')" = 0 ]
check "init script status: active with no instances" \
	[ "$(inside '/etc/init.d/ndpresponder status')" = "active with no instances" ]
check "init script enabled" inside '/etc/init.d/ndpresponder enabled'

note "uci set ndpresponder.wan.enabled=1; uci commit; reload_config"
inside 'uci set ndpresponder.wan.enabled=1; uci commit ndpresponder; reload_config 2> /dev/null'
instance_up() {
	[ "$(json "$(service_json)" 'd["ndpresponder"]["instances"]["instance1"]["running"]')" = true ]
}
wait_for() { # tenths of a second, command...: runs the command until it succeeds
	local limit=$1 i=0
	shift
	until "$@"; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		sleep 0.1
	done
}
check "reload_config starts an instance (within 5 s)" wait_for 50 instance_up
check "init script status: running" [ "$(inside '/etc/init.d/ndpresponder status')" = running ]
# service_triggers lists netifd interfaces of enabled uplinks only.
check "its triggers now: interface.* for wan" \
	[ "$(json "$(service_json)" '[t for t in d["ndpresponder"]["triggers"] if t[0] == "interface.*" and "\"wan\"" in json.dumps(t[1])] != []')" = true ]
reg_start=$SECONDS
check "the jailed daemon registers on ubus, no manual step (within 10 s)" \
	inside 'ubus -t 10 wait_for ndpresponder'
note "registered $((SECONDS - reg_start)) s after the instance started"

# ---- the jailed process --------------------------------------------------------------
daemon_pid() { # host pid of the ndpresponder process under this procd
	local p comm up
	for p in /proc/[0-9]*; do
		read -r comm 2> /dev/null < "$p/comm" || continue
		[ "$comm" = ndpresponder ] || continue
		# Not /etc/init.d/ndpresponder run by a trigger: a script's comm is its name too.
		case $(readlink "$p/exe" 2> /dev/null) in */usr/sbin/ndpresponder) ;; *) continue ;; esac
		up=${p#/proc/}
		while [ -n "$up" ] && [ "$up" -gt 1 ]; do
			if [ "$up" = "$PID1" ]; then
				echo "${p#/proc/}"
				return 0
			fi
			up=$(awk '/^PPid:/ { print $2 }' "/proc/$up/status" 2> /dev/null)
		done
	done
	return 1
}
jailed_by_ujail() { # pid: an ancestor below procd is ujail (named after its jail)
	local up
	up=$(status_field "$1" PPid)
	while [ -n "$up" ] && [ "$up" != "$PID1" ] && [ "$up" -gt 1 ]; do
		case $(readlink "/proc/$up/exe") in */usr/sbin/ujail) return 0 ;; esac
		up=$(status_field "$up" PPid)
	done
	return 1
}
status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
dpid=$(daemon_pid)
check "the daemon process exists" [ -n "$dpid" ]
uid=$(awk -F: '$1 == "ndpresponder" { print $3 }' "$ROOT/etc/passwd")
check "user ndpresponder was created by the package" [ -n "$uid" ]
if [ -n "$dpid" ]; then
	check "init script took its procd_add_jail branch: ujail runs it" jailed_by_ujail "$dpid"
	check "runs as user ndpresponder (uid $uid)" [ "$(status_field "$dpid" Uid)" = "$uid" ]
	# CAP_NET_RAW is bit 13.
	check "CapEff is CAP_NET_RAW only" [ "$(status_field "$dpid" CapEff)" = 0000000000002000 ]
	check "NoNewPrivs is set" [ "$(status_field "$dpid" NoNewPrivs)" = 1 ]
fi

# ---- NS from the veth peer -----------------------------------------------------------
ns_answer() { # target address: the MAC in the NA, empty when none came in 1 s
	in_net ndisc6 -q -n -r 1 -w 1000 "$1" "$PEER" 2> /dev/null | tr -d '\n' | tr 'A-F' 'a-f'
}
answered=
# The uplink arms once the daemon has seen eth0 up.
for _ in $(seq 10); do
	answered=$(ns_answer "$COVERED")
	[ -n "$answered" ] && break
done
check "an NS for $COVERED from $PEER is answered with $UPLINK's MAC" [ "$answered" = "$uplink_mac" ]
check "an NS for $UNCOVERED (outside the prefix) is not answered" [ -z "$(ns_answer "$UNCOVERED")" ]

# ---- logd (before any reload: each one logs its "configuration loaded") ------------
daemon_log() { # the daemon's own lines (not ubusd's about its ACL file), message only
	inside 'logread' | sed -n 's/^.* ndpresponder\[[0-9]*\]: //p'
}
log_now=$(daemon_log)
check "logread holds the start line" grep -q '^started, version ' <<< "$log_now"
# Each reload logs "configuration loaded" again (procd's reload trigger that started the
# instance also sends SIGHUP); any other line twice would be a repeat.
loads=$(grep -c '^configuration loaded ' <<< "$log_now")
reloads=$(json "$(inside 'ubus call ndpresponder status')" 'd["reloads"]')
check "logread: one \"configuration loaded\" per load ($loads, reloads $reloads)" \
	[ "$loads" = "$((${reloads:-0} + 1))" ]
repeated=$(grep -v '^configuration loaded ' <<< "$log_now" | sort | uniq -d)
check "logread holds no repeated line" [ -z "$repeated" ]
[ -n "$repeated" ] && printf '   repeated: %s\n' "$repeated"

# ---- ubus, rpcd and uhttpd -----------------------------------------------------------
sig=$(inside 'ubus -v list ndpresponder')
check "ubus -v list: status, explain (address: String), reload" \
	grep -q '"explain":{.*"address":"String"' <<< "$sig"
check "ubus -v list: status and reload" [ "$(grep -cE '"(status|reload)":' <<< "$sig")" = 2 ]
status=$(inside 'ubus call ndpresponder status')
check "ubus call status answers for the armed uplink" \
	[ "$(json "$status" 'd["uplinks"][0]["armed"]')" = true ]

pw_hash() { inside "mkpasswd -m md5 '$1'"; }
reader_hash=$(pw_hash reader-secret)
writer_hash=$(pw_hash writer-secret)
cat >> "$ROOT/etc/config/rpcd" << EOF

config login
	option username 'reader'
	option password '$reader_hash'
	list read 'ndpresponder'
	list read 'suite-uci'
	list write 'suite-uci'

config login
	option username 'writer'
	option password '$writer_hash'
	list read 'ndpresponder'
	list write 'ndpresponder'
	list read 'suite-uci'
	list write 'suite-uci'
EOF
call() { # session, object, method, JSON arguments
	rpc "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"call\",\"params\":[\"$1\",\"$2\",\"$3\",$4]}"
}
login() { # user, password: the session id
	json "$(call "$ZERO_SID" session login "{\"username\":\"$1\",\"password\":\"$2\"}")" \
		'd["result"][1]["ubus_rpc_session"]'
}
code() { # JSON-RPC answer: the ubus status in "result", or the JSON-RPC error code
	json "$1" 'd["result"][0] if "result" in d else d["error"]["code"]'
}
reader=$(login reader reader-secret)
writer=$(login writer writer-secret)
check "rpcd login with the read group" [ -n "$reader" ]
check "rpcd login with the write group" [ -n "$writer" ]
check "a wrong password gets no session" [ -z "$(login reader wrong)" ]
explain_args="{\"address\":\"$COVERED\"}"
uci_set_args='{"config":"ndpresponder","section":"wan","values":{"rate_limit":"5000"}}'
r_status=$(call "$reader" ndpresponder status '{}')
check "JSON-RPC, read group: status answers" [ "$(code "$r_status")" = 0 ]
check "JSON-RPC, read group: status shows the uplink" \
	[ "$(json "$r_status" 'd["result"][1]["uplinks"][0]["name"]')" = wan ]
r_explain=$(call "$reader" ndpresponder explain "$explain_args")
check "JSON-RPC, read group: explain answers" [ "$(code "$r_explain")" = 0 ]
check "JSON-RPC, read group: explain says $COVERED is answered" \
	[ "$(json "$r_explain" 'd["result"][1]["uplinks"][0]["answers"]')" = true ]
check "JSON-RPC, read group: uci get ndpresponder is allowed" \
	[ "$(code "$(call "$reader" uci get '{"config":"ndpresponder"}')")" = 0 ]
check "JSON-RPC, read group: reload is refused (access denied)" \
	[ "$(code "$(call "$reader" ndpresponder reload '{}')")" = -32002 ]
# rpcd's uci object checks the session's uci ACL itself: status 6, permission denied.
check "JSON-RPC, read group: uci set ndpresponder is refused" \
	[ "$(code "$(call "$reader" uci set "$uci_set_args")")" = 6 ]
check "JSON-RPC, write group: status answers" \
	[ "$(code "$(call "$writer" ndpresponder status '{}')")" = 0 ]
check "JSON-RPC, write group: reload is allowed" \
	[ "$(code "$(call "$writer" ndpresponder reload '{}')")" = 0 ]
check "JSON-RPC, write group: uci set ndpresponder is allowed" \
	[ "$(code "$(call "$writer" uci set "$uci_set_args")")" = 0 ]
call "$writer" uci revert '{"config":"ndpresponder"}' > /dev/null
check "JSON-RPC, unauthenticated: status is refused" \
	[ "$(code "$(call "$ZERO_SID" ndpresponder status '{}')")" = -32002 ]
check "JSON-RPC, unauthenticated: explain is refused" \
	[ "$(code "$(call "$ZERO_SID" ndpresponder explain "$explain_args")")" = -32002 ]

# ---- answers through ubusd restarts and reload storms -------------------------------
# One NS every 0.2 s from the peer, each waiting up to 1 s for its NA; one line per NS.
start_prober() {
	: > "$WORK/probes"
	(
		while :; do
			if [ -n "$(ns_answer "$COVERED")" ]; then echo ok; else echo lost; fi >> "$WORK/probes"
			sleep 0.2
		done
	) &
	PROBER=$!
}
stop_prober() { # prints "sent lost"
	kill "$PROBER" 2> /dev/null
	wait "$PROBER" 2> /dev/null
	PROBER=
	echo "$(wc -l < "$WORK/probes") $(grep -c lost "$WORK/probes")"
}
none_lost() { [ "$1" -gt 0 ] && [ "$2" = 0 ]; }
registered() { inside 'ubus list ndpresponder' > /dev/null 2>&1; }

reloads_before=$(json "$(inside 'ubus call ndpresponder status')" 'd["reloads"]')
start_prober
sleep 1
note 'procd restarts ubusd (kill $(pidof ubusd))'
t0=$(date +%s%N)
inside 'kill $(pidof ubusd)'
# procd notices ubusd is gone and starts it again; the daemon reconnects by itself.
wait_for 300 registered
rereg_ok=$?
rereg_ms=$((($(date +%s%N) - t0) / 1000000))
sleep 2
read -r ubusd_sent ubusd_lost <<< "$(stop_prober)"
note "object back $rereg_ms ms after ubusd was killed; $ubusd_sent NS sent, $ubusd_lost unanswered"
check "after ubusd's restart the object is registered again (within 30 s)" [ "$rereg_ok" = 0 ]
check "no NS lost while ubusd restarted" none_lost "$ubusd_sent" "$ubusd_lost"
check "status answers after ubusd's restart" \
	[ "$(json "$(inside 'ubus call ndpresponder status')" 'd["reloads"]')" = "$reloads_before" ]

dpid_before=$(daemon_pid)
start_prober
note "$RELOAD_RUNS x (uci set; uci commit; reload_config)"
t0=$SECONDS
inside "for i in \$(seq $RELOAD_RUNS); do
	uci set ndpresponder.wan.rate_limit=\$((10000 + i % 2)); uci commit ndpresponder; reload_config 2> /dev/null
done"
storm_s=$((SECONDS - t0))
# procd runs the reload trigger 1 s after the last config.change.
sleep 3
read -r storm_sent storm_lost <<< "$(stop_prober)"
reloads_after=$(json "$(inside 'ubus call ndpresponder status')" 'd["reloads"]')
note "$RELOAD_RUNS reload_config runs in $storm_s s; daemon reloads $reloads_before -> $reloads_after; $storm_sent NS sent, $storm_lost unanswered"
check "after $RELOAD_RUNS reload_config runs the object is registered" registered
check "the reload trigger reached the daemon" [ "${reloads_after:-0}" -gt "${reloads_before:-0}" ]
check "the same process kept running (reloads, no restarts)" [ "$(daemon_pid)" = "$dpid_before" ]
check "no NS lost during the reloads" none_lost "$storm_sent" "$storm_lost"
bus_lines=$(daemon_log | grep -c '^ubus: ')
check "ubus log lines stay few (no reconnect spin): $bus_lines" [ "$bus_lines" -le 10 ]

echo "----- ubus call service list '{\"name\":\"ndpresponder\",\"verbose\":true}'"
service_json
echo "----- ubus call ndpresponder status"
inside 'ubus call ndpresponder status'
echo "----- logread -e ndpresponder"
inside 'logread -e ndpresponder' | tail -n 15

# ---- remove --------------------------------------------------------------------------
note "opkg remove ndpresponder"
inside 'opkg remove ndpresponder' > "$WORK/opkg-remove.log" 2>&1
remove_rc=$?
sed 's/^/   /' "$WORK/opkg-remove.log"
check "opkg remove exits 0" [ "$remove_rc" = 0 ]
no_service() { [ -z "$(json "$(service_json)" 'd["ndpresponder"]')" ]; }
# procd drops the service once its instance has exited.
check "the service is gone from procd (within 5 s)" wait_for 50 no_service
no_daemon() { [ -z "$(daemon_pid)" ]; }
check "the daemon process is gone (within 5 s)" wait_for 50 no_daemon
check "the ubus object is gone" eval '! registered'
check "the binary is removed" [ ! -e "$ROOT/usr/sbin/ndpresponder" ]
check "/etc/config/ndpresponder is kept as a conffile, with the changes" \
	inside "uci -q get ndpresponder.wan.enabled | grep -qx 1"

if [ "$failed" -gt 0 ]; then
	echo "----- logread (last 40 lines, for the failures above)"
	inside 'logread' | tail -n 40
fi
echo "openwrt: suite took $((SECONDS - started)) s; ubusd restart: object back in $rereg_ms ms, $ubusd_lost of $ubusd_sent NS unanswered; $RELOAD_RUNS reload_config: $storm_lost of $storm_sent NS unanswered"
echo "openwrt: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
