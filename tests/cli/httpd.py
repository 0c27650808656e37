#!/usr/bin/python3
"""A small HTTP server for herald's fetch tests, on 127.0.0.1 only.

It serves files under a root directory with an ETag and a Last-Modified
header, answering a matching If-None-Match / If-Modified-Since with 304.
Path prefixes add behaviour, and compose left to right:

  /delay/<ms>/REST             wait <ms> milliseconds, then handle /REST
  /gzip/REST                   /REST gzip-compressed (when the client accepts gzip)
  /redirect/<code>/<n>/REST    <n> redirects with status <code>, then /REST
  /ctype/<charset>/REST        Content-Type with that charset
  /nocache/REST                no ETag / Last-Modified, never 304
  /status/<code>               that status with a short body
  /big/<bytes>                 that many bytes, no Content-Length (streamed)
  /bigcl/<bytes>               that many bytes, with Content-Length
  /hang                        accepts and never answers (until stopped, 60 s at most)

Every request is recorded (method, path, headers) in Server.requests, and
with --log FILE as one JSON object per line.

Python:  srv = httpd.Server(root).start(); srv.url("/feed.xml"); srv.stop()
Shell:   httpd.py ROOT --port-file F [--log FILE]   (runs until SIGTERM)
"""
import argparse
import email.utils
import gzip
import hashlib
import http.server
import json
import os
import signal
import socketserver
import sys
import threading
import time

HANG_MAX = 60.0


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "herald-test-httpd/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        srv = self.server.owner
        entry = {"method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()},
                 "time": time.time()}
        srv.record(entry)
        try:
            self.route(self.path.split("?", 1)[0], {})
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, path, opts):
        parts = path.lstrip("/").split("/")
        head = parts[0]
        if head == "delay" and len(parts) >= 3:
            deadline = time.time() + int(parts[1]) / 1000.0
            while time.time() < deadline and not self.server.owner.stopping.is_set():
                time.sleep(min(0.05, max(0, deadline - time.time())))
            return self.route("/" + "/".join(parts[2:]), opts)
        if head == "gzip":
            return self.route("/" + "/".join(parts[1:]), dict(opts, gzip=True))
        if head == "ctype" and len(parts) >= 3:
            return self.route("/" + "/".join(parts[2:]), dict(opts, charset=parts[1]))
        if head == "nocache":
            return self.route("/" + "/".join(parts[1:]), dict(opts, nocache=True))
        if head == "redirect" and len(parts) >= 4:
            code, n = int(parts[1]), int(parts[2])
            rest = "/".join(parts[3:])
            target = "/redirect/%d/%d/%s" % (code, n - 1, rest) if n > 1 else "/" + rest
            if n <= 0:
                return self.route("/" + rest, opts)
            self.send_response(code)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if head == "status" and len(parts) >= 2:
            body = b"status page\n"
            self.send_response(int(parts[1]))
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if head in ("big", "bigcl") and len(parts) >= 2:
            return self.big(int(parts[1]), head == "bigcl")
        if head == "hang":
            stop = self.server.owner.stopping
            stop.wait(HANG_MAX)
            return
        return self.file("/".join(parts), opts)

    def big(self, size, with_length):
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        if with_length:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"<!-- " + b"x" * 65000 + b" -->\n"
        sent = 0
        while sent < size:
            piece = chunk[:min(len(chunk), size - sent)]
            self.wfile.write(piece)
            sent += len(piece)

    def file(self, rel, opts):
        root = self.server.owner.root
        path = os.path.realpath(os.path.join(root, rel))
        if not path.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(path):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with open(path, "rb") as f:
            data = f.read()
        mtime = int(os.stat(path).st_mtime)
        etag = '"%s"' % hashlib.sha1(data).hexdigest()[:16]
        lastmod = email.utils.formatdate(mtime, usegmt=True)
        if not opts.get("nocache"):
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            fresh = False
            if inm is not None:
                fresh = etag in [t.strip() for t in inm.split(",")]
            elif ims is not None:
                try:
                    fresh = email.utils.parsedate_to_datetime(ims).timestamp() >= mtime
                except (TypeError, ValueError):
                    fresh = False
            if fresh:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
        ctype = "application/xml"
        if path.endswith((".txt", ".md")):
            ctype = "text/plain"
        if opts.get("charset"):
            ctype += "; charset=" + opts["charset"]
        encoding = None
        if opts.get("gzip") and "gzip" in self.headers.get("Accept-Encoding", ""):
            data = gzip.compress(data)
            encoding = "gzip"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if not opts.get("nocache"):
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", lastmod)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class _TCPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class Server:
    def __init__(self, root, port=0, log=None):
        self.root = root
        self.requests = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._log = open(log, "a") if log else None
        self.httpd = _TCPServer(("127.0.0.1", port), Handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self._thread = None

    def record(self, entry):
        with self._lock:
            self.requests.append(entry)
            if self._log:
                self._log.write(json.dumps(entry) + "\n")
                self._log.flush()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def requests_for(self, path):
        with self._lock:
            return [r for r in self.requests if r["path"] == path]

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(5)
        if self._log:
            self._log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main():
    ap = argparse.ArgumentParser(description="test HTTP server (127.0.0.1)")
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    args = ap.parse_args()
    srv = Server(args.root, args.port, args.log)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.port)
        os.rename(tmp, args.port_file)
    else:
        print(srv.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    srv.start()
    done.wait()
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
