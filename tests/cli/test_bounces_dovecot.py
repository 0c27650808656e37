#!/usr/bin/python3
"""herald bounces check against a real Dovecot on 127.0.0.1 (DESIGN §1
Bounces), over IMAP then POP3: an issue is sent to the test SMTP server,
bounces with the real VERP addresses are put in the Dovecot user's INBOX,
and herald reads them through libetpan.  IMAP: processed messages move to
the Processed folder, the unknown one stays in INBOX unread (no \\Seen);
--dry-run moves nothing.  POP3: processed messages are deleted, the
unknown one stays.  A wrong password is refused (exit 1), a closed port is
temporary (exit 3)."""
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
from dovecot_server import DovecotServer  # noqa: E402

HERALD = os.environ["HERALD_BIN"]
FIX = os.path.join(SRC, "tests", "fixtures", "bounces")
os.makedirs(os.environ.get("HERALD_TEST_TMP", "/tmp"), exist_ok=True)
T = tempfile.mkdtemp(dir=os.environ.get("HERALD_TEST_TMP", "/tmp"), prefix="bounces-dovecot.")
DB = database()      # herald.db, or a PostgreSQL database (cli-pg/)
USER = "bounces@rangeinn.example"
PASSWORD = "s3cret pass"
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def herald(*args, timeout=120, env=None):
    e = dict(os.environ)
    e.pop("HERALD_CONFIG", None)
    e.pop("SSL_CERT_FILE", None)
    e.update(env or {})
    e["HERALD_TEST_MAILBOX_PASSWORD"] = PASSWORD
    e["HERALD_TEST_WRONG_PASSWORD"] = "nope"
    return subprocess.run([HERALD, "-c", os.path.join(T, "herald.yml")] + list(args),
                          capture_output=True, text=True, env=e, timeout=timeout)


def config(port, mailbox, pwenv="HERALD_TEST_MAILBOX_PASSWORD"):
    with open(os.path.join(T, "herald.yml"), "w") as f:
        f.write(f"""database: "{DB}"
smtp:
  url: smtp://127.0.0.1:{port}
  starttls: off
  timeout: 10
secret_file: secret
bounces:
  mailbox: {mailbox}
  password_env: {pwenv}
  soft_limit: 3
newsletters:
  - id: daily
    title: Rangeinn Daily
    from: "Rangeinn News <news@rangeinn.example>"
    bounce_address: bounces@rangeinn.example
    schedule: "0 7 * * *"
    sources:
      - folder: articles
""")


def status(addr):
    with db_connect(DB, T) as c:
        return c.execute("select u.status, u.soft_bounces from subscriptions u join subscribers s"
                         " on s.id = u.subscriber_id where s.email_key = ?",
                         (addr.lower(),)).fetchone()


def bounce_text(fixture, verp):
    with open(os.path.join(FIX, fixture), encoding="utf-8", newline="") as f:
        text = f.read()
    return re.sub(r"bounces\+\d+-[0-9a-f]{16}@rangeinn\.example", verp, text)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    os.makedirs(os.path.join(T, "articles"))
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                os.path.join(T, "articles", "article.txt"))
    subs = ["ada@example.org", "bob@example.net", "erin@example.com",
            "kate@example.edu", "rosa@yahoo.com", "tom@example.org"]
    with TestServer(os.path.join(T, "smtp")) as sv:
        config(sv.port, "maildir:unused")
        for a in subs:
            p = herald("subscribers", "add", a)
            check(p.returncode == 0, f"add {a}: {p.stderr}")
        p = herald("send")
        check(p.returncode == 0, f"send: {p.stdout} {p.stderr}")
        verp = {r["to"][0].lower(): r["from"] for r in sv.log()}
    check(len(verp) == len(subs), f"sent: {verp}")

    with DovecotServer(os.path.join(T, "dovecot"), USER, PASSWORD, tls=True) as dv:
        imap = f"imap://{USER}@127.0.0.1:{dv.imap_port}/INBOX"
        dv.deliver("1700000001.M1.t", bounce_text("postfix_dsn_user_unknown.eml", verp["ada@example.org"]))
        dv.deliver("1700000002.M1.t", bounce_text("postfix_dsn_mailbox_full_552.eml", verp["bob@example.net"]))
        dv.deliver("1700000003.M1.t", bounce_text("exim_user_unknown.eml", verp["erin@example.com"]))
        dv.deliver("1700000004.M1.t", bounce_text("personal_reply.eml", "x"))
        dv.deliver("1700000005.M1.t", bounce_text("vacation_auto_submitted.eml", verp["tom@example.org"]))

        # IMAP, dry run: nothing moves, nothing changes
        config(1, imap)
        p = herald("bounces", "check", "--dry-run")
        check(p.returncode == 0, f"imap dry run exit {p.returncode}: {p.stderr} {p.stdout}")
        check(re.search(r"^imap \d+: hard \(user unknown, 5\.1\.1\): daily #1 to ada@example\.org "
                        r"\(by VERP\): would mark bounced", p.stdout, re.M), f"imap dry run: {p.stdout}")
        check(len(dv.files()) == 5 and dv.files("Processed") == [], f"dry run moved: {dv.files()}")
        check(status("ada@example.org")[0] == "active", "dry run changed ada")

        # IMAP: processed ones move to Processed, the unknown stays unread
        p = herald("bounces", "check")
        check(p.returncode == 0, f"imap exit {p.returncode}: {p.stderr} {p.stdout}")
        check(status("ada@example.org")[0] == "bounced", f"ada: {status('ada@example.org')} {p.stdout}")
        check(status("erin@example.com")[0] == "bounced", f"erin: {status('erin@example.com')}")
        check(status("bob@example.net") == ("active", 1), f"bob: {status('bob@example.net')}")
        check(len(dv.files("Processed")) == 4, f"Processed: {dv.files('Processed')} {dv.log()}")
        left = dv.files()
        check(len(left) == 1, f"INBOX keeps the unknown one: {left}")
        check(all(":2,S" not in f and not f.endswith("S") for f in left),
              f"the unknown message was not marked seen: {left}")
        check("left in the mailbox" in p.stdout, f"unknown reported: {p.stdout}")

        # the daemon polls the mailbox at bounces.interval
        dv.deliver("1700000006.M1.t", bounce_text("sendmail_user_unknown.eml", verp["kate@example.edu"]))
        env = dict(os.environ, HERALD_TEST_MAILBOX_PASSWORD=PASSWORD)
        env.pop("HERALD_CONFIG", None)
        d = subprocess.Popen([HERALD, "-c", os.path.join(T, "herald.yml"), "daemon"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        import time
        end = time.monotonic() + 30
        while time.monotonic() < end and status("kate@example.edu")[0] != "bounced":
            time.sleep(0.3)
        d.terminate()
        out, _ = d.communicate(timeout=30)
        check(status("kate@example.edu")[0] == "bounced", f"daemon poll: {status('kate@example.edu')} {out}")
        check("bounces:" in out, f"daemon logs the poll: {out}")

        # POP3: processed ones are deleted, the unknown stays
        dv.deliver("1700000007.M1.t", bounce_text("yahoo_user_unknown.eml", verp["rosa@yahoo.com"]))
        config(1, f"pop3://{USER}@127.0.0.1:{dv.pop3_port}")
        p = herald("bounces", "check")
        check(p.returncode == 0, f"pop3 exit {p.returncode}: {p.stderr} {p.stdout}")
        check(status("rosa@yahoo.com")[0] == "bounced", f"rosa: {status('rosa@yahoo.com')} {p.stdout}")
        check(re.search(r"^pop3 \d+: unknown", p.stdout, re.M), f"pop3 unknown: {p.stdout}")
        check(len(dv.files()) == 1, f"pop3 leaves only the unknown: {dv.files()}")

        # IMAPS and POP3S: the certificate is checked (self-signed: refused,
        # exit 1, before the password is sent), trusted through SSL_CERT_FILE
        dv.deliver("1700000008.M1.t", bounce_text("gmail_address_not_found.eml",
                                                  verp["tom@example.org"]))
        config(1, f"imaps://{USER}@127.0.0.1:{dv.imaps_port}/INBOX")
        p = herald("bounces", "check")
        check(p.returncode == 1 and "not trusted" in p.stderr, f"self-signed imaps: {p.returncode} {p.stderr}")
        check(status("tom@example.org")[0] == "active", "untrusted server was read")
        p = herald("bounces", "check", env={"SSL_CERT_FILE": dv.cert})
        check(p.returncode == 0, f"imaps trusted: {p.returncode} {p.stderr} {p.stdout}")
        check(status("tom@example.org")[0] == "bounced", f"tom over imaps: {status('tom@example.org')} {p.stdout}")
        config(1, f"pop3s://{USER}@localhost:{dv.pop3s_port}")
        p = herald("bounces", "check")
        check(p.returncode == 1 and "not trusted" in p.stderr, f"self-signed pop3s: {p.returncode} {p.stderr}")
        p = herald("bounces", "check", "--dry-run", env={"SSL_CERT_FILE": dv.cert})
        check(p.returncode == 0 and "pop3 " in p.stdout, f"pop3s trusted: {p.returncode} {p.stderr} {p.stdout}")

        # refused login: exit 1, says so; nothing read
        config(1, imap, pwenv="HERALD_TEST_WRONG_PASSWORD")
        p = herald("bounces", "check")
        check(p.returncode == 1 and "login refused" in p.stderr, f"wrong password: {p.returncode} {p.stderr}")
        config(1, f"pop3://{USER}@127.0.0.1:{dv.pop3_port}", pwenv="HERALD_TEST_WRONG_PASSWORD")
        p = herald("bounces", "check")
        check(p.returncode == 1 and "login refused" in p.stderr, f"pop3 wrong password: {p.returncode} {p.stderr}")

    # a server whose folders all live under INBOX. (Courier, Cyrus): the
    # Processed folder is INBOX.Processed
    with DovecotServer(os.path.join(T, "dovecot2"), USER, PASSWORD, inbox_prefix=True) as dv:
        dv.deliver("1700000009.M1.t", bounce_text("qmail_user_unknown.eml", verp["erin@example.com"]))
        dv.deliver("1700000010.M1.t", bounce_text("personal_reply.eml", "x"))
        config(1, f"imap://{USER}@127.0.0.1:{dv.imap_port}/INBOX")
        p = herald("bounces", "check")
        check(p.returncode == 0 and "not moved" not in p.stdout,
              f"INBOX. namespace: {p.returncode} {p.stderr} {p.stdout} {dv.log()}")
        check(len(dv.files("Processed")) == 1 and len(dv.files()) == 1,
              f"INBOX.Processed: {dv.files('Processed')} {dv.files()}")

    # nobody listening: temporary (exit 3)
    config(1, f"imap://{USER}@127.0.0.1:{closed_port()}/INBOX")
    p = herald("bounces", "check")
    check(p.returncode == 3 and "cannot connect" in p.stderr, f"closed port: {p.returncode} {p.stderr}")

    if failures:
        print(f"{failures} failure(s); files in {T}")
        return 1
    shutil.rmtree(T, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
