#!/usr/bin/python3
"""Builds messages with mime_build() (through tests/tools/mimegen) and reads
them back with Python's email package: structure, every header, both bodies,
line lengths and line ends; hostile data in every field; SpamAssassin's score
for a realistic digest; and the build rate for a 20 KB digest."""

import email
import email.header
import email.policy
import os
import re
import shutil
import subprocess
import sys
import unittest
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import run_once  # noqa: E402
run_once("it builds messages with tests/tools/mimegen; no database")

BUILD = os.environ.get("HERALD_BUILD_DIR", "")
MIMEGEN = os.path.join(BUILD, "tests", "mimegen")

FIELDS = ["from_name", "from_addr", "to_name", "to_addr", "reply_to",
          "subject", "date", "message_id", "list_id", "unsub_mailto",
          "unsub_https", "feedback_id", "text", "html"]

BASE = {
    "from_name": "Rangeinn News",
    "from_addr": "news@rangeinn.example",
    "to_name": "Ada Lovelace",
    "to_addr": "ada@example.org",
    "reply_to": "",
    "subject": "Rangeinn Daily #1",
    "date": "1795503600",  # 2026-11-24T07:00:00Z
    "message_id": "",
    "list_id": "Rangeinn Daily <daily.rangeinn.example>",
    "unsub_mailto": "mailto:bounces+unsub-1@rangeinn.example",
    "unsub_https": "https://news.rangeinn.example/u/1.abcDEF_-",
    "feedback_id": "1:daily:herald",
    "text": "Hello\n",
    "html": "<p>Hello</p>\n",
}


def build(**kw):
    f = dict(BASE)
    f.update(kw)
    data = b"\0".join(f[k].encode("utf-8", "surrogateescape")
                      if isinstance(f[k], str) else f[k] for k in FIELDS)
    return subprocess.run([MIMEGEN], input=data, capture_output=True,
                          timeout=30)


def build_ok(**kw):
    r = build(**kw)
    if r.returncode != 0:
        raise AssertionError("mimegen failed: %r" % r.stderr)
    return r.stdout


def expected_headers(f):
    h = {"from", "to", "subject", "date", "message-id", "mime-version",
         "content-type"}
    if f.get("reply_to"):
        h.add("reply-to")
    if f.get("list_id"):
        h.add("list-id")
    if f.get("unsub_mailto") or f.get("unsub_https"):
        h.add("list-unsubscribe")
    if f.get("unsub_https"):
        h.add("list-unsubscribe-post")
    if f.get("feedback_id"):
        h.add("feedback-id")
    return h


def clean(s):
    """What header_clean() makes of s: controls to spaces, collapsed."""
    out = []
    for ch in s:
        o = ord(ch)
        if o < 0x20 or o == 0x7f or 0x80 <= o <= 0x9f or ch in "\u2028\u2029 ":
            out.append(" ")
        else:
            out.append(ch)
    return re.sub(" +", " ", "".join(out)).strip()


class MimeTest(unittest.TestCase):
    def check_wire(self, raw):
        # CRLF only, no line over 998 octets (the RFC 5322 limit)
        self.assertNotIn(b"\0", raw)
        self.assertIsNone(re.search(rb"[^\r]\n", raw), "bare LF")
        self.assertIsNone(re.search(rb"\r[^\n]", raw), "bare CR")
        for line in raw.split(b"\r\n"):
            self.assertLessEqual(len(line), 998)
        head = raw.split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            self.assertTrue(all(b < 0x80 for b in line), line)
        # the bodies are quoted-printable: at most 76 octets a line
        for line in raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n"):
            self.assertLessEqual(len(line), 76, line)

    def parse(self, raw, f):
        self.check_wire(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual({k.lower() for k in msg.keys()}, expected_headers(f))
        self.assertEqual(len(msg.keys()), len(expected_headers(f)),
                         "a header appears twice: %r" % msg.keys())
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        parts = list(msg.iter_parts())
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "text/html"])
        for p in parts:
            self.assertEqual(p.get_content_charset(), "utf-8")
            self.assertEqual(p["Content-Transfer-Encoding"],
                             "quoted-printable")
        self.assertEqual(msg.defects, [])
        return msg, parts

    def body_eq(self, part, text):
        got = part.get_content().replace("\r\n", "\n")
        self.assertEqual(got, text.replace("\r\n", "\n"))

    def test_basic(self):
        raw = build_ok()
        msg, parts = self.parse(raw, BASE)
        self.assertEqual(msg["From"].addresses[0].display_name,
                         "Rangeinn News")
        self.assertEqual(msg["From"].addresses[0].addr_spec,
                         "news@rangeinn.example")
        self.assertEqual(msg["To"].addresses[0].display_name, "Ada Lovelace")
        self.assertEqual(msg["To"].addresses[0].addr_spec, "ada@example.org")
        self.assertEqual(msg["Subject"], "Rangeinn Daily #1")
        self.assertEqual(msg["Date"].datetime.isoformat(),
                         "2026-11-24T07:00:00+00:00")
        self.assertRegex(msg["Message-ID"],
                         r"^<[0-9a-f]+\.[0-9a-f]{24}@rangeinn\.example>$")
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg["List-Id"],
                         "Rangeinn Daily <daily.rangeinn.example>")
        self.assertEqual(
            msg["List-Unsubscribe"],
            "<https://news.rangeinn.example/u/1.abcDEF_->, "
            "<mailto:bounces+unsub-1@rangeinn.example>")
        self.assertEqual(msg["List-Unsubscribe-Post"],
                         "List-Unsubscribe=One-Click")
        self.assertEqual(msg["Feedback-ID"], "1:daily:herald")
        self.body_eq(parts[0], "Hello\n")
        self.body_eq(parts[1], "<p>Hello</p>\n")
        # the boundary cannot occur in quoted-printable data
        self.assertTrue(msg.get_boundary().startswith("=_"))

    def test_optional_headers(self):
        f = dict(BASE, reply_to="editor@rangeinn.example", unsub_https="",
                 feedback_id="", list_id="",
                 message_id="<x.1@rangeinn.example>")
        msg, _ = self.parse(build_ok(**f), f)
        self.assertNotIn("List-Unsubscribe-Post", msg)
        self.assertEqual(msg["Reply-To"].addresses[0].addr_spec,
                         "editor@rangeinn.example")
        self.assertEqual(msg["Reply-To"].addresses[0].display_name, "")
        self.assertEqual(msg["Message-ID"], "<x.1@rangeinn.example>")
        self.assertEqual(msg["List-Unsubscribe"],
                         "<mailto:bounces+unsub-1@rangeinn.example>")

    def test_subjects(self):
        subjects = [
            "Russia buys \u2018millions\u2019 of rockets and shells from "
            "North Korea",
            "今日のニュース 🎉 と絵文字 👩‍👩‍👧‍👦 がたくさん入った長い件名です。"
            "折り返しが必要になるはずです — 終わり",
            "Rangeinn Daily #42: " + "word " * 60 + "end",
            "A" * 300,
            "literal =?utf-8?q?not_encoded?= text",
            "é",
            "",
            "ÀÉÎÕÜ " * 40,
        ]
        for s in subjects:
            with self.subTest(s=s[:30]):
                f = dict(BASE, subject=s)
                raw = build_ok(**f)
                msg, _ = self.parse(raw, f)
                self.assertEqual(msg["Subject"], clean(s))
                head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
                for w in re.findall(r"=\?[^ ?]+\?[QqBb]\?[^ ?]*\?=", head):
                    self.assertLessEqual(len(w), 75)
                for line in head.split("\r\n"):
                    if not line.startswith(("List-Unsubscribe:", " <")):
                        self.assertLessEqual(len(line), 78, line)

    def test_names(self):
        names = ["Doe, John \"JJ\" \\ (x)", "José García",
                 "Светлана Александровна Петрова-Водкина из Санкт-Петербурга",
                 "=?utf-8?q?fake?=", "a" * 300, "<evil@x.org>", "  spaced   out "]
        for n in names:
            with self.subTest(n=n[:30]):
                f = dict(BASE, from_name=n, to_name=n)
                raw = build_ok(**f)
                msg, _ = self.parse(raw, f)
                want = clean(n)
                while len(want.encode()) > 200:
                    want = want[:-1]
                want = want.rstrip()
                for h in ("From", "To"):
                    # Python's phrase parser keeps the whitespace between
                    # adjacent encoded-words (RFC 2047 6.2 says drop it):
                    # compare with spaces collapsed, and check the exact
                    # RFC reading with email.header.decode_header
                    got = msg[h].addresses[0].display_name
                    self.assertEqual(re.sub(" +", " ", got), want)
                    rawh = re.search(rb"\r\n" + h.encode() +
                                     rb": (.*?)\r\n(?! )",
                                     b"\r\n" + raw, re.S).group(1)
                    rawh = re.sub(rb"\r\n ", b" ", rawh).decode()
                    if "=?" in rawh:
                        dec = str(email.header.make_header(
                            email.header.decode_header(rawh)))
                        self.assertEqual(dec, want + " <" +
                                         f[h.lower() + "_addr"] + ">")
                self.assertEqual(len(msg["To"].addresses), 1)
                self.assertEqual(msg["To"].addresses[0].addr_spec,
                                 "ada@example.org")

    def test_list_title(self):
        for t, want in [("Ünïcode Dàily", "Ünïcode Dàily"),
                        ("Daily: news, views", "\"Daily: news, views\"")]:
            f = dict(BASE, list_id=t + " <daily.rangeinn.example>")
            msg, _ = self.parse(build_ok(**f), f)
            self.assertTrue(str(msg["List-Id"]).endswith(
                "<daily.rangeinn.example>"))
            self.assertIn(want.strip('"'), str(msg["List-Id"]))

    def test_hostile_text_fields(self):
        evil = "x\r\nBcc: evil@x.org\r\n\r\nbody\n\x01\x1b[31m\x7f\u2028end\r"
        f = dict(BASE, subject=evil, from_name=evil, to_name=evil,
                 list_id=evil + " <daily.rangeinn.example>",
                 feedback_id=evil)
        msg, parts = self.parse(build_ok(**f), f)
        self.assertEqual(msg["Subject"], clean(evil))
        self.assertEqual(msg["To"].addresses[0].display_name, clean(evil))
        self.assertNotIn("Bcc", msg)
        self.assertNotIn("\n", str(msg["Feedback-ID"]))
        self.body_eq(parts[0], "Hello\n")

    def test_hostile_addresses(self):
        bad = ["ada@example.org\r\nBcc: evil@x.org", "ada @example.org",
               "<ada@example.org>", "Ada <ada@example.org>", "ada",
               "ada@", "@example.org", "a..b@example.org", "ada@exa mple.org",
               "ada@example.org>", "\"ada\"@example.org", "ådа@example.org",
               "a" * 65 + "@example.org", ""]
        for field in ("from_addr", "to_addr", "reply_to"):
            for a in bad:
                if field == "reply_to" and a in ("", "<ada@example.org>",
                                                 "Ada <ada@example.org>"):
                    continue    # a mailbox is fine there (issue 9, item 3)
                with self.subTest(field=field, a=a[:20]):
                    r = build(**{field: a})
                    self.assertEqual(r.returncode, 1)
                    self.assertIn(b"mimegen:", r.stderr)
                    self.assertEqual(r.stdout, b"")
        for v in ("Ada <ada@example.org>", "\"Lovelace, Ada\" <ada@example.org>",
                  "<ada@example.org>"):
            with self.subTest(reply_to=v):
                m = email.message_from_bytes(build_ok(reply_to=v),
                                             policy=email.policy.default)
                self.assertEqual(m["Reply-To"].addresses[0].addr_spec,
                                 "ada@example.org")
                if "Ada" in v:
                    self.assertIn("Ada", m["Reply-To"].addresses[0].display_name)
        for field, v in [("unsub_mailto", "mailto:a@b.org>\r\nBcc: x"),
                         ("unsub_https", "https://x.org/a b"),
                         ("unsub_https", "javascript:alert(1)"),
                         ("message_id", "<a@b>\r\nBcc: x@y.org"),
                         ("message_id", "no-brackets@x.org"),
                         ("list_id", "Title <bad id>")]:
            with self.subTest(field=field, v=v):
                self.assertEqual(build(**{field: v}).returncode, 1)

    def test_bodies(self):
        long_word = "x" * 5000
        text = ("plain line\n" + long_word + "\n" + "trailing spaces   \n"
                "tab\t\n= equals =3D\n.leading dot\nFrom the start\n"
                "non-ASCII: é ü — ‘quotes’ 今日 🎉\n" + ("é" * 2000) + "\n"
                "crlf line\r\nlone \r cr\nno newline at end ")
        html = "<html><body>" + "<p>é</p>" * 3000 + "</body></html>"
        f = dict(BASE, text=text, html=html)
        msg, parts = self.parse(build_ok(**f), f)
        self.body_eq(parts[0], text)
        self.body_eq(parts[1], html)
        empty = dict(BASE, text="", html="")
        msg, parts = self.parse(build_ok(**empty), empty)
        self.body_eq(parts[0], "")

    def test_boundary_lookalike_body(self):
        text = "--=_herald_0000\n--=_herald_0000--\n"
        f = dict(BASE, text=text)
        msg, parts = self.parse(build_ok(**f), f)
        self.body_eq(parts[0], text)

    def test_spamassassin(self):
        if shutil.which("spamassassin") is None:
            self.skipTest("spamassassin not installed")
        raw = build_ok(**digest_fields())
        r = subprocess.run(["spamassassin", "-L", "-t"], input=raw,
                           capture_output=True, timeout=120)
        m = re.search(rb"X-Spam-Status: \w+, score=(-?[0-9.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout[:2000])
        score = float(m.group(1))
        report = re.search(rb"Content analysis details:.*", r.stdout,
                           re.S)
        print("spamassassin score: %.1f" % score, file=sys.stderr)
        if report:
            print(report.group(0)[:1500].decode("utf-8", "replace"),
                  file=sys.stderr)
        self.assertLess(score, 2.0)


def digest_fields():
    """A realistic ~20 KB digest: several articles, links, a real HTML part."""
    para = ("Russia is purchasing millions of rockets and artillery shells "
            "from North Korea to re-energize its offensive in Ukraine, "
            "according to recently declassified U.S. intelligence, as "
            "Western sanctions begin to choke Moscow\u2019s supply of "
            "weapons. The official said the purchase indicates that the "
            "Russian military continues to suffer from severe supply "
            "shortages, due in part to export controls and sanctions.")
    arts = []
    for i in range(1, 9):
        arts.append((
            "Article %d: Russia buys \u2018millions\u2019 of rockets" % i,
            "https://rangeinn.example/2026/11/24/article-%d" % i))
    text = ["Rangeinn Daily, issue 42", "=" * 24, ""]
    html = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Rangeinn Daily</title></head><body style=\"margin:0;"
            "padding:0;background:#f4f4f4\"><table role=\"presentation\" "
            "width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td "
            "align=\"center\"><table role=\"presentation\" width=\"600\" "
            "style=\"background:#ffffff;font-family:Georgia,serif\">"
            "<tr><td style=\"padding:24px\"><h1 style=\"font-size:24px\">"
            "Rangeinn Daily</h1><p>Issue 42 &middot; 24 November 2026</p>"]
    for i, (title, url) in enumerate(arts, 1):
        text += [title, "", para, "", para, "", "Read more: [%d]" % i, "",
                 "[%d] %s" % (i, url), "", ""]
        html.append("<h2 style=\"font-size:20px\"><a href=\"%s\" style=\""
                    "color:#1a4d8f\">%s</a></h2><p style=\"line-height:1.5\">"
                    "%s</p><p style=\"line-height:1.5\">%s</p><p><a href=\""
                    "%s\">Read more</a></p>" % (url, title, para, para, url))
    text += ["--", "You get this because you subscribed to Rangeinn Daily "
             "at rangeinn.example.", "Unsubscribe: "
             "https://news.rangeinn.example/u/1.abcDEF_-", ""]
    html.append("<hr><p style=\"font-size:12px;color:#555\">You get this "
                "because you subscribed to Rangeinn Daily at "
                "rangeinn.example. <a href=\"https://news.rangeinn.example/u/"
                "1.abcDEF_-\">Unsubscribe</a></p></td></tr></table></td></tr>"
                "</table></body></html>")
    return dict(BASE, subject="Rangeinn Daily #42: Russia buys "
                "\u2018millions\u2019 of rockets and shells from North Korea",
                text="\n".join(text), html="\n".join(html))


if __name__ == "__main__":
    if not os.access(MIMEGEN, os.X_OK):
        print("mimegen not built at %s" % MIMEGEN, file=sys.stderr)
        sys.exit(1)
    unittest.main(verbosity=2)
