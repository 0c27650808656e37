#!/usr/bin/env bash
# Personalised render benchmark: bench_render of a release-ish build and runs it at 10,000 and 100,000
# subscribers (one core: taskset when available).
#
#   bench/render/run.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ -f "$build/libherald_commands.a" ] || { echo "build first: cmake --build $build" >&2; exit 2; }
# The driver is a target of the build (bench/CMakeLists.txt).
cmake --build "$build" --target bench_render >/dev/null
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
for n in 10000 100000; do
	echo "== $n subscribers"
	$pin "$build/bench/bench_render" "$n"
done
