#!/usr/bin/python3
"""Addresses as configured and as subscribed reach the wire (issue 9).

Item 3: `reply_to: "Editor <editor@example.org>"` passes `config check` and
used to fail every row at send ("Reply-To address ... character not allowed
in local part") and mark the issue done, its articles used up.  Now the
`Name <addr>` form is written as such; and an issue whose messages cannot
be built fails no row: the issue stays unfinished.

Item 7: `subscribers add a@exämple.org` succeeded and every send failed the
row ("character not allowed in domain").  Now the message goes to the IDNA
(punycode) form of the domain, on the envelope and in To:, and herald
shows the Unicode form.
"""
import email.policy
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database, db_connect  # noqa: E402
from herald_test import (  # noqa: E402
    SHARED, TestServer, checks, free_port, herald_in, maildir_messages, workdir)

T = workdir("addr.")
DB = database()      # herald.db, or a PostgreSQL database (cli-pg/)
CFG = os.path.join(T, "herald.yml")
herald = herald_in(CFG)
check = checks()
messages = maildir_messages


def config(port, reply_to):
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
    title: Daily
    from: "Daily News <news@example.org>"
    reply_to: {reply_to}
    bounce_address: bounces@example.org
    schedule: "0 7 * * *"
    sources:
      - folder: articles
""")


def main():
    os.makedirs(os.path.join(T, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(T, "articles", "article.txt"))
    port = free_port()
    config(port, '"Editor <editor@example.org>"')
    p = herald("config", "check")
    check(p.returncode == 0, f"config check accepts the display name: {p.stdout} {p.stderr}")
    for a in ("ann@example.org", "bo@exämple.org", "cy@bücher.example"):
        p = herald("subscribers", "add", a)
        check(p.returncode == 0, f"add {a}: {p.stderr}")
    p = herald("subscribers", "list", "--format", "csv")
    check("bo@exämple.org" in p.stdout, f"list shows the Unicode form: {p.stdout}")

    md = os.path.join(T, "maildir")
    with TestServer(md, "--port", str(port)) as sv:
        p = herald("send")
        log = sv.log()
    check(p.returncode == 0, f"send exits 0: {p.returncode} {p.stdout} {p.stderr}")
    to = sorted(m["to"][0] for m in log)
    check(to == ["ann@example.org", "bo@xn--exmple-cua.org", "cy@xn--bcher-kva.example"],
          f"envelope recipients in IDNA form: {to}")
    msgs = messages(md)
    check(len(msgs) == 3, f"three messages: {len(msgs)}")
    for m in msgs:
        check(str(m["Reply-To"]) == "Editor <editor@example.org>",
              f"Reply-To with its display name: {m['Reply-To']}")
        env_to = m["X-Envelope-To"]
        check(str(m["To"]).endswith(env_to) or env_to in str(m["To"]),
              f"To: names the address mailed: {m['To']} vs {env_to}")
    db = db_connect(DB, T)
    states = db.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()
    check(states == [("sent", 3)], f"all three sent: {states}")

    # An issue whose messages cannot be built fails no row and is not done.
    # (A Reply-To that herald cannot write, bypassing config check's parser:
    # a quoted display name with a control character inside.)
    with open(os.path.join(T, "articles", "second.txt"), "w") as f:
        f.write("Title: A second article\n\nSecond body.\n")
    config(port, '"Editor\\u0001 <editor@example.org>"')
    with TestServer(md, "--port", str(port)) as sv:
        p = herald("send")
        sent = len(sv.log())
    if "not a valid address" in p.stderr or p.returncode == 2 and "config" in p.stderr:
        # config refused it up front: fine as well, nothing was touched
        pass
    rows = db.execute("SELECT i.number, i.state, d.state, count(*) FROM deliveries d"
                      " JOIN issues i ON i.id = d.issue_id GROUP BY 1, 2, 3").fetchall()
    check(all(r[2] != "failed" for r in rows), f"no row failed: {rows} {p.stderr}")
    check(not any(r[0] == 2 and r[1] == "done" for r in rows),
          f"issue 2 not done: {rows} {p.stderr}")
    check(sent == 3, f"nothing more sent: {sent}")
    check(p.returncode in (1, 2), f"send exits 1 or 2: {p.returncode} {p.stderr}")
    return check.finish("test_message_addresses")


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    sys.exit(rc)
