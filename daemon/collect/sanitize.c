/*
 * sanitize: allowlist HTML sanitiser on libxml2's HTML parser.
 *
 * The input is parsed as an HTML fragment (wrapped in a <div> so that
 * leading text is not given an implied <p>), then the tree is walked
 * iteratively (no recursion, so hostile nesting cannot exhaust the stack)
 * and only allowed elements and attributes are written out again, escaped.
 * Elements that are not allowed lose their tags but keep their text, except
 * the ones whose content is code or chrome (script, style, iframe, forms...)
 * which are dropped whole.  Plain, well-nested HTML skips the parser:
 * sanitize_fast.c writes the same bytes in one pass (sanitize_int.h).
 */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "html.h"
#include "sanitize.h"
#include "sanitize_int.h"
#include "url.h"
#include "util.h"
#include "xmalloc.h"

#define SAN_OPTIONS	(HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_IGNORE_ENC | \
			 HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER)
#define SAN_WRAP_OPEN	"<div>"

static const struct element elements[] = {
	{ "a", EL_KEEP, AT_LINK },
	{ "abbr", EL_KEEP, AT_NONE },
	{ "applet", EL_DROP, AT_NONE },
	{ "audio", EL_DROP, AT_NONE },
	{ "b", EL_KEEP, AT_NONE },
	{ "base", EL_DROP, AT_NONE },
	{ "blockquote", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "br", EL_KEEP | EL_VOID | EL_BLOCK, AT_NONE },
	{ "button", EL_DROP, AT_NONE },
	{ "canvas", EL_DROP, AT_NONE },
	{ "caption", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "cite", EL_KEEP, AT_NONE },
	{ "code", EL_KEEP, AT_NONE },
	{ "datalist", EL_DROP, AT_NONE },
	{ "dd", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "del", EL_KEEP, AT_NONE },
	{ "dialog", EL_DROP, AT_NONE },
	{ "div", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "dl", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "dt", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "em", EL_KEEP, AT_NONE },
	{ "embed", 0, AT_NONE },		/* void in HTML5: the parser nests what follows */
	{ "figcaption", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "figure", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "form", EL_DROP, AT_NONE },
	{ "frame", EL_DROP, AT_NONE },
	{ "frameset", EL_DROP, AT_NONE },
	{ "h1", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "h2", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "h3", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "h4", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "h5", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "h6", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "head", EL_DROP, AT_NONE },
	{ "hr", EL_KEEP | EL_VOID | EL_BLOCK, AT_NONE },
	{ "i", EL_KEEP, AT_NONE },
	{ "iframe", EL_DROP, AT_NONE },
	{ "img", EL_KEEP | EL_VOID, AT_IMG },
	{ "input", EL_DROP, AT_NONE },
	{ "ins", EL_KEEP, AT_NONE },
	{ "kbd", EL_KEEP, AT_NONE },
	{ "li", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "link", EL_DROP, AT_NONE },
	{ "map", EL_DROP, AT_NONE },
	{ "mark", EL_KEEP, AT_NONE },
	{ "math", 0, AT_NONE },		/* its text is kept: a+b */
	{ "meta", EL_DROP, AT_NONE },
	{ "noembed", EL_DROP, AT_NONE },
	{ "noframes", EL_DROP, AT_NONE },
	{ "noscript", EL_DROP, AT_NONE },
	{ "object", EL_DROP, AT_NONE },
	{ "ol", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "option", EL_DROP, AT_NONE },
	{ "p", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "param", EL_DROP, AT_NONE },
	{ "picture", 0, AT_NONE },
	{ "pre", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "q", EL_KEEP, AT_NONE },
	{ "s", EL_KEEP, AT_NONE },
	{ "samp", EL_KEEP, AT_NONE },
	{ "script", EL_DROP, AT_NONE },
	{ "select", EL_DROP, AT_NONE },
	{ "small", EL_KEEP, AT_NONE },
	{ "source", 0, AT_NONE },		/* void in HTML5: the parser nests what follows */
	{ "span", EL_KEEP, AT_NONE },
	{ "strike", EL_KEEP, AT_NONE },
	{ "strong", EL_KEEP, AT_NONE },
	{ "style", EL_DROP, AT_NONE },
	{ "sub", EL_KEEP, AT_NONE },
	{ "sup", EL_KEEP, AT_NONE },
	{ "svg", 0, AT_NONE },		/* its text is kept: <title>, <desc>, <text> */
	{ "table", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "tbody", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "td", EL_KEEP | EL_BLOCK, AT_CELL },
	{ "template", EL_DROP, AT_NONE },
	{ "textarea", EL_DROP, AT_NONE },
	{ "tfoot", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "th", EL_KEEP | EL_BLOCK, AT_CELL },
	{ "thead", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "title", EL_DROP, AT_NONE },
	{ "tr", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "track", 0, AT_NONE },		/* void in HTML5: the parser nests what follows */
	{ "tt", EL_KEEP, AT_NONE },
	{ "u", EL_KEEP, AT_NONE },
	{ "ul", EL_KEEP | EL_BLOCK, AT_NONE },
	{ "var", EL_KEEP, AT_NONE },
	{ "video", EL_DROP, AT_NONE },
	{ "xmp", EL_DROP, AT_NONE },
};

static int
element_cmp(const void *key, const void *el)
{
	return strcmp(key, ((const struct element *)el)->name);
}

const struct element *
sanitize_el_find(const xmlChar *name)
{
	if (name == NULL)
		return NULL;
	return bsearch(name, elements, sizeof(elements) / sizeof(elements[0]),
	    sizeof(elements[0]), element_cmp);
}

/*
 * A new absolute URL for an <a href> (http, https or mailto) or an <img
 * src> (https only), or NULL to drop it.  A URL that is not http(s) at
 * all is counted in sc for the caller's report; an http image is not (it
 * is a link, only not one an email client should load).
 */
static char *
safe_url(struct sanitize_ctx *sc, const char *value, const char *base,
    bool image)
{
	char *abs = url_resolve(base, value);
	bool ok;

	if (abs == NULL)
		return NULL;
	if (image)
		ok = url_is_web(abs, false) && ascii_ncasecmp(abs, "https:", 6) == 0;
	else
		ok = url_is_web(abs, true);
	if (ok)
		return abs;
	if (sc != NULL && !(image && url_is_web(abs, false))) {
		if (sc->dropped++ == 0) {
			sc->dropped_first = abs;
			sc->dropped_image = image;
			return NULL;
		}
	}
	free(abs);
	return NULL;
}

static bool
all_digits(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static const char *const img_text[] = { "alt", "title" };
static const char *const img_num[] = { "width", "height" };
static const char *const cell[] = { "colspan", "rowspan" };

static void
put_attr(struct buf *b, const char *name, const char *value)
{
	buf_addc(b, ' ');
	buf_adds(b, name);
	buf_adds(b, "=\"");
	html_escape_str(b, value, HTML_ESC_ATTR);
	buf_addc(b, '"');
}

static char *
attr_get(xmlNode *n, const char *name)
{
	for (xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (a->ns == NULL && ascii_casecmp((const char *)a->name, name) == 0) {
			xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
			char *r = xstrdup(v != NULL ? (const char *)v : "");

			xmlFree(v);
			return r;
		}
	return NULL;
}

static char *
src_get(const struct attr_src *as, const char *name)
{
	if (as->node != NULL)
		return attr_get(as->node, name);
	for (size_t i = 0; i < as->n; i++)
		if (as->namelen[i] == strlen(name) &&
		    memcmp(as->name[i], name, as->namelen[i]) == 0)
			return xstrdup(as->value[i]);
	return NULL;
}

/*
 * Writes the start tag of an allowed element.  Returns false when the
 * element must not be written at all (an <a> without a usable href keeps
 * only its text; an <img> without an https src is dropped).
 */
bool
sanitize_open_tag(struct sanitize_ctx *sc, struct buf *b,
    const struct element *el, const struct attr_src *n, const char *base)
{
	char *v, *url;

	switch (el->attrs) {
	case AT_LINK:
		if ((v = src_get(n, "href")) == NULL)
			return false;
		url = safe_url(sc, v, base, false);
		free(v);
		if (url == NULL)
			return false;
		buf_adds(b, "<a");
		put_attr(b, "href", url);
		free(url);
		if ((v = src_get(n, "title")) != NULL)
			put_attr(b, "title", v);
		free(v);
		buf_addc(b, '>');
		return true;
	case AT_IMG:
		if ((v = src_get(n, "src")) == NULL)
			return false;
		url = safe_url(sc, v, base, true);
		free(v);
		if (url == NULL)
			return false;
		buf_adds(b, "<img");
		put_attr(b, "src", url);
		free(url);
		for (size_t i = 0; i < 2; i++) {
			if ((v = src_get(n, img_text[i])) != NULL)
				put_attr(b, img_text[i], v);
			free(v);
		}
		for (size_t i = 0; i < 2; i++) {
			if ((v = src_get(n, img_num[i])) != NULL &&
			    all_digits(v, 5))
				put_attr(b, img_num[i], v);
			free(v);
		}
		buf_addc(b, '>');
		return true;
	case AT_CELL:
		buf_addc(b, '<');
		buf_adds(b, el->name);
		for (size_t i = 0; i < 2; i++) {
			if ((v = src_get(n, cell[i])) != NULL && all_digits(v, 3))
				put_attr(b, cell[i], v);
			free(v);
		}
		buf_addc(b, '>');
		return true;
	case AT_NONE:
		break;
	}
	buf_addc(b, '<');
	buf_adds(b, el->name);
	buf_addc(b, '>');
	return true;
}

/* The node the walk starts under: the <div> we wrapped the input in. */
static xmlNode *
wrapper_of(htmlDocPtr doc)
{
	xmlNode *root = xmlDocGetRootElement(doc), *n;

	if (root == NULL)
		return NULL;
	for (n = root->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrcmp(n->name, BAD_CAST "body") == 0)
			break;
	if (n == NULL)
		return root;
	for (xmlNode *c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return xmlStrcmp(c->name, BAD_CAST "div") == 0 ? c : n;
	return n;
}

/* Marks kept on nodes during one walk (node->_private). */
#define MARK_OPEN	((void *)1)
#define MARK_LABEL	((void *)2)	/* an SVG <title>/<desc>: spaced text */

/*
 * An <svg>, its <title> or <desc>: their text is kept as words of their own (a
 * chart's "Sales" and "Up 5%"), as feedparser keeps them; an HTML <title>
 * is dropped.
 */
static bool
svg_label(const xmlNode *n)
{
	if (xmlStrcmp(n->name, BAD_CAST "svg") == 0)
		return true;	/* a picture: its text is not the next word's */
	if (xmlStrcmp(n->name, BAD_CAST "title") != 0 &&
	    xmlStrcmp(n->name, BAD_CAST "desc") != 0)
		return false;
	for (const xmlNode *p = n->parent; p != NULL &&
	    p->type == XML_ELEMENT_NODE; p = p->parent)
		if (xmlStrcmp(p->name, BAD_CAST "svg") == 0)
			return true;
	return false;
}

/*
 * Walks the whole document in order: the wrapper <div>'s tags are not
 * written, its siblings (text after an unbalanced </div>) are.
 */
static void
walk(struct sanitize_ctx *sc, htmlDocPtr doc, const char *base,
    struct buf *out, bool text_only)
{
	xmlNode *top = xmlDocGetRootElement(doc), *wrap = wrapper_of(doc), *n;

	if (top == NULL)
		return;
	n = top;
	while (n != NULL) {
		bool descend = false;

		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content != NULL) {
				if (text_only)
					buf_adds(out, (const char *)n->content);
				else
					html_escape_str(out, (const char *)n->content,
					    HTML_ESC_TEXT);
			}
		} else if (n->type == XML_ELEMENT_NODE) {
			const struct element *el = sanitize_el_find(n->name);

			n->_private = NULL;
			if (svg_label(n)) {
				buf_addc(out, ' ');
				n->_private = MARK_LABEL;
				descend = true;
			} else if (n == wrap || el == NULL ||
			    !(el->flags & (EL_KEEP | EL_DROP))) {
				descend = true;		/* tag dropped, text kept */
			} else if (el->flags & EL_DROP) {
				descend = false;
			} else {
				descend = !(el->flags & EL_VOID);
				if (text_only) {
					if (el->flags & EL_BLOCK)
						buf_addc(out, ' ');
					if (strcmp(el->name, "img") == 0) {
						char *alt = attr_get(n, "alt");

						if (alt != NULL)
							buf_adds(out, alt);
						free(alt);
					}
				} else {
					struct attr_src as = { .node = n };

					if (sanitize_open_tag(sc, out, el, &as, base) &&
					    !(el->flags & EL_VOID))
						n->_private = MARK_OPEN;
				}
			}
		}
		if (descend && n->children != NULL) {
			n = n->children;
			continue;
		}
		/* Leave n, then every ancestor whose children are done. */
		for (;;) {
			if (n->type == XML_ELEMENT_NODE) {
				if (n->_private == MARK_OPEN) {
					buf_adds(out, "</");
					buf_adds(out, (const char *)n->name);
					buf_addc(out, '>');
					n->_private = NULL;
				} else if (n->_private == MARK_LABEL) {
					buf_addc(out, ' ');
					n->_private = NULL;
				} else if (text_only) {
					const struct element *el = sanitize_el_find(n->name);

					if (el != NULL && (el->flags & EL_BLOCK))
						buf_addc(out, ' ');
				}
			}
			if (n == top) {
				n = NULL;
				break;
			}
			if (n->next != NULL) {
				n = n->next;
				break;
			}
			n = n->parent;
			if (n == NULL)
				break;
		}
	}
}

/*
 * Whether s holds only characters libxml2's HTML parser keeps as they are:
 * valid UTF-8, no control characters but tab and line feed (it drops the
 * others, and CR is its own case), no U+FFFE / U+FFFF (not XML
 * characters: dropped too).
 */
bool
sanitize_chars_kept(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 && c != '\n' && c != '\t')
			return false;
		if (c == 0x7f)
			return false;
		if (c == 0xef && i + 2 < len && (unsigned char)s[i + 1] == 0xbf &&
		    ((unsigned char)s[i + 2] == 0xbe || (unsigned char)s[i + 2] == 0xbf))
			return false;
	}
	return utf8_valid(s, len);
}

/*
 * Text without markup or references (and without characters the parser
 * would drop or treat specially) comes out of the parser unchanged.
 */
static bool
plain_text(const char *s, size_t len)
{
	if (memchr(s, '<', len) != NULL || memchr(s, '&', len) != NULL)
		return false;
	return sanitize_chars_kept(s, len);
}

struct sanitize_ctx *
sanitize_ctx_new(void)
{
	struct sanitize_ctx *sc = xcalloc(1, sizeof(*sc));

	buf_init(&sc->in, 0);
	buf_init(&sc->vals, 0);
	return sc;
}

void
sanitize_ctx_free(struct sanitize_ctx *sc)
{
	if (sc == NULL)
		return;
	if (sc->html != NULL)
		htmlFreeParserCtxt(sc->html);
	free(sc->dropped_first);
	buf_free(&sc->in);
	buf_free(&sc->vals);
	free(sc);
}

static htmlDocPtr
parse_fragment(struct sanitize_ctx *sc, const char *html, size_t len)
{
	buf_reset(&sc->in);
	buf_adds(&sc->in, SAN_WRAP_OPEN);
	buf_add(&sc->in, html, len);
	if (sc->in.len > INT_MAX)
		return NULL;
	if (sc->html == NULL && (sc->html = htmlNewParserCtxt()) == NULL)
		return NULL;
	/* UTF-8 always; IGNORE_ENC: a <meta charset> in content cannot switch it. */
	return htmlCtxtReadMemory(sc->html, sc->in.data, (int)sc->in.len, NULL,
	    "UTF-8", SAN_OPTIONS);
}

/* The fuzz target turns the fast path off to compare both ways. */
static bool
fast_ok(const struct sanitize_ctx *sc)
{
	return !sc->no_fast;
}


/* The fast path; what it counted is forgotten when it gives up. */
static bool
fast_try(struct sanitize_ctx *sc, const char *s, size_t len, const char *base,
    struct buf *out)
{
	size_t dropped = sc->dropped;

	if (sanitize_fast_write(sc, s, len, base, out))
		return true;
	if (dropped == 0) {
		free(sc->dropped_first);
		sc->dropped_first = NULL;
	}
	sc->dropped = dropped;
	return false;
}

char *
sanitize_html_in(struct sanitize_ctx *sc, const char *html, size_t len,
    const char *base_url)
{
	struct buf out = BUF_INIT;
	htmlDocPtr doc;

	if (html == NULL || len == 0)
		return xstrdup("");
	if (fast_ok(sc) && plain_text(html, len)) {
		/* Nothing to parse: what the walk would write, without the parse. */
		char *t = xstrndup(html, len);

		html_escape_str(&out, t, HTML_ESC_TEXT);
		free(t);
	} else if (fast_ok(sc) && fast_try(sc, html, len, base_url, &out)) {
		/* Written without a tree. */
	} else if ((buf_reset(&out), doc = parse_fragment(sc, html, len)) != NULL) {
		walk(sc, doc, base_url, &out, false);
		xmlFreeDoc(doc);
	}
	/* Trim the whitespace the input had around its markup. */
	{
		char *s = buf_take(&out), *p = s;
		size_t n;

		while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			p++;
		n = strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\n' ||
		    p[n - 1] == '\r' || p[n - 1] == '\t'))
			n--;
		memmove(s, p, n);
		s[n] = '\0';
		return s;
	}
}

size_t
sanitize_ctx_dropped(struct sanitize_ctx *sc, char **first, bool *image)
{
	size_t n = sc->dropped;

	*first = sc->dropped_first;
	*image = sc->dropped_image;
	sc->dropped_first = NULL;
	sc->dropped = 0;
	return n;
}

void
sanitize_ctx_fast(struct sanitize_ctx *sc, int on)
{
	sc->no_fast = !on;
}

char *
sanitize_html(const char *html, size_t len, const char *base_url)
{
	struct sanitize_ctx *sc = sanitize_ctx_new();
	char *r = sanitize_html_in(sc, html, len, base_url);

	sanitize_ctx_free(sc);
	return r;
}

/* Collapses runs of ASCII whitespace (and U+00A0) into one space, trims. */
char *
sanitize_collapse(const char *s)
{
	size_t n = strlen(s);
	char *r = xmalloc(n + 1), *w = r;
	bool space = true;	/* drops leading space */

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f' || c == '\v') {
			if (!space)
				*w++ = ' ';
			space = true;
			continue;
		}
		if (c == 0xc2 && (unsigned char)s[i + 1] == 0xa0) {
			if (!space)
				*w++ = ' ';
			space = true;
			i++;
			continue;
		}
		*w++ = (char)c;
		space = false;
	}
	if (w > r && w[-1] == ' ')
		w--;
	*w = '\0';
	return r;
}

char *
sanitize_text_in(struct sanitize_ctx *sc, const char *html, size_t len)
{
	struct buf out = BUF_INIT;
	htmlDocPtr doc;
	char *raw, *r;

	if (html == NULL || len == 0)
		return xstrdup("");
	if (fast_ok(sc) && plain_text(html, len)) {
		char *t = xstrndup(html, len);

		r = sanitize_collapse(t);
		free(t);
		return r;
	}
	if ((doc = parse_fragment(sc, html, len)) != NULL) {
		walk(sc, doc, NULL, &out, true);
		xmlFreeDoc(doc);
	}
	raw = buf_take(&out);
	r = sanitize_collapse(raw);
	free(raw);
	return r;
}

char *
sanitize_text(const char *html, size_t len)
{
	struct sanitize_ctx *sc = sanitize_ctx_new();
	char *r = sanitize_text_in(sc, html, len);

	sanitize_ctx_free(sc);
	return r;
}
