#!/usr/bin/python3
"""herald subscribers add --pending: the double opt-in confirmation mail,
sent through the real test SMTP server on 127.0.0.1 (DESIGN §3, §5
confirm_url): the message and its link, the pending subscription, no
web.base_url (exit 2, nothing recorded), a refusal (exit 1, pending kept,
running again resends), an unreachable server (exit 3)."""
import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import tempfile

SRC = os.environ["HERALD_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database, db_connect, db_made  # noqa: E402,F401
from smtp_server import TestServer  # noqa: E402

HERALD = os.environ["HERALD_BIN"]
os.makedirs(os.environ.get("HERALD_TEST_TMP", "/tmp"), exist_ok=True)
T = tempfile.mkdtemp(dir=os.environ.get("HERALD_TEST_TMP", "/tmp"), prefix="confirm.")
DB = database()      # herald.db, or a PostgreSQL database (cli-pg/)
TITLE = "Rangeinn \u201cDaily\u201d"
WEB = "web:\n  listen: 127.0.0.1:8080\n  base_url: https://news.rangeinn.example/\n"
failures = 0


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


def config(port, web=WEB):
    with open(os.path.join(T, "herald.yml"), "w") as f:
        f.write(f"""database: "{DB}"
smtp:
  url: smtp://127.0.0.1:{port}
  starttls: off
  timeout: 10
secret_file: secret
{web}
newsletters:
  - id: daily
    title: "{TITLE}"
    from: "Rangeinn News <news@rangeinn.example>"
    reply_to: editor@rangeinn.example
    bounce_address: bounces@rangeinn.example
    schedule: "0 7 * * *"
    sources:
      - folder: articles
""")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def db():
    return db_connect(DB, T)


def status(addr):
    with db() as c:
        r = c.execute("select u.status from subscriptions u join subscribers s"
                      " on s.id = u.subscriber_id where s.email_key = ?",
                      (addr.lower(),)).fetchall()
    return [x[0] for x in r]


def sub_id(addr):
    with db() as c:
        return c.execute("select id from subscribers where email_key = ?",
                         (addr.lower(),)).fetchone()[0]


def messages(md):
    d = os.path.join(md, "new")
    out = []
    for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, n), "rb") as f:
            out.append(email.message_from_binary_file(f, policy=email.policy.default))
    return out


def check_message(m, addr, name, sid):
    """The confirmation mail to addr: structure, headers, the link."""
    check(m.get_content_type() == "multipart/alternative", f"type {m.get_content_type()}")
    check(str(m["Subject"]) == f"Confirm your subscription to {TITLE}", f"subject {m['Subject']!r}")
    check(m["To"].addresses[0].addr_spec == addr, f"To {m['To']!r}")
    if name:
        check(m["To"].addresses[0].display_name == name, f"To name {m['To']!r}")
    check(m["From"].addresses[0].addr_spec == "news@rangeinn.example", f"From {m['From']!r}")
    check(m["Reply-To"] is not None, "Reply-To kept")
    check(re.fullmatch(r"<[^@<>]+@rangeinn\.example>", str(m["Message-ID"])),
          f"Message-ID {m['Message-ID']!r}")
    check(m["X-Envelope-From"] == "bounces@rangeinn.example", f"envelope {m['X-Envelope-From']!r}")
    check(m["List-Unsubscribe"] is None and m["List-Id"] is None, "not a list message")
    parts = [p.get_content_type() for p in m.iter_parts()]
    check(parts == ["text/plain", "text/html"], f"parts {parts}")
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    urls = set()
    for what, body in (("text", text), ("html", html)):
        found = re.findall(r"https://news\.rangeinn\.example/confirm/([A-Za-z0-9_.-]+)", body)
        check(found, f"{what} part has the confirm link: {body[:400]!r}")
        for tok in found:
            check(tok.split(".")[0] == str(sid), f"{what}: token {tok} names subscriber {sid}")
            urls.add(tok)
        check("7 days" in body, f"{what} part says when the link expires")
        check("ignore this mail" in body, f"{what} part says what to do if it wasn't you")
        check(TITLE in body, f"{what} part names the newsletter")
        check("{{" not in body, f"{what}: unrendered tag")
    check(len(urls) == 1, f"one link in both parts: {urls}")
    check(f'href="https://news.rangeinn.example/confirm/' in html, "HTML link is a real href")
    if name:
        check(f"Hello {name}," in text, "greets by name")
    return urls.pop() if urls else None


def main():
    os.makedirs(os.path.join(T, "articles"))
    md = os.path.join(T, "maildir")

    # Without web.base_url there is no link: exit 2, nothing recorded.
    config(free_port(), web="")
    p = herald("subscribers", "add", "nolink@example.org", "--pending")
    check(p.returncode == 2, f"no web: exit {p.returncode}: {p.stderr}")
    check("web.base_url" in p.stderr, f"no web: names the key: {p.stderr!r}")
    check(not db_made(DB, T) or status("nolink@example.org") == [],
          "no web: nothing recorded")
    p = herald("subscribers", "add", "--help")
    check("web.base_url" in p.stdout and "again" in p.stdout, "add --help explains --pending")

    with TestServer(md, "--reject", r"^refused@") as sv:
        config(sv.port)
        # Success: pending, one message, its reply printed.
        p = herald("subscribers", "add", "Ann@Example.org", "--name", "Ann St\u00e5hl", "--pending")
        check(p.returncode == 0, f"add --pending: exit {p.returncode}: {p.stderr}")
        check(re.search(r"^confirmation mail sent to Ann@Example.org \(250 .*queued as Q", p.stdout, re.M),
              f"prints the reply: {p.stdout!r}")
        check(status("ann@example.org") == ["pending"], f"pending: {status('ann@example.org')}")
        with db() as c:
            ev = c.execute("select kind, detail from events where subscriber_id = ?",
                           (sub_id("ann@example.org"),)).fetchall()
        check(ev == [("subscribe", "cli, pending confirmation")], f"events {ev}")
        ms = messages(md)
        check(len(ms) == 1, f"one message, got {len(ms)}")
        tok1 = check_message(ms[0], "Ann@Example.org", "Ann St\u00e5hl", sub_id("ann@example.org")) if ms else None

        # Already pending: the same command sends the mail again, changes nothing.
        p = herald("subscribers", "add", "ann@example.org", "--pending")
        check(p.returncode == 0, f"resend: exit {p.returncode}: {p.stderr}")
        check("again" in p.stdout and "confirmation mail sent" in p.stdout, f"resend says so: {p.stdout!r}")
        ms = messages(md)
        check(len(ms) == 2, f"resend: two messages, got {len(ms)}")
        if len(ms) == 2:
            tok2 = check_message(ms[1], "Ann@Example.org", "Ann St\u00e5hl", sub_id("ann@example.org"))
            check(tok1 == tok2, "the resent link is the same link")
        check(status("ann@example.org") == ["pending"], "resend keeps it pending")
        with db() as c:
            check(c.execute("select count(*) from events").fetchone()[0] == 1, "resend records no event")
            check(c.execute("select count(*) from subscribers").fetchone()[0] == 1, "one subscriber")

        # An active subscriber is not sent a confirmation: already subscribed.
        herald("subscribers", "add", "bob@example.org")
        p = herald("subscribers", "add", "bob@example.org", "--pending")
        check(p.returncode == 1 and "already subscribed" in p.stderr, f"active + --pending: {p.returncode} {p.stderr!r}")
        check(len(messages(md)) == 2, "no mail to an active subscriber")

        # Refused (550): pending stays recorded, exit 1, the hint to re-run.
        p = herald("subscribers", "add", "refused@example.org", "--pending")
        check(p.returncode == 1, f"refused: exit {p.returncode}: {p.stderr}")
        check("confirmation mail not sent: 550" in p.stderr, f"refused: says why: {p.stderr!r}")
        check("run the same command again to resend" in p.stderr, f"refused: hint: {p.stderr!r}")
        check(status("refused@example.org") == ["pending"], "refused: pending recorded")
        check(len(messages(md)) == 2, "refused: nothing stored by the server")
        # running it again tries again (still refused here), records nothing more
        p = herald("subscribers", "add", "refused@example.org", "--pending")
        check(p.returncode == 1 and "550" in p.stderr and "again" in p.stdout,
              f"refused again: {p.returncode} {p.stdout!r} {p.stderr!r}")
        with db() as c:
            check(c.execute("select count(*) from subscriptions").fetchone()[0] == 3,
                  "re-run adds no subscription")

    # Unreachable (a closed port): exit 3, pending recorded.
    config(free_port())
    p = herald("subscribers", "add", "late@example.org", "--pending")
    check(p.returncode == 3, f"unreachable: exit {p.returncode}: {p.stderr}")
    check("confirmation mail not sent" in p.stderr and "run the same command again" in p.stderr,
          f"unreachable: message {p.stderr!r}")
    check(status("late@example.org") == ["pending"], "unreachable: pending recorded")

    # Once the server is back, the same command delivers it.
    md2 = os.path.join(T, "maildir2")
    with TestServer(md2) as sv:
        config(sv.port)
        p = herald("subscribers", "add", "late@example.org", "--pending")
        check(p.returncode == 0, f"resend after outage: exit {p.returncode}: {p.stderr}")
        ms = messages(md2)
        check(len(ms) == 1, f"resend after outage: one message, got {len(ms)}")
        if ms:
            check_message(ms[0], "late@example.org", None, sub_id("late@example.org"))
        # confirming by hand (add without --pending) sends nothing
        p = herald("subscribers", "add", "late@example.org")
        check(p.returncode == 0 and "confirmed" in p.stdout, f"confirm by hand: {p.stdout!r}")
        check(len(messages(md2)) == 1, "confirming sends no mail")

    if failures:
        print(f"{failures} failure(s); files in {T}")
        sys.exit(1)
    subprocess.run(["rm", "-rf", T])
    print("PASS: test_confirm")


if __name__ == "__main__":
    main()
