#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "sanitize.h"
#include "../../fuzz/html_gen.h"

static void
check(const char *in, const char *base, const char *want)
{
	char *got = sanitize_html(in, strlen(in), base);

	if (strcmp(got, want) != 0)
		fail_msg("sanitize_html(%s)\n got: %s\nwant: %s", in, got, want);
	free(got);
}

/* in sanitised must not contain needle (case-insensitive). */
static void
absent(const char *in, const char *needle)
{
	char *got = sanitize_html(in, strlen(in), "https://base.example/");

	if (strcasestr(got, needle) != NULL)
		fail_msg("sanitize_html(%s) kept \"%s\": %s", in, needle, got);
	free(got);
}

static void
test_allowed(void **state)
{
	(void)state;
	check("<p>Hello <b>bold</b> <i>it</i> <em>em</em> <strong>s</strong> <u>u</u> <s>x</s></p>",
	    NULL, "<p>Hello <b>bold</b> <i>it</i> <em>em</em> <strong>s</strong> <u>u</u> <s>x</s></p>");
	check("<h1>a</h1><h2>b</h2><h3>c</h3><h4>d</h4><h5>e</h5><h6>f</h6>", NULL,
	    "<h1>a</h1><h2>b</h2><h3>c</h3><h4>d</h4><h5>e</h5><h6>f</h6>");
	check("<ul><li>one</li></ul><ol><li>two</li></ol><dl><dt>t</dt><dd>d</dd></dl>", NULL,
	    "<ul><li>one</li></ul><ol><li>two</li></ol><dl><dt>t</dt><dd>d</dd></dl>");
	check("<blockquote>q</blockquote><pre><code>x &lt; y</code></pre>", NULL,
	    "<blockquote>q</blockquote><pre><code>x &lt; y</code></pre>");
	check("<table><thead><tr><th rowspan=\"2\">h</th></tr></thead><tbody><tr><td colspan=\"3\" width=\"9\">c</td></tr></tbody></table>",
	    NULL, "<table><thead><tr><th rowspan=\"2\">h</th></tr></thead><tbody><tr><td colspan=\"3\">c</td></tr></tbody></table>");
	check("a<br>b<hr>c<sub>1</sub><sup>2</sup>", NULL, "a<br>b<hr>c<sub>1</sub><sup>2</sup>");
	check("<figure><img src=\"https://i.example/a.png\" alt=\"A\" title=\"T\" width=\"10\" height=\"20\"><figcaption>cap</figcaption></figure>",
	    NULL, "<figure><img src=\"https://i.example/a.png\" alt=\"A\" title=\"T\" width=\"10\" height=\"20\"><figcaption>cap</figcaption></figure>");
	check("<div class=\"x\" id=\"y\"><span style=\"color:red\" lang=\"en\">s</span></div>", NULL,
	    "<div><span>s</span></div>");
	check("<a href=\"https://ex.org/?a=1&amp;b=2\" title=\"say &quot;hi&quot;\" target=\"_blank\">l</a>",
	    NULL, "<a href=\"https://ex.org/?a=1&amp;b=2\" title=\"say &quot;hi&quot;\">l</a>");
	check("<a href=\"mailto:a@b.example\">m</a>", NULL, "<a href=\"mailto:a@b.example\">m</a>");
	check("Plain text & more", NULL, "Plain text &amp; more");	/* no implied <p> */
	check("caf&eacute; &mdash; &#8220;q&#8221;", NULL, "café — “q”");
	check("", NULL, "");
	check("   ", NULL, "");
	/* the no-markup fast path writes what the parser path would */
	check("  a > b \"q\" caf\xc3\xa9\n", NULL, "a &gt; b \"q\" café");
	check("  a > b \"q\" caf&eacute;\n", NULL, "a &gt; b \"q\" café");
}

static void
test_relative(void **state)
{
	(void)state;
	check("<a href=\"/about\">a</a>", "https://ex.org/blog/post", "<a href=\"https://ex.org/about\">a</a>");
	check("<a href=\"../x\">a</a>", "https://ex.org/blog/post/", "<a href=\"https://ex.org/blog/x\">a</a>");
	check("<img src=\"i.png\" alt=\"\">", "https://ex.org/blog/", "<img src=\"https://ex.org/blog/i.png\" alt=\"\">");
	/* Without a base neither a relative link nor a relative image can
	 * reach a reader: the link keeps its text, the image goes. */
	check("<a href=\"/about\">a</a>", NULL, "a");
	check("x<img src=\"i.png\">", NULL, "x");
	/* An image resolved to http is not https: dropped. */
	check("<img src=\"i.png\">", "http://ex.org/", "");
}

static void
test_dangerous(void **state)
{
	(void)state;
	check("<p onclick=\"x()\" onmouseover=\"y()\">t</p>", NULL, "<p>t</p>");
	check("a<script>alert(1)</script>b", NULL, "ab");
	check("a<style>p{color:red}</style>b", NULL, "ab");
	check("a<iframe src=\"https://e.example/\">inside</iframe>b", NULL, "ab");
	check("a<object data=\"x\"><param name=\"a\">fallback</object>b", NULL, "ab");
	check("a<embed src=\"x.swf\">b", NULL, "ab");
	check("a<form action=\"/x\"><input name=\"q\"><button>Go</button><textarea>t</textarea><select><option>o</option></select></form>b",
	    NULL, "ab");
	check("<a href=\"javascript:alert(1)\">js</a>", NULL, "js");
	check("<a href=\" JaVaScRiPt:alert(1)\">js</a>", NULL, "js");
	check("<a href=\"java&#x09;script:alert(1)\">js</a>", NULL, "js");
	check("<a href=\"java\nscript:alert(1)\">js</a>", NULL, "js");
	check("<a href=\"&#106;avascript:alert(1)\">js</a>", NULL, "js");
	check("<a href=\"&#x6A;&#x61;vascript&#58;alert(1)\">js</a>", NULL, "js");
	check("<a href=\"\x01javascript:alert(1)\">js</a>", NULL, "js");
	check("<a href=\"vbscript:msgbox(1)\">vb</a>", NULL, "vb");
	/* Only http, https and mailto links (issue 9 item 5). */
	check("<a href=\"ftp://f.example/x\">f</a>", NULL, "f");
	check("<a href=\"tel:+100\">t</a>", NULL, "t");
	check("<a href=\"file:///etc/passwd\">p</a>", NULL, "p");
	check("<a href=\"https:javascript:alert(1)\">h</a>", NULL, "h");
	check("<a href=\"javascript:alert(1)\">js</a>", "https://base.example/", "js");
	check("<a href=\"JAVASCRIPT:alert(1)\">js</a>", "https://base.example/", "js");
	check("<a href=\"&#x20;&#x0A;javascript:alert(1)\">js</a>", "https://base.example/", "js");
	check("<a href=\"data:text/html,x\">d</a>", "https://base.example/", "d");
	check("<a href=\"data:text/html;base64,PHNjcmlwdD4=\">d</a>", NULL, "d");
	check("<img src=\"data:image/png;base64,AAAA\">", NULL, "");
	check("<img src=\"javascript:alert(1)\">", NULL, "");
	check("<img src=\"http://plain.example/a.png\">", NULL, "");
	check("<unknown>kept</unknown><font color=red>text</font>", NULL, "kepttext");
	check("a<!-- comment -->b", NULL, "ab");
	/* SVG and MathML lose their markup, keep their text (issue 13), and
	 * what is dangerous inside them is still dropped whole. */
	check("<svg><script>alert(1)</script><style>x</style><text>t</text></svg>ok", NULL, "t ok");
	check("<p>Chart <svg width=\"9\" onload=\"x()\"><title>Sales</title><desc>Up 5%</desc>"
	    "<rect width=\"1\"/></svg> end</p>", NULL, "<p>Chart   Sales  Up 5%   end</p>");
	check("<math><mi>a</mi><mo>+</mo><mi>b</mi></math>", NULL, "a+b");
	check("<title>page</title>x", NULL, "x");
	check("<noscript><img src=\"https://t.example/pixel\"></noscript>ok", NULL, "ok");
	check("<p title=\"x\"><a href=\"https://ok.example/\" onclick=\"x\">ok</a></p>", NULL,
	    "<p><a href=\"https://ok.example/\">ok</a></p>");
	/* Attribute values that try to break out are escaped. */
	check("<a href='https://ok.example/\"><script>alert(1)</script>'>x</a>", NULL,
	    "<a href=\"https://ok.example/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">x</a>");
	check("<img src=\"https://ok.example/a.png\" alt='\"><script>' width=\"100%\">", NULL,
	    "<img src=\"https://ok.example/a.png\" alt=\"&quot;&gt;&lt;script&gt;\">");
	/* Text that looks like markup after decoding stays text. */
	check("&lt;script&gt;alert(1)&lt;/script&gt;", NULL, "&lt;script&gt;alert(1)&lt;/script&gt;");
	absent("<scr<script>ipt>alert(1)</script>", "<script");
	absent("<<script>script>alert(1)<</script>/script>", "<script");
	/* &colon; is not HTML 4: the href stays a harmless relative path. */
	absent("<a href=\"javascript&colon;alert(1)\">x</a>", "href=\"javascript");
	absent("<div style=\"background:url(javascript:alert(1))\">x</div>", "style");
	absent("<img src=x onerror=alert(1)>", "onerror");
	absent("<body onload=\"alert(1)\">x</body>", "onload");
	absent("<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">", "meta");
	absent("<base href=\"https://evil.example/\">", "base");
	absent("<link rel=\"stylesheet\" href=\"https://evil.example/x.css\">", "link");
}

static void
test_deep_nesting(void **state)
{
	enum { DEPTH = 20000 };
	char *in = malloc(DEPTH * 5 + 16), *p = in, *got;

	(void)state;
	for (int i = 0; i < DEPTH; i++, p += 5)
		memcpy(p, "<div>", 5);
	memcpy(p, "deep", sizeof("deep"));
	got = sanitize_html(in, strlen(in), NULL);
	/* libxml2 stops at its depth limit; what comes out is balanced. */
	{
		size_t open = 0, close = 0;

		for (const char *q = got; (q = strstr(q, "<div>")) != NULL; q++)
			open++;
		for (const char *q = got; (q = strstr(q, "</div>")) != NULL; q++)
			close++;
		assert_int_equal(open, close);
	}
	free(got);
	free(in);
}

static void
test_text(void **state)
{
	char *t;

	(void)state;
	t = sanitize_text("<b>Bold</b>  &eacute;t&eacute;\n &amp; <script>x</script>more", strlen("<b>Bold</b>  &eacute;t&eacute;\n &amp; <script>x</script>more"));
	assert_string_equal(t, "Bold été & more");
	free(t);
	t = sanitize_text("<p>one</p><p>two</p>", 20);
	assert_string_equal(t, "one two");
	free(t);
	t = sanitize_collapse("  a \t\n b\xc2\xa0 c  ");
	assert_string_equal(t, "a b c");
	free(t);
}

/*
 * The fast path (no parser) must write exactly what libxml2's parser and
 * the tree walk write: for input it takes and for input it hands over.
 */
static void
test_fast_same(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "<p>A <a href=\"/x?a=1&amp;b=2\" title=\"t\">link</a> &amp; "
		    "<em>more</em>&nbsp;&#8217;</p>\n<ul>\n<li>one</li>\n</ul>",
		  "<p>A <a href=\"https://b.example/x?a=1&amp;b=2\" title=\"t\">"
		    "link</a> &amp; <em>more</em>\u00a0\u2019</p>\n<ul>\n<li>one</li>\n</ul>" },
		{ "<figure><img src=\"https://i.example/a.png\" alt=\"a &lt; b\" "
		    "width=\"10\" class=\"x\"/><figcaption>Cap</figcaption></figure>",
		  "<figure><img src=\"https://i.example/a.png\" alt=\"a &lt; b\" "
		    "width=\"10\"><figcaption>Cap</figcaption></figure>" },
		{ "<p>cut off <b>here", "<p>cut off <b>here</b></p>" },
		{ "<a>no href</a><img src=\"http://plain.example/x.png\"><hr>",
		  "no href<hr>" },
		{ "<dl><dt>T</dt><dd><p>D</p></dd></dl><pre><code>a &lt; b</code></pre>",
		  "<dl><dt>T</dt><dd><p>D</p></dd></dl><pre><code>a &lt; b</code></pre>" },
		/* handed to the parser: nesting it repairs, comments, script */
		{ "<p>a<p>b</p>", NULL }, { "<a href=\"/1\">x<a href=\"/2\">y</a>", NULL },
		{ "<ul>text<li>x</ul>", NULL }, { "a<!-- c -->b", NULL },
		{ "<p>x<script>y</script></p>", NULL }, { "<P>Upper</P>", NULL },
		{ "<a href=/bare>u</a>", NULL }, { "&copy 2026 &unknown;", NULL },
		{ "<pre>\nfirst</pre>", NULL }, { "<span/>x", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sanitize_ctx *fast = sanitize_ctx_new(), *slow = sanitize_ctx_new();
		const char *in = cases[i].in;
		char *a, *b;

		sanitize_ctx_fast(slow, 0);
		a = sanitize_html_in(fast, in, strlen(in), "https://b.example/d/");
		b = sanitize_html_in(slow, in, strlen(in), "https://b.example/d/");
		assert_string_equal(a, b);
		if (cases[i].want != NULL)
			assert_string_equal(a, cases[i].want);
		free(a);
		free(b);
		sanitize_ctx_free(fast);
		sanitize_ctx_free(slow);
	}
}

/*
 * The same, over 30,000 fragments drawn from fuzz/html_gen.h's grammar on
 * every run.  HERALD_SANITIZE_ROUNDS sets the count and
 * HERALD_SANITIZE_SEED the seed (fuzz/soak.sh runs millions).
 */
static void
test_fast_generated(void **state)
{
	const char *env = getenv("HERALD_SANITIZE_ROUNDS");
	unsigned long rounds = env != NULL ? strtoul(env, NULL, 10) : 30000;
	struct sanitize_ctx *fast = sanitize_ctx_new(), *slow = sanitize_ctx_new();
	struct buf in = BUF_INIT;
	const char *seed = getenv("HERALD_SANITIZE_SEED");
	struct html_gen g = { NULL, 0, 0x9e3779b97f4a7c15ull };

	(void)state;
	if (seed != NULL)
		g.state ^= strtoull(seed, NULL, 10) * 0x2545f4914f6cdd1dull;
	sanitize_ctx_fast(slow, 0);
	for (unsigned long r = 0; r < rounds; r++) {
		char *a, *b;
		const char *base = rnd(&g, 4) == 0 ? NULL : "https://b.example/d/";

		buf_reset(&in);
		html_gen_fragment(&g, &in);
		a = sanitize_html_in(fast, in.data, in.len, base);
		b = sanitize_html_in(slow, in.data, in.len, base);
		if (strcmp(a, b) != 0)
			fail_msg("round %lu: the two paths differ on\n  %s\n"
			    "fast:   %s\nparsed: %s", r, in.data, a, b);
		free(a);
		free(b);
	}
	buf_free(&in);
	sanitize_ctx_free(fast);
	sanitize_ctx_free(slow);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_dangerous),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_fast_same),
		cmocka_unit_test(test_fast_generated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
