#!/usr/bin/env bash
# Renders the default HTML digest with headless Chromium at desktop and
# phone widths into docs/digest-desktop.png and docs/digest-phone.png.
#
#   scripts/screenshots.sh [BUILD_DIR]     (default: build)
#
# It makes a fresh `herald init` in a temporary directory, adds two more
# sample articles beside the example one, and runs
# `herald preview --format html`.  Needs Debian's chromium (apt-get install
# chromium fonts-dejavu); optipng, when present, makes the PNGs smaller.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build}
herald=$root/$build/herald
[ -x "$herald" ] || { echo "no $herald: build first" >&2; exit 2; }
chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || { echo "chromium is not installed (apt-get install chromium)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$herald" init "$work/demo" >/dev/null
cat >"$work/demo/articles/harbour-lights.txt" <<'EOF'
The harbour lights are coming back, one lamp at a time
After eleven years in the dark, the old quay at Rangeinn will be lit again this winter. The town council voted on Tuesday to restore the nineteenth-century gas lamps, converted to LED but kept in their original iron housings.
“People kept asking when the lights would return,” said Ingrid Solberg, who chairs the harbour committee. “It turns out the answer was: when enough of them asked.”
The first six lamps go up in December; the remaining twenty follow in spring.
EOF
cat >"$work/demo/articles/ferry-timetable.md" <<'EOF'
---
title: "New ferry timetable: what changes on 1 December"
author: Rangeinn News Desk
---
The winter timetable brings **two extra crossings** on weekdays and a later last boat on Fridays.

- Morning departures move to 06:40 and 07:20
- The Friday late boat now leaves at 23:15
- Weekend service is unchanged

> “We listened to commuters,” the operator said in a statement.

Full details are on the [operator's website](https://ferry.example/timetable).
EOF
touch -d '-2 hours' "$work/demo/articles/harbour-lights.txt"
touch -d '-1 hour' "$work/demo/articles/ferry-timetable.md"
touch -d '-3 hours' "$work/demo/articles/"example*.txt 2>/dev/null || true
sed -i 's/title: My Newsletter/title: Rangeinn Daily/' "$work/demo/herald.yml"
(cd "$work/demo" && "$herald" preview --format html \
	-o "$work/digest.html")

shoot() {	# width height out
	"$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--hide-scrollbars --user-data-dir="$work/profile-$1" \
		--window-size="$1,$2" --screenshot="$3" "file://$work/digest.html" \
		>/dev/null 2>&1
	command -v optipng >/dev/null && optipng -quiet -o2 "$3" || true
}
mkdir -p docs
shoot 1200 1600 "$root/docs/digest-desktop.png"
shoot 390 1400 "$root/docs/digest-phone.png"
ls -l docs/digest-desktop.png docs/digest-phone.png
