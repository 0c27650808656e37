#!/usr/bin/env bash
# herald subscribers import/export: RFC 4180 input, bad rows with line
# numbers, dry run, idempotence, no re-activation, round trip, bad files.
. "$(dirname "$0")/lib.sh"

mkdir -p articles
cat > herald.yml <<YML
database: "$DB"
smtp: { url: "smtp://127.0.0.1:2525", starttls: off }
newsletters:
  - id: daily
    title: Daily
    from: "Daily <news@example.org>"
    bounce_address: bounces@example.org
    schedule: "0 7 * * *"
    sources: [ { folder: articles } ]
YML
export HERALD_CONFIG=$T/herald.yml
H() { "$HERALD" "$@"; }
q() { db_query "$1"; }
group_concat="group_concat(status)"
! on_pg || group_concat="string_agg(status, ',')"
counts() { q "SELECT (SELECT count(*) FROM subscribers)||' '||(SELECT count(*) FROM subscriptions)||' '||(SELECT count(*) FROM events)||' '||(SELECT $group_concat FROM (SELECT status FROM subscriptions ORDER BY subscriber_id) x)"; }

# BOM, CRLF, email column not first and in another case, quoted commas,
# quotes and line breaks, an attribute, bad rows, a duplicate, blank line,
# no final line break.
printf '\xef\xbb\xbfName,City,E-Mail-Ignored,EMAIL\r\n' > in.csv
printf '"Smith, Ann",Oslo,x,ann@example.org\r\n' >> in.csv
printf '"Bob ""The Builder""",,x,Bob@Example.COM\r\n' >> in.csv
printf '"multi\r\nline name",Bergen,x,carol@example.net\r\n' >> in.csv
printf 'Dave,Rome,x,dave@\r\n' >> in.csv
printf '\r\n' >> in.csv
printf 'Eve,Oslo,x\r\n' >> in.csv
printf 'Bobby,Paris,x,BOB@example.com\r\n' >> in.csv
printf 'Zoë,Tromsø,x,zoe@example.org' >> in.csv

printf 'email\n' | H subscribers import - >/dev/null	# creates the database
before=$(counts)
run H subscribers import in.csv --dry-run; expect_rc 1
expect_out "dry run: in.csv into daily: 7 rows: 4 added, 0 already subscribed, 0 skipped as unsubscribed/bounced, 1 duplicates, 2 bad"
expect_out "nothing was changed"
expect_err "in.csv:6: \"dave@\": invalid address"
expect_err "in.csv:8: 3 fields, but the header row has 4"
expect_err "in.csv:9: \"BOB@example.com\": duplicate"
cp out dry.out; cp err dry.err
[ "$(counts)" = "$before" ] || fail "dry run changed the database: $(counts)"

run H subscribers import in.csv; expect_rc 1
expect_out "^in.csv into daily: 7 rows: 4 added, 0 already subscribed, 0 skipped as unsubscribed/bounced, 1 duplicates, 2 bad"
diff <(sed 's/^dry run: //' dry.out | grep -v 'nothing was changed') out || fail "dry run reported differently"
diff dry.err err || fail "dry run errors differ"
[ "$(q 'SELECT count(*) FROM subscribers')" = 4 ] || fail "4 subscribers expected"
[ "$(q "SELECT name FROM subscribers WHERE email_key='bob@example.com'")" = 'Bob "The Builder"' ] || fail "quotes"
[ "$(q "SELECT email FROM subscribers WHERE email_key='bob@example.com'")" = 'Bob@Example.COM' ] || fail "first duplicate wins"
[ "$(q "SELECT name FROM subscribers WHERE email_key='carol@example.net'")" = "$(printf 'multi\r\nline name')" ] || fail "line break in a field"
[ "$(q "SELECT attributes FROM subscribers WHERE email_key='ann@example.org'")" = '{"City":"Oslo","E-Mail-Ignored":"x"}' ] || fail "attributes: $(q "SELECT attributes FROM subscribers WHERE email_key='ann@example.org'")"
[ "$(q "SELECT name FROM subscribers WHERE email_key='zoe@example.org'")" = 'Zoë' ] || fail "utf-8"
[ "$(q "SELECT count(*) FROM events WHERE kind='subscribe' AND detail LIKE 'import in.csv:%'")" = 4 ] || fail "events"

# the same import again changes nothing
after=$(counts); ev=$(q "SELECT count(*) FROM subscribers")
run H subscribers import in.csv; expect_rc 1
expect_out "7 rows: 0 added, 4 already subscribed, 0 skipped as unsubscribed/bounced, 1 duplicates, 2 bad"
[ "$(q 'SELECT count(*) FROM subscriptions')" = 4 ] || fail "second import added"
[ "$(q "SELECT count(*) FROM events WHERE kind='subscribe'")" = 4 ] || fail "second import logged subscribes"

# unsubscribed and bounced are never re-activated by an import
H subscribers unsubscribe ann@example.org >/dev/null
q "UPDATE subscriptions SET status='bounced' WHERE subscriber_id=(SELECT id FROM subscribers WHERE email_key='zoe@example.org')"
run H subscribers import in.csv; expect_rc 1
expect_out "0 added, 2 already subscribed, 2 skipped as unsubscribed/bounced"
expect_out "not re-activated: 1 unsubscribed, 1 bounced"
[ "$(q "SELECT status FROM subscriptions WHERE subscriber_id=(SELECT id FROM subscribers WHERE email_key='ann@example.org')")" = unsubscribed ] || fail "re-activated"

# a clean file from stdin: exit 0
printf 'email\nnew1@example.org\nNew2@example.org\n' | H subscribers import - > out 2>err || fail "stdin import failed: $(cat err)"
grep -q "stdin into daily: 2 rows: 2 added" out || fail "stdin report: $(cat out)"

# round trip: export -> import into an empty database -> export, same bytes
H subscribers export > export1.csv
H subscribers export --format json > export1.json
grep -q '^email,name,status,created,City,E-Mail-Ignored$' export1.csv || fail "export header: $(head -1 export1.csv)"
mkdir other
other=$(new_database other)
sed "s|^database: .*|database: \"$other\"|" herald.yml > other/herald.yml
H -c other/herald.yml subscribers import export1.csv > out 2>err || fail "round-trip import: $(cat err)"
H -c other/herald.yml subscribers export > export2.csv
cmp export1.csv export2.csv || { diff export1.csv export2.csv; fail "export round trip differs"; }
H -c other/herald.yml subscribers export --format json > export2.json
cmp export1.json export2.json || fail "json export differs after round trip"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==6 and d[0]["attributes"]=={"City":"Oslo","E-Mail-Ignored":"x"}, d' export1.json || fail "json export"

# files that cannot be imported: a clear error, exit 1, nothing changed
before=$(counts)
run H subscribers import missing.csv; expect_rc 1; expect_err "missing.csv: No such file"
: > empty.csv
run H subscribers import empty.csv; expect_rc 1; expect_err "empty.csv: empty"
printf 'name,city\nAnn,Oslo\n' > noemail.csv
run H subscribers import noemail.csv; expect_rc 1; expect_err "no .email. column"
printf 'ann@example.org,Ann\n' > noheader.csv
run H subscribers import noheader.csv; expect_rc 1; expect_err "first row must name the columns"
printf 'email,name\nz1@example.org,Zo\xeb\n' > latin1.csv
run H subscribers import latin1.csv; expect_rc 1; expect_err "latin1.csv: line 2: not UTF-8"; expect_err "nothing was changed"
head -c 3000 /bin/sh > binary.csv
run H subscribers import binary.csv; expect_rc 1; expect_err "binary"
printf 'email,name\nq1@example.org,"open\nq2@example.org,x\n' > open.csv
run H subscribers import open.csv; expect_rc 1; expect_err "open.csv: line 2: a quoted field starting on this line is never closed"
printf 'email,Email\nx@example.org,y@example.org\n' > twice.csv
run H subscribers import twice.csv; expect_rc 1; expect_err "appears twice"
[ "$(counts)" = "$before" ] || fail "a refused file changed the database"
pass
