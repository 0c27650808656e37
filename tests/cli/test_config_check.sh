#!/bin/bash
# herald config check: summary, file:line:col errors, exit codes, secrets.
. "$(dirname "$0")/lib.sh"

run "$HERALD" config --help
expect_rc 0; expect_out "usage: herald \[-c FILE\] \[-n ID\] config check"
run "$HERALD" config check --help
expect_rc 0; expect_out "FILE:LINE:COL"
run "$HERALD" config
expect_rc 2 "config without subcommand"
run "$HERALD" config frobnicate
expect_rc 2; expect_err "unknown subcommand"

# no config at all
run "$HERALD" -c nope.yml config check
expect_rc 2; expect_err "nope.yml: No such file"

# a full config: every section, secrets only by reference
mkdir -p articles
DB=$(new_database data)
cat > herald.yml <<YML
database: "$DB"
smtp:
  url: smtp://127.0.0.1:2525
  starttls: auto
  username: news@example.org
  password_env: HERALD_SMTP_PASSWORD
web:
  listen: 127.0.0.1:8080
  base_url: https://news.example.org
bounces:
  mailbox: maildir:bounces
  password_file: imap.pass
newsletters:
  - id: daily
    title: Rangeinn Daily
    from: "Rangeinn News <news@rangeinn.example>"
    schedule: "0 7 * * *"
    timezone: Europe/London
    sources:
      - feed: https://rangeinn.example/feed.xml
      - folder: articles
        interval: 1h
  - id: weekly
    title: Weekly
    from: weekly@example.org
    schedule: every 6h
    sources:
      - folder: /nonexistent/weekly
YML
echo "imapsekrit" > imap.pass
export HERALD_SMTP_PASSWORD=sekrit
run "$HERALD" config check
expect_rc 0 "valid config"
expect_out "^newsletter daily: Rangeinn Daily"
expect_out "schedule: every day at 07:00 \(Europe/London\)"
expect_out "next run: [0-9-]+ 07:00 (GMT|BST) \([0-9T:-]+Z\)"
expect_out "feed https://rangeinn.example/feed.xml, every 15m"
expect_out "folder $T/articles, every 1h"
expect_out "password: from \\\$HERALD_SMTP_PASSWORD \(set\)"
expect_out "password: from file $T/imap.pass"
expect_out "^newsletter weekly: Weekly"
expect_out "schedule: every 6h \(UTC\)"
expect_out "/nonexistent/weekly, every 15m \(the folder does not exist\)"
if on_pg; then	# the database exists, without herald's tables
	expect_out "subscribers: unknown \(no herald schema in this database yet"
else
	expect_out "subscribers: 0 \(no database yet\)"
fi
grep -q sekrit "$T/out" "$T/err" && fail "a secret was printed"
[ ! -e data.db ] || fail "config check created the database"
! on_pg || [ "$(db_query "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] ||
    fail "config check created tables in PostgreSQL"

# $HERALD_CONFIG and -c are honoured
mkdir sub && cd sub
HERALD_CONFIG=../herald.yml run "$HERALD" config check
expect_rc 0 "HERALD_CONFIG"
run "$HERALD" -c ../herald.yml config check
expect_rc 0 "-c before"
run "$HERALD" config check -c ../herald.yml
expect_rc 0 "-c after"
# an empty -c (an unset variable in a script) is not "use the default"
cp ../herald.yml herald.yml
run "$HERALD" -c "" config check
expect_rc 2 "-c with an empty name"
run "$HERALD" -c "" status
expect_rc 2 "-c with an empty name, another command"
rm herald.yml
cd "$T"

# subscriber counts from an existing database, opened read-only
run "$HERALD" subscribers -n daily add a@example.org
if [ "$rc" -eq 0 ]; then
	"$HERALD" subscribers -n daily add --pending b@example.org >/dev/null 2>&1 || true
	run "$HERALD" config check
	expect_rc 0
	expect_out "subscribers: 1 active"
fi

# a broken file: several errors at once, each file:line:col, exit 2
cat > bad.yml <<'YML'
smtp:
  url: http://mail.example.org
  password: hunter2sekrit
  conections: 4
newsletters:
  - id: daily
    title: Daily
    from: "not an address"
    schedule: "0 25 * * *"
    timezone: Mars/Olympus
    sources:
      - feed: https://example.org/feed
        interval: soon
YML
run "$HERALD" -c bad.yml config check
expect_rc 2 "broken config"
expect_err "^bad.yml:2:8: smtp.url: expected smtp:// or smtps://"
expect_err "^bad.yml:3:3: smtp.password: a password may not be written in the configuration; use password_env"
expect_err "^bad.yml:4:3: smtp: unknown key 'conections' \(did you mean 'connections'\?\)"
expect_err "^bad.yml:8:11: newsletters\[0\].from: "
expect_err "^bad.yml:9:15: newsletters\[0\].schedule: .*hour"
expect_err "^bad.yml:10:15: newsletters\[0\].timezone: 'Mars/Olympus' is not a time zone"
expect_err "^bad.yml:13:19: newsletters\[0\].sources\[0\].interval: expected a duration"
expect_err "configuration is not valid \(7 errors\)"
grep -q sekrit "$T/out" "$T/err" && fail "a secret was printed"
[ ! -s "$T/out" ] || fail "summary printed for a broken config"

# other commands refuse a broken config with exit 2 too
run "$HERALD" -c bad.yml status
expect_rc 2 "status with a broken config"

# YAML syntax errors and non-mappings
printf 'newsletters: [\n' > syntax.yml
run "$HERALD" -c syntax.yml config check
expect_rc 2; expect_err "^syntax.yml:[0-9]+:[0-9]+: YAML syntax error"
printf -- '- just\n- a list\n' > list.yml
run "$HERALD" -c list.yml config check
expect_rc 2; expect_err "^list.yml:1:1: expected a mapping"
: > empty.yml
run "$HERALD" -c empty.yml config check
expect_rc 2; expect_err "empty.yml: the file is empty"

# a tab indent is named as such; bad UTF-8 gets its own line and column
printf 'database: x.db\nsmtp:\n\turl: smtp://127.0.0.1\n' > tab.yml
run "$HERALD" -c tab.yml config check
expect_rc 2; expect_err "^tab.yml:3:1: a tab character: YAML indents with spaces only"
printf 'database: x.db\nnewsletters:\n  - id: a\n    title: caf\xe9 au lait\n' > latin1.yml
run "$HERALD" -c latin1.yml config check
expect_rc 2; expect_err "^latin1.yml:4:15: not valid UTF-8 .*save the file as UTF-8"

# -n picks the newsletter summarised; an unknown one is an error
run "$HERALD" -n weekly config check
expect_rc 0 "-n weekly"
expect_out "^newsletter weekly: Weekly"
expect_no_out "^newsletter daily"
run "$HERALD" -n nope config check
expect_rc 2 "-n with an unknown id"; expect_err "newsletter nope: no newsletter has this id"

# a cron expression that can never fire; one folder spelled two ways
cat > never.yml <<'YML'
newsletters:
  - id: a
    title: A
    from: a@example.org
    schedule: "0 7 31 2,4 *"
    sources:
      - folder: articles
      - folder: ./articles/
      - folder: sub/../articles
YML
run "$HERALD" -c never.yml config check
expect_rc 2 "impossible schedule and duplicate folders"
expect_err "^never.yml:5:15: newsletters\[0\].schedule: .*never run"
expect_err "^never.yml:8:[0-9]+: newsletters\[0\].sources\[1\]: the same source is listed twice"
expect_err "^never.yml:9:[0-9]+: newsletters\[0\].sources\[2\]: the same source is listed twice"
sed -i -e 's/31 2,4/*\/2 */' -e '/\.\/articles\//d' -e '/sub\/\.\./d' never.yml
run "$HERALD" -c never.yml config check
expect_rc 0 "every other day"
expect_out "schedule: cron: 0 7 \*/2 \* \* \(UTC\)"
expect_out "folder $T/articles, every 15m"

# number limits are written out, not as 1e+06
printf 'smtp:\n  rate: 2000000\nnewsletters:\n  - id: a\n    title: A\n    from: a@example.org\n    schedule: every 1h\n    sources: [{folder: .}]\n' > rate.yml
run "$HERALD" -c rate.yml config check
expect_rc 2; expect_err "^rate.yml:2:9: smtp.rate: expected a number from 0 to 1000000, got '2000000'"

# issue 9 item 9: deep nesting stops at 64 levels with file:line:col, at
# once (libyaml's scanner is quadratic in the flow depth: 60,000 levels took
# seconds, 400,000 minutes)
/usr/bin/python3 -c "n=400000; open('deep.yml','w').write('database: x.db\nextra: '+'['*n+']'*n+'\n')"
start=$(date +%s%N)
run timeout 20 "$HERALD" -c deep.yml config check
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 2 "deep flow nesting"; expect_err "^deep.yml:2:72: nested more than 64 levels deep"
[ "$ms" -lt 2000 ] || fail "deep nesting took ${ms} ms"
/usr/bin/python3 -c "
n=70
open('deepblock.yml','w').write('extra:\n'+''.join(' '*(2*i)+'k%d:\n'%i for i in range(n))+' '*(2*n)+'v\n')"
run "$HERALD" -c deepblock.yml config check
expect_rc 2; expect_err "^deepblock.yml:[0-9]+:[0-9]+: nested more than 64 levels deep"
# brackets in quoted strings and comments do not count
printf 'extra: ["%s", %s] # %s\n' "$(printf '[%.0s' $(seq 80))" "$(printf '{a: %.0s' $(seq 60))1$(printf '}%.0s' $(seq 60))" "$(printf '[%.0s' $(seq 80))" > shallow.yml
run "$HERALD" -c shallow.yml config check
expect_rc 2; expect_err "unknown key 'extra'"; ! grep -q nested err || fail "quoted brackets counted"

# issue 9 item 10: subscriber variables in the subject are refused
cat > subj.yml <<'YML'
newsletters:
  - id: a
    title: A
    from: a@example.org
    subject: "Hello {{ subscriber.name }}: {{first_article.title}}"
    schedule: every 1h
    sources: [{folder: .}]
YML
run "$HERALD" -c subj.yml config check
expect_rc 2; expect_err "^subj.yml:5:14: newsletters\[0\].subject: \{\{subscriber.name\}\} differs from one reader"

# -q: warnings and the summary are silent; errors are not (issues 9, 12)
cat > warn.yml <<'YML'
web: { base_url: "http://news.example.org" }
newsletters:
  - id: a
    title: A
    from: a@example.org
    schedule: every 1h
    sources: [{folder: .}]
YML
run "$HERALD" -c warn.yml config check
expect_rc 0; expect_err "warning: web.base_url"; expect_out "OK"
run "$HERALD" -q -c warn.yml config check
expect_rc 0; [ ! -s out ] || fail "config check -q printed: $(cat out)"; [ ! -s err ] || fail "-q printed: $(cat err)"
run "$HERALD" -c warn.yml config check -q
expect_rc 0; [ ! -s out ] && [ ! -s err ] || fail "config check -q (after) printed something"
printf 'email\n' | "$HERALD" -q -c warn.yml subscribers import - >/dev/null 2>&1	# makes the database (count only reads)
run "$HERALD" -q -c warn.yml subscribers count
expect_rc 0; [ ! -s err ] || fail "-q subscribers count printed a warning: $(cat err)"
run "$HERALD" -q -c subj.yml config check
expect_rc 2; expect_err "subject"

# issue 12: a misaligned key is named, with the columns that would be right
printf 'smtp:\n  url: smtp://127.0.0.1\n   rate: 5\nnewsletters: []\n' > ind1.yml
run "$HERALD" -c ind1.yml config check
expect_rc 2; expect_err "^ind1.yml:3:4: indentation: \`rate:\` is indented 3 spaces, more than \`url:\` on line 2, which has a value and so opens no block: indent \`rate:\` 2 spaces"
printf 'smtp:\n  url: smtp://127.0.0.1\n rate: 5\n' > ind2.yml
run "$HERALD" -c ind2.yml config check
expect_rc 2; expect_err "^ind2.yml:3:2: indentation: \`rate:\` is indented 1 space, which matches no block above it: indent it 2, as \`url:\` on line 2 is, .* or 0, as \`smtp:\` on line 1 is"
printf 'newsletters:\n  - id: a\n    title: A\n   from: a@example.org\n' > ind3.yml
run "$HERALD" -c ind3.yml config check
expect_rc 2; expect_err "^ind3.yml:4:4: indentation: \`from:\` is indented 3 spaces, less than \`title:\` on line 3: indent \`from:\` 4 spaces"
# other syntax errors keep libyaml's words
printf 'smtp: [unclosed\n' > syn.yml
run "$HERALD" -c syn.yml config check
expect_rc 2; expect_err "^syn.yml:[0-9]+:[0-9]+: YAML syntax error"

# issue 12: a template variable herald never sets is a warning, with the
# closest one it does set; the shipped templates have none
mkdir -p tv
printf 'Hi {{subscriber.nmae}}\n{{#articles}}{{titel}} {{url}} {{source.title}}{{/articles}}\n{{#subscriber.name}}{{subscriber.name}}{{/subscriber.name}} {{subscriber.attributes.city}} {{unsubscribe_url}} {{zzqx}}\n' > tv/t.txt
cat > tv.yml <<'YML'
newsletters:
  - id: a
    title: A
    from: a@example.org
    subject: "{{newsletter.titl}}: {{first_article.title}}"
    schedule: every 1h
    templates: { text: tv/t.txt }
    sources: [{folder: .}]
YML
run "$HERALD" -c tv.yml config check
expect_rc 0 "warnings do not fail the check"
expect_err "^$T/tv/t.txt:1:4: warning: newsletter 'a': \{\{subscriber.nmae\}\}: herald never sets subscriber.nmae \(did you mean subscriber.name\?\)"
expect_err "^$T/tv/t.txt:2:14: warning: .*\{\{titel\}\}: herald never sets titel \(did you mean title\?\)"
expect_err "\{\{zzqx\}\}: herald never sets zzqx, so it is always empty"
expect_err "tv.yml: warning: newsletter 'a': \{\{newsletter.titl\}\}: .*did you mean newsletter.title"
[ "$(grep -c warning err)" = 4 ] || { cat err; fail "expected 4 warnings"; }
run "$HERALD" -q -c tv.yml config check
expect_rc 0; [ ! -s err ] || fail "-q printed template warnings"
pass
