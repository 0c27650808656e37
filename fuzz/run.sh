#!/usr/bin/env bash
# Runs every libFuzzer target (or the ones named) for SECONDS each over a
# copy of its seed corpus (fuzz/corpus/NAME), with its dictionary
# (fuzz/dict/NAME.dict) when there is one, as many at a time as there are
# cores (HERALD_FUZZ_JOBS).  Builds build-fuzz (HERALD_FUZZ_BUILD) with
# clang first.  A crash, a leak, one input taking over 25 s (generous: two
# fuzzers share a loaded machine) or over 2 GB of memory fails the target;
# the input is kept as fuzz/artifacts/NAME-crash-... to replay with
# `build-fuzz/fuzz/fuzz_NAME FILE` (add it to the corpus once fixed).
#
#   fuzz/run.sh SECONDS [NAME...]
#
# scripts/test.sh runs it for a short time (HERALD_FUZZ_SECONDS); fuzz/soak.sh
# for minutes.  Prints one line per target, then "fuzz: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run.sh SECONDS [NAME...]}
shift
jobs=${HERALD_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
bdir=${HERALD_FUZZ_BUILD:-build-fuzz}

CC=clang cmake -S . -B "$bdir" -DHERALD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHERALD_WERROR=ON >/dev/null
cmake --build "$bdir" -j"$jobs" >/dev/null

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for t in "$bdir"/fuzz/fuzz_*; do
		[ -x "$t" ] && names+=("$(basename "$t" | sed 's/^fuzz_//')")
	done
fi
mkdir -p fuzz/artifacts
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

one() {	# name
	local short=$1 work dict=()
	work=$(mktemp -d)
	cp -r "fuzz/corpus/$short"/. "$work"/ 2>/dev/null || true
	[ -f "fuzz/dict/$short.dict" ] && dict=(-dict="fuzz/dict/$short.dict")
	if "$bdir/fuzz/fuzz_$short" "${dict[@]}" -max_total_time="$seconds" \
	    -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="fuzz/artifacts/$short-" "$work" >"$results/$short.log" 2>&1; then
		echo ok >"$results/$short.rc"
	else
		echo FAILED >"$results/$short.rc"
	fi
	rm -rf "$work"
}

running=0
for short in "${names[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	one "$short" &
	running=$((running + 1))
done
wait || true

pass=0 fail=0
for short in "${names[@]}"; do
	rc=$(cat "$results/$short.rc" 2>/dev/null || echo FAILED)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$results/$short.log" | tail -1)
	if [ "$rc" = ok ]; then
		pass=$((pass + 1)); echo "fuzz $short: ok (${runs:-?} inputs in ${seconds}s)"
	else
		fail=$((fail + 1)); echo "fuzz $short: FAILED"; tail -40 "$results/$short.log"
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
