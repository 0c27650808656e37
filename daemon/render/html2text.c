/*
 * html2text: walks the libxml2 HTML tree, collecting inline text of each
 * block into a paragraph buffer (whitespace collapsed), and writes each
 * paragraph wrapped under the current prefix ("> " for quotes, list
 * indentation).
 */
#include "html2text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "xmalloc.h"

#define MAX_DEPTH	200
#define MAX_PREFIX	256

struct h2t {
	struct buf	 out;
	struct buf	 para;		/* inline text of the current block */
	char		 prefix[MAX_PREFIX];	/* continuation prefix */
	size_t		 plen;
	char		 marker[32];	/* pending list marker for the next line */
	bool		 blank;		/* a blank line goes before the next block */
	size_t		 width;
	struct html2text_links *links;
};

size_t
html2text_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/*
 * Appends the words of s[0..n) (separated by single spaces; '\n' is a hard
 * break) wrapped: the first line starts with first, later ones with cont.
 */
static void
wrap_words(struct buf *out, const char *s, size_t n, const char *first,
    size_t flen, const char *cont, size_t clen, size_t width)
{
	size_t i = 0, col;
	bool line_empty = true;

	buf_add(out, first, flen);
	col = html2text_width(first, flen);
	while (i < n) {
		size_t j = i, w;

		if (s[i] == '\n') {
			buf_addc(out, '\n');
			buf_add(out, cont, clen);
			col = html2text_width(cont, clen);
			line_empty = true;
			i++;
			while (i < n && s[i] == ' ')
				i++;
			continue;
		}
		if (s[i] == ' ') {
			i++;
			continue;
		}
		while (j < n && s[j] != ' ' && s[j] != '\n')
			j++;
		w = html2text_width(s + i, j - i);
		if (!line_empty && col + 1 + w > width) {
			/* trailing spaces never end a line */
			while (out->len && out->data[out->len - 1] == ' ')
				out->len--;
			buf_addc(out, '\n');
			buf_add(out, cont, clen);
			col = html2text_width(cont, clen);
			line_empty = true;
		}
		if (!line_empty) {
			buf_addc(out, ' ');
			col++;
		}
		buf_add(out, s + i, j - i);
		col += w;
		line_empty = false;
		i = j;
	}
	while (out->len && out->data[out->len - 1] == ' ')
		out->len--;
	if (out->data)
		out->data[out->len] = '\0';
	buf_addc(out, '\n');
}

static void
blank_line(struct h2t *h)
{
	size_t n = h->plen;

	if (h->out.len == 0)
		return;
	while (n && h->prefix[n - 1] == ' ')
		n--;
	buf_add(&h->out, h->prefix, n);
	buf_addc(&h->out, '\n');
}

static void
flush_para(struct h2t *h)
{
	size_t n = h->para.len, mlen = strlen(h->marker);
	const char *s = h->para.data;
	char first[MAX_PREFIX + 32];

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
		n--;
	while (n && (*s == ' ' || *s == '\n')) {
		s++;
		n--;
	}
	if (n == 0) {
		buf_reset(&h->para);
		return;
	}
	if (h->blank)
		blank_line(h);
	h->blank = false;
	memcpy(first, h->prefix, h->plen);
	if (mlen) {
		/* the marker takes the place of the list's indentation */
		size_t keep = h->plen >= mlen ? h->plen - mlen : 0;

		memcpy(first + keep, h->marker, mlen);
		wrap_words(&h->out, s, n, first, keep + mlen, h->prefix, h->plen,
		    h->width);
		h->marker[0] = '\0';
	} else {
		wrap_words(&h->out, s, n, first, h->plen, h->prefix, h->plen, h->width);
	}
	buf_reset(&h->para);
}

/* Inline text, whitespace collapsed to single spaces. */
static void
add_inline(struct h2t *h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			if (h->para.len == 0 || h->para.data[h->para.len - 1] == ' ' ||
			    h->para.data[h->para.len - 1] == '\n')
				continue;
			c = ' ';
		}
		buf_addc(&h->para, c);
	}
}

static void
block(struct h2t *h, bool blank)
{
	flush_para(h);
	if (blank && h->out.len)
		h->blank = true;
}

static bool
prefix_push(struct h2t *h, const char *p)
{
	size_t n = strlen(p);

	if (h->plen + n >= MAX_PREFIX)
		return false;
	memcpy(h->prefix + h->plen, p, n);
	h->plen += n;
	return true;
}

static bool
is(const xmlNode *n, const char *name)
{
	return strcmp((const char *)n->name, name) == 0;
}

static void walk(struct h2t *h, xmlNode *n, int depth);

static void
walk_kids(struct h2t *h, xmlNode *n, int depth)
{
	for (xmlNode *k = n->children; k; k = k->next)
		walk(h, k, depth + 1);
}

static void
pre(struct h2t *h, xmlNode *n)
{
	xmlChar *txt = xmlNodeGetContent(n);
	const char *s = (const char *)txt, *end;

	block(h, true);
	if (s == NULL)
		return;
	if (*s == '\n')
		s++;		/* HTML drops a newline right after <pre> */
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	if (end > s) {
		if (h->blank)
			blank_line(h);
		h->blank = true;
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *stop = nl ? nl : end;

		buf_add(&h->out, h->prefix, h->plen);
		buf_add(&h->out, s, (size_t)(stop - s));
		buf_addc(&h->out, '\n');
		s = nl ? nl + 1 : end;
	}
	xmlFree(txt);
}

static void
list(struct h2t *h, xmlNode *n, bool ordered, int depth)
{
	long num = 1;
	size_t saved = h->plen;
	xmlChar *start = xmlGetProp(n, (const xmlChar *)"start");

	if (start) {
		long v = strtol((const char *)start, NULL, 10);

		if (v > 0 && v < 1000000)
			num = v;
		xmlFree(start);
	}
	block(h, h->plen == 0);
	for (xmlNode *k = n->children; k; k = k->next) {
		char marker[32];

		if (k->type != XML_ELEMENT_NODE || !is(k, "li")) {
			walk(h, k, depth + 1);
			continue;
		}
		flush_para(h);
		if (ordered)
			snprintf(marker, sizeof(marker), "%ld. ", num++);
		else
			snprintf(marker, sizeof(marker), "* ");
		if (!prefix_push(h, ordered ? (strlen(marker) > 4 ? "     " : "    ") :
		    "  "))
			continue;
		/* the marker replaces the last strlen(marker) columns of indentation */
		if (strlen(marker) <= h->plen)
			memcpy(h->marker, marker, strlen(marker) + 1);
		walk_kids(h, k, depth + 1);
		flush_para(h);
		h->marker[0] = '\0';
		h->plen = saved;
	}
	h->plen = saved;
	block(h, h->plen == 0);
}

static void
link(struct h2t *h, xmlNode *n, int depth)
{
	xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
	size_t before = h->para.len;

	walk_kids(h, n, depth + 1);
	if (h->para.len < before)
		before = h->para.len;	/* a block inside the link flushed the paragraph */
	if (href && h->links && *href && *href != '#') {
		const char *u = (const char *)href;
		size_t tl = h->para.len - before;
		const char *t = h->para.data ? h->para.data + before : "";

		while (tl && *t == ' ') {
			t++;
			tl--;
		}
		while (tl && t[tl - 1] == ' ')
			tl--;
		if (strncmp(u, "mailto:", 7) == 0 && strlen(u + 7) == tl &&
		    memcmp(u + 7, t, tl) == 0) {
			/* the address is already there */
		} else if (strlen(u) == tl && memcmp(u, t, tl) == 0) {
			/* the URL is its own text */
		} else if (h->links->max && h->links->n >= h->links->max) {
			h->links->dropped++;	/* the text stays, unreferenced */
		} else {
			struct html2text_links *l = h->links;

			if (l->n == l->cap) {
				l->cap = l->cap ? l->cap * 2 : 8;
				l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
			}
			l->v[l->n++] = xstrdup(u);
			if (h->para.len && h->para.data[h->para.len - 1] == ' ')
				h->para.len--;
			buf_printf(&h->para, " [%zu]", l->n);
		}
	}
	xmlFree(href);
}

static void
walk(struct h2t *h, xmlNode *n, int depth)
{
	if (depth > MAX_DEPTH)
		return;
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content)
			add_inline(h, (const char *)n->content, strlen((const char *)n->content));
		return;
	}
	if (n->type != XML_ELEMENT_NODE) {
		if (n->type == XML_DOCUMENT_NODE || n->type == XML_HTML_DOCUMENT_NODE)
			walk_kids(h, n, depth);
		return;
	}
	if (is(n, "script") || is(n, "style") || is(n, "head") || is(n, "title") ||
	    is(n, "template")) {
		return;
	} else if (is(n, "p") || is(n, "table") || is(n, "figure") || is(n, "dl") ||
	    is(n, "address") || is(n, "section") || is(n, "article") ||
	    is(n, "header") || is(n, "footer") || is(n, "aside")) {
		block(h, true);
		walk_kids(h, n, depth);
		block(h, true);
	} else if (is(n, "div") || is(n, "tr") || is(n, "dt") || is(n, "dd") ||
	    is(n, "figcaption") || is(n, "caption") || is(n, "li")) {
		block(h, false);
		walk_kids(h, n, depth);
		block(h, false);
	} else if (n->name[0] == 'h' && n->name[1] >= '1' && n->name[1] <= '6' &&
	    n->name[2] == '\0') {
		block(h, true);
		for (int i = 0; i < n->name[1] - '0'; i++)
			buf_addc(&h->para, '#');
		buf_addc(&h->para, ' ');
		walk_kids(h, n, depth);
		block(h, true);
	} else if (is(n, "blockquote")) {
		size_t saved = h->plen;

		block(h, true);
		if (prefix_push(h, "> "))
			walk_kids(h, n, depth);
		block(h, true);
		h->plen = saved;
	} else if (is(n, "pre")) {
		pre(h, n);
	} else if (is(n, "ul") || is(n, "ol")) {
		list(h, n, is(n, "ol"), depth);
	} else if (is(n, "br")) {
		buf_addc(&h->para, '\n');
	} else if (is(n, "hr")) {
		block(h, true);
		add_inline(h, "* * *", 5);
		block(h, true);
	} else if (is(n, "a")) {
		link(h, n, depth);
	} else if (is(n, "img")) {
		xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");

		if (alt && *alt) {
			add_inline(h, " [", 2);
			add_inline(h, (const char *)alt, strlen((const char *)alt));
			add_inline(h, "] ", 2);
		}
		xmlFree(alt);
	} else if (is(n, "td") || is(n, "th")) {
		walk_kids(h, n, depth);
		add_inline(h, "  ", 2);
	} else {
		walk_kids(h, n, depth);
	}
}

char *
html2text(const char *html, size_t len, size_t width, struct html2text_links *links)
{
	struct h2t h;
	htmlDocPtr doc;

	memset(&h, 0, sizeof(h));
	h.width = width ? width : HTML2TEXT_WIDTH;
	h.links = links;
	if (len == 0 || len > INT32_MAX)
		return xstrdup("");
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
	    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	    HTML_PARSE_NONET);
	if (doc == NULL)
		return xstrdup("");
	walk(&h, (xmlNode *)doc, 0);
	flush_para(&h);
	xmlFreeDoc(doc);
	buf_free(&h.para);
	while (h.out.len && (h.out.data[h.out.len - 1] == '\n' ||
	    h.out.data[h.out.len - 1] == ' '))
		h.out.len--;
	if (h.out.data)
		h.out.data[h.out.len] = '\0';
	return buf_take(&h.out);
}

void
html2text_links_free(struct html2text_links *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void
html2text_wrap(struct buf *out, const char *text, size_t len, size_t width)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		size_t n = (size_t)(stop - p), pl = 0;

		if (html2text_width(p, n) <= width) {
			buf_add(out, p, n);
		} else {
			/* keep the indentation and quote markers on every line */
			while (pl < n && (p[pl] == ' ' || p[pl] == '>'))
				pl++;
			if (pl > MAX_PREFIX)
				pl = 0;
			wrap_words(out, p + pl, n - pl, p, pl, p, pl, width);
			out->len--;	/* wrap_words ends with '\n' */
			out->data[out->len] = '\0';
		}
		if (nl)
			buf_addc(out, '\n');
		p = nl ? nl + 1 : end;
	}
}
