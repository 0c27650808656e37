/*
 * sanitize_fast: the sanitiser's fast path (sanitize_int.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <libxml/HTMLparser.h>

#include "buf.h"
#include "html.h"
#include "sanitize.h"
#include "sanitize_int.h"

/*
 * Most feed content is plain, well-nested HTML: paragraphs, links, lists,
 * emphasis, images.  For that, what libxml2's HTML parser would build and
 * walk() would write can be written in one pass over the text, without
 * building a tree.  sanitize_fast_write() takes only input whose tree it knows
 * exactly: allowed elements, nested so that the parser closes nothing on
 * its own (no <p> in <p>, no <a> in <a>, lists holding only items), quoted
 * attributes, references ending in ';', no comments, no CR or controls.
 * Anything else returns false and goes through the parser; the fuzz target
 * fuzz_sanitize checks that both ways give the same output.
 */
enum fast_kind {
	FK_NONE = 0,
	FK_INLINE,		/* inline content only */
	FK_TEXTBLOCK,		/* a block holding inline content only */
	FK_FLOW,		/* a block holding blocks and inline content */
	FK_LIST,		/* ul, ol: li only */
	FK_LI,
	FK_DL,			/* dl: dt, dd only */
	FK_DT,
	FK_DD,
	FK_VOID_INLINE,		/* br, img */
	FK_VOID_BLOCK,		/* hr */
};

static enum fast_kind
fast_kind(const char *n)
{
	static const struct { const char *name; enum fast_kind k; } kinds[] = {
		{ "a", FK_INLINE }, { "abbr", FK_INLINE }, { "b", FK_INLINE },
		{ "blockquote", FK_FLOW }, { "br", FK_VOID_INLINE },
		{ "cite", FK_INLINE }, { "code", FK_INLINE }, { "dd", FK_DD },
		{ "del", FK_INLINE }, { "div", FK_FLOW }, { "dl", FK_DL },
		{ "dt", FK_DT }, { "em", FK_INLINE },
		{ "figcaption", FK_TEXTBLOCK }, { "figure", FK_FLOW },
		{ "h1", FK_TEXTBLOCK }, { "h2", FK_TEXTBLOCK },
		{ "h3", FK_TEXTBLOCK }, { "h4", FK_TEXTBLOCK },
		{ "h5", FK_TEXTBLOCK }, { "h6", FK_TEXTBLOCK },
		{ "hr", FK_VOID_BLOCK }, { "i", FK_INLINE },
		{ "img", FK_VOID_INLINE }, { "ins", FK_INLINE },
		{ "kbd", FK_INLINE }, { "li", FK_LI }, { "mark", FK_INLINE },
		{ "ol", FK_LIST }, { "p", FK_TEXTBLOCK }, { "pre", FK_TEXTBLOCK },
		{ "q", FK_INLINE }, { "s", FK_INLINE }, { "samp", FK_INLINE },
		{ "small", FK_INLINE }, { "span", FK_INLINE },
		{ "strike", FK_INLINE }, { "strong", FK_INLINE },
		{ "sub", FK_INLINE }, { "sup", FK_INLINE }, { "tt", FK_INLINE },
		{ "u", FK_INLINE }, { "ul", FK_LIST }, { "var", FK_INLINE },
	};
	size_t lo = 0, hi = sizeof(kinds) / sizeof(kinds[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(n, kinds[mid].name);

		if (c == 0)
			return kinds[mid].k;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return FK_NONE;
}

/* Whether parent (FK_FLOW for the wrapper) may hold child as it is. */
static bool
fast_fits(enum fast_kind parent, enum fast_kind child)
{
	switch (parent) {
	case FK_FLOW:
	case FK_LI:
	case FK_DD:
		return child == FK_INLINE || child == FK_TEXTBLOCK ||
		    child == FK_FLOW || child == FK_LIST || child == FK_DL ||
		    child == FK_VOID_INLINE || child == FK_VOID_BLOCK;
	case FK_INLINE:
	case FK_TEXTBLOCK:
	case FK_DT:
		return child == FK_INLINE || child == FK_VOID_INLINE;
	case FK_LIST:
		return child == FK_LI;
	case FK_DL:
		return child == FK_DT || child == FK_DD;
	default:
		return false;
	}
}

#define FAST_MAX_DEPTH	48

struct fast_frame {
	char		 name[12];
	enum fast_kind	 kind;
	bool		 written;	/* start tag written: write the end tag */
	bool		 in_a;		/* inside an <a> */
};

/*
 * A character or entity reference at s[i] ('&'), decoded into out.
 * Returns the index after it, or 0 when the parser might read it
 * differently (no ';', unknown name, a control character).
 */
static size_t
fast_ref(const char *s, size_t len, size_t i, struct buf *out)
{
	size_t j = i + 1, k;
	unsigned long v = 0;
	char name[32];

	if (j < len && s[j] == '#') {
		bool hex = j + 1 < len && (s[j + 1] == 'x' || s[j + 1] == 'X');

		k = j + (hex ? 2 : 1);
		while (k < len && k - j < 9 && ((s[k] >= '0' && s[k] <= '9') ||
		    (hex && ((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'f')))) {
			int d = s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) - 'a' + 10;

			v = v * (hex ? 16 : 10) + (unsigned long)d;
			k++;
		}
		if (k == j + (hex ? 2 : 1) || k >= len || s[k] != ';')
			return 0;
		if (v < 0x20 || (v >= 0x7f && v < 0xa0) ||
		    (v >= 0xd800 && v <= 0xdfff) || v == 0xfffe || v == 0xffff ||
		    v > 0x10ffff)
			return 0;
	} else {
		const htmlEntityDesc *e;

		k = j;
		while (k < len && k - j < sizeof(name) - 1 &&
		    ((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z'))
			k++;
		if (k == j || k >= len || s[k] != ';')
			return 0;
		memcpy(name, s + j, k - j);
		name[k - j] = '\0';
		if ((e = htmlEntityLookup(BAD_CAST name)) == NULL || e->value == 0)
			return 0;
		v = e->value;
	}
	{
		char u[4];
		size_t n;

		if (v < 0x80) {
			u[0] = (char)v;
			n = 1;
		} else if (v < 0x800) {
			u[0] = (char)(0xc0 | (v >> 6));
			u[1] = (char)(0x80 | (v & 0x3f));
			n = 2;
		} else if (v < 0x10000) {
			u[0] = (char)(0xe0 | (v >> 12));
			u[1] = (char)(0x80 | ((v >> 6) & 0x3f));
			u[2] = (char)(0x80 | (v & 0x3f));
			n = 3;
		} else {
			u[0] = (char)(0xf0 | (v >> 18));
			u[1] = (char)(0x80 | ((v >> 12) & 0x3f));
			u[2] = (char)(0x80 | ((v >> 6) & 0x3f));
			u[3] = (char)(0x80 | (v & 0x3f));
			n = 4;
		}
		buf_add(out, u, n);
	}
	return k + 1;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/*
 * Parses the attributes of a start tag from s[*ip] up to '>' (or "/>"),
 * values decoded into vals; sets *selfclose.  False: not for the fast path.
 */
static bool
fast_attrs(const char *s, size_t len, size_t *ip, struct attr_src *as,
    struct buf *vals, size_t *offs, bool *selfclose)
{
	size_t i = *ip;

	as->n = 0;
	*selfclose = false;
	for (;;) {
		size_t ns, ne;
		char q;

		while (i < len && is_ws(s[i]))
			i++;
		if (i >= len)
			return false;
		if (s[i] == '>') {
			*ip = i + 1;
			return true;
		}
		if (s[i] == '/' && i + 1 < len && s[i + 1] == '>') {
			*selfclose = true;
			*ip = i + 2;
			return true;
		}
		ns = i;
		/*
		 * A name starts with a letter: libxml2 reads one that starts
		 * otherwise ("1", "-x") as a bogus attribute and skips to the
		 * next blank or '>', even inside quotes (<b 1="<i>">k</b> is
		 * <b> then the text "&gt;k).
		 */
		if (s[i] < 'a' || s[i] > 'z')
			return false;
		while (i < len && (((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
		    s[i] == ':'))
			i++;
		ne = i;
		if (ne == ns || i + 1 >= len || s[i] != '=' ||
		    (s[i + 1] != '"' && s[i + 1] != '\''))
			return false;
		q = s[i + 1];
		i += 2;
		if (as->n == FAST_MAX_ATTRS)
			return false;
		for (size_t k = ns; k < ne; k++)
			if (s[k] >= 'A' && s[k] <= 'Z')
				return false;
		/* A repeated name: the parser keeps the first. */
		for (size_t k = 0; k < as->n; k++)
			if (as->namelen[k] == ne - ns &&
			    memcmp(as->name[k], s + ns, ne - ns) == 0)
				return false;
		as->name[as->n] = s + ns;
		as->namelen[as->n] = ne - ns;
		offs[as->n] = vals->len;
		while (i < len && s[i] != q) {
			size_t st = i;

			while (i < len && s[i] != q && s[i] != '&' &&
			    (unsigned char)s[i] >= 0x20)
				i++;
			buf_add(vals, s + st, i - st);
			if (i >= len)
				return false;
			if (s[i] == '&') {
				if ((i = fast_ref(s, len, i, vals)) == 0)
					return false;
			} else if (s[i] != q)
				return false;	/* a control character */
		}
		if (i >= len)
			return false;
		buf_addc(vals, '\0');
		as->n++;
		i++;
		if (i < len && !is_ws(s[i]) && s[i] != '>' && s[i] != '/')
			return false;
	}
}

bool
sanitize_fast_write(struct sanitize_ctx *sc, const char *s, size_t len,
    const char *base, struct buf *out)
{
	struct fast_frame st[FAST_MAX_DEPTH];
	struct attr_src as;
	size_t offs[FAST_MAX_ATTRS];
	size_t depth = 0, i = 0;

	(void)sc;
	memset(&st[0], 0, sizeof(st[0]));
	memcpy(st[0].name, "div", 4);		/* the wrapper */
	st[0].kind = FK_FLOW;
	if (!sanitize_chars_kept(s, len))
		return false;
	while (i < len) {
		struct fast_frame *top = &st[depth];
		size_t start = i;
		bool blank = true;

		/* Text up to the next tag. */
		while (i < len && s[i] != '<') {
			unsigned char c = (unsigned char)s[i];

			if (c == '&') {
				size_t next;

				if (top->kind == FK_LIST || top->kind == FK_DL)
					return false;
				html_escape(out, s + start, i - start, HTML_ESC_TEXT);
				{
					size_t mark = out->len;

					if ((next = fast_ref(s, len, i, out)) == 0)
						return false;
					/* Decoded text is escaped like the rest. */
					if (out->len - mark == 1 && (out->data[mark] == '&' ||
					    out->data[mark] == '<' || out->data[mark] == '>')) {
						char ch = out->data[mark];

						out->len = mark;
						html_escape(out, &ch, 1, HTML_ESC_TEXT);
					}
				}
				blank = false;
				i = start = next;
				continue;
			}
			if (c < 0x20 && c != '\t' && c != '\n')
				return false;
			if (!is_ws((char)c))
				blank = false;
			i++;
		}
		if (i > start) {
			/*
			 * Whitespace too: with keepBlanks (the default) libxml2
			 * keeps blanks between tags as text.
			 */
			if (!blank && (top->kind == FK_LIST || top->kind == FK_DL))
				return false;
			html_escape(out, s + start, i - start, HTML_ESC_TEXT);
		}
		if (i >= len)
			break;
		/* A tag. */
		if (i + 1 < len && s[i + 1] == '/') {
			size_t ns = i + 2, ne = ns;

			while (ne < len && ((s[ne] >= 'a' && s[ne] <= 'z') ||
			    (s[ne] >= '0' && s[ne] <= '9')))
				ne++;
			if (depth == 0 || ne - ns != strlen(top->name) ||
			    memcmp(s + ns, top->name, ne - ns) != 0 ||
			    ne >= len || s[ne] != '>')
				return false;
			if (top->written) {
				buf_adds(out, "</");
				buf_adds(out, top->name);
				buf_addc(out, '>');
			}
			depth--;
			i = ne + 1;
			continue;
		}
		{
			size_t ns = i + 1, ne = ns;
			char name[12];
			enum fast_kind k;
			const struct element *el;
			bool selfclose, written;

			while (ne < len && ((s[ne] >= 'a' && s[ne] <= 'z') ||
			    (s[ne] >= '0' && s[ne] <= '9')))
				ne++;
			if (ne == ns || ne - ns >= sizeof(name) || ne >= len ||
			    (!is_ws(s[ne]) && s[ne] != '>' && s[ne] != '/'))
				return false;
			memcpy(name, s + ns, ne - ns);
			name[ne - ns] = '\0';
			if ((k = fast_kind(name)) == FK_NONE || !fast_fits(top->kind, k) ||
			    (top->in_a && strcmp(name, "a") == 0))
				return false;
			if ((el = sanitize_el_find(BAD_CAST name)) == NULL)
				return false;
			buf_reset(&sc->vals);
			i = ne;
			if (!fast_attrs(s, len, &i, &as, &sc->vals, offs, &selfclose))
				return false;
			for (size_t a = 0; a < as.n; a++)
				as.value[a] = sc->vals.data + offs[a];
			as.node = NULL;
			if (selfclose && k != FK_VOID_INLINE && k != FK_VOID_BLOCK)
				return false;
			/* "<pre>\n": the parser drops that newline. */
			if (strcmp(name, "pre") == 0 && i < len && s[i] == '\n')
				return false;
			written = sanitize_open_tag(sc, out, el, &as, base);
			if (k == FK_VOID_INLINE || k == FK_VOID_BLOCK)
				continue;
			if (depth + 1 >= FAST_MAX_DEPTH)
				return false;
			depth++;
			memset(&st[depth], 0, sizeof(st[depth]));
			memcpy(st[depth].name, name, sizeof(name));
			st[depth].kind = k;
			st[depth].written = written;
			st[depth].in_a = top->in_a || strcmp(name, "a") == 0;
		}
	}
	/* Cut off (a description truncated by the feed): the parser closes
	 * what is open at the end, and so does the walk. */
	for (; depth > 0; depth--)
		if (st[depth].written) {
			buf_adds(out, "</");
			buf_adds(out, st[depth].name);
			buf_addc(out, '>');
		}
	return true;
}
