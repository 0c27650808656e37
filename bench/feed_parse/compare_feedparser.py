#!/usr/bin/python3
"""Compares herald's reading of feeds with feedparser's (an independent check).

    compare_feedparser.py DRIVER BASE_URL FILE...

DRIVER is the feed_bench binary (run.sh builds it); it prints herald's
`inspect` JSON with -j.  For each entry, title, url, published, updated and
author are compared after normalising whitespace; differences are printed.
Exit status 0 always: some differences are deliberate (docs/feeds.md).
"""
import calendar
import json
import re
import subprocess
import sys
import warnings

import feedparser

warnings.simplefilter("ignore")


def norm(s):
    if s is None:
        return None
    s = re.sub(r"\s+", " ", s.replace("\xa0", " ")).strip()
    return s or None


def when(t):
    if not t:
        return None
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % tuple(
        __import__("time").gmtime(calendar.timegm(t))[:6])


def main():
    driver, base, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    same = diff = 0
    for path in files:
        out = subprocess.run([driver, "-j", "-b", base, path],
                             capture_output=True, text=True).stdout
        h = json.loads(out)
        with open(path, "rb") as f:
            d = feedparser.parse(f.read(), response_headers={"content-location": base})
        if "error" in h:
            print("%s: herald: %s; feedparser: %d entries, bozo=%s" % (
                path, h["error"], len(d.entries), d.bozo))
            continue
        if len(h["entries"]) != len(d.entries):
            print("%s: entries herald %d feedparser %d" % (path, len(h["entries"]), len(d.entries)))
        for he, fe in zip(h["entries"], d.entries):
            ad = fe.get("author_detail") or {}
            theirs = {
                "title": norm(fe.get("title")),
                "url": fe.get("link"),
                "published": when(fe.get("published_parsed")),
                "updated": when(fe.get("updated_parsed")) if "updated" in fe else None,
                "author": norm(ad.get("name") or fe.get("author")),
            }
            for k, v in theirs.items():
                mine = norm(he[k]) if k in ("title", "author") else he[k]
                if mine == v:
                    same += 1
                else:
                    diff += 1
                    print("%s: %s: herald %r feedparser %r" % (path, k, mine, v))
    print("fields equal: %d, different: %d" % (same, diff))


if __name__ == "__main__":
    main()
