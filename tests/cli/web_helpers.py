"""Shared pieces of the web endpoint's tests (test_web.py,
test_web_browser.py): a herald configuration with a web: section and the
test SMTP server, `herald web` started on a free loopback port, the
messages the server received, and their links."""
import email
import email.policy
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ["HERALD_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SRC, "tests"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import database, db_connect  # noqa: E402
from smtp_server import TestServer  # noqa: E402,F401

HERALD = os.environ["HERALD_BIN"]
TMP = os.environ.get("HERALD_TEST_TMP", "/tmp")
os.makedirs(TMP, exist_ok=True)


class Checks:
    def __init__(self):
        self.failures = 0

    def __call__(self, cond, what):
        if not cond:
            self.failures += 1
            print("FAIL:", what, flush=True)
        return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Site:
    """A herald directory: config, database, articles, maildir."""

    def __init__(self, prefix, title="Rangeinn \u201cDaily\u201d <b>", signup=True,
                 welcome=True, expiry="7d", base_path=""):
        self.dir = tempfile.mkdtemp(dir=TMP, prefix=prefix)
        self.maildir = os.path.join(self.dir, "maildir")
        self.articles = os.path.join(self.dir, "articles")
        os.makedirs(self.articles)
        self.title = title
        self.signup = signup
        self.welcome = welcome
        self.expiry = expiry
        self.web_port = free_port()
        self.base = f"http://127.0.0.1:{self.web_port}{base_path}"
        self.smtp = None
        self.web = None
        self.web_log = os.path.join(self.dir, "web.log")
        self.database = None

    def config(self, smtp_port, extra_web=""):
        title = self.title.replace("\\", "\\\\").replace('"', '\\"')
        if self.database is None:
            self.database = database()   # herald.db, or PostgreSQL (cli-pg/)
        with open(os.path.join(self.dir, "herald.yml"), "w") as f:
            f.write(f"""database: "{self.database}"
smtp:
  url: smtp://127.0.0.1:{smtp_port}
  starttls: off
  timeout: 10
secret_file: secret
web:
  listen: 127.0.0.1:{self.web_port}
  base_url: {self.base}
  signup: {"true" if self.signup else "false"}
  welcome: {"true" if self.welcome else "false"}
  confirm_expiry: {self.expiry}
{extra_web}newsletters:
  - id: daily
    title: "{title}"
    from: "Rangeinn News <news@rangeinn.example>"
    bounce_address: bounces@rangeinn.example
    schedule: "0 7 * * *"
    sources:
      - folder: articles
""")

    def start_smtp(self, *args):
        self.smtp = TestServer(self.maildir, *args).start()
        if self.smtp.port == self.web_port:	# the kernel gave it ours
            self.web_port = free_port()
            self.base = self.base.replace(f":{self.smtp.port}", f":{self.web_port}")
        self.config(self.smtp.port)
        return self.smtp

    def herald(self, *args, timeout=120):
        e = dict(os.environ)
        e.pop("HERALD_CONFIG", None)
        return subprocess.run([HERALD, "-c", os.path.join(self.dir, "herald.yml")]
                              + list(args), capture_output=True, text=True,
                              env=e, timeout=timeout)

    def start_web(self, timeout=15):
        """`herald web` in the background; returns once it listens."""
        e = dict(os.environ)
        e.pop("HERALD_CONFIG", None)
        log = open(self.web_log, "a")
        self.web = subprocess.Popen([HERALD, "-c", os.path.join(self.dir, "herald.yml"),
                                     "web"], stdout=log, stderr=log, env=e)
        log.close()
        # its own words, not a connect: another process (the SMTP server
        # started with port 0) may hold the port it was given
        mark = f"web: listening on 127.0.0.1:{self.web_port}"
        seen = self.read_web_log().count(mark)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.web.poll() is not None:
                raise RuntimeError("herald web exited: " + self.read_web_log())
            if self.read_web_log().count(mark) > seen:
                return self.web
            time.sleep(0.05)
        raise RuntimeError("herald web did not listen: " + self.read_web_log())

    def stop_web(self):
        if self.web and self.web.poll() is None:
            self.web.terminate()
            try:
                rc = self.web.wait(20)
            except subprocess.TimeoutExpired:
                self.web.kill()
                rc = self.web.wait()
            self.web = None
            return rc
        return None

    def read_web_log(self):
        try:
            with open(self.web_log) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        self.stop_web()
        if self.smtp:
            self.smtp.stop()

    def db(self):
        return db_connect(self.database, self.dir)

    def status(self, addr):
        with self.db() as c:
            r = c.execute("select u.status from subscriptions u join subscribers s"
                          " on s.id = u.subscriber_id where s.email_key = ?",
                          (addr.lower(),)).fetchall()
        return [x[0] for x in r]

    def events(self, kind=None):
        with self.db() as c:
            if kind:
                return c.execute("select kind, detail from events where kind = ?"
                                 " order by id", (kind,)).fetchall()
            return c.execute("select kind, detail from events order by id").fetchall()

    def article(self, name, title, body="A paragraph of news."):
        with open(os.path.join(self.articles, name), "w") as f:
            f.write(f"{title}\n\n{body}\n")

    def messages(self, to=None):
        d = os.path.join(self.maildir, "new")
        out = []
        for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, n), "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.default)
            if to is None or m["X-Envelope-To"].lower() == to.lower():
                out.append(m)
        return out

    def wait_messages(self, to, n, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ms = self.messages(to)
            if len(ms) >= n:
                return ms
            time.sleep(0.1)
        return self.messages(to)


def unsubscribe_url(m):
    """The https/http URL of a message's List-Unsubscribe header."""
    v = str(m["List-Unsubscribe"] or "")
    for u in re.findall(r"<([^>]+)>", v):
        if u.startswith("http"):
            return u
    return None


def link(m, path):
    """The first link to <base>/<path>/TOKEN in the text part."""
    text = m.get_body(("plain",)).get_content()
    found = re.findall(r"(https?://\S+/" + path + r"/[A-Za-z0-9_.-]+)", text)
    return found[0] if found else None


def curl(*args, timeout=30):
    """curl -s with the status code, headers and body back."""
    with tempfile.NamedTemporaryFile(dir=TMP) as hf, tempfile.NamedTemporaryFile(dir=TMP) as bf:
        p = subprocess.run(["curl", "-s", "-o", bf.name, "-D", hf.name, "-w",
                            "%{http_code}", "--max-time", str(timeout)] + list(args),
                           capture_output=True, text=True, timeout=timeout + 5)
        headers = {}
        for line in open(hf.name, encoding="latin-1").read().splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = open(bf.name, "rb").read().decode("utf-8", "replace")
    code = int(p.stdout) if p.stdout.strip().isdigit() else 0
    return code, headers, body


def wait_closed(sock, timeout):
    """Seconds until the peer closes sock, or None within timeout."""
    start = time.monotonic()
    sock.setblocking(False)
    while time.monotonic() - start < timeout:
        r, _, _ = select.select([sock], [], [], 0.5)
        if r:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                return time.monotonic() - start
            if not data:
                return time.monotonic() - start
    return None
