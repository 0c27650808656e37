#!/usr/bin/python3
"""`herald collect` end to end: the real binary, a real SQLite file and a
real HTTP server on 127.0.0.1 (httpd.py) for the fetch rules."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database, db_connect  # noqa: E402
import httpd  # noqa: E402

HERALD = os.environ["HERALD_BIN"]
SHARED = os.environ["HERALD_SHARED_DIR"]
TMP = os.environ.get("HERALD_TEST_TMP", "/tmp")
FAILED = []


def rss(items, title="Test feed"):
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rss version="2.0"><channel><title>%s</title>' % title,
           "<link>http://example.org/</link>"]
    for guid, t in items:
        out.append("<item><title>%s</title><guid isPermaLink=\"false\">%s</guid>"
                   "<link>/posts/%s</link><description>&lt;p&gt;About %s&lt;/p&gt;"
                   "</description><pubDate>Tue, 24 Nov 2026 07:00:00 GMT</pubDate>"
                   "</item>" % (t, guid, guid, t))
    out.append("</channel></rss>\n")
    return "\n".join(out)


def write(path, text, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


class Case:
    """A temp dir with a herald.yml naming the given sources."""

    def __init__(self, name, sources, newsletters=None):
        self.dir = tempfile.mkdtemp(prefix="collect-%s." % name, dir=TMP)
        self.db = database()     # herald.db, or PostgreSQL (cli-pg/)
        nls = newsletters or [("daily", sources)]
        lines = ['database: "%s"' % self.db, "smtp:", "  url: smtp://127.0.0.1:2525",
                 "newsletters:"]
        for nid, srcs in nls:
            lines += ["  - id: %s" % nid, "    title: T %s" % nid,
                      '    from: "News <news@example.org>"',
                      "    bounce_address: bounces@example.org",
                      '    schedule: "0 7 * * *"', "    sources:"]
            for kind, loc in srcs:
                lines.append("      - %s: %s" % (kind, loc))
        write(os.path.join(self.dir, "herald.yml"), "\n".join(lines) + "\n")

    def run(self, *args, env=None):
        e = dict(os.environ)
        e.pop("HERALD_CONFIG", None)
        e.update(env or {})
        t0 = time.monotonic()
        p = subprocess.run([HERALD, "-c", os.path.join(self.dir, "herald.yml")] +
                           list(args), capture_output=True, text=True, env=e,
                           timeout=60)
        p.took = time.monotonic() - t0
        return p

    def sql(self, q, *params):
        con = db_connect(self.db, self.dir)
        try:
            return [tuple(r) for r in con.execute(q, params).fetchall()]
        finally:
            con.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def check(cond, what, p=None):
    if not cond:
        msg = "FAIL: " + what
        if p is not None:
            msg += "\n--- rc %d\n--- stdout\n%s--- stderr\n%s" % (p.returncode, p.stdout, p.stderr)
        print(msg)
        FAILED.append(what)
    return cond


def test_conditional_get(srv, root):
    write(os.path.join(root, "cond.xml"), rss([("a", "A"), ("b", "B")]))
    c = Case("cond", [("feed", srv.url("/cond.xml"))])
    p = c.run("collect")
    check(p.returncode == 0, "first collect succeeds", p)
    check("feed %s: 2 new (2 seen)" % srv.url("/cond.xml") in p.stdout, "2 new reported", p)
    p = c.run("collect")
    check(p.returncode == 0, "second collect succeeds", p)
    check("feed %s: not modified" % srv.url("/cond.xml") in p.stdout, "304 reported", p)
    reqs = srv.requests_for("/cond.xml")
    check(len(reqs) == 2, "two requests")
    h = reqs[-1]["headers"]
    check("if-none-match" in h and "if-modified-since" in h,
          "conditional headers sent: %s" % h)
    check(reqs[0]["headers"].get("user-agent", "").startswith("herald/"),
          "User-Agent names herald")
    check(c.sql("SELECT count(*) FROM articles") == [(2,)], "articles stored once")
    row = c.sql("SELECT etag, last_modified, failures, last_error, title FROM sources")[0]
    check(row[0] and row[1] and row[2] == 0 and row[3] is None and row[4] == "Test feed",
          "source state kept: %r" % (row,))
    url = c.sql("SELECT url FROM articles WHERE guid = 'a'")[0][0]
    check(url == "http://127.0.0.1:%d/posts/a" % srv.port, "relative link resolved: %s" % url)
    c.cleanup()


def test_twice_without_cache(srv, root):
    write(os.path.join(root, "nc.xml"), rss([("a", "A"), ("b", "B"), ("c", "C")]))
    c = Case("nc", [("feed", srv.url("/nocache/nc.xml"))])
    p = c.run("collect")
    check("3 new (3 seen)" in p.stdout, "3 new", p)
    p = c.run("collect")
    check(p.returncode == 0 and "0 new (3 seen)" in p.stdout, "collecting twice adds nothing", p)
    check(c.sql("SELECT count(*) FROM articles") == [(3,)], "3 articles")
    # validators from an earlier response that this server no longer sends
    # are dropped after a full response, not sent back for ever
    con = db_connect(c.db, c.dir)
    con.execute("UPDATE sources SET etag = '\"stale\"', "
                "last_modified = 'Mon, 01 Jan 2024 00:00:00 GMT'")
    con.commit()
    con.close()
    c.run("collect")
    check(c.sql("SELECT etag, last_modified FROM sources") == [(None, None)],
          "validators of a 200 without them: %r" % c.sql("SELECT etag, last_modified FROM sources"))
    c.run("collect")
    h = srv.requests_for("/nocache/nc.xml")[-1]["headers"]
    check("if-none-match" not in h and "if-modified-since" not in h,
          "no stale conditional headers: %s" % h)
    c.cleanup()


def test_gzip(srv, root):
    write(os.path.join(root, "gz.xml"), rss([("g", "Gzipped")]))
    c = Case("gzip", [("feed", srv.url("/gzip/gz.xml"))])
    p = c.run("collect")
    check(p.returncode == 0 and "1 new (1 seen)" in p.stdout, "gzip feed collected", p)
    h = srv.requests_for("/gzip/gz.xml")[-1]["headers"]
    check("gzip" in h.get("accept-encoding", ""), "asked for gzip: %s" % h)
    check(c.sql("SELECT title FROM articles") == [("Gzipped",)], "gzip article stored")
    c.cleanup()


def test_redirects(srv, root):
    write(os.path.join(root, "r.xml"), rss([("r", "R")]))
    ok, bad = srv.url("/redirect/302/5/r.xml"), srv.url("/redirect/302/6/r.xml")
    c = Case("redir", [("feed", ok), ("feed", bad)])
    p = c.run("collect")
    check(p.returncode == 1, "a failing source makes exit 1", p)
    check("feed %s: 1 new (1 seen)" % ok in p.stdout, "5 redirects followed", p)
    check("feed %s: error: more than 5 redirects (1 failure in a row)" % bad in p.stdout,
          "6 redirects refused", p)
    check(c.sql("SELECT fetch_url FROM sources WHERE location = ?", ok) == [(None,)],
          "temporary redirects do not move the source")
    c.cleanup()


def test_permanent_redirect(srv, root):
    write(os.path.join(root, "moved.xml"), rss([("m", "M")]))
    loc = srv.url("/redirect/301/1/moved.xml")
    c = Case("moved", [("feed", loc)])
    p = c.run("collect")
    check(p.returncode == 0, "301 followed", p)
    check(c.sql("SELECT fetch_url FROM sources") == [(srv.url("/moved.xml"),)],
          "301 updates fetch_url: %r" % c.sql("SELECT fetch_url FROM sources"))
    before = len(srv.requests_for("/redirect/301/1/moved.xml"))
    p = c.run("collect")
    check(p.returncode == 0 and "not modified" in p.stdout, "second fetch from the new URL", p)
    check(len(srv.requests_for("/redirect/301/1/moved.xml")) == before,
          "old location not asked again")
    check(srv.requests_for("/moved.xml")[-1]["headers"].get("if-none-match"),
          "conditional GET at the new location")
    c.cleanup()


def test_slow_and_big(srv, root):
    write(os.path.join(root, "slow.xml"), rss([("s", "S")]))
    slow = srv.url("/delay/5000/slow.xml")
    hang = srv.url("/hang")
    big = srv.url("/big/%d" % (17 << 20))
    c = Case("slow", [("feed", slow), ("feed", hang), ("feed", big)])
    p = c.run("collect", env={"HERALD_FETCH_TIMEOUT": "1"})
    check(p.returncode == 1, "timeouts fail", p)
    check(p.took < 4, "timeouts bound the run (%.1f s)" % p.took, p)
    check("feed %s: error: timed out" % slow in p.stdout, "slow response timed out", p)
    check("feed %s: error: timed out" % hang in p.stdout, "hung server timed out", p)
    check("feed %s: error: response larger than the 16 MB limit" % big in p.stdout,
          "oversized body refused", p)
    check(c.sql("SELECT count(*) FROM articles") == [(0,)], "nothing stored")
    c.cleanup()


def test_failure_keeps_state(srv, root):
    a, b = os.path.join(root, "keep-a.xml"), os.path.join(root, "keep-b.xml")
    write(a, rss([("a1", "A1"), ("a2", "A2")]))
    write(b, rss([("b1", "B1")]))
    ua, ub = srv.url("/keep-a.xml"), srv.url("/keep-b.xml")
    c = Case("keep", [("feed", ua), ("feed", ub)])
    p = c.run("collect")
    check(p.returncode == 0, "both collected", p)
    etag = c.sql("SELECT etag FROM sources WHERE location = ?", ua)[0][0]
    os.unlink(a)
    write(b, rss([("b1", "B1"), ("b2", "B2")]))
    p = c.run("collect")
    check(p.returncode == 1, "exit 1 when a source fails", p)
    check("feed %s: error: HTTP 404 Not Found (1 failure in a row)" % ua in p.stdout,
          "404 reported", p)
    check("feed %s: 1 new (2 seen)" % ub in p.stdout, "the other source still collects", p)
    check("1 of 2 sources failed" in p.stderr, "summary on stderr", p)
    p = c.run("collect")
    check("feed %s: error: HTTP 404 Not Found (2 failures in a row)" % ua in p.stdout,
          "failures counted in a row", p)
    row = c.sql("SELECT etag, failures, last_error, last_success IS NOT NULL FROM sources "
                "WHERE location = ?", ua)[0]
    check(row == (etag, 2, "HTTP 404 Not Found", 1), "last good state kept: %r" % (row,))
    check(c.sql("SELECT count(*) FROM articles a JOIN sources s ON s.id = a.source_id "
                "WHERE s.location = ?", ua) == [(2,)], "articles of the failing source kept")
    write(a, rss([("a1", "A1"), ("a2", "A2"), ("a3", "A3")]))
    p = c.run("collect")
    check(p.returncode == 0 and "feed %s: 1 new (3 seen)" % ua in p.stdout, "recovers", p)
    check(c.sql("SELECT failures, last_error FROM sources WHERE location = ?", ua) == [(0, None)],
          "failure count reset")
    c.cleanup()


def test_not_a_feed(srv, root):
    write(os.path.join(root, "page.html"), "<!DOCTYPE html><html><body><p>hi</p></body></html>\n")
    u = srv.url("/page.html")
    c = Case("html", [("feed", u)])
    p = c.run("collect")
    check(p.returncode == 1 and ("feed %s: error: not a feed: " % u) in p.stdout,
          "an HTML page is not a feed", p)
    c.cleanup()
    write(os.path.join(root, "empty.xml"), "")
    u = srv.url("/empty.xml")
    c = Case("emptydoc", [("feed", u)])
    p = c.run("collect")
    check(p.returncode == 1 and "feed %s: error: not a feed: " % u in p.stdout and
          "not a feed: not a feed" not in p.stdout, "an empty document, said once", p)
    c.cleanup()


def test_entity_amplification(srv, root):
    """Issue 9 item 2: 1.4 MB whose entity references expand to 40 GB. The
    source fails with a reason that is recorded, poll after poll, instead of
    taking the process down."""
    refs = "&e;" * 200
    items = "".join("<item><title>t%d</title><guid>g%d</guid><description>%s</description>"
                    "</item>\n" % (i, i, refs) for i in range(2000))
    write(os.path.join(root, "amp.xml"),
          '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY e "%s">]>\n<rss version="2.0">'
          "<channel><title>amp</title>\n%s</channel></rss>\n" % ("x" * 100000, items))
    write(os.path.join(root, "fine.xml"), rss([("f1", "F1")]))
    u, ok = srv.url("/amp.xml"), srv.url("/fine.xml")
    c = Case("amp", [("feed", u), ("feed", ok)])
    for n in (1, 2):
        p = c.run("collect")
        check(p.returncode == 1, "collect %d: exit 1" % n, p)
        check("feed %s: error: not a feed: entity expansion refused: line " % u in p.stdout and
              "(%d failure%s in a row)" % (n, "" if n == 1 else "s") in p.stdout,
              "collect %d: refusal reported and counted" % n, p)
        check(p.took < 20, "collect %d: quick (%.1f s)" % (n, p.took), p)
        row = c.sql("SELECT failures, last_error FROM sources WHERE location = ?", u)[0]
        check(row[0] == n and row[1].startswith("not a feed: entity expansion refused"),
              "collect %d: failure recorded: %r" % (n, row))
    check(c.sql("SELECT count(*) FROM articles") == [(1,)], "the other source collected")
    p = c.run("status")
    check("entity expansion refused" in p.stdout + p.stderr, "status shows the reason", p)
    p = c.run("inspect", os.path.join(root, "amp.xml"))
    check(p.returncode == 1 and "entity expansion refused" in p.stderr, "inspect refuses it", p)
    c.cleanup()


def test_folder(srv, root):
    c = Case("folder", [("folder", "articles")])
    d = os.path.join(c.dir, "articles")
    os.makedirs(d)
    shutil.copy(os.path.join(SHARED, "examples", "article.txt"), d)
    write(os.path.join(d, "second.md"), "---\ntitle: Second\ndate: 2026-11-20\n---\nBody *here*.\n")
    for skip in (".hidden.txt", "draft.txt~", "#edit.txt#", "upload.txt.part", "x.txt.tmp",
                 ".second.md.swp", "notes.html"):
        write(os.path.join(d, skip), "Skipped\nbody\n")
    write(os.path.join(d, "broken.txt"), b"Title\nbad \xff byte\n", mode="wb")
    p = c.run("collect")
    loc = os.path.join(c.dir, "articles")
    check(p.returncode == 1, "a bad file makes exit 1", p)
    check("folder %s: 2 new" % loc in p.stdout, "two articles", p)
    check("folder %s: error: broken.txt: not valid UTF-8 (line 2)" % loc in p.stdout,
          "the bad file is named", p)
    titles = sorted(t for (t,) in c.sql("SELECT title FROM articles"))
    check(titles == ["Russia buys \u2018millions\u2019 of rockets and shells from North Korea",
                     "Second"], "titles exact: %r" % titles)
    text = c.sql("SELECT text FROM articles WHERE guid = 'file:article.txt'")[0][0]
    check(text.count("\n\n") == 12 and text.rstrip().endswith("International Relations."),
          "one paragraph per line, author note last")
    pub = c.sql("SELECT published FROM articles WHERE guid = 'file:second.md'")[0][0]
    check(pub == 1795132800, "front matter date: %r" % pub)
    os.unlink(os.path.join(d, "broken.txt"))
    p = c.run("collect")
    check(p.returncode == 0 and "folder %s: 0 new" % loc in p.stdout, "no new the second time", p)
    # write elsewhere, then rename in
    write(os.path.join(c.dir, "third.txt"), "Third\n\nBody\n")
    os.rename(os.path.join(c.dir, "third.txt"), os.path.join(d, "third.txt"))
    p = c.run("collect")
    check("folder %s: 1 new" % loc in p.stdout, "renamed-in file collected", p)
    check(c.sql("SELECT failures, last_error FROM sources") == [(0, None)], "healthy again")
    shutil.rmtree(d)
    p = c.run("collect")
    check(p.returncode == 1 and "No such file or directory" in p.stdout,
          "missing folder is an error", p)
    c.cleanup()


def test_folder_files(srv, root):
    """What an operator drops into a folder: BOM and CRLF, a bare title,
    a file still being written, a bad file next to a missing folder."""
    write(os.path.join(root, "ok.xml"), rss([("k", "K")]))
    u = srv.url("/ok.xml")
    c = Case("files", [("folder", "articles"), ("folder", "missing"), ("feed", u)])
    d = os.path.join(c.dir, "articles")
    loc = os.path.join(c.dir, "articles")
    write(os.path.join(d, "bom.txt"), b"\xef\xbb\xbfBOM title\r\nLine one\r\nsame para\r\n\r\nPara two\r\n",
          mode="wb")
    write(os.path.join(d, "bare.txt"), "Only a title\n")
    write(os.path.join(d, "growing.txt"), "")          # being created: not yet
    write(os.path.join(d, "bad.txt"), b"Title\n\xff\n", mode="wb")
    p = c.run("collect")
    check(p.returncode == 1, "bad file and missing folder: exit 1", p)
    check("folder %s: error: bad.txt: not valid UTF-8 (line 2)" % loc in p.stdout, "bad file named", p)
    check(p.stdout.count("bad.txt") == 1, "the bad file is reported once", p)
    check("folder %s: 2 new, 1 file failed (1 failure in a row)" % loc in p.stdout,
          "one summary line for the folder", p)
    check("growing.txt" not in p.stdout, "an empty file is not an error", p)
    check("folder %s: error: cannot read the folder: No such file or directory (1 failure in a row)"
          % os.path.join(c.dir, "missing") in p.stdout, "missing folder explained", p)
    check("feed %s: 1 new (1 seen)" % u in p.stdout, "the feed is still collected", p)
    rows = dict(c.sql("SELECT guid, title FROM articles"))
    check(rows.get("file:bom.txt") == "BOM title", "no U+FEFF in the title: %r" % rows)
    check(rows.get("file:bare.txt") == "Only a title", "a bare title: %r" % rows)
    text = c.sql("SELECT text FROM articles WHERE guid = 'file:bom.txt'")[0][0]
    check(text == "Line one same para\n\nPara two", "CRLF paragraphs: %r" % text)
    st = c.run("status")
    check("FAILING (1 in a row): cannot read the folder" in st.stdout, "status shows the error", st)
    # the file is finished and renamed in; the bad one fixed
    write(os.path.join(d, "growing.txt"), "Grown\n\nBody\n")
    write(os.path.join(d, "bad.txt"), "Fixed\n")
    os.makedirs(os.path.join(c.dir, "missing"))
    p = c.run("collect")
    check(p.returncode == 0 and "folder %s: 2 new" % loc in p.stdout, "both collected now", p)
    c.cleanup()


def test_newsletters(srv, root):
    write(os.path.join(root, "n1.xml"), rss([("x", "X")]))
    write(os.path.join(root, "n2.xml"), rss([("y", "Y"), ("z", "Z")]))
    u1, u2 = srv.url("/n1.xml"), srv.url("/n2.xml")
    c = Case("multi", None, newsletters=[("one", [("feed", u1)]), ("two", [("feed", u2)])])
    p = c.run("collect")
    check(p.returncode == 0 and "1 new" in p.stdout and "2 new" in p.stdout,
          "every newsletter collected without -n", p)
    check(p.stdout == "newsletter one:\n  feed %s: 1 new (1 seen)\n"
          "newsletter two:\n  feed %s: 2 new (2 seen)\n" % (u1, u2),
          "each newsletter's sources under its name", p)
    p = c.run("-n", "two", "collect")
    check(p.returncode == 0 and u1 not in p.stdout and u2 in p.stdout, "-n picks one", p)
    p = c.run("collect", "-n", "nope")
    check(p.returncode == 2, "unknown newsletter is a usage error", p)
    p = c.run("collect", "extra")
    check(p.returncode == 2, "extra argument is a usage error", p)
    p = c.run("collect", "--help")
    check(p.returncode == 0 and "usage: herald collect" in p.stdout, "--help", p)
    c.cleanup()


def main():
    root = tempfile.mkdtemp(prefix="collect-www.", dir=TMP)
    srv = httpd.Server(root).start()
    try:
        for t in (test_conditional_get, test_twice_without_cache, test_gzip, test_redirects,
                  test_permanent_redirect, test_slow_and_big, test_failure_keeps_state,
                  test_not_a_feed, test_entity_amplification, test_folder, test_folder_files, test_newsletters):
            t0 = time.monotonic()
            n = len(FAILED)
            t(srv, root)
            print("%s %s (%.2f s)" % ("ok  " if len(FAILED) == n else "FAIL", t.__name__,
                                      time.monotonic() - t0))
    finally:
        srv.stop()
        shutil.rmtree(root, ignore_errors=True)
    if FAILED:
        print("%d check(s) failed" % len(FAILED))
        return 1
    print("PASS: test_collect")
    return 0


if __name__ == "__main__":
    sys.exit(main())
