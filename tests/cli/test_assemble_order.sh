#!/usr/bin/env bash
# assemble: an issue's articles are newest first by published, else updated
# (Atom entries often carry only <updated>), else when they were collected
# (issue 12: the oldest post led the issue and gave the subject).
. "$(dirname "$0")/lib.sh"

mkdir -p articles
cat > feed.xml <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Updated only</title>
  <id>urn:x:feed</id>
  <updated>2026-11-24T07:00:00Z</updated>
  <entry><title>Oldest post</title><id>urn:x:1</id><link href="https://example.org/1"/>
    <updated>2026-11-01T07:00:00Z</updated><summary>one</summary></entry>
  <entry><title>Newest post</title><id>urn:x:3</id><link href="https://example.org/3"/>
    <updated>2026-11-20T07:00:00Z</updated><summary>three</summary></entry>
  <entry><title>Published post</title><id>urn:x:2</id><link href="https://example.org/2"/>
    <published>2026-11-10T07:00:00Z</published><updated>2026-11-23T07:00:00Z</updated><summary>two</summary></entry>
  <entry><title>Undated post</title><id>urn:x:4</id><link href="https://example.org/4"/>
    <summary>four</summary></entry>
</feed>
XML
cat > herald.yml <<YML
database: "$DB"
newsletters:
  - id: daily
    title: Daily
    from: "Daily <news@example.org>"
    schedule: "0 7 * * *"
    sources:
      - feed: file://$T/feed.xml
YML
export HERALD_CONFIG=$T/herald.yml
run "$HERALD" subscribers add ada@example.org; expect_rc 0
run "$HERALD" collect; expect_rc 0
run "$HERALD" preview --no-collect --format text; expect_rc 0
# undated (collected now) first, then by published-else-updated
order=$(grep -oE "(Oldest|Newest|Published|Undated) post" out | awk '!seen[$0]++' | tr '\n' ',')
[ "$order" = "Undated post,Newest post,Published post,Oldest post," ] || { cat out; fail "order: $order"; }
run "$HERALD" preview --no-collect --format eml; expect_rc 0
expect_out "^Subject: Daily #1: Undated post"
pass
