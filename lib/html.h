/*
 * html: escaping text for HTML, the one way herald does it (the sanitiser,
 * the feed reader, folder articles and the templates all call this).
 */
#ifndef HERALD_HTML_H
#define HERALD_HTML_H

#include <stddef.h>

#include "buf.h"

enum html_esc {
	HTML_ESC_TEXT,	/* text between tags: & < > */
	HTML_ESC_ATTR,	/* a double-quoted attribute value: & < > " */
	HTML_ESC_ALL,	/* anywhere, single quotes too: & < > " ' (as &#39;) */
};

/*
 * Appends s[0..n) to out with the characters of how escaped as entity
 * references.  Returns 0, or -1 when out's size limit was reached (out
 * keeps what fitted).
 */
int	html_escape(struct buf *out, const char *s, size_t n, enum html_esc how);
/* The same for a C string. */
int	html_escape_str(struct buf *out, const char *s, enum html_esc how);

#endif
