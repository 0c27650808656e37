"""What the CLI tests (tests/cli/test_*.py) share, in one place.

Each test runs the real binary ($HERALD_BIN) in a temporary folder of its
own under $HERALD_TEST_TMP, against the real test servers (TestServer from
tests/smtp_server.py).  Typical use:

    from herald_test import (SHARED, TestServer, checks, free_port,
                             herald_in, maildir_messages, workdir)

    T = workdir("late.")
    CFG = os.path.join(T, "herald.yml")
    herald = herald_in(CFG)
    check = checks()
    ...
    check(p.returncode == 0, f"send exits 0: {p.stderr}")
    ...
    return check.finish("test_smtp_late_reply")

The suite runs twice (tests/CMakeLists.txt): cli/NAME on SQLite and
cli-pg/NAME with HERALD_TEST_DATABASE, a PostgreSQL server's URI.  A test
puts database(...) in its herald.yml (a SQLite file name, or a fresh
PostgreSQL database of its own), reads rows with db_connect(...), and
calls sqlite_only("why") when it is about SQLite's files: on PostgreSQL
that prints the reason and exits 77, which ctest reports as skipped
(run_once("why") the same for a test that opens no database or starts
its own PostgreSQL server).
"""
import email
import email.policy
import itertools
import os
import re
import sqlite3
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ["HERALD_SOURCE_DIR"]
HERALD = os.environ["HERALD_BIN"]
SHARED = os.environ.get("HERALD_SHARED_DIR", os.path.join(SRC, "..", "shared"))
TEST_TMP = os.environ.get("HERALD_TEST_TMP", "/tmp")

sys.path.insert(0, os.path.join(SRC, "tests"))
from smtp_server import TestServer  # noqa: E402,F401  (re-exported)


def workdir(prefix):
    """A new temporary folder for one test (the test removes it)."""
    os.makedirs(TEST_TMP, exist_ok=True)
    return tempfile.mkdtemp(dir=TEST_TMP, prefix=prefix)


class checks:
    """check(cond, what) counts and prints each failed check."""

    def __init__(self):
        self.failures = 0

    def __call__(self, cond, what):
        if not cond:
            self.failures += 1
            print("FAIL:", what, flush=True)
        return cond

    def finish(self, name):
        """Prints the verdict line; the exit code for sys.exit."""
        print(f"{'FAILED' if self.failures else 'passed'}: {name} "
              f"({self.failures} failures)")
        return 1 if self.failures else 0


def herald_in(cfg, timeout=60):
    """herald(*args, env=None, timeout=timeout, input=None) with -c cfg,
    without the caller's HERALD_CONFIG; returns the CompletedProcess
    (text)."""
    default_timeout = timeout

    def herald(*args, env=None, timeout=default_timeout, input=None):
        e = dict(os.environ)
        e.pop("HERALD_CONFIG", None)
        e.update(env or {})
        return subprocess.run([HERALD, "-c", cfg] + list(args),
                              capture_output=True, text=True, env=e,
                              timeout=timeout, input=input)
    return herald


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(pred, timeout, step=0.1):
    """Polls pred() until it is true (True) or timeout seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def maildir_messages(md):
    """The messages delivered to maildir md, parsed, in file-name order."""
    out = []
    new = os.path.join(md, "new")
    for name in sorted(os.listdir(new)):
        with open(os.path.join(new, name), "rb") as f:
            out.append(email.message_from_binary_file(
                f, policy=email.policy.default))
    return out


PG = os.environ.get("HERALD_TEST_DATABASE", "")
_pg_names = itertools.count(1)


def on_pg():
    """True in the PostgreSQL run of the suite (cli-pg/NAME)."""
    return PG != ""


def sqlite_only(why):
    """Ends the test, visibly, when it runs on PostgreSQL: it is about
    SQLite itself (its files, its locks); why says how."""
    if on_pg():
        print(f"SKIP on PostgreSQL: {os.path.basename(sys.argv[0])} is "
              f"SQLite only: {why}", flush=True)
        sys.exit(77)


def run_once(why):
    """Ends the cli-pg/ run of a test that needs no second run (it opens no
    database, or starts its own PostgreSQL server), visibly: exit 77."""
    if on_pg():
        print(f"SKIP on PostgreSQL: {os.path.basename(sys.argv[0])} runs "
              f"once, as cli/: {why}", flush=True)
        sys.exit(77)


def database(name="herald"):
    """What herald.yml's `database:` says: NAME.db (relative to the
    config), or on PostgreSQL the URI of a new empty database."""
    if not on_pg():
        return f"{name}.db"
    test = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    db = re.sub(r"[^a-z0-9_]", "_", f"t_{test}_{os.getpid()}_"
                f"{next(_pg_names)}_{name}".lower())[:63]
    p = subprocess.run(["psql", "-X", "-q", "-d", PG, "-c",
                        f"CREATE DATABASE {db}"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise RuntimeError(f"cannot create database {db}: {p.stderr}")
    base, query = PG.split("?", 1)
    return f"{base.rsplit('/', 1)[0]}/{db}?{query}"


class _PgConnection:
    """The part of sqlite3.Connection the tests use, on PostgreSQL
    (psycopg2, autocommit): execute(sql, params) with ? placeholders
    returns a cursor (fetchone, fetchall, iteration)."""

    def __init__(self, uri):
        import psycopg2
        self.c = psycopg2.connect(uri)
        self.c.autocommit = True

    def execute(self, sql, params=()):
        cur = self.c.cursor()
        if params:
            cur.execute(sql.replace("%", "%%").replace("?", "%s"),
                        tuple(params))
        else:
            cur.execute(sql)
        return cur

    def commit(self):
        pass

    def close(self):
        self.c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def db_made(db, folder="."):
    """Whether herald made the database db (relative to folder): the SQLite
    file exists, or the PostgreSQL database has tables."""
    if not db.startswith(("postgresql://", "postgres://")):
        return os.path.exists(os.path.join(folder, db))
    c = _PgConnection(db)
    try:
        return c.execute("SELECT count(*) FROM pg_tables WHERE schemaname = "
                         "'public'").fetchone()[0] > 0
    finally:
        c.close()


def db_connect(db, folder="."):
    """A connection to the database herald.yml names db (a path relative
    to folder, or a PostgreSQL URI): sqlite3's, or one that answers the
    same calls on PostgreSQL."""
    if db.startswith(("postgresql://", "postgres://")):
        return _PgConnection(db)
    return sqlite3.connect(os.path.join(folder, db))
