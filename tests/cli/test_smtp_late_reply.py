#!/usr/bin/python3
"""A reply that comes after smtp.timeout must not be taken for the next
message's (issue 9, item 4).

One connection, smtp.timeout 2 s; the server answers message 1's DATA after
3.5 s, with 554 and then (another run) with 250.  Message 1 is deferred
(timeout); message 2 must go over a new connection and get its own reply:
before, the connection was reused and message 2 was failed with message 1's
554 ("DATA failed: 250" with the late 250).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database, db_connect  # noqa: E402
from herald_test import (  # noqa: E402
    SHARED, TestServer, checks, free_port, herald_in, workdir)

T = workdir("late.")
check = checks()


def case(late_reply):
    d = os.path.join(T, late_reply)
    os.makedirs(os.path.join(d, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(d, "articles", "article.txt"))
    port = free_port()
    cfg = os.path.join(d, "herald.yml")
    db_name = database()
    with open(cfg, "w") as f:
        f.write(f"""database: "{db_name}"
smtp:
  url: smtp://127.0.0.1:{port}
  starttls: off
  connections: 1
  rate: 0
  timeout: 2
secret_file: secret
newsletters:
  - id: daily
    title: Daily
    from: "Daily <news@example.org>"
    bounce_address: bounces@example.org
    schedule: "0 7 * * *"
    sources:
      - folder: articles
""")
    herald = herald_in(cfg)
    for who in ("slow", "next", "third"):
        p = herald("subscribers", "add", f"{who}@example.org")
        check(p.returncode == 0, f"add {who}: {p.stderr}")
    md = os.path.join(d, "maildir")
    with TestServer(md, "--port", str(port), "--late",
                    f"^slow@=3500:{late_reply}"):
        p = herald("send")
        log = TestServer(md).log()
    db = db_connect(db_name, d)
    rows = dict(((e, (st, r)) for e, st, r in db.execute(
        "SELECT s.email, d.state, d.last_reply FROM deliveries d"
        " JOIN subscribers s ON s.id = d.subscriber_id")))
    what = f"late {late_reply}: {rows} {p.stdout} {p.stderr}"
    check(rows["slow@example.org"][0] == "deferred", f"message 1 deferred: {what}")
    for who in ("next", "third"):
        st, reply = rows[f"{who}@example.org"]
        check(st == "sent", f"{who} sent with its own reply: {what}")
        qid = [m["queue_id"] for m in log if m["to"] == [f"{who}@example.org"]]
        check(len(qid) == 1 and reply.endswith(qid[0]),
              f"{who}'s reply names its own queue id {qid}: {reply}")
    check(p.returncode == 0, f"exit 0 (one deferred): {p.returncode} {p.stderr}")


def main():
    case("554")
    case("250")
    return check.finish("test_smtp_late_reply")


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    sys.exit(rc)
