#!/usr/bin/python3
"""A render limit that is hit is never a silent cut (issue 9, item 6).

An item with 70,000 links made `preview --format eml` exit 0 with a text
part that stopped at link 52,417, without footer or unsubscribe link (the
template's step limit cut the rest of the document).  Now an article lists
at most 500 link references in the text part and says how many it left out;
the footer and the unsubscribe link are always there.  A template that runs
past the render limits anyway is an error naming the limit, not a short
message.
"""
import email
import email.policy
import html
import os
import shutil
import subprocess
import sys
import tempfile

HERALD = os.environ["HERALD_BIN"]
os.makedirs(os.environ.get("HERALD_TEST_TMP", "/tmp"), exist_ok=True)
T = tempfile.mkdtemp(dir=os.environ.get("HERALD_TEST_TMP", "/tmp"), prefix="rlimit.")
CFG = os.path.join(T, "herald.yml")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database  # noqa: E402
DB = database()      # herald.db, or a PostgreSQL database (cli-pg/)
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def herald(*args, timeout=120):
    e = dict(os.environ)
    e.pop("HERALD_CONFIG", None)
    return subprocess.run([HERALD, "-c", CFG] + list(args), capture_output=True,
                          env=e, timeout=timeout)


def config(templates=""):
    with open(CFG, "w") as f:
        f.write(f"""database: "{DB}"
smtp: {{ url: "smtp://127.0.0.1:2525", starttls: off }}
secret_file: secret
newsletters:
  - id: daily
    title: Daily
    from: "Daily <news@example.org>"
    bounce_address: bounces@example.org
    schedule: "0 7 * * *"
{templates}
    sources:
      - feed: file://{T}/feed.xml
""")


def main():
    links = "".join('<a href="https://e.x/%d">a</a> ' % i for i in range(70000))
    with open(os.path.join(T, "feed.xml"), "w") as f:
        f.write('<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
                '<link>https://e.x/</link><description>d</description><item>'
                '<title>Many links</title><link>https://e.x/item</link>'
                '<guid>https://e.x/item</guid><description>'
                + html.escape(links + "<p>END OF ARTICLE</p>") +
                '</description></item></channel></rss>')
    config()
    p = herald("preview", "--format", "eml")
    check(p.returncode == 0, f"preview exits 0: {p.returncode} {p.stderr[-500:]}")
    m = email.message_from_bytes(p.stdout, policy=email.policy.default)
    text = m.get_body(("plain",)).get_content()
    htm = m.get_body(("html",)).get_content()
    check("END OF ARTICLE" in text, "the article's end is in the text part")
    check("69500 more links in this article are not listed" in text,
          "the text part says how many links it left out")
    check("[500] https://e.x/499" in text and "[501]" not in text,
          "500 link references listed")
    check("Unsubscribe: mailto:" in text and "You receive this" in text,
          f"the text part has its footer: {text[-300:]!r}")
    check("Unsubscribe</a>" in htm, "the HTML part has its unsubscribe link")
    check(p.stderr.count(b"the text part lists the first 500") == 1,
          f"a warning says so, once: {p.stderr[-600:]!r}")

    # A template that runs past the step limit: an error, not a cut.
    with open(os.path.join(T, "loop.txt"), "w") as f:
        f.write("{{#articles}}{{#links}}{{#links}}{{#links}}x{{/links}}"
                "{{/links}}{{/links}}{{/articles}}\n{{unsubscribe_url}}\n")
    config("    templates:\n      text: loop.txt")
    p = herald("preview", "--format", "eml", "--no-collect")
    check(p.returncode != 0, f"a render past its limits fails: {p.returncode}")
    check(b"render limits" in p.stderr, f"and says which limit: {p.stderr[-400:]!r}")
    check(p.stdout == b"", "and prints no cut message")
    print(f"{'FAILED' if failures else 'passed'}: test_render_limits ({failures} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    sys.exit(rc)
