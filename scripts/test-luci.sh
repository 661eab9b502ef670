#!/usr/bin/env bash
# The luci-app-ndpresponder checks, as root: the translation template is current, then the
# browser test (tests/luci/test_luci.py): headless Chromium from Debian, driven by selenium
# from the project venv, against a real daemon in a namespace lab. Installs what it needs;
# prints "SKIPPED: ..." only when that fails. Last line: "luci: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

readonly SELENIUM=selenium==4.27.1

if [ "$(id -u)" != 0 ]; then
	echo "SKIPPED: the LuCI browser test needs root (network namespaces)"
	echo "luci: 0 passed, 0 failed"
	exit 0
fi

python3 scripts/luci-pot.py --check

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends chromium chromium-driver ndisc6 iproute2 \
	python3-venv > /dev/null; then
	echo "SKIPPED: cannot install chromium, chromium-driver and ndisc6 with apt-get"
	echo "luci: 0 passed, 0 failed"
	exit 0
fi
[ -x .venv/bin/python3 ] || python3 -m venv .venv
if ! .venv/bin/python3 -c 'import selenium' 2> /dev/null &&
	! .venv/bin/pip install --quiet "$SELENIUM"; then
	echo "SKIPPED: cannot install $SELENIUM into .venv"
	echo "luci: 0 passed, 0 failed"
	exit 0
fi

cargo build --quiet --bin ndpresponder
# The test checks the rest itself (chromium, chromedriver, ndisc6, ip, the binary) and
# names whatever is missing.
PYTHONDONTWRITEBYTECODE=1 exec .venv/bin/python3 tests/luci/test_luci.py target/debug/ndpresponder
