#!/usr/bin/python3
"""Collect N feeds from a local HTTP server that delays every response.

Usage: bench/collect/bench_collect.py [HERALD_BIN] [--feeds 200] [--delay-ms 200]

Starts tests/cli/httpd.py on 127.0.0.1, writes N feeds (10 items each) and a
herald.yml with one feed source per feed, runs `herald collect` once cold
(every feed downloaded and parsed) and once warm (every feed answers 304),
and prints the wall-clock times.  Goal: the cold run of 200 feeds delayed
200 ms each takes under 2 s, which only overlapping fetches can do (one
after another it would take 40 s).
"""
import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "cli"))
import httpd  # noqa: E402


def feed(i):
    items = "".join(
        "<item><title>Feed %d item %d</title><guid>f%d-i%d</guid>"
        "<link>https://example.org/%d/%d</link>"
        "<description>&lt;p&gt;Paragraph of item %d with &lt;a href=\"/x\"&gt;a link&lt;/a&gt;."
        "&lt;/p&gt;</description><pubDate>Tue, 24 Nov 2026 07:%02d:00 GMT</pubDate></item>"
        % (i, k, i, k, i, k, k, k) for k in range(10))
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            "<title>Feed %d</title><link>https://example.org/%d/</link>%s</channel></rss>\n"
            % (i, i, items))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("herald", nargs="?", default=os.path.join(SRC, "build", "herald"))
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--delay-ms", type=int, default=200)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-collect.")
    www = os.path.join(work, "www")
    os.makedirs(www)
    srv = httpd.Server(www).start()
    try:
        lines = ["database: herald.db", "smtp:", "  url: smtp://127.0.0.1:2525",
                 "newsletters:", "  - id: bench", "    title: Bench",
                 '    from: "Bench <bench@example.org>"',
                 "    bounce_address: bounces@example.org",
                 '    schedule: "0 7 * * *"', "    sources:"]
        for i in range(args.feeds):
            with open(os.path.join(www, "feed%d.xml" % i), "w") as f:
                f.write(feed(i))
            lines.append("      - feed: %s" % srv.url("/delay/%d/feed%d.xml" % (args.delay_ms, i)))
        cfg = os.path.join(work, "herald.yml")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        times = []
        for label in ("cold", "warm (304)"):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.monotonic()
            p = subprocess.run([args.herald, "-c", cfg, "collect"], capture_output=True,
                               text=True, timeout=600)
            took = time.monotonic() - t0
            if p.returncode != 0:
                print(p.stdout, p.stderr)
                return 1
            times.append(took)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            print("%-11s %d feeds, %d ms delay each: %.2f s (herald CPU %.2f s)" %
                  (label, args.feeds, args.delay_ms, took, cpu))
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        con = sqlite3.connect(os.path.join(work, "herald.db"))
        n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        con.close()
        serial = args.feeds * args.delay_ms / 1000.0
        print("articles stored: %d; peak RSS %.1f MB; one after another: >= %.0f s; "
              "speed-up %.0fx" % (n, rss / 1024.0, serial, serial / times[0]))
        ok = n == args.feeds * 10 and times[0] < 2.0
        print("goal (cold < 2 s): %s" % ("met" if ok else "NOT met"))
        return 0 if ok else 1
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
