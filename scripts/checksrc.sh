#!/usr/bin/env bash
# Source checks that fail the build (the `checksrc` target of every build
# runs this, as curl's checksrc does):
#
#  1. No banned function in any C file: strcpy, strcat, sprintf, vsprintf,
#     gets, atoi, atol (unbounded writes, or no error report).  Use the
#     buf_* module, snprintf, xasprintf, memcpy with a known size, and
#     parse_long / strtol with an end pointer instead.  (Comments too: name
#     them without the parenthesis.)
#  2. The store is the only layer that speaks SQL: no file outside store/
#     (and tests/) names sqlite3 or includes store_sqlite.h.
#
#   scripts/checksrc.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

c_files() {	# dirs...
	find "$@" -name '*.[ch]' -not -path '*/corpus/*' 2>/dev/null | sort
}

fail=0
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol)[[:space:]]*\('
# shellcheck disable=SC2046
if grep -nE "$banned" $(c_files lib store config subscribers daemon tests fuzz bench); then
	echo "checksrc: banned function above (see scripts/checksrc.sh)" >&2
	fail=1
fi
# shellcheck disable=SC2046
if grep -nE 'sqlite3|store_sqlite\.h' $(c_files lib config subscribers daemon); then
	echo "checksrc: SQLite outside store/ above (docs/architecture.md)" >&2
	fail=1
fi
exit "$fail"
