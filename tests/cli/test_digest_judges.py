#!/usr/bin/python3
"""The default digest, judged by independent tools.

A fresh `herald init` with the shared example article; `herald preview
--format eml` gives the exact message a subscriber would get.  Python's
email package checks its structure and that both parts carry the article;
SpamAssassin (when installed) must score it below 2.
"""
import email
import email.policy
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database  # noqa: E402

HERALD = os.environ["HERALD_BIN"]
SHARED = os.environ["HERALD_SHARED_DIR"]
TMP = os.environ.get("HERALD_TEST_TMP", "/tmp")


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


class DigestJudges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(TMP, exist_ok=True)
        cls.dir = tempfile.mkdtemp(dir=TMP, prefix="judges.")
        subprocess.run([HERALD, "init", cls.dir], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(SHARED, "examples", "article.txt"),
                  encoding="utf-8") as f:
            cls.article = f.read()
        shutil.copy(os.path.join(SHARED, "examples", "article.txt"),
                    os.path.join(cls.dir, "articles", "example-article.txt"))
        cfg = os.path.join(cls.dir, "herald.yml")
        with open(cfg) as f:    # herald.db, or PostgreSQL (cli-pg/)
            y = re.sub(r"^database: .*$", f'database: "{database()}"',
                       f.read(), flags=re.M)
        with open(cfg, "w") as f:
            f.write(y)
        subprocess.run([HERALD, "-c", cfg, "subscribers", "add",
                        "ada@example.org", "--name", "Ada Lovelace"],
                       check=True, stdout=subprocess.DEVNULL)
        r = subprocess.run([HERALD, "-c", cfg, "preview", "--format", "eml",
                            "--subscriber", "ada@example.org"],
                           capture_output=True, check=True)
        cls.raw = r.stdout
        cls.msg = email.message_from_bytes(cls.raw, policy=email.policy.default)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_structure(self):
        m = self.msg
        self.assertEqual(m.get_content_type(), "multipart/alternative")
        parts = list(m.iter_parts())
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "text/html"])
        for p in parts:
            self.assertEqual(p.get_content_charset(), "utf-8")
            self.assertEqual(p["Content-Transfer-Encoding"], "quoted-printable")
        for line in self.raw.split(b"\r\n"):
            self.assertLessEqual(len(line), 998)
        self.assertNotIn(b"\n", self.raw.replace(b"\r\n", b""))

    def test_headers(self):
        m = self.msg
        title = self.article.splitlines()[0]
        self.assertEqual(str(m["Subject"]), "My Newsletter #1: " + title)
        self.assertEqual(m["To"].addresses[0].addr_spec, "ada@example.org")
        self.assertEqual(m["To"].addresses[0].display_name, "Ada Lovelace")
        self.assertEqual(m["From"].addresses[0].addr_spec, "news@example.org")
        for h in ("Date", "Message-ID", "MIME-Version", "List-Id",
                  "List-Unsubscribe"):
            self.assertIsNotNone(m[h], h)
        self.assertTrue(m["Message-ID"].strip().endswith("@example.org>"))
        self.assertIn("mailto:", str(m["List-Unsubscribe"]))

    def test_both_parts_carry_the_article(self):
        text = self.msg.get_body(preferencelist=("plain",)).get_content()
        html = self.msg.get_body(preferencelist=("html",)).get_content()
        lines = [l for l in self.article.splitlines() if l.strip()]
        ntext = norm(text)
        for para in lines:
            self.assertIn(norm(para), ntext)
        # the HTML escapes & (in the author note) but keeps the curly quotes
        nhtml = norm(html.replace("&amp;", "&"))
        for para in lines:
            self.assertIn(norm(para), nhtml)
        for line in text.splitlines():
            if "://" not in line and "mailto:" not in line:
                self.assertLessEqual(len(line), 72, line)

    def test_spamassassin(self):
        if shutil.which("spamassassin") is None:
            self.skipTest("spamassassin not installed")
        r = subprocess.run(["spamassassin", "-L", "-t"], input=self.raw,
                           capture_output=True, timeout=120)
        m = re.search(rb"X-Spam-Status: \w+, score=(-?[0-9.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout[:2000])
        score = float(m.group(1))
        print("spamassassin score of the default digest: %.1f" % score,
              file=sys.stderr)
        self.assertLess(score, 2.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
