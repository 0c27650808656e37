#!/usr/bin/python3
"""herald send / send-test against the real test SMTP server on 127.0.0.1:
message structure and headers (DESIGN §1 Build), 451 -> deferred then
delivered, 550 -> failed with the server's reply, resume, nothing new,
send-test exit codes."""
import email
import email.policy
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database, db_connect  # noqa: E402
from herald_test import (  # noqa: E402
    SHARED, TestServer, checks, free_port, herald_in, workdir)

T = workdir("send.")
DB = database()      # herald.db, or a PostgreSQL database (cli-pg/)
CFG = os.path.join(T, "herald.yml")
herald = herald_in(CFG, timeout=120)
check = checks()


def config(port, extra=""):
    with open(os.path.join(T, "herald.yml"), "w") as f:
        f.write(f"""database: "{DB}"
smtp:
  url: smtp://127.0.0.1:{port}
  starttls: off
  connections: 2
  rate: 0
  timeout: 10
  max_attempts: 3
secret_file: secret
{extra}
newsletters:
  - id: daily
    title: Rangeinn Daily
    from: "Rangeinn News <news@rangeinn.example>"
    reply_to: editor@rangeinn.example
    bounce_address: bounces@rangeinn.example
    schedule: "0 7 * * *"
    sources:
      - folder: articles
""")


def db():
    return db_connect(DB, T)


def main():
    os.makedirs(os.path.join(T, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(T, "articles", "article.txt"))
    with open(os.path.join(SHARED, "examples", "article.txt"), encoding="utf-8") as f:
        title = f.readline().strip()
        paragraphs = [l.strip() for l in f if l.strip()]
    md = os.path.join(T, "maildir")
    rules = ["--tempfail-first", r"^temp@", "--reject", r"^refused@"]
    with TestServer(md, *rules) as sv:
        config(sv.port, "web:\n  listen: 127.0.0.1:8080\n  base_url: https://news.rangeinn.example\n")
        for addr, name in [("ada@example.org", "Ada Lovelace"),
                           ("temp@example.org", "Tem Porary"),
                           ("refused@example.org", None),
                           ("gone@example.org", None)]:
            args = ["subscribers", "add", addr] + (["--name", name] if name else [])
            p = herald(*args)
            check(p.returncode == 0, f"subscribers add {addr}: {p.stderr}")

        # send-test records nothing and prints the server's reply.
        p = herald("send-test", "--to", "me@example.org")
        check(p.returncode == 0, f"send-test exit {p.returncode}: {p.stderr}")
        check(re.search(r"^250 .*queued as Q", p.stdout, re.M), f"send-test reply: {p.stdout!r}")
        p = herald("send-test", "--to", "refused@example.org", "--no-collect")
        check(p.returncode == 1, f"send-test refused: exit {p.returncode}")
        check("550" in p.stderr, f"send-test refused says why: {p.stderr!r}")
        with db() as c:
            check(c.execute("select count(*) from issues").fetchone()[0] == 0,
                  "send-test recorded an issue")

        # An unsubscribed address gets no delivery row.
        herald("subscribers", "unsubscribe", "gone@example.org")
        # First pass: ada sent, temp deferred, refused failed.
        p = herald("send", "--no-collect", env={"HERALD_RETRY_BASE": "0"})
        check(p.returncode == 1, f"send with a refusal exits 1, got {p.returncode}: {p.stdout} {p.stderr}")
        check("1 deferred" in p.stdout and "1 failed" in p.stdout, f"summary: {p.stdout!r}")
        check("next due" in p.stdout, f"summary names next due: {p.stdout!r}")
        with db() as c:
            rows = dict((e, (s, r, a)) for e, s, r, a in c.execute(
                "select s.email, d.state, d.last_reply, d.attempts from deliveries d"
                " join subscribers s on s.id = d.subscriber_id"))
        check(rows["ada@example.org"][0] == "sent", f"ada: {rows['ada@example.org']}")
        check(rows["ada@example.org"][1].startswith("250 2.0.0 Ok: queued as Q"), "sent reply kept")
        check(rows["temp@example.org"][0] == "deferred", f"temp: {rows['temp@example.org']}")
        check(rows["temp@example.org"][1].startswith("451 4.7.1"), "deferred reply kept")
        check(rows["refused@example.org"][0] == "failed", f"refused: {rows['refused@example.org']}")
        check(rows["refused@example.org"][1].startswith("550 5.1.1 <refused@example.org>"),
              f"failed keeps the server's reply: {rows['refused@example.org'][1]!r}")

        check("gone@example.org" not in rows, "unsubscribed address queued")
        # The deferred one is resent on the second pass, in the same issue.
        p = herald("send", "--no-collect", env={"HERALD_RETRY_BASE": "0"})
        check(p.returncode == 0, f"second send: exit {p.returncode}: {p.stderr}")
        check("resuming issue #1" in p.stdout, f"resumes: {p.stdout!r}")
        with db() as c:
            st = dict(c.execute("select s.email, d.state from deliveries d"
                                " join subscribers s on s.id = d.subscriber_id"))
            check(st["temp@example.org"] == "sent", f"temp after retry: {st}")
            check(c.execute("select state from issues").fetchone()[0] == "done", "issue done")
        p = herald("send", "--no-collect")
        check(p.returncode == 0 and "nothing new" in p.stdout, f"nothing new: {p.stdout!r}")

        log = sv.log()
        to = [m["to"][0] for m in log]
        check(to.count("ada@example.org") == 1, f"ada got {to.count('ada@example.org')}")
        check(to.count("temp@example.org") == 1, "temp got one")
        check(to.count("refused@example.org") == 0, "refused got none")
        check(to.count("me@example.org") == 1, "send-test delivered")

        # The message a subscriber got.
        m = next(m for m in log if m["to"] == ["ada@example.org"])
        check(re.fullmatch(r"bounces\+\d+-[0-9a-f]+@rangeinn\.example", m["from"]),
              f"VERP envelope sender: {m['from']}")
        with open(os.path.join(md, "new", m["file"]), "rb") as f:
            raw = f.read()
        raw = raw.split(b"\r\n", 2)[2]           # the X-Envelope lines
        for line in raw.split(b"\r\n"):
            check(len(line) <= 998, "line over 998 octets")
        check(b"\n" not in raw.replace(b"\r\n", b""), "bare LF in message")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        check(msg.get_content_type() == "multipart/alternative", msg.get_content_type())
        parts = list(msg.iter_parts())
        check([p_.get_content_type() for p_ in parts] == ["text/plain", "text/html"],
              "parts: text/plain then text/html")
        for p_ in parts:
            check(p_.get_content_charset() == "utf-8", "charset utf-8")
            check(p_["Content-Transfer-Encoding"] == "quoted-printable", "QP")
        check(title in str(msg["Subject"]), f"subject {msg['Subject']!r} lacks {title!r}")
        check(msg["From"].addresses[0].addr_spec == "news@rangeinn.example", "From")
        check(msg["From"].addresses[0].display_name == "Rangeinn News", "From name")
        check(msg["To"].addresses[0].addr_spec == "ada@example.org", "To")
        check(msg["To"].addresses[0].display_name == "Ada Lovelace", "To name")
        check(msg["Reply-To"] is not None and "editor@rangeinn.example" in msg["Reply-To"], "Reply-To")
        check(msg["Date"] is not None and msg["Date"].datetime is not None, "Date")
        check(re.fullmatch(r"<[^<>@\s]+@rangeinn\.example>", msg["Message-ID"] or ""),
              f"Message-ID on the From domain: {msg['Message-ID']}")
        check(msg["MIME-Version"] == "1.0", "MIME-Version")
        check("<daily.rangeinn.example>" in (msg["List-Id"] or ""), f"List-Id {msg['List-Id']}")
        lu = msg["List-Unsubscribe"] or ""
        check("<mailto:" in lu and "<https://news.rangeinn.example/" in lu, f"List-Unsubscribe {lu}")
        check(msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", "List-Unsubscribe-Post")
        text = parts[0].get_content()
        html = parts[1].get_content()
        words = lambda s: re.sub(r"\s+", " ", s)
        for para in paragraphs[:3]:
            check(words(para)[:60] in words(text), f"text part lacks {para[:40]!r}")
        check(title.split()[0] in html and "millions" in html, "html part has the article")
        with db() as c:
            mid = c.execute("select d.message_id from deliveries d join subscribers s"
                            " on s.id = d.subscriber_id where s.email = 'ada@example.org'").fetchone()[0]
        check(mid == msg["Message-ID"], f"Message-ID kept on the row: {mid}")

    # Unreachable: nobody listens on the port any more.
    config(free_port())
    p = herald("send-test", "--to", "me@example.org", "--issue", "1")
    check(p.returncode == 3, f"send-test unreachable exits 3, got {p.returncode}: {p.stderr}")
    with open(os.path.join(T, "articles", "second.txt"), "w") as f:
        f.write("A second article\nWith a body.\n")
    p = herald("send")
    check(p.returncode == 3, f"send unreachable exits 3, got {p.returncode}: {p.stdout} {p.stderr}")
    with db() as c:
        st = c.execute("select d.state, count(*) from deliveries d join issues i on"
                       " i.id = d.issue_id where i.number = 2 group by d.state").fetchall()
    check(st == [("queued", 3)], f"unreachable leaves rows queued: {st}")

    if check.failures:
        print(f"{check.failures} check(s) failed; files in {T}")
        return 1
    shutil.rmtree(T)
    print("PASS: test_send.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
