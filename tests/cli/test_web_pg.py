#!/usr/bin/python3
"""herald web on PostgreSQL (issues 11, 14), against a real server started
here (tests/pg_server.py): the one-click POST, a GET that changes nothing,
a forged token, signup and confirmation, `status` counts, and that an
erased subscriber's id is not given again.  No PostgreSQL: this test fails,
it never skips."""
import json
import os
import re
import sys

SRC = os.environ["HERALD_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pg_server import PgServer  # noqa: E402
from web_helpers import Checks, Site, curl, link, unsubscribe_url  # noqa: E402
from herald_test import run_once  # noqa: E402
run_once("it starts its own PostgreSQL server")

check = Checks()


def statuses(s):
    p = s.herald("subscribers", "list", "--format", "json")
    return {r["email"]: r["status"] for r in json.loads(p.stdout or "[]")}


def main():
    with PgServer() as pg:
        s = Site("webpg.", title="Daily")
        try:
            run(s, pg)
        finally:
            s.stop()
    if check.failures:
        print(s.read_web_log())
        print(f"{check.failures} failure(s)")
        return 1
    print("ok")
    return 0


def run(s, pg):
    s.start_smtp()
    path = os.path.join(s.dir, "herald.yml")
    y = re.sub(r"^database: .*$", f'database: "{pg.uri}"', open(path).read(),
               flags=re.M)
    open(path, "w").write(y)
    for who in ("ann@example.org", "zed@example.org"):
        p = s.herald("subscribers", "add", who)
        check(p.returncode == 0, f"add {who}: {p.stderr}")
    s.article("a.txt", "News")
    p = s.herald("send")
    check(p.returncode == 0, f"send: {p.stderr}")
    ms = s.messages("ann@example.org")
    url = unsubscribe_url(ms[0]) if ms else None
    check(url is not None, "ann's message has the one-click URL")
    s.start_web()

    code, _, _ = curl(url)
    check(code == 200 and statuses(s)["ann@example.org"] == "active", f"GET: {code}")
    code, _, _ = curl("-d", "List-Unsubscribe=One-Click", url[:-1] + ("A" if url[-1] != "A" else "B"))
    check(code == 403 and statuses(s)["ann@example.org"] == "active", f"forged: {code}")
    code, _, _ = curl("-d", "List-Unsubscribe=One-Click", url)
    check(code == 200 and statuses(s)["ann@example.org"] == "unsubscribed", f"one-click: {code}")
    code, _, _ = curl("-d", "List-Unsubscribe=One-Click", url)
    check(code == 200, f"one-click again: {code}")
    p = s.herald("subscribers", "show", "ann@example.org")
    check(p.stdout.count("web: one-click") == 1, f"one event: {p.stdout}")

    # zed (the newest) is erased; the next sign-up must not get zed's id
    with_id = lambda m: m.split("/")[-1].split(".")[0]  # noqa: E731
    zed_id = with_id(unsubscribe_url(s.messages("zed@example.org")[0]))
    p = s.herald("subscribers", "remove", "zed@example.org")
    check(p.returncode == 0, f"remove zed: {p.stderr}")
    code, _, body = curl("-d", "email=bob@example.org", s.base + "/signup")
    check(code == 200 and statuses(s).get("bob@example.org") == "pending", f"signup: {code}")
    bm = s.wait_messages("bob@example.org", 1)
    confirm = link(bm[0], "confirm") if bm else None
    check(confirm is not None, "the confirmation mail arrives")
    if confirm:
        check(with_id(confirm) != zed_id, f"bob's id {with_id(confirm)} is not zed's {zed_id}")
        code, _, _ = curl(confirm)
        check(code == 200 and statuses(s)["bob@example.org"] == "pending", "GET confirm")
        code, _, _ = curl("-X", "POST", confirm)
        check(code == 200 and statuses(s)["bob@example.org"] == "active", f"confirm: {code}")
    p = s.herald("status")
    check("1 one-click and 0 page unsubscribes, 1 sign-ups, 1 confirmed" in p.stdout,
          f"status: {p.stdout}")
    check(s.stop_web() == 0, "herald web exits 0")


if __name__ == "__main__":
    sys.exit(main())
