#!/usr/bin/python3
"""PostgreSQL benchmark (issue 14), two figures, each from one run:

1. CPU-bound: N messages (default 100,000) to Postfix's smtp-sink on
   loopback, one `herald send` on SQLite against one on PostgreSQL (a
   throwaway cluster, tests/pg_server.py, on a Unix socket), same message,
   same connections (CONNS, default 4), ROUNDS times interleaved (SQLite,
   PostgreSQL, SQLite, ...); each run also reports the CPU seconds herald
   used and, on PostgreSQL, the server's (every postgres process of the
   cluster), which the machine's load moves far less than the wall clock.
   Peak RSS at N/10 and N on PostgreSQL shows memory does not grow with
   the list.
2. Scale-out: the same sink behind a relay 20 ms away (the margins
   benchmark's bench/relay/delay_proxy.c: each direction held 10 ms), M
   messages (default 6,000) sent by one, two and three `herald send`
   processes of RELAY_CONNS (16) connections each, started together on one
   PostgreSQL database, ROUNDS times interleaved (1, 2, 3, 1, 2, 3, ...);
   the ratios are of the medians.

    bench/pg/run.py [BUILD_DIR [BASE_BUILD_DIR]]
        env: N, M, CONNS, RELAY_CONNS, ROUNDS (3), ONLY1=1, ONLY2=1

With BASE_BUILD_DIR, every PostgreSQL run is also made with that build's
herald, interleaved with the first's (old against new in the same
conditions).  The subscribers are imported once per build into a template
database, which each run clones (CREATE DATABASE ... TEMPLATE).

Needs: postgresql, postfix (smtp-sink), /usr/bin/time, python3.
"""
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests"))
from pg_server import PgServer  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build"))
BASE = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
SHARED = os.environ.get("HERALD_SHARED_DIR", os.path.join(SRC, "..", "shared"))
N = int(os.environ.get("N", 100000))
M = int(os.environ.get("M", 6000))
CONNS = int(os.environ.get("CONNS", 4))
RELAY_CONNS = int(os.environ.get("RELAY_CONNS", 16))
ROUNDS = int(os.environ.get("ROUNDS", 3))
W = tempfile.mkdtemp(prefix="herald-bench-pg.", dir="/tmp")
TICK = os.sysconf("SC_CLK_TCK")
serial = [0]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def config(d, database, port, conns):
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


def setup(herald, name, database, port, conns, n):
    """A folder with herald.yml, n subscribers imported and the article
    collected; (folder, seconds)."""
    d = os.path.join(W, name)
    os.makedirs(os.path.join(d, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(d, "articles"))
    config(d, database, port, conns)
    with open(os.path.join(d, "subs.csv"), "w") as f:
        f.write("email,name,city,plan\n")
        for i in range(n):
            f.write(f"reader{i:07d}@example.org,Reader {i},Oslo,free\n")
    t0 = time.monotonic()
    for args in (["subscribers", "import", "subs.csv"], ["collect"]):
        p = subprocess.run([herald, "-q", "-c", "herald.yml"] + args, cwd=d,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"{name}: {args[0]}: {p.stderr}")
    return d, time.monotonic() - t0


class Template:
    """Subscribers imported once into a PostgreSQL database that each run
    clones, with the folder (secret, articles) copied."""

    def __init__(self, pg, herald, name, port, conns, n):
        self.pg, self.herald, self.port, self.conns = pg, herald, port, conns
        self.name = name
        self.dir, self.setup_s = setup(herald, name, pg.new_database(name),
                                       port, conns, n)

    def clone(self):
        serial[0] += 1
        db = f"{self.name}_{serial[0]}"
        self.pg.psql(f"CREATE DATABASE {db} TEMPLATE {self.name}")
        d = os.path.join(W, db)
        shutil.copytree(self.dir, d, ignore=shutil.ignore_patterns("subs.csv"))
        config(d, f"postgresql://herald@/{db}?host={self.pg.dir}", self.port,
               self.conns)
        return d, db

    def drop(self, db):
        self.pg.psql(f"DROP DATABASE {db}")
        shutil.rmtree(os.path.join(W, db), ignore_errors=True)


def server_cpu(pg):
    """CPU seconds used so far by the cluster: the postmaster, its live
    children, and the children it has reaped (backends that ended)."""
    with open(os.path.join(pg.data, "postmaster.pid")) as f:
        pm = int(f.readline())
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        ppid = int(fields[1])
        if int(pid) == pm:
            total += sum(int(x) for x in fields[11:15])   # utime stime cutime cstime
        elif ppid == pm:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def send(herald, d, procs=1, pg=None):
    """procs herald send processes at once; (seconds, peak RSS MB, herald
    CPU s, server CPU s or None, outputs)."""
    c0 = server_cpu(pg) if pg else None
    t0 = time.monotonic()
    ps = [subprocess.Popen(["/usr/bin/time", "-v", "-o", f"time{i}.txt",
                            herald, "-c", "herald.yml", "send", "--no-collect"],
                           cwd=d, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
          for i in range(procs)]
    outs = [p.communicate()[0] for p in ps]
    secs = time.monotonic() - t0
    rss, cpu = 0, 0.0
    for i, p in enumerate(ps):
        if p.returncode != 0:
            sys.exit(f"send failed ({p.returncode}): {outs[i]}")
        with open(os.path.join(d, f"time{i}.txt")) as f:
            t = f.read()
        rss = max(rss, int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) // 1024)
        cpu += float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1))
        cpu += float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
    scpu = None
    if pg:
        time.sleep(0.3)     # the postmaster reaps the ended backends
        scpu = server_cpu(pg) - c0
    return secs, rss, cpu, scpu, outs


def sent_per_process(outs):
    return [sum(int(x) for x in re.findall(r"(\d+) sent, \d+ deferred, \d+ failed in this pass", o))
            for o in outs]


def med(xs):
    return statistics.median(xs)


def builds():
    b = [("new", os.path.join(BUILD, "herald"))]
    if BASE:
        b.append(("old", os.path.join(BASE, "herald")))
    return b


def one_sender(pg, sink_port):
    print(f"== 1. loopback smtp-sink, {N} messages, {CONNS} connections, one sender, "
          f"{ROUNDS} rounds interleaved", flush=True)
    tmpl = {}
    for tag, herald in builds():
        tmpl[tag] = Template(pg, herald, f"one_{tag}", sink_port, CONNS, N)
        print(f"pg-{tag} setup (import + collect, once): {tmpl[tag].setup_s:.1f} s",
              flush=True)
    rates = {}
    for r in range(ROUNDS):
        d, _ = setup(builds()[0][1], f"sqlite{r}", "herald.db", sink_port, CONNS, N)
        secs, rss, cpu, _, _ = send(builds()[0][1], d)
        rates.setdefault("sqlite", []).append(N / secs)
        print(f"round {r + 1} sqlite : {N / secs:6.0f} msg/s ({secs:.1f} s), herald CPU "
              f"{cpu:.1f} s, peak RSS {rss} MB", flush=True)
        shutil.rmtree(d, ignore_errors=True)
        for tag, herald in builds():
            d, db = tmpl[tag].clone()
            secs, rss, cpu, scpu, _ = send(herald, d, pg=pg)
            rates.setdefault(tag, []).append(N / secs)
            print(f"round {r + 1} pg-{tag} : {N / secs:6.0f} msg/s ({secs:.1f} s), herald CPU "
                  f"{cpu:.1f} s, server CPU {scpu:.1f} s, peak RSS {rss} MB", flush=True)
            tmpl[tag].drop(db)
    for tag, _ in builds():
        ratios = [p / s for p, s in zip(rates[tag], rates["sqlite"])]
        print(f"pg-{tag} / sqlite: median {med(rates[tag]):.0f} / {med(rates['sqlite']):.0f} "
              f"msg/s = {med(rates[tag]) / med(rates['sqlite']):.2f}x; per round "
              f"{', '.join(f'{x:.2f}' for x in ratios)} (goal >= 0.8x)", flush=True)
    if os.environ.get("ONLY1"):
        return
    herald = builds()[0][1]
    d, _ = setup(herald, "small", pg.new_database("small"), sink_port, CONNS, N // 10)
    secs, rss_small, _, _, _ = send(herald, d, pg=pg)
    print(f"pg-new at {N // 10}: {N // 10 / secs:.0f} msg/s, peak RSS {rss_small} MB", flush=True)


def relay(pg, sink_port):
    print(f"== 2. relay 20 ms away (delay_proxy 10 ms each way), {M} messages, "
          f"{RELAY_CONNS} connections per sender, {ROUNDS} rounds interleaved", flush=True)
    # the margins benchmark's proxy (bench/relay/delay_proxy.c, issue 13)
    exe = os.path.join(W, "delay_proxy")
    subprocess.run(["cc", "-O2", "-o", exe,
                    os.path.join(SRC, "bench", "relay", "delay_proxy.c")], check=True)
    relay_port = free_port()
    proxy = subprocess.Popen([exe, str(relay_port), str(sink_port), "10"],
                             stdout=subprocess.PIPE, text=True)
    try:
        proxy.stdout.readline()
        tmpl = {tag: Template(pg, herald, f"relay_{tag}", relay_port, RELAY_CONNS, M)
                for tag, herald in builds()}
        rates = {}
        for r in range(ROUNDS):
            for k in (1, 2, 3):
                for tag, herald in builds():
                    d, db = tmpl[tag].clone()
                    secs, rss, cpu, scpu, outs = send(herald, d, k, pg=pg)
                    rates.setdefault((tag, k), []).append(M / secs)
                    print(f"round {r + 1} {tag} {k} sender(s): {secs:.1f} s = {M / secs:.0f} "
                          f"msg/s, herald CPU {cpu:.1f} s, server CPU {scpu:.1f} s, peak RSS "
                          f"{rss} MB; rows sent per sender {sent_per_process(outs)}", flush=True)
                    tmpl[tag].drop(db)
        for tag, _ in builds():
            one = med(rates[(tag, 1)])
            print(f"{tag}: median {one:.0f} / {med(rates[(tag, 2)]):.0f} / "
                  f"{med(rates[(tag, 3)]):.0f} msg/s; scale-out: 2 senders "
                  f"{med(rates[(tag, 2)]) / one:.2f}x (goal >= 1.8x), 3 senders "
                  f"{med(rates[(tag, 3)]) / one:.2f}x (goal >= 2.6x)", flush=True)
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
        if not os.environ.get("ONLY2"):
            one_sender(pg, sink_port)
        if not os.environ.get("ONLY1"):
            relay(pg, sink_port)
    finally:
        sink.terminate()
        pg.stop()
        shutil.rmtree(W, ignore_errors=True)


if __name__ == "__main__":
    main()
