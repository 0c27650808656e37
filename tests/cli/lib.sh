# Shared helpers for CLI tests (bash).  Source it first:
#   . "$(dirname "$0")/lib.sh"
# It gives: $HERALD (the binary), $T (a fresh temp dir, removed on exit),
# $DB (what herald.yml's `database:` says: see below), and small
# assertions that print what failed and exit 1.
#
# The suite runs twice (tests/CMakeLists.txt): cli/NAME on SQLite, and
# cli-pg/NAME with HERALD_TEST_DATABASE set to a PostgreSQL server's URI.
# $DB is then a fresh database of this test's own on that server (else
# herald.db); new_database gives another one; db_query runs SQL on either;
# sqlite_only "why" ends a test that is about SQLite's files, visibly
# (exit 77: ctest shows it as skipped) when it runs on PostgreSQL.
set -euo pipefail
HERALD=${HERALD_BIN:?run through ctest}
SRC=${HERALD_SOURCE_DIR:?}
SHARED=${HERALD_SHARED_DIR:?}
mkdir -p "${HERALD_TEST_TMP:-/tmp}"
T=$(mktemp -d "${HERALD_TEST_TMP:-/tmp}/cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
unset HERALD_CONFIG

fail() { echo "FAIL: $*" >&2; exit 1; }
# run CMD...: runs it, keeping stdout in $T/out, stderr in $T/err, status in $rc
run() { set +e; "$@" >"$T/out" 2>"$T/err"; rc=$?; set -e; }
expect_rc() { [ "$rc" -eq "$1" ] || { echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"; fail "expected exit $1, got $rc: ${2:-}"; }; }
expect_out() { grep -qE -- "$1" "$T/out" || { cat "$T/out"; fail "stdout lacks /$1/"; }; }
expect_err() { grep -qE -- "$1" "$T/err" || { cat "$T/err"; fail "stderr lacks /$1/"; }; }
expect_no_out() { ! grep -qE -- "$1" "$T/out" || { cat "$T/out"; fail "stdout has /$1/"; }; }
# free_port: an unused TCP port on 127.0.0.1
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
pass() { echo "PASS: $(basename "$0")"; }

# new_database NAME: a database for herald.yml: NAME.db, or on PostgreSQL a
# new empty database (its URI)
pg_databases=0
new_database() {
	if [ -z "${HERALD_TEST_DATABASE:-}" ]; then
		echo "$1.db"
		return
	fi
	pg_databases=$((pg_databases + 1))
	local name="t_$(basename "$0" .sh)_$$_${pg_databases}_$1"
	name=$(echo "$name" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n' _ | cut -c1-63)
	psql -X -q -d "$HERALD_TEST_DATABASE" -c "CREATE DATABASE $name" >/dev/null ||
	    fail "cannot create database $name on $HERALD_TEST_DATABASE"
	echo "${HERALD_TEST_DATABASE%%/herald\?*}/$name?${HERALD_TEST_DATABASE#*\?}"
}
# db_query SQL [DATABASE]: runs SQL on $DB (or DATABASE), prints the rows
# as sqlite3 does (columns joined by |)
db_query() {
	local db=${2:-$DB}
	case $db in
	postgres*://*) psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" -c "$1" ;;
	*) sqlite3 "$db" "$1" ;;
	esac
}
# on_pg: true when this run is the PostgreSQL one
on_pg() { [ -n "${HERALD_TEST_DATABASE:-}" ]; }
# sqlite_only WHY: this test (or what follows) is about SQLite itself
sqlite_only() {
	if on_pg; then
		echo "SKIP on PostgreSQL: $(basename "$0") is SQLite only: $*"
		exit 77
	fi
}
DB=$(new_database herald)
