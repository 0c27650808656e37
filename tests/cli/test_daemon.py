#!/usr/bin/python3
"""herald daemon against the real test SMTP server on 127.0.0.1:

- an issue whose send could not reach the server is resumed by the daemon
  as soon as it starts (every subscriber gets it once);
- the pidfile holds the pid and keeps a second daemon out;
- SIGHUP with a broken config keeps the running one; with a valid one it
  reloads;
- SIGTERM stops it cleanly (exit 0, pidfile removed);
- `herald status --format json` shows the finished issue.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database, db_connect  # noqa: E402
from herald_test import (  # noqa: E402
    HERALD, SHARED, TestServer, checks, free_port, herald_in, wait_for, workdir)

T = workdir("daemon.")
DB = database()      # herald.db, or a PostgreSQL database (cli-pg/)
CFG = os.path.join(T, "herald.yml")
herald = herald_in(CFG)
check = checks()


def config(port, schedule="0 7 * * *"):
    with open(CFG, "w") as f:
        f.write(f"""database: "{DB}"
smtp:
  url: smtp://127.0.0.1:{port}
  starttls: off
  connections: 2
  rate: 0
  timeout: 10
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


def main():
    os.makedirs(os.path.join(T, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(T, "articles", "article.txt"))
    port = free_port()
    config(port)
    for i in range(5):
        p = herald("subscribers", "add", f"reader{i}@example.org")
        check(p.returncode == 0, f"add: {p.stderr}")
    # Nobody listens yet: the issue is assembled but nothing is sent.
    p = herald("send")
    check(p.returncode == 3, f"send without a server exits 3: {p.returncode} {p.stderr}")
    db = db_connect(DB, T)
    check(db.execute("select count(*) from deliveries where state='queued'").fetchone()[0] == 5,
          "five queued deliveries")

    md = os.path.join(T, "maildir")
    pidfile = os.path.join(T, "herald.pid")
    with TestServer(md, "--port", str(port)) as sv:
        log = open(os.path.join(T, "daemon.log"), "w")
        d = subprocess.Popen([HERALD, "-c", CFG, "-v", "daemon", "--pidfile", pidfile],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            check(wait_for(lambda: len(sv.log()) == 5, 30),
                  f"daemon resumed the issue: {len(sv.log())} of 5 delivered")
            check(wait_for(lambda: os.path.exists(pidfile), 5), "pidfile written")
            with open(pidfile) as f:
                check(f.read().strip() == str(d.pid), "pidfile holds the pid")
            # A second daemon on the same pidfile is refused.
            p = herald("daemon", "--pidfile", pidfile, timeout=20)
            check(p.returncode != 0 and "another herald daemon" in p.stderr,
                  f"second daemon refused: {p.returncode} {p.stderr}")
            # SIGHUP with a broken config: keeps running on the old one.
            with open(CFG) as f:
                good = f.read()
            with open(CFG, "w") as f:
                f.write(good.replace("schedule:", "schedul:"))
            d.send_signal(signal.SIGHUP)
            check(wait_for(lambda: "keeping the running" in open(log.name).read(), 10),
                  "a broken config on SIGHUP is refused")
            check(d.poll() is None, "daemon still running after a bad reload")
            with open(CFG, "w") as f:
                f.write(good)
            d.send_signal(signal.SIGHUP)
            check(wait_for(lambda: "configuration reloaded" in open(log.name).read(), 10),
                  "a valid config on SIGHUP is loaded")
            d.send_signal(signal.SIGTERM)
            rc = d.wait(30)
            check(rc == 0, f"daemon exits 0 on SIGTERM, got {rc}")
            check(not os.path.exists(pidfile), "pidfile removed")
        finally:
            if d.poll() is None:
                d.kill()
                d.wait()
        to = [m["to"][0] for m in sv.log()]
        check(sorted(to) == [f"reader{i}@example.org" for i in range(5)],
              f"each subscriber exactly once: {sorted(to)}")
    p = herald("status", "--format", "json")
    check(p.returncode == 0, f"status: {p.stderr}")
    st = json.loads(p.stdout)
    check(st[0]["last_issue"]["state"] == "done", f"issue done: {st}")
    check(st[0]["last_issue"]["deliveries"]["sent"] == 5, f"5 sent: {st}")
    if check.failures:
        print(open(os.path.join(T, "daemon.log")).read())
    return check.finish("test_daemon")


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    sys.exit(rc)
