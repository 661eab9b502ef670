#!/usr/bin/env bash
# Everything CI checks, on a fresh machine of this kind, as root: installs what the tests
# need, then formatting and lints, unit and integration tests, the root-only namespace lab
# tests, the LuCI app in a headless browser, shell lint, the router cross builds with their
# size budget, the unit tests on big-endian MIPS under qemu, the .ipk packages, and the
# x86_64 package on OpenWrt's real userland when a staged one exists
# (scripts/openwrt-test.sh, OPENWRT_STAGE).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "scripts/test.sh needs root (network namespaces, packet sockets, apt-get)" >&2
	exit 1
fi

# An OpenWrt userland staged as README.md says; where one was built on this machine it is
# used (the real netifd in the lab tests, scripts/openwrt-test.sh).
if [ -z "${OPENWRT_STAGE-}" ] && [ -d /tmp/owrtreal/stage ]; then
	export OPENWRT_STAGE=/tmp/owrtreal/stage
fi

# Everything every step below runs, installed and checked before the first one starts, so
# a missing program stops the run at once and by name, not ten minutes in.
step "installing and checking the tools the tests run"
rust_components rustfmt clippy
require "${TEST_TOOLS[@]}" "${LINT_TOOLS[@]}" "${CROSS_TOOLS[@]}" "${PACKAGE_TOOLS[@]}"
# scapy for tests/lab/ndp.py, in the git-ignored project venv (cross.sh keeps zig there too).
venv_pip "$SCAPY_REQUIREMENT"

step "cargo fmt --check"
cargo fmt --check
step "cargo clippy -D warnings"
cargo clippy --all-targets -- -D warnings

step "unit and integration tests"
cargo test
cargo test --examples

step "namespace lab tests (root)"
# tests/netifd.rs runs the real netifd where one was built into the stage as README.md
# says, with ubusd, the ubus CLI and their libraries from the same stage; without it that
# test prints SKIPPED.
if [ -z "${NDPR_NETIFD-}" ] && [ -n "${OPENWRT_STAGE-}" ] && [ -x "$OPENWRT_STAGE/sbin/netifd" ]; then
	export NDPR_NETIFD=$OPENWRT_STAGE/sbin/netifd NDPR_UBUS_PREFIX=$OPENWRT_STAGE/usr
fi
cargo test --tests -- --ignored --test-threads=1

step "luci-app-ndpresponder: translation template and browser test"
bash scripts/test-luci.sh

step "shell lint"
bash scripts/lint-shell.sh

step "router cross builds (size budget: mips/mipsel <= 320 KiB)"
bash scripts/cross.sh build

step "unit tests on big-endian MIPS under qemu"
bash scripts/cross.sh test-mips

step ".ipk packages"
bash scripts/package.sh
bash scripts/test-packages.sh

step "OpenWrt's real userland: procd, ujail, ubusd, rpcd, uhttpd, opkg"
bash scripts/openwrt-test.sh

step "all checks passed"
