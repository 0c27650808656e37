/* smtp reply parsing and outcome classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <string.h>

#include "smtp.h"

static void
feed_bytewise(struct smtp_reply *r, const char *s)
{
	while (*s)
		smtp_reply_feed(r, s++, 1);
}

static void
test_single(void **state)
{
	struct smtp_reply r;

	(void)state;
	smtp_reply_init(&r);
	feed_bytewise(&r, "250 2.0.0 Ok: queued as 4Xyz\r\n");
	assert_int_equal(r.code, 250);
	assert_string_equal(r.text, "250 2.0.0 Ok: queued as 4Xyz");
	assert_int_equal(r.err_code, 0);
}

static void
test_multiline_and_error(void **state)
{
	struct smtp_reply r;
	const char *s = "250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
	    "550-5.1.1 no such\r\n550 5.1.1 user\r\n221 Bye\r\n";

	(void)state;
	smtp_reply_init(&r);
	smtp_reply_feed(&r, s, 20);
	assert_int_equal(r.code, 0);		/* nothing complete yet */
	smtp_reply_feed(&r, s + 20, strlen(s) - 20);
	assert_int_equal(r.code, 221);
	assert_int_equal(r.err_code, 550);
	assert_string_equal(r.err_text, "550-5.1.1 no such 5.1.1 user");
}

static void
test_malformed_and_long(void **state)
{
	struct smtp_reply r;
	char big[3000];

	(void)state;
	smtp_reply_init(&r);
	feed_bytewise(&r, "hello\x01world\n");
	assert_int_equal(r.code, 0);
	assert_string_equal(r.text, "hello?world");
	memset(big, 'A', sizeof(big));
	memcpy(big, "451 ", 4);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	smtp_reply_feed(&r, big, strlen(big));
	assert_int_equal(r.code, 451);
	assert_true(strlen(r.text) < SMTP_REPLY_MAX);
}

static void
test_classify(void **state)
{
	(void)state;
	assert_int_equal(smtp_classify(CURLE_OK, 250, true), SMTP_SENT);
	assert_int_equal(smtp_classify(CURLE_SEND_ERROR, 550, true),
	    SMTP_PERMFAIL);
	assert_int_equal(smtp_classify(CURLE_WEIRD_SERVER_REPLY, 451, true),
	    SMTP_TEMPFAIL);
	assert_int_equal(smtp_classify(CURLE_RECV_ERROR, 354, true),
	    SMTP_TEMPFAIL);
	assert_int_equal(smtp_classify(CURLE_OPERATION_TIMEDOUT, 250, true),
	    SMTP_TEMPFAIL);
	assert_int_equal(smtp_classify(CURLE_COULDNT_CONNECT, 0, false),
	    SMTP_CONNFAIL);
	assert_int_equal(smtp_classify(CURLE_LOGIN_DENIED, 535, false),
	    SMTP_CONNFAIL);
	assert_int_equal(smtp_classify(CURLE_WEIRD_SERVER_REPLY, 554, false),
	    SMTP_CONNFAIL);
}

/* Pipelined replies in one read come out one at a time (issue 13). */
static void
test_feed_one(void **state)
{
	const char *in = "250 2.1.0 Ok\r\n250-2.1.5 Ok\r\n250 more\r\n"
	    "354 go\r\n55";
	struct smtp_reply r;
	size_t off = 0, n, len = strlen(in);
	bool complete;

	(void)state;
	smtp_reply_init(&r);
	n = smtp_reply_feed_one(&r, in, len, &complete);
	assert_true(complete);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.text, "250 2.1.0 Ok");
	off += n;
	n = smtp_reply_feed_one(&r, in + off, len - off, &complete);
	assert_true(complete);
	assert_string_equal(r.text, "250-2.1.5 Ok more");
	off += n;
	n = smtp_reply_feed_one(&r, in + off, len - off, &complete);
	assert_true(complete);
	assert_int_equal(r.code, 354);
	off += n;
	n = smtp_reply_feed_one(&r, in + off, len - off, &complete);
	assert_false(complete);		/* "55" waits for the rest */
	assert_int_equal(off + n, len);
	n = smtp_reply_feed_one(&r, "4 no\r\n", 6, &complete);
	assert_true(complete);
	assert_int_equal(r.code, 554);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_multiline_and_error),
		cmocka_unit_test(test_malformed_and_long),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_feed_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
