/*
 * sanitize_int: what the sanitiser's two ways of writing share: the
 * element table, the parser context, the start tags.  sanitize.c holds
 * these and the libxml2 way; sanitize_fast.c the one-pass way.  Not for
 * use outside daemon/collect.
 */
#ifndef HERALD_SANITIZE_INT_H
#define HERALD_SANITIZE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "buf.h"

enum {
	EL_KEEP = 1,		/* write the tag (allowed attributes only) */
	EL_DROP = 2,		/* drop the element and all it contains */
	EL_VOID = 4,		/* no end tag */
	EL_BLOCK = 8,		/* a word break in plain text */
};

enum attr_kind {
	AT_NONE = 0,
	AT_LINK,		/* a: href, title */
	AT_IMG,			/* img: src, alt, title, width, height */
	AT_CELL,		/* td, th: colspan, rowspan */
};

struct element {
	const char	*name;
	int		 flags;
	enum attr_kind	 attrs;
};

struct sanitize_ctx {
	htmlParserCtxtPtr	 html;
	struct buf		 in;
	struct buf		 vals;		/* fast path: attribute values */
	bool			 no_fast;
	size_t			 dropped;	/* URLs refused since the last report */
	char			*dropped_first;
	bool			 dropped_image;	/* dropped_first was an image's */
};

/*
 * Where open_tag reads attributes from: a tree node, or the attributes the
 * fast path parsed (names lowercased, values decoded).
 */
#define FAST_MAX_ATTRS	16

struct attr_src {
	xmlNode		*node;
	size_t		 n;
	const char	*name[FAST_MAX_ATTRS];
	size_t		 namelen[FAST_MAX_ATTRS];
	const char	*value[FAST_MAX_ATTRS];
};

/* The allowed (or dropped) element called name, or NULL: not known. */
const struct element	*sanitize_el_find(const xmlChar *name);

/*
 * Writes the start tag of an allowed element with its allowed attributes
 * from n.  Returns false when the element must not be written at all (an
 * <a> without a usable href keeps only its text; an <img> without an
 * https src is dropped).
 */
bool	sanitize_open_tag(struct sanitize_ctx *sc, struct buf *b,
	    const struct element *el, const struct attr_src *n,
	    const char *base);

/*
 * Whether s holds only characters libxml2's HTML parser keeps as they are
 * (valid UTF-8, no controls but tab and line feed, no U+FFFE/U+FFFF).
 */
bool	sanitize_chars_kept(const char *s, size_t len);

/*
 * The fast path: writes to out what parsing s with libxml2 and walking the
 * tree would write, and returns true, for plain, well-nested HTML; returns
 * false (out holds a partial result to discard) for anything else.
 */
bool	sanitize_fast_write(struct sanitize_ctx *sc, const char *s, size_t len,
	    const char *base, struct buf *out);

#endif
