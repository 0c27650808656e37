/*
 * feed_int: the parts of the feed reader, each in its own file, that
 * feed.c (the driver and the element mapping) calls.  Not for use outside
 * daemon/collect.
 */
#ifndef HERALD_FEED_INT_H
#define HERALD_FEED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "buf.h"

/* Windows-1252's characters for the bytes 0x80-0x9F (feed_decode.c). */
extern const uint16_t feed_cp1252_c1[32];

/*
 * feed_decode.c: data (len bytes) into UTF-8 appended to out; charset is
 * the HTTP Content-Type charset or NULL.
 */
void	feed_decode(const char *data, size_t len, const char *charset,
	    struct buf *out);

/* feed_repair.c: p[0..n) (UTF-8) repaired for libxml2, appended to out. */
void	feed_repair(const char *p, size_t n, struct buf *out);

/*
 * feed_expand.c: the whole document's text with every entity reference
 * replaced may be at most FEED_MAX_EXPANDED bytes.
 */
#define FEED_MAX_EXPANDED	FEED_MAX_SIZE

struct expansion {
	size_t		 total;
	long		 line;		/* where the limit was passed */
	bool		 over;
};

/*
 * Measures the document under root as the walk reads it (linear: each
 * entity is measured once); false, with the line of the element where the
 * limit was passed in ex, when it expands past FEED_MAX_EXPANDED.
 */
bool	feed_expansion_ok(const xmlNode *root, struct expansion *ex);

#endif
