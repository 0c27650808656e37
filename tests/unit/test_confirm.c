/*
 * confirm: the shipped confirmation templates compile; the message carries
 * the confirm link (token naming the subscriber) in both parts, escapes the
 * subscriber's name in HTML, and says how long the link works.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "confirm.h"
#include "xmalloc.h"

static const char cfg_web[] =
"database: herald.db\n"
"smtp: { url: \"smtp://127.0.0.1:2525\", starttls: off }\n"
"web:\n"
"  listen: 127.0.0.1:8080\n"
"  base_url: https://news.example.org/\n"
"  confirm_expiry: 36h\n"
"newsletters:\n"
"  - id: daily\n"
"    title: Rangeinn Daily\n"
"    from: \"Rangeinn News <news@rangeinn.example>\"\n"
"    bounce_address: bounces@rangeinn.example\n"
"    schedule: \"0 7 * * *\"\n"
"    sources: [ { folder: articles } ]\n";

static struct config *
load(const char *text)
{
	struct diags d = { 0 };
	struct config *c = config_load_mem("test.yml", "/tmp", text,
	    strlen(text), &d);

	if (c == NULL)
		diags_print(&d);
	diags_free(&d);
	assert_non_null(c);
	return c;
}

/* The message with quoted-printable soft breaks and =XX undone (new string). */
static char *
qp_decode(const char *m)
{
	struct buf b = BUF_INIT;
	unsigned v;

	while (*m) {
		if (m[0] == '=' && m[1] == '\r' && m[2] == '\n') {
			m += 3;
		} else if (m[0] == '=' && sscanf(m + 1, "%2X", &v) == 1 &&
		    m[1] && m[2]) {
			buf_addc(&b, (char)v);
			m += 3;
		} else {
			buf_addc(&b, *m++);
		}
	}
	return buf_take(&b);
}

static void
test_templates_compile(void **state)
{
	char *err = NULL;

	(void)state;
	assert_int_equal(confirm_check_templates(NULL, &err), 0);
	assert_null(err);
}

static void
test_expiry_text(void **state)
{
	char *s;

	(void)state;
	s = confirm_expiry_text(7 * 86400);
	assert_string_equal(s, "7 days");
	free(s);
	s = confirm_expiry_text(86400);
	assert_string_equal(s, "1 day");
	free(s);
	s = confirm_expiry_text(36 * 3600);
	assert_string_equal(s, "36 hours");
	free(s);
	s = confirm_expiry_text(90 * 60);
	assert_string_equal(s, "90 minutes");
	free(s);
	s = confirm_expiry_text(60);
	assert_string_equal(s, "1 minute");
	free(s);
}

static void
test_unavailable_without_web(void **state)
{
	static const char no_web[] =
	    "database: herald.db\n"
	    "smtp: { url: \"smtp://127.0.0.1:2525\", starttls: off }\n"
	    "newsletters:\n"
	    "  - id: daily\n"
	    "    title: Daily\n"
	    "    from: news@example.org\n"
	    "    bounce_address: bounces@example.org\n"
	    "    schedule: \"0 7 * * *\"\n"
	    "    sources: [ { folder: articles } ]\n";
	struct config *c = load(no_web);
	const char *why = confirm_unavailable(c);

	(void)state;
	assert_non_null(why);
	assert_non_null(strstr(why, "web.base_url"));
	config_free(c);
	c = load(cfg_web);
	assert_null(confirm_unavailable(c));
	config_free(c);
}

static void
test_build(void **state)
{
	struct config *c = load(cfg_web);
	const char *dir = getenv("HERALD_TEST_TMP");
	char *path, *err = NULL, *url = NULL;
	struct token_key *key;
	struct confirm_rcpt r = { 42, "ann@example.org", "<b>Ann</b>" };
	struct buf out = BUF_INIT;
	char *m;

	(void)state;
	if (dir == NULL)
		dir = "/tmp";
	mkdir(dir, 0700);
	path = xasprintf("%s/confirm-%ld-secret", dir, (long)getpid());
	unlink(path);
	key = token_key_load(path, &err);
	assert_non_null(key);
	assert_int_equal(confirm_build(c, &c->newsletters[0], key, &r,
	    1700000000, &out, &url, &err), 0);
	assert_null(err);
	assert_non_null(url);
	/* the token names the subscriber and checks with the key */
	assert_true(strncmp(url, "https://news.example.org/confirm/42.", 36) == 0);
	assert_true(token_check(key, url + 33, 42, "daily", "confirm"));
	assert_false(token_check(key, url + 33, 42, "daily", "unsubscribe"));
	m = qp_decode(buf_cstr(&out));
	assert_non_null(strstr(m, "Subject: Confirm your subscription to Rangeinn Daily\r\n"));
	assert_non_null(strstr(m, "multipart/alternative"));
	assert_null(strstr(m, "List-Unsubscribe"));
	assert_non_null(strstr(m, "36 hours"));
	assert_non_null(strstr(m, "Hello <b>Ann</b>,"));		/* text: as is */
	assert_non_null(strstr(m, "Hello &lt;b&gt;Ann&lt;/b&gt;,"));	/* HTML: escaped */
	assert_null(strstr(m, "{{"));
	assert_non_null(strstr(m, "<a href=\"https://news.example.org/confirm/42."));
	free(m);
	buf_free(&out);
	free(url);
	token_key_free(key);
	unlink(path);
	free(path);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates_compile),
		cmocka_unit_test(test_expiry_text),
		cmocka_unit_test(test_unavailable_without_web),
		cmocka_unit_test(test_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
