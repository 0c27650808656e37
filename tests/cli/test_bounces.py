#!/usr/bin/python3
"""herald bounces check against a maildir (DESIGN §1 Bounces, §3): an issue
is sent to the test SMTP server, then bounces written from
tests/fixtures/bounces/ (with the real VERP addresses of those deliveries)
land in the bounce maildir.  --dry-run changes nothing; a real run marks
hard bounces bounced, counts soft ones, unsubscribes on a complaint and on
mail to the mailto address, ignores auto-replies, matches a bounce without
VERP by its recipient, changes nothing for an address herald never mailed,
moves what it processed to .Processed and leaves the unknown message."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

SRC = os.environ["HERALD_SOURCE_DIR"]
SHARED = os.environ.get("HERALD_SHARED_DIR", os.path.join(SRC, "..", "shared"))
sys.path.insert(0, os.path.join(SRC, "tests"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database, db_connect  # noqa: E402
from smtp_server import TestServer  # noqa: E402

HERALD = os.environ["HERALD_BIN"]
FIX = os.path.join(SRC, "tests", "fixtures", "bounces")
os.makedirs(os.environ.get("HERALD_TEST_TMP", "/tmp"), exist_ok=True)
T = tempfile.mkdtemp(dir=os.environ.get("HERALD_TEST_TMP", "/tmp"), prefix="bounces.")
DB = database()      # herald.db, or a PostgreSQL database (cli-pg/)
failures = 0

# fixture -> the subscriber it bounces (the address the fixture names)
BOUNCES = {
    "postfix_dsn_user_unknown.eml": "ada@example.org",
    "postfix_dsn_mailbox_full_552.eml": "bob@example.net",
    "qmail_user_unknown.eml": "ivan@example.net",
    "gmail_old_text_disabled.eml": "paula@gmail.com",
    "arf_complaint_yahoo.eml": "wendy@yahoo.com",
    "vacation_auto_submitted.eml": None,
    "personal_reply.eml": None,
    "office365_html_only_access_denied.eml": "oliver@widgets.example",
}
SUBSCRIBERS = ["ada@example.org", "bob@example.net", "ivan@example.net",
               "paula@gmail.com", "wendy@yahoo.com", "oliver@widgets.example",
               "carol@example.com", "unsub@example.org", "ida@ex\u00e4mple.org"]


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def herald(*args, timeout=120):
    e = dict(os.environ)
    e.pop("HERALD_CONFIG", None)
    return subprocess.run([HERALD, "-c", os.path.join(T, "herald.yml")] + list(args),
                          capture_output=True, text=True, env=e, timeout=timeout)


def config(port, mailbox="maildir:bouncebox", extra=""):
    with open(os.path.join(T, "herald.yml"), "w") as f:
        f.write(f"""database: "{DB}"
smtp:
  url: smtp://127.0.0.1:{port}
  starttls: off
  timeout: 10
secret_file: secret
bounces:
  mailbox: {mailbox}
  soft_limit: 2
{extra}
newsletters:
  - id: daily
    title: Rangeinn Daily
    from: "Rangeinn News <news@rangeinn.example>"
    bounce_address: bounces@rangeinn.example
    schedule: "0 7 * * *"
    sources:
      - folder: articles
""")


def db():
    return db_connect(DB, T)


def status(addr):
    with db() as c:
        r = c.execute("select u.status, u.soft_bounces from subscriptions u join subscribers s"
                      " on s.id = u.subscriber_id where s.email_key = ?",
                      (addr.lower(),)).fetchone()
    return r


def deliver(box, name, text):
    os.makedirs(os.path.join(box, "new"), exist_ok=True)
    with open(os.path.join(box, "new", name), "w", encoding="utf-8") as f:
        f.write(text)


def bounce_text(fixture, verp):
    with open(os.path.join(FIX, fixture), encoding="utf-8", newline="") as f:
        text = f.read()
    if verp:
        text = re.sub(r"bounces\+\d+-[0-9a-f]{16}@rangeinn\.example", verp, text)
    return text


def main():
    os.makedirs(os.path.join(T, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(T, "articles", "article.txt"))
    box = os.path.join(T, "bouncebox")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(box, sub))
    md = os.path.join(T, "smtp")
    with TestServer(md) as sv:
        config(sv.port)
        for a in SUBSCRIBERS:
            p = herald("subscribers", "add", a)
            check(p.returncode == 0, f"add {a}: {p.stderr}")
        p = herald("send")
        check(p.returncode == 0, f"send: {p.stdout} {p.stderr}")
        log = sv.log()
    verp = {r["to"][0].lower(): r["from"] for r in log}
    check(len(verp) == len(SUBSCRIBERS), f"one message each: {log}")
    check("ida@xn--exmple-cua.org" in verp, f"IDN sent in its IDNA form: {list(verp)}")
    check(all(re.match(r"bounces\+\d+-[0-9a-f]{16}@rangeinn\.example$", v)
              for v in verp.values()), f"VERP senders: {verp}")

    n = 0
    for fx, who in BOUNCES.items():
        n += 1
        v = verp.get(who) if who and fx != "office365_html_only_access_denied.eml" else None
        deliver(box, f"17000000{n:02d}.M1P1.test", bounce_text(fx, v))
    # an IDN address, named in its IDNA form by a bounce without VERP
    deliver(box, "1700000089.M1P1.test",
            bounce_text("generic_500_mailbox_unavailable.eml", "x")
            .replace("bounces+x", "bounces").replace("uma@example.net", "ida@xn--exmple-cua.org")
            .replace("To: x", "To: bounces@rangeinn.example"))
    # a second copy of the same DSN (delivered twice) counts once
    deliver(box, "1700000090.M1P1.test",
            bounce_text("postfix_dsn_mailbox_full_552.eml", verp["bob@example.net"]))
    # a bounce for an address herald never mailed (and a forged VERP)
    deliver(box, "1700000091.M1P1.test",
            bounce_text("exim_unrouteable.eml", "bounces+999-0123456789abcdef@rangeinn.example"))
    # mail to the List-Unsubscribe mailto address, with the token of the
    # message unsub@ got
    with open(os.path.join(md, "new", [r["file"] for r in log if r["to"][0] == "unsub@example.org"][0]),
              encoding="utf-8", errors="replace") as f:
        m = re.search(r"mailto:bounces@rangeinn\.example\?subject=unsubscribe%20([0-9]+\.[A-Za-z0-9_-]{24})",
                      f.read().replace("=\n", ""))
    check(m is not None, "the message carries a mailto unsubscribe token")
    if m:
        deliver(box, "1700000092.M1P1.test",
                "From: Someone <someone-else@example.org>\nTo: bounces@rangeinn.example\n"
                f"Subject: unsubscribe {m.group(1)}\n\nunsubscribe\n")
    # the sender's own address, no token: carol unsubscribes herself
    deliver(box, "1700000093.M1P1.test",
            "From: Carol <carol@example.com>\nTo: bounces@rangeinn.example\n"
            "Subject: unsubscribe\n\nplease\n")
    before = sorted(os.listdir(os.path.join(box, "new")))

    # --dry-run: says what it would do, changes nothing
    p = herald("bounces", "check", "--dry-run")
    check(p.returncode == 0, f"dry run exit {p.returncode}: {p.stderr}")
    out = p.stdout
    check(re.search(r"1700000001\S*: hard \(user unknown, 5\.1\.1\): daily #1 to ada@example\.org "
                    r"\(by VERP\): would mark bounced", out), f"dry run ada: {out}")
    check("would count a soft bounce" in out, f"dry run soft: {out}")
    check(sorted(os.listdir(os.path.join(box, "new"))) == before, "dry run moved messages")
    p = herald("bounces", "check", "--dry-run", "-v")
    check(re.search(r"\n    read as dsn; from MAILER-DAEMON@mail\.rangeinn\.example; subject "
                    r"\"Undelivered Mail Returned to Sender\"; names ada@example\.org; VERP "
                    r"bounces\+\d+-[0-9a-f]{16}@rangeinn\.example; server said: smtp; 550 5\.1\.1", p.stdout),
          f"-v says how it was read: {p.stdout}")
    check(status("ada@example.org") == ("active", 0), f"dry run changed ada: {status('ada@example.org')}")

    p = herald("bounces", "check")
    out = p.stdout
    check(p.returncode == 0, f"check exit {p.returncode}: {p.stderr} {out}")
    check(status("ada@example.org")[0] == "bounced", f"ada: {status('ada@example.org')} {out}")
    check(status("ivan@example.net")[0] == "bounced", f"ivan (qmail): {status('ivan@example.net')}")
    check(status("paula@gmail.com")[0] == "bounced", f"paula (gmail text): {status('paula@gmail.com')}")
    check(status("oliver@widgets.example")[0] == "bounced",
          f"oliver (no VERP, matched by recipient): {status('oliver@widgets.example')} {out}")
    check(re.search(r"oliver@widgets\.example \(by recipient\)", out), f"by recipient: {out}")
    check(status("bob@example.net") == ("active", 1), f"bob soft once: {status('bob@example.net')} {out}")
    check("already counted" in out, f"repeated DSN: {out}")
    check(status("wendy@yahoo.com")[0] == "unsubscribed", f"wendy complaint: {status('wendy@yahoo.com')}")
    check(status("unsub@example.org")[0] == "unsubscribed", f"mailto token: {status('unsub@example.org')} {out}")
    check(status("carol@example.com")[0] == "unsubscribed", f"mailto sender: {status('carol@example.com')} {out}")
    check(re.search(r"gina@typo-domain\.example recently, nothing changed", out), f"never mailed: {out}")
    check(re.search(r"auto-reply \(auto-reply\): ignored", out), f"auto-reply: {out}")
    check(re.search(r"unknown: from carol@example\.com, \"Re: Rangeinn Daily #12\": not recognised, "
                    r"left in the mailbox", out), f"unknown: {out}")
    left = os.listdir(os.path.join(box, "new"))
    check(len(left) == 1, f"only the unknown message stays: {left}")
    moved = os.listdir(os.path.join(box, ".Processed", "cur"))
    check(len(moved) == len(before) - 1, f"processed moved: {moved}")
    check(os.path.exists(os.path.join(box, ".Processed", "maildirfolder")), "Maildir++ folder")
    check(re.search(r"^13 messages: 6 hard, 2 soft, 1 complaint, 2 unsubscribes, 1 ignored, 1 unknown",
                    out, re.M), f"summary: {out}")

    # the events show in subscribers show
    p = herald("subscribers", "show", "ada@example.org")
    check(re.search(r"bounce.*hard: bounce: user unknown 5\.1\.1", p.stdout), f"show ada: {p.stdout}")
    p = herald("subscribers", "show", "wendy@yahoo.com")
    check(re.search(r"unsubscribe.*complaint", p.stdout), f"show wendy: {p.stdout}")

    # status counts them
    p = herald("status")
    check(re.search(r"bounces: +5 bounced, 1 with soft bounces counting; last 30 days: 5 hard, 1 soft, "
                    r"1 complaint, 2 unsubscribed by mail", p.stdout), f"status: {p.stdout}")
    p = herald("status", "--format", "json")
    try:
        j = json.loads(p.stdout)[0]["bounces"]
        check(j["bounced"] == 5 and j["complaints_30d"] == 1, f"status json: {j}")
    except (ValueError, KeyError, IndexError) as e:
        check(False, f"status json: {e}: {p.stdout}")

    # a second run finds only the unknown message
    p = herald("bounces", "check")
    check(p.returncode == 0 and p.stdout.startswith("maildir new/"), f"second run: {p.stdout}")
    check("1 message: 0 hard" in p.stdout, f"second run summary: {p.stdout}")

    # usage and configuration errors
    p = herald("bounces", "frobnicate")
    check(p.returncode == 2, f"bad subcommand exit {p.returncode}")
    p = herald("bounces")
    check(p.returncode == 2 and "missing subcommand" in p.stderr, f"no subcommand: {p.returncode} {p.stderr}")
    with open(os.path.join(T, "herald.yml")) as f:
        cfg = f.read()
    with open(os.path.join(T, "herald.yml"), "w") as f:
        f.write(re.sub(r"bounces:\n(  .*\n)+", "", cfg))
    p = herald("bounces", "check")
    check(p.returncode == 2 and "no bounces: section" in p.stderr, f"no bounces section: {p.returncode} {p.stderr}")
    config(1, mailbox="maildir:nonexistent")
    p = herald("bounces", "check")
    check(p.returncode == 1 and "not a maildir" in p.stderr, f"missing maildir: {p.returncode} {p.stderr}")
    config(free_port(), mailbox="imap://bounces@127.0.0.1:%d/INBOX" % free_port(),
           extra="  password_env: HERALD_TEST_NO_SUCH_PASSWORD")
    p = herald("bounces", "check")
    check(p.returncode in (1, 2, 3) and "password" in p.stderr, f"no password: {p.returncode} {p.stderr}")

    if failures:
        print(f"{failures} failure(s); files in {T}")
        return 1
    shutil.rmtree(T, ignore_errors=True)
    print("ok")
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


if __name__ == "__main__":
    sys.exit(main())
