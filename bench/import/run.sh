#!/usr/bin/env bash
# Import benchmark: `herald subscribers import` of a generated CSV into an
# on-disk database, against sqlite3's `.import` of the same file into a plain
# table, in the same run.  Medians of several runs; peak RSS from
# /usr/bin/time -v.
#
#   bench/import/run.sh [HERALD_BIN] [ROWS] [RUNS]
# defaults: build/herald, 1000000 rows, 3 runs.  Work files go to
# $BENCH_TMP (default: a fresh directory under /tmp), removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
herald=$(realpath "${1:-$here/../../build/herald}")
rows=${2:-1000000}
runs=${3:-3}
[ -x "$herald" ] || { echo "no herald binary at $herald (build first)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 CLI" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }
work=$(mktemp -d "${BENCH_TMP:-/tmp}/herald-bench-import.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "generating $rows rows..."
/usr/bin/python3 "$here/gen.py" "$rows" > subs.csv
echo "input: $(du -h subs.csv | cut -f1), $(wc -l < subs.csv) lines"
mkdir -p articles
cat > herald.yml <<'YML'
database: herald.db
smtp: { url: "smtp://127.0.0.1:2525", starttls: off }
newsletters:
  - id: daily
    title: Daily
    from: "Daily <news@example.org>"
    bounce_address: bounces@example.org
    schedule: "0 7 * * *"
    sources: [ { folder: articles } ]
YML

# time -v output -> "seconds peak_kb"
measure() {
	local log=$1; shift
	/usr/bin/time -v "$@" > /dev/null 2> "$log" || { tail -5 "$log" >&2; return 1; }
	awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
		for (i = 1; i <= n; i++) s = s * 60 + p[i]; t = s }
		/Maximum resident set size/ { r = $2 }
		END { printf "%.3f %d\n", t, r }' "$log"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: > herald.t; : > sqlite.t
for i in $(seq "$runs"); do
	rm -f herald.db herald.db-wal herald.db-shm plain.db plain.db-wal plain.db-shm
	# sqlite3 .import into a plain table (WAL too, like herald's store)
	sqlite3 plain.db 'PRAGMA journal_mode=WAL;' > /dev/null
	r=$(measure sqlite.log sqlite3 plain.db -cmd '.mode csv' -cmd '.import subs.csv plain')
	echo "$r" >> sqlite.t
	# herald: the schema exists first (store creation is not import work)
	HERALD_CONFIG=herald.yml "$herald" subscribers count > /dev/null
	r2=$(HERALD_CONFIG=herald.yml measure herald.log "$herald" subscribers import subs.csv)
	echo "$r2" >> herald.t
	n=$(sqlite3 herald.db 'SELECT count(*) FROM subscriptions')
	[ "$n" = "$rows" ] || { echo "herald imported $n of $rows rows" >&2; exit 1; }
	echo "run $i: sqlite3 .import ${r% *} s, ${r#* } KB; herald import ${r2% *} s, ${r2#* } KB"
done
st=$(cut -d' ' -f1 sqlite.t | median); sr=$(cut -d' ' -f2 sqlite.t | median)
ht=$(cut -d' ' -f1 herald.t | median); hr=$(cut -d' ' -f2 herald.t | sort -n | tail -1)
echo
echo "rows: $rows, runs: $runs (medians; herald RSS: the largest)"
echo "sqlite3 .import: ${st} s, peak RSS $((sr / 1024)) MB"
echo "herald import:   ${ht} s, peak RSS $((hr / 1024)) MB"
awk -v h="$ht" -v s="$st" 'BEGIN { printf "ratio herald/.import: %.2fx (goal <= 3x)\n", h / s }'
awk -v r="$hr" 'BEGIN { printf "herald peak RSS: %.1f MB (goal < 64 MB)\n", r / 1024 }'
