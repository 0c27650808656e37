#!/usr/bin/env bash
# herald subscribers: what people type and what spreadsheets read (issues 9
# item 10, 12): 'Name <addr>' in add, an --attr value that is not UTF-8,
# names that a spreadsheet would run as formulas (OWASP CSV injection) and
# their round trip through export and import.
. "$(dirname "$0")/lib.sh"

mkdir -p articles
cat > herald.yml <<YML
database: "$DB"
smtp: { url: "smtp://127.0.0.1:$(free_port)", starttls: off }
newsletters:
  - id: daily
    title: Daily
    from: "Daily <news@example.org>"
    schedule: "0 7 * * *"
    sources: [ { folder: articles } ]
YML
export HERALD_CONFIG=$T/herald.yml
H() { "$HERALD" "$@"; }
q() { db_query "$1"; }

# 'Ada <ada@example.org>': name and address
run H subscribers add 'Ada Lovelace <ada@example.org>'; expect_rc 0
expect_out "^ada@example.org: subscribed to daily"
[ "$(q "SELECT email || '|' || name FROM subscribers")" = "ada@example.org|Ada Lovelace" ] ||
	fail "mailbox form: $(q 'SELECT email, name FROM subscribers')"
run H subscribers add '"Hopper, Grace" <grace@example.org>' --name Grace; expect_rc 0
[ "$(q "SELECT name FROM subscribers WHERE email='grace@example.org'")" = Grace ] || fail "--name wins"
run H subscribers add 'Bob <bob@>'; expect_rc 1; expect_err "invalid address"

# an --attr value that is not UTF-8 is a bad value, not a bad key
run H subscribers add c@example.org --attr "city=$(printf 'Z\xfcrich')"; expect_rc 2
expect_err "--attr city=\.\.\.: the value is not valid UTF-8"
! grep -q "expected KEY=VALUE" err || fail "reported as a bad key"

# formulas: =, +, -, @ (and tab) get a leading quote in CSV output
run H subscribers add f1@example.org --name '=HYPERLINK("http://evil.example","x")'; expect_rc 0
run H subscribers add f2@example.org --name '+1+2' --attr 'note=@SUM(A1)'; expect_rc 0
run H subscribers add f3@example.org --name "-2"; expect_rc 0
run H subscribers add f4@example.org --name "'=already quoted"; expect_rc 0
run H subscribers add --name "Plain" -- -dash@example.org; expect_rc 0
run H subscribers list --format csv; expect_rc 0
grep -q '^f1@example.org,"'"'"'=HYPERLINK(""http://evil.example"",""x"")",active,' out || { cat out; fail "= not quoted"; }
grep -q "^f2@example.org,'+1+2,active," out || { cat out; fail "+ not quoted"; }
grep -q "^f3@example.org,'-2,active," out || { cat out; fail "- not quoted"; }
grep -q "^f4@example.org,''=already quoted,active," out || { cat out; fail "quote before = not doubled"; }
grep -q "^'-dash@example.org,Plain,active," out || { cat out; fail "address beginning with - not quoted"; }
grep -q "^ada@example.org,Ada Lovelace,active," out || { cat out; fail "a plain cell changed"; }
run H subscribers export; expect_rc 0
grep -q "^f2@example.org,'+1+2,active,[^,]*,'@SUM(A1)$" out || { cat out; fail "attribute not quoted"; }
cp out export.csv
# round trip: import into a fresh database gives the same values back
again=$(new_database again)
sed -i "s|^database: .*|database: \"$again\"|" herald.yml
run H subscribers import export.csv; expect_rc 0
r() { db_query "$1" "$again"; }
note="json_extract(attributes,'\$.note')"
! on_pg || note="attributes::json->>'note'"
[ "$(r "SELECT name FROM subscribers WHERE email='f1@example.org'")" = '=HYPERLINK("http://evil.example","x")' ] || fail "round trip ="
[ "$(r "SELECT name FROM subscribers WHERE email='f4@example.org'")" = "'=already quoted" ] || fail "round trip '="
[ "$(r "SELECT $note FROM subscribers WHERE email='f2@example.org'")" = '@SUM(A1)' ] || fail "round trip attribute"
[ "$(r "SELECT count(*) FROM subscribers WHERE email='-dash@example.org'")" = 1 ] || fail "round trip address"
pass
