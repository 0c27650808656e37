#!/usr/bin/env bash
# Personalised render benchmark: builds bench_render against the static
# library of a release-ish build and runs it at 10,000 and 100,000
# subscribers (one core: taskset when available).
#
#   bench/render/run.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ -f "$build/libherald_commands.a" ] || { echo "build first: cmake --build $build" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inc=""
for d in lib store config daemon daemon/render; do inc="$inc -I$d"; done
# shellcheck disable=SC2086
cc -std=gnu17 -O2 -D_GNU_SOURCE $inc bench/render/bench_render.c \
	-Wl,--start-group "$build"/libherald_*.a -Wl,--end-group \
	$(pkg-config --libs libcurl yaml-0.1 sqlite3 libpq libxml-2.0 libcmark libmicrohttpd gnutls libidn2 libsystemd) \
	-letpan -lm -o "$out/bench_render"
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
for n in 10000 100000; do
	echo "== $n subscribers"
	$pin "$out/bench_render" "$n"
done
