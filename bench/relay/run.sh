#!/bin/bash
# Relay benchmark (issue 13): herald and smtp-source through a relay 20 ms
# away.  A delaying proxy on loopback (delay_proxy.c: each direction's bytes
# held DELAY_MS = 10 ms, order kept) sits in front of Postfix's smtp-sink;
# for each connection count, smtp-source (-d: one connection for many
# messages; it pipelines) and herald each send N messages of the same size
# through the same proxy, in the same run.  Prints msg/s, the ratio to
# smtp-source, the round-trip bound connections / (4 x RTT), and herald's
# peak RSS.
#
#   bench/relay/run.sh [BUILD_DIR]    (env: N=5000 CONNS="4 16 64" DELAY_MS=10)
#
# Needs: postfix (smtp-sink, smtp-source), cc, /usr/bin/time, python3.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
HERALD=$BUILD/herald
N=${N:-5000}
CONNS=${CONNS:-"4 16 64"}
DELAY_MS=${DELAY_MS:-10}
SHARED=${HERALD_SHARED_DIR:-$SRC/../shared}
W=$(mktemp -d /tmp/herald-bench-relay.XXXXXX)
PIDS=
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

cc -O2 -o "$W/delay_proxy" "$SRC/bench/relay/delay_proxy.c"
SINK=$(free_port)
/usr/sbin/smtp-sink -u "$(id -un)" 127.0.0.1:$SINK 1000 &
PIDS="$PIDS $!"
RELAY=$(free_port)
"$W/delay_proxy" "$RELAY" "$SINK" "$DELAY_MS" >/dev/null &
PIDS="$PIDS $!"
sleep 0.5
RTT=$(python3 -c "print(2 * $DELAY_MS / 1000)")

setup() {	# setup DIR CONNS
	local d=$1 c=$2
	mkdir -p "$d/articles"
	cp "$SHARED/examples/article.txt" "$d/articles/"
	cat > "$d/herald.yml" <<YML
database: herald.db
smtp:
  url: smtp://127.0.0.1:$RELAY
  starttls: off
  connections: $c
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
	python3 - "$d/subs.csv" "$N" <<'PY'
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
sed "s/127.0.0.1:$RELAY/127.0.0.1:$CAP/" "$W/size/herald.yml" > "$W/size/cap.yml"
"$HERALD" -q -c "$W/size/cap.yml" send-test --to reader0000000@example.org >/dev/null
kill $CAP_PID
SIZE=$(( $(stat -c %s "$W"/cap/new/*) - $(head -2 "$W"/cap/new/* | wc -c) ))
echo "relay: RTT $(python3 -c "print(round($RTT * 1000))") ms (delay_proxy, $DELAY_MS ms each way) in front of smtp-sink; message size $SIZE bytes; $N messages per run"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

for c in $CONNS; do
	t0=$(date +%s.%N)
	/usr/sbin/smtp-source -d -s "$c" -m "$N" -l "$SIZE" -f news@bench.example \
	    -t reader@example.org 127.0.0.1:$RELAY
	t1=$(date +%s.%N)
	src=$(python3 -c "print($N / ($t1 - $t0))")
	d="$W/h$c"
	setup "$d" "$c"
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$d/time.txt" "$HERALD" -c "$d/herald.yml" send \
	    --no-collect >"$d/out.txt" 2>&1 || { cat "$d/out.txt"; exit 1; }
	t1=$(date +%s.%N)
	grep -q "$N sent" "$d/out.txt" || { echo "herald did not send all:"; cat "$d/out.txt"; }
	rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$d/time.txt")
	python3 - "$c" "$N" "$t0" "$t1" "$src" "$RTT" "$rss" <<'PY'
import sys
c, n, t0, t1, src, rtt, rss = sys.argv[1:]
c, n, t0, t1, src, rtt, rss = int(c), int(n), float(t0), float(t1), float(src), float(rtt), int(rss)
h = n / (t1 - t0)
bound = c / (4 * rtt)
print(f"connections {c:3d}: smtp-source {src:6.0f} msg/s, herald {h:6.0f} msg/s "
      f"= {h / src:.2f}x smtp-source, {h / bound:.2f}x connections/(4 x RTT) "
      f"({bound:.0f}); herald peak RSS {rss // 1024} MB")
PY
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
