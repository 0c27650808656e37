/*
 * html_gen: HTML fragments drawn from a grammar of what the sanitiser's
 * fast path reads and its near misses: elements it takes and some it does
 * not, attribute names and values of every shape, references, stray '<',
 * '>' and '&'.  A byte-level fuzzer reaches such inputs slowly (issue 9
 * item 8: <b 1="<i>">k</b> gave <b>k</b> fast and <b>"&gt;k</b> parsed);
 * drawn from this grammar that class comes up in a few thousand tries.
 *
 * Shared, header only, by tests/unit/test_sanitize.c (choices from a
 * seeded generator) and fuzz/fuzz_sanitize.c (choices from the fuzz input,
 * so that libFuzzer searches the grammar).
 */
#ifndef HERALD_HTML_GEN_H
#define HERALD_HTML_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The choices: bytes of a fuzz input, or a xorshift generator. */
struct html_gen {
	const uint8_t	*p;		/* NULL: use state */
	size_t		 n;
	uint64_t	 state;
};

static unsigned __attribute__((unused))
rnd(struct html_gen *g, unsigned n)
{
	if (g->p != NULL) {
		unsigned v;

		if (g->n == 0)
			return 0;
		v = *g->p++;
		g->n--;
		return v % n;
	}
	g->state ^= g->state << 13;
	g->state ^= g->state >> 7;
	g->state ^= g->state << 17;
	return (unsigned)(g->state % n);
}

#define PICK(g, a)	((a)[rnd((g), sizeof(a) / sizeof((a)[0]))])

static void
gen_text(struct html_gen *g, struct buf *b)
{
	static const char *const bits[] = {
		"k", "word ", " ", "\n", "\t", "&amp;", "&lt;", "&gt;", "&quot;",
		"&nbsp;", "&eacute;", "&#60;", "&#x3c;", "&#8217;", "&#0;", "&#128;",
		"&#xD800;", "&bogus;", "&amp", "&", "<", ">", "\"", "'", "=", "/",
		"\xc3\xa9", "\xe2\x80\x99", "\xef\xbf\xbe", "\r", "\x01", "<!-- c -->",
		"<!", "</", "<?x?>", "]]>", "&frac12;", "&AMP;", "&#X41;",
	};
	unsigned n = 1 + rnd(g, 3);

	while (n-- > 0)
		buf_adds(b, PICK(g, bits));
}

static void
gen_attr(struct html_gen *g, struct buf *b)
{
	static const char *const names[] = {
		"href", "src", "title", "alt", "width", "height", "colspan",
		"class", "1", "-x", "_a", ":b", ".c", "a.b", "x-y", "a1", "on",
		"onclick", "HREF", "Title", "9", "", "\"", "'", "<i", "a=b",
	};
	static const char *const vals[] = {
		"", "x", "https://e.example/", "/rel", "javascript:alert(1)", "<i>",
		">", "<", "&amp;", "&lt;b&gt;", "&nbsp;", "&bogus;", "a b", "\"",
		"'", "10", "1e3", "&#106;avascript:x", "mailto:a@b.example", "&",
		"\n", "\t", "/>", "data:x",
	};
	const char *name = PICK(g, names), *val = PICK(g, vals);

	buf_addc(b, rnd(g, 8) == 0 ? '\n' : ' ');
	buf_adds(b, name);
	switch (rnd(g, 6)) {
	case 0:
		break;				/* no value */
	case 1:
		buf_printf(b, "=%s", val);	/* unquoted */
		break;
	case 2:
		buf_printf(b, "='%s'", val);
		break;
	default:
		buf_printf(b, "=\"%s\"", val);
		break;
	}
}

static void __attribute__((unused))
html_gen_fragment(struct html_gen *g, struct buf *b)
{
	static const char *const els[] = {
		"a", "b", "i", "em", "strong", "p", "div", "span", "ul", "ol", "li",
		"dl", "dt", "dd", "h1", "h3", "pre", "code", "blockquote", "br",
		"hr", "img", "figure", "figcaption", "q", "sub", "table", "td",
		"tr", "script", "style", "P", "B", "unknown", "font", "embed",
		"source", "title", "svg", "math", "textarea", "xmp", "noscript",
	};
	unsigned n = 1 + rnd(g, rnd(g, 2) ? 10 : 30);

	while (n-- > 0) {
		const char *el = PICK(g, els);

		switch (rnd(g, 5)) {
		case 0:
		case 1: {
			unsigned na = rnd(g, 4);

			buf_printf(b, "<%s", el);
			while (na-- > 0)
				gen_attr(g, b);
			if (rnd(g, 6) == 0)
				buf_addc(b, ' ');
			buf_adds(b, rnd(g, 8) == 0 ? "/>" : ">");
			break;
		}
		case 2:
			buf_printf(b, "</%s>", el);
			break;
		default:
			gen_text(g, b);
			break;
		}
	}
}

#endif
