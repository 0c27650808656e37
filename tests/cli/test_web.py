#!/usr/bin/python3
"""herald web (daemon/web) with curl, against the real binary on a free
loopback port and the test SMTP server (DESIGN §1 Listen, issue 11):
one-click unsubscribe (RFC 8058) and its idempotence, a GET that changes
nothing, forged / altered / truncated tokens (403, nothing changes),
oversized and slow requests, the signup form, its rate limit and that it
never tells whether an address is subscribed, the confirmation link and
the welcome mail, expiry, security headers, escaping, `subscribers show`,
and that the next issue skips whoever unsubscribed."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_helpers import HERALD, Checks, Site, curl, link, unsubscribe_url, wait_closed  # noqa: E402

check = Checks()

SECURITY = {
    "content-security-policy": "default-src 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def check_headers(h, what):
    for k, v in SECURITY.items():
        check(v in h.get(k, ""), f"{what}: header {k}: {h.get(k)!r}")


def forgeries(url):
    """Altered, truncated, extended, other-id and garbage versions of a
    token URL."""
    base, tok = url.rsplit("/", 1)
    sid, mac = tok.split(".", 1)
    flip = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    other = str(int(sid) + 1)
    return {
        "altered": f"{base}/{sid}.{flip}",
        "truncated": f"{base}/{tok[:-1]}",
        "no mac": f"{base}/{sid}.",
        "extended": f"{base}/{tok}A",
        "other id": f"{base}/{other}.{mac}",
        "leading zero": f"{base}/0{sid}.{mac}",
        "empty": f"{base}/",
        "garbage": f"{base}/%00%ff..",
        "long": f"{base}/{sid}.{'A' * 5000}",
        "other action": url.replace("/unsubscribe/", "/confirm/")
        if "/unsubscribe/" in url else url.replace("/confirm/", "/unsubscribe/"),
    }


def main():
    s = Site("web.")
    try:
        run(s)
    finally:
        s.stop()
    if check.failures:
        print(s.read_web_log())
        print(f"{check.failures} failure(s)")
        return 1
    print("ok")
    return 0


def run(s):
    s.start_smtp()
    for who in ("ann@example.org", "bob@example.org", "carol@example.org"):
        p = s.herald("subscribers", "add", who)
        check(p.returncode == 0, f"add {who}: {p.stderr}")
    s.article("one.txt", "First news")
    p = s.herald("send")
    check(p.returncode == 0, f"send: {p.returncode} {p.stderr}")
    ann = s.messages("ann@example.org")
    bob = s.messages("bob@example.org")
    check(len(ann) == 1 and len(bob) == 1, f"issue 1 delivered: {len(ann)} {len(bob)}")
    ann_url, bob_url = unsubscribe_url(ann[0]), unsubscribe_url(bob[0])
    check(ann_url and ann_url.startswith(s.base + "/unsubscribe/"), f"ann's URL {ann_url}")
    check(ann[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click",
          "the message offers one-click")

    s.start_web()
    check("not https" in s.read_web_log(), "warns that base_url is not https")

    # A slow client: a request line never finished.  Checked at the end.
    slow = socket.create_connection(("127.0.0.1", s.web_port))
    slow.sendall(b"GET /unsubscribe/")
    slow_started = time.monotonic()

    # GET (and HEAD) show a page with a button and change nothing.
    events0 = s.events()
    code, h, body = curl(ann_url)
    check(code == 200, f"GET unsubscribe: {code}")
    check_headers(h, "GET unsubscribe")
    check("text/html" in h.get("content-type", ""), f"html: {h.get('content-type')}")
    check('<form method="post">' in body and 'name="List-Unsubscribe" value="One-Click"' in body
          and "<button" in body, f"a form with the one-click field and a button: {body[:2000]}")
    check("Rangeinn \u201cDaily\u201d &lt;b&gt;" in body and "<b>" not in body,
          "the newsletter title is escaped")
    code, h, body = curl("-I", ann_url)
    check(code == 200, f"HEAD unsubscribe: {code}")
    for i in range(3):
        curl(ann_url)
    check(s.status("ann@example.org") == ["active"], "GET does not unsubscribe")
    check(s.events() == events0, "GET writes no event")

    # Forged, altered, truncated tokens: 403, nothing changes, for GET and POST.
    for what, url in forgeries(ann_url).items():
        code, h, body = curl(url)
        check(code in (403, 404), f"GET {what}: {code}")
        code, h, body = curl("-d", "List-Unsubscribe=One-Click", url)
        check(code in (403, 404), f"POST {what}: {code}")
        if what in ("altered", "truncated", "extended", "other id", "no mac"):
            check(code == 403, f"POST {what}: 403, got {code}")
            check("not valid" in body, f"POST {what}: says the link is not valid")
            check_headers(h, f"POST {what}")
    check(s.status("ann@example.org") == ["active"] and s.status("bob@example.org") == ["active"],
          "forged tokens change nothing")
    check(s.events() == events0, "forged tokens write no event")

    # A POST without the one-click body changes nothing.
    code, h, body = curl("-X", "POST", ann_url)
    check(code == 400, f"POST without body: {code}")
    code, h, body = curl("-d", "List-Unsubscribe=Other", ann_url)
    check(code == 400, f"POST with another value: {code}")
    check(s.status("ann@example.org") == ["active"], "a POST without One-Click changes nothing")

    # RFC 8058: the one-click POST unsubscribes at once, 200; again: 200, no new event.
    code, h, body = curl("-d", "List-Unsubscribe=One-Click", ann_url)
    check(code == 200, f"one-click POST: {code} {body[:300]}")
    check("unsubscribed" in body, "says unsubscribed")
    check_headers(h, "one-click POST")
    check(s.status("ann@example.org") == ["unsubscribed"], f"ann unsubscribed: {s.status('ann@example.org')}")
    check(s.events("unsubscribe") == [("unsubscribe", "web: one-click")],
          f"one event: {s.events('unsubscribe')}")
    code, h, body = curl("-d", "List-Unsubscribe=One-Click", ann_url)
    check(code == 200, f"one-click POST again: {code}")
    check(len(s.events("unsubscribe")) == 1, "a second one-click writes no event")
    # multipart/form-data, as some mailbox providers send it
    code, h, body = curl("-F", "List-Unsubscribe=One-Click", bob_url)
    check(code == 200, f"multipart one-click: {code}")
    check(s.status("bob@example.org") == ["unsubscribed"], "multipart one-click unsubscribes")
    # the page's own button posts a field saying so
    p = s.herald("subscribers", "add", "bob@example.org", "--resubscribe")
    code, h, body = curl("-d", "List-Unsubscribe=One-Click&via=page", bob_url)
    check(code == 200 and s.status("bob@example.org") == ["unsubscribed"], "page button unsubscribes")
    check(("unsubscribe", "web: unsubscribe page") in s.events("unsubscribe"),
          f"event says page: {s.events('unsubscribe')}")
    # the preferences link of each issue: a page naming the address, whose
    # button unsubscribes; GET changes nothing
    m = s.messages("carol@example.org")[0]
    prefs = re.findall(r"Preferences: (\S+)", m.get_body(("plain",)).get_content())
    check(prefs and "/preferences/" in prefs[0], f"preferences link {prefs}")
    if prefs:
        code, h, body = curl(prefs[0])
        check(code == 200 and "carol@example.org" in body and "<button" in body,
              f"preferences page: {code}")
        check_headers(h, "preferences page")
        check(s.status("carol@example.org") == ["active"], "preferences GET changes nothing")
        code, h, body = curl("-d", "List-Unsubscribe=One-Click", prefs[0].rsplit(".", 1)[0] + ".x")
        check(code == 403, f"forged preferences token: {code}")
        code, h, body = curl("-d", "List-Unsubscribe=One-Click&via=preferences+page", prefs[0])
        check(code == 200 and s.status("carol@example.org") == ["unsubscribed"],
              f"preferences button: {code}")
        check(("unsubscribe", "web: preferences page") in s.events("unsubscribe"),
              f"event {s.events('unsubscribe')}")
        s.herald("subscribers", "add", "carol@example.org", "--resubscribe")
    p = s.herald("subscribers", "show", "ann@example.org")
    check(re.search(r"unsubscribe\s+web: one-click", p.stdout), f"subscribers show: {p.stdout}")

    # Oversized body and headers: refused, nothing changes.
    carol_url = unsubscribe_url(s.messages("carol@example.org")[0])
    big = "List-Unsubscribe=One-Click&x=" + "a" * 100000
    code, h, body = curl("--data-binary", big, carol_url)
    check(code == 413, f"100 kB body: {code}")
    code, h, body = curl("-H", "Transfer-Encoding: chunked", "--data-binary", big, carol_url)
    check(code == 413, f"100 kB chunked body: {code}")
    code, h, body = curl("-H", "X-Big: " + "b" * 40000, carol_url)
    check(code in (413, 414, 431, 400), f"40 kB header: {code}")
    code, h, body = curl(carol_url + "?" + "q" * 40000)
    check(code in (413, 414, 431, 400), f"40 kB URL: {code}")
    check(s.status("carol@example.org") == ["active"], "oversized requests change nothing")

    # Other paths and methods.
    code, h, body = curl(s.base + "/")
    check(code == 404, f"/: {code}")
    code, h, body = curl("-X", "PUT", ann_url)
    check(code == 405 and "POST" in h.get("allow", ""), f"PUT: {code} {h.get('allow')}")

    # Signup: the form, then a pending subscriber and a confirmation mail.
    code, h, body = curl(s.base + "/signup")
    check(code == 200 and 'name="email"' in body and 'name="name"' in body, f"signup form: {code}")
    check_headers(h, "signup form")
    code, h, body_new = curl("--data-urlencode", "email=Dee@Example.org",
                             "--data-urlencode", "name=Dee <i>D</i>", s.base + "/signup")
    check(code == 200 and "Check your inbox" in body_new, f"signup: {code} {body_new[:300]}")
    check(s.status("dee@example.org") == ["pending"], f"dee pending: {s.status('dee@example.org')}")
    dee = s.wait_messages("Dee@Example.org", 1)
    check(len(dee) == 1 and "Confirm your subscription" in str(dee[0]["Subject"] if dee else ""),
          "the confirmation mail arrives")
    # the same answer for an address that is already subscribed, and no mail
    code, h, body_old = curl("--data-urlencode", "email=Carol@Example.org", s.base + "/signup")
    check(code == 200, f"signup of a subscribed address: {code}")
    norm = lambda b, a: b.replace(a, "ADDR")  # noqa: E731
    check(norm(body_old, "Carol@Example.org") == norm(body_new, "Dee@Example.org"),
          "the answer does not tell whether the address was subscribed")
    time.sleep(1)
    check(len(s.messages("carol@example.org")) == 1, "no mail to an active subscriber")
    check(s.status("carol@example.org") == ["active"], "carol stays active")
    # an unsubscribed address signs up again: pending, with a mail
    code, h, body = curl("-d", "email=ann@example.org", s.base + "/signup")
    check(code == 200 and s.status("ann@example.org") == ["pending"], "ann signs up again: pending")
    check(len(s.wait_messages("ann@example.org", 2)) == 2, "ann gets a confirmation mail")
    # a bad address: 400, the form again with the address escaped
    code, h, body = curl("--data-urlencode", 'email="<script>x</script>"@', s.base + "/signup")
    check(code == 400 and "<script>" not in body and "&lt;script&gt;" in body,
          f"bad address: {code}, escaped: {body[-1500:]}")
    # the rate limit: 5 signups per client per 10 minutes (4 so far)
    code, h, body = curl("-d", "email=erin@example.org", s.base + "/signup")
    check(code == 200, f"5th signup: {code}")
    code, h, body = curl("-d", "email=fred@example.org", s.base + "/signup")
    check(code == 429, f"6th signup from one client: {code}")
    check(h.get("retry-after") == "600", f"Retry-After: {h.get('retry-after')}")
    check(s.status("fred@example.org") == [], "a refused signup records nothing")
    # behind a proxy on loopback, each client has its own count
    code, h, body = curl("-H", "X-Forwarded-For: 203.0.113.7", "-d", "email=fred@example.org",
                         s.base + "/signup")
    check(code == 200 and s.status("fred@example.org") == ["pending"],
          f"another client behind the proxy: {code}")

    # Confirmation: GET shows a button and changes nothing; POST confirms.
    dee_link = link(dee[0], "confirm") if dee else None
    check(dee_link and dee_link.startswith(s.base + "/confirm/"), f"confirm link {dee_link}")
    code, h, body = curl(dee_link)
    check(code == 200 and "<button" in body and "Confirm" in body, f"GET confirm: {code}")
    check_headers(h, "GET confirm")
    check(s.status("dee@example.org") == ["pending"], "GET confirm changes nothing")
    for what, url in forgeries(dee_link).items():
        code, h, body = curl("-X", "POST", url)
        check(code in (403, 404), f"POST confirm {what}: {code}")
    check(s.status("dee@example.org") == ["pending"], "forged confirm tokens change nothing")
    code, h, body = curl("-X", "POST", dee_link)
    check(code == 200 and "subscribed" in body, f"POST confirm: {code}")
    check(s.status("dee@example.org") == ["active"], "dee active")
    check(("confirm", "web") in s.events("confirm"), f"confirm event: {s.events('confirm')}")
    welcome = s.wait_messages("Dee@Example.org", 2)
    check(len(welcome) == 2 and str(welcome[-1]["Subject"]).startswith("Welcome to"),
          f"welcome mail: {[str(m['Subject']) for m in welcome]}")
    if len(welcome) == 2:
        w = welcome[-1]
        check(unsubscribe_url(w) and "/unsubscribe/" in unsubscribe_url(w),
              "the welcome mail has List-Unsubscribe")
        check("Dee <i>D</i>" in w.get_body(("plain",)).get_content(), "greets by name")
    code, h, body = curl("-X", "POST", dee_link)
    check(code == 200 and len(s.events("confirm")) == 1, "confirming twice: 200, one event")
    time.sleep(0.5)
    check(len(s.messages("Dee@Example.org")) == 2, "one welcome mail")

    # Expiry: a pending subscription past web.confirm_expiry says so and
    # changes nothing; restarting the endpoint purges it.
    erin = s.wait_messages("erin@example.org", 1)
    erin_link = link(erin[0], "confirm") if erin else None
    with s.db() as c:
        c.execute("update subscriptions set pending_since = pending_since - 8 * 86400 "
                  "where subscriber_id = (select id from subscribers where email = 'erin@example.org')")
    code, h, body = curl(erin_link)
    check(code == 410 and "expired" in body, f"expired link GET: {code}")
    code, h, body = curl("-X", "POST", erin_link)
    check(code == 410 and "expired" in body, f"expired link POST: {code}")
    check(s.status("erin@example.org") == ["pending"], "an expired confirm changes nothing")

    # The slow client was cut off after the connection timeout.
    waited = wait_closed(slow, 20 - (time.monotonic() - slow_started))
    check(waited is not None, "the slow client is disconnected")
    slow.close()

    check(s.stop_web() == 0, "herald web exits 0 on SIGTERM")
    s.start_web()
    time.sleep(1)
    check(s.status("erin@example.org") == [], "the expired pending subscriber is purged")
    check(("expire" in [k for k, d in s.events()]), f"an expire event: {s.events('expire')}")
    code, h, body = curl(erin_link)
    check(code == 410 and "expired" in body, f"purged link: {code}")

    # The next issue skips whoever unsubscribed.
    s.article("two.txt", "Second news")
    p = s.herald("send")
    check(p.returncode == 0, f"send 2: {p.stderr}")
    check(len(s.messages("ann@example.org")) == 2, "ann (pending again) gets no issue 2")
    check(len(s.messages("bob@example.org")) == 1, "bob (unsubscribed) gets no issue 2")
    check(len(s.messages("carol@example.org")) == 2, "carol gets issue 2")
    check(len(s.messages("Dee@Example.org")) == 3, "dee (confirmed) gets issue 2")

    # herald status counts what the endpoint did.
    p = s.herald("status", "--format", "json")
    try:
        web = json.loads(p.stdout)[0]["web"] if p.returncode == 0 else {}
    except (ValueError, KeyError, IndexError, TypeError) as e:
        web = {"error": repr(e), "out": p.stdout[:500]}
    # erin's sign-up went with her when her pending subscription expired
    check(web == {"pending": 2, "one_click_unsubscribes_30d": 2, "page_unsubscribes_30d": 2,
                  "signups_30d": 3, "confirmed_30d": 1, "expired_30d": 1}, f"status web: {web}")
    p = s.herald("status")
    check("web:         2 pending confirmation; last 30 days: 2 one-click and 2 page "
          "unsubscribes, 3 sign-ups, 1 confirmed, 1 expired" in p.stdout, f"status: {p.stdout}")

    # The daemon serves the same endpoint, and again after a reload.
    check(s.stop_web() == 0, "herald web stops")
    e = dict(os.environ)
    e.pop("HERALD_CONFIG", None)
    with open(s.web_log, "a") as log:
        d = subprocess.Popen([HERALD, "-c", os.path.join(s.dir, "herald.yml"), "daemon"],
                             stdout=log, stderr=log, env=e)
    try:
        check(wait_listening(s.web_port, d), "the daemon listens on web.listen")
        carol_url = unsubscribe_url(s.messages("carol@example.org")[0])
        code, h, body = curl(carol_url)
        check(code == 200 and s.status("carol@example.org") == ["active"], f"daemon GET: {code}")
        d.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        check(wait_listening(s.web_port, d), "the daemon listens after a reload")
        code, h, body = curl("-d", "List-Unsubscribe=One-Click", carol_url)
        check(code == 200 and s.status("carol@example.org") == ["unsubscribed"],
              f"daemon one-click after a reload: {code} {s.status('carol@example.org')}")
        d.terminate()
        check(d.wait(30) == 0, "the daemon exits 0 on SIGTERM")
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()

    # web.templates: a page template there replaces the shipped one;
    # config check compiles it.
    tpl = os.path.join(s.dir, "tpl")
    os.makedirs(tpl)
    with open(os.path.join(tpl, "page.html.mustache"), "w") as f:
        f.write("<p>custom {{heading}} {{#form}}<form method=post>"
                "{{#fields}}<input name={{name}} value={{value}}>{{/fields}}"
                "</form>{{/form}}</p>\n")
    dee_unsub = unsubscribe_url(s.messages("Dee@Example.org")[-1])
    s.start_web()
    code, h, body = curl(dee_unsub)
    check(code == 200 and body.startswith("<!DOCTYPE html>"), "the shipped page first")
    # SIGHUP with a broken config keeps the running one
    with open(os.path.join(s.dir, "herald.yml"), "a") as f:
        f.write("bogus_key: 1\n")
    s.web.send_signal(signal.SIGHUP)
    time.sleep(1)
    code, h, body = curl(dee_unsub)
    check(code == 200 and s.web.poll() is None, f"a bad reload keeps serving: {code}")
    # SIGHUP with web.templates: the custom page
    s.config(s.smtp.port, extra_web="  templates: tpl\n")
    p = s.herald("config", "check")
    check(p.returncode == 0 and "templates from" in p.stdout, f"config check: {p.stdout} {p.stderr}")
    s.web.send_signal(signal.SIGHUP)
    end = time.monotonic() + 10
    body = ""
    while time.monotonic() < end and not body.startswith("<p>custom"):
        time.sleep(0.2)
        code, h, body = curl(dee_unsub)
    check(code == 200 and body.startswith("<p>custom Unsubscribe?"), f"custom page after SIGHUP: {body[:200]}")
    check_headers(h, "custom page")
    check(s.stop_web() == 0, "herald web exits 0 after reloads")
    with open(os.path.join(tpl, "welcome.txt.mustache"), "w") as f:
        f.write("{{#broken}}\n")
    p = s.herald("config", "check")
    check(p.returncode == 2 and "welcome.txt.mustache" in p.stderr, f"broken template: {p.stderr}")


def wait_listening(port, proc, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


if __name__ == "__main__":
    sys.exit(main())
