"""What the CLI tests (tests/cli/test_*.py) share, in one place.

Each test runs the real binary ($HERALD_BIN) in a temporary folder of its
own under $HERALD_TEST_TMP, against the real test servers (TestServer from
tests/smtp_server.py).  Typical use:

    from herald_test import (SHARED, TestServer, checks, free_port,
                             herald_in, maildir_messages, workdir)

    T = workdir("late.")
    CFG = os.path.join(T, "herald.yml")
    herald = herald_in(CFG)
    check = checks()
    ...
    check(p.returncode == 0, f"send exits 0: {p.stderr}")
    ...
    return check.finish("test_smtp_late_reply")
"""
import email
import email.policy
import os
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ["HERALD_SOURCE_DIR"]
HERALD = os.environ["HERALD_BIN"]
SHARED = os.environ.get("HERALD_SHARED_DIR", os.path.join(SRC, "..", "shared"))
TEST_TMP = os.environ.get("HERALD_TEST_TMP", "/tmp")

sys.path.insert(0, os.path.join(SRC, "tests"))
from smtp_server import TestServer  # noqa: E402,F401  (re-exported)


def workdir(prefix):
    """A new temporary folder for one test (the test removes it)."""
    os.makedirs(TEST_TMP, exist_ok=True)
    return tempfile.mkdtemp(dir=TEST_TMP, prefix=prefix)


class checks:
    """check(cond, what) counts and prints each failed check."""

    def __init__(self):
        self.failures = 0

    def __call__(self, cond, what):
        if not cond:
            self.failures += 1
            print("FAIL:", what, flush=True)
        return cond

    def finish(self, name):
        """Prints the verdict line; the exit code for sys.exit."""
        print(f"{'FAILED' if self.failures else 'passed'}: {name} "
              f"({self.failures} failures)")
        return 1 if self.failures else 0


def herald_in(cfg, timeout=60):
    """herald(*args, env=None, timeout=timeout, input=None) with -c cfg,
    without the caller's HERALD_CONFIG; returns the CompletedProcess
    (text)."""
    default_timeout = timeout

    def herald(*args, env=None, timeout=default_timeout, input=None):
        e = dict(os.environ)
        e.pop("HERALD_CONFIG", None)
        e.update(env or {})
        return subprocess.run([HERALD, "-c", cfg] + list(args),
                              capture_output=True, text=True, env=e,
                              timeout=timeout, input=input)
    return herald


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(pred, timeout, step=0.1):
    """Polls pred() until it is true (True) or timeout seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def maildir_messages(md):
    """The messages delivered to maildir md, parsed, in file-name order."""
    out = []
    new = os.path.join(md, "new")
    for name in sorted(os.listdir(new)):
        with open(os.path.join(new, name), "rb") as f:
            out.append(email.message_from_binary_file(
                f, policy=email.policy.default))
    return out
