#!/usr/bin/python3
"""Times Debian's python3-feedparser over the same files: feedparser_bench.py FILE..."""
import sys
import time
import warnings

import feedparser

warnings.simplefilter("ignore")
datas = [open(p, "rb").read() for p in sys.argv[1:]]
total = sum(len(d) for d in datas)
t0 = time.process_time()
entries = 0
for d in datas:
    entries += len(feedparser.parse(d).entries)
s = time.process_time() - t0
print("feedparser %s: %d bytes, %d entries, %.3f s CPU, %.2f MB/s" % (
    feedparser.__version__, total, entries, s, total / 1e6 / s))
