/*
 * feed: RSS 0.9x/2.0, RSS 1.0 (RDF), Atom 1.0 and 0.3 into struct feed.
 *
 * The bytes go through four steps, one file each:
 *   1. decoding into UTF-8 (feed_decode.c);
 *   2. repair of what feeds get wrong about XML (feed_repair.c);
 *   3. libxml2 in recovery mode, without network, DTD loading or entity
 *      substitution; a reported entity loop (billion laughs) refuses the
 *      document (here);
 *   4. the document measured with its entity references replaced, and
 *      refused past FEED_MAX_EXPANDED (feed_expand.c).
 * Then this file maps the elements, walking the tree once: elements are
 * matched by namespace URI, falling back to the conventional prefix when a
 * feed forgot or misspelt its namespace declarations.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "buf.h"
#include "date.h"
#include "feed.h"
#include "feed_int.h"
#include "html.h"
#include "sanitize.h"
#include "url.h"
#include "util.h"
#include "xmalloc.h"

#define FEED_XML_OPTIONS	(XML_PARSE_NONET | XML_PARSE_RECOVER | \
				 XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
				 XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC | \
				 XML_PARSE_COMPACT)
/* Walking element content: libxml2 stops a document at 256 levels itself
 * (without XML_PARSE_HUGE), so this only guards the recursion. */
#define FEED_MAX_DEPTH		300
#define FEED_XML_MAX_DEPTH	256	/* libxml2's xmlParserMaxDepth */
#define FEED_MAX_BASES		32	/* nested xml:base honoured */

/* ------------------------------------------------------------ XML parsing */

struct parse_errors {
	int	 code;		/* the first error */
	int	 line, col;
	char	 msg[160];
	bool	 entity_loop;
	int	 loop_line, loop_col;
	bool	 too_deep;	/* libxml2 stopped at its depth limit */
	int	 deep_line;
};

static void
on_xml_error(void *arg, xmlErrorPtr e)
{
	struct parse_errors *pe = arg;

	if (e == NULL || e->level < XML_ERR_ERROR)
		return;
	if (e->code == XML_ERR_INTERNAL_ERROR && e->message != NULL &&
	    strstr(e->message, "Excessive depth") != NULL && !pe->too_deep) {
		pe->too_deep = true;
		pe->deep_line = e->line;
	}
	if (e->code == XML_ERR_ENTITY_LOOP && !pe->entity_loop) {
		pe->entity_loop = true;
		pe->loop_line = e->line;
		pe->loop_col = e->int2;
	}
	if (pe->code != 0)
		return;
	pe->code = e->code;
	pe->line = e->line;
	pe->col = e->int2;
	snprintf(pe->msg, sizeof(pe->msg), "%s",
	    e->message != NULL ? e->message : "parse error");
	/* libxml2 messages end with a newline. */
	for (size_t l = strlen(pe->msg); l > 0 && (pe->msg[l - 1] == '\n' ||
	    pe->msg[l - 1] == ' '); l--)
		pe->msg[l - 1] = '\0';
}

/* ------------------------------------------------------------ namespaces */

enum ns {
	NS_OTHER = 0,
	NS_CORE,	/* RSS (none, 0.90, 1.0, userland) and Atom 1.0/0.3 */
	NS_DC,
	NS_DCTERMS,
	NS_CONTENT,
	NS_ITUNES,
	NS_MEDIA,
	NS_RDF,
	NS_XHTML,
	NS_XML,
};

struct ns_map {
	const char	*uri;
	const char	*prefix;
	enum ns		 ns;
};

static const struct ns_map ns_uris[] = {
	{ "http://www.w3.org/2005/Atom", "atom", NS_CORE },
	{ "http://purl.org/atom/ns#", "atom03", NS_CORE },
	{ "http://purl.org/rss/1.0/", "rss", NS_CORE },
	{ "http://my.netscape.com/rdf/simple/0.9/", "rss09", NS_CORE },
	{ "http://backend.userland.com/rss2", "rss2", NS_CORE },
	{ "http://blogs.law.harvard.edu/tech/rss", "rss2h", NS_CORE },
	{ "http://purl.org/dc/elements/1.1/", "dc", NS_DC },
	{ "http://purl.org/dc/elements/1.0/", "dc", NS_DC },
	{ "http://purl.org/dc/terms/", "dcterms", NS_DCTERMS },
	{ "http://purl.org/rss/1.0/modules/content/", "content", NS_CONTENT },
	{ "http://www.itunes.com/dtds/podcast-1.0.dtd", "itunes", NS_ITUNES },
	{ "http://www.itunes.com/DTDs/Podcast-1.0.dtd", "itunes", NS_ITUNES },
	{ "http://search.yahoo.com/mrss/", "media", NS_MEDIA },
	{ "http://search.yahoo.com/mrss", "media", NS_MEDIA },
	{ "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdf", NS_RDF },
	{ "http://www.w3.org/1999/xhtml", "xhtml", NS_XHTML },
	{ "http://www.w3.org/XML/1998/namespace", "xml", NS_XML },
};

static const struct ns_map ns_prefixes[] = {
	{ NULL, "atom", NS_CORE }, { NULL, "atom03", NS_CORE },
	{ NULL, "rss", NS_CORE }, { NULL, "dc", NS_DC },
	{ NULL, "dcterms", NS_DCTERMS }, { NULL, "content", NS_CONTENT },
	{ NULL, "itunes", NS_ITUNES }, { NULL, "media", NS_MEDIA },
	{ NULL, "rdf", NS_RDF }, { NULL, "xhtml", NS_XHTML },
	{ NULL, "html", NS_XHTML }, { NULL, "xml", NS_XML },
};

static enum ns
ns_of_prefix(const char *prefix, size_t n)
{
	for (size_t i = 0; i < sizeof(ns_prefixes) / sizeof(ns_prefixes[0]); i++)
		if (strlen(ns_prefixes[i].prefix) == n &&
		    ascii_ncasecmp(prefix, ns_prefixes[i].prefix, n) == 0)
			return ns_prefixes[i].ns;
	return NS_OTHER;
}

/* The namespace class and local name of an element (or attribute). */
static enum ns
node_ns(const xmlNs *ns, const xmlChar *qname, const char **local)
{
	const char *name = (const char *)qname, *colon;

	*local = name;
	if (ns != NULL && ns->href != NULL) {
		const char *href = (const char *)ns->href;
		enum ns r;

		/* The class is cached on the declaration (the tree is ours). */
		if (ns->_private != NULL)
			return (enum ns)((uintptr_t)ns->_private - 1);
		r = ns->prefix == NULL ? NS_CORE :	/* unknown default */
		    ns_of_prefix((const char *)ns->prefix,
		    strlen((const char *)ns->prefix));
		for (size_t i = 0; i < sizeof(ns_uris) / sizeof(ns_uris[0]); i++)
			if (ascii_casecmp(href, ns_uris[i].uri) == 0) {
				r = ns_uris[i].ns;
				break;
			}
		((xmlNs *)(uintptr_t)ns)->_private = (void *)((uintptr_t)r + 1);
		return r;
	}
	/* No namespace: maybe an unbound prefix kept in the name. */
	if (name != NULL && (colon = strchr(name, ':')) != NULL) {
		*local = colon + 1;
		return ns_of_prefix(name, (size_t)(colon - name));
	}
	return NS_CORE;
}

static enum ns
el_ns(const xmlNode *n, const char **local)
{
	return node_ns(n->ns, n->name, local);
}

static bool
el_is(const xmlNode *n, enum ns want, const char *name)
{
	const char *local;

	return n->type == XML_ELEMENT_NODE && el_ns(n, &local) == want &&
	    local != NULL && ascii_casecmp(local, name) == 0;
}

/* The value of attribute name in namespace class want (NS_CORE: none). */
static const char *
attr(const xmlNode *n, enum ns want, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		const char *local;
		enum ns ns = a->ns != NULL ? node_ns(a->ns, a->name, &local) :
		    node_ns(NULL, a->name, &local);

		if (ns == want && ascii_casecmp(local, name) == 0) {
			if (a->children != NULL && a->children->next == NULL &&
			    a->children->type == XML_TEXT_NODE)
				return (const char *)a->children->content;
			return "";
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ text helpers */

/* Appends the text of n's children; entity references expanded (bounded). */
static void
node_text(const xmlNode *n, struct buf *out, int depth)
{
	if (depth > FEED_MAX_DEPTH)
		return;
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		switch (c->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (c->content != NULL)
				buf_adds(out, (const char *)c->content);
			break;
		case XML_ELEMENT_NODE:
			node_text(c, out, depth + 1);
			break;
		case XML_ENTITY_REF_NODE:
			if (c->children != NULL &&
			    c->children->type == XML_ENTITY_DECL)
				node_text(c->children, out, depth + 4);
			break;
		default:
			break;
		}
	}
}

static char *
text_of(const xmlNode *n)
{
	struct buf b;

	buf_init(&b, FEED_MAX_SIZE);
	node_text(n, &b, 0);
	return buf_take(&b);
}

static char *
trimmed_text(const xmlNode *n)
{
	char *t = text_of(n), *r = sanitize_collapse(t);

	free(t);
	return r;
}

static bool
html_void(const char *name)
{
	static const char *const v[] = { "br", "hr", "img", "wbr", "col",
	    "area", "input", "meta", "link", "param", "source" };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (ascii_casecmp(name, v[i]) == 0)
			return true;
	return false;
}

/* Serialises n's children as HTML (local names, attributes escaped). */
static void
node_html(const xmlNode *n, struct buf *out, int depth)
{
	if (depth > FEED_MAX_DEPTH)
		return;
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		const char *local;

		switch (c->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (c->content != NULL)
				html_escape_str(out, (const char *)c->content,
				    HTML_ESC_ATTR);
			break;
		case XML_ENTITY_REF_NODE:
			if (c->children != NULL &&
			    c->children->type == XML_ENTITY_DECL)
				node_html(c->children, out, depth + 4);
			break;
		case XML_ELEMENT_NODE:
			el_ns(c, &local);
			buf_printf(out, "<%s", local);
			for (const xmlAttr *a = c->properties; a != NULL; a = a->next) {
				const char *al;

				node_ns(a->ns, a->name, &al);
				buf_printf(out, " %s=\"", al);
				if (a->children != NULL) {
					struct buf v = BUF_INIT;

					node_text((const xmlNode *)a, &v, depth + 1);
					html_escape_str(out, buf_cstr(&v), HTML_ESC_ATTR);
					buf_free(&v);
				}
				buf_addc(out, '"');
			}
			buf_addc(out, '>');
			if (c->children == NULL && html_void(local))
				break;
			node_html(c, out, depth + 1);
			buf_printf(out, "</%s>", local);
			break;
		default:
			break;
		}
	}
}

/*
 * Whether plain text from an RSS title looks like escaped HTML, as
 * feedparser decides: it has an end tag or an entity reference.
 */
static bool
looks_like_html(const char *s)
{
	for (const char *p = s; (p = strpbrk(p, "<&")) != NULL; p++) {
		if (p[0] == '<' && p[1] == '/' && ((p[2] | 0x20) >= 'a' &&
		    (p[2] | 0x20) <= 'z'))
			return true;
		if (p[0] == '&') {
			const char *q = p + 1;

			if (*q == '#')
				q++;
			if (!((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') &&
			    !(*q >= '0' && *q <= '9'))
				continue;
			while (((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') ||
			    (*q >= '0' && *q <= '9'))
				q++;
			if (*q == ';')
				return true;
		}
	}
	return false;
}

enum text_type { TT_TEXT, TT_HTML, TT_XHTML, TT_BASE64 };

/* The type a media type names (Atom 1.0 and 0.3 type attributes). */
static enum text_type
media_type(const char *t, enum text_type dflt)
{
	size_t n;

	if (t == NULL || *t == '\0')
		return dflt;
	n = strlen(t);
	if (ascii_casecmp(t, "html") == 0 || ascii_casecmp(t, "text/html") == 0)
		return TT_HTML;
	if (ascii_casecmp(t, "xhtml") == 0 ||
	    ascii_casecmp(t, "application/xhtml+xml") == 0)
		return TT_XHTML;
	if (ascii_casecmp(t, "text") == 0 || ascii_ncasecmp(t, "text/", 5) == 0)
		return TT_TEXT;
	if ((n >= 4 && ascii_casecmp(t + n - 4, "+xml") == 0) ||
	    (n >= 4 && ascii_casecmp(t + n - 4, "/xml") == 0))
		return TT_XHTML;	/* XML in line: its children */
	/* RFC 4287 4.1.3.3: any other media type is base64. */
	return TT_BASE64;
}

/* The Atom type (or Atom 0.3 type + mode) of a text construct. */
static enum text_type
text_type(const xmlNode *n, enum text_type dflt)
{
	const char *mode = attr(n, NS_CORE, "mode");

	if (mode != NULL && ascii_casecmp(mode, "escaped") == 0)
		return TT_HTML;
	if (mode != NULL && ascii_casecmp(mode, "base64") == 0)
		return TT_BASE64;
	return media_type(attr(n, NS_CORE, "type"), dflt);
}

/* Base64 (whitespace ignored) into out; -1 when it is not base64. */
static int
base64_decode(const char *s, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0, pad = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int v;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return -1;	/* data after padding */
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return pad > 2 ? -1 : 0;
}

/*
 * The decoded text of a base64 text construct and, in *tt, what it is
 * (the type it names: html, text; another media type is read as HTML when
 * it looks like it).  NULL when it is not base64 or not UTF-8 text, as
 * feedparser then keeps it encoded and herald has nothing to show.
 */
static char *
base64_text(const xmlNode *n, enum text_type *tt)
{
	struct buf b;
	char *enc = text_of(n), *r = NULL;
	const char *t = attr(n, NS_CORE, "type");

	buf_init(&b, FEED_MAX_SIZE);
	if (base64_decode(enc, &b) == 0 && b.len > 0 &&
	    memchr(b.data, '\0', b.len) == NULL && utf8_valid(b.data, b.len)) {
		r = buf_take(&b);
		*tt = media_type(t, TT_TEXT);
		if (*tt == TT_BASE64 || *tt == TT_XHTML)
			*tt = looks_like_html(r) ? TT_HTML : TT_TEXT;
	}
	buf_free(&b);
	free(enc);
	return r;
}

static bool
has_element_child(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

/* XHTML content: the children of the wrapping div, serialised. */
static char *
xhtml_of(const xmlNode *n)
{
	struct buf b = BUF_INIT;
	const xmlNode *div = NULL;
	int elements = 0;

	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE) {
			elements++;
			div = c;
		}
	if (elements == 1 && div != NULL &&
	    xmlStrcmp(div->name, BAD_CAST "div") == 0)
		node_html(div, &b, 0);
	else
		node_html(n, &b, 0);
	return buf_take(&b);
}

/* A title-like element as plain text (tags stripped, entities decoded). */
static char *
title_of(struct sanitize_ctx *san, const xmlNode *n)
{
	enum text_type tt = text_type(n, TT_TEXT);
	char *raw, *r;

	if (tt == TT_BASE64) {
		if ((raw = base64_text(n, &tt)) == NULL)
			return xstrdup("");
		r = tt == TT_TEXT ? sanitize_collapse(raw) :
		    sanitize_text_in(san, raw, strlen(raw));
		free(raw);
		return r;
	}
	if (tt == TT_XHTML || has_element_child(n)) {
		raw = xhtml_of(n);
		r = sanitize_text_in(san, raw, strlen(raw));
	} else {
		raw = text_of(n);
		if (tt == TT_HTML || (attr(n, NS_CORE, "type") == NULL &&
		    looks_like_html(raw)))
			r = sanitize_text_in(san, raw, strlen(raw));
		else
			r = sanitize_collapse(raw);
	}
	free(raw);
	return r;
}

/* ------------------------------------------------------------ the walk */

struct parser {
	xmlDocPtr		 doc;
	const char		*doc_url;
	enum feed_kind		 kind;
	struct sanitize_ctx	*san;
	struct feed		*f;		/* for warnings */
};

/* The base URL in effect at n: nested xml:base over the document URL. */
static char *
base_of(const struct parser *ps, const xmlNode *n)
{
	const char *chain[FEED_MAX_BASES];
	size_t k = 0;
	char *base = xstrdup(ps->doc_url);

	for (const xmlNode *x = n; x != NULL && x->type == XML_ELEMENT_NODE;
	    x = x->parent) {
		const char *v = attr(x, NS_XML, "base");

		if (v != NULL && k < FEED_MAX_BASES)
			chain[k++] = v;
	}
	while (k > 0) {
		char *nb = url_resolve(base, chain[--k]);

		free(base);
		base = nb;
	}
	return base;
}

static char *
resolve_at(const struct parser *ps, const xmlNode *n, const char *ref)
{
	char *base = base_of(ps, n), *r = url_resolve(base, ref);

	free(base);
	return r;
}

/* Escaped plain text as HTML, whitespace collapsed; NULL when empty. */
static char *
text_as_html(const char *raw)
{
	struct buf b = BUF_INIT;
	char *r;

	html_escape_str(&b, raw, HTML_ESC_ATTR);
	r = sanitize_collapse(buf_cstr(&b));
	buf_free(&b);
	if (*r == '\0') {
		free(r);
		r = NULL;
	}
	return r;
}

/* Sanitised HTML for a summary/content element, or NULL (not usable). */
static char *
html_of(const struct parser *ps, const xmlNode *n, enum text_type dflt)
{
	enum text_type tt = text_type(n, dflt);
	char *raw, *base, *r;

	if (attr(n, NS_CORE, "src") != NULL && n->children == NULL)
		return NULL;		/* Atom out-of-line content */
	switch (tt) {
	case TT_BASE64:
		if ((raw = base64_text(n, &tt)) == NULL)
			return NULL;
		if (tt == TT_TEXT) {
			r = text_as_html(raw);
			free(raw);
			return r;
		}
		break;
	case TT_TEXT:
		if (!has_element_child(n)) {
			raw = text_of(n);
			/* Outside Atom "plain text" that looks like HTML is
			 * HTML (feedparser's rule, as for titles). */
			if (ps->kind == FEED_ATOM || attr(n, NS_CORE, "type") != NULL ||
			    !looks_like_html(raw)) {
				r = text_as_html(raw);
				free(raw);
				return r;
			}
			break;
		}
		raw = xhtml_of(n);
		break;
	case TT_XHTML:
		raw = xhtml_of(n);
		break;
	case TT_HTML:
	default:
		raw = has_element_child(n) ? xhtml_of(n) : text_of(n);
		break;
	}
	base = base_of(ps, n);
	r = sanitize_html_in(ps->san, raw, strlen(raw), base);
	free(base);
	free(raw);
	if (*r == '\0') {
		free(r);
		return NULL;
	}
	return r;
}

/* "joe@example.com (Joe Bloggs)" → "Joe Bloggs", as feedparser names it. */
static char *
author_name(const char *s)
{
	const char *at = strchr(s, '@'), *open, *close;

	if (at == NULL)
		return sanitize_collapse(s);
	open = strchr(s, '(');
	close = open != NULL ? strrchr(open, ')') : NULL;
	if (open != NULL && close != NULL && (at < open || at > close)) {
		char *inner = xstrndup(open + 1, (size_t)(close - open - 1));
		char *r = sanitize_collapse(inner);

		free(inner);
		if (*r != '\0')
			return r;
		free(r);
	}
	open = strchr(s, '<');
	close = open != NULL ? strchr(open, '>') : NULL;
	if (open != NULL && close != NULL && at > open && at < close &&
	    open > s) {
		char *name = xstrndup(s, (size_t)(open - s));
		char *r = sanitize_collapse(name);

		free(name);
		if (*r != '\0') {
			size_t l = strlen(r);

			/* "\"Joe\" <joe@x>" */
			if (l >= 2 && r[0] == '"' && r[l - 1] == '"') {
				memmove(r, r + 1, l - 2);
				r[l - 2] = '\0';
			}
			return r;
		}
		free(r);
	}
	return sanitize_collapse(s);
}

/* The name of an Atom person construct (or its text for RSS-ish feeds). */
static char *
person_of(const xmlNode *n)
{
	char *r = NULL;

	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (el_is(c, NS_CORE, "name")) {
			r = trimmed_text(c);
			break;
		}
	if (r == NULL || *r == '\0') {
		for (const xmlNode *c = n->children; r == NULL && c != NULL;
		    c = c->next)
			if (el_is(c, NS_CORE, "email"))
				r = trimmed_text(c);
		if (r == NULL && !has_element_child(n)) {
			char *t = text_of(n);

			r = author_name(t);
			free(t);
		}
	}
	if (r != NULL && *r == '\0') {
		free(r);
		r = NULL;
	}
	return r;
}

/* Candidate slots, by priority (lower index wins). */
enum { P_TITLE_CORE, P_TITLE_DC, P_TITLE_MEDIA, P_TITLE_N };
enum { P_LINK_TEXT, P_LINK_ALT_HTML, P_LINK_ALT, P_LINK_N };
enum { P_PUB_CORE, P_PUB_DCTERMS, P_PUB_CREATED, P_PUB_DC, P_PUB_N };
enum { P_UPD_CORE, P_UPD_DCTERMS, P_UPD_DC, P_UPD_N };

/*
 * Summary and content elements are kept in document order, since which is
 * which depends on the order (see pick_bodies).
 */
enum body_kind {
	B_SUMMARY,	/* description, summary, itunes:summary, ... */
	B_CONTENT,	/* Atom content, content:encoded, fullitem */
	B_BODY,		/* body, xhtml:body: content that is no "content" */
};

struct body {
	const xmlNode	*n;
	enum body_kind	 kind;
	enum text_type	 dflt;		/* type when the element names none */
	int		 depth;		/* 1 inside media:group */
};

#define MAX_BODIES	16
enum { P_AUTH_CORE, P_AUTH_DC, P_AUTH_ITUNES, P_AUTH_N };

struct cand {
	const xmlNode	*title[P_TITLE_N];
	const xmlNode	*link[P_LINK_N];
	char		*bad_link;	/* the first link refused for its scheme */
	size_t		 bad_links;
	const xmlNode	*id;
	const xmlNode	*guid_link;	/* <guid> that may serve as link */
	const xmlNode	*pub[P_PUB_N];
	const xmlNode	*upd[P_UPD_N];
	struct body	 bodies[MAX_BODIES];
	size_t		 nbodies;
	const xmlNode	*auth[P_AUTH_N];
};

#define SET_ONCE(slot, v)	do { if ((slot) == NULL) (slot) = (v); } while (0)

static void
add_body(struct cand *cd, const xmlNode *n, enum body_kind kind,
    enum text_type dflt, int depth)
{
	if (cd->nbodies < MAX_BODIES)
		cd->bodies[cd->nbodies++] = (struct body){ n, kind, dflt, depth };
}

/* An Atom-style <link href=...>: which slot, or -1. */
static int
link_slot(const xmlNode *c)
{
	const char *rel = attr(c, NS_CORE, "rel");
	const char *type = attr(c, NS_CORE, "type");

	if (rel != NULL && *rel != '\0' && ascii_casecmp(rel, "alternate") != 0 &&
	    ascii_casecmp(rel, "http://www.iana.org/assignments/relation/alternate") != 0)
		return -1;
	if (type == NULL || ascii_casecmp(type, "text/html") == 0 ||
	    ascii_casecmp(type, "application/xhtml+xml") == 0)
		return P_LINK_ALT_HTML;
	return P_LINK_ALT;
}

/*
 * Whether a link candidate names a scheme that no base can make http(s)
 * (javascript:, data:, ...): then it is not a candidate, and the first one
 * is kept for the warning.  Relative ones are checked once resolved.
 */
static bool
link_refused(struct cand *cd, const xmlNode *c, const char *href)
{
	char *text = href != NULL ? NULL : text_of(c);
	char *raw = url_resolve(NULL, href != NULL ? href : text);
	bool bad = *raw != '\0' && !url_is_relative(raw) &&
	    !url_is_web(raw, false);

	free(text);
	if (bad && cd->bad_links++ == 0) {
		cd->bad_link = raw;
		return true;
	}
	free(raw);
	return bad;
}

static void
collect(const xmlNode *parent, struct cand *cd, int depth)
{
	for (const xmlNode *c = parent->children; c != NULL; c = c->next) {
		const char *l;
		enum ns ns;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		ns = el_ns(c, &l);
		switch (ns) {
		case NS_CORE:
			if (ascii_casecmp(l, "title") == 0)
				SET_ONCE(cd->title[P_TITLE_CORE], c);
			else if (ascii_casecmp(l, "link") == 0) {
				const char *href = attr(c, NS_CORE, "href");
				int s = href != NULL ? link_slot(c) : P_LINK_TEXT;

				if (s >= 0 && cd->link[s] == NULL &&
				    !link_refused(cd, c, href))
					cd->link[s] = c;
			} else if (ascii_casecmp(l, "guid") == 0 || ascii_casecmp(l, "id") == 0) {
				const char *pl = attr(c, NS_CORE, "isPermaLink");

				SET_ONCE(cd->id, c);
				/* A guid or an Atom id is a permalink unless it
				 * says otherwise (feedparser's rule). */
				if (pl == NULL || ascii_casecmp(pl, "true") == 0)
					SET_ONCE(cd->guid_link, c);
			} else if (ascii_casecmp(l, "pubDate") == 0 ||
			    ascii_casecmp(l, "published") == 0 || ascii_casecmp(l, "issued") == 0)
				SET_ONCE(cd->pub[P_PUB_CORE], c);
			else if (ascii_casecmp(l, "created") == 0)
				SET_ONCE(cd->pub[P_PUB_CREATED], c);
			else if (ascii_casecmp(l, "updated") == 0 ||
			    ascii_casecmp(l, "modified") == 0 || ascii_casecmp(l, "lastBuildDate") == 0)
				SET_ONCE(cd->upd[P_UPD_CORE], c);
			else if (ascii_casecmp(l, "description") == 0)
				add_body(cd, c, B_SUMMARY, TT_HTML, depth);
			else if (ascii_casecmp(l, "summary") == 0)
				add_body(cd, c, B_SUMMARY, TT_TEXT, depth);
			else if (ascii_casecmp(l, "content") == 0)
				add_body(cd, c, B_CONTENT, TT_TEXT, depth);
			else if (ascii_casecmp(l, "fullitem") == 0)
				add_body(cd, c, B_CONTENT, TT_HTML, depth);
			else if (ascii_casecmp(l, "body") == 0)
				add_body(cd, c, B_BODY, TT_XHTML, depth);
			else if (ascii_casecmp(l, "author") == 0)
				SET_ONCE(cd->auth[P_AUTH_CORE], c);
			break;
		case NS_DC:
			if (ascii_casecmp(l, "title") == 0)
				SET_ONCE(cd->title[P_TITLE_DC], c);
			else if (ascii_casecmp(l, "creator") == 0 || ascii_casecmp(l, "author") == 0)
				SET_ONCE(cd->auth[P_AUTH_DC], c);
			else if (ascii_casecmp(l, "date") == 0) {
				SET_ONCE(cd->pub[P_PUB_DC], c);
				SET_ONCE(cd->upd[P_UPD_DC], c);
			}
			else if (ascii_casecmp(l, "description") == 0)
				add_body(cd, c, B_SUMMARY, TT_HTML, depth);
			else if (ascii_casecmp(l, "identifier") == 0)
				SET_ONCE(cd->id, c);
			break;
		case NS_DCTERMS:
			if (ascii_casecmp(l, "issued") == 0)
				SET_ONCE(cd->pub[P_PUB_DCTERMS], c);
			else if (ascii_casecmp(l, "created") == 0)
				SET_ONCE(cd->pub[P_PUB_CREATED], c);
			else if (ascii_casecmp(l, "modified") == 0)
				SET_ONCE(cd->upd[P_UPD_DCTERMS], c);
			break;
		case NS_CONTENT:
			if (ascii_casecmp(l, "encoded") == 0)
				add_body(cd, c, B_CONTENT, TT_HTML, depth);
			break;
		case NS_ITUNES:
			if (ascii_casecmp(l, "summary") == 0)
				add_body(cd, c, B_SUMMARY, TT_TEXT, depth);
			else if (ascii_casecmp(l, "author") == 0)
				SET_ONCE(cd->auth[P_AUTH_ITUNES], c);
			break;
		case NS_MEDIA:
			/* Plain text by the Media RSS spec (YouTube's
			 * "sawing <to the line>"); feedparser reads HTML. */
			if (ascii_casecmp(l, "description") == 0)
				add_body(cd, c, B_SUMMARY, TT_TEXT, depth);
			else if (ascii_casecmp(l, "title") == 0)
				SET_ONCE(cd->title[P_TITLE_MEDIA], c);
			else if ((ascii_casecmp(l, "group") == 0 ||
			    ascii_casecmp(l, "content") == 0) && depth < 2)
				collect(c, cd, depth + 1);
			break;
		case NS_XHTML:
			if (ascii_casecmp(l, "body") == 0)
				add_body(cd, c, B_BODY, TT_XHTML, depth);
			break;
		default:
			break;
		}
	}
}

static char *
first_title(const struct parser *ps, const struct cand *cd)
{
	for (int i = 0; i < P_TITLE_N; i++)
		if (cd->title[i] != NULL) {
			char *t = title_of(ps->san, cd->title[i]);

			if (*t != '\0')
				return t;
			free(t);
		}
	return NULL;
}

static void
warn_link(const struct parser *ps, const char *where, const char *url)
{
	feed_warn(ps->f, "%s: link \"%.100s\" dropped: %s", where, url,
	    url_is_relative(url) ? "relative, and no base URL to resolve it" :
	    "not an http or https URL");
}

/* A permalink guid or Atom id as the link, when it is a web address
 * (feedparser takes any, such as tag: URIs). */
static char *
guid_link(const struct parser *ps, const struct cand *cd)
{
	char *raw, *r = NULL;

	if (cd->guid_link == NULL)
		return NULL;
	raw = trimmed_text(cd->guid_link);
	if (ascii_ncasecmp(raw, "http://", 7) == 0 ||
	    ascii_ncasecmp(raw, "https://", 8) == 0) {
		r = resolve_at(ps, cd->guid_link, raw);
		if (!url_is_web(r, false)) {
			free(r);
			r = NULL;
		}
	}
	free(raw);
	return r;
}

/*
 * The link: <link> text, Atom alternate of a web page type, a permalink
 * guid or Atom id, another alternate (a PDF); only an http(s) URL (after
 * resolving) is one.  where names the entry or "feed" in warnings.
 */
static char *
first_link(const struct parser *ps, struct cand *cd, bool guid_ok,
    const char *where)
{
	char *r = NULL;

	if (cd->bad_link != NULL) {
		warn_link(ps, where, cd->bad_link);
		free(cd->bad_link);
		cd->bad_link = NULL;
	}
	for (int i = 0; i < P_LINK_N && r == NULL; i++) {
		const xmlNode *n = cd->link[i];
		char *raw;

		/* A permalink guid or id comes before an alternate that is
		 * not a web page (a PDF), as in feedparser. */
		if (i == P_LINK_ALT && guid_ok && (r = guid_link(ps, cd)) != NULL)
			break;
		if (n == NULL)
			continue;
		/* Not collapsed: url_resolve drops the tabs and line breaks
		 * of a wrapped link (and a tab in "java&#9;script:"). */
		if (i == P_LINK_TEXT) {
			char *t = text_of(n);

			raw = url_resolve(NULL, t);
			free(t);
		} else
			raw = url_resolve(NULL, attr(n, NS_CORE, "href"));
		if (*raw != '\0') {
			r = resolve_at(ps, n, raw);
			if (!url_is_web(r, false)) {
				/* Relative without a base, or an xml:base
				 * that is not a web address. */
				warn_link(ps, where, r);
				free(r);
				r = NULL;
			}
		}
		free(raw);
	}
	return r;
}

static bool
first_date(const xmlNode *const *slots, int n, time_t *out)
{
	for (int i = 0; i < n; i++)
		if (slots[i] != NULL) {
			char *t = trimmed_text(slots[i]);
			int r = date_parse_feed(t, out);

			free(t);
			if (r == 0)
				return true;
		}
	return false;
}

static char *
content_hash(const char *title, const char *content)
{
	struct buf b = BUF_INIT;
	unsigned char md[32];
	char *r;

	buf_adds(&b, title != NULL ? title : "");
	buf_addc(&b, '\n');
	buf_adds(&b, content != NULL ? content : "");
	gnutls_hash_fast(GNUTLS_DIG_SHA256, b.data != NULL ? b.data : "", b.len, md);
	buf_reset(&b);
	buf_adds(&b, "sha256:");
	for (size_t i = 0; i < sizeof(md); i++)
		buf_printf(&b, "%02x", md[i]);
	r = buf_take(&b);
	buf_free(&b);
	return r;
}

/* Sanitised HTML of a summary/content slot, with dropped URLs reported. */
static char *
field_html(const struct parser *ps, const xmlNode *n, enum text_type dflt,
    size_t index, const char *field)
{
	char *r = html_of(ps, n, dflt), *first, where[64];
	bool image;
	size_t dropped = sanitize_ctx_dropped(ps->san, &first, &image);

	snprintf(where, sizeof(where), "entry %zu: %s", index + 1, field);
	feed_warn_dropped(ps->f, where, dropped, first, image);
	return r;
}

/*
 * Which element is the summary and which the content, as feedparser
 * decides, in document order: a summary-like element (description,
 * summary, itunes:summary, dc:description, media:description) is the
 * summary, unless there is one already and no content element came
 * before it: then it is the content (a podcast's description after its
 * itunes:summary); a later one at the same depth replaces the summary.
 * Content (Atom content, content:encoded, fullitem) and body elements:
 * the first is the content, and the summary when there is none yet (sum
 * == cont: the caller copies).
 */
static void
pick_bodies(const struct cand *cd, const struct body **sum,
    const struct body **cont)
{
	bool has_content = false;

	*sum = *cont = NULL;
	for (size_t i = 0; i < cd->nbodies; i++) {
		const struct body *b = &cd->bodies[i];

		switch (b->kind) {
		case B_SUMMARY:
			if (*sum != NULL && !has_content) {
				has_content = true;
				if (*cont == NULL)
					*cont = b;
			} else if (*sum == NULL || b->depth <= (*sum)->depth ||
			    *sum == *cont)
				*sum = b;
			break;
		case B_CONTENT:
			has_content = true;
			__attribute__((fallthrough));	/* clang ignores the comment */
		case B_BODY:
			if (*cont == NULL)
				*cont = b;
			if (*sum == NULL)
				*sum = b;
			break;
		}
	}
}

/* Content of another media type (base64 data, inline XML) is no summary:
 * feedparser copies only text and HTML. */
static bool
copies_to_summary(const struct body *cont)
{
	static const char *const textual[] = { "text", "html", "xhtml",
	    "text/plain", "text/html", "application/xhtml+xml" };
	const char *t = attr(cont->n, NS_CORE, "type");

	if (t == NULL)
		return true;
	for (size_t i = 0; i < sizeof(textual) / sizeof(textual[0]); i++)
		if (ascii_casecmp(t, textual[i]) == 0)
			return true;
	return false;
}

static void
entry_fill(const struct parser *ps, const xmlNode *item, struct entry *e,
    size_t index)
{
	struct cand cd;
	const struct body *sum, *cont;
	char where[32];

	memset(&cd, 0, sizeof(cd));
	collect(item, &cd, 0);

	e->title = first_title(ps, &cd);
	snprintf(where, sizeof(where), "entry %zu", index + 1);
	e->url = first_link(ps, &cd, true, where);
	if (cd.id != NULL) {
		e->guid = trimmed_text(cd.id);
		if (*e->guid == '\0') {
			free(e->guid);
			e->guid = NULL;
		}
	}
	if (e->guid == NULL) {
		const char *about = attr(item, NS_RDF, "about");

		if (about != NULL && *about != '\0')
			e->guid = sanitize_collapse(about);
	}
	e->has_published = first_date(cd.pub, P_PUB_N, &e->published);
	e->has_updated = first_date(cd.upd, P_UPD_N, &e->updated);
	for (int i = 0; i < P_AUTH_N && e->author == NULL; i++)
		if (cd.auth[i] != NULL)
			e->author = person_of(cd.auth[i]);
	pick_bodies(&cd, &sum, &cont);
	/* A summary-like element that became the content is plain text
	 * unless it says otherwise (feedparser's _start_content). */
	if (cont != NULL)
		e->content = field_html(ps, cont->n, cont->kind == B_SUMMARY ?
		    TT_TEXT : cont->dflt, index, "content");
	if (sum != NULL && sum != cont)
		e->summary = field_html(ps, sum->n, sum->dflt, index, "summary");
	/* feedparser gives an entry with only content that content as summary. */
	if (e->summary == NULL && e->content != NULL && copies_to_summary(cont))
		e->summary = xstrdup(e->content);
	if (e->guid == NULL && e->url != NULL)
		e->guid = xstrdup(e->url);
	if (e->guid == NULL)
		e->guid = content_hash(e->title, e->content != NULL ? e->content :
		    e->summary);
}

static void
feed_add_entry(struct feed *f, size_t *cap, const struct parser *ps,
    const xmlNode *item)
{
	if (f->nentries == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		f->entries = xrealloc(f->entries, *cap * sizeof(*f->entries));
	}
	memset(&f->entries[f->nentries], 0, sizeof(f->entries[0]));
	entry_fill(ps, item, &f->entries[f->nentries], f->nentries);
	f->nentries++;
}

static void
feed_head(const struct parser *ps, const xmlNode *chan, struct feed *f)
{
	struct cand cd;

	if (chan == NULL)
		return;
	memset(&cd, 0, sizeof(cd));
	collect(chan, &cd, 0);
	f->title = first_title(ps, &cd);
	f->link = first_link(ps, &cd, true, "feed");
}

/* Items (RSS, RDF) or entries (Atom) under n, one level deep. */
static void
feed_items(const struct parser *ps, const xmlNode *n, struct feed *f,
    size_t *cap, const char *name)
{
	for (const xmlNode *c = n->children; c != NULL; c = c->next)
		if (el_is(c, NS_CORE, name))
			feed_add_entry(f, cap, ps, c);
}

static char *
not_a_feed(const struct parse_errors *pe, const char *utf8, size_t len)
{
	size_t i = 0;

	while (i < len && (utf8[i] == ' ' || utf8[i] == '\n' ||
	    utf8[i] == '\r' || utf8[i] == '\t'))
		i++;
	if (i == len)
		return xstrdup("not a feed: document is empty");
	if (pe->code != 0)
		return xasprintf("not a feed: not XML: line %d col %d: %s",
		    pe->line, pe->col, pe->msg);
	return xstrdup("not a feed: not XML: no root element");
}

struct feed *
feed_parse(const char *data, size_t len, const char *base_url,
    const char *charset, char **err)
{
	struct buf dec = BUF_INIT, fixed = BUF_INIT;
	struct parse_errors pe;
	struct parser ps;
	struct feed *f = NULL;
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	xmlNode *root, *chan = NULL;
	xmlStructuredErrorFunc saved_fn = xmlStructuredError;
	void *saved_ctx = xmlStructuredErrorContext;
	const char *local;
	size_t cap = 0;

	*err = NULL;
	memset(&pe, 0, sizeof(pe));
	memset(&ps, 0, sizeof(ps));
	if (data == NULL)
		len = 0;
	if (len > FEED_MAX_SIZE) {
		*err = xasprintf("document too large: %zu bytes (limit %u)",
		    len, FEED_MAX_SIZE);
		goto out;
	}
	feed_decode(data != NULL ? data : "", len, charset, &dec);
	{
		/* Blank lines before the XML declaration (a PHP habit) make
		 * libxml2 drop text later on: skipped. */
		const char *d = dec.data != NULL ? dec.data : "";
		size_t skip = 0;

		while (skip < dec.len && (d[skip] == ' ' || d[skip] == '\n' ||
		    d[skip] == '\r' || d[skip] == '\t'))
			skip++;
		if (skip < dec.len && dec.len - skip >= 5 &&
		    memcmp(d + skip, "<?xml", 5) == 0)
			d += skip;
		else
			skip = 0;
		feed_repair(d, dec.len - skip, &fixed);
	}
	if (fixed.len == 0 || fixed.len > INT_MAX) {
		*err = xstrdup(fixed.len == 0 ? "not a feed: document is empty" :
		    "document too large");
		goto out;
	}

	xmlInitParser();
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		*err = xstrdup("out of memory creating the XML parser");
		goto out;
	}
	xmlSetStructuredErrorFunc(&pe, on_xml_error);
	doc = xmlCtxtReadMemory(ctxt, fixed.data, (int)fixed.len, NULL, "UTF-8",
	    FEED_XML_OPTIONS);
	xmlSetStructuredErrorFunc(saved_ctx, saved_fn);

	if (pe.entity_loop) {
		*err = xasprintf("entity expansion refused: line %d col %d: "
		    "entity reference loop or amplification", pe.loop_line,
		    pe.loop_col);
		goto out;
	}
	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL) {
		*err = not_a_feed(&pe, fixed.data, fixed.len);
		goto out;
	}
	{
		struct expansion ex;

		if (!feed_expansion_ok(root, &ex)) {
			*err = xasprintf("entity expansion refused: line %ld: "
			    "entity references expand the document past the "
			    "limit of %u bytes", ex.line, FEED_MAX_EXPANDED);
			goto out;
		}
	}

	ps.doc = doc;
	ps.doc_url = base_url;
	ps.san = sanitize_ctx_new();
	f = xcalloc(1, sizeof(*f));
	ps.f = f;
	if (pe.too_deep)
		feed_warn(f, "line %d: elements nested deeper than %d levels: "
		    "the rest of the document was not read", pe.deep_line,
		    FEED_XML_MAX_DEPTH);
	el_ns(root, &local);
	if (ascii_casecmp(local, "rss") == 0 || ascii_casecmp(local, "channel") == 0) {
		ps.kind = f->kind = FEED_RSS;
		if (ascii_casecmp(local, "channel") == 0)
			chan = root;
		for (xmlNode *c = root->children; chan == NULL && c != NULL; c = c->next)
			if (el_is(c, NS_CORE, "channel"))
				chan = c;
		feed_head(&ps, chan, f);
		if (chan != NULL)
			feed_items(&ps, chan, f, &cap, "item");
		if (chan != root)
			feed_items(&ps, root, f, &cap, "item");
	} else if (ascii_casecmp(local, "RDF") == 0) {
		ps.kind = f->kind = FEED_RDF;
		for (xmlNode *c = root->children; chan == NULL && c != NULL; c = c->next)
			if (el_is(c, NS_CORE, "channel"))
				chan = c;
		feed_head(&ps, chan, f);
		feed_items(&ps, root, f, &cap, "item");
		if (chan != NULL)
			feed_items(&ps, chan, f, &cap, "item");
	} else if (ascii_casecmp(local, "feed") == 0) {
		ps.kind = f->kind = FEED_ATOM;
		feed_head(&ps, root, f);
		feed_items(&ps, root, f, &cap, "entry");
	} else {
		*err = xasprintf("not a feed: line %ld: root element is <%s>, "
		    "expected <rss>, <rdf:RDF> or <feed>", xmlGetLineNo(root),
		    (const char *)root->name);
		free(f);
		f = NULL;
		goto out;
	}
out:
	sanitize_ctx_free(ps.san);
	if (doc != NULL)
		xmlFreeDoc(doc);
	if (ctxt != NULL)
		xmlFreeParserCtxt(ctxt);
	buf_free(&dec);
	buf_free(&fixed);
	return f;
}

void
feed_free(struct feed *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nentries; i++) {
		struct entry *e = &f->entries[i];

		free(e->title);
		free(e->url);
		free(e->guid);
		free(e->author);
		free(e->summary);
		free(e->content);
		free(e->text);
	}
	free(f->entries);
	for (size_t i = 0; i < f->nwarnings; i++)
		free(f->warnings[i]);
	free(f->warnings);
	free(f->title);
	free(f->link);
	free(f);
}
