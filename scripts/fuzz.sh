#!/usr/bin/env bash
# Fuzzes every parser of untrusted input (fuzz/fuzz_targets) for SECONDS each (default 60)
# and prints, per target, the executions run and whether a crash was found.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   FUZZ_JOBS=2 scripts/fuzz.sh 300      # two targets at a time
#
# Uses the stable toolchain with RUSTC_BOOTSTRAP=1, which unlocks the -Z sanitizer flags
# cargo-fuzz passes (no nightly needed). Seeds are regenerated from the test fixtures into
# fuzz/corpus/<target> (git-ignored, and grown by each run); crashing inputs land in
# fuzz/artifacts/<target>, logs in fuzz/target/logs. Exit status 1 if any target crashed.
set -eu

cd "$(dirname "$0")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh
# python3 writes the seeds; libfuzzer-sys compiles libFuzzer with the C++ compiler.
require_rust
require python3:python3 c++:g++
seconds=${1:-60}
[ $# -gt 0 ] && shift
jobs=${FUZZ_JOBS:-1}

export RUSTC_BOOTSTRAP=1
if command -v rustup > /dev/null 2>&1; then
	cargo="cargo +stable"
else
	cargo=cargo
fi

if ! $cargo fuzz --version > /dev/null 2>&1; then
	echo "fuzz: installing cargo-fuzz"
	$cargo install cargo-fuzz --locked
fi

if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=$(cd fuzz && $cargo fuzz list)
fi

python3 fuzz/seeds.py fuzz/corpus
# -a: debug assertions and overflow checks, so arithmetic overflow is a crash too.
(cd fuzz && $cargo fuzz build -a)

logs=fuzz/target/logs
mkdir -p "$logs"

run_one() {
	target=$1
	mkdir -p "fuzz/artifacts/$target"
	# -rss_limit_mb bounds memory so a runaway allocation is reported, not swapped.
	(cd fuzz && $cargo fuzz run -a "$target" "corpus/$target" -- \
		-max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=1024 \
		> "../$logs/$target.log" 2>&1) || true
}

# Runs the targets, at most $jobs at a time.
running=0
for target in $targets; do
	run_one "$target" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

status=0
printf '%-14s %14s  %s\n' target executions result
for target in $targets; do
	log=$logs/$target.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crash=$(sed -n 's/.*Test unit written to //p' "$log" | head -n 1)
	if [ -n "$crash" ] || grep -q -E '^==[0-9]+==ERROR|SUMMARY: libFuzzer' "$log"; then
		result="CRASH: ${crash:-see $log} (log $log)"
		status=1
	elif [ -z "$execs" ]; then
		result="did not run: see $log"
		status=1
	else
		result="no crash"
	fi
	printf '%-14s %14s  %s\n' "$target" "${execs:--}" "$result"
done
exit $status
