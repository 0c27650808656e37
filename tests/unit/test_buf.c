#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "util.h"

static void
test_buf_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "hello"), 0);
	assert_int_equal(buf_adds(&b, "abc"), 0);
	assert_int_equal(buf_adds(&b, "x"), -1);	/* would be 9 > 8 */
	assert_string_equal(buf_cstr(&b), "helloabc");
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	buf_free(&b);
}

static void
test_buf_printf_take(void **state)
{
	struct buf b = BUF_INIT;
	char *s;

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%04d", i), 0);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "0999", 4);
	s = buf_take(&b);
	assert_null(b.data);
	assert_int_equal(strlen(s), 4000);
	free(s);
}

static void
test_buf_read_fd(void **state)
{
	struct buf b;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "0123456789", 10), 10);
	close(fds[1]);
	buf_init(&b, 0);
	assert_int_equal(buf_read_fd(&b, fds[0]), 0);
	assert_string_equal(buf_cstr(&b), "0123456789");
	close(fds[0]);
	buf_free(&b);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "0123456789", 10), 10);
	close(fds[1]);
	buf_init(&b, 4);			/* too small: -2, keeps nothing past max */
	assert_int_equal(buf_read_fd(&b, fds[0]), -2);
	assert_true(b.len <= 4);
	close(fds[0]);
	buf_free(&b);

	buf_init(&b, 0);
	assert_int_equal(buf_read_fd(&b, -1), -1);	/* EBADF */
	buf_free(&b);
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(utf8_valid("plain", 5));
	assert_true(utf8_valid("\xe2\x80\x98quoted\xe2\x80\x99", 12));
	assert_false(utf8_valid("\xc0\xaf", 2));		/* overlong */
	assert_false(utf8_valid("\xed\xa0\x80", 3));		/* surrogate */
	assert_false(utf8_valid("\xe2\x80", 2));		/* truncated */
	assert_false(utf8_valid("caf\xe9", 4));			/* Latin-1 */
	assert_true(utf8_valid("\xf0\x9f\x93\xb0", 4));		/* U+1F4F0 */
}

static void
test_json_csv(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	json_str(&b, "a\"b\\c\n\x01");
	assert_string_equal(buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
	buf_reset(&b);
	csv_field(&b, "plain");
	buf_addc(&b, ',');
	csv_field(&b, "has,comma \"q\"");
	assert_string_equal(buf_cstr(&b), "plain,\"has,comma \"\"q\"\"\"");
	buf_free(&b);
}

static void
test_duration(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(duration_parse("30s"), 30);
	assert_int_equal(duration_parse("15m"), 900);
	assert_int_equal(duration_parse("6h"), 21600);
	assert_int_equal(duration_parse("1d"), 86400);
	assert_int_equal(duration_parse("1h30m"), 5400);
	assert_int_equal(duration_parse("15"), -1);
	assert_int_equal(duration_parse("m"), -1);
	assert_int_equal(duration_parse(""), -1);
	assert_int_equal(duration_parse("5x"), -1);
	assert_int_equal(duration_parse("99999999999999d"), -1);
	duration_format(5400, out, sizeof(out));
	assert_string_equal(out, "1h30m");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_buf_printf_take),
		cmocka_unit_test(test_buf_read_fd),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_json_csv),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
