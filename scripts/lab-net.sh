#!/usr/bin/env bash
# The namespace lab that reproduces the VPS problem (a hypervisor that drops NAs whose
# source is outside the VPS's /64, as in the README's introduction):
# one definition of the topology, used by scripts/lab.sh (the demo) and by tests/lab.rs.
#
#   router ns            hv ns (hypervisor)                 server ns (the VPS)        ct ns
#   r-eth0 ---veth--- p-router  br0  p-server ---veth--- wan0   ct0 ---veth--- eth0
#   lo                          nft: drop NA from p-server        forwarding on          2001:db8:1:2::1:5/112
#   2001:db8:ffff::1/128        whose saddr is outside the /64    2001:db8:1:2::100/64
#
# Router modes:
#   link-local  r-eth0 has only fe80::1 plus an on-link route for the /64; its global address
#               is on lo, so ndisc_solicit() (net/ipv6/ndisc.c) falls back to the
#               link-local source because the packet's source is not on the outgoing device.
#   global      r-eth0 also has 2001:db8:1:2::1/64, so the router solicits from it.
#
# Usage (root):
#   lab-net.sh up SUFFIX link-local|global   create the lab (namespaces ndpr-SUFFIX-*)
#   lab-net.sh down SUFFIX                   remove it (idempotent)
#   lab-net.sh proxy-ndp SUFFIX ADDR         kernel proxy_ndp for ADDR on the server's uplink
#   lab-net.sh dropped SUFFIX                NAs the hypervisor dropped so far (a number)
#   lab-net.sh ns SUFFIX NAME                the namespace name of router|hv|server|ct
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "$0")/common.sh"

readonly ROUTER_MAC=02:00:00:00:00:01
readonly SERVER_MAC=02:00:00:00:01:00
readonly SERVER_CT_MAC=02:00:00:00:01:01
readonly CT_MAC=02:00:00:00:02:05
readonly ONLINK=2001:db8:1:2::/64
readonly ROUTER_GLOBAL=2001:db8:1:2::1
readonly ROUTER_UPSTREAM=2001:db8:ffff::1
readonly SERVER_ADDR=2001:db8:1:2::100
readonly CT_NET=2001:db8:1:2::1:0/112
readonly CT_ADDR=2001:db8:1:2::1:5

ns() { echo "ndpr-$1-$2"; }

# Settings every namespace gets before its interfaces exist, so new devices inherit them
# from conf.default: no DAD (addresses usable at once) and no RA processing.
ns_add() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
}

up() {
	local suffix=$1 mode=$2
	case "$mode" in link-local | global) ;; *)
		echo "unknown router mode: $mode" >&2
		exit 2
		;;
	esac
	local r hv s ct
	r=$(ns "$suffix" router) hv=$(ns "$suffix" hv) s=$(ns "$suffix" server) ct=$(ns "$suffix" ct)
	for n in "$r" "$hv" "$s" "$ct"; do ns_add "$n"; done

	# Hypervisor: a plain bridge that neither speaks IPv6 itself nor lets br_netfilter
	# validate or drop frames (the tests send deliberately malformed ones), and floods
	# multicast without MLD snooping.
	ip netns exec "$hv" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	if ip netns exec "$hv" test -e /proc/sys/net/bridge/bridge-nf-call-ip6tables; then
		ip netns exec "$hv" sysctl -qw net.bridge.bridge-nf-call-ip6tables=0
	fi
	ip -n "$hv" link add br0 type bridge mcast_snooping 0
	ip -n "$r" link add r-eth0 address "$ROUTER_MAC" type veth peer name p-router netns "$hv"
	ip -n "$s" link add wan0 address "$SERVER_MAC" type veth peer name p-server netns "$hv"
	ip -n "$s" link add ct0 address "$SERVER_CT_MAC" type veth peer name eth0 netns "$ct"
	ip -n "$ct" link set eth0 address "$CT_MAC"
	for p in p-router p-server; do ip -n "$hv" link set "$p" master br0 up; done
	ip -n "$hv" link set br0 up
	# The VM's MAC is pinned to its port, as hypervisors do: a frame forged with the server's
	# MAC from the router side must not move it (tests send such a frame).
	bridge -n "$hv" fdb add "$SERVER_MAC" dev p-server master static sticky
	# The anti-spoofing rule: an NA from the VPS port must come from an address of its /64.
	ip netns exec "$hv" nft -f - << EOF
table bridge hv {
    counter spoofed_na { }
    chain forward {
        type filter hook forward priority 0; policy accept;
        iifname "p-server" icmpv6 type nd-neighbor-advert ip6 saddr != $ONLINK counter name spoofed_na drop
    }
}
EOF

	# Router: link-local fe80::1 only (no EUI-64 address); its global address sits on lo
	# (not every kernel has the dummy driver; any interface other than r-eth0 will do).
	ip -n "$r" link set r-eth0 addrgenmode none
	ip -n "$r" link set r-eth0 up
	ip -n "$r" -6 addr add fe80::1/64 dev r-eth0 nodad
	ip -n "$r" -6 addr add "$ROUTER_UPSTREAM/128" dev lo
	if [ "$mode" = global ]; then
		ip -n "$r" -6 addr add "$ROUTER_GLOBAL/64" dev r-eth0 nodad
	else
		ip -n "$r" -6 route add "$ONLINK" dev r-eth0
	fi

	# Server (the VPS): routes the /112 to the container. proxy_ndp stays off so the kernel
	# never answers for the container addresses on the uplink by itself.
	ip netns exec "$s" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.proxy_ndp=0 \
		net.ipv6.conf.default.proxy_ndp=0
	ip -n "$s" link set wan0 up
	ip -n "$s" -6 addr add "$SERVER_ADDR/64" dev wan0 nodad
	ip -n "$s" -6 route add default via fe80::1 dev wan0
	ip -n "$s" link set ct0 addrgenmode none
	ip -n "$s" link set ct0 up
	ip -n "$s" -6 addr add fe80::1/64 dev ct0 nodad
	ip -n "$s" -6 route add "$CT_NET" dev ct0

	# Container.
	ip -n "$ct" link set eth0 up
	ip -n "$ct" -6 addr add "$CT_ADDR/112" dev eth0 nodad
	ip -n "$ct" -6 route add default via fe80::1 dev eth0
}

down() {
	local suffix=$1 n
	for n in router hv server ct; do
		ip netns del "$(ns "$suffix" "$n")" 2> /dev/null || true
	done
	# Namespaces tests add to the lab (hosts behind a downstream bridge) share the prefix.
	for n in $(ip netns list | awk -v p="ndpr-$suffix-" 'index($1, p) == 1 { print $1 }'); do
		ip netns del "$n" 2> /dev/null || true
	done
}

# RFC 4861 proxy entries need proxy_ndp on the interface; unicast NS to the address go
# through ip6_forward(), which checks only conf.all.proxy_ndp (net/ipv6/ip6_output.c).
proxy_ndp() {
	local s
	s=$(ns "$1" server)
	ip netns exec "$s" sysctl -qw net.ipv6.conf.all.proxy_ndp=1 net.ipv6.conf.wan0.proxy_ndp=1
	ip -n "$s" -6 neigh add proxy "$2" dev wan0
}

# A number, or a failure: an empty answer must not read as "nothing dropped".
dropped() {
	local listing count
	listing=$(ip netns exec "$(ns "$1" hv)" nft list counter bridge hv spoofed_na)
	count=$(sed -n 's/.*packets \([0-9][0-9]*\).*/\1/p' <<< "$listing")
	if [ -z "$count" ]; then
		echo "no packet count in nft's listing: $listing" >&2
		return 1
	fi
	echo "$count"
}

cmd=${1-}
# Every command but `ns` runs ip, nft or sysctl (the tests run this script too, so it
# installs what it needs itself).
[ "$cmd" = ns ] || require "${LAB_TOOLS[@]}"
case "$cmd" in
up)
	[ $# -eq 3 ] || {
		echo "usage: $0 up SUFFIX MODE" >&2
		exit 2
	}
	# A half-built lab is removed when any step fails.
	suffix=$2
	trap '[ $? -eq 0 ] || down "$suffix"' EXIT
	up "$2" "$3"
	;;
down)
	[ $# -eq 2 ] || exit 2
	down "$2"
	;;
proxy-ndp)
	[ $# -eq 3 ] || exit 2
	proxy_ndp "$2" "$3"
	;;
dropped)
	[ $# -eq 2 ] || exit 2
	dropped "$2"
	;;
ns)
	[ $# -eq 3 ] || exit 2
	ns "$2" "$3"
	;;
*)
	grep "^#   lab-net.sh" "$0" >&2
	exit 2
	;;
esac
