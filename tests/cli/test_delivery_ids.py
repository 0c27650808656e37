#!/usr/bin/python3
"""A delivery id is never given twice.  The VERP address of every message
carries its delivery's id (bounces+ID-MAC@...), and a bounce can arrive
weeks later: if erasing a subscriber (`subscribers remove`, which deletes
their deliveries) freed the largest id and SQLite handed it to the next
issue's first delivery, that bounce would be charged to a stranger.

Issue 1 goes to ada and bob (bob's delivery has the largest id); bob is
erased; issue 2 goes to ada and cy; then the bounce of bob's issue-1
message (its real VERP address) is read: nobody's subscription changes,
and issue 2's delivery ids are all above every id issue 1 had.  `herald
store copy` carries the floors (the largest ids ever given) across."""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import (SRC, SHARED, TestServer, checks, database,  # noqa: E402
                         db_connect, herald_in, workdir)

T = workdir("delivery_ids.")
CFG = os.path.join(T, "herald.yml")
DB = database()
herald = herald_in(CFG)
check = checks()
FIX = os.path.join(SRC, "tests", "fixtures", "bounces",
                   "postfix_dsn_user_unknown.eml")


def config(port):
    with open(CFG, "w") as f:
        f.write(f"""database: "{DB}"
smtp: {{ url: "smtp://127.0.0.1:{port}", starttls: off, timeout: 10 }}
secret_file: secret
bounces:
  mailbox: maildir:bouncebox
newsletters:
  - id: daily
    title: Rangeinn Daily
    from: "Rangeinn News <news@rangeinn.example>"
    bounce_address: bounces@rangeinn.example
    schedule: "0 7 * * *"
    sources:
      - folder: articles
""")


def article(name, title):
    with open(os.path.join(T, "articles", name), "w") as f:
        f.write(f"{title}\n\nA paragraph about {title.lower()}.\n")


def deliveries():
    with db_connect(DB, T) as c:
        return c.execute("SELECT d.id, i.number, s.email FROM deliveries d "
                         "JOIN issues i ON i.id = d.issue_id JOIN subscribers"
                         " s ON s.id = d.subscriber_id ORDER BY d.id"
                         ).fetchall()


def status(addr):
    with db_connect(DB, T) as c:
        r = c.execute("SELECT u.status FROM subscriptions u JOIN subscribers "
                      "s ON s.id = u.subscriber_id WHERE s.email_key = ?",
                      (addr,)).fetchone()
    return r[0] if r else None


def main():
    os.makedirs(os.path.join(T, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(T, "articles", "article.txt"))
    box = os.path.join(T, "bouncebox")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(box, sub))
    with TestServer(os.path.join(T, "smtp")) as sv:
        config(sv.port)
        for a in ("ada@example.org", "bob@example.org"):
            p = herald("subscribers", "add", a)
            check(p.returncode == 0, f"add {a}: {p.stderr}")
        p = herald("send")
        check(p.returncode == 0, f"send #1: {p.stdout} {p.stderr}")
        verp = {r["to"][0].lower(): r["from"] for r in sv.log()}
        first = deliveries()
        check([r[2] for r in first] == ["ada@example.org", "bob@example.org"],
              f"issue 1 went to ada, then bob: {first}")
        p = herald("subscribers", "remove", "bob@example.org")
        check(p.returncode == 0, f"remove bob: {p.stderr}")
        p = herald("subscribers", "add", "cy@example.org")
        check(p.returncode == 0, f"add cy: {p.stderr}")
        article("second.txt", "Second Article")
        p = herald("send")
        check(p.returncode == 0, f"send #2: {p.stdout} {p.stderr}")
    second = [r for r in deliveries() if r[1] == 2]
    top = max(r[0] for r in first)
    check(len(second) == 2 and all(r[0] > top for r in second),
          f"issue 2's delivery ids are above issue 1's ({top}): {second}")

    bob = verp.get("bob@example.org", "")
    check(re.match(r"bounces\+\d+-[0-9a-f]{16}@rangeinn\.example$", bob),
          f"bob's message had a VERP sender: {verp}")
    with open(FIX, encoding="utf-8", newline="") as f:
        text = re.sub(r"bounces\+\d+-[0-9a-f]{16}@rangeinn\.example", bob,
                      f.read()).replace("ada@example.org", "bob@example.org")
    with open(os.path.join(box, "new", "late-bounce"), "w",
              encoding="utf-8") as f:
        f.write(text)
    p = herald("bounces", "check")
    check(p.returncode == 0, f"bounces check: {p.stdout} {p.stderr}")
    for a in ("ada@example.org", "cy@example.org"):
        check(status(a) == "active",
              f"{a} is still active after a late bounce for erased bob: "
              f"{status(a)} {p.stdout} {p.stderr}")

    # a copy keeps the floors: the copied store never gives bob's ids
    def floors(db):
        with db_connect(db, T) as c:
            return (c.execute("SELECT max(floor) FROM subscriber_ids").fetchone()[0],
                    c.execute("SELECT max(floor) FROM delivery_ids").fetchone()[0])
    p = herald("store", "copy", "--to", os.path.join(T, "copy.db"))
    check(p.returncode == 0, f"store copy: {p.stdout} {p.stderr}")
    src, dst = floors(DB), floors("copy.db")
    check(src[1] is not None and src[1] >= top and dst == src,
          f"the copy has the source's id floors {src} (delivery {top}): {dst}")

    rc = check.finish("test_delivery_ids")
    if rc == 0:
        shutil.rmtree(T, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
