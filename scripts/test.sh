#!/usr/bin/env bash
# Everything CI checks, from a fresh machine (run as root): installs the tools the tests
# need, then formatting, lints, the unit tests and the network-namespace lab tests.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq iproute2 nftables tcpdump ndisc6 python3-venv

# scapy for tests/lab/ndp.py, in a project venv (.venv is gitignored); the version the lab
# tests were written against.
readonly SCAPY=scapy==2.8.0
if ! .venv/bin/python3 -c 'import scapy' 2>/dev/null; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet "$SCAPY"
fi

cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test
cargo test --test lab -- --ignored --test-threads=1
