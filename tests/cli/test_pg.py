#!/usr/bin/python3
"""herald on PostgreSQL (issue 14), against a real server started here
(tests/pg_server.py: initdb and pg_ctl on a Unix socket in /tmp; as
`nobody` when the tests run as root).  No PostgreSQL: this test fails,
it never skips.

- the same command sequence (subscribers add/list/show/count/import/
  export/unsubscribe/remove, send, status) runs on SQLite and on
  PostgreSQL and must print the same (times aside);
- a 100,000-row import (tabs, backslashes, line breaks, quotes, duplicates
  within and across batches, bad rows, known addresses) gives the same
  report, messages, export and events on both, PostgreSQL's by COPY in a
  few seconds;
- subscribers list and export stream (a cursor read in pages): peak RSS
  does not grow from 10,000 to 150,000 subscribers;
- three `herald send` processes started together on one issue of 20,000
  share it: every subscriber exactly once, each sender took some;
- SIGKILL of one of two senders mid-send: the survivor takes over the
  dead one's rows when their lease ends; every subscriber gets the issue,
  duplicates stay within what one sender had in flight;
- two daemons (as if on two hosts) whose schedules fire together make one
  issue;
- `herald store copy` moves a SQLite database into PostgreSQL and back
  (subscribers export and issue/delivery counts equal).
"""
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ["HERALD_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from pg_server import PgServer  # noqa: E402
from smtp_server import TestServer  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import run_once  # noqa: E402
run_once("it starts its own PostgreSQL server and runs each step on both backends")

HERALD = os.environ["HERALD_BIN"]
SHARED = os.environ["HERALD_SHARED_DIR"]
TMP = os.environ.get("HERALD_TEST_TMP", "/tmp")
os.makedirs(TMP, exist_ok=True)
T = tempfile.mkdtemp(dir=TMP, prefix="pg.")
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def setup_dir(name, database, port, schedule="0 7 * * *", connections=2):
    d = os.path.join(T, name)
    os.makedirs(os.path.join(d, "articles"), exist_ok=True)
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(d, "articles", "article.txt"))
    with open(os.path.join(d, "herald.yml"), "w") as f:
        f.write(f"""database: "{database}"
smtp:
  url: smtp://127.0.0.1:{port}
  starttls: off
  connections: {connections}
  rate: 0
  timeout: 10
  max_attempts: 3
secret_file: secret
newsletters:
  - id: daily
    title: Rangeinn Daily
    from: "Rangeinn News <news@rangeinn.example>"
    bounce_address: bounces@rangeinn.example
    schedule: "{schedule}"
    sources:
      - folder: articles
""")
    # one secret for all, so messages compare equal across backends
    with open(os.path.join(d, "secret"), "w") as f:
        f.write("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n")
    os.chmod(os.path.join(d, "secret"), 0o600)
    return d


def herald(d, *args, env=None, timeout=300, stdin=None):
    e = dict(os.environ)
    e.pop("HERALD_CONFIG", None)
    e.update(env or {})
    return subprocess.run([HERALD, "-c", os.path.join(d, "herald.yml")] +
                          list(args), capture_output=True, text=True, env=e,
                          timeout=timeout, input=stdin, cwd=d)


def spawn(d, *args, env=None):
    e = dict(os.environ)
    e.pop("HERALD_CONFIG", None)
    e.update(env or {})
    log = open(os.path.join(d, f"{args[0]}-{time.monotonic_ns()}.log"), "w")
    return subprocess.Popen([HERALD, "-c", os.path.join(d, "herald.yml")] +
                            list(args), stdout=log, stderr=subprocess.STDOUT,
                            env=e, cwd=d), log.name


def wait_for(cond, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


TIMES = re.compile(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\dZ)?")


def norm(s, d):
    return TIMES.sub("<t>", s.replace(d, "<dir>"))


def sequence(d):
    """The command sequence both backends must answer alike."""
    with open(os.path.join(d, "import.csv"), "w") as f:
        f.write("email,name,city\nimp1@example.org,Imp One,Oslo\n"
                "IMP2@Example.org,,Bergen\nnot-an-address,,\n"
                "ada@example.org,Ada again,\n")
    steps = [
        ("subscribers", "add", "ada@example.org", "--name", "Ada Lovelace",
         "--attr", "city=London", "--attr", "lang=en"),
        ("subscribers", "add", "Bob@Example.org"),
        ("subscribers", "add", "ada@EXAMPLE.org"),
        ("subscribers", "add", "bad address"),
        ("subscribers", "import", "import.csv"),
        ("subscribers", "list"),
        ("subscribers", "list", "--format", "csv"),
        ("subscribers", "list", "--format", "json"),
        ("subscribers", "list", "--status", "active"),
        ("subscribers", "count"),
        ("subscribers", "show", "ada@example.org"),
        ("subscribers", "unsubscribe", "bob@example.org"),
        ("subscribers", "unsubscribe", "bob@example.org"),
        ("subscribers", "count"),
        ("subscribers", "export"),
        ("subscribers", "export", "--format", "json"),
        ("send",),
        ("send",),
        ("status",),
        ("subscribers", "remove", "imp1@example.org"),
        ("subscribers", "show", "imp1@example.org"),
        ("subscribers", "count"),
        ("config", "check"),
    ]
    out = []
    for s in steps:
        p = herald(d, *s)
        text = norm(p.stdout + "\n--stderr--\n" + p.stderr, d)
        # the database line and the senders PostgreSQL lists differ by nature
        text = re.sub(r"database: .*", "database: <db>", text)
        text = re.sub(r"senders seen.*?\n\n", "", text, flags=re.S)
        text = re.sub(r"senders: none.*?\n\n", "", text, flags=re.S)
        out.append((" ".join(s), p.returncode, text))
    return out


def test_same_answers(pg):
    port = free_port()
    with TestServer(os.path.join(T, "md-same"), "--port", port) as sv:
        sq = setup_dir("same-sqlite", "herald.db", port)
        pd = setup_dir("same-pg", pg.new_database("same"), port)
        a = sequence(sq)
        n_sqlite = len(sv.log())
        b = sequence(pd)
        n_pg = len(sv.log()) - n_sqlite
    check(n_sqlite == n_pg == 3, f"both sent the issue to 3: {n_sqlite}, {n_pg}")
    for (cmd, rc1, t1), (_, rc2, t2) in zip(a, b):
        check(rc1 == rc2, f"{cmd}: exit {rc1} on SQLite, {rc2} on PostgreSQL\n{t2}")
        check(t1 == t2, f"{cmd}: output differs\n--- SQLite\n{t1}\n--- PostgreSQL\n{t2}")


def test_reply_quoting(pg):
    """An outcome's reply goes into PostgreSQL as written: the writer sends a
    commit's outcomes as arrays, so quotes and backslashes must survive."""
    port = free_port()
    d = setup_dir("quote", pg.new_database("quote"), port)
    for a in ("ok1@example.org", "odd@example.org", "ok2@example.org"):
        herald(d, "subscribers", "add", a)
    reply = '554 5.7.1 "no", {thanks} \\ bye'
    with TestServer(os.path.join(T, "md-quote"), "--port", port, "--log-only",
                    "--late", f"odd@=0:{reply}"):
        p = herald(d, "send")
    check(p.returncode == 1, f"one refused: exit 1, got {p.returncode} {p.stderr}")
    got = pg.psql("SELECT last_reply FROM deliveries d JOIN subscribers s "
                  "ON s.id = d.subscriber_id WHERE s.email = 'odd@example.org'",
                  db="quote")
    check(got == reply, f"reply kept as written: {got!r} != {reply!r}")
    sent = pg.psql("SELECT count(*) FROM deliveries WHERE state = 'sent' "
                   "AND last_reply LIKE '250%' AND message_id IS NOT NULL", db="quote")
    check(sent == "2", f"two sent with their replies: {sent}")


def import_n(d, n):
    with open(os.path.join(d, "many.csv"), "w") as f:
        f.write("email\n")
        for i in range(n):
            f.write(f"r{i}@example.org\n")
    p = herald(d, "subscribers", "import", "many.csv")
    check(p.returncode == 0, f"import {n}: {p.stderr}")


def test_import_copy(pg):
    """subscribers import on PostgreSQL loads each batch with COPY (one
    statement per row took 22 s for 100,000): the same report, messages,
    exit code and export as SQLite, in a few seconds; values with tabs,
    backslashes, line breaks and quotes arrive as written."""
    n = 100000
    port = free_port()
    rows = ["email,name,status,city"]
    for i in range(n):
        if i % 1000 == 7:
            rows.append(f'r{i}@example.org,"Tab\there, back\\slash\nline",'
                        f'pending,"Qu""ote \\N"')
        elif i % 1000 == 8:
            rows.append(f"r{i}@example.org,Zoë {i},unsubscribed,Tromsø")
        elif i % 1000 == 9:
            rows.append(f"R{i - 9}@EXAMPLE.org,dup of {i - 9},,")   # duplicate
        elif i % 1000 == 10:
            rows.append(f"bad {i},,,")                             # bad
        else:
            rows.append(f"r{i}@example.org,Name {i},,Oslo")
    rows.append("r11@example.org,dup across batches,,")
    rows.append("pre1@example.org,already,,")
    rows.append("PRE2@example.org,unsubscribed before,,")
    out = {}
    for kind in ("sqlite", "pg"):
        d = setup_dir(f"imp-{kind}", "herald.db" if kind == "sqlite"
                      else pg.new_database("imp"), port)
        with open(os.path.join(d, "big.csv"), "w") as f:
            f.write("\n".join(rows) + "\n")
        herald(d, "subscribers", "add", "pre1@example.org")
        herald(d, "subscribers", "add", "pre2@example.org")
        herald(d, "subscribers", "unsubscribe", "pre2@example.org")
        if kind == "pg":    # count the statements the import sends
            pg.psql("ALTER DATABASE imp SET log_statement = 'all'")
            log_from = os.path.getsize(pg.log)
        start = time.monotonic()
        p = herald(d, "subscribers", "import", "big.csv")
        secs = time.monotonic() - start
        if kind == "pg":
            pg.psql("ALTER DATABASE imp RESET log_statement")
            with open(pg.log, errors="replace") as f:
                f.seek(log_from)
                statements = len(re.findall(r"LOG:  (statement|execute)", f.read()))
            print(f"import {n} rows on pg: {statements} statements", flush=True)
        exp = herald(d, "subscribers", "export").stdout
        js = herald(d, "subscribers", "export", "--format", "json").stdout
        show = herald(d, "subscribers", "show", "r7@example.org").stdout
        cnt = herald(d, "subscribers", "count").stdout
        out[kind] = (p.returncode, norm(p.stdout, d), norm(p.stderr, d),
                     norm(exp, d), norm(js, d), norm(show, d), cnt, secs)
        print(f"import {n} rows on {kind}: {secs:.2f} s", flush=True)
    a, b = out["sqlite"], out["pg"]
    check(a[0] == 1 and a[0] == b[0], f"exit 1 (bad rows) on both: {a[0]} {b[0]}")
    for i, what in ((1, "report"), (2, "messages"), (3, "export"),
                    (4, "JSON export"), (5, "show"), (6, "count")):
        check(a[i] == b[i], f"import: {what} differs\n--- SQLite\n{a[i][:2000]}"
              f"\n--- PostgreSQL\n{b[i][:2000]}")
    print(a[1].strip(), flush=True)
    check("1 already subscribed" in a[1] and "101 duplicates" in a[1]
          and "100 bad" in a[1], f"report: {a[1]}")
    check(json.dumps("Tab\there, back\\slash\nline") in b[4],
          f"the odd name arrives as written: {b[4][:600]}")
    # per row: three statements a row, 8.5-22 s; by COPY a few statements a
    # batch and 2.5-5 s (the time is bounded loosely: the machine is shared)
    check(statements < 100, f"a few statements per batch, not per row: {statements}")
    check(b[7] < 30, f"PostgreSQL import in a few seconds: {b[7]:.1f} s "
          f"(SQLite {a[7]:.1f} s)")


def peak_rss_mb(d, *args):
    """Runs herald in d; its exit code and peak RSS in MB, by GNU time (a
    small parent: a child of this process would count this process's own
    memory as its peak, since exec keeps the high-water mark), with ASan's
    quarantine of freed memory kept small so that it measures what herald
    holds."""
    e = dict(os.environ)
    e.pop("HERALD_CONFIG", None)
    e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1"
    out = os.path.join(d, "time.out")
    p = subprocess.run(["/usr/bin/time", "-o", out, "-f", "%M", HERALD, "-c",
                        os.path.join(d, "herald.yml")] + list(args),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=e, cwd=d)
    with open(out) as f:
        kb = int(f.read().split()[-1])
    return p.returncode, kb / 1024


def test_list_streams(pg):
    """subscribers list and export read PostgreSQL through a cursor, a page
    at a time: peak RSS is the same at 10,000 and 150,000 subscribers (a
    whole result in memory: 16 MB at 10,000, 86 MB at 200,000)."""
    port = free_port()
    d = setup_dir("stream", pg.new_database("stream"), port)
    cmds = (("list",), ("list", "--format", "json"), ("export",),
            ("export", "--format", "json"))
    done, rss = 0, {}
    for n in (10000, 150000):
        with open(os.path.join(d, "s.csv"), "w") as f:
            f.write("email,name,city,lang\n")
            for i in range(done, n):
                f.write(f"s{i}@example.org,Some Name {i},Oslo,nb\n")
        p = herald(d, "subscribers", "import", "s.csv")
        check(p.returncode == 0, f"import to {n}: {p.stderr}")
        done = n
        for c in cmds:
            rc, rss[n, c] = peak_rss_mb(d, "subscribers", *c)
            check(rc == 0, f"{' '.join(c)} at {n}: exit {rc}")
    for c in cmds:
        a, b = rss[10000, c], rss[150000, c]
        print(f"{' '.join(c)}: peak RSS {a:.1f} MB at 10,000, {b:.1f} MB at "
              "150,000", flush=True)
        check(b - a < 4, f"{' '.join(c)} streams: {a:.1f} MB at 10,000 but "
              f"{b:.1f} MB at 150,000")


def test_three_senders(pg):
    n = 20000
    port = free_port()
    d = setup_dir("three", pg.new_database("three"), port, connections=4)
    import_n(d, n)
    # a sender last seen long ago: the next pass removes it (claims count
    # the live senders, so the table must not grow with every send)
    pg.psql("INSERT INTO senders (host, pid, started, heartbeat)"
            " VALUES ('gone', 1, 1000, 1000)", db="three")
    with TestServer(os.path.join(T, "md-three"), "--port", port, "--log-only") as sv:
        procs = [spawn(d, "send") for _ in range(3)]
        rcs = [p.wait(600) for p, _ in procs]
        logs = [open(name).read() for _, name in procs]
        to = collections.Counter(m["to"][0] for m in sv.log())
    check(rcs == [0, 0, 0], f"three senders exit 0: {rcs}\n" + "\n".join(logs))
    check(len(to) == n and max(to.values()) == 1,
          f"every subscriber exactly once: {len(to)} addresses, "
          f"{sum(to.values())} messages")
    created = sum("created for" in t for t in logs)
    check(created == 1, f"one sender created the issue, others resumed: {logs}")
    sent = [int(m.group(1)) for t in logs
            for m in re.finditer(r"(\d+) sent, \d+ deferred", t) if "in this pass" in t]
    check(sum(sent) == n, f"the passes' sent add up: {sent}")
    active = [t for t in logs if re.search(r"[1-9]\d* sent, \d+ deferred, \d+ failed in this pass", t)]
    check(len(active) == 3, f"all three senders sent some: {sent}")
    p = herald(d, "status", "--format", "json")
    st = json.loads(p.stdout) if p.returncode == 0 else [{}]
    senders = st[0].get("senders", [])
    check(len(senders) >= 3 and sum(s["claimed"] for s in senders) >= n,
          f"status lists the senders and their claims: {senders}")
    gone = pg.psql("SELECT count(*) FROM senders WHERE host = 'gone'", db="three")
    check(gone == "0", f"a sender not seen for a day is removed: {gone} left")
    # A delivery's claim and outcome are HOT updates (migration 5): no
    # index entry per update.  Before, 0 of 40,000 were; the senders have
    # exited, so the server has their counts (pg_stat_force_next_flush()
    # is for the calling session only).
    upd, hot = 0, 0
    for _ in range(50):
        out = pg.psql("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
                      " WHERE relname = 'deliveries'", db="three")
        upd, hot = (int(x) for x in out.split("|"))
        if upd >= 2 * n:
            break
        time.sleep(0.1)
    check(upd >= 2 * n and hot >= 0.9 * upd,
          f"claims and outcomes are HOT updates: {hot} of {upd}")


def test_sigkill(pg):
    n = 3000
    port = free_port()
    d = setup_dir("kill", pg.new_database("kill"), port, connections=4)
    import_n(d, n)
    env = {"HERALD_LEASE": "4"}
    # 10 ms per message: the send lasts long enough to kill one sender in it
    with TestServer(os.path.join(T, "md-kill"), "--port", port, "--log-only",
                    "--delay-ms", "10") as sv:
        a, alog = spawn(d, "send", env=env)
        check(wait_for(lambda: len(sv.log()) > 0, 60), "the first sender started")
        b, blog = spawn(d, "send", env=env)
        check(wait_for(lambda: len(sv.log()) > n // 3, 120), "a third is out")
        a.kill()
        a.wait()
        rc = b.wait(600)
        to = collections.Counter(m["to"][0] for m in sv.log())
    check(rc == 0, f"the survivor exits 0: {rc}\n{open(blog).read()}")
    check(len(to) == n, f"every subscriber got the issue: {len(to)} of {n}")
    dups = sum(v - 1 for v in to.values())
    # one sender's in flight: its connections and the outcomes not yet
    # committed (the writer's batch), far under one claim of 256 rows
    check(dups <= 256, f"duplicates within one sender's in-flight: {dups}")
    out = pg.psql("SELECT count(*) FROM deliveries WHERE state <> 'sent'",
                  db="kill")
    check(out == "0", f"every row sent: {out} not sent")
    print(f"sigkill: {dups} duplicates", flush=True)


def test_lease_renewed(pg):
    """A sender slower than its lease keeps its rows: the lease is renewed
    as outcomes are committed, so a second sender takes none of them and
    nobody gets the issue twice."""
    n = 300
    port = free_port()
    d = setup_dir("renew", pg.new_database("renew"), port, connections=2)
    import_n(d, n)
    env = {"HERALD_LEASE": "2"}
    # 30 ms a message on 2 connections: 256 claimed rows take ~4 s > 2 s
    with TestServer(os.path.join(T, "md-renew"), "--port", port, "--log-only",
                    "--delay-ms", "30") as sv:
        a, alog = spawn(d, "send", env=env)
        check(wait_for(lambda: len(sv.log()) > 0, 60), "the first sender started")
        b, blog = spawn(d, "send", env=env)
        ra, rb = a.wait(300), b.wait(300)
        to = collections.Counter(m["to"][0] for m in sv.log())
    check(ra == 0 and rb == 0, f"both exit 0: {ra} {rb}\n{open(alog).read()}\n{open(blog).read()}")
    dups = sum(v - 1 for v in to.values())
    check(len(to) == n and dups == 0,
          f"every subscriber once with a renewed lease: {len(to)} of {n}, {dups} twice")


def test_two_daemons(pg):
    port = free_port()
    uri = pg.new_database("sched")
    d = setup_dir("sched", uri, port, schedule="every 1h")
    for i in range(20):
        p = herald(d, "subscribers", "add", f"s{i}@example.org")
        check(p.returncode == 0, p.stderr)
    with TestServer(os.path.join(T, "md-sched"), "--port", port, "--log-only") as sv:
        p = herald(d, "send")
        check(p.returncode == 0, f"issue 1: {p.stderr}")
        # Issue 1 was two hours ago and a new article waits: a slot of
        # "every 1h" was missed, and both daemons catch up at start.
        pg.psql(f"UPDATE issues SET created = created - 7200", db="sched")
        shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                    os.path.join(d, "articles", "article2.txt"))
        # two hosts: each daemon's lock lives in its own runtime directory
        ds = []
        for h in ("a", "b"):
            run = os.path.join(T, f"run-{h}")
            os.makedirs(run, exist_ok=True)
            ds.append(spawn(d, "-v", "daemon", env={"RUNTIME_DIRECTORY": run}))
        try:
            lock_a = lambda: [f for f in os.listdir(os.path.join(T, "run-a"))]  # noqa: E731
            check(wait_for(lambda: any("pid" in open(os.path.join(T, "run-a", f)).read()
                                       for f in lock_a()), 20), "daemon a holds its lock")
            # a third on host a is refused: one daemon per database per host
            p = herald(d, "daemon", env={"RUNTIME_DIRECTORY": os.path.join(T, "run-a")},
                       timeout=30)
            check(p.returncode == 3, f"second daemon on one host exits 3: {p.returncode} {p.stderr}")
            ok = wait_for(lambda: len(sv.log()) >= 40, 60)
            time.sleep(2)
        finally:
            for p, _ in ds:
                p.send_signal(signal.SIGTERM)
            for p, _ in ds:
                p.wait(60)
        to = collections.Counter(m["to"][0] for m in sv.log())
    logs = "\n".join(open(n).read() for _, n in ds)
    check(ok and len(to) == 20 and set(to.values()) == {2},
          f"each subscriber got issues 1 and 2 once: {len(to)} addresses, "
          f"{sum(to.values())} messages\n{logs}")
    issues = pg.psql("SELECT count(*) FROM issues", db="sched")
    check(issues == "2", f"one issue for the missed slot: {int(issues) - 1}\n{logs}")
    check(logs.count("catching up") >= 1, f"a daemon caught up:\n{logs}")


def test_copy(pg):
    port = free_port()
    with TestServer(os.path.join(T, "md-copy"), "--port", port, "--log-only"):
        d = setup_dir("copy", "herald.db", port)
        for i in range(50):
            herald(d, "subscribers", "add", f"c{i}@example.org", "--attr", f"n={i}")
        herald(d, "subscribers", "unsubscribe", "c7@example.org")
        p = herald(d, "send")
        check(p.returncode == 0, f"send before copy: {p.stderr}")
    uri = pg.new_database("copied")
    p = herald(d, "store", "copy", "--to", uri)
    check(p.returncode == 0, f"store copy to PostgreSQL: {p.returncode} {p.stderr}")
    exp = herald(d, "subscribers", "export").stdout
    st = herald(d, "status", "--format", "json").stdout
    d2 = setup_dir("copy-pg", uri, port)
    exp2 = herald(d2, "subscribers", "export").stdout
    check(exp == exp2 and exp.count("\n") == 51, f"export equal after copy:\n{exp}\n{exp2}")
    st2 = herald(d2, "status", "--format", "json").stdout
    q = lambda s: [(n.get("last_issue"), n.get("deliveries")) for n in json.loads(s)]  # noqa: E731
    check(st and st2 and q(st) == q(st2), f"issue and deliveries equal: {st} {st2}")
    # and back, into a new SQLite file
    back = os.path.join(d, "back.db")
    p = herald(d2, "store", "copy", "--to", back)
    check(p.returncode == 0, f"store copy back to SQLite: {p.stderr}")
    d3 = setup_dir("copy-back", back, port)
    check(herald(d3, "subscribers", "export").stdout == exp, "export equal after the way back")


def main():
    pg = PgServer()
    try:
        only = os.environ.get("HERALD_PG_ONLY")
        for t in (test_same_answers, test_import_copy, test_list_streams,
                  test_reply_quoting, test_copy,
                  test_lease_renewed, test_two_daemons,
                  test_three_senders, test_sigkill):
            if only and t.__name__ != only:
                continue
            start = time.monotonic()
            t(pg)
            print(f"{t.__name__}: {time.monotonic() - start:.1f} s", flush=True)
    finally:
        pg.stop()
    if failures:
        print(f"{failures} failure(s); files in {T}")
        sys.exit(1)
    shutil.rmtree(T, ignore_errors=True)
    print("PASS: test_pg")


if __name__ == "__main__":
    main()
