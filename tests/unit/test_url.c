#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "url.h"

static void
check(const char *base, const char *ref, const char *want)
{
	char *got = url_resolve(base, ref);

	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("url_resolve(%s, %s) = %s, want %s",
		    base != NULL ? base : "(null)", ref,
		    got != NULL ? got : "(null)", want);
	free(got);
}

/* RFC 3986 §5.4.1 and §5.4.2, every example. */
static void
test_rfc3986_examples(void **state)
{
	const char *b = "http://a/b/c/d;p?q";
	static const char *const cases[][2] = {
		{ "g:h", "g:h" }, { "g", "http://a/b/c/g" },
		{ "./g", "http://a/b/c/g" }, { "g/", "http://a/b/c/g/" },
		{ "/g", "http://a/g" }, { "//g", "http://g" },
		{ "?y", "http://a/b/c/d;p?y" }, { "g?y", "http://a/b/c/g?y" },
		{ "#s", "http://a/b/c/d;p?q#s" }, { "g#s", "http://a/b/c/g#s" },
		{ "g?y#s", "http://a/b/c/g?y#s" }, { ";x", "http://a/b/c/;x" },
		{ "g;x", "http://a/b/c/g;x" }, { "g;x?y#s", "http://a/b/c/g;x?y#s" },
		{ "", "http://a/b/c/d;p?q" }, { ".", "http://a/b/c/" },
		{ "./", "http://a/b/c/" }, { "..", "http://a/b/" },
		{ "../", "http://a/b/" }, { "../g", "http://a/b/g" },
		{ "../..", "http://a/" }, { "../../", "http://a/" },
		{ "../../g", "http://a/g" },
		/* abnormal */
		{ "../../../g", "http://a/g" }, { "../../../../g", "http://a/g" },
		{ "/./g", "http://a/g" }, { "/../g", "http://a/g" },
		{ "g.", "http://a/b/c/g." }, { ".g", "http://a/b/c/.g" },
		{ "g..", "http://a/b/c/g.." }, { "..g", "http://a/b/c/..g" },
		{ "./../g", "http://a/b/g" }, { "./g/.", "http://a/b/c/g/" },
		{ "g/./h", "http://a/b/c/g/h" }, { "g/../h", "http://a/b/c/h" },
		{ "g;x=1/./y", "http://a/b/c/g;x=1/y" },
		{ "g;x=1/../y", "http://a/b/c/y" },
		{ "g?y/./x", "http://a/b/c/g?y/./x" },
		{ "g?y/../x", "http://a/b/c/g?y/../x" },
		{ "g#s/./x", "http://a/b/c/g#s/./x" },
		{ "g#s/../x", "http://a/b/c/g#s/../x" },
		{ "http:g", "http:g" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(b, cases[i][0], cases[i][1]);
}

static void
test_feed_cases(void **state)
{
	(void)state;
	check(NULL, "posts/1", "posts/1");
	check("", "/x", "/x");
	check("https://ex.org", "a", "https://ex.org/a");
	check("https://ex.org/blog/", "  \n posts/2\n ", "https://ex.org/blog/posts/2");
	check("https://ex.org/a/b", "https://other.org/x/../y", "https://other.org/x/../y");
	check("https://ex.org/a/b?q=1", "?z", "https://ex.org/a/b?z");
	check("https://ex.org/a/b#f", "", "https://ex.org/a/b");
	check("not a url", "x", "x");
	check("https://ex.org/dir/", "//cdn.ex.org/i.png", "https://cdn.ex.org/i.png");
	check("https://ex.org/dir/", "mailto:a@b.c", "mailto:a@b.c");
	check("https://ex.org/dir/", "ht\ntp://split.example/", "http://split.example/");
	assert_null(url_resolve("https://ex.org/", NULL));
}

/* Only http(s) URLs with a host are links for a template (issue 9 item 5). */
static void
test_is_web(void **state)
{
	static const char *const web[] = {
		"http://example.org", "https://example.org/a?b#c", "HTTPS://EX.ORG/",
		"http://127.0.0.1:8080/x",
	};
	static const char *const not_web[] = {
		"javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x",
		"vbscript:msgbox(1)", "https:javascript:alert(1)", "http:/x",
		"http://", "https:///path", "ftp://example.org/", "file:///etc/passwd",
		"mailto:a@example.org", "/relative", "relative", "", "java\x01script:x",
		"https\x01://example.org/", "//example.org/",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(web) / sizeof(web[0]); i++)
		if (!url_is_web(web[i], false))
			fail_msg("%s refused", web[i]);
	for (size_t i = 0; i < sizeof(not_web) / sizeof(not_web[0]); i++)
		if (url_is_web(not_web[i], false))
			fail_msg("%s accepted", not_web[i]);
	assert_true(url_is_web("mailto:a@example.org", true));
	assert_true(url_is_web("MAILTO:a@example.org?subject=x", true));
	assert_false(url_is_web("mailto:", true));
	assert_false(url_is_web("javascript:alert(1)", true));
	assert_false(url_is_web(NULL, true));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3986_examples),
		cmocka_unit_test(test_feed_cases),
		cmocka_unit_test(test_is_web),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
