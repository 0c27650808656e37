#!/usr/bin/env bash
# herald subscribers: add, duplicates, unsubscribe, remove (GDPR), list,
# show, count, export formats, usage and exit codes.
. "$(dirname "$0")/lib.sh"

mkdir -p articles
# web.base_url lets --pending make its confirmation link; the SMTP port is
# closed, so the mail is not sent (tests/cli/test_confirm.py sends it)
cat > herald.yml <<YML
database: "$DB"
smtp: { url: "smtp://127.0.0.1:$(free_port)", starttls: off }
web: { listen: "127.0.0.1:8080", base_url: "https://news.example.org" }
newsletters:
  - id: daily
    title: Daily
    from: "Daily <news@example.org>"
    bounce_address: bounces@example.org
    schedule: "0 7 * * *"
    sources: [ { folder: articles } ]
  - id: weekly
    title: Weekly
    from: "Weekly <news@example.org>"
    bounce_address: bounces@example.org
    schedule: "0 7 * * 1"
    sources: [ { folder: articles } ]
YML
export HERALD_CONFIG=$T/herald.yml
H() { "$HERALD" "$@"; }
q() { db_query "$1"; }

# help answers questions; usage errors exit 2
run H subscribers --help; expect_rc 0; expect_out "import FILE"
run H subscribers import --help; expect_rc 0; expect_out "dry-run"; expect_out "never"
run H subscribers add --help; expect_rc 0; expect_out "--resubscribe"
run H subscribers; expect_rc 2
run H subscribers frobnicate; expect_rc 2; expect_err "unknown command"
run H subscribers add; expect_rc 2; expect_err "missing argument"
run H subscribers -n daily add a@example.org --bogus; expect_rc 2
run H subscribers -n daily list --format xml; expect_rc 2; expect_err "format"
run H subscribers -n daily list --status gone; expect_rc 2
run H subscribers -n daily add a@example.org --attr noequals; expect_rc 2
run H subscribers -n daily add a@example.org --attr status=x; expect_rc 2
# two newsletters and no -n: a configuration error
run H subscribers add a@example.org; expect_rc 2
run H subscribers -n nosuch count; expect_rc 2

# invalid addresses: exit 1 with the reason, nothing stored
run H subscribers -n daily add 'x@'; expect_rc 1
expect_err "herald: subscribers add: x@: invalid address: "
run H subscribers -n daily add 'no-at-sign'; expect_rc 1
[ "$(q 'SELECT count(*) FROM subscribers')" = 0 ] || fail "invalid address stored"

# add, as given; case-insensitive duplicate reported, never stored twice
run H subscribers -n daily add Ann.Smith@Example.ORG --name "Ann Smith" --attr city=Oslo --attr plan=pro
expect_rc 0; expect_out "subscribed to daily"
run H subscribers -n daily add ann.smith@example.org; expect_rc 1; expect_err "already subscribed"
run H subscribers -n daily add ANN.SMITH@EXAMPLE.ORG --pending; expect_rc 1
[ "$(q 'SELECT count(*) FROM subscribers')" = 1 ] || fail "duplicate stored"
[ "$(q 'SELECT email FROM subscribers')" = Ann.Smith@Example.ORG ] || fail "address not kept as given"
city="json_extract(attributes,'\$.city')"
! on_pg || city="attributes::json->>'city'"
[ "$(q "SELECT $city FROM subscribers")" = Oslo ] || fail "attribute"
# the same person for another newsletter: a second subscription
run H subscribers -n weekly add ann.smith@example.org; expect_rc 0
[ "$(q 'SELECT count(*) FROM subscribers')" = 1 ] || fail "second subscriber row"
[ "$(q 'SELECT count(*) FROM subscriptions')" = 2 ] || fail "no second subscription"

# pending, then confirmed by an add without --pending
run H subscribers -n daily add bob@example.net --pending; expect_rc 3; expect_out "pending confirmation"
expect_err "confirmation mail not sent"
[ "$(q "SELECT status FROM subscriptions s JOIN subscribers u ON u.id=s.subscriber_id WHERE email='bob@example.net'")" = pending ] || fail "not pending"
run H subscribers -n daily add carol@example.com --name 'Carol, "CJ" Jones'; expect_rc 0

# count (text and json)
run H subscribers -n daily count; expect_rc 0
expect_out "^pending +1$"; expect_out "^active +2$"; expect_out "^total +3$"
run H subscribers -n daily count --format json; expect_rc 0
expect_out '^\{"newsletter":"daily","pending":1,"active":2,"unsubscribed":0,"bounced":0,"total":3\}$'

# unsubscribe keeps the record and logs an event; twice is fine
run H subscribers -n daily unsubscribe CAROL@example.com; expect_rc 0; expect_out "unsubscribed from daily"
run H subscribers -n daily unsubscribe carol@example.com; expect_rc 0; expect_out "already unsubscribed"
run H subscribers -n daily unsubscribe nobody@example.com; expect_rc 1
[ "$(q "SELECT count(*) FROM events WHERE kind='unsubscribe'")" = 1 ] || fail "unsubscribe event"
# an unsubscribed person is not re-added without --resubscribe
run H subscribers -n daily add carol@example.com; expect_rc 1; expect_err "resubscribe"
[ "$(q "SELECT status FROM subscriptions s JOIN subscribers u ON u.id=s.subscriber_id WHERE email_key='carol@example.com'")" = unsubscribed ] || fail "re-activated"

# list: table, csv, json; --status
run H subscribers -n daily list; expect_rc 0; expect_out "^EMAIL +NAME +STATUS +SUBSCRIBED"
expect_out "^Ann.Smith@Example.ORG +Ann Smith +active"; expect_out "\(3 subscriptions\)"
run H subscribers -n daily list --format csv; expect_rc 0
[ "$(head -1 out)" = "email,name,status,created" ] || fail "csv header: $(head -1 out)"
grep -q '^carol@example.com,"Carol, ""CJ"" Jones",unsubscribed,20' out || fail "csv quoting"
run H subscribers -n daily list --status active --format csv; expect_rc 0
[ "$(wc -l < out)" = 2 ] || fail "status filter"
run H subscribers -n daily list --format json; expect_rc 0
/usr/bin/python3 - out <<'PY' || fail "json list"
import json, sys
rows = json.load(open(sys.argv[1]))
assert [r["email"] for r in rows] == ["Ann.Smith@Example.ORG", "bob@example.net", "carol@example.com"], rows
assert rows[0]["attributes"] == {"city": "Oslo", "plan": "pro"}, rows[0]
assert rows[1]["name"] is None and rows[1]["status"] == "pending"
assert rows[2]["name"] == 'Carol, "CJ" Jones'
PY
run H subscribers -n weekly list --format json; expect_rc 0
/usr/bin/python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))) == 1' out || fail "weekly json"

# export: attribute columns
run H subscribers -n daily export; expect_rc 0
[ "$(head -1 out)" = "email,name,status,created,city,plan" ] || fail "export header: $(head -1 out)"
grep -q '^Ann.Smith@Example.ORG,Ann Smith,active,20[0-9-]*T[0-9:]*Z,Oslo,pro$' out || fail "export row"
run H subscribers -n daily export --format table; expect_rc 0; expect_out "^EMAIL +NAME"
run H subscribers -n daily export --format yaml; expect_rc 2

# show
run H subscribers show ann.smith@EXAMPLE.org; expect_rc 0
expect_out "^email: +Ann.Smith@Example.ORG"; expect_out "daily +active"; expect_out "weekly +active"
expect_out "subscribe +cli"
run H subscribers show nobody@example.com; expect_rc 1; expect_err "no such subscriber"

# remove: GDPR erasure of the subscriber, subscriptions, deliveries, events
id=$(q "SELECT id FROM subscribers WHERE email_key='ann.smith@example.org'")
q "INSERT INTO issues (newsletter, number, subject, created, state) VALUES ('daily', 1, 's', 0, 'done');
   INSERT INTO deliveries (issue_id, subscriber_id, state) VALUES (1, $id, 'sent');"
run H subscribers remove ANN.SMITH@example.org; expect_rc 0; expect_out "removed"
for t in "subscribers WHERE id=$id" "subscriptions WHERE subscriber_id=$id" \
    "deliveries WHERE subscriber_id=$id" "events WHERE subscriber_id=$id"; do
	[ "$(q "SELECT count(*) FROM $t")" = 0 ] || fail "remove left $t"
done
! q "SELECT detail FROM events" | grep -qi ann || fail "erasure event names the person"
run H subscribers remove ann.smith@example.org; expect_rc 1

# a locked database: exit 3 after the busy timeout (on PostgreSQL: a
# session holding a lock on the table; herald waited for ever before)
if on_pg; then
	/usr/bin/python3 - "$DB" <<'PY' &
import psycopg2, sys, time
c = psycopg2.connect(sys.argv[1])
c.cursor().execute("LOCK TABLE subscribers IN EXCLUSIVE MODE")
open("locked", "w").close()
time.sleep(14)
PY
else
	/usr/bin/python3 - <<'PY' &
import sqlite3, time
c = sqlite3.connect("herald.db", isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open("locked", "w").close()
time.sleep(14)
PY
fi
locker=$!
for i in $(seq 50); do [ -e locked ] && break; sleep 0.1; done
run H subscribers -n daily add late@example.com; expect_rc 3; expect_err "locked|lock timeout"
kill "$locker" 2>/dev/null || true; wait "$locker" 2>/dev/null || true
pass
