#!/usr/bin/env bash
# Installable .ipk packages from the static binaries of scripts/cross.sh, one per OpenWrt
# architecture, plus the architecture-independent luci-app-ndpresponder, into dist/ipk/. For quick installs on opkg-based OpenWrt (up to 24.10);
# release packages come from the SDK recipe in openwrt/ndpresponder.
#
#   scripts/cross.sh && scripts/package.sh && scripts/test-packages.sh
#
# Layout follows OpenWrt's scripts/ipkg-build: the outer file is a gzip'd tar (not a
# Debian ar) of ./debian-binary, ./data.tar.gz and ./control.tar.gz, all root:root,
# reproducible (sorted, mtime = last commit, gzip -n).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/common.sh
. scripts/common.sh
require "${PACKAGE_TOOLS[@]}"

readonly PKG_NAME=ndpresponder
# Bumped when the packaging changes for the same crate version (OpenWrt's PKG_RELEASE).
readonly PKG_RELEASE=1
# OpenWrt architecture -> Rust target built by scripts/cross.sh.
readonly ARCHES=(
	mips_24kc:mips-unknown-linux-musl
	mipsel_24kc:mipsel-unknown-linux-musl
	arm_cortex-a7_neon-vfpv4:armv7-unknown-linux-musleabihf
	aarch64_cortex-a53:aarch64-unknown-linux-musl
	x86_64:x86_64-unknown-linux-musl
)

version="$(manifest_field version)-$PKG_RELEASE"
license=$(manifest_field license)
url=$(manifest_field repository)
description=$(manifest_field description)
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2> /dev/null || date +%s)}

# Deterministic, root-owned tar of the current directory's listed entries.
tar_gz() {
	local out=$1
	shift
	tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name \
		--mtime="@$epoch" -cf - "$@" | gzip -n -9 > "$out"
}

# The package root: the binary plus everything under files/, with OpenWrt's modes:
# 0755 for directories, the binary and init scripts, 0644 for the rest (the config is
# world-readable so the daemon's unprivileged user can read it).
stage_data() {
	local binary=$1 data=$2
	install -D -m 0755 "$binary" "$data/usr/sbin/$PKG_NAME"
	cp -R files/. "$data/"
	find "$data" -type d -exec chmod 0755 {} +
	find "$data" -type f -exec chmod 0644 {} +
	chmod 0755 "$data/usr/sbin/$PKG_NAME" "$data"/etc/init.d/*
}

write_control() {
	local arch=$1 data=$2 control=$3 installed_size
	installed_size=$(find "$data" -type f -exec stat -c %s {} + | awk '{ s += $1 } END { print s }')
	# Field order as OpenWrt's package-pack.mk writes it. The binary is static, so libc is
	# the only dependency (the same as an SDK build declares). Require-User makes
	# default_postinst create the user and group with base-files' user_add/group_add.
	cat > "$control/control" <<- EOF
		Package: $PKG_NAME
		Version: $version
		Depends: libc
		Source: $url
		SourceName: $PKG_NAME
		License: $license
		Section: net
		SourceDateEpoch: $epoch
		URL: $url
		Require-User: $PKG_NAME:$PKG_NAME
		Maintainer: ndpresponder developers
		Architecture: $arch
		Installed-Size: $installed_size
		Description: $description
	EOF
	echo /etc/config/$PKG_NAME > "$control/conffiles"
	# The scripts OpenWrt generates for every package: default_postinst adds the user,
	# enables and starts /etc/init.d/ndpresponder (only enables it when installing into an
	# image, where IPKG_INSTROOT is set); default_prerm stops and disables it.
	cat > "$control/postinst" <<- 'EOF'
		#!/bin/sh
		[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
		[ -s "${IPKG_INSTROOT}/lib/functions.sh" ] || exit 0
		. "${IPKG_INSTROOT}/lib/functions.sh"
		default_postinst "$0" "$@"
	EOF
	cat > "$control/prerm" <<- 'EOF'
		#!/bin/sh
		[ -s "${IPKG_INSTROOT}/lib/functions.sh" ] || exit 0
		. "${IPKG_INSTROOT}/lib/functions.sh"
		default_prerm "$0" "$@"
	EOF
	# The package's own scripts, as the SDK writes them: default_postinst sources
	# postinst-pkg before it starts the init script; postrm runs after the files are gone.
	recipe_script postinst > "$control/postinst-pkg"
	recipe_script postrm > "$control/postrm"
	if ! [ -s "$control/postinst-pkg" ] || ! [ -s "$control/postrm" ]; then
		echo "openwrt/ndpresponder/Makefile lacks Package/$PKG_NAME/postinst or postrm" >&2
		return 1
	fi
	chmod 0644 "$control/control" "$control/conffiles"
	chmod 0755 "$control/postinst" "$control/prerm" "$control/postinst-pkg" "$control/postrm"
}

# pack_ipk WORK IPK: WORK/data and WORK/control as opkg's outer layers (debian-binary,
# control.tar.gz, data.tar.gz, in that order) into IPK; removes WORK, prints IPK.
pack_ipk() {
	local work=$1 ipk=$2
	(cd "$work/data" && tar_gz "$work/pkg/data.tar.gz" .)
	(cd "$work/control" && tar_gz "$work/pkg/control.tar.gz" .)
	echo 2.0 > "$work/pkg/debian-binary"
	(cd "$work/pkg" && tar_gz "$work/out.ipk" ./debian-binary ./control.tar.gz ./data.tar.gz)
	mv "$work/out.ipk" "$ipk"
	rm -rf "$work"
	echo "$ipk"
}

build_ipk() {
	local arch=$1 binary="dist/$2/$PKG_NAME" work
	if ! [ -f "$binary" ]; then
		echo "missing $binary: run scripts/cross.sh first" >&2
		return 1
	fi
	work=$(mktemp -d)
	mkdir "$work/data" "$work/control" "$work/pkg"
	stage_data "$binary" "$work/data"
	write_control "$arch" "$work/data" "$work/control"
	pack_ipk "$work" "dist/ipk/${PKG_NAME}_${version}_${arch}.ipk"
}

# luci-app-ndpresponder as luci.mk packs it: htdocs/ under /www, root/ under /, all files
# 0644 (nothing in it is executable), architecture "all". The translations stay in the
# template; luci.mk would build them into separate luci-i18n-* packages.
build_luci_ipk() {
	local app=luci-app-ndpresponder work installed_size
	work=$(mktemp -d)
	mkdir -p "$work/data/www" "$work/control" "$work/pkg"
	cp -R "$app/htdocs/." "$work/data/www/"
	cp -R "$app/root/." "$work/data/"
	find "$work/data" -type d -exec chmod 0755 {} +
	find "$work/data" -type f -exec chmod 0644 {} +
	installed_size=$(find "$work/data" -type f -exec stat -c %s {} + | awk '{ s += $1 } END { print s }')
	cat > "$work/control/control" <<- EOF
		Package: $app
		Version: $version
		Depends: libc, luci-base, $PKG_NAME
		Source: $url
		SourceName: $app
		License: $license
		Section: luci
		SourceDateEpoch: $epoch
		URL: $url
		Maintainer: ndpresponder developers
		Architecture: all
		Installed-Size: $installed_size
		Description: LuCI support for ndpresponder: settings and a status page
	EOF
	# luci.mk's postinst: drop LuCI's caches so the new menu entries show, and make rpcd
	# read the new ACL file.
	cat > "$work/control/postinst" <<- 'EOF'
		#!/bin/sh
		[ -n "${IPKG_INSTROOT}" ] && exit 0
		rm -f /tmp/luci-indexcache /tmp/luci-indexcache.*
		rm -rf /tmp/luci-modulecache/
		killall -HUP rpcd 2> /dev/null
		exit 0
	EOF
	chmod 0644 "$work/control/control"
	chmod 0755 "$work/control/postinst"
	pack_ipk "$work" "dist/ipk/${app}_${version}_all.ipk"
}

mkdir -p dist/ipk
rm -f dist/ipk/*.ipk
for entry in "${ARCHES[@]}"; do
	build_ipk "${entry%%:*}" "${entry#*:}"
done
build_luci_ipk
