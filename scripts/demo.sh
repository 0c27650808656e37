#!/usr/bin/env bash
# The herald demo: on a fresh Debian 12 machine (as root) it installs what is
# needed, builds herald, creates demo/ with `herald init`, starts a local SMTP
# catcher on 127.0.0.1, adds a few subscribers, collects the example articles
# and sends the digest.  Then it shows where the messages are and one of them,
# unsubscribes one reader through the one-click URL of their message (served
# by `herald web` on 127.0.0.1) and sends the next issue, which skips them.
#
#   scripts/demo.sh            everything
#   scripts/demo.sh --no-deps  skip the package install
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
shared=${HERALD_SHARED_DIR:-$top/../shared}

if [ "${1:-}" != --no-deps ]; then
	scripts/deps.sh
fi
echo "== building herald"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
herald=$top/build/herald

demo=$top/demo
echo "== a fresh demo directory: $demo"
rm -rf "$demo"
"$herald" init "$demo" >/dev/null
cd "$demo"

# The example articles: the shared example plus two more of the same form.
cp "$shared/examples/article.txt" articles/example-article.txt
cat > articles/harbour-lights.txt <<'ART'
Harbour lights return to the old quay after ten years
The lamps that lined the old quay were switched back on last night, a decade after the council turned them off to save money.
Volunteers restored forty-two of the original cast-iron posts, replacing the sodium bulbs with warm LEDs that use a tenth of the power.
“We wanted the harbour to feel like itself again,” said Ana Ferreira, who led the restoration group.
The council says the running costs will be covered by the harbour trust for the next five years.
Tomás Reyes writes about the coast and its towns for Rangeinn.
ART
cat > articles/night-trains.txt <<'ART'
Night trains are back, and they are full
Sleeper services that were written off a decade ago are selling out weeks in advance.
Operators say travellers are choosing a cabin and a quiet night over an early flight and two airport queues.
New routes to the south are planned for next spring, with more carriages on the busiest lines.
Lena Moreau covers transport and travel for Rangeinn.
ART

# The shared example is the newest, so it leads the digest (and the subject).
touch -d '1 hour ago' articles/harbour-lights.txt articles/night-trains.txt

# A mail catcher on loopback: every message lands in demo/mail/new/.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 "$top/tests/smtp_server.py" --port "$port" --maildir mail >catcher.log 2>&1 &
catcher=$!
webpid=
trap 'kill $catcher $webpid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q READY catcher.log 2>/dev/null && break; sleep 0.1; done
sed -i "s|url: smtp://127.0.0.1:2525|url: smtp://127.0.0.1:$port|" herald.yml
echo "== SMTP catcher listening on 127.0.0.1:$port"
# The web endpoint on loopback, so that every message carries a one-click
# unsubscribe URL (http:// only because this is a demo on one machine).
webport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i -e "s|^#web:|web:|" \
    -e "s|^#  listen: 127.0.0.1:8080 .*|  listen: 127.0.0.1:$webport|" \
    -e "s|^#  base_url: https://news.example.org .*|  base_url: http://127.0.0.1:$webport|" herald.yml

"$herald" -q config check
echo "== subscribers"
"$herald" subscribers add ada@example.org --name "Ada Lovelace" --attr city=London
"$herald" subscribers add grace@example.org --name "Grace Hopper"
"$herald" subscribers add linus@example.org
"$herald" subscribers list

echo "== collect, then send the digest"
"$herald" collect
"$herald" send
"$herald" status

echo
echo "== delivered messages (demo/mail/new):"
ls -1 mail/new
first=$(ls -1 mail/new | head -n 1)
echo
echo "== one of them, as a reader's mail program decodes it:"
/usr/bin/python3 - "mail/new/$first" <<'PY'
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for h in ("From", "To", "Subject", "Date", "List-Unsubscribe"):
    print(f"{h}: {msg[h]}")
print()
print(msg.get_body(preferencelist=("plain",)).get_content())
PY

echo "== the web endpoint (herald web on 127.0.0.1:$webport)"
"$herald" -q web 2>web.log &
webpid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$webport/" && break; sleep 0.1; done
url=$(/usr/bin/python3 - mail/new <<'PY'
import email, email.policy, os, re, sys
for n in sorted(os.listdir(sys.argv[1])):
    m = email.message_from_binary_file(open(os.path.join(sys.argv[1], n), "rb"),
                                       policy=email.policy.default)
    if m["X-Envelope-To"] == "linus@example.org":
        print(re.findall(r"<(http[^>]+)>", str(m["List-Unsubscribe"]))[0])
PY
)
echo "linus@example.org's message says:  List-Unsubscribe-Post: List-Unsubscribe=One-Click"
echo "a mailbox provider's unsubscribe button sends what curl sends here:"
echo "  curl -d List-Unsubscribe=One-Click $url"
code=$(curl -s -o /dev/null -w '%{http_code}' -d List-Unsubscribe=One-Click "$url")
echo "  -> HTTP $code"
"$herald" -q subscribers show linus@example.org

echo
echo "== a new article, and the next issue: it skips linus"
cat > articles/tram-line.txt <<'ART'
The tram line to the university opens on Monday
After three years of works, the new line links the station and the campus in twelve minutes.
Trams will run every six minutes at peak times and every ten in the evening.
ART
"$herald" send
/usr/bin/python3 - mail/new <<'PY'
import email, email.policy, os, sys
got = {}
for n in sorted(os.listdir(sys.argv[1])):
    m = email.message_from_binary_file(open(os.path.join(sys.argv[1], n), "rb"),
                                       policy=email.policy.default)
    got.setdefault(m["X-Envelope-To"], []).append(str(m["Subject"]).split(":")[0])
for who, subjects in sorted(got.items()):
    print(f"  {who:22} {', '.join(subjects)}")
PY
kill $webpid 2>/dev/null || true
wait $webpid 2>/dev/null || true
webpid=
echo "== done: the raw messages are in $demo/mail/new/, the database is $demo/herald.db"
