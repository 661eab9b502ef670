#!/usr/bin/env bash
# Runs shellcheck and shfmt on every shell script under files/ and scripts/ (found by their
# #! line or .sh name), installing both from Debian if missing (scripts/common.sh). shfmt uses the flags of OpenWrt's
# package CI (gh-action-sdk runs `shfmt -w -sr -s` on init scripts).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/common.sh
. scripts/common.sh
require "${LINT_TOOLS[@]}"

scripts=()
while IFS= read -r -d '' f; do
	case "$f:$(head -n 1 "$f")" in
	*.sh:* | *:'#!'*sh*) scripts+=("$f") ;;
	esac
done < <(find files scripts -type f -print0 | sort -z)

status=0
for f in "${scripts[@]}"; do
	case "$f" in
	# `#!/bin/sh /etc/rc.common`: busybox sh sources the script from rc.common, which
	# defines the procd_*, config_* and rc_procd helpers it calls.
	files/etc/init.d/*) shellcheck -s sh "$f" || status=1 ;;
	*) shellcheck -x "$f" || status=1 ;;
	esac
	shfmt -d -s -sr "$f" || status=1
done
echo "checked ${#scripts[@]} shell scripts"
exit "$status"
