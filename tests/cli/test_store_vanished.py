#!/usr/bin/python3
"""The database removed under a running herald (issue 9, item 1; issue 12).

1. Commands that only read (status, subscribers count/list/show/export,
   preview --no-collect) never create a database: a missing one is an error that names
   the path and says how to make one, and no file appears.
2. A daemon (schedule `every 1m`) whose database files are removed while it
   runs must not flood the list: it used to keep reading the deleted file,
   record outcomes into a new empty one by name, find the rows still due and
   send them again, thousands of times.  Now the next pass sees the file is
   gone and stops with an error; the server sees nothing more.
3. A database replaced (renamed over) under the daemon: the same.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import (  # noqa: E402
    HERALD, SHARED, TestServer, checks, free_port, herald_in, sqlite_only,
    wait_for, workdir)
sqlite_only("the database file removed or replaced under a running herald, "
            "and no file made by read-only commands")

T = workdir("vanish.")
CFG = os.path.join(T, "herald.yml")
DB = os.path.join(T, "herald.db")
herald = herald_in(CFG)
check = checks()


def config(port):
    with open(CFG, "w") as f:
        f.write(f"""database: herald.db
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
    schedule: "every 1m"
    sources:
      - folder: articles
""")


def remove_db():
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(DB + suffix)
        except FileNotFoundError:
            pass


def read_only_commands():
    for args in (["status"], ["subscribers", "count"], ["subscribers", "list"],
                 ["subscribers", "show", "a@example.org"],
                 ["subscribers", "export"], ["preview", "--no-collect"]):
        p = herald(*args)
        check(p.returncode != 0, f"{args}: exits non-zero: {p.returncode}")
        check(DB in p.stderr and "no database yet" in p.stderr
              and "subscribers add" in p.stderr,
              f"{args}: names the path and how to make one: {p.stderr!r}")
        check(not os.path.exists(DB), f"{args}: created {DB}")


def daemon_case(port, md, how):
    """Starts a daemon on an issue whose two rows are deferred, removes or
    replaces the database, and counts what the server gets afterwards."""
    remove_db()
    for i in range(2):
        p = herald("subscribers", "add", f"reader{i}@example.org")
        check(p.returncode == 0, f"add: {p.stderr}")
    env = {"HERALD_RETRY_BASE": "6"}
    with TestServer(md, "--port", str(port), "--tempfail-first", ".") as sv:
        p = herald("send", env=env)
        check(p.returncode == 0, f"send: {p.returncode} {p.stderr}")
        check("2 deferred" in p.stdout, f"both deferred: {p.stdout}")
        logpath = os.path.join(T, f"daemon-{how}.log")
        log = open(logpath, "w")
        e = dict(os.environ)
        e.pop("HERALD_CONFIG", None)
        e.update(env)
        d = subprocess.Popen([HERALD, "-c", CFG, "-v", "daemon"], env=e,
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            # the first pass finds nothing due yet and waits for the retry
            check(wait_for(lambda: "next due" in open(logpath).read(), 10),
                  f"{how}: the daemon's first pass ran")
            if how == "removed":
                remove_db()
            else:
                other = os.path.join(T, "other.db")
                shutil.copy(DB, other)
                os.rename(other, DB)
            before = len(sv.log())
            check(wait_for(lambda: "while herald was running" in
                           open(logpath).read(), 20),
                  f"{how}: the daemon says the database was {how}")
            time.sleep(2)
            after = len(sv.log())
            check(after - before <= 2,
                  f"{how}: at most the two rows reach the server, got {after - before}")
            check(d.poll() is None, f"{how}: the daemon keeps running")
        finally:
            if d.poll() is None:
                d.send_signal(signal.SIGTERM)
                try:
                    d.wait(30)
                except subprocess.TimeoutExpired:
                    d.kill()
                    d.wait()
        text = open(logpath).read()
        check(text.count("resuming issue") <= 3,
              f"{how}: no resume loop: {text.count('resuming issue')} resumes")
        if how == "removed":
            check(not os.path.exists(DB), "no database made anew by the sender")
        if check.failures:
            print(text[-3000:])


def main():
    os.makedirs(os.path.join(T, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(T, "articles", "article.txt"))
    port = free_port()
    config(port)
    read_only_commands()
    daemon_case(port, os.path.join(T, "md1"), "removed")
    daemon_case(port, os.path.join(T, "md2"), "replaced")
    return check.finish("test_store_vanished")


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    sys.exit(rc)
