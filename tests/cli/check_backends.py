#!/usr/bin/python3
"""Every CLI test runs on both backends (tests/CMakeLists.txt: cli/ and
cli-pg/), so none may name a SQLite file where it could name $DB: a test
whose herald.yml says `database: herald.db`, or that opens the file with
sqlite3 without an on_pg branch, would pass its PostgreSQL run on SQLite.
This fails on such a file, unless it declares itself SQLite only
(sqlite_only) or runs once (run_once), saying why."""
import glob
import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
bad = []
for path in sorted(glob.glob(os.path.join(here, "test_*.sh")) +
                   glob.glob(os.path.join(here, "test_*.py")) +
                   [os.path.join(here, "web_helpers.py")]):
    text = open(path, encoding="utf-8").read()
    if re.search(r"^\s*(sqlite_only|run_once)\b", text, re.M):
        continue
    name = os.path.basename(path)
    for m in re.finditer(r'^(?:\s*f\.write\(f?"""|\s*)database: (?!"?[{$])(.*)$',
                         text, re.M):
        bad.append(f"{name}: `database: {m.group(1)}`: use $DB / database()")
    if "sqlite3.connect(" in text and "on_pg" not in text:
        bad.append(f"{name}: sqlite3.connect without an on_pg branch: "
                   "use db_connect()")
    if re.search(r"^\s*[^#]*\bsqlite3 [\w$\"]", text, re.M) and "on_pg" not in text \
            and path.endswith(".sh"):
        bad.append(f"{name}: the sqlite3 shell: use db_query")
for b in bad:
    print("FAIL:", b)
print(f"{len(bad)} failed" if bad else "PASS: every CLI test names its "
      "database through the helpers or says why it does not")
sys.exit(1 if bad else 0)
