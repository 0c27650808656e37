#!/usr/bin/python3
"""A real Dovecot IMAP and POP3 server for herald's bounce tests.

    with DovecotServer(tmpdir, "bounces@rangeinn.example", "secret") as d:
        d.imap_port, d.pop3_port, d.maildir   # the user's maildir (INBOX)

Runs `dovecot -F` with a config of its own under tmpdir (base_dir, state,
log, a passwd-file with the one user, mail_location=maildir:...), listening
on 127.0.0.1 only, plaintext IMAP and POP3 on free ports; with tls=True
also IMAPS and POP3S with a self-signed certificate for 127.0.0.1 made by
openssl (.cert is its PEM file, to trust through SSL_CERT_FILE).  As root
it keeps Dovecot's own unprivileged users (dovecot, dovenull) for its
processes and stores the mail as `nobody`; as another user everything runs
as that user.  stop() ends it (SIGTERM to the master, which it started).
"""
import grp
import os
import pwd
import shutil
import socket
import subprocess
import time


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class DovecotServer:
    def __init__(self, tmp, user, password, tls=False, inbox_prefix=False):
        self.tmp = os.path.abspath(tmp)
        self.tls = tls
        # inbox_prefix: every folder lives under "INBOX." (as on Courier
        # and Cyrus), so a top-level CREATE is refused
        self.inbox_prefix = inbox_prefix
        self.imaps_port = _free_port() if tls else 0
        self.pop3s_port = _free_port() if tls else 0
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.user = user
        self.password = password
        self.proc = None
        self.imap_port = _free_port()
        self.pop3_port = _free_port()
        self.maildir = os.path.join(self.tmp, "mail", user)

    def _ids(self):
        if os.geteuid() == 0:
            mail = pwd.getpwnam("nobody")
            return ("dovecot", "dovenull", mail.pw_uid, mail.pw_gid)
        me = pwd.getpwuid(os.geteuid())
        return (me.pw_name, me.pw_name, me.pw_uid, os.getegid())

    def start(self, timeout=20):
        internal, login, uid, gid = self._ids()
        for d in ("run", "state", "home", "mail"):
            os.makedirs(os.path.join(self.tmp, d), exist_ok=True)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
        with open(os.path.join(self.tmp, "passwd"), "w") as f:
            f.write(f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::"
                    f"{self.tmp}/home::\n")
        ssl = "ssl = no"
        if self.tls:
            key = os.path.join(self.tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", self.cert, "-days", "2",
                            "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                           check=True, capture_output=True)
            os.chmod(key, 0o644)
            ssl = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}"
        namespace = ""
        if self.inbox_prefix:
            namespace = ("namespace inbox {\n  prefix = INBOX.\n  separator = .\n"
                         "  inbox = yes\n}")
        conf = os.path.join(self.tmp, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""# written by tests/dovecot_server.py
base_dir = {self.tmp}/run
state_dir = {self.tmp}/state
log_path = {self.tmp}/dovecot.log
instance_name = herald-test-{os.getpid()}
protocols = imap pop3
listen = 127.0.0.1
{ssl}
auth_mechanisms = plain login
disable_plaintext_auth = no
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = {min(uid, 100)}
first_valid_gid = 0
mail_location = maildir:{self.tmp}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
pop3_uidl_format = %f
{namespace}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.tmp}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.tmp}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {self.pop3s_port}
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0600
  }}
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
        if os.geteuid() == 0:
            for root, dirs, files in os.walk(os.path.join(self.tmp, "mail")):
                for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                    os.chown(n, uid, gid)
            # Dovecot's own users must reach the passwd file and the mail:
            # open up (o+x) the test's directories on the way there
            d = self.tmp
            while d != "/":
                if not os.stat(d).st_mode & 0o001:
                    os.chmod(d, os.stat(d).st_mode | 0o711)
                d = os.path.dirname(d)
            os.chmod(self.tmp, 0o755)
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.tmp, "master.err"), "w"))
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited: " + self.log())
            try:
                for port in (self.imap_port, self.pop3_port):
                    with socket.create_connection(("127.0.0.1", port), 1) as s:
                        s.recv(64)
                return self
            except OSError:
                if time.monotonic() > end:
                    self.stop()
                    raise RuntimeError("dovecot did not start: " + self.log())
                time.sleep(0.1)

    def deliver(self, name, text):
        """Puts a message straight into the INBOX maildir (new/)."""
        internal, login, uid, gid = self._ids()
        tmp = os.path.join(self.maildir, "tmp", name)
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        if os.geteuid() == 0:
            os.chown(tmp, uid, gid)
        os.rename(tmp, os.path.join(self.maildir, "new", name))

    def files(self, folder=""):
        """Message files in INBOX (folder "") or a folder (e.g. "Processed")."""
        base = os.path.join(self.maildir, "." + folder) if folder else self.maildir
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(base, sub)
            if os.path.isdir(d):
                out += [f for f in os.listdir(d) if not f.startswith(".")]
        return out

    def log(self):
        text = ""
        for n in ("master.err", "dovecot.log"):
            p = os.path.join(self.tmp, n)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()[-3000:]
        return text

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    import sys
    import tempfile
    t = tempfile.mkdtemp(prefix="dovecot.")
    with DovecotServer(t, "bounces@rangeinn.example", "pw") as d:
        print("imap", d.imap_port, "pop3", d.pop3_port, "maildir", d.maildir)
        sys.stdout.flush()
        time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 1)
    shutil.rmtree(t, ignore_errors=True)
