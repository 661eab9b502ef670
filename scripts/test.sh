#!/usr/bin/env bash
# Everything CI checks, on a fresh machine of this kind, as root: installs what the tests
# need, then formatting and lints, unit and integration tests, the root-only namespace lab
# tests, the LuCI app in a headless browser, shell lint, the router cross builds with their
# size budget, the unit tests on big-endian MIPS under qemu, the .ipk packages, and the
# x86_64 package on OpenWrt's real userland when a staged one exists
# (scripts/openwrt-test.sh, OPENWRT_STAGE).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "scripts/test.sh needs root (network namespaces, packet sockets, apt-get)" >&2
	exit 1
fi

step "installing test tools"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	iproute2 nftables tcpdump ndisc6 python3-venv util-linux procps file \
	shellcheck shfmt > /dev/null

# scapy for tests/lab/ndp.py, in the project venv (.venv is gitignored; cross.sh keeps zig
# there too).
readonly SCAPY=scapy==2.8.0
if ! .venv/bin/python3 -c 'import scapy' 2> /dev/null; then
	python3 -m venv .venv
	.venv/bin/pip install --quiet "$SCAPY"
fi
cargo fmt --version > /dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version > /dev/null 2>&1 || rustup component add clippy

step "cargo fmt --check"
cargo fmt --check
step "cargo clippy -D warnings"
cargo clippy --all-targets -- -D warnings

step "unit and integration tests"
cargo test
cargo test --examples

step "namespace lab tests (root)"
cargo test --tests -- --ignored --test-threads=1

step "luci-app-ndpresponder: translation template and browser test"
bash scripts/test-luci.sh

step "shell lint"
bash scripts/lint-shell.sh

step "router cross builds (size budget: mips/mipsel <= 256 KiB)"
bash scripts/cross.sh build

step "unit tests on big-endian MIPS under qemu"
bash scripts/cross.sh test-mips

step ".ipk packages"
bash scripts/package.sh
bash scripts/test-packages.sh

step "OpenWrt's real userland: procd, ujail, ubusd, rpcd, uhttpd, opkg"
# A stage built as README.md says; where one was built on this machine it is used.
if [ -z "${OPENWRT_STAGE-}" ] && [ -d /tmp/owrtreal/stage ]; then
	export OPENWRT_STAGE=/tmp/owrtreal/stage
fi
bash scripts/openwrt-test.sh

step "all checks passed"
