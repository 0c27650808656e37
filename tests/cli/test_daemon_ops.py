#!/usr/bin/python3
"""herald daemon as an operator meets it (issue 12), against the real binary,
the real test SMTP server and a notify socket the test owns:

- one daemon per database: a second one, in the foreground or --detach, is
  refused on the terminal with the holder's pid, exit 3; `status` says a
  daemon runs (pid, since, what it does) and, after it stopped, that none does;
- systemd's protocol (NOTIFY_SOCKET): READY=1, STATUS=, WATCHDOG=1 with
  WATCHDOG_USEC, RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM;
- signals are acted on within a second: SIGHUP right after READY (five
  times), SIGHUP in the middle of a send (the send goes on after the reload,
  each subscriber once), SIGTERM while a feed hangs;
- no issue is assembled for nobody: `send` and `status` say why, and the
  first subscriber gets the articles;
- after downtime the daemon catches up with one issue, not one per slot.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.environ["HERALD_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
from smtp_server import TestServer  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database, db_connect, on_pg  # noqa: E402

HERALD = os.environ["HERALD_BIN"]
os.makedirs(os.environ.get("HERALD_TEST_TMP", "/tmp"), exist_ok=True)
T = tempfile.mkdtemp(dir=os.environ.get("HERALD_TEST_TMP", "/tmp"), prefix="dops.")
CFG = os.path.join(T, "herald.yml")
DATABASE = database()    # herald.db, or PostgreSQL (cli-pg/)
DB = os.path.join(T, "herald.db")
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, flush=True)


def env():
    e = dict(os.environ)
    for k in ("HERALD_CONFIG", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        e.pop(k, None)
    e["RUNTIME_DIRECTORY"] = T    # where a PostgreSQL daemon's lock goes
    return e


def lock_file():
    """The daemon's lock: beside the SQLite file, or on PostgreSQL a file
    named after the URI in $RUNTIME_DIRECTORY."""
    if not on_pg():
        return DB + ".lock"
    found = [f for f in os.listdir(T) if f.startswith("herald-pg-") and f.endswith(".lock")]
    return os.path.join(T, found[0] if found else "herald-pg-none.lock")


def herald(*args, timeout=60):
    return subprocess.run([HERALD, "-c", CFG] + list(args), capture_output=True,
                          text=True, env=env(), timeout=timeout)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def config(port, schedule="0 7 * * *", extra_source=""):
    with open(CFG, "w") as f:
        f.write(f"""database: "{DATABASE}"
smtp:
  url: smtp://127.0.0.1:{port}
  starttls: off
  connections: 1
  rate: 0
  timeout: 10
secret_file: secret
newsletters:
  - id: daily
    title: Ops Daily
    from: "Ops <news@ops.example>"
    schedule: "{schedule}"
    sources:
      - folder: articles
{extra_source}""")


def article(name, title):
    with open(os.path.join(T, "articles", name), "w") as f:
        f.write(f"{title}\n\nSome text about {title}.\n")


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


class Notify:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self):
        self.path = os.path.join(T, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.msgs = []
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            for line in data.decode().split("\n"):
                if line:
                    self.msgs.append((time.monotonic(), line))

    def seen(self, prefix, after=0.0):
        return [m for t, m in self.msgs if m.startswith(prefix) and t >= after]

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


class Daemon:
    def __init__(self, *args, notify=None, watchdog_usec=None):
        e = env()
        if notify:
            e["NOTIFY_SOCKET"] = notify.path
        if watchdog_usec:
            e["WATCHDOG_USEC"] = str(watchdog_usec)
        self.log = os.path.join(T, f"daemon.{time.monotonic_ns()}.log")
        self.f = open(self.log, "w")
        self.p = subprocess.Popen([HERALD, "-c", CFG, "-v", "daemon"] + list(args),
                                  stdout=self.f, stderr=subprocess.STDOUT, env=e)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def count(self, s):
        return self.text().count(s)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.f.close()
        return self.p.returncode


def test_lock_notify_signals(port):
    n = Notify()
    d = Daemon(notify=n, watchdog_usec=400000)
    try:
        check(wait_for(lambda: n.seen("READY=1"), 10), f"READY=1: {n.msgs}")
        # a second daemon, in the foreground and detached: exit 3, pid named
        p = herald("daemon", timeout=20)
        check(p.returncode == 3, f"second daemon exits 3: {p.returncode} {p.stderr}")
        check(f"pid {d.p.pid}" in p.stderr and os.path.basename(lock_file()) in p.stderr,
              f"the refusal names the holder: {p.stderr}")
        p = herald("daemon", "--detach", timeout=20)
        check(p.returncode == 3, f"second --detach exits 3: {p.returncode} {p.stderr}")
        check(f"pid {d.p.pid}" in p.stderr, f"--detach refusal on the terminal: {p.stderr}")
        # status: running, pid, since, doing
        p = herald("status")
        check(re.search(rf"^daemon: running, pid {d.p.pid}, since 20\d\d-.*Z; \S",
                        p.stdout, re.M) is not None, f"status text: {p.stdout}")
        p = herald("status", "--format", "json")
        st = json.loads(p.stdout)
        check(st[0].get("daemon", {}).get("running") and st[0]["daemon"]["pid"] == d.p.pid,
              f"status json: {st}")
        # STATUS= and the watchdog
        check(wait_for(lambda: len(n.seen("WATCHDOG=1")) >= 3, 5),
              f"WATCHDOG=1 pings: {n.msgs}")
        check(n.seen("STATUS="), f"STATUS= sent: {n.msgs}")
        # SIGHUP right after READY, five times: acted on within a second
        for i in range(5):
            before = d.count("configuration reloaded")
            t0 = time.monotonic()
            d.p.send_signal(signal.SIGHUP)
            ok = wait_for(lambda: d.count("configuration reloaded") > before, 1.0)
            check(ok, f"SIGHUP {i} acted on within 1 s ({time.monotonic() - t0:.2f} s)")
            check(wait_for(lambda: n.seen("RELOADING=1", t0), 1.0), f"RELOADING=1 {i}")
            time.sleep(0.05)
        t0 = time.monotonic()
        d.p.send_signal(signal.SIGTERM)
        rc = d.p.wait(5)
        check(rc == 0 and time.monotonic() - t0 < 1.0,
              f"SIGTERM: exit {rc} after {time.monotonic() - t0:.2f} s")
        check(wait_for(lambda: n.seen("STOPPING=1"), 2), f"STOPPING=1: {n.msgs}")
    finally:
        d.stop()
        n.close()
    p = herald("status")
    check(p.stdout.startswith("daemon: not running"), f"status after stop: {p.stdout}")


def test_no_subscriber():
    p = herald("send", "--no-collect")
    p = herald("send")
    check(p.returncode == 0 and "no active subscriber" in (p.stdout + p.stderr),
          f"send with nobody says why: {p.returncode} {p.stdout} {p.stderr}")
    db = db_connect(DATABASE, T)
    check(db.execute("select count(*) from issues").fetchone()[0] == 0,
          "no issue for nobody")
    p = herald("status")
    check("no active subscriber" in p.stdout and "waiting:" in p.stdout,
          f"status says why: {p.stdout}")
    st = json.loads(herald("status", "--format", "json").stdout)
    check(st[0].get("waiting") == "no active subscriber", f"status json waiting: {st}")
    db.close()


def test_hup_during_send(port, md):
    # 30 subscribers, one connection, each reply held 100 ms: ~3 s of sending
    for i in range(30):
        herald("subscribers", "add", f"r{i:02d}@example.org")
    p = herald("send", "--no-collect")   # the issue, unsent (server down)
    check(p.returncode == 3, f"send without a server: {p.returncode} {p.stderr}")
    with TestServer(md, "--port", str(port), "--delay-ms", "100") as sv:
        d = Daemon()
        try:
            check(wait_for(lambda: len(sv.log()) >= 5, 20), "send started")
            t0 = time.monotonic()
            d.p.send_signal(signal.SIGHUP)
            ok = wait_for(lambda: "configuration reloaded" in d.text(), 1.0)
            check(ok, f"SIGHUP during a send: reloaded after {time.monotonic() - t0:.2f} s")
            check(len(sv.log()) < 30, "the reload came before the send ended")
            check(wait_for(lambda: len(sv.log()) >= 30, 30),
                  f"the send went on after the reload: {len(sv.log())} of 30")
            check("interrupted" not in d.text(),
                  "a reload during a send is not logged as an interrupted send")
            time.sleep(0.3)
        finally:
            d.stop()
        to = sorted(m["to"][0] for m in sv.log())
        check(to == [f"r{i:02d}@example.org" for i in range(30)],
              f"each subscriber once: {len(to)} {to[:3]}")


def test_term_during_collect(port):
    # a feed whose server accepts and never answers
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    hport = hang.getsockname()[1]
    config(port, extra_source=f"      - feed: http://127.0.0.1:{hport}/feed.xml\n")
    d = Daemon()
    try:
        check(wait_for(lambda: "collecting" in d.text() or
                       os.path.exists(lock_file()) and "collecting" in open(lock_file()).read(), 10),
              "the daemon is collecting")
        time.sleep(0.3)
        t0 = time.monotonic()
        d.p.send_signal(signal.SIGTERM)
        try:
            rc = d.p.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        el = time.monotonic() - t0
        check(rc == 0 and el < 1.5, f"SIGTERM during a collect: exit {rc} after {el:.2f} s")
    finally:
        d.stop()
        hang.close()
    p = herald("status")
    check("FAILING" not in p.stdout and "interrupted" not in p.stdout,
          f"a stop during a collect is not the feed's failure: {p.stdout}")
    config(port)


def test_catch_up(port, md):
    db = db_connect(DATABASE, T)
    # the last issue went out three days ago; the 07:00 slots since were missed
    db.execute("update issues set created = created - 3 * 86400")
    db.commit()
    n0 = db.execute("select count(*) from issues").fetchone()[0]
    article("late.txt", "Written while herald was down")
    with TestServer(md, "--port", str(port)) as sv:
        d = Daemon()
        try:
            check(wait_for(lambda: db.execute("select count(*) from issues").fetchone()[0] > n0, 15),
                  "a catch-up issue")
            time.sleep(1.5)
            check(db.execute("select count(*) from issues").fetchone()[0] == n0 + 1,
                  "one catch-up issue, not one per missed slot")
            check("catching up with one issue" in d.text(), "the log says why")
        finally:
            d.stop()
    db.close()


def main():
    os.makedirs(os.path.join(T, "articles"))
    article("a.txt", "First article")
    port = free_port()
    config(port)
    test_no_subscriber()
    test_lock_notify_signals(port)
    md = os.path.join(T, "maildir")
    test_hup_during_send(port, md)
    db = db_connect(DATABASE, T)
    n = db.execute("select count(*) from issue_articles").fetchone()[0]
    check(n == 1, f"the waiting article went into the first real issue: {n}")
    db.close()
    test_term_during_collect(port)
    test_catch_up(port, os.path.join(T, "maildir2"))
    print(f"{'FAILED' if failures else 'passed'}: test_daemon_ops ({failures} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    sys.exit(rc)
