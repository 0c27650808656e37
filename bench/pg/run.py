#!/usr/bin/python3
"""PostgreSQL benchmark (issue 14), two figures, each from one run:

1. CPU-bound: N messages (default 100,000) to Postfix's smtp-sink on
   loopback, one `herald send` on SQLite against one on PostgreSQL (a
   throwaway cluster, tests/pg_server.py, on a Unix socket), same message,
   same connections (CONNS, default 4); peak RSS at N/10 and N on
   PostgreSQL shows memory does not grow with the list.
2. Scale-out: the same sink behind a relay 20 ms away (the margins
   benchmark's bench/relay/delay_proxy.c: each direction held 10 ms), M
   messages (default 6,000) sent by one, two
   and three `herald send` processes of RELAY_CONNS (16) connections each,
   started together on one PostgreSQL database.

    bench/pg/run.py [BUILD_DIR]       (env: N, M, CONNS, RELAY_CONNS)

Needs: postgresql, postfix (smtp-sink), /usr/bin/time, python3.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests"))
from pg_server import PgServer  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build"))
HERALD = os.path.join(BUILD, "herald")
SHARED = os.environ.get("HERALD_SHARED_DIR", os.path.join(SRC, "..", "shared"))
N = int(os.environ.get("N", 100000))
M = int(os.environ.get("M", 6000))
CONNS = int(os.environ.get("CONNS", 4))
RELAY_CONNS = int(os.environ.get("RELAY_CONNS", 16))
W = tempfile.mkdtemp(prefix="herald-bench-pg.", dir="/tmp")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def setup(name, database, port, conns, n):
    d = os.path.join(W, name)
    os.makedirs(os.path.join(d, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(d, "articles"))
    with open(os.path.join(d, "herald.yml"), "w") as f:
        f.write(f"""database: "{database}"
smtp:
  url: smtp://127.0.0.1:{port}
  starttls: off
  connections: {conns}
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
""")
    with open(os.path.join(d, "subs.csv"), "w") as f:
        f.write("email,name,city,plan\n")
        for i in range(n):
            f.write(f"reader{i:07d}@example.org,Reader {i},Oslo,free\n")
    t0 = time.monotonic()
    for args in (["subscribers", "import", "subs.csv"], ["collect"]):
        p = subprocess.run([HERALD, "-q", "-c", "herald.yml"] + args, cwd=d,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"{name}: {args[0]}: {p.stderr}")
    return d, time.monotonic() - t0


def send(d, procs=1):
    """procs herald send processes at once; (seconds, peak RSS MB, outputs)."""
    t0 = time.monotonic()
    ps = [subprocess.Popen(["/usr/bin/time", "-v", "-o", f"time{i}.txt",
                            HERALD, "-c", "herald.yml", "send", "--no-collect"],
                           cwd=d, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
          for i in range(procs)]
    outs = [p.communicate()[0] for p in ps]
    secs = time.monotonic() - t0
    rss = 0
    for i, p in enumerate(ps):
        if p.returncode != 0:
            sys.exit(f"send failed ({p.returncode}): {outs[i]}")
        with open(os.path.join(d, f"time{i}.txt")) as f:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
            rss = max(rss, int(m.group(1)) // 1024)
    return secs, rss, outs


def sent_per_process(outs):
    return [sum(int(x) for x in re.findall(r"(\d+) sent, \d+ deferred, \d+ failed in this pass", o))
            for o in outs]


def relay(pg, sink_port):
    print(f"== 2. relay 20 ms away (delay_proxy 10 ms each way), {M} messages, "
          f"{RELAY_CONNS} connections per sender")
    # the margins benchmark's proxy (bench/relay/delay_proxy.c, issue 13)
    exe = os.path.join(W, "delay_proxy")
    subprocess.run(["cc", "-O2", "-o", exe,
                    os.path.join(SRC, "bench", "relay", "delay_proxy.c")], check=True)
    relay_port = free_port()
    proxy = subprocess.Popen([exe, str(relay_port), str(sink_port), "10"],
                             stdout=subprocess.PIPE, text=True)
    try:
        proxy.stdout.readline()
        rates = {}
        for k in (1, 2, 3):
            d, _ = setup(f"relay{k}", pg.new_database(f"relay{k}"), relay_port,
                         RELAY_CONNS, M)
            secs, rss, outs = send(d, k)
            rates[k] = M / secs
            print(f"{k} sender(s): {secs:.1f} s = {M / secs:.0f} msg/s, peak RSS "
                  f"{rss} MB; rows sent per sender {sent_per_process(outs)}", flush=True)
        print(f"scale-out: 2 senders {rates[2] / rates[1]:.2f}x (goal >= 1.8x), "
              f"3 senders {rates[3] / rates[1]:.2f}x (goal >= 2.6x)")
    finally:
        proxy.terminate()


def main():
    pg = PgServer()
    sink_port = free_port()
    user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-u", user,
                             f"127.0.0.1:{sink_port}", "1000"])
    try:
        time.sleep(0.5)
        if os.environ.get("ONLY2"):
            relay(pg, sink_port)
            return
        print(f"== 1. loopback smtp-sink, {N} messages, {CONNS} connections, one sender")
        res = {}
        for name, db in (("sqlite", "herald.db"), ("pg", pg.new_database("bench1"))):
            d, setup_s = setup(f"one-{name}", db, sink_port, CONNS, N)
            secs, rss, _ = send(d)
            res[name] = (N / secs, rss)
            print(f"{name:6}: setup (import + collect) {setup_s:.1f} s; send "
                  f"{secs:.1f} s = {N / secs:.0f} msg/s, peak RSS {rss} MB", flush=True)
        if os.environ.get("ONLY1"):
            return
        d, _ = setup("small-pg", pg.new_database("bench1s"), sink_port, CONNS, N // 10)
        secs, rss_small, _ = send(d)
        print(f"pg at {N // 10}: {N // 10 / secs:.0f} msg/s, peak RSS {rss_small} MB "
              f"(vs {res['pg'][1]} MB at {N})")
        print(f"PostgreSQL / SQLite: {res['pg'][0] / res['sqlite'][0]:.2f}x (goal >= 0.8x)",
              flush=True)

        relay(pg, sink_port)
    finally:
        sink.terminate()
        pg.stop()
        shutil.rmtree(W, ignore_errors=True)


if __name__ == "__main__":
    main()
