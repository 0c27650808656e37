#!/usr/bin/env bash
# The long fuzz run, outside CI: every libFuzzer target for MINUTES each
# (default 5), as many at a time as HERALD_FUZZ_JOBS (default: the cores), then the sanitiser's
# grammar-driven comparison of its two paths over many more fragments than
# ctest runs.  Bounded: about MINUTES x targets / cores, plus the build.
# Findings are kept in fuzz/artifacts/ (see fuzz/run.sh).
#
#   fuzz/soak.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-5}
start=$(date +%s)
status=0
HERALD_FUZZ_BUILD=build-soak fuzz/run.sh $((minutes * 60)) || status=1

echo "== sanitiser: fast path against the parser, generated fragments"
cmake -S . -B build-soak-unit -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-soak-unit -j2 --target test_sanitize >/dev/null
for seed in 1 2 3 4; do
	log=build-soak-unit/sanitize-$seed.log
	if HERALD_SANITIZE_SEED=$seed HERALD_SANITIZE_ROUNDS=1000000 \
	    build-soak-unit/tests/test_sanitize >"$log" 2>&1; then
		echo "sanitize seed $seed: 1000000 fragments agree"
	else
		status=1; echo "sanitize seed $seed: FAILED"
		grep -A4 ERROR "$log" || true
	fi
done
echo "soak: $(( ($(date +%s) - start) / 60 )) min, $([ $status -eq 0 ] && echo clean || echo FINDINGS)"
exit $status
