# Shared helpers for CLI tests (bash).  Source it first:
#   . "$(dirname "$0")/lib.sh"
# It gives: $HERALD (the binary), $T (a fresh temp dir, removed on exit),
# and small assertions that print what failed and exit 1.
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
