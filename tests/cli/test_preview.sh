#!/usr/bin/env bash
# herald preview on a fresh `herald init`: text and HTML of the example
# article, --output written atomically, --subscriber, records nothing,
# "nothing to preview", usage errors, the eml placeholder.
. "$(dirname "$0")/lib.sh"

run "$HERALD" init demo
expect_rc 0 "init"
cd demo
dbpath() { case $DB in postgres*) echo "$DB" ;; *) echo "$PWD/$DB" ;; esac; }
sed -i "s|^database: .*|database: \"$DB\"|" herald.yml
title='Russia buys ‘millions’ of rockets and shells from North Korea'

run "$HERALD" preview
expect_rc 0 "preview text"
grep -qF "$title" "$T/out" || fail "text part lacks the title"
grep -qF "Hello Sample Reader," "$T/out" || fail "no sample greeting"
grep -qF "Hey! My name is Mahnoor and I joined Rangeinn as the content & News" "$T/out" || fail "author note"
grep -qF "with reader@example.org." "$T/out" || fail "footer"
/usr/bin/python3 - "$T/out" <<'PY' || fail "a text line is over 72 columns"
import sys
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if "://" not in line and len(line) > 72:
        print(line); sys.exit(1)
PY

run "$HERALD" preview --format html --no-collect -o digest.html
expect_rc 0 "preview html"
[ ! -s "$T/out" ] || fail "--output still wrote to stdout"
grep -qF "$title" digest.html || fail "HTML lacks the title"
grep -qF 'content &amp; News Writer' digest.html || fail "HTML author note"
grep -qF 'name="color-scheme"' digest.html || fail "no color-scheme meta"
grep -qF 'Unsubscribe</a>' digest.html || fail "no unsubscribe link"
ls digest.html.tmp.* 2>/dev/null && fail "temporary file left"

"$HERALD" subscribers add ann@example.org --name 'Ann <Admin>' >/dev/null
run "$HERALD" preview --format html --no-collect --subscriber ann@example.org
expect_rc 0 "preview for a subscriber"
expect_out 'Hello Ann &lt;Admin&gt;,'
expect_out 'with ann@example.org\.'

# nothing was recorded: the same article is still pending
[ "$(db_query "select count(*) from issues" "$(dbpath)")" = 0 ] || fail "preview recorded an issue"

run "$HERALD" preview --format eml --no-collect
if [ "$rc" -ne 0 ]; then
	expect_rc 2 "eml placeholder"
	expect_err 'not available yet'
fi

run "$HERALD" preview --format pdf
expect_rc 2 "bad format"
expect_err 'text, html or eml'

# nothing to preview
rm -f articles/*
db_query "delete from articles" "$(dbpath)" >/dev/null
run "$HERALD" preview --no-collect
expect_rc 0 "nothing to preview"
expect_out 'Nothing to preview'

# a broken template names file:line:col
printf '{{#articles}}\n{{title}}\n' > templates/broken.txt.mustache
sed -i 's|^    sources:|    templates:\n      text: templates/broken.txt.mustache\n    sources:|' herald.yml
run "$HERALD" config check
expect_rc 2 "config check on a broken template"
expect_err 'broken.txt.mustache:1:1: .*unclosed section'
pass
