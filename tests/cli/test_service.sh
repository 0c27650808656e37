#!/usr/bin/env bash
# The service as installed (issue 12): `herald init --system` lays out
# /etc/herald with the database and the secret under /var/lib/herald (under
# --root, as DESTDIR does); `cmake --install` puts the unit, the sysusers.d
# file and the man pages in place; the installed unit passes
# `systemd-analyze verify` and names the installed binary; the man pages are
# clean under `mandoc -T lint`; no --help points at a file an installed
# herald does not have.
. "$(dirname "$0")/lib.sh"
sqlite_only "init --system lays out the SQLite database under /var/lib/herald and the installed files; no database is opened"
BUILD=${HERALD_BUILD_DIR:?}

# init --system
run "$HERALD" init --system --root "$T/root"; expect_rc 0
expect_out "created $T/root/etc/herald/herald.yml"; expect_out "systemctl enable --now herald"
cfg=$T/root/etc/herald/herald.yml
grep -qx "database: /var/lib/herald/herald.db" "$cfg" || fail "database not under /var/lib/herald"
grep -qx "secret_file: /var/lib/herald/secret" "$cfg" || fail "secret_file not under /var/lib/herald"
[ -f "$T/root/etc/herald/templates/digest.html.mustache" ] || fail "templates"
[ ! -e "$T/root/var/lib/herald/herald.db" ] || fail "init made a database"
run "$HERALD" -c "$cfg" config check -q; expect_rc 0
[ ! -s out ] && [ ! -s err ] || fail "config check -q of the system layout printed: $(cat out err)"
run "$HERALD" -c "$cfg" config check; expect_rc 0; expect_out "^database: /var/lib/herald/herald.db"
run "$HERALD" init --system --root "$T/root"; expect_rc 2; expect_err "already exists"
run "$HERALD" init --system somewhere; expect_rc 2; expect_err "give no DIR"
run "$HERALD" init --root "$T/x"; expect_rc 2; expect_err "goes with --system"
run "$HERALD" init --help; expect_rc 0; expect_out "--system"

# cmake --install into a staging prefix
run cmake --install "$BUILD" --prefix "$T/stage"; expect_rc 0
for f in bin/herald lib/systemd/system/herald.service lib/sysusers.d/herald.conf \
    share/man/man1/herald.1 share/man/man5/herald.yml.5 \
    share/herald/templates/digest.html.mustache; do
	[ -f "$T/stage/$f" ] || fail "not installed: $f"
done
unit=$T/stage/lib/systemd/system/herald.service
grep -qx "ExecStart=$T/stage/bin/herald daemon" "$unit" || fail "ExecStart: $(grep ExecStart "$unit")"
grep -qx "Type=notify" "$unit" || fail "Type=notify"
grep -qx "StateDirectory=herald" "$unit" || fail "StateDirectory"
grep -qx "User=herald" "$unit" || fail "User"
grep -q "^u herald " "$T/stage/lib/sysusers.d/herald.conf" || fail "sysusers.d: the herald user"
run "$T/stage/bin/herald" --version; expect_rc 0; expect_out "^herald "
# the unit as installed: systemd's own checks, and its exposure score
run systemd-analyze verify --man=no "$unit"; expect_rc 0 "systemd-analyze verify"
[ ! -s err ] || { cat err; fail "systemd-analyze verify complained"; }
run systemd-analyze security --offline=true "$unit"; expect_rc 0
score=$(sed -n 's/.*Overall exposure level for herald.service: \([0-9.]*\).*/\1/p' out)
awk -v s="$score" 'BEGIN { exit !(s != "" && s < 3.0) }' || fail "exposure level $score (want < 3.0)"

# the man pages: clean under mandoc's lint (warnings and above)
run mandoc -T lint -W warning "$T/stage/share/man/man1/herald.1" "$T/stage/share/man/man5/herald.yml.5"
expect_rc 0; [ ! -s out ] && [ ! -s err ] || fail "mandoc lint: $(cat out err)"
mandoc -T utf8 "$T/stage/share/man/man1/herald.1" | col -b > herald.1.txt
grep -q "One daemon runs per database" herald.1.txt || fail "herald(1) renders"

# --help never points at a file an installed herald does not have
for c in "" init config subscribers collect inspect preview send-test send daemon status bounces; do
	run "$HERALD" $c --help
	! grep -nE "docs/|README|[a-z]\.md\b" out err || fail "herald $c --help names a file of the source tree"
done
pass
