#!/usr/bin/python3
"""A test SMTP server for herald's tests and demos (aiosmtpd on asyncio).

    smtp_server.py [--port N] [--maildir DIR] [--rules FILE.json]
                   [--tempfail-first RE]... [--reject RE]... [--drop-first RE]...
                   [--drop-prob P] [--delay-ms MS] [--seed N] [--auth USER:PASS]

Listens on 127.0.0.1 only (port 0 = a free one) and prints "READY <port>" once
it accepts connections.  Each accepted message is written to DIR/new/ as one
file whose first lines are X-Envelope-From: and X-Envelope-To: headers
(then the message exactly as received), and one JSON line is appended to
DIR/log.jsonl: {"from", "to": [...], "file", "queue_id"}.

Fault rules (regular expressions are searched in the recipient address;
a rules file is a JSON object with the same keys: tempfail_first, reject,
drop_first (lists), drop_prob, delay_ms, seed):
  tempfail_first  451 at the end of DATA on the first attempt for that recipient
  reject          550 at RCPT for that recipient, every time
  drop_first      the connection is dropped after DATA, before the final
                  reply, on the first attempt for that recipient
  drop_prob       any message's connection is dropped that way with probability P
  delay_ms        the final reply to DATA waits that long

A dropped or refused message is not stored.  Stops cleanly on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import json
import os
import random
import re
import signal
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, args, rules):
        self.maildir = args.maildir
        self.tempfail_first = [re.compile(r) for r in rules.get("tempfail_first", [])]
        self.reject = [re.compile(r) for r in rules.get("reject", [])]
        self.drop_first = [re.compile(r) for r in rules.get("drop_first", [])]
        self.drop_prob = float(rules.get("drop_prob", 0.0))
        self.delay = float(rules.get("delay_ms", 0)) / 1000.0
        self.rng = random.Random(rules.get("seed", 1))
        self.seen = {}          # (rule kind, recipient) -> attempts
        self.n = 0
        self.log = None
        if self.maildir:
            for sub in ("new", "cur", "tmp"):
                os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
            self.log = open(os.path.join(self.maildir, "log.jsonl"), "a", buffering=1)

    @staticmethod
    def _match(res, addr):
        return any(r.search(addr) for r in res)

    def _first(self, kind, addr):
        k = (kind, addr.lower())
        self.seen[k] = self.seen.get(k, 0) + 1
        return self.seen[k] == 1

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._match(self.reject, address):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        rcpts = envelope.rcpt_tos
        if self.delay:
            await asyncio.sleep(self.delay)
        drop = self.drop_prob > 0 and self.rng.random() < self.drop_prob
        for a in rcpts:
            if self._match(self.drop_first, a) and self._first("drop", a):
                drop = True
        if drop:
            server.transport.abort()
            return "421 4.4.2 dropped (never sent)"
        for a in rcpts:
            if self._match(self.tempfail_first, a) and self._first("temp", a):
                return "451 4.7.1 <%s>: greylisted, try again later" % a
        self.n += 1
        qid = "Q%08X" % self.n
        name = None
        if self.maildir:
            name = "%d.%s.herald-test" % (self.n, qid)
            head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
                envelope.mail_from, ", ".join(rcpts))
            tmp = os.path.join(self.maildir, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(head.encode())
                f.write(envelope.original_content or envelope.content)
            os.rename(tmp, os.path.join(self.maildir, "new", name))
            self.log.write(json.dumps({"from": envelope.mail_from, "to": rcpts,
                                       "file": name, "queue_id": qid}) + "\n")
        return "250 2.0.0 Ok: queued as %s" % qid


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--maildir")
    p.add_argument("--rules")
    p.add_argument("--tempfail-first", action="append", default=[])
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--drop-first", action="append", default=[])
    p.add_argument("--drop-prob", type=float)
    p.add_argument("--delay-ms", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--auth", help="USER:PASS required (AUTH PLAIN/LOGIN, no TLS)")
    args = p.parse_args()

    rules = {}
    if args.rules:
        with open(args.rules) as f:
            rules = json.load(f)
    for k in ("tempfail_first", "reject", "drop_first"):
        rules[k] = list(rules.get(k, [])) + getattr(args, k)
    for k in ("drop_prob", "delay_ms", "seed"):
        if getattr(args, k) is not None:
            rules[k] = getattr(args, k)

    handler = Handler(args, rules)
    kw = {}
    if args.auth:
        user, _, pw = args.auth.partition(":")

        def auth(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and \
                data.login.decode() == user and data.password.decode() == pw
            return AuthResult(success=ok, handled=False)
        kw = dict(authenticator=auth, auth_required=True, auth_require_tls=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="herald-test.local", data_size_limit=0,
                     decode_data=False, **kw),
        host="127.0.0.1", port=args.port, backlog=64))
    port = server.sockets[0].getsockname()[1]
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, loop.stop)
    print("READY %d" % port, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        if handler.log:
            handler.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())


class TestServer:
    """Starts this server as a child process (for tests): with-statement
    or start()/stop().  .port, .maildir, .log() -> list of accepted messages."""

    def __init__(self, maildir, *args):
        self.maildir = maildir
        self.args = [str(a) for a in args]
        self.proc = None
        self.port = None

    def start(self, timeout=15):
        import select
        import subprocess
        import time
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.abspath(__file__), "--maildir",
             self.maildir] + self.args, stdout=subprocess.PIPE)
        end = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = end - time.monotonic()
            r, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            if not r:
                self.stop()
                raise RuntimeError("smtp_server.py did not start")
            c = self.proc.stdout.read1(64)
            if not c:
                raise RuntimeError("smtp_server.py exited")
            line += c
        self.port = int(line.split()[1])
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except Exception:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        path = os.path.join(self.maildir, "log.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(l) for l in f if l.endswith("\n")]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
