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

#include "token.h"
#include "xmalloc.h"

static char *
tmp_path(const char *name)
{
	const char *dir = getenv("HERALD_TEST_TMP");
	char *d;

	if (dir == NULL)
		dir = "/tmp";
	mkdir(dir, 0700);
	d = xasprintf("%s/token-%ld-%s", dir, (long)getpid(), name);
	unlink(d);
	return d;
}

static struct token_key *
fresh_key(char **pathp)
{
	char *path = tmp_path("secret"), *err = NULL;
	struct token_key *k = token_key_load(path, &err);

	assert_non_null(k);
	assert_null(err);
	if (pathp)
		*pathp = path;
	else {
		unlink(path);
		free(path);
	}
	return k;
}

static void
test_key_created_0600(void **state)
{
	char *path = tmp_path("created"), *err = NULL;
	struct token_key *k, *k2;
	struct stat st;
	char *t1, *t2;

	(void)state;
	k = token_key_load(path, &err);
	assert_non_null(k);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	/* loading again reads the same key */
	k2 = token_key_load(path, &err);
	assert_non_null(k2);
	t1 = token_make(k, 7, "daily", "unsubscribe");
	t2 = token_make(k2, 7, "daily", "unsubscribe");
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	token_key_free(k);
	token_key_free(k2);
	unlink(path);
	free(path);
}

static void
test_key_short_refused(void **state)
{
	char *path = tmp_path("short"), *err = NULL;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	fputs("too short", f);
	fclose(f);
	assert_null(token_key_load(path, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "at least 32"));
	free(err);
	unlink(path);
	free(path);
}

static void
test_make_check(void **state)
{
	struct token_key *k = fresh_key(NULL);
	char *t = token_make(k, 12345, "daily", "unsubscribe");
	int64_t id = 0;
	const char *p;

	(void)state;
	assert_true(strncmp(t, "12345.", 6) == 0);
	for (p = t; *p; p++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
		    "NOPQRSTUVWXYZ0123456789-_.", *p));
	assert_int_equal(strlen(t), 6 + 24);
	assert_true(token_check(k, t, 12345, "daily", "unsubscribe"));
	assert_false(token_check(k, t, 12346, "daily", "unsubscribe"));
	assert_false(token_check(k, t, 12345, "weekly", "unsubscribe"));
	assert_false(token_check(k, t, 12345, "daily", "confirm"));
	assert_false(token_check(k, t, 12345, "dail", "yunsubscribe"));
	assert_false(token_check(k, NULL, 12345, "daily", "unsubscribe"));
	assert_false(token_check(k, "12345.", 12345, "daily", "unsubscribe"));
	assert_false(token_check(k, "", 12345, "daily", "unsubscribe"));
	assert_int_equal(token_subscriber(t, &id), 0);
	assert_int_equal(id, 12345);
	assert_int_equal(token_subscriber("012.x", &id), -1);
	assert_int_equal(token_subscriber("abc", &id), -1);
	free(t);
	token_key_free(k);
}

static void
test_tamper(void **state)
{
	struct token_key *k = fresh_key(NULL), *other = fresh_key(NULL);
	char *t = token_make(k, 42, "daily", "confirm"), *u;
	size_t i, n = strlen(t);

	(void)state;
	/* every single-character change is detected */
	for (i = 0; i < n; i++) {
		const char *alts = "A0_-.z";

		for (const char *a = alts; *a; a++) {
			if (*a == t[i])
				continue;
			u = xstrdup(t);
			u[i] = *a;
			assert_false(token_check(k, u, 42, "daily", "confirm"));
			free(u);
		}
	}
	u = xasprintf("%sA", t);
	assert_false(token_check(k, u, 42, "daily", "confirm"));
	free(u);
	/* another key's token is refused */
	u = token_make(other, 42, "daily", "confirm");
	assert_false(token_check(k, u, 42, "daily", "confirm"));
	free(u);
	free(t);
	token_key_free(k);
	token_key_free(other);
}

static void
test_verp(void **state)
{
	struct token_key *k = fresh_key(NULL);
	char *v = token_verp(k, "bounces@rangeinn.example", 987654321), *u;
	int64_t id = 0;
	size_t i;

	(void)state;
	assert_true(strncmp(v, "bounces+987654321-", 18) == 0);
	assert_non_null(strstr(v, "@rangeinn.example"));
	assert_int_equal(token_verp_parse(k, v, &id), 0);
	assert_int_equal(id, 987654321);
	/* a mail system that uppercases it */
	u = xstrdup(v);
	for (i = 0; u[i]; i++)
		if (u[i] >= 'a' && u[i] <= 'z')
			u[i] = (char)(u[i] - 32);
	assert_int_equal(token_verp_parse(k, u, &id), 0);
	free(u);
	/* another delivery id with the same MAC: forged */
	u = xstrdup(v);
	u[8] = '2';
	assert_int_equal(token_verp_parse(k, u, &id), -1);
	free(u);
	u = xstrdup(v);
	u[strlen("bounces+987654321-")] ^= 1;
	assert_int_equal(token_verp_parse(k, u, &id), -1);
	free(u);
	assert_int_equal(token_verp_parse(k, "bounces@rangeinn.example", &id),
	    -1);
	assert_int_equal(token_verp_parse(k, "bounces+12@rangeinn.example",
	    &id), -1);
	assert_int_equal(token_verp_parse(k, "nonsense", &id), -1);
	free(v);
	/* a local part that already has a '+' */
	v = token_verp(k, "news+bounces@x.example", 5);
	assert_int_equal(token_verp_parse(k, v, &id), 0);
	assert_int_equal(id, 5);
	free(v);
	assert_null(token_verp(k, "no-at-sign", 5));
	token_key_free(k);
}

/*
 * Known answers: the format is a promise (a link in a years-old issue
 * must keep working while the secret is the same), so these values, made
 * by an independent implementation of the documented format (Python's
 * hmac over "herald1\0", the id, and the length-prefixed strings), must
 * never change.  fuzz/corpus/token holds the same ones.
 */
static void
test_known_answers(void **state)
{
	char *path = tmp_path("known"), *err = NULL, *t;
	struct token_key *k;
	int64_t id;
	FILE *f;

	(void)state;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("0123456789abcdef0123456789abcdef", f);
	fclose(f);
	k = token_key_load(path, &err);
	assert_non_null(k);
	t = token_make(k, 42, "daily", "unsubscribe");
	assert_string_equal(t, "42.VsWFYnP8yfVv2SXXcsz-gxuI");
	free(t);
	assert_true(token_check(k, "42.VsWFYnP8yfVv2SXXcsz-gxuI", 42, "daily",
	    "unsubscribe"));
	assert_false(token_check(k, "42.VsWFYnP8yfVv2SXXcsz-gxuJ", 42, "daily",
	    "unsubscribe"));
	t = token_verp(k, "bounces@example.org", 99);
	assert_string_equal(t, "bounces+99-63bac639a06c18ea@example.org");
	free(t);
	assert_int_equal(token_verp_parse(k, "bounces+99-63BAC639A06C18EA@x",
	    &id), 0);
	assert_int_equal(id, 99);
	token_key_free(k);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_created_0600),
		cmocka_unit_test(test_key_short_refused),
		cmocka_unit_test(test_make_check),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_verp),
		cmocka_unit_test(test_known_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
