#!/usr/bin/env bash
# Builds herald twice (normal, and ASan+UBSan) and runs the whole suite in
# each (the CLI tests twice: cli/ on SQLite, cli-pg/ on one PostgreSQL
# server the suite starts as an unprivileged user and stops, see
# tests/CMakeLists.txt); a ThreadSanitizer build runs the tests of the threaded code (queue,
# send, daemon, import, the web endpoint); the build types packagers use compile
# warning-free with gcc and clang (every build here has warnings as errors, -DHERALD_WERROR=ON);
# then builds the libFuzzer targets with clang and runs each over its
# seed corpus and dictionary for HERALD_FUZZ_SECONDS (default 30; two
# targets at a time on two cores: long enough for the dictionaries to reach
# the sanitiser's fast-path/parser disagreements of issue 9 item 8, which
# 8 s without them did not).
#
#   scripts/test.sh            everything
#   scripts/test.sh quick      the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${HERALD_FUZZ_SECONDS:-30}

# The cli-pg/ tests' PostgreSQL server (tests/CMakeLists.txt) is stopped by
# ctest's cleanup fixture, failures or not; this stops it too when ctest
# itself is interrupted or killed.
stop_test_pg() {
	local f
	for f in build*/test-pg-dir; do
		[ -f "$f" ] && /usr/bin/python3 tests/pg_server.py stop "$(cat "$f")" >/dev/null 2>&1
	done
	return 0
}
trap stop_test_pg EXIT

total_pass=0
run_build() {	# dir, cmake args...
	local dir=$1; shift
	echo "== build $dir"
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHERALD_WERROR=ON \
	    "$@" >/dev/null
	cmake --build "$dir" -j"$jobs" >/dev/null
	echo "== test $dir"
	ctest --test-dir "$dir" --output-on-failure -j"$jobs" \
	    ${ctest_only:+-R "$ctest_only"} ${ctest_skip:+-E "$ctest_skip"} | tee "$dir/ctest.out"
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
# (cli-pg/: the CLI suite again on PostgreSQL, in the two builds above only)
ctest_only='queue|send|daemon|import|cli/test_web' ctest_skip='cli-pg/' run_build build-tsan -DHERALD_TSAN=ON

# Release and Debug as packagers and developers build them, with both
# compilers (gcc RelWithDebInfo is the build above, clang RelWithDebInfo the
# fuzz build below; gcc Debug adds nothing that -O0 would warn about).
for cc_type in gcc:Release clang:Release clang:Debug; do
	cc=${cc_type%%:*} type=${cc_type#*:}
	dir=build-matrix/$cc-$type
	echo "== compile $cc $type"
	CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" \
	    -DHERALD_WERROR=ON >/dev/null
	cmake --build "$dir" -j"$jobs" >/dev/null
done

echo "== fuzz (clang, libFuzzer, ${fuzz_seconds}s each, $jobs at a time)"
# fuzz/run.sh: every target over its corpus and dictionary; fuzz/soak.sh
# runs the same for minutes each, outside CI.
fuzz_out=$(mktemp)
fuzz/run.sh "$fuzz_seconds" | tee "$fuzz_out"
pass=$(sed -n 's/^fuzz: \([0-9]*\) passed.*/\1/p' "$fuzz_out")
rm -f "$fuzz_out"
# One closing line for the whole run: both builds' ctest suites plus the
# fuzz runs (ctest stops the script above on any failure).
echo "all: $((total_pass + pass)) passed, 0 failed"
