#!/usr/bin/env bash
# Builds herald twice (normal, and ASan+UBSan) and runs the whole suite in
# each; then builds the libFuzzer targets with clang and runs each over its
# seed corpus plus a short bounded fuzzing run.
#
#   scripts/test.sh            everything
#   scripts/test.sh quick      the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${HERALD_FUZZ_SECONDS:-8}

total_pass=0
run_build() {	# dir, cmake args...
	local dir=$1; shift
	echo "== build $dir"
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j"$jobs" >/dev/null
	echo "== test $dir"
	ctest --test-dir "$dir" --output-on-failure -j"$jobs" | tee "$dir/ctest.out"
	local n
	n=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$dir/ctest.out")
	total_pass=$((total_pass + ${n:-0}))
}

run_build build
if [ "${1:-}" = quick ]; then
	echo "all: $total_pass passed, 0 failed"
	exit 0
fi
run_build build-asan -DHERALD_SANITIZE=ON

echo "== fuzz (clang, libFuzzer, ${fuzz_seconds}s each)"
CC=clang cmake -S . -B build-fuzz -DHERALD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs" >/dev/null
pass=0 fail=0
for t in build-fuzz/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t"); short=${name#fuzz_}
	corpus=fuzz/corpus/$short
	work=$(mktemp -d)
	cp -r "$corpus"/. "$work"/ 2>/dev/null || true
	if "$t" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=0 "$work" >"$work.log" 2>&1; then
		pass=$((pass + 1)); echo "fuzz $short: ok"
	else
		fail=$((fail + 1)); echo "fuzz $short: FAILED"; tail -40 "$work.log"
	fi
	rm -rf "$work" "$work.log"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
# One closing line for the whole run: both builds' ctest suites plus the
# fuzz runs (ctest stops the script above on any failure).
echo "all: $((total_pass + pass)) passed, 0 failed"
