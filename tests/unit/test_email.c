#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "email.h"

static void
test_good(void **state)
{
	static const char *good[] = {
		"a@b.co",
		"alice@example.org",
		"Alice.Smith+news@mail.example.org",
		"x!#$%&'*+-/=?^_`{|}~@example.com",
		"\"john doe\"@example.org",
		"\"a\\\"b\"@example.org",
		"user@xn--bcher-kva.example",
		"user@bücher.example",			/* IDN, UTF-8 */
		"jörg@bücher.example",			/* RFC 6532 local part */
		"user@a-b.c-d.example",
		"u@123.example",
	};
	size_t i;
	const char *why;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = "unset";
		if (!email_addr_valid(good[i], &why))
			fail_msg("%s rejected: %s", good[i], why);
	}
}

static void
test_bad(void **state)
{
	static const struct { const char *a, *why; } bad[] = {
		{ "", "empty" },
		{ "alice", "no @" },
		{ "alice@", "empty" },
		{ "@example.org", "empty" },
		{ "alice@localhost", "no dot" },
		{ "alice@example..org", "empty label" },
		{ "alice@.example.org", "empty label" },
		{ "alice@example.org.", "empty label" },
		{ "alice@-example.org", "hyphen" },
		{ "alice@example-.org", "hyphen" },
		{ "alice@exa_mple.org", "letters, digits" },
		{ "al ice@example.org", "space" },
		{ "alice@exam ple.org", "space" },
		{ "alice\r\n@example.org", "line break" },
		{ "alice@example.org\nBcc: x@y.z", "line break" },
		{ ".alice@example.org", "dot" },
		{ "alice.@example.org", "dot" },
		{ "al..ice@example.org", "two dots" },
		{ "al(ice@example.org", "not allowed" },
		{ "a@b@example.org", "not allowed" },
		{ "alice@[127.0.0.1]", "literal" },
		{ "\"unterminated@example.org", "no @" },
		{ "alice@b\xc3(.example", "UTF-8" },
		{ "al\xff" "ice@example.org", "UTF-8" },
		{ "alice@1.2.3.4", "number" },		/* an IP without [] */
		{ "alice@example.123", "number" },
	};
	char local[80], label[80], big[300];
	size_t i;
	const char *why;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (email_addr_valid(bad[i].a, &why))
			fail_msg("%s accepted", bad[i].a);
		assert_non_null(why);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("%s: reason '%s' lacks '%s'", bad[i].a, why,
			    bad[i].why);
	}
	/* lengths: local 64 ok, 65 not; label 63 ok, 64 not; total 254 */
	memset(local, 'a', 64);
	snprintf(local + 64, sizeof(local) - 64, "@example.org");
	assert_true(email_addr_valid(local, NULL));
	memset(local, 'a', 65);
	snprintf(local + 65, sizeof(local) - 65, "@example.org");
	assert_false(email_addr_valid(local, &why));
	assert_non_null(strstr(why, "64"));
	label[0] = 'a';
	label[1] = '@';
	memset(label + 2, 'b', 63);
	snprintf(label + 65, sizeof(label) - 65, ".org");
	assert_true(email_addr_valid(label, NULL));
	memset(label + 2, 'b', 64);
	snprintf(label + 66, sizeof(label) - 66, ".org");
	assert_false(email_addr_valid(label, &why));
	/* 254 in all is the limit: a@ + 4 labels of 62 + "." + tail */
	{
		size_t n = 0;
		int k;

		n += (size_t)snprintf(big + n, sizeof(big) - n, "a@");
		for (k = 0; k < 4; k++) {
			memset(big + n, 'x', 61);
			n += 61;
			big[n++] = '.';
		}
		/* n == 2 + 4*62 = 250 */
		n += (size_t)snprintf(big + n, sizeof(big) - n, "org");
		assert_int_equal(strlen(big), 253);
		assert_true(email_addr_valid(big, NULL));
		snprintf(big + n - 3, sizeof(big) - n + 3, "orgz");
		assert_int_equal(strlen(big), 254);
		assert_true(email_addr_valid(big, NULL));
		snprintf(big + n - 3, sizeof(big) - n + 3, "orgzz");
		assert_false(email_addr_valid(big, &why));
		assert_non_null(strstr(why, "254"));
	}
}

static void
test_mailbox(void **state)
{
	static const struct { const char *in, *name, *addr; } ok[] = {
		{ "news@example.org", NULL, "news@example.org" },
		{ "  news@example.org  ", NULL, "news@example.org" },
		{ "<news@example.org>", NULL, "news@example.org" },
		{ "Rangeinn News <news@rangeinn.example>", "Rangeinn News",
		    "news@rangeinn.example" },
		{ "\"News, Daily\" <news@example.org>", "News, Daily",
		    "news@example.org" },
		{ "\"Say \\\"hi\\\"\" <a@example.org>", "Say \"hi\"",
		    "a@example.org" },
		{ "Jörg Müller <j@bücher.example>", "Jörg Müller",
		    "j@bücher.example" },
		{ "\"\" <a@example.org>", NULL, "a@example.org" },
	};
	static const char *bad[] = {
		"",
		"   ",
		"News <news@example.org",
		"News news@example.org>",
		"News, Daily <news@example.org>",
		"News <news@example.org> trailing",
		"\"News <news@example.org>",
		"News <not an address>",
		"News\r\nBcc: x@example.org <a@example.org>",
		"\"Q\" junk <a@example.org>",
	};
	char *name, *addr;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		why = NULL;
		if (email_mailbox_parse(ok[i].in, &name, &addr, &why) != 0)
			fail_msg("%s rejected: %s", ok[i].in, why);
		if (ok[i].name == NULL)
			assert_null(name);
		else
			assert_string_equal(name, ok[i].name);
		assert_string_equal(addr, ok[i].addr);
		free(name);
		free(addr);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (email_mailbox_parse(bad[i], &name, &addr, &why) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_null(name);
		assert_null(addr);
		assert_non_null(why);
	}
}

static void
test_key(void **state)
{
	char *k;

	(void)state;
	k = email_key("Alice.Smith@Example.ORG");
	assert_string_equal(k, "alice.smith@example.org");
	free(k);
	k = email_key("JÖRG@Bücher.example");
	assert_string_equal(k, "jÖrg@bücher.example");	/* ASCII only */
	free(k);
}

/* IDN domains go on the wire in their IDNA form (issue 9, item 7). */
static void
test_to_ascii(void **state)
{
	const char *why = NULL;
	char *a;

	(void)state;
	a = email_to_ascii("a@ex\xc3\xa4mple.org", &why);
	assert_string_equal(a, "a@xn--exmple-cua.org");
	free(a);
	a = email_to_ascii("Bo@B\xc3\xbc" "cher.example", &why);
	assert_string_equal(a, "Bo@xn--bcher-kva.example");
	free(a);
	a = email_to_ascii("plain@example.org", &why);
	assert_string_equal(a, "plain@example.org");
	free(a);
	assert_null(email_to_ascii("j\xc3\xb6rg@example.org", &why));
	assert_non_null(strstr(why, "SMTPUTF8"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_mailbox),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_to_ascii),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
