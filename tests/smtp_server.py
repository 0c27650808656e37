#!/usr/bin/python3
"""A test SMTP server for herald's tests and demos (asyncio).

The protocol is a small SMTP server written on asyncio streams: aiosmtpd
(tried first) answered only ~80 messages/s here, too slow for the
10,000-subscriber tests.

    smtp_server.py [--port N] [--maildir DIR] [--rules FILE.json]
                   [--tempfail-first RE]... [--reject RE]... [--drop-first RE]...
                   [--drop-prob P] [--delay-ms MS] [--seed N] [--auth USER:PASS]
                   [--late RE=MS[:REPLY]]... [--no-pipelining]

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
  late            "RE=MS[:REPLY]": on the first attempt for a matching
                  recipient the final reply to DATA waits MS milliseconds and
                  is REPLY (a code such as 554, or a whole line; default 250):
                  a reply that comes after the client's timeout

--log-only keeps just log.jsonl (for tests that count thousands of
messages).  A dropped or refused message is not stored.  Stops cleanly on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import json
import os
import random
import re
import signal
import sys

import base64


NO_PIPELINING = False


class Handler:
    def __init__(self, args, rules):
        self.maildir = args.maildir
        self.files = not args.log_only
        self.tempfail_first = [re.compile(r) for r in rules.get("tempfail_first", [])]
        self.reject = [re.compile(r) for r in rules.get("reject", [])]
        self.drop_first = [re.compile(r) for r in rules.get("drop_first", [])]
        self.drop_prob = float(rules.get("drop_prob", 0.0))
        self.delay = float(rules.get("delay_ms", 0)) / 1000.0
        self.late = []
        for spec in rules.get("late", []):
            pat, _, rest = spec.partition("=")
            ms, _, reply = rest.partition(":")
            self.late.append((re.compile(pat), float(ms) / 1000.0, reply))
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

    def rcpt(self, address):
        if self._match(self.reject, address):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        return None

    async def data(self, mail_from, rcpts, content, writer):
        """The final reply, or None when the connection was dropped."""
        if self.delay:
            await asyncio.sleep(self.delay)
        for pat, secs, reply in self.late:
            if any(pat.search(a) for a in rcpts) and self._first("late", rcpts[0]):
                await asyncio.sleep(secs)
                if reply and not reply.startswith("2"):
                    return reply if " " in reply else reply + " 5.7.1 late refusal"
                break
        drop = self.drop_prob > 0 and self.rng.random() < self.drop_prob
        for a in rcpts:
            if self._match(self.drop_first, a) and self._first("drop", a):
                drop = True
        if drop:
            writer.transport.abort()
            return None
        for a in rcpts:
            if self._match(self.tempfail_first, a) and self._first("temp", a):
                return "451 4.7.1 <%s>: greylisted, try again later" % a
        self.n += 1
        qid = "Q%08X" % self.n
        if self.maildir:
            name = "%d.%s.herald-test" % (self.n, qid)
            head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
                mail_from, ", ".join(rcpts))
            if self.files:
                tmp = os.path.join(self.maildir, "tmp", name)
                with open(tmp, "wb") as f:
                    f.write(head.encode())
                    f.write(content)
                os.rename(tmp, os.path.join(self.maildir, "new", name))
            self.log.write(json.dumps({"from": mail_from, "to": rcpts,
                                       "file": name, "queue_id": qid}) + "\n")
        return "250 2.0.0 Ok: queued as %s" % qid


def _addr(arg):
    """The address inside "FROM:<a>" / "TO:<a> params"."""
    arg = arg.split(":", 1)[1].strip() if ":" in arg else arg
    if arg.startswith("<"):
        return arg[1:arg.find(">")] if ">" in arg else arg[1:]
    return arg.split()[0] if arg else ""


async def session(handler, auth, reader, writer):
    def send(line):
        writer.write(line.encode() + b"\r\n")

    mail_from, rcpts, authed = None, [], auth is None
    sock = writer.get_extra_info("socket")
    if sock is not None:
        import socket as _s
        sock.setsockopt(_s.IPPROTO_TCP, _s.TCP_NODELAY, 1)
    send("220 herald-test.local ESMTP ready")
    try:
        while True:
            await writer.drain()
            line = await reader.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = cmd.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                mail_from, rcpts = None, []
                if verb == "HELO":
                    send("250 herald-test.local")
                else:
                    send("250-herald-test.local")
                    send("250-8BITMIME")
                    if not NO_PIPELINING:
                        send("250-PIPELINING")
                    if auth is not None:
                        send("250-AUTH PLAIN LOGIN")
                    send("250 SIZE 52428800")
            elif verb == "AUTH" and auth is not None:
                mech, _, ir = arg.partition(" ")
                mech = mech.upper()
                try:
                    if mech == "PLAIN":
                        if not ir:
                            send("334 ")
                            await writer.drain()
                            ir = (await reader.readline()).decode().strip()
                        _, user, pw = base64.b64decode(ir).decode().split("\0")
                    elif mech == "LOGIN":
                        if ir:
                            user = base64.b64decode(ir).decode()
                        else:
                            send("334 VXNlcm5hbWU6")
                            await writer.drain()
                            user = base64.b64decode((await reader.readline()).strip()).decode()
                        send("334 UGFzc3dvcmQ6")
                        await writer.drain()
                        pw = base64.b64decode((await reader.readline()).strip()).decode()
                    else:
                        send("504 5.5.4 mechanism not supported")
                        continue
                except Exception:
                    send("501 5.5.2 cannot decode")
                    continue
                if (user, pw) == auth:
                    authed = True
                    send("235 2.7.0 Authentication successful")
                else:
                    send("535 5.7.8 Authentication credentials invalid")
            elif verb == "MAIL":
                if not authed:
                    send("530 5.7.0 Authentication required")
                    continue
                mail_from, rcpts = _addr(arg), []
                send("250 2.1.0 Ok")
            elif verb == "RCPT":
                if mail_from is None:
                    send("503 5.5.1 need MAIL first")
                    continue
                a = _addr(arg)
                r = handler.rcpt(a)
                if r:
                    send(r)
                else:
                    rcpts.append(a)
                    send("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    send("503 5.5.1 need RCPT first")
                    continue
                send("354 End data with <CR><LF>.<CR><LF>")
                await writer.drain()
                body = await _read_data(reader)
                reply = await handler.data(mail_from, rcpts, body, writer)
                if reply is None:
                    return
                send(reply)
                mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                send("250 2.0.0 Ok")
            elif verb == "NOOP":
                send("250 2.0.0 Ok")
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                await writer.drain()
                return
            else:
                send("502 5.5.2 command not recognized")
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return
    finally:
        writer.close()


async def _read_data(reader):
    """The message up to the lone dot, with dot-stuffing undone."""
    buf = await reader.readuntil(b"\r\n.\r\n")
    buf = buf[:-3]                      # keep the last CRLF
    if buf.startswith(b".."):
        buf = buf[1:]
    return buf.replace(b"\r\n..", b"\r\n.")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--maildir")
    p.add_argument("--log-only", action="store_true",
                   help="keep only DIR/log.jsonl, not the message files")
    p.add_argument("--rules")
    p.add_argument("--tempfail-first", action="append", default=[])
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--drop-first", action="append", default=[])
    p.add_argument("--drop-prob", type=float)
    p.add_argument("--delay-ms", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--late", action="append", default=[])
    p.add_argument("--no-pipelining", action="store_true",
                   help="do not offer PIPELINING (RFC 2920) after EHLO")
    p.add_argument("--auth", help="USER:PASS required (AUTH PLAIN/LOGIN, no TLS)")
    args = p.parse_args()

    rules = {}
    if args.rules:
        with open(args.rules) as f:
            rules = json.load(f)
    for k in ("tempfail_first", "reject", "drop_first", "late"):
        rules[k] = list(rules.get(k, [])) + getattr(args, k)
    for k in ("drop_prob", "delay_ms", "seed"):
        if getattr(args, k) is not None:
            rules[k] = getattr(args, k)

    global NO_PIPELINING
    NO_PIPELINING = args.no_pipelining
    handler = Handler(args, rules)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(asyncio.start_server(
        lambda r, w: session(handler, auth, r, w), host="127.0.0.1",
        port=args.port, backlog=128, limit=64 * 1024 * 1024))
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
