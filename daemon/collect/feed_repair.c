/*
 * feed_repair: what feeds get wrong about XML, put right before libxml2
 * reads them (feed_int.h, docs/feeds.md step 3).
 *
 * One pass outside CDATA sections, comments, processing instructions and
 * the DOCTYPE: HTML entities become character references, a stray '&' or
 * '<' is escaped, control characters XML forbids are dropped, and a stack
 * of open elements closes what an end tag leaves open inside it (an
 * unclosed <b> in an RSS description must not swallow the rest of the
 * feed), drops end tags that close nothing and writes HTML void elements
 * (<br>) closed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libxml/HTMLparser.h>

#include "buf.h"
#include "feed_int.h"
#include "util.h"

static bool
is_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':' || c >= 0x80;
}

static bool
is_name_char(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Copies through the end marker (or to the end); returns the new index. */
static size_t
copy_through(const char *p, size_t n, size_t i, const char *end, struct buf *out)
{
	const char *e = memmem(p + i, n - i, end, strlen(end));
	size_t stop = e != NULL ? (size_t)(e - p) + strlen(end) : n;

	buf_add(out, p + i, stop - i);
	return stop;
}

/* End of a DOCTYPE starting at i (index after its final '>'). */
static size_t
doctype_end(const char *p, size_t n, size_t i)
{
	int bracket = 0;
	char quote = 0;

	for (; i < n; i++) {
		char c = p[i];

		if (quote) {
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'')
			quote = c;
		else if (c == '[')
			bracket++;
		else if (c == ']' && bracket > 0)
			bracket--;
		else if (c == '>' && bracket == 0)
			return i + 1;
	}
	return n;
}

/*
 * Handles the '&' at p[i]: a well-formed reference XML knows is copied, an
 * HTML entity becomes a character reference, anything else is escaped.
 */
static size_t
repair_amp(const char *p, size_t n, size_t i, const char *dtd, size_t dtdlen,
    struct buf *out)
{
	size_t j = i + 1, k;
	char name[40];

	if (j < n && p[j] == '#') {
		bool hex = j + 1 < n && (p[j + 1] == 'x' || p[j + 1] == 'X');
		unsigned long v = 0;

		k = j + (hex ? 2 : 1);
		while (k < n && k - j < 10 && ((p[k] >= '0' && p[k] <= '9') ||
		    (hex && ((p[k] | 0x20) >= 'a' && (p[k] | 0x20) <= 'f')))) {
			int d = p[k] <= '9' ? p[k] - '0' : (p[k] | 0x20) - 'a' + 10;

			v = v * (hex ? 16 : 10) + (unsigned long)d;
			k++;
		}
		if (k < n && p[k] == ';' && k > j + (hex ? 2 : 1) &&
		    (v == 0x9 || v == 0xa || v == 0xd ||
		    (v >= 0x20 && v <= 0xd7ff) || (v >= 0xe000 && v <= 0xfffd) ||
		    (v >= 0x10000 && v <= 0x10ffff))) {
			buf_add(out, p + i, k + 1 - i);
			return k + 1;
		}
		if (k < n && p[k] == ';' && v >= 0x80 && v <= 0x9f) {
			/* &#150; and friends mean Windows-1252, as in HTML. */
			buf_printf(out, "&#%u;", feed_cp1252_c1[v - 0x80]);
			return k + 1;
		}
		buf_adds(out, "&amp;");
		return i + 1;
	}
	k = j;
	while (k < n && k - j < sizeof(name) - 1 && is_name_char((unsigned char)p[k]))
		k++;
	if (k == j || k >= n || p[k] != ';' || !is_name_start((unsigned char)p[j])) {
		buf_adds(out, "&amp;");
		return i + 1;
	}
	memcpy(name, p + j, k - j);
	name[k - j] = '\0';
	if (strcmp(name, "amp") == 0 || strcmp(name, "lt") == 0 ||
	    strcmp(name, "gt") == 0 || strcmp(name, "quot") == 0 ||
	    strcmp(name, "apos") == 0) {
		buf_add(out, p + i, k + 1 - i);
		return k + 1;
	}
	if (dtd != NULL) {
		/* Declared in the internal subset: leave it to libxml2. */
		char decl[64];
		int dl = snprintf(decl, sizeof(decl), "<!ENTITY %s", name);

		if (dl > 0 && memmem(dtd, dtdlen, decl, (size_t)dl) != NULL) {
			buf_add(out, p + i, k + 1 - i);
			return k + 1;
		}
	}
	{
		const htmlEntityDesc *e = htmlEntityLookup(BAD_CAST name);

		if (e != NULL) {
			buf_printf(out, "&#%u;", e->value);
			return k + 1;
		}
	}
	buf_adds(out, "&amp;");
	return i + 1;
}

#define REPAIR_MAX_DEPTH	256	/* open elements tracked for repair */

/*
 * The open elements, as names in the input: an end tag that closes an
 * ancestor closes what was left open inside it (an unclosed <b> in an
 * RSS description must not swallow the rest of the feed), and an end tag
 * that closes nothing is dropped.
 */
struct open_els {
	const char	*name[REPAIR_MAX_DEPTH];
	size_t		 len[REPAIR_MAX_DEPTH];
	size_t		 n;
	size_t		 untracked;	/* opened beyond REPAIR_MAX_DEPTH */
};

/* HTML elements that have no end tag, written unclosed in RSS by hand. */
static bool
html_void_name(const char *s, size_t n)
{
	static const char *const v[] = { "br", "hr", "img", "wbr", "col",
	    "area", "input", "param", "source", "embed", "track" };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strlen(v[i]) == n && ascii_ncasecmp(s, v[i], n) == 0)
			return true;
	return false;
}

/* Copies p[i..e) with references repaired and forbidden controls dropped. */
static void
repair_span(const char *p, size_t i, size_t e, const char *dtd, size_t dtdlen,
    struct buf *out)
{
	while (i < e) {
		size_t start = i;
		unsigned char c;

		while (i < e && (c = (unsigned char)p[i]) != '&' &&
		    (c >= 0x20 || c == '\t' || c == '\n' || c == '\r'))
			i++;
		buf_add(out, p + start, i - start);
		if (i >= e)
			break;
		if (p[i] == '&')
			i = repair_amp(p, e, i, dtd, dtdlen, out);
		else
			i++;
	}
}

/*
 * A start or end tag at p[i] ('<' then a name start or '/'): written out
 * with the element stack kept.  Returns the index after it, or 0 when it is
 * not a complete tag (the caller escapes the '<').
 */
static size_t
repair_tag(const char *p, size_t n, size_t i, struct open_els *st,
    const char *dtd, size_t dtdlen, struct buf *out)
{
	bool end = p[i + 1] == '/';
	size_t j = i + (end ? 2 : 1), k = j, e;
	char quote = 0;

	if (k >= n || !is_name_start((unsigned char)p[k]))
		return 0;
	while (k < n && is_name_char((unsigned char)p[k]))
		k++;
	for (e = k; e < n; e++) {
		char c = p[e];

		if (quote) {
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'')
			quote = c;
		else if (c == '>')
			break;
		else if (c == '<')
			return 0;
	}
	if (e >= n)
		return 0;
	if (!end) {
		bool selfclose = p[e - 1] == '/';

		repair_span(p, i, e, dtd, dtdlen, out);
		if (selfclose) {
			buf_addc(out, '>');
		} else if (html_void_name(p + j, k - j)) {
			/* <br> without </br>: written <br/>. */
			size_t m = e + 1;

			while (m < n && (p[m] == ' ' || p[m] == '\n' ||
			    p[m] == '\r' || p[m] == '\t'))
				m++;
			if (m + 2 + (k - j) <= n && p[m] == '<' && p[m + 1] == '/' &&
			    memcmp(p + m + 2, p + j, k - j) == 0 &&
			    !is_name_char((unsigned char)p[m + 2 + (k - j)])) {
				buf_addc(out, '>');
				goto push;
			}
			buf_adds(out, "/>");
		} else {
			buf_addc(out, '>');
push:
			if (st->n < REPAIR_MAX_DEPTH) {
				st->name[st->n] = p + j;
				st->len[st->n] = k - j;
				st->n++;
			} else
				st->untracked++;
		}
		return e + 1;
	}
	if (st->untracked > 0) {
		st->untracked--;
		buf_add(out, p + i, e + 1 - i);
		return e + 1;
	}
	/* The innermost open element of that name, exactly, else in any case. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t d = st->n; d-- > 0;) {
			if (st->len[d] != k - j || (pass == 0 ?
			    memcmp(st->name[d], p + j, k - j) != 0 :
			    ascii_ncasecmp(st->name[d], p + j, k - j) != 0))
				continue;
			while (st->n > d) {
				st->n--;
				buf_adds(out, "</");
				buf_add(out, st->name[st->n], st->len[st->n]);
				buf_addc(out, '>');
			}
			return e + 1;
		}
	return e + 1;		/* closes nothing: dropped */
}

void
feed_repair(const char *p, size_t n, struct buf *out)
{
	const char *dtd = NULL;
	size_t dtdlen = 0, i = 0, next;
	struct open_els st;

	st.n = st.untracked = 0;
	buf_grow(out, n + n / 16 + 64);
	while (i < n) {
		size_t start = i;
		unsigned char c;

		while (i < n && (c = (unsigned char)p[i]) != '&' && c != '<' &&
		    (c >= 0x20 || c == '\t' || c == '\n' || c == '\r'))
			i++;
		buf_add(out, p + start, i - start);
		if (i >= n)
			break;
		c = (unsigned char)p[i];
		if (c == '&') {
			i = repair_amp(p, n, i, dtd, dtdlen, out);
		} else if (c == '<') {
			const char *s = p + i;
			size_t left = n - i;

			if (left >= 9 && memcmp(s, "<![CDATA[", 9) == 0)
				i = copy_through(p, n, i, "]]>", out);
			else if (left >= 4 && memcmp(s, "<!--", 4) == 0)
				i = copy_through(p, n, i, "-->", out);
			else if (left >= 2 && s[1] == '?')
				i = copy_through(p, n, i, "?>", out);
			else if (left >= 9 && memcmp(s, "<!DOCTYPE", 9) == 0) {
				size_t e = doctype_end(p, n, i);

				dtd = s;
				dtdlen = e - i;
				buf_add(out, s, dtdlen);
				i = e;
			} else if (left >= 2 && (is_name_start((unsigned char)s[1]) ||
			    s[1] == '/') &&
			    (next = repair_tag(p, n, i, &st, dtd, dtdlen, out)) > 0) {
				i = next;
			} else if (left >= 2 && (is_name_start((unsigned char)s[1]) ||
			    s[1] == '/' || s[1] == '!')) {
				buf_addc(out, '<');	/* incomplete: libxml2 recovers */
				i++;
			} else {
				buf_adds(out, "&lt;");
				i++;
			}
		} else {
			i++;		/* a control character XML forbids */
		}
	}
}
