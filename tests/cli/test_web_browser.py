#!/usr/bin/python3
"""The web endpoint in a real browser (issue 11): Debian's chromium,
headless, driven by chromedriver through python3-selenium.  It opens the
unsubscribe link of an issue delivered to the test SMTP server, presses
the button and sees the result; it does the same with the link of a
confirmation mail; and it signs up through the form.  Each time the
database says what the page says."""
import os
import re
import shutil
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_helpers import TMP, Checks, Site  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402

check = Checks()


def browser(profile):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
              f"--user-data-dir={profile}", "--window-size=1000,800"):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_page_load_timeout(30)
    return d


def html_link(m, text):
    """The href of the first <a> in the HTML part whose text is text."""
    html = m.get_body(("html",)).get_content()
    for href, inner in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, re.S):
        if re.sub(r"<[^>]+>", "", inner).strip() == text:
            return href.replace("&amp;", "&")
    return None


def heading(d):
    return WebDriverWait(d, 30).until(
        EC.presence_of_element_located((By.TAG_NAME, "h1"))).text


def press(d, label, expect):
    """Clicks the button labelled label; waits for the heading expect."""
    d.find_element(By.XPATH, f"//button[normalize-space()='{label}']").click()
    # the page is replaced under the wait: a heading read as it goes is
    # "Node with given id does not belong to the document"; read it again
    WebDriverWait(d, 30, ignored_exceptions=(WebDriverException,)).until(
        EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), expect))


def main():
    s = Site("webbrowser.", title="Rangeinn Daily")
    profile = tempfile.mkdtemp(dir=TMP, prefix="chromium.")
    d = None
    try:
        s.start_smtp()
        for who in ("ann@example.org", "carol@example.org"):
            p = s.herald("subscribers", "add", who)
            check(p.returncode == 0, f"add {who}: {p.stderr}")
        s.article("one.txt", "First news")
        p = s.herald("send")
        check(p.returncode == 0, f"send: {p.stderr}")
        ms = s.messages("ann@example.org")
        check(len(ms) == 1, f"ann has issue 1: {len(ms)}")
        unsub = html_link(ms[0], "Unsubscribe")
        check(unsub and unsub.startswith(s.base + "/unsubscribe/"), f"the issue's link {unsub}")
        s.start_web()
        d = browser(profile)

        # The unsubscribe link of the issue: a page, a button, the result.
        d.get(unsub)
        check(heading(d) == "Unsubscribe?", f"unsubscribe page: {d.title}")
        check("Rangeinn Daily" in d.title, f"title {d.title!r}")
        check(s.status("ann@example.org") == ["active"], "opening the link changes nothing")
        press(d, "Unsubscribe", "You are unsubscribed")
        check(s.status("ann@example.org") == ["unsubscribed"],
              f"pressing the button unsubscribes: {s.status('ann@example.org')}")
        check(("unsubscribe", "web: unsubscribe page") in s.events("unsubscribe"),
              f"event: {s.events('unsubscribe')}")
        # back and press again: still fine, nothing more recorded
        d.get(unsub)
        press(d, "Unsubscribe", "You are unsubscribed")
        check(len(s.events("unsubscribe")) == 1, "pressing twice records one event")

        # The confirmation mail's link: a page, a button, the result.
        p = s.herald("subscribers", "add", "bob@example.org", "--name", "Bob", "--pending")
        check(p.returncode == 0, f"add --pending: {p.stderr}")
        cm = s.messages("bob@example.org")
        confirm = html_link(cm[0], "Confirm my subscription") if cm else None
        check(confirm and "/confirm/" in confirm, f"the confirmation link {confirm}")
        d.get(confirm)
        check(heading(d) == "Confirm your subscription", f"confirm page: {heading(d)}")
        check(s.status("bob@example.org") == ["pending"], "opening the link changes nothing")
        press(d, "Confirm my subscription", "You are subscribed")
        check(s.status("bob@example.org") == ["active"], "pressing the button confirms")
        welcome = s.wait_messages("bob@example.org", 2)
        check(len(welcome) == 2 and str(welcome[-1]["Subject"]) == "Welcome to Rangeinn Daily",
              f"the welcome mail: {[str(m['Subject']) for m in welcome]}")

        # The signup form: type, submit, then the confirmation as above.
        d.get(s.base + "/signup")
        check(heading(d) == "Subscribe", "signup form")
        d.find_element(By.NAME, "email").send_keys("dee@example.org")
        d.find_element(By.NAME, "name").send_keys("Dee")
        press(d, "Subscribe", "Check your inbox")
        check(s.status("dee@example.org") == ["pending"], "signed up: pending")
        dm = s.wait_messages("dee@example.org", 1)
        link = html_link(dm[0], "Confirm my subscription") if dm else None
        check(link is not None, "the confirmation mail arrives")
        if link:
            d.get(link)
            press(d, "Confirm my subscription", "You are subscribed")
            check(s.status("dee@example.org") == ["active"], "dee confirmed in the browser")

        # A forged link: the browser sees 403's page, nothing changes.
        d.get(unsub.replace("/unsubscribe/", "/unsubscribe/9") + "x")
        check(heading(d) == "This link is not valid", f"forged: {heading(d)}")
        logs = d.get_log("browser") if hasattr(d, "get_log") else []
        csp = [e for e in logs if "Content Security Policy" in e.get("message", "")]
        check(not csp, f"no CSP violations: {csp}")
    except Exception:
        check(False, "exception: " + traceback.format_exc())
        if d is not None:
            print("page at the failure:", d.current_url, d.page_source[:3000])
    finally:
        if d is not None:
            d.quit()
        check(s.stop_web() == 0, "herald web exits 0 (no sanitizer report)")
        s.stop()
        shutil.rmtree(profile, ignore_errors=True)
    if check.failures:
        print(s.read_web_log())
        print(f"{check.failures} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
