#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "html.h"

static void
check(const char *in, enum html_esc how, const char *want)
{
	struct buf b = BUF_INIT;

	assert_int_equal(html_escape_str(&b, in, how), 0);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

/* The one HTML escaper: what each mode escapes, and the size limit. */
static void
test_modes(void **state)
{
	const char *in = "a&b<c>d\"e'f";
	struct buf b;

	(void)state;
	check(in, HTML_ESC_TEXT, "a&amp;b&lt;c&gt;d\"e'f");
	check(in, HTML_ESC_ATTR, "a&amp;b&lt;c&gt;d&quot;e'f");
	check(in, HTML_ESC_ALL, "a&amp;b&lt;c&gt;d&quot;e&#39;f");
	check("", HTML_ESC_ALL, "");
	check("caf\xc3\xa9 plain", HTML_ESC_ALL, "caf\xc3\xa9 plain");
	check("&&", HTML_ESC_TEXT, "&amp;&amp;");
	/* a NUL inside a counted string is copied, not an end */
	buf_init(&b, 0);
	assert_int_equal(html_escape(&b, "a\0<", 3, HTML_ESC_TEXT), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "a\0&lt;", 6);
	buf_free(&b);
	/* a buffer at its limit refuses, keeps what fitted */
	buf_init(&b, 4);
	assert_int_equal(html_escape_str(&b, "ab<", HTML_ESC_TEXT), -1);
	assert_string_equal(buf_cstr(&b), "ab");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
