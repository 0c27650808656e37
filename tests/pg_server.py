"""A real PostgreSQL server for the tests (issue 14).

PgServer() runs Debian's PostgreSQL 15 binaries: initdb into a fresh
directory under /tmp, then pg_ctl start listening only on a Unix socket in
that directory (no TCP port, so parallel tests never collide).  PostgreSQL
refuses to run as root; when the tests run as root (CI), the cluster is
made and run as `nobody` through runuser.  .uri is a libpq URI for the
database `herald` as the superuser `herald` (trust authentication on the
socket, so no password); stop() stops the server and removes the folder.

When PostgreSQL is not installed, PgServer() raises: the PG tests fail
loudly (scripts/deps.sh installs postgresql); they never skip.

Also runnable by hand:  python3 tests/pg_server.py  (prints the URI and
waits for Ctrl-C).

For a whole ctest run (the cli-pg/ tests, tests/CMakeLists.txt):
`pg_server.py start DIR` makes and starts a server in DIR (a fixed folder
under /tmp named after the build; a server left there by a run that was
killed is stopped first), prints its URI and exits with the server
running; `pg_server.py stop DIR` stops it and removes DIR.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

PGBIN = os.environ.get("HERALD_PGBIN", "/usr/lib/postgresql/15/bin")


class PgServer:
    def __init__(self, folder=None):
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not os.access(os.path.join(PGBIN, tool), os.X_OK):
                raise RuntimeError(
                    f"PostgreSQL is not installed ({PGBIN}/{tool} missing): "
                    "install postgresql (scripts/deps.sh)")
        if folder is None:
            self.dir = tempfile.mkdtemp(prefix="herald-pg.", dir="/tmp")
        else:
            stop_folder(folder)
            os.makedirs(folder, mode=0o755)
            self.dir = folder
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "nobody", "nogroup")
            self.as_user = ["runuser", "-u", "nobody", "--"]
        self._run([os.path.join(PGBIN, "initdb"), "-D", self.data, "-A",
                   "trust", "-U", "herald", "-E", "UTF8", "--no-sync",
                   "--locale=C.UTF-8"])
        self._run([os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-l",
                   self.log, "-w", "-t", "60", "-o",
                   f"-k {self.dir} -c listen_addresses='' -F "
                   "-c max_connections=200 -c shared_buffers=32MB", "start"])
        self.uri = f"postgresql://herald@/herald?host={self.dir}"
        self._run(["createdb", "-h", self.dir, "-U", "herald", "herald"])

    def _run(self, argv):
        env = dict(os.environ)
        env.pop("PGPASSWORD", None)
        p = subprocess.run(self.as_user + argv, capture_output=True,
                           text=True, env=env, cwd=self.dir)
        if p.returncode != 0:
            log = ""
            if os.path.exists(self.log):
                with open(self.log) as f:
                    log = f.read()
            raise RuntimeError(f"{argv[0]} failed ({p.returncode}): "
                               f"{p.stdout}{p.stderr}{log}")
        return p.stdout

    def psql(self, sql, db=None):
        """Runs sql with psql (in database db, default herald); returns
        its unaligned output."""
        uri = self.uri if db is None else \
            f"postgresql://herald@/{db}?host={self.dir}"
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v",
                            "ON_ERROR_STOP=1", "-d", uri, "-c", sql],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"psql: {p.stderr}")
        return p.stdout.strip()

    def new_database(self, name):
        """A further empty database on the same server; its URI."""
        self.psql(f"CREATE DATABASE {name}")
        return f"postgresql://herald@/{name}?host={self.dir}"

    def stop(self):
        subprocess.run(self.as_user + [os.path.join(PGBIN, "pg_ctl"), "-D",
                       self.data, "-m", "immediate", "-w", "stop"],
                       capture_output=True, cwd=self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def stop_folder(folder):
    """Stops the server of a PgServer(folder), if one runs, and removes
    the folder."""
    data = os.path.join(folder, "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        subprocess.run(as_user + [os.path.join(PGBIN, "pg_ctl"), "-D", data,
                       "-m", "immediate", "-w", "stop"], capture_output=True,
                       cwd="/tmp")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "start":
    print(PgServer(sys.argv[2]).uri, flush=True)
elif __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "stop":
    stop_folder(sys.argv[2])
    print(f"stopped the server in {sys.argv[2]}")
elif __name__ == "__main__":
    s = PgServer()
    print(s.uri, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        s.stop()
