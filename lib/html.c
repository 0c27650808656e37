/*
 * html: HTML escaping (see html.h).  A hot path: templates escape every
 * subscriber value, the sanitiser every text node; runs without special
 * characters are copied in one piece.
 */
#include "html.h"

#include <string.h>

/* Which bytes each mode escapes: bit 0 text, bit 1 attr, bit 2 all. */
static const unsigned char special[256] = {
	['&'] = 7, ['<'] = 7, ['>'] = 7, ['"'] = 6, ['\''] = 4,
};

int
html_escape(struct buf *out, const char *s, size_t n, enum html_esc how)
{
	unsigned char mask = how == HTML_ESC_TEXT ? 1 : how == HTML_ESC_ATTR ?
	    2 : 4;
	size_t start = 0;

	if (buf_grow(out, n) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *rep;

		if (!(special[(unsigned char)s[i]] & mask))
			continue;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: rep = "&#39;"; break;
		}
		if (buf_add(out, s + start, i - start) == -1 ||
		    buf_adds(out, rep) == -1)
			return -1;
		start = i + 1;
	}
	return buf_add(out, s + start, n - start);
}

int
html_escape_str(struct buf *out, const char *s, enum html_esc how)
{
	return html_escape(out, s, strlen(s), how);
}
