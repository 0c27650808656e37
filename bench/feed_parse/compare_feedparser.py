#!/usr/bin/python3
"""Compares herald's reading of feeds with feedparser's (an independent check).

    compare_feedparser.py [-q] DRIVER BASE_URL FILE...

DRIVER is the feed_bench binary (run.sh builds it); it prints herald's
`inspect` JSON with -j.  Per feed: kind-independent title and link; per
entry: title, url, guid, published, updated, author, and the text of
summary and content (tags dropped, entities decoded, whitespace collapsed:
the two sanitisers keep different markup, the words must agree; a block
element separates words, an inline one does not, so MathML's
<mi>a</mi><mo>+</mo><mi>b</mi> reads "a+b" as it renders).
Differences are printed (-q: only the totals per field); the last lines
give the agreement per field and overall, in percent.  Exit status 0
always: some differences are deliberate (docs/feeds.md).
"""
import calendar
import html
import json
import re
import subprocess
import sys
import time
import warnings
from collections import Counter

import feedparser

warnings.simplefilter("ignore")

FIELDS = ("title", "url", "guid", "published", "updated", "author",
          "summary", "content")


def norm(s):
    if s is None:
        return None
    s = re.sub(r"\s+", " ", s.replace("\xa0", " ")).strip()
    return s or None


# Elements that start a new line or box (and SVG's labels): their tags
# separate words; other tags (b, a, span, MathML's mi/mo) do not.
BLOCK = re.compile(r"</?(p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|blockquote|pre|"
                   r"table|thead|tbody|tfoot|tr|td|th|caption|figure|figcaption|"
                   r"section|article|header|footer|aside|nav|main|address|"
                   r"title|desc|svg|math|img|body|html)\b[^>]*>", re.I)


def text(s):
    """The words of an HTML fragment."""
    if s is None:
        return None
    s = re.sub(r"<!--.*?-->", " ", s, flags=re.S)
    s = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", s, flags=re.S | re.I)
    s = BLOCK.sub(" ", s)
    s = re.sub(r"<[^>]*>", "", s)
    return norm(html.unescape(s))


def when(t):
    if not t:
        return None
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % tuple(
        time.gmtime(calendar.timegm(t))[:6])


def detail_text(value, detail):
    """Plain-text constructs are escaped first: their '<' is a character."""
    if value is None:
        return None
    if (detail or {}).get("type") == "text/plain":
        value = html.escape(value)
    return text(value)


def theirs(fe):
    ad = fe.get("author_detail") or {}
    content = fe.get("content")
    link = fe.get("link")
    # herald's identity rule (DESIGN §1): guid/id, else link, else a hash.
    guid = fe.get("id") or (link.strip() if link else None) or "(hash)"
    return {
        # herald's titles are plain text (docs/feeds.md): compare the words.
        "title": detail_text(fe.get("title"), fe.get("title_detail")),
        "url": link.strip() if link else None,
        "guid": guid,
        "published": when(fe.get("published_parsed")),
        "updated": when(fe.get("updated_parsed")) if "updated" in fe else None,
        "author": norm(ad.get("name") or ad.get("email") or fe.get("author")),
        "summary": detail_text(fe.get("summary"), fe.get("summary_detail") or
                               (content[0] if content else None)),
        "content": detail_text(content[0].value, content[0]) if content else None,
    }


def mine(he):
    return {
        "title": norm(he["title"]),
        "url": he["url"],
        "guid": "(hash)" if (he["guid"] or "").startswith("sha256:") else he["guid"],
        "published": he["published"],
        "updated": he["updated"],
        "author": norm(he["author"]),
        "summary": text(he["summary"]),
        "content": text(he["content"]),
    }


def main():
    args = sys.argv[1:]
    quiet = bool(args) and args[0] == "-q"
    if quiet:
        args = args[1:]
    driver, base, files = args[0], args[1], args[2:]
    same, diff = Counter(), Counter()
    for path in files:
        out = subprocess.run([driver, "-j", "-b", base, path],
                             capture_output=True, text=True).stdout
        try:
            h = json.loads(out)
        except ValueError:
            print("%s: herald printed no JSON: %r" % (path, out[:200]))
            diff["document"] += 1
            continue
        with open(path, "rb") as f:
            d = feedparser.parse(f.read(), response_headers={"content-location": base})
        if "error" in h:
            if not quiet:
                print("%s: herald: %s; feedparser: %d entries, bozo=%s" % (
                    path, h["error"], len(d.entries), d.bozo))
            (same if not d.entries else diff)["document"] += 1
            continue
        for k, v in (("feed title", detail_text(d.feed.get("title"),
                                                d.feed.get("title_detail"))),
                     ("feed link", d.feed.get("link"))):
            m = norm(h["title"]) if k == "feed title" else h["link"]
            if m == v:
                same[k] += 1
            else:
                diff[k] += 1
                if not quiet:
                    print("%s: %s: herald %r feedparser %r" % (path, k, m, v))
        if len(h["entries"]) != len(d.entries):
            diff["entries"] += 1
            if not quiet:
                print("%s: entries herald %d feedparser %d" % (
                    path, len(h["entries"]), len(d.entries)))
        else:
            same["entries"] += 1
        for i, (he, fe) in enumerate(zip(h["entries"], d.entries)):
            a, b = mine(he), theirs(fe)
            for k in FIELDS:
                if a[k] == b[k]:
                    same[k] += 1
                else:
                    diff[k] += 1
                    if not quiet:
                        print("%s: #%d %s: herald %r feedparser %r" % (
                            path, i, k, a[k], b[k]))
    keys = sorted(set(same) | set(diff))
    for k in keys:
        n = same[k] + diff[k]
        print("  %-11s equal %5d  different %4d  agreement %5.1f%%" % (
            k, same[k], diff[k], 100.0 * same[k] / n if n else 100.0))
    eq, ne = sum(same.values()), sum(diff.values())
    print("fields equal: %d, different: %d, agreement %.1f%%" % (
        eq, ne, 100.0 * eq / (eq + ne) if eq + ne else 100.0))


if __name__ == "__main__":
    main()
