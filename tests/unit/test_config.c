/* config_load_mem / config_load: values, defaults and every kind of error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static const char good[] =
    "database: data/herald.db\n"
    "smtp:\n"
    "  url: smtps://mail.example.org:465\n"
    "  starttls: required\n"
    "  username: news@example.org\n"
    "  password_env: HERALD_SMTP_PASSWORD\n"
    "  connections: 8\n"
    "  rate: 12.5\n"
    "  timeout: 20\n"
    "  max_attempts: 5\n"
    "web:\n"
    "  listen: 127.0.0.1:8080\n"
    "  base_url: https://news.example.org/\n"
    "  signup: yes\n"
    "  confirm_expiry: 2d\n"
    "secret_file: /var/lib/herald/secret\n"
    "bounces:\n"
    "  mailbox: imaps://bounces@example.org@imap.example.org/INBOX\n"
    "  password_file: imap.pass\n"
    "  interval: 10m\n"
    "  soft_limit: 4\n"
    "newsletters:\n"
    "  - id: daily\n"
    "    title: Rangeinn Daily\n"
    "    from: \"Rangeinn News <news@rangeinn.example>\"\n"
    "    reply_to: editor@rangeinn.example\n"
    "    schedule: \"0 7 * * *\"\n"
    "    timezone: Europe/London\n"
    "    min_articles: 2\n"
    "    max_articles: 10\n"
    "    feedback_id: daily:herald\n"
    "    templates:\n"
    "      text: templates/digest.txt.mustache\n"
    "    sources:\n"
    "      - feed: https://rangeinn.example/feed.xml\n"
    "        interval: 30m\n"
    "      - folder: articles\n"
    "  - id: weekly\n"
    "    title: Weekly\n"
    "    from: weekly@example.org\n"
    "    bounce_address: bounces@example.org\n"
    "    subject: \"Week {{issue.number}}\"\n"
    "    schedule: every 1w\n"
    "    sources:\n"
    "      - folder: /srv/weekly\n";

static struct config *
load(const char *text, struct diags *d)
{
	return config_load_mem("test.yml", "/etc/herald", text, strlen(text), d);
}

static void
test_good(void **state)
{
	struct diags d = { 0 };
	struct config *c;
	const struct newsletter_conf *nl;
	const char *why;

	(void)state;
	c = load(good, &d);
	if (c == NULL) {
		diags_print(&d);
		fail();
	}
	assert_int_equal(d.nerrors, 0);
	assert_string_equal(c->database, "/etc/herald/data/herald.db");
	assert_string_equal(c->smtp.url, "smtps://mail.example.org:465");
	assert_int_equal(c->smtp.starttls, STARTTLS_REQUIRED);
	assert_string_equal(c->smtp.username, "news@example.org");
	assert_string_equal(c->smtp.password_env, "HERALD_SMTP_PASSWORD");
	assert_null(c->smtp.password_file);
	assert_int_equal(c->smtp.connections, 8);
	assert_true(c->smtp.rate == 12.5);
	assert_int_equal(c->smtp.timeout, 20);
	assert_int_equal(c->smtp.max_attempts, 5);
	assert_true(c->web.enabled);
	assert_string_equal(c->web.base_url, "https://news.example.org");
	assert_true(c->web.signup);
	assert_int_equal(c->web.confirm_expiry, 2 * 86400);
	assert_string_equal(c->secret_file, "/var/lib/herald/secret");
	assert_true(c->bounces.enabled);
	assert_string_equal(c->bounces.password_file,
	    "/etc/herald/imap.pass");
	assert_int_equal(c->bounces.interval, 600);
	assert_int_equal(c->bounces.soft_limit, 4);
	assert_int_equal(c->nnewsletters, 2);
	nl = &c->newsletters[0];
	assert_string_equal(nl->id, "daily");
	assert_string_equal(nl->from_name, "Rangeinn News");
	assert_string_equal(nl->from_addr, "news@rangeinn.example");
	assert_string_equal(nl->bounce_address, "news@rangeinn.example");
	assert_string_equal(nl->reply_to, "editor@rangeinn.example");
	assert_string_equal(nl->subject, CONFIG_DEFAULT_SUBJECT);
	assert_string_equal(nl->timezone, "Europe/London");
	assert_string_equal(nl->schedule_text, "0 7 * * *");
	assert_int_equal(nl->min_articles, 2);
	assert_int_equal(nl->max_articles, 10);
	assert_string_equal(nl->feedback_id, "daily:herald");
	assert_string_equal(nl->template_text,
	    "/etc/herald/templates/digest.txt.mustache");
	assert_null(nl->template_html);
	assert_int_equal(nl->nsources, 2);
	assert_int_equal(nl->sources[0].kind, SOURCE_FEED);
	assert_int_equal(nl->sources[0].interval, 1800);
	assert_int_equal(nl->sources[1].kind, SOURCE_FOLDER);
	assert_string_equal(nl->sources[1].location, "/etc/herald/articles");
	assert_int_equal(nl->sources[1].interval, 900);
	nl = &c->newsletters[1];
	assert_null(nl->from_name);
	assert_string_equal(nl->bounce_address, "bounces@example.org");
	assert_string_equal(nl->timezone, "UTC");
	assert_true(nl->schedule.every);
	assert_int_equal(nl->min_articles, 1);
	assert_int_equal(nl->max_articles, 20);

	assert_null(config_newsletter(c, NULL, &why));
	assert_non_null(why);
	assert_ptr_equal(config_newsletter(c, "weekly", &why),
	    &c->newsletters[1]);
	assert_null(config_newsletter(c, "nope", &why));
	config_free(c);
	diags_free(&d);
}

#define NL_MIN "newsletters:\n  - {id: n, title: T, from: a@example.org, " \
	"schedule: every 1d, sources: [{folder: in}]}\n"

static void
test_defaults(void **state)
{
	struct diags d = { 0 };
	struct config *c;
	const char *why;

	(void)state;
	c = load("newsletters:\n"
	    "  - id: n\n    title: T\n    from: a@example.org\n"
	    "    schedule: every 1d\n    sources: [ { folder: in } ]\n", &d);
	assert_non_null(c);
	assert_string_equal(c->database, "/etc/herald/herald.db");
	assert_string_equal(c->secret_file, "/etc/herald/secret");
	assert_string_equal(c->smtp.url, "smtp://127.0.0.1:25");
	assert_int_equal(c->smtp.starttls, STARTTLS_AUTO);
	assert_int_equal(c->smtp.connections, 4);
	assert_true(c->smtp.rate == 50);
	assert_int_equal(c->smtp.timeout, 30);
	assert_int_equal(c->smtp.max_attempts, 8);
	assert_false(c->web.enabled);
	assert_false(c->bounces.enabled);
	assert_ptr_equal(config_newsletter(c, NULL, &why), &c->newsletters[0]);
	config_free(c);
	/* no directory given: relative to the current one */
	c = config_load_mem("x.yml", NULL, NL_MIN, strlen(NL_MIN), &d);
	assert_non_null(c);
	assert_true(c->database[0] == '/');
	config_free(c);
	diags_free(&d);
}

/* Loads text expecting failure; returns all messages joined by newlines. */
static char *
errors_of(const char *text, size_t *nerrors)
{
	struct diags d = { 0 };
	struct config *c;
	size_t i, len = 0;
	char *out = calloc(1, 1);

	c = load(text, &d);
	assert_null(c);
	assert_true(d.nerrors > 0);
	for (i = 0; i < d.n; i++) {
		char line[512];
		int n = snprintf(line, sizeof(line), "%s:%d:%d: %s\n",
		    d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);

		out = realloc(out, len + (size_t)n + 1);
		memcpy(out + len, line, (size_t)n + 1);
		len += (size_t)n;
	}
	if (nerrors)
		*nerrors = d.nerrors;
	diags_free(&d);
	return out;
}

#define NL_HEAD "newsletters:\n  - id: n\n    title: T\n"
#define NL_TAIL "    sources:\n      - folder: in\n"

static void
expect_error(const char *text, const char *want)
{
	char *e = errors_of(text, NULL);

	if (strstr(e, want) == NULL)
		fail_msg("errors:\n%s\nlack: %s", e, want);
	free(e);
}

static void
test_errors(void **state)
{
	(void)state;
	/* unknown key with a suggestion, exact position */
	expect_error("smtp:\n  url: smtp://h:25\n  conections: 4\n"
	    NL_HEAD "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    "test.yml:3:3: smtp: unknown key 'conections' (did you mean "
	    "'connections'?)");
	expect_error("databse: x.db\n" NL_HEAD "    from: a@example.org\n"
	    "    schedule: every 1d\n" NL_TAIL,
	    "test.yml:1:1: config: unknown key 'databse' (did you mean "
	    "'database'?)");
	expect_error("rate: 5\n" NL_HEAD "    from: a@example.org\n"
	    "    schedule: every 1d\n" NL_TAIL, "belongs in smtp");
	/* wrong types */
	expect_error("smtp:\n  connections: many\n" NL_HEAD
	    "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    "test.yml:2:16: smtp.connections: expected a whole number from 1 "
	    "to 256, got 'many'");
	expect_error("smtp: [1, 2]\n" NL_HEAD "    from: a@example.org\n"
	    "    schedule: every 1d\n" NL_TAIL,
	    "test.yml:1:7: smtp: expected a mapping");
	expect_error("web:\n  base_url: https://x.example\n  signup: maybe\n"
	    NL_HEAD "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    "test.yml:3:11: web.signup: expected true or false");
	expect_error(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    "    sources: in\n", "sources: expected a list");
	/* bad duration, cron, time zone, URL, addresses */
	expect_error(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    "    sources:\n      - folder: in\n        interval: 15 minutes\n",
	    "test.yml:8:19: newsletters[0].sources[0].interval: expected a "
	    "duration such as 30s, 15m, 6h or 1d, got '15 minutes'");
	expect_error(NL_HEAD "    from: a@example.org\n"
	    "    schedule: \"0 25 * * *\"\n" NL_TAIL,
	    "test.yml:5:15: newsletters[0].schedule: '0 25 * * *': the hour "
	    "field allows 0 to 23");
	expect_error(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    "    timezone: Mars/Olympus\n" NL_TAIL,
	    "test.yml:6:15: newsletters[0].timezone: 'Mars/Olympus' is not a "
	    "time zone");
	expect_error(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    "    timezone: ../../../etc/passwd\n" NL_TAIL, "is not a time zone");
	expect_error("smtp:\n  url: http://mail.example.org\n" NL_HEAD
	    "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    "test.yml:2:8: smtp.url: expected smtp:// or smtps://, got http://");
	expect_error("smtp:\n  url: smtp://\n" NL_HEAD
	    "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    "smtp.url: no host name");
	expect_error("smtp:\n  starttls: sometimes\n" NL_HEAD
	    "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    "smtp.starttls: expected auto, required or off");
	expect_error(NL_HEAD "    from: \"News, Daily <news@example.org>\"\n"
	    "    schedule: every 1d\n" NL_TAIL,
	    "test.yml:4:11: newsletters[0].from: 'News, Daily "
	    "<news@example.org>' is not a valid address: a display name "
	    "with , ; : @ < > \" [ ] or \\ must be quoted");
	expect_error(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    "    bounce_address: Bounces <b@example.org>\n" NL_TAIL,
	    "bounce_address: 'Bounces <b@example.org>' is not a valid address");
	expect_error(NL_HEAD "    from: a@localhost\n    schedule: every 1d\n"
	    NL_TAIL, "the domain has no dot");
	expect_error(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    "    sources:\n      - feed: ftp://x.example/feed\n",
	    "expected an http://, https:// or file:// URL, got ftp://");
	expect_error(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    "    sources:\n      - feed: https://x.example/f\n"
	    "        folder: in\n", "give exactly one of feed:");
	/* missing things */
	expect_error("newsletters:\n  - id: n\n", "title is missing");
	expect_error("newsletters:\n  - id: n\n", "schedule is missing");
	expect_error("newsletters:\n  - id: n\n", "sources is missing");
	expect_error("newsletters:\n  - id: n\n", "from is missing");
	expect_error("database: x\n", "newsletters is missing");
	expect_error("newsletters: []\n", "the list is empty");
	expect_error("", "the file is empty");
	expect_error("- a\n- b\n", "test.yml:1:1: expected a mapping of "
	    "settings");
	expect_error("a: [\n", "YAML syntax error");
	/* ids */
	expect_error("newsletters:\n  - id: Daily News\n", "may hold only "
	    "lowercase");
	expect_error("newsletters:\n"
	    "  - {id: a, title: T, from: a@example.org, schedule: every 1d, "
	    "sources: [{folder: x}]}\n"
	    "  - {id: a, title: T, from: a@example.org, schedule: every 1d, "
	    "sources: [{folder: x}]}\n", "'a' is already used");
	expect_error(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    "    min_articles: 30\n" NL_TAIL, "min_articles (30) is larger "
	    "than max_articles (20)");
	expect_error("smtp:\n  url: smtp://h\n  url: smtp://i\n" NL_HEAD
	    "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    "test.yml:3:3: smtp: duplicate key 'url' (first given at line 2)");
	expect_error(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    "    sources:\n      - &s {folder: x}\n      - *s\n",
	    "aliases of mappings and lists are not supported");
}

static void
test_password_never_echoed(void **state)
{
	char *e;

	(void)state;
	e = errors_of("smtp:\n  url: smtp://h\n  password: hunter2sekrit\n"
	    "bounces:\n  mailbox: imaps://u:imapsekrit@imap.example.org/\n"
	    NL_HEAD "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    NULL);
	assert_non_null(strstr(e, "test.yml:3:3: smtp.password: a password "
	    "may not be written in the configuration; use password_env"));
	assert_non_null(strstr(e, "bounces.mailbox: do not put a password"));
	assert_null(strstr(e, "sekrit"));
	free(e);
	e = errors_of("smtp:\n  url: smtp://user:urlsekrit@h:25\n"
	    NL_HEAD "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    NULL);
	assert_null(strstr(e, "sekrit"));
	assert_non_null(strstr(e, "smtp.url: do not put a user name"));
	free(e);
	expect_error("smtp:\n  password_env: hunter 2\n" NL_HEAD
	    "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL,
	    "not the password itself");
}

static void
test_several_at_once(void **state)
{
	size_t n;
	char *e;
	const char *a, *b, *c, *d;

	(void)state;
	e = errors_of(
	    "smtp:\n"
	    "  url: smtp://mail.example.org\n"
	    "  connections: 0\n"			/* 3 */
	    "  rat: 5\n"				/* 4 */
	    "newsletters:\n"
	    "  - id: n\n"
	    "    title: T\n"
	    "    from: nobody\n"			/* 8 */
	    "    schedule: \"0 7 * *\"\n"		/* 9 */
	    "    timezone: Nowhere/Land\n"		/* 10 */
	    "    sources:\n"
	    "      - folder: in\n", &n);
	assert_int_equal(n, 5);
	a = strstr(e, "test.yml:3:16: smtp.connections");
	b = strstr(e, "test.yml:4:3: smtp: unknown key 'rat' (did you mean "
	    "'rate'?)");
	c = strstr(e, "test.yml:8:11: newsletters[0].from");
	d = strstr(e, "test.yml:10:15: newsletters[0].timezone");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(strstr(e, "test.yml:9:15: newsletters[0].schedule"));
	assert_non_null(d);
	/* in file order */
	assert_true(a < b && b < c && c < d);
	free(e);
}

static void
test_warning_http_base_url(void **state)
{
	struct diags d = { 0 };
	struct config *c;

	(void)state;
	c = load("web:\n  base_url: http://localhost:8080\n" NL_HEAD
	    "    from: a@example.org\n    schedule: every 1d\n" NL_TAIL, &d);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.n, 1);
	assert_true(d.v[0].warning);
	assert_int_equal(d.v[0].line, 2);
	config_free(c);
	diags_free(&d);
}

static void
test_load_file(void **state)
{
	char dir[] = "/tmp/herald-test-config.XXXXXX", path[256];
	struct diags d = { 0 };
	struct config *c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/herald.yml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(NL_HEAD "    from: a@example.org\n    schedule: every 1d\n"
	    NL_TAIL, f);
	fclose(f);
	c = config_load(path, &d);
	assert_non_null(c);
	assert_string_equal(c->path, path);
	assert_string_equal(c->dir, dir);
	snprintf(path, sizeof(path), "%s/herald.db", dir);
	assert_string_equal(c->database, path);
	config_free(c);
	snprintf(path, sizeof(path), "%s/herald.yml", dir);
	unlink(path);
	assert_null(config_load(path, &d));
	assert_int_equal(d.nerrors, 1);
	assert_non_null(strstr(d.v[0].msg, "cannot open"));
	diags_free(&d);
	rmdir(dir);
}

static void
test_secret(void **state)
{
	char *why = NULL, *s;

	(void)state;
	setenv("HERALD_TEST_SECRET", "s3cret", 1);
	s = config_secret("HERALD_TEST_SECRET", NULL, &why);
	assert_string_equal(s, "s3cret");
	free(s);
	unsetenv("HERALD_TEST_SECRET");
	assert_null(config_secret("HERALD_TEST_SECRET", NULL, &why));
	assert_non_null(strstr(why, "not set"));
	free(why);
	assert_null(config_secret(NULL, NULL, &why));
	assert_null(why);
	assert_null(config_secret(NULL, "/nonexistent/secret", &why));
	assert_non_null(why);
	free(why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_password_never_echoed),
		cmocka_unit_test(test_several_at_once),
		cmocka_unit_test(test_warning_http_base_url),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
