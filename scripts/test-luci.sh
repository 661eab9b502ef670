#!/usr/bin/env bash
# The luci-app-ndpresponder checks, as root: the translation template is current, then the
# browser test (tests/luci/test_luci.py): headless Chromium from Debian, driven by selenium
# from the project venv, against a real daemon in a namespace lab. Installs what it needs
# and fails naming whatever is still missing. Last line: "luci: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

readonly SELENIUM=selenium==4.27.1

if [ "$(id -u)" != 0 ]; then
	echo "SKIPPED: the LuCI browser test needs root (network namespaces)"
	echo "luci: 0 passed, 0 failed"
	exit 0
fi

python3 scripts/luci-pot.py --check

# shellcheck source=scripts/common.sh
. scripts/common.sh
require "${LAB_TOOLS[@]}" ping:iputils-ping ndisc6:ndisc6 chromium:chromium chromedriver:chromium-driver
venv_pip "$SELENIUM"

cargo build --quiet --bin ndpresponder
# The test checks the rest itself (chromium, chromedriver, ndisc6, ip, the binary) and
# names whatever is missing.
PYTHONDONTWRITEBYTECODE=1 exec .venv/bin/python3 tests/luci/test_luci.py target/debug/ndpresponder
