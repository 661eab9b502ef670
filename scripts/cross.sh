#!/usr/bin/env bash
# Static router binaries and big-endian tests, on a fresh Debian machine of this project's
# kind (recipe and its reasons: docs/cross-building.md).
#
#   scripts/cross.sh [build]    install what is missing, build stripped static release
#                               binaries into dist/<target>/ndpresponder, check them, print
#                               a size table; fails if mips/mipsel exceed 320 KiB
#   scripts/cross.sh test-mips  `cargo test --lib` for mips-unknown-linux-musl under
#                               qemu-mips-static (dev profile); exits with its status
#   scripts/cross.sh setup      only install the tools
#
# Everything comes from Debian, rustup or PyPI: qemu-user-static, the rust-src and
# llvm-tools components, the prebuilt aarch64/x86_64 musl std (for plain
# `cargo build --target`), and zig into the gitignored .venv.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/common.sh
. scripts/common.sh

readonly TARGETS=(
	mips-unknown-linux-musl
	mipsel-unknown-linux-musl
	armv7-unknown-linux-musleabihf
	aarch64-unknown-linux-musl
	x86_64-unknown-linux-musl
)
# Flash budget for the 4/8 MiB-flash MIPS routers this daemon is meant for: the stripped
# binary, which OpenWrt's squashfs stores xz-compressed to well under half of it. Raised
# from 256 KiB when routed ranges, netifd prefixes, probing and announcements came in.
readonly MIPS_SIZE_LIMIT=327680

# Own target dir, so cross builds never invalidate the host build's cache.
export CARGO_TARGET_DIR="$root/target/cross"
# Stable rustc builds std from rust-src with -Z flags when bootstrapping is allowed; mips,
# mipsel and armv7 have no prebuilt std, and optimize_for_size shrinks every target.
export RUSTC_BOOTSTRAP=1

log() { printf '==> %s\n' "$*" >&2; }

setup() {
	require "${CROSS_TOOLS[@]}"
	rust_components rust-src llvm-tools
	rustup target add aarch64-unknown-linux-musl x86_64-unknown-linux-musl
	venv_pip "$ZIG_REQUIREMENT"
}

# The llvm-objcopy that matches rustc, from the llvm-tools component.
objcopy_path() {
	local sysroot host
	sysroot=$(rustc --print sysroot)
	host=$(rustc -vV | sed -n 's/^host: //p')
	printf '%s/lib/rustlib/%s/bin/llvm-objcopy\n' "$sysroot" "$host"
}

# How to run a target binary here: binfmt_misc is not available, so qemu is named.
runner_for() {
	case "$1" in
	mips-*) echo qemu-mips-static ;;
	mipsel-*) echo qemu-mipsel-static ;;
	armv7-*) echo qemu-arm-static ;;
	aarch64-*) echo qemu-aarch64-static ;;
	x86_64-*) echo env ;;
	*) return 1 ;;
	esac
}

check_static() {
	if ! elf_is_static "$1"; then
		echo "FAIL: $1 is dynamically linked: $(file -b "$1")" >&2
		return 1
	fi
}

# The binary must start under its emulator and exit 0. OpenWrt's package CI expects the
# bare version on stdout, so output that is there but lacks it is an error.
check_version() {
	local target=$1 bin=$2 version out runner
	version=$(manifest_field version)
	runner=$(runner_for "$target")
	if ! out=$($runner "$bin" --version 2>&1); then
		echo "FAIL: $bin --version under $runner: $out" >&2
		return 1
	fi
	if [[ $out != "$version" ]]; then
		echo "FAIL: $bin --version printed '$out', expected $version" >&2
		return 1
	fi
}

build_target() {
	local target=$1 objcopy=$2 out="dist/$1/ndpresponder" start
	start=$SECONDS
	log "cargo build --release --target $target"
	# immediate-abort drops std's panic-message and unwinding-adjacent formatting code
	# (about a third of the binary). No panic is reachable from packets, config or ubus;
	# if one ever fires, the process aborts and procd/systemd respawn it. The --config
	# array is appended to the target's rustflags from .cargo/config.toml.
	cargo build --release --locked --target "$target" \
		--config "target.$target.rustflags=['-Zunstable-options','-Cpanic=immediate-abort']" \
		-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
	install -D -m 0755 "$CARGO_TARGET_DIR/$target/release/ndpresponder" "$out"
	case "$target" in
	# strip leaves MIPS's .pdr (procedure descriptors, 55-60 KB) that nothing reads.
	mips*) "$objcopy" --strip-all -R .pdr -R .comment "$out" ;;
	*) "$objcopy" --strip-all -R .comment "$out" ;;
	esac
	check_static "$out"
	check_version "$target" "$out"
	log "$target: $((SECONDS - start)) s, $(file -b "$out")"
}

build() {
	local objcopy target size failed=0
	objcopy=$(objcopy_path)
	for target in "${TARGETS[@]}"; do
		build_target "$target" "$objcopy"
	done
	printf '\n%-32s %10s %9s\n' target bytes KiB
	for target in "${TARGETS[@]}"; do
		size=$(stat -c %s "dist/$target/ndpresponder")
		printf '%-32s %10d %9.1f\n' "$target" "$size" "$(awk -v s="$size" 'BEGIN { print s / 1024 }')"
		case "$target" in
		mips-* | mipsel-*)
			if [ "$size" -gt "$MIPS_SIZE_LIMIT" ]; then
				echo "FAIL: $target binary is $size bytes, over the $MIPS_SIZE_LIMIT budget" >&2
				failed=1
			fi
			;;
		esac
	done
	return "$failed"
}

test_mips() {
	# Dev profile: panic=unwind, which the test harness needs (a panic=abort profile with
	# build-std fails with a duplicate lang item).
	cargo test --lib --locked --target mips-unknown-linux-musl -Zbuild-std
}

case "${1:-build}" in
setup) setup ;;
build)
	setup
	build
	;;
test-mips)
	setup
	test_mips
	;;
*)
	echo "usage: $0 [build|test-mips|setup]" >&2
	exit 2
	;;
esac
