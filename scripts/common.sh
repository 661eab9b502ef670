# Helpers shared by the scripts; sourced, not run.
# shellcheck shell=bash

# A [package] field of Cargo.toml, e.g. `manifest_field version`.
manifest_field() {
	sed -n "/^\[package\]/,/^\[/s/^$1 *= *\"\(.*\)\"/\1/p" Cargo.toml
}

# A static executable has no program interpreter and no shared-library dependencies.
elf_is_static() {
	! readelf -lW "$1" | grep -q 'Requesting program interpreter' &&
		! readelf -dW "$1" 2> /dev/null | grep -q '(NEEDED)'
}

# The body of `define Package/ndpresponder/$1` in the SDK recipe (postinst, postrm), with
# make's $$ unescaped: the package's own maintainer scripts, defined once, there.
recipe_script() {
	sed -n "/^define Package\/ndpresponder\/$1\$/,/^endef\$/{//!p}" openwrt/ndpresponder/Makefile |
		sed 's/\$\$/$/g'
}

# --- outside programs -----------------------------------------------------------------
#
# Every program a script (or a test it runs) execs is named here as CMD:PACKAGE, PACKAGE
# being the Debian package that has CMD: a fresh Debian 12 image lacks most of them
# (iputils-ping, ndisc6, tcpdump, nftables, even iproute2 and procps on minimal images).
# `require` installs the packages of the missing ones, then `preflight` stops the script at
# once, naming every command still missing, before anything ran half-way.
# SKIP_INSTALL=1 never installs: only the preflight runs.

# The commands the namespace lab (scripts/lab-net.sh) runs.
readonly LAB_TOOLS=(ip:iproute2 bridge:iproute2 nft:nftables sysctl:procps)
# shellcheck disable=SC2034 # the arrays below are used by the scripts that source this file
{
	# What the root tests (tests/*.rs) run besides the lab: the probes, the privilege
	# wrapper, the process helpers; and python3 for the venv of tests/lab/ndp.py.
	readonly TEST_TOOLS=("${LAB_TOOLS[@]}" ping:iputils-ping ndisc6:ndisc6 setpriv:util-linux
		kill:procps timeout:coreutils python3:python3)
	# scripts/lint-shell.sh.
	readonly LINT_TOOLS=(shellcheck:shellcheck shfmt:shfmt)
	# scripts/cross.sh: the emulators that run each target's binary and tests, the ELF
	# checks, python3 for zig's venv.
	readonly CROSS_TOOLS=(qemu-mips-static:qemu-user-static qemu-mipsel-static:qemu-user-static
		qemu-arm-static:qemu-user-static qemu-aarch64-static:qemu-user-static file:file
		readelf:binutils python3:python3)
	# scripts/package.sh and scripts/test-packages.sh.
	readonly PACKAGE_TOOLS=(tar:tar gzip:gzip od:coreutils git:git python3:python3 readelf:binutils)
	# The versions pip installs into .venv: scapy for tests/lab/ndp.py, zig for cross.sh.
	readonly SCAPY_REQUIREMENT=scapy==2.8.0
	readonly ZIG_REQUIREMENT=ziglang==0.17.1
}

APT_UPDATED=0

# install_packages PACKAGE...: apt-get install, after one apt-get update per script run.
# A failure is reported, not fatal: the preflight that follows names what is missing.
install_packages() {
	if [ "${SKIP_INSTALL:-0}" = 1 ]; then
		echo "not installing $* (SKIP_INSTALL=1)" >&2
		return 0
	fi
	if ! command -v apt-get > /dev/null 2>&1; then
		echo "no apt-get here: install $* by hand" >&2
		return 0
	fi
	echo "installing $*" >&2
	if [ "$APT_UPDATED" = 0 ]; then
		apt-get update -qq >&2 || echo "apt-get update failed" >&2
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" > /dev/null ||
		echo "apt-get install $* failed" >&2
}

# preflight CMD:PACKAGE...: fails naming every CMD that is not on PATH, with its package.
# (`type -P`, not `command -v`: a shell builtin such as kill does not count.)
preflight() {
	local spec status=0
	for spec in "$@"; do
		if ! type -P "${spec%%:*}" > /dev/null; then
			echo "missing: ${spec%%:*} (Debian package ${spec#*:})" >&2
			status=1
		fi
	done
	return "$status"
}

# require CMD:PACKAGE...: installs the packages of the missing commands, then preflight.
require() {
	local spec packages=()
	for spec in "$@"; do
		if ! type -P "${spec%%:*}" > /dev/null; then
			case " ${packages[*]} " in *" ${spec#*:} "*) ;; *) packages+=("${spec#*:}") ;; esac
		fi
	done
	if [ "${#packages[@]}" -gt 0 ]; then
		install_packages "${packages[@]}"
	fi
	preflight "$@"
}

# require_rust: cargo and rustup must be there (installing Rust is the one step left to the
# reader), and the C toolchain rustc links with (cc, libc's crt files).
require_rust() {
	if ! command -v cargo > /dev/null 2>&1 || ! command -v rustup > /dev/null 2>&1; then
		echo "missing: cargo and rustup (the Rust toolchain, installed with rustup)" >&2
		return 1
	fi
	require cc:build-essential
}

# rust_components COMPONENT...: adds the rustup components that are not installed yet.
rust_components() {
	local component
	require_rust || return 1
	for component in "$@"; do
		if ! rustup component list --installed 2> /dev/null | grep -q "^$component"; then
			rustup component add "$component" >&2
		fi
	done
}

# venv_pip NAME==VERSION: the git-ignored project venv .venv with that exact version
# installed (from PyPI with pip). Debian's python3 makes venvs only with python3-venv.
venv_pip() {
	if ! [ -x .venv/bin/python3 ] || ! .venv/bin/python3 -m pip --version > /dev/null 2>&1; then
		require python3:python3 || return 1
		python3 -c 'import ensurepip' > /dev/null 2>&1 || install_packages python3-venv
		if ! python3 -c 'import ensurepip' > /dev/null 2>&1; then
			echo "missing: python3's venv module (Debian package python3-venv)" >&2
			return 1
		fi
		echo "python3 -m venv .venv" >&2
		python3 -m venv .venv
	fi
	local name=${1%%==*} version=${1#*==}
	if [ "$(.venv/bin/python3 -m pip show "$name" 2> /dev/null | sed -n 's/^Version: //p')" != "$version" ]; then
		echo "pip install $1 into .venv" >&2
		.venv/bin/python3 -m pip install --quiet "$1" >&2 || {
			echo "missing: $1 in .venv (pip install failed)" >&2
			return 1
		}
	fi
}
