#!/usr/bin/env bash
# Installs everything herald needs to build, test, benchmark and run its demo
# on Debian 12.  Run as root (or with sudo).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
# --no-update: the caller (.ci/run) has just run apt-get update.
if [ "${1:-}" != --no-update ]; then
	apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends \
	build-essential cmake pkg-config clang libclang-rt-14-dev \
	libetpan-dev libcurl4-gnutls-dev libyaml-dev libsqlite3-dev sqlite3 \
	libxml2-dev libcmark-dev libmicrohttpd-dev libcmocka-dev libgnutls28-dev libidn2-dev \
	python3 python3-aiosmtpd python3-feedparser postfix spamassassin \
	tzdata ca-certificates curl time >/dev/null
# The service pieces (issue 12): sd_notify, `systemd-analyze verify` of the
# unit in the tests, `mandoc -T lint` of the man pages.
apt-get install -y -qq --no-install-recommends \
	libsystemd-dev systemd mandoc >/dev/null
# The bounce tests (issue 11) start their own Dovecot IMAP and POP3 server
# on 127.0.0.1 with a config of their own.
apt-get install -y -qq --no-install-recommends \
	dovecot-core dovecot-imapd dovecot-pop3d >/dev/null
# The web endpoint's browser test (issue 11): headless Chromium driven by
# chromedriver through Selenium.
apt-get install -y -qq --no-install-recommends \
	chromium chromium-driver python3-selenium >/dev/null
# Debian starts the packaged service: the tests do not use it.
if command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now dovecot >/dev/null 2>&1 || true
fi
# The PostgreSQL backend (issue 14): libpq to build; the server, whose
# binaries (/usr/lib/postgresql/15/bin) the PG tests run on a cluster of
# their own in /tmp; psycopg2 for the CLI tests that read rows on the
# cli-pg/ run.  Debian's cluster service is not used.
apt-get install -y -qq --no-install-recommends \
	libpq-dev postgresql postgresql-client python3-psycopg2 >/dev/null
if command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now postgresql >/dev/null 2>&1 || true
fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
	pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
fi
# postfix comes with a service we do not use; its tools (smtp-sink,
# smtp-source) are what the benchmarks need.  Stop it if it started.
if command -v postfix >/dev/null 2>&1; then
	postfix stop >/dev/null 2>&1 || true
fi
echo "deps: installed"
