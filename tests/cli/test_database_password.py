#!/usr/bin/python3
"""database: as a mapping (issue 14): `url` a PostgreSQL URI, and the
password from `password_env` or `password_file`, as for smtp: never in the
URI.  The configuration is checked (a SQLite path has no password; env and
file not both; an unset variable is a configuration error, exit 2, naming
it); on PostgreSQL (cli-pg/) commands work through the mapping with the
password given either way (the test server trusts its socket, so this
shows the password is read and the URI used, not that libpq sends it)."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from herald_test import checks, database, herald_in, on_pg, workdir  # noqa: E402

T = workdir("dbpw.")
CFG = os.path.join(T, "herald.yml")
herald = herald_in(CFG)
check = checks()


def config(database_yaml):
    with open(CFG, "w") as f:
        f.write(f"""database: {database_yaml}
smtp: {{ url: "smtp://127.0.0.1:2525", starttls: off }}
newsletters:
  - id: daily
    title: Daily
    from: "Daily <news@example.org>"
    bounce_address: bounces@example.org
    schedule: "0 7 * * *"
    sources: [ {{ folder: articles }} ]
""")


def main():
    os.makedirs(os.path.join(T, "articles"))
    env = dict(os.environ, HERALD_TEST_DB_PW="s3cret")
    env.pop("HERALD_DB_PASSWORD", None)

    config('{ url: herald.db, password_env: HERALD_TEST_DB_PW }')
    p = herald("config", "check", env=env)
    check(p.returncode == 2 and "database.url: expected a postgresql:// URI"
          in p.stderr, f"a SQLite file has no password: {p.returncode} {p.stderr}")

    uri = database() if on_pg() else "postgresql://herald@db.invalid/herald"
    config(f'{{ url: "{uri}", password_env: HERALD_TEST_DB_PW, '
           f'password_file: pw }}')
    p = herald("config", "check", env=env)
    check(p.returncode == 2 and "password_env or password_file, not both"
          in p.stderr, f"env and file, not both: {p.returncode} {p.stderr}")

    config(f'{{ password_env: HERALD_TEST_DB_PW }}')
    p = herald("config", "check", env=env)
    check(p.returncode == 2 and "url is missing" in p.stderr,
          f"url is required: {p.returncode} {p.stderr}")

    config(f'{{ url: "{uri}", password_env: HERALD_TEST_DB_UNSET }}')
    p = herald("subscribers", "count", env=env)
    check(p.returncode == 2 and "database: password: the environment "
          "variable HERALD_TEST_DB_UNSET is not set" in p.stderr,
          f"an unset variable is named, exit 2: {p.returncode} {p.stderr}")
    check("s3cret" not in p.stderr and "s3cret" not in p.stdout,
          "the password is never printed")

    if not on_pg():
        rc = check.finish("test_database_password")
        if rc == 0:
            shutil.rmtree(T, ignore_errors=True)
        return rc

    config(f'{{ url: "{uri}", password_env: HERALD_TEST_DB_PW }}')
    p = herald("subscribers", "add", "ada@example.org", env=env)
    check(p.returncode == 0, f"add through the mapping (env): {p.stderr}")
    with open(os.path.join(T, "pw"), "w") as f:
        f.write("s3cret\n")
    os.chmod(os.path.join(T, "pw"), 0o600)
    config(f'{{ url: "{uri}", password_file: pw }}')
    p = herald("subscribers", "count", env=env)
    check(p.returncode == 0 and "1" in p.stdout,
          f"count through the mapping (file): {p.returncode} {p.stdout} {p.stderr}")
    rc = check.finish("test_database_password")
    if rc == 0:
        shutil.rmtree(T, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
