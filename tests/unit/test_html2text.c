/* html2text: structure, wrapping (UTF-8 aware), link references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "html2text.h"

static char *
conv(const char *html, struct html2text_links *l)
{
	return html2text(html, strlen(html), 72, l);
}

static void
expect(const char *html, const char *want)
{
	char *got = conv(html, NULL);

	if (strcmp(got, want) != 0)
		fail_msg("html: %s\n--- want\n%s\n--- got\n%s", html, want, got);
	free(got);
}

static size_t
max_line_width(const char *s)
{
	size_t best = 0;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		size_t w = html2text_width(s, n);

		if (w > best)
			best = w;
		s += n + (nl != NULL);
	}
	return best;
}

static void
test_paragraphs(void **state)
{
	(void)state;
	expect("<p>One  two\n three.</p><p>Four.</p>", "One two three.\n\nFour.");
	expect("<p>a<br>b</p>", "a\nb");
	expect("<div>x</div><div>y</div>", "x\ny");
	expect("<p>&amp; &lt;tag&gt; &eacute;</p>", "& <tag> \xc3\xa9");
	expect("<script>alert(1)</script><p>ok</p>", "ok");
	expect("", "");
}

static void
test_structure(void **state)
{
	(void)state;
	expect("<h2>Title</h2><p>Body</p>", "## Title\n\nBody");
	expect("<ul><li>one</li><li>two</li></ul>", "* one\n* two");
	expect("<ol><li>one</li><li>two</li></ol>", " 1. one\n 2. two");
	expect("<blockquote><p>Quoted</p><p>More</p></blockquote>",
	    "> Quoted\n>\n> More");
	expect("<pre>  code\n    indented  x</pre><p>after</p>",
	    "  code\n    indented  x\n\nafter");
	expect("<p>see <img src=\"https://x/a.png\" alt=\"a chart\"> here</p>",
	    "see [a chart] here");
}

static void
test_links(void **state)
{
	struct html2text_links l = { .v = NULL };
	char *s;

	(void)state;
	s = conv("<p>Read <a href=\"https://a.example/1\">this</a> and "
	    "<a href=\"https://b.example/2\">that</a>; "
	    "<a href=\"https://c.example/\">https://c.example/</a></p>", &l);
	assert_string_equal(s, "Read this [1] and that [2]; https://c.example/");
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "https://a.example/1");
	assert_string_equal(l.v[1], "https://b.example/2");
	free(s);
	html2text_links_free(&l);
	/* without a list the references are left out */
	expect("<p><a href=\"https://a.example/\">x</a></p>", "x");
}

static void
test_wrap(void **state)
{
	struct html2text_links l = { .v = NULL };
	char long_para[4096], *s;
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(long_para + n, sizeof(long_para) - n, "<p>");
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(long_para + n, sizeof(long_para) - n,
		    "\xe2\x80\x9cw\xc3\xb6rd\xe2\x80\x9d ");	/* 6 code points, 12 bytes */
	n += (size_t)snprintf(long_para + n, sizeof(long_para) - n,
	    "https://example.org/a/very/long/url/that/must/not/be/broken/anywhere/at/all/ever</p>");
	s = conv(long_para, &l);
	assert_true(max_line_width(s) <= 90);	/* only the URL line is longer */
	assert_non_null(strstr(s, "https://example.org/a/very/long/url/that/must/not/be/broken/anywhere/at/all/ever"));
	/* every line but the URL's is at most 72 code points; no split characters */
	for (const char *p = s; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (memmem(p, len, "https://", 8) == NULL)
			assert_true(html2text_width(p, len) <= 72);
		assert_true(len == 0 || ((unsigned char)p[0] & 0xc0) != 0x80);
		p += len + (nl != NULL);
	}
	free(s);
	html2text_links_free(&l);
}

static void
test_wrap_plain(void **state)
{
	struct buf b = BUF_INIT;
	const char *in = "short line\n> quoted text that goes on and on and on and on "
	    "and on and on and on and on and on\n";

	(void)state;
	html2text_wrap(&b, in, strlen(in), 40);
	assert_string_equal(buf_cstr(&b), "short line\n"
	    "> quoted text that goes on and on and on\n"	/* 40 columns */
	    "> and on and on and on and on and on and\n"
	    "> on\n");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paragraphs),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_wrap_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
