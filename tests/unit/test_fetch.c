/*
 * fetch against a real HTTP server on loopback (tests/cli/httpd.py): 304,
 * gzip, redirects, permanent moves, errors, timeouts, size cap, parallelism.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "feed.h"
#include "fetch.h"
#include "xmalloc.h"

static pid_t server_pid;
static int port;
static char root[512];

static const char feed_xml[] =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
    "<item><title>One</title><guid>1</guid></item></channel></rss>\n";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
setup(void **state)
{
	const char *src = getenv("HERALD_SOURCE_DIR");
	const char *tmp = getenv("HERALD_TEST_TMP");
	char *script, *portfile, *p;
	FILE *f;
	int i;

	(void)state;
	if (src == NULL)
		return -1;
	mkdir(tmp ? tmp : "/tmp", 0700);
	snprintf(root, sizeof(root), "%s/fetch.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(root) == NULL)
		return -1;
	p = xasprintf("%s/feed.xml", root);
	f = fopen(p, "w");
	fputs(feed_xml, f);
	fclose(f);
	free(p);
	script = xasprintf("%s/tests/cli/httpd.py", src);
	portfile = xasprintf("%s/port", root);
	if ((server_pid = fork()) == 0) {
		execl("/usr/bin/python3", "python3", script, root, "--port-file",
		    portfile, (char *)NULL);
		_exit(127);
	}
	/* Wait (at most 10 s) for the server to write its port. */
	for (i = 0; i < 200 && port == 0; i++) {
		if ((f = fopen(portfile, "r")) != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port == 0)
			usleep(50000);
	}
	free(script);
	free(portfile);
	return port ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd;

	(void)state;
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	cmd = xasprintf("rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	free(cmd);
	return 0;
}

static char *
url(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", port, path);
}

static void
test_get_and_304(void **state)
{
	struct fetch_req q = { 0 }, q2 = { 0 };
	char *u = url("/feed.xml");

	(void)state;
	q.url = u;
	fetch_all(&q, 1);
	assert_true(q.ok);
	assert_false(q.not_modified);
	assert_int_equal(q.status, 200);
	assert_int_equal(q.len, strlen(feed_xml));
	assert_string_equal(q.body, feed_xml);
	assert_non_null(q.etag_out);
	assert_non_null(q.last_modified_out);
	assert_null(q.permanent_url);
	assert_null(q.error);

	/* Conditional GET with the ETag: 304, no body. */
	q2.url = u;
	q2.etag = q.etag_out;
	fetch_all(&q2, 1);
	assert_true(q2.ok);
	assert_true(q2.not_modified);
	assert_null(q2.body);
	fetch_req_clear(&q2);

	/* With Last-Modified only: also 304. */
	q2.url = u;
	q2.etag = NULL;
	q2.last_modified = q.last_modified_out;
	fetch_all(&q2, 1);
	assert_true(q2.not_modified);
	fetch_req_clear(&q2);
	fetch_req_clear(&q);
	free(u);
}

static void
test_gzip_and_charset(void **state)
{
	struct fetch_req q = { 0 };
	char *u = url("/gzip/ctype/ISO-8859-1/feed.xml");

	(void)state;
	q.url = u;
	fetch_all(&q, 1);
	assert_true(q.ok);
	assert_string_equal(q.body, feed_xml);	/* decoded */
	assert_string_equal(q.charset, "ISO-8859-1");
	fetch_req_clear(&q);
	free(u);
}

static void
test_redirects(void **state)
{
	struct fetch_req q = { 0 };
	char *u, *want;

	(void)state;
	/* 5 temporary redirects: fine, location unchanged. */
	u = url("/redirect/302/5/feed.xml");
	q.url = u;
	fetch_all(&q, 1);
	assert_true(q.ok);
	assert_string_equal(q.body, feed_xml);
	assert_null(q.permanent_url);
	fetch_req_clear(&q);
	free(u);

	/* 6: refused. */
	u = url("/redirect/302/6/feed.xml");
	q.url = u;
	fetch_all(&q, 1);
	assert_false(q.ok);
	assert_non_null(strstr(q.error, "more than 5 redirects"));
	fetch_req_clear(&q);
	free(u);

	/* Permanent: the new location is reported. */
	u = url("/redirect/301/2/feed.xml");
	want = url("/feed.xml");
	q.url = u;
	fetch_all(&q, 1);
	assert_true(q.ok);
	assert_string_equal(q.permanent_url, want);
	fetch_req_clear(&q);
	free(u);
	free(want);

	/* 308 then 302: only the permanent part of the chain counts. */
	u = url("/redirect/308/1/redirect/302/1/feed.xml");
	want = url("/redirect/302/1/feed.xml");
	q.url = u;
	fetch_all(&q, 1);
	assert_true(q.ok);
	assert_string_equal(q.permanent_url, want);
	fetch_req_clear(&q);
	free(u);
	free(want);

	/* 302 then 301: the source itself did not move. */
	u = url("/redirect/302/1/redirect/301/1/feed.xml");
	q.url = u;
	fetch_all(&q, 1);
	assert_true(q.ok);
	assert_null(q.permanent_url);
	fetch_req_clear(&q);
	free(u);
}

static void
test_errors(void **state)
{
	struct fetch_req q = { 0 };
	char *u;

	(void)state;
	u = url("/missing.xml");
	q.url = u;
	fetch_all(&q, 1);
	assert_false(q.ok);
	assert_string_equal(q.error, "HTTP 404 Not Found");
	assert_false(q.temporary);
	fetch_req_clear(&q);
	free(u);

	u = url("/status/503");
	q.url = u;
	fetch_all(&q, 1);
	assert_false(q.ok);
	assert_string_equal(q.error, "HTTP 503 Service Unavailable");
	assert_true(q.temporary);
	fetch_req_clear(&q);
	free(u);

	/* Nobody listens on port 1: unreachable, temporary. */
	q.url = "http://127.0.0.1:1/feed.xml";
	fetch_all(&q, 1);
	assert_false(q.ok);
	assert_true(q.temporary);
	fetch_req_clear(&q);

	/* Not http, https or file. */
	q.url = "ftp://127.0.0.1/feed.xml";
	fetch_all(&q, 1);
	assert_false(q.ok);
	assert_non_null(q.error);
	fetch_req_clear(&q);
}

static void
test_size_cap(void **state)
{
	struct fetch_req q[2] = { { 0 } };
	char *u1, *u2;

	(void)state;
	u1 = xasprintf("http://127.0.0.1:%d/big/%u", port, FEED_MAX_SIZE + 100000);
	u2 = xasprintf("http://127.0.0.1:%d/bigcl/%u", port, FEED_MAX_SIZE + 1);
	q[0].url = u1;
	q[1].url = u2;
	fetch_all(q, 2);
	assert_false(q[0].ok);
	assert_non_null(strstr(q[0].error, "larger than"));
	assert_false(q[1].ok);
	assert_non_null(strstr(q[1].error, "larger than"));
	fetch_req_clear(&q[0]);
	fetch_req_clear(&q[1]);
	free(u1);
	free(u2);
}

static void
test_timeout(void **state)
{
	struct fetch_req q[2] = { { 0 } };
	char *u1 = url("/delay/5000/feed.xml"), *u2 = url("/hang");
	double t0;

	(void)state;
	setenv("HERALD_FETCH_TIMEOUT", "0.8", 1);
	q[0].url = u1;
	q[1].url = u2;
	t0 = now_s();
	fetch_all(q, 2);
	assert_true(now_s() - t0 < 3.0);
	unsetenv("HERALD_FETCH_TIMEOUT");
	assert_false(q[0].ok);
	assert_true(q[0].temporary);
	assert_non_null(strstr(q[0].error, "timed out"));
	assert_false(q[1].ok);
	assert_non_null(strstr(q[1].error, "timed out"));
	fetch_req_clear(&q[0]);
	fetch_req_clear(&q[1]);
	free(u1);
	free(u2);
}

static void
test_parallel(void **state)
{
	struct fetch_req q[40];
	char *u[40];
	double t0, took;
	size_t i;

	(void)state;
	memset(q, 0, sizeof(q));
	for (i = 0; i < 40; i++) {
		u[i] = xasprintf("http://127.0.0.1:%d/delay/300/nocache/feed.xml?%zu",
		    port, i);
		q[i].url = u[i];
	}
	t0 = now_s();
	fetch_all(q, 40);
	took = now_s() - t0;
	/* 40 × 300 ms one after another would be 12 s. */
	assert_true(took < 2.5);
	for (i = 0; i < 40; i++) {
		assert_true(q[i].ok);
		fetch_req_clear(&q[i]);
		free(u[i]);
	}
}

static void
test_file_url(void **state)
{
	struct fetch_req q = { 0 };
	char *u = xasprintf("file://%s/feed.xml", root);

	(void)state;
	q.url = u;
	fetch_all(&q, 1);
	assert_true(q.ok);
	assert_string_equal(q.body, feed_xml);
	assert_null(q.etag_out);
	fetch_req_clear(&q);
	free(u);
	u = xasprintf("file://%s/nope.xml", root);
	q.url = u;
	fetch_all(&q, 1);
	assert_false(q.ok);
	assert_non_null(q.error);
	fetch_req_clear(&q);
	free(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_and_304),
		cmocka_unit_test(test_gzip_and_charset),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_file_url),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
