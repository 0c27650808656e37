#!/bin/bash
# Send benchmark: N personalised messages (default 100,000) from herald to
# Postfix's smtp-sink on loopback, against smtp-source sending messages of
# the same size over the same number of connections in the same run.  Also
# a run at N/10 subscribers to show peak RSS does not grow with the list.
#
#   bench/send/run.sh [BUILD_DIR]      (env: N=100000 CONNS=4)
#
# Needs: postfix (smtp-sink, smtp-source), /usr/bin/time, python3.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
HERALD=$BUILD/herald
N=${N:-100000}
CONNS=${CONNS:-4}
SHARED=${HERALD_SHARED_DIR:-$SRC/../shared}
W=$(mktemp -d /tmp/herald-bench-send.XXXXXX)
SINK_PID=
cleanup() { [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

PORT=$(free_port)
/usr/sbin/smtp-sink -u "$(id -un)" 127.0.0.1:$PORT 1000 &
SINK_PID=$!
sleep 0.5

setup() {	# setup DIR COUNT
	local d=$1 n=$2
	mkdir -p "$d/articles"
	cp "$SHARED/examples/article.txt" "$d/articles/"
	cat > "$d/herald.yml" <<YML
database: herald.db
smtp:
  url: smtp://127.0.0.1:$PORT
  starttls: off
  connections: $CONNS
  rate: 0
  timeout: 30
secret_file: secret
newsletters:
  - id: bench
    title: Bench Daily
    from: "Bench News <news@bench.example>"
    bounce_address: bounces@bench.example
    schedule: "0 7 * * *"
    sources:
      - folder: articles
YML
	python3 - "$d/subs.csv" "$n" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("email,name,city,plan\n")
    for i in range(int(sys.argv[2])):
        f.write(f"reader{i:07d}@example.org,Reader {i},Oslo,free\n")
PY
	"$HERALD" -q -c "$d/herald.yml" subscribers import "$d/subs.csv" >/dev/null
	"$HERALD" -q -c "$d/herald.yml" collect >/dev/null
}

# The size of one message, from a send-test to a capturing server.
setup "$W/size" 1
CAP=$(free_port)
python3 "$SRC/tests/smtp_server.py" --port "$CAP" --maildir "$W/cap" >/dev/null &
CAP_PID=$!
sleep 1
sed "s/127.0.0.1:$PORT/127.0.0.1:$CAP/" "$W/size/herald.yml" > "$W/size/cap.yml"
"$HERALD" -q -c "$W/size/cap.yml" send-test --to reader0000000@example.org >/dev/null
kill $CAP_PID
SIZE=$(( $(stat -c %s "$W"/cap/new/*) - $(head -2 "$W"/cap/new/* | wc -c) ))
echo "message size: $SIZE bytes, connections: $CONNS, messages: $N"

# smtp-source: the same count, size and connections.
t0=$(date +%s.%N)
/usr/sbin/smtp-source -d -s "$CONNS" -m "$N" -l "$SIZE" -f news@bench.example \
    -t reader@example.org 127.0.0.1:$PORT
t1=$(date +%s.%N)
SRC_RATE=$(python3 -c "print(round($N / ($t1 - $t0)))")
echo "smtp-source: $N messages in $(python3 -c "print(round($t1 - $t0, 2))") s = $SRC_RATE msg/s"

run_herald() {	# run_herald DIR COUNT -> prints rate and RSS
	local d=$1 n=$2
	setup "$d" "$n"
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$d/time.txt" "$HERALD" -c "$d/herald.yml" send \
	    --no-collect >"$d/out.txt" 2>&1 || { cat "$d/out.txt"; exit 1; }
	t1=$(date +%s.%N)
	local rss rate
	rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$d/time.txt")
	rate=$(python3 -c "print(round($n / ($t1 - $t0)))")
	grep -E "sent" "$d/out.txt" | head -2
	echo "herald ($n subscribers): $(python3 -c "print(round($t1 - $t0, 2))") s = $rate msg/s, peak RSS $((rss / 1024)) MB"
	eval "RATE_$n=$rate RSS_$n=$rss"
}

SMALL=$((N / 10))
for n in $SMALL $N; do
	mkdir -p "$W/h$n"
	run_herald "$W/h$n" "$n" || true
done
eval "R=\$RATE_$N"
echo "ratio herald/smtp-source: $(python3 -c "print(round($R / $SRC_RATE, 2))")"
