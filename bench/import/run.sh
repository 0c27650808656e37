#!/usr/bin/env bash
# Import benchmark: `herald subscribers import` of a generated CSV into an
# on-disk database, against sqlite3's `.import` of the same file into a plain
# table, in the same run, interleaved.  Two baselines:
#   plain: `sqlite3 FILE -cmd '.mode csv' -cmd '.import subs.csv t'` on a
#          fresh file, as a user would type it (the goal's baseline);
#   WAL:   the same into a fresh file switched to WAL first, as herald's
#          store is (about three times slower than plain).
# Medians of several runs; peak RSS from /usr/bin/time -v.
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

: > herald.t; : > plain.t; : > wal.t
for i in $(seq "$runs"); do
	# plain: a fresh file, as a user would type it
	rm -f plain.db plain.db-wal plain.db-shm plain.db-journal
	r=$(measure plain.log sqlite3 plain.db -cmd '.mode csv' -cmd '.import subs.csv t')
	echo "$r" >> plain.t
	# WAL: a fresh file switched to WAL first, like herald's store
	rm -f wal.db wal.db-wal wal.db-shm
	sqlite3 wal.db 'PRAGMA journal_mode=WAL;' > /dev/null
	rw=$(measure wal.log sqlite3 wal.db -cmd '.mode csv' -cmd '.import subs.csv t')
	echo "$rw" >> wal.t
	# herald: the schema exists first (store creation is not import work)
	rm -f herald.db herald.db-wal herald.db-shm
	printf 'email\nfirst@example.org\n' > one.csv
	HERALD_CONFIG=herald.yml "$herald" subscribers import one.csv > /dev/null
	sqlite3 herald.db 'DELETE FROM events; DELETE FROM subscriptions;
	    DELETE FROM subscribers;'
	r2=$(HERALD_CONFIG=herald.yml measure herald.log "$herald" subscribers import subs.csv)
	echo "$r2" >> herald.t
	n=$(sqlite3 herald.db 'SELECT count(*) FROM subscriptions')
	[ "$n" = "$rows" ] || { echo "herald imported $n of $rows rows" >&2; exit 1; }
	echo "run $i: plain .import ${r% *} s; WAL .import ${rw% *} s;" \
	    "herald import ${r2% *} s, ${r2#* } KB"
done
pt=$(cut -d' ' -f1 plain.t | median)
wt=$(cut -d' ' -f1 wal.t | median)
ht=$(cut -d' ' -f1 herald.t | median); hr=$(cut -d' ' -f2 herald.t | sort -n | tail -1)
echo
echo "rows: $rows, runs: $runs (medians; herald RSS: the largest)"
echo "sqlite3 .import, plain file: ${pt} s"
echo "sqlite3 .import, WAL file:   ${wt} s"
echo "herald import:               ${ht} s, peak RSS $((hr / 1024)) MB"
awk -v h="$ht" -v s="$pt" 'BEGIN { printf "ratio herald/plain .import: %.2fx (goal <= 3x)\n", h / s }'
awk -v h="$ht" -v s="$wt" 'BEGIN { printf "ratio herald/WAL .import:   %.2fx\n", h / s }'
awk -v r="$hr" 'BEGIN { printf "herald peak RSS: %.1f MB (goal < 64 MB)\n", r / 1024 }'
