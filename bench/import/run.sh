#!/usr/bin/env bash
# Import benchmark: `herald subscribers import` of a generated CSV into an
# on-disk database, against sqlite3's `.import` of the same file into a plain
# table, in the same run, interleaved.  Two baselines:
#   plain: `sqlite3 FILE -cmd '.mode csv' -cmd '.import subs.csv t'` on a
#          fresh file, as a user would type it (the goal's baseline);
#   WAL:   the same into a fresh file switched to WAL first, as herald's
#          store is (about three times slower than plain).
# Medians of several runs; wall clock, CPU (user + system) and peak RSS
# from /usr/bin/time -v.
#
#   bench/import/run.sh [HERALD_BIN] [ROWS] [RUNS] [OLD_HERALD_BIN]
# defaults: build/herald, 1000000 rows, 3 runs.  OLD_HERALD_BIN: another
# build (say, main's before a change) run in turn with the first, so that
# a change is measured against the same machine load.  Work files go to
# $BENCH_TMP (default: a fresh directory under /tmp), removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
herald=$(realpath "${1:-$here/../../build/herald}")
rows=${2:-1000000}
runs=${3:-3}
old=${4:+$(realpath "$4")}
[ -x "$herald" ] || { echo "no herald binary at $herald (build first)" >&2; exit 2; }
[ -z "$old" ] || [ -x "$old" ] || { echo "no herald binary at $old" >&2; exit 2; }
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

# time -v output -> "seconds peak_kb cpu_seconds"
measure() {
	local log=$1; shift
	/usr/bin/time -v "$@" > /dev/null 2> "$log" || { tail -5 "$log" >&2; return 1; }
	awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
		for (i = 1; i <= n; i++) s = s * 60 + p[i]; t = s }
		/Maximum resident set size/ { r = $2 }
		/User time \(seconds\)|System time \(seconds\)/ { c += $2 }
		END { printf "%.3f %d %.2f\n", t, r, c }' "$log"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# herald_run BIN NAME: a fresh NAME.db whose schema BIN made first (store
# creation is not import work), then the timed import -> measure's figures
herald_run() {
	local bin=$1 name=$2 n
	rm -f "$name.db" "$name.db-wal" "$name.db-shm"
	sed "s/^database: .*/database: $name.db/" herald.yml > "$name-run.yml"
	printf 'email\nfirst@example.org\n' > one.csv
	HERALD_CONFIG=$name-run.yml "$bin" subscribers import one.csv > /dev/null
	sqlite3 "$name.db" 'DELETE FROM events; DELETE FROM subscriptions;
	    DELETE FROM subscribers;'
	HERALD_CONFIG=$name-run.yml measure "$name.log" "$bin" subscribers import subs.csv
	n=$(sqlite3 "$name.db" 'SELECT count(*) FROM subscriptions')
	[ "$n" = "$rows" ] || { echo "$bin imported $n of $rows rows" >&2; return 1; }
}

: > herald.t; : > plain.t; : > wal.t; : > ratio.t; : > old.t; : > new-old.t
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
	r2=$(herald_run "$herald" herald)
	echo "$r2" >> herald.t
	if [ -n "$old" ]; then
		r3=$(herald_run "$old" old)
		echo "$r3" >> old.t
		awk -v h="${r2%% *}" -v o="${r3%% *}" 'BEGIN { print h / o }' >> new-old.t
	fi
	f() { echo "$1" | cut -d' ' -f"$2"; }
	echo "run $i: plain .import $(f "$r" 1) s ($(f "$r" 3) CPU s);" \
	    "WAL .import $(f "$rw" 1) s; herald import $(f "$r2" 1) s" \
	    "($(f "$r2" 3) CPU s), $(f "$r2" 2) KB"
	awk -v h="$(f "$r2" 1)" -v s="$(f "$r" 1)" 'BEGIN { print h / s }' >> ratio.t
	[ -z "$old" ] || echo "run $i: old herald import $(f "$r3" 1) s ($(f "$r3" 3) CPU s)"
done
pt=$(cut -d' ' -f1 plain.t | median); pc=$(cut -d' ' -f3 plain.t | median)
wt=$(cut -d' ' -f1 wal.t | median)
ht=$(cut -d' ' -f1 herald.t | median); hr=$(cut -d' ' -f2 herald.t | sort -n | tail -1)
hc=$(cut -d' ' -f3 herald.t | median); pr=$(median < ratio.t)
echo
echo "rows: $rows, runs: $runs (medians; herald RSS: the largest)"
echo "sqlite3 .import, plain file: ${pt} s (${pc} CPU s)"
echo "sqlite3 .import, WAL file:   ${wt} s"
echo "herald import:               ${ht} s (${hc} CPU s), peak RSS $((hr / 1024)) MB"
awk -v h="$ht" -v s="$pt" -v p="$pr" 'BEGIN { printf "ratio herald/plain .import: %.2fx (goal <= 3x; median of the runs'"'"' own ratios %.2fx)\n", h / s, p }'
awk -v h="$hc" -v s="$pc" 'BEGIN { printf "CPU ratio herald/plain:     %.2fx\n", h / s }'
awk -v h="$ht" -v s="$wt" 'BEGIN { printf "ratio herald/WAL .import:   %.2fx\n", h / s }'
if [ -n "$old" ]; then
	ot=$(cut -d' ' -f1 old.t | median); oc=$(cut -d' ' -f3 old.t | median)
	echo "old herald import:           ${ot} s (${oc} CPU s)"
	awk -v r="$(median < new-old.t)" 'BEGIN { printf "herald/old herald, wall:     %.2fx (median of the runs'"'"' own ratios)\n", r }'
fi
awk -v r="$hr" 'BEGIN { printf "herald peak RSS: %.1f MB (goal < 64 MB)\n", r / 1024 }'
