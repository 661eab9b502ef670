#!/usr/bin/env bash
# Checks every dist/ipk/*.ipk made by scripts/package.sh: the outer format, control
# fields, conffiles, maintainer scripts, the data layout against files/, owners and
# modes, and that the binary's ELF header (class, endianness, machine, ABI flags) matches
# the package's architecture; then luci-app-ndpresponder_*_all.ipk the same way, and that it
# installs next to the daemon's package without sharing a file. Last line: "N passed, N failed"; exits 1 on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
# shellcheck source=scripts/common.sh
. scripts/common.sh
require "${PACKAGE_TOOLS[@]}" || exit 1

passed=0
failed=0

check() { # description, command...
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $what" >&2
	fi
}

# Expected ELF header per OpenWrt architecture: class (1 = 32-bit, 2 = 64-bit), data
# (1 = little, 2 = big endian), e_machine, then an e_flags mask and value: MIPS32r2 for
# the 24Kc packages (EF_MIPS_ARCH), the hard-float EABI for arm (EF_ARM_ABI_FLOAT_HARD).
elf_expectation() {
	case "$1" in
	mips_24kc) echo "1 2 8 0xf0000000 0x70000000" ;;
	mipsel_24kc) echo "1 1 8 0xf0000000 0x70000000" ;;
	arm_cortex-a7_neon-vfpv4) echo "1 1 40 0x400 0x400" ;;
	aarch64_cortex-a53) echo "2 1 183 0 0" ;;
	x86_64) echo "2 1 62 0 0" ;;
	*) return 1 ;;
	esac
}

# Reads the ELF identification and header fields with od; prints
# "class data machine flags" or fails if the magic is wrong.
elf_header() {
	local bin=$1 b flags_at
	read -r -a b <<< "$(od -An -tu1 -N64 -v "$bin" | tr -s ' \n' '  ')"
	[ "${#b[@]}" -ge 52 ] || return 1
	[ "${b[0]} ${b[1]} ${b[2]} ${b[3]}" = "127 69 76 70" ] || return 1
	# e_flags follows e_entry, e_phoff and e_shoff, whose width depends on the class.
	if [ "${b[4]}" = 1 ]; then flags_at=36; else flags_at=48; fi
	if [ "${b[5]}" = 1 ]; then
		echo "${b[4]} ${b[5]} $((b[18] | b[19] << 8))" \
			"$((b[flags_at] | b[flags_at + 1] << 8 | b[flags_at + 2] << 16 | b[flags_at + 3] << 24))"
	else
		echo "${b[4]} ${b[5]} $((b[18] << 8 | b[19]))" \
			"$((b[flags_at] << 24 | b[flags_at + 1] << 16 | b[flags_at + 2] << 8 | b[flags_at + 3]))"
	fi
}

elf_matches() { # binary, arch
	local class data machine flags e_class e_data e_machine mask value
	read -r class data machine flags <<< "$(elf_header "$1")" || return 1
	read -r e_class e_data e_machine mask value <<< "$(elf_expectation "$2")" || return 1
	[ "$class" = "$e_class" ] && [ "$data" = "$e_data" ] && [ "$machine" = "$e_machine" ] &&
		[ $((flags & mask)) -eq $((value)) ]
}

field() { # control file, field name
	sed -n "s/^$2: //p" "$1"
}

# "mode owner path" for every entry of a tar.gz, e.g. "-rwxr-xr-x 0/0 ./usr/sbin/x".
tar_listing() {
	tar -tvzf "$1" --numeric-owner | awk '{ print $1, $2, $6 }'
}

expected_data_paths() {
	{
		printf '%s\n' ./usr/sbin/ndpresponder
		(cd files && find . -type f)
	} | sort
}

expected_mode() {
	case "$1" in
	*/) echo drwxr-xr-x ;;
	./usr/sbin/* | ./etc/init.d/* | ./postinst | ./prerm | ./postinst-pkg | ./postrm) echo -rwxr-xr-x ;;
	*) echo -rw-r--r-- ;;
	esac
}

modes_and_owners_ok() { # tar.gz
	local mode owner path ok=0
	while read -r mode owner path; do
		if [ "$owner" != 0/0 ]; then
			echo "  $path is owned by $owner" >&2
			ok=1
		fi
		if [ "$mode" != "$(expected_mode "$path")" ]; then
			echo "  $path has mode $mode" >&2
			ok=1
		fi
	done < <(tar_listing "$1")
	return "$ok"
}

valid_json() {
	python3 -m json.tool "$1" > /dev/null
}

# Runs a maintainer script with a killall that records its arguments: on a live system
# (no IPKG_INSTROOT) it must send ubusd SIGHUP, which makes ubusd re-read
# /usr/share/acl.d; into an image (IPKG_INSTROOT set) it must not; both exit 0, also when
# no ubusd runs (killall fails).
acl_reload_on_live_system() {
	local script=$1 bin calls ok=0
	bin=$(mktemp -d)
	printf '#!/bin/sh\necho "$*" >> "%s/calls"\nexit 1\n' "$bin" > "$bin/killall"
	chmod 0755 "$bin/killall"
	env -u IPKG_INSTROOT PATH="$bin:$PATH" sh "$script" || ok=1
	calls=$(cat "$bin/calls" 2> /dev/null)
	rm -f "$bin/calls"
	IPKG_INSTROOT=/nonexistent PATH="$bin:$PATH" sh "$script" || ok=1
	[ "$calls" = "-HUP ubusd" ] || ok=1
	[ -e "$bin/calls" ] && ok=1
	rm -rf "$bin"
	return "$ok"
}

# unpack_ipk IPK NAME WORK: checks the outer layers every .ipk shares (gzip, exactly
# debian-binary/control/data, format 2.0) and unpacks control and data under WORK.
unpack_ipk() {
	local ipk=$1 name=$2 work=$3
	check "$name: outer file is gzip" [ "$(od -An -tx1 -N2 "$ipk" | tr -d ' ')" = 1f8b ]
	check "$name: outer tar holds exactly debian-binary, data, control" \
		[ "$(tar -tzf "$ipk" | sort | tr '\n' ' ')" = "./control.tar.gz ./data.tar.gz ./debian-binary " ]
	tar -xzf "$ipk" -C "$work" || return
	check "$name: debian-binary is 2.0" [ "$(cat "$work/debian-binary")" = 2.0 ]
	mkdir "$work/control" "$work/data"
	tar -xzf "$work/control.tar.gz" -C "$work/control"
	tar -xzf "$work/data.tar.gz" -C "$work/data"
}

test_ipk() {
	local ipk=$1 name arch work control data version
	name=$(basename "$ipk" .ipk)
	arch=${name#ndpresponder_*_}
	version=$(manifest_field version)
	work=$(mktemp -d)
	echo "== $name"

	unpack_ipk "$ipk" "$name" "$work" || return
	control="$work/control/control"
	data="$work/data"

	check "$name: Package" [ "$(field "$control" Package)" = ndpresponder ]
	check "$name: Version is the crate version plus a release" \
		grep -qx "Version: $version-[0-9][0-9]*" "$control"
	check "$name: Architecture matches the file name" [ "$(field "$control" Architecture)" = "$arch" ]
	check "$name: Depends is libc" [ "$(field "$control" Depends)" = libc ]
	local f
	for f in Maintainer License Section Description; do
		check "$name: $f present" [ -n "$(field "$control" "$f")" ]
	done
	check "$name: Require-User creates ndpresponder" \
		[ "$(field "$control" Require-User)" = ndpresponder:ndpresponder ]
	check "$name: Installed-Size is the data's size" [ "$(field "$control" Installed-Size)" = \
		"$(find "$data" -type f -exec stat -c %s {} + | awk '{ s += $1 } END { print s }')" ]
	check "$name: conffiles lists the UCI config" \
		[ "$(cat "$work/control/conffiles")" = /etc/config/ndpresponder ]
	check "$name: conffiles entries are shipped" [ -f "$data/etc/config/ndpresponder" ]
	# shellcheck disable=SC2016 # the scripts' literal text
	check "$name: postinst calls default_postinst" grep -qxF 'default_postinst "$0" "$@"' "$work/control/postinst"
	# shellcheck disable=SC2016
	check "$name: prerm calls default_prerm" grep -qxF 'default_prerm "$0" "$@"' "$work/control/prerm"
	check "$name: postinst-pkg is the recipe's postinst" \
		[ "$(cat "$work/control/postinst-pkg")" = "$(recipe_script postinst)" ]
	check "$name: postrm is the recipe's postrm" \
		[ "$(cat "$work/control/postrm")" = "$(recipe_script postrm)" ]
	for f in postinst prerm postinst-pkg postrm; do
		check "$name: $f parses" sh -n "$work/control/$f"
	done
	for f in postinst-pkg postrm; do
		check "$name: $f has ubusd reload its ACLs on a live system" \
			acl_reload_on_live_system "$work/control/$f"
	done
	check "$name: control modes and owners" modes_and_owners_ok "$work/control.tar.gz"

	check "$name: data holds the binary and exactly files/" \
		[ "$(cd "$data" && find . -type f | sort)" = "$(expected_data_paths)" ]
	check "$name: data modes and owners" modes_and_owners_ok "$work/data.tar.gz"
	check "$name: init script is an rc.common procd script" \
		grep -qx 'USE_PROCD=1' "$data/etc/init.d/ndpresponder"
	for f in "$data"/etc/capabilities/*.json "$data"/usr/share/rpcd/acl.d/*.json "$data"/usr/share/acl.d/*.json; do
		check "$name: ${f#"$data"} is valid JSON" valid_json "$f"
	done

	local bin="$data/usr/sbin/ndpresponder"
	check "$name: ELF class, endianness, machine and ABI flags fit $arch" elf_matches "$bin" "$arch"
	check "$name: binary is static" elf_is_static "$bin"
	rm -rf "$work"
}

expected_luci_paths() {
	{
		(cd luci-app-ndpresponder/htdocs && find . -type f | sed 's|^\./|./www/|')
		(cd luci-app-ndpresponder/root && find . -type f)
	} | sort
}

test_luci_ipk() {
	local ipk=$1 daemon_ipk=$2 name work control data f
	name=$(basename "$ipk" .ipk)
	work=$(mktemp -d)
	echo "== $name"

	unpack_ipk "$ipk" "$name" "$work" || return
	control="$work/control/control"
	data="$work/data"

	check "$name: Package" [ "$(field "$control" Package)" = luci-app-ndpresponder ]
	check "$name: Version is the crate version plus a release" \
		grep -qx "Version: $(manifest_field version)-[0-9][0-9]*" "$control"
	check "$name: Architecture is all" [ "$(field "$control" Architecture)" = all ]
	check "$name: file name says all" [ "${name##*_}" = all ]
	check "$name: Depends on ndpresponder and luci-base" \
		[ "$(field "$control" Depends | tr -d ' ' | tr ',' '\n' | grep -cxE 'ndpresponder|luci-base')" = 2 ]
	for f in Maintainer License Section Description; do
		check "$name: $f present" [ -n "$(field "$control" "$f")" ]
	done
	check "$name: Installed-Size is the data's size" [ "$(field "$control" Installed-Size)" = \
		"$(find "$data" -type f -exec stat -c %s {} + | awk '{ s += $1 } END { print s }')" ]
	check "$name: postinst parses" sh -n "$work/control/postinst"
	check "$name: control modes and owners" modes_and_owners_ok "$work/control.tar.gz"
	check "$name: data is htdocs/ under /www and root/ under /" \
		[ "$(cd "$data" && find . -type f | sort)" = "$(expected_luci_paths)" ]
	check "$name: data modes and owners" modes_and_owners_ok "$work/data.tar.gz"
	for f in status settings; do
		check "$name: view $f present" [ -f "$data/www/luci-static/resources/view/ndpresponder/$f.js" ]
	done
	for f in "$data"/usr/share/luci/menu.d/*.json "$data"/usr/share/rpcd/acl.d/*.json; do
		check "$name: ${f#"$data"} is valid JSON" valid_json "$f"
	done
	check "$name: shares no file with $(basename "$daemon_ipk")" \
		[ -z "$(comm -12 <(tar -xzOf "$ipk" ./data.tar.gz | tar -tzf - | grep -v '/$' | sort) \
			<(tar -xzOf "$daemon_ipk" ./data.tar.gz | tar -tzf - | grep -v '/$' | sort))" ]
	rm -rf "$work"
}

check "openwrt/ndpresponder/Makefile PKG_VERSION is Cargo.toml's version" \
	[ "$(sed -n 's/^PKG_VERSION:=//p' openwrt/ndpresponder/Makefile)" = "$(manifest_field version)" ]
check "openwrt/ndpresponder/Makefile PKG_LICENSE is Cargo.toml's license" \
	[ "$(sed -n 's/^PKG_LICENSE:=//p' openwrt/ndpresponder/Makefile)" = "$(manifest_field license)" ]
read -r -a license_files <<< "$(sed -n 's/^PKG_LICENSE_FILES:=//p' openwrt/ndpresponder/Makefile)"
for f in "${license_files[@]}"; do
	check "PKG_LICENSE_FILES names $f, which exists" [ -s "$f" ]
done
check "the init script is committed executable, as the feeds keep it" \
	[ "$(git ls-files -s files/etc/init.d/ndpresponder | cut -d' ' -f1)" = 100755 ]
shopt -s nullglob
ipks=(dist/ipk/ndpresponder_*.ipk)
check "dist/ipk holds one package per architecture" [ "${#ipks[@]}" -eq 5 ]
for ipk in "${ipks[@]}"; do
	test_ipk "$ipk"
done
luci_ipks=(dist/ipk/luci-app-ndpresponder_*_all.ipk)
check "dist/ipk holds one luci-app-ndpresponder package" [ "${#luci_ipks[@]}" -eq 1 ]
if [ "${#luci_ipks[@]}" -ge 1 ] && [ "${#ipks[@]}" -ge 1 ]; then
	test_luci_ipk "${luci_ipks[0]}" "${ipks[0]}"
fi

# OpenWrt's own opkg, where an OpenWrt userland stage has been built for this machine (the
# LuCI browser test uses the same one): the x86_64 daemon package and the LuCI app install
# side by side into an offline root, and the app alone is refused for its dependency.
opkg_installs() { # stage, daemon ipk, luci ipk
	local stage=$1 daemon=$2 luci=$3 r rc=0
	r=$(mktemp -d)
	cp -a "$stage/." "$r/"
	chmod u+w "$r" "$r/tmp"
	[ -e "$r/dev/null" ] || mknod -m 666 "$r/dev/null" c 1 3
	mkdir -p "$r/tmp/inst/usr/lib/opkg" "$r/tmp/inst/var/lock" "$r/tmp/pkgs"
	cp "$daemon" "$luci" "$r/tmp/pkgs/"
	# What a router running LuCI already has.
	printf 'Package: %s\nVersion: 1\nStatus: install user installed\nArchitecture: %s\n\n' \
		libc x86_64 luci-base all > "$r/tmp/inst/usr/lib/opkg/status"
	local in_root="chroot $r /bin/opkg --offline-root /tmp/inst"
	$in_root install "/tmp/pkgs/$(basename "$luci")" > "$r/alone.log" 2>&1
	if $in_root list-installed 2> /dev/null | grep -q '^luci-app-ndpresponder '; then
		echo "  opkg installed the LuCI app without the daemon:" >&2
		cat "$r/alone.log" >&2
		rc=1
	fi
	if ! $in_root install "/tmp/pkgs/$(basename "$daemon")" "/tmp/pkgs/$(basename "$luci")" > "$r/both.log" 2>&1; then
		cat "$r/both.log" >&2
		rc=1
	fi
	for f in usr/sbin/ndpresponder www/luci-static/resources/view/ndpresponder/status.js \
		usr/share/rpcd/acl.d/luci-app-ndpresponder.json; do
		[ -f "$r/tmp/inst/$f" ] || {
			echo "  /$f missing after opkg install" >&2
			rc=1
		}
	done
	[ "$($in_root list-installed 2> /dev/null | grep -c ndpresponder)" = 2 ] || rc=1
	rm -rf "$r"
	return "$rc"
}

stage=${NDPR_OPENWRT_STAGE:-/tmp/owrtreal/stage}
x86_ipks=(dist/ipk/ndpresponder_*_x86_64.ipk)
if [ -x "$stage/usr/bin/opkg-cl" ] && [ "$(id -u)" = 0 ] && [ "${#x86_ipks[@]}" -ge 1 ] &&
	[ "${#luci_ipks[@]}" -ge 1 ]; then
	check "opkg installs luci-app-ndpresponder next to ndpresponder, and not without it" \
		opkg_installs "$stage" "${x86_ipks[0]}" "${luci_ipks[0]}"
else
	echo "SKIPPED: the opkg install check needs root and OpenWrt's opkg in $stage"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
