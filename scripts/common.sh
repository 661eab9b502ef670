# Helpers shared by the build and packaging scripts; sourced, not run.
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
