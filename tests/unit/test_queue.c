/*
 * queue + smtp + store_queue against the real test SMTP server
 * (tests/smtp_server.py on 127.0.0.1) and a real SQLite file.  The message
 * builder here is a small stand-in: the queue does not care what it sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"
#include "retry.h"
#include "smtp.h"
#include "store_sqlite.h"
#include "store_queue.h"
#include "xmalloc.h"

struct server {
	pid_t	 pid;
	int	 port;
	char	 dir[600];
};

static char tmpdir[512];
static pid_t live_server;	/* killed after a test that failed midway */

/* Starts tests/smtp_server.py with extra args; waits for READY. */
static void
server_start(struct server *sv, const char *const *extra)
{
	const char *src = getenv("HERALD_SOURCE_DIR");
	char script[1024], line[128] = "";
	const char *argv[32];
	int p[2], n = 0, i;
	struct pollfd pfd;
	ssize_t r;
	size_t len = 0;

	assert_non_null(src);
	snprintf(script, sizeof(script), "%s/tests/smtp_server.py", src);
	snprintf(sv->dir, sizeof(sv->dir), "%s/maildir", tmpdir);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = script;
	argv[n++] = "--maildir";
	argv[n++] = sv->dir;
	for (i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	assert_int_equal(pipe(p), 0);
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	live_server = sv->pid;
	if (sv->pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (len < sizeof(line) - 1 && strchr(line, '\n') == NULL) {
		assert_true(poll(&pfd, 1, 15000) == 1);
		r = read(p[0], line + len, sizeof(line) - 1 - len);
		assert_true(r > 0);
		len += (size_t)r;
		line[len] = '\0';
	}
	close(p[0]);
	live_server = sv->pid;
	assert_int_equal(sscanf(line, "READY %d", &sv->port), 1);
}

static void
server_stop(struct server *sv)
{
	int status;

	kill(sv->pid, SIGTERM);
	waitpid(sv->pid, &status, 0);
	live_server = 0;
}

/* How many messages the server stored for rcpt. */
static int
server_count(const struct server *sv, const char *rcpt)
{
	char path[700], line[2048], needle[300];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/log.jsonl", sv->dir);
	snprintf(needle, sizeof(needle), "\"to\": [\"%s\"]", rcpt);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

static int
build(void *arg, const struct store_delivery *d, struct queue_msg *m,
    char **err)
{
	(void)arg;
	(void)err;
	m->env_from = xasprintf("bounces+%lld@example.org", (long long)d->id);
	m->message_id = xasprintf("<%lld.test@example.org>",
	    (long long)d->id);
	buf_printf(&m->data, "From: news@example.org\r\nTo: %s\r\n"
	    "Subject: test\r\nMessage-ID: %s\r\n\r\nHello %s\r\n.dot line\r\n",
	    d->email, m->message_id, d->email);
	return 0;
}

static struct store *
make_store(int nsubs, int64_t *issue_id)
{
	char path[600], *err = NULL;
	bool busy;
	struct store *st;
	struct db_stmt *s;
	long nd = 0;
	int i;

	snprintf(path, sizeof(path), "%s/q.db", tmpdir);
	unlink(path);
	st = store_open(path, &err, &busy);
	assert_non_null(st);
	assert_int_equal(store_begin(st), STORE_OK);
	for (i = 1; i <= nsubs; i++) {
		const char *kind = i % 10 == 3 ? "temp" : i % 10 == 7 ? "bad" :
		    "ok";

		s = store_stmt(st, "INSERT INTO subscribers (id, email, "
		    "email_key, name, created) VALUES (?1, ?2, lower(?2), 'N', 0)");
		db_bind_int(s, 1, i);
		char *e = xasprintf("u%d.%s@example.org", i, kind);
		db_bind_text(s, 2, e);
		free(e);
		assert_int_equal(db_step(s), DB_DONE);
		s = store_stmt(st, "INSERT INTO subscriptions (subscriber_id,"
		    " newsletter, status, created) VALUES (?, 'n', 'active', 0)");
		db_bind_int(s, 1, i);
		assert_int_equal(db_step(s), DB_DONE);
	}
	assert_int_equal(store_commit(st), STORE_OK);
	assert_int_equal(store_issue_create(st, "n", 1, "Subject", time(NULL),
	    NULL, 0, issue_id, &nd), STORE_OK);
	assert_int_equal(nd, nsubs);
	return st;
}

static struct smtp *
make_smtp(int port, long conns)
{
	struct smtp_opts o = { 0 };
	char url[64], *err = NULL;
	struct smtp *sm;

	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	o.url = url;
	o.helo = "example.org";
	o.starttls = STARTTLS_OFF;
	o.connections = conns;
	o.timeout = 10;
	sm = smtp_new(&o, &err);
	assert_non_null(sm);
	return sm;
}

static void
pass(struct store *st, int64_t issue, int port, struct queue_stats *qs)
{
	struct queue_opts o = { 0 };
	struct smtp *sm = make_smtp(port, 4);

	o.store = st;
	o.issue_id = issue;
	o.smtp = sm;
	/* 5: with 3 % of connections dropped, a row giving up after 3 was a
	   ~3 % flake of test_faults_then_resume */
	o.max_attempts = 5;
	o.build = build;
	assert_int_equal(queue_run(&o, qs), 0);
	smtp_free(sm);
}

static void
test_faults_then_resume(void **state)
{
	const char *rules[] = { "--tempfail-first", "\\.temp@", "--reject",
	    "\\.bad@", "--drop-prob", "0.03", NULL };
	struct server sv;
	struct store *st;
	struct queue_stats qs;
	struct store_queue_counts c;
	int64_t issue;
	bool done = false;
	int i, passes = 0;
	const int N = 300;

	(void)state;
	setenv("HERALD_RETRY_BASE", "0", 1);
	server_start(&sv, rules);
	st = make_store(N, &issue);
	pass(st, issue, sv.port, &qs);
	/* A dropped connection can defer a .bad row before the server refuses
	   it, so the first pass fails at most the .bad ones; the exact count is
	   asserted once every pass is over (a flake of 29 != 30 under load). */
	assert_true(qs.failed <= N / 10);
	assert_true(qs.deferred >= N / 10);		/* the .temp ones */
	assert_false(qs.unreachable);
	while (!done && passes++ < 10) {
		if (passes > 1)
			pass(st, issue, sv.port, &qs);
		assert_int_equal(store_issue_finish_if_done(st, issue, &done),
		    STORE_OK);
	}
	assert_true(done);
	assert_int_equal(store_issue_counts(st, issue, &c), STORE_OK);
	assert_int_equal(c.failed, N / 10);
	assert_int_equal(c.sent, N - N / 10);
	for (i = 1; i <= N; i++) {
		const char *kind = i % 10 == 3 ? "temp" : i % 10 == 7 ? "bad" :
		    "ok";
		char e[64];

		snprintf(e, sizeof(e), "u%d.%s@example.org", i, kind);
		assert_int_equal(server_count(&sv, e), i % 10 == 7 ? 0 : 1);
	}
	/* The refused rows keep the server's reply; sent rows the queue id. */
	struct db_stmt *s = store_stmt(st, "SELECT count(*) FROM deliveries"
	    " WHERE state = 'failed' AND last_reply LIKE '550 5.1.1%'");
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_int(s, 0), N / 10);
	db_reset(s);
	s = store_stmt(st, "SELECT count(*) FROM deliveries WHERE state = 'sent'"
	    " AND last_reply LIKE '250 2.0.0 Ok: queued as Q%'"
	    " AND message_id LIKE '<%' AND sent IS NOT NULL");
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_int(s, 0), N - N / 10);
	db_reset(s);
	store_close(st);
	server_stop(&sv);
}

static void
test_unsubscribed_skipped(void **state)
{
	struct server sv;
	struct store *st;
	struct queue_stats qs;
	int64_t issue;

	(void)state;
	server_start(&sv, NULL);
	st = make_store(20, &issue);
	assert_int_equal(store_exec(st, "UPDATE subscriptions SET status ="
	    " 'unsubscribed' WHERE subscriber_id IN (2, 5)"), STORE_OK);
	pass(st, issue, sv.port, &qs);
	assert_int_equal(qs.skipped, 2);
	assert_int_equal(server_count(&sv, "u2.ok@example.org"), 0);
	assert_int_equal(server_count(&sv, "u1.ok@example.org"), 1);
	store_close(st);
	server_stop(&sv);
}

static void
test_unreachable(void **state)
{
	struct server sv;
	struct store *st;
	struct queue_stats qs;
	struct store_queue_counts c;
	int64_t issue;
	int port;

	(void)state;
	server_start(&sv, NULL);
	port = sv.port;
	server_stop(&sv);		/* nobody listens there now */
	st = make_store(50, &issue);
	pass(st, issue, port, &qs);
	assert_true(qs.unreachable);
	assert_int_equal(qs.sent, 0);
	assert_int_equal(store_issue_counts(st, issue, &c), STORE_OK);
	assert_int_equal(c.queued, 50);		/* untouched */
	store_close(st);
}

static void
test_retry_delay(void **state)
{
	long d;

	(void)state;
	setenv("HERALD_RETRY_BASE", "60", 1);
	d = retry_delay(1);
	assert_true(d >= 45 && d <= 75);
	d = retry_delay(3);
	assert_true(d >= 180 && d <= 300);
	d = retry_delay(40);
	assert_true(d <= 86400 * 5 / 4);
	setenv("HERALD_RETRY_BASE", "0", 1);
	assert_int_equal(retry_delay(5), 0);
}

static int
setup(void **state)
{
	const char *base = getenv("HERALD_TEST_TMP");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/queue.XXXXXX",
	    base ? base : "/tmp");
	if (base)
		mkdir(base, 0700);
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[1200];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
each(void **state)
{
	char cmd[1200];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/maildir' '%s/q.db'*", tmpdir,
	    tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Like build, but the 30th row's message cannot be built (the config's). */
static int
build_stop_at_30(void *arg, const struct store_delivery *d,
    struct queue_msg *m, char **err)
{
	if (d->id == 30) {
		*err = xstrdup("Reply-To address: cannot be written");
		return QUEUE_BUILD_STOP;
	}
	if (d->id == 31)
		fail_msg("the builder went on after QUEUE_BUILD_STOP");
	return build(arg, d, m, err);
}

/*
 * A message that cannot be built for a reason that is not the row's stops
 * the pass: no row is failed for it, the rest stay due (issue 9, item 3).
 */
static void
test_build_stop(void **state)
{
	struct queue_opts o = { 0 };
	struct server sv;
	struct store *st;
	struct queue_stats qs;
	struct store_queue_counts c;
	struct smtp *sm;
	int64_t issue;

	(void)state;
	server_start(&sv, NULL);
	st = make_store(100, &issue);
	sm = make_smtp(sv.port, 4);
	o.store = st;
	o.issue_id = issue;
	o.smtp = sm;
	o.max_attempts = 3;
	o.build = build_stop_at_30;
	assert_int_equal(queue_run(&o, &qs), 0);
	smtp_free(sm);
	assert_true(qs.build_failed);
	assert_non_null(strstr(qs.last_error, "Reply-To"));
	assert_int_equal(store_issue_counts(st, issue, &c), STORE_OK);
	/* rows before 30 went as usual (3, 7 ... are the server's faults) */
	assert_int_equal(c.sent + c.deferred + c.failed, 29);
	assert_int_equal(c.queued, 71);
	assert_int_equal(server_count(&sv, "u30.ok@example.org"), 0);
	store_close(st);
	server_stop(&sv);
}

/*
 * An outcome whose row is not in the database (the file was swapped) is an
 * error, not a silent no-op that leaves the message due; a second
 * connection refuses a path that no longer names the file (issue 9).
 */
static void
test_outcome_row_must_change(void **state)
{
	struct store_outcome o = { 0 };
	struct store *st, *again;
	char path[600], moved[620], *err = NULL;
	int64_t issue;
	bool busy;

	(void)state;
	st = make_store(2, &issue);
	o.id = 999999;
	o.state = "sent";
	o.attempts = 1;
	o.reply = "250 ok";
	assert_int_equal(store_deliveries_update(st, &o, 1), STORE_ERR);
	assert_non_null(strstr(store_errmsg(st), "not in the database"));
	assert_int_equal(store_check(st, &err), 0);
	again = store_open_again(st, &err, &busy);
	assert_non_null(again);
	store_close(again);
	snprintf(path, sizeof(path), "%s/q.db", tmpdir);
	snprintf(moved, sizeof(moved), "%s/q.db.moved", tmpdir);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(store_check(st, &err), -1);
	assert_non_null(strstr(err, "removed"));
	free(err);
	assert_null(store_open_again(st, &err, &busy));
	free(err);
	assert_false(access(path, F_OK) == 0);	/* nothing made by name */
	store_close(st);
	unlink(moved);
}

/*
 * A server without PIPELINING gets one command at a time, and a refused
 * RCPT is followed by RSET so the connection carries the next message.
 */
static void
test_no_pipelining(void **state)
{
	const char *rules[] = { "--no-pipelining", "--reject", "\\.bad@",
	    "--tempfail-first", "\\.temp@", NULL };
	struct server sv;
	struct store *st;
	struct queue_stats qs;
	int64_t issue;

	(void)state;
	server_start(&sv, rules);
	st = make_store(60, &issue);
	pass(st, issue, sv.port, &qs);
	assert_int_equal(qs.failed, 6);		/* the .bad ones */
	assert_int_equal(qs.deferred, 6);	/* the .temp ones */
	assert_int_equal(qs.sent, 48);
	assert_int_equal(server_count(&sv, "u1.ok@example.org"), 1);
	assert_int_equal(server_count(&sv, "u7.bad@example.org"), 0);
	store_close(st);
	server_stop(&sv);
}

/* A test that failed midway left its server running: ctest would wait. */
static int
after(void **state)
{
	int status;

	(void)state;
	if (live_server > 0) {
		kill(live_server, SIGTERM);
		waitpid(live_server, &status, 0);
		live_server = 0;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_delay),
		cmocka_unit_test_setup_teardown(test_faults_then_resume, each, after),
		cmocka_unit_test_setup_teardown(test_unsubscribed_skipped, each, after),
		cmocka_unit_test_setup_teardown(test_unreachable, each, after),
		cmocka_unit_test_setup(test_outcome_row_must_change, each),
		cmocka_unit_test_setup_teardown(test_no_pipelining, each, after),
		cmocka_unit_test_setup_teardown(test_build_stop, each, after),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
