#!/bin/bash
# herald init: writes a starter that passes config check; never overwrites.
. "$(dirname "$0")/lib.sh"
sqlite_only "herald init writes a SQLite layout (herald.db beside herald.yml) and checks the files it makes"

# the compiled-in starter is the committed config/herald.example.yml and the
# article is ../shared/examples/article.txt, byte for byte
run "$HERALD" init --help
expect_rc 0 "init --help"
expect_out "usage: herald init"

run "$HERALD" init demo
expect_rc 0 "init demo"
expect_out "created demo/herald.yml"
cmp demo/herald.yml "$SRC/config/herald.example.yml" || fail "herald.yml differs from config/herald.example.yml"
cmp demo/articles/example-article.txt "$SHARED/examples/article.txt" || fail "example article differs"
# every shipped template (contents are the build's, checked by render tests)
for f in "$SRC"/templates/*.mustache; do
	[ -s "demo/templates/$(basename "$f")" ] || fail "template $(basename "$f") not copied"
done
# no temp files left behind, nothing else created
[ -z "$(find demo -name '.*.??????')" ] || fail "temp files left"
[ ! -e demo/herald.db ] || fail "init created the database"

# the generated C file is up to date with its sources
cp "$SRC/config/init_files.c" "$T/init_files.c.committed"
mkdir -p "$T/gen/config"
cp "$SRC/config/embed_init.py" "$SRC/config/herald.example.yml" "$SRC/config/example-article.txt" "$T/gen/config/"
/usr/bin/python3 "$T/gen/config/embed_init.py"
cmp "$T/gen/config/init_files.c" "$T/init_files.c.committed" || fail "config/init_files.c is stale: run config/embed_init.py"

# it passes config check as it is, and check does not create the database
cd demo
run "$HERALD" config check
expect_rc 0 "config check on a fresh init"
expect_out "herald.yml: OK"
expect_out "^newsletter news: My Newsletter"
expect_out "schedule: at 07:00 on Mon-Fri \(UTC\)"
expect_out "next run: [0-9]{4}-[0-9]{2}-[0-9]{2} 07:00 UTC \([0-9T:-]+Z\)"
expect_out "folder $T/demo/articles, every 15m"
expect_out "subscribers: 0 \(no database yet\)"
[ ! -e herald.db ] || fail "config check created the database"
cd "$T"

# init into the current directory (default DIR)
mkdir here && cd here
run "$HERALD" init
expect_rc 0 "init in ."
[ -f herald.yml ] && [ -f articles/example-article.txt ] || fail "init . wrote nothing"
cd "$T"

# refuses to overwrite: names the file, writes nothing at all
mkdir partial
echo "mine" > partial/herald.yml
run "$HERALD" init partial
expect_rc 2 "init over an existing herald.yml"
expect_err "partial/herald.yml already exists"
[ "$(cat partial/herald.yml)" = "mine" ] || fail "herald.yml was changed"
[ ! -e partial/articles ] && [ ! -e partial/templates ] || fail "init wrote something"

mkdir -p other/templates
echo "custom" > other/templates/digest.txt.mustache
run "$HERALD" init other
expect_rc 2 "init over an existing template"
expect_err "other/templates/digest.txt.mustache already exists"
[ ! -e other/herald.yml ] || fail "init wrote herald.yml though a template existed"

run "$HERALD" init demo
expect_rc 2 "second init"
run "$HERALD" init a b
expect_rc 2 "two dirs"

# a write that fails half way (here: a file size limit) leaves no files, so
# a second try is not refused for files of the first
run bash -c "trap '' XFSZ; ulimit -f 6; exec \"$HERALD\" init full"
expect_rc 1 "init that cannot write everything"
expect_err "cannot write: File too large"
[ -z "$(find full -type f)" ] || fail "init left half a set: $(find full -type f)"
run "$HERALD" init full
expect_rc 0 "init again once there is room"

# DIR is a file; DIR cannot be created
touch afile
run "$HERALD" init afile
expect_rc 1; expect_err "^herald: init: afile: cannot create the directory: Not a directory"
pass
