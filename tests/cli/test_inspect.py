#!/usr/bin/python3
"""`herald inspect`: one feed or article file, fetched or read, nothing
stored, no config needed.  Feeds are served by httpd.py on 127.0.0.1."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpd  # noqa: E402
from herald_test import run_once  # noqa: E402
run_once("herald inspect opens no database")

HERALD = os.environ["HERALD_BIN"]
SHARED = os.environ["HERALD_SHARED_DIR"]
TMP = os.environ.get("HERALD_TEST_TMP", "/tmp")
FAILED = []

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://example.org/blog/">
  <title>Atom test</title>
  <link href="/"/>
  <id>urn:x</id>
  <updated>2026-11-24T07:00:00Z</updated>
  <entry>
    <title>Caf\u00e9 \u2018one\u2019</title>
    <id>urn:x:1</id>
    <link href="posts/1"/>
    <published>2026-11-24T08:00:00+01:00</published>
    <updated>2026-11-24T07:00:00Z</updated>
    <author><name>Ann</name></author>
    <content type="html">&lt;p onclick="x()"&gt;Hi&lt;script&gt;bad()&lt;/script&gt;&lt;/p&gt;</content>
  </entry>
</feed>
"""


def run(*args, cwd=None):
    env = dict(os.environ)
    env["HERALD_CONFIG"] = "/nonexistent/herald.yml"	# not needed
    p = subprocess.run([HERALD, "inspect"] + list(args), capture_output=True, text=True,
                       env=env, cwd=cwd, timeout=60)
    return p


def check(cond, what, p=None):
    if not cond:
        msg = "FAIL: " + what
        if p is not None:
            msg += "\n--- rc %d\n--- stdout\n%s--- stderr\n%s" % (p.returncode, p.stdout, p.stderr)
        print(msg)
        FAILED.append(what)
    return cond


def main():
    root = tempfile.mkdtemp(prefix="inspect.", dir=TMP)
    with open(os.path.join(root, "atom.xml"), "w") as f:
        f.write(ATOM)
    with open(os.path.join(root, "latin1.xml"), "wb") as f:
        f.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Caf\xe9</title>'
                b'<item><title>\xe0 la carte</title><guid>1</guid></item></channel></rss>')
    with open(os.path.join(root, "page.html"), "w") as f:
        f.write("<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>")
    with open(os.path.join(root, "post.md"), "w") as f:
        f.write("---\ntitle: A post\nauthor: Bo\nurl: https://example.org/post\n"
                "date: 2026-11-20\n---\nSome *text* <iframe src=x></iframe>\n")
    srv = httpd.Server(root).start()
    try:
        # A served Atom feed, as JSON (DESIGN §3).
        p = run(srv.url("/gzip/atom.xml"), "--format", "json", cwd=root)
        if check(p.returncode == 0, "inspect atom", p):
            d = json.loads(p.stdout)
            check(sorted(d) == ["entries", "kind", "link", "title"], "top-level keys %r" % sorted(d))
            check(d["kind"] == "atom" and d["title"] == "Atom test", "kind and title %r" % d)
            e = d["entries"][0]
            check(sorted(e) == sorted(["title", "url", "guid", "published", "updated", "author",
                                       "summary", "content"]), "entry keys %r" % sorted(e))
            check(e["title"] == "Caf\u00e9 \u2018one\u2019", "title %r" % e["title"])
            check(e["url"] == "http://example.org/blog/posts/1", "url %r" % e["url"])
            check(e["guid"] == "urn:x:1" and e["author"] == "Ann", "guid/author %r" % e)
            check(e["published"] == "2026-11-24T07:00:00Z", "published %r" % e["published"])
            check("onclick" not in e["content"] and "script" not in e["content"]
                  and "Hi" in e["content"], "content sanitised %r" % e["content"])
            check(e["summary"] is None or "script" not in e["summary"], "summary sanitised")
        # HTTP charset reaches the parser.
        p = run(srv.url("/ctype/ISO-8859-1/latin1.xml"), "--format", "json")
        if check(p.returncode == 0, "inspect latin-1", p):
            d = json.loads(p.stdout)
            check(d["title"] == "Caf\u00e9" and d["entries"][0]["title"] == "\u00e0 la carte",
                  "Latin-1 by Content-Type charset: %r" % d)
        # Text form.
        p = run(srv.url("/atom.xml"))
        check(p.returncode == 0 and "Atom test" in p.stdout, "text format", p)
        # The example article, as a folder source reads it.
        art = os.path.join(SHARED, "examples", "article.txt")
        p = run("--format", "json", art)
        if check(p.returncode == 0, "inspect article", p):
            d = json.loads(p.stdout)
            e = d["entries"][0]
            check(d["kind"] == "folder" and len(d["entries"]) == 1, "one folder entry")
            check(e["title"] == "Russia buys \u2018millions\u2019 of rockets and shells "
                  "from North Korea", "example title exact: %r" % e["title"])
            check(e["content"].count("<p>") == 13 and
                  e["content"].rstrip().endswith("International Relations.</p>"),
                  "13 paragraphs, author note last")
            check(e["guid"] == "file:article.txt", "guid %r" % e["guid"])
        p = run("--format=json", "file://" + art)
        check(p.returncode == 0 and json.loads(p.stdout)["kind"] == "folder", "file:// URL", p)
        # Markdown over HTTP.
        p = run("-f", "json", srv.url("/post.md"))
        if check(p.returncode == 0, "inspect md", p):
            e = json.loads(p.stdout)["entries"][0]
            check(e["title"] == "A post" and e["author"] == "Bo" and
                  e["url"] == "https://example.org/post" and
                  e["published"] == "2026-11-20T00:00:00Z" and "iframe" not in e["content"]
                  and "<em>text</em>" in e["content"], "md entry %r" % e)
        # A local feed file.
        p = run("--format", "json", os.path.join(root, "atom.xml"))
        check(p.returncode == 0 and json.loads(p.stdout)["kind"] == "atom", "local feed", p)
        # Links that are not http(s) are dropped, and inspect says so on
        # stderr; the JSON keeps the shape of DESIGN §3 (issue 9 item 5).
        bad = os.path.join(root, "schemes.xml")
        with open(bad, "w") as f:
            f.write('<rss version="2.0"><channel><title>s</title>'
                    '<item><title>a</title><link>javascript:alert(1)</link>'
                    '<description>&lt;a href="data:text/html,x"&gt;d&lt;/a&gt;</description></item>'
                    '</channel></rss>')
        for fmt in ("json", "text"):
            p = run("--format", fmt, bad)
            check(p.returncode == 0 and
                  'herald: warning: inspect: entry 1: link "javascript:alert(1)" dropped: '
                  'not an http or https URL\n' in p.stderr and
                  'herald: warning: inspect: entry 1: summary: link "data:text/html,x" dropped'
                  in p.stderr and "javascript" not in p.stdout and "data:" not in p.stdout,
                  "%s: dropped links reported" % fmt, p)
            if fmt == "json" and p.returncode == 0:
                d = json.loads(p.stdout)
                check(sorted(d) == ["entries", "kind", "link", "title"] and
                      d["entries"][0]["url"] is None and d["entries"][0]["summary"] == "d",
                      "json unchanged in shape: %r" % d)
        md = os.path.join(root, "links.md")
        with open(md, "w") as f:
            f.write("# Links\n\n[f](ftp://f.example/x) [ok](https://ok.example/)\n")
        p = run("--format", "json", md)
        check(p.returncode == 0 and 'warning: inspect: content: link "ftp://f.example/x" dropped' in p.stderr
              and "ftp:" not in p.stdout and 'href=\\"https://ok.example/\\"' in p.stdout,
              "folder article: dropped link reported", p)
        p = run("-q", "--format", "json", bad)
        check(p.returncode == 0 and p.stderr == "", "-q silences the warnings", p)
        # Not a feed: exit 1 with the parser's reason.
        p = run(srv.url("/page.html"))
        check(p.returncode == 1 and p.stderr.startswith("herald: inspect: ") and
              p.stdout == "", "HTML is not a feed", p)
        p = run(os.path.join(root, "missing.xml"))
        check(p.returncode == 1 and "No such file" in p.stderr, "missing file", p)
        p = run(srv.url("/missing.xml"))
        check(p.returncode == 1 and "HTTP 404 Not Found" in p.stderr, "404 exits 1", p)
        p = run(srv.url("/status/503"))
        check(p.returncode == 3, "503 is temporary", p)
        p = run("http://127.0.0.1:1/feed.xml")
        check(p.returncode == 3, "unreachable exits 3", p)
        # Usage.
        check(run().returncode == 2, "no argument")
        check(run("a", "b").returncode == 2, "two arguments")
        check(run("--format", "xml", art).returncode == 2, "bad format")
        check(run("ftp://127.0.0.1/x").returncode == 2, "ftp refused")
        p = run("--help")
        check(p.returncode == 0 and "usage: herald inspect" in p.stdout, "--help", p)
        # Nothing was written next to the files.
        check(not any(n.endswith(".db") for n in os.listdir(root)), "nothing stored")
    finally:
        srv.stop()
        shutil.rmtree(root, ignore_errors=True)
    if FAILED:
        print("%d check(s) failed" % len(FAILED))
        return 1
    print("PASS: test_inspect")
    return 0


if __name__ == "__main__":
    sys.exit(main())
