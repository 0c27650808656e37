/*
 * html2text: readable plain text from (sanitised) HTML, for the text part.
 *
 * Uses libxml2's HTML parser.  Paragraphs are separated by blank lines and
 * wrapped at `width` columns (counted in code points; a multibyte character
 * is never split, a word or URL longer than the line is never broken);
 * lists get "* " or "1. " markers, headings "# ", blockquotes "> ", <pre>
 * is kept verbatim, images become their alt text.  Links become numbered
 * references "[1]" whose URLs are collected in `links` (numbering continues
 * from links->n, so several calls can share one list); with links NULL the
 * references are left out.
 */
#ifndef HERALD_HTML2TEXT_H
#define HERALD_HTML2TEXT_H

#include <stddef.h>

#include "buf.h"

#define HTML2TEXT_WIDTH	72

struct html2text_links {
	char	**v;		/* URLs; owned by the struct */
	size_t	  n, cap;
	size_t	  max;		/* 0: no limit; else links past it keep
				   their text but get no reference */
	size_t	  dropped;	/* links left without a reference */
};

/* Returns new text (caller frees; never NULL), without a trailing newline. */
char	*html2text(const char *html, size_t len, size_t width,
	    struct html2text_links *links);
void	 html2text_links_free(struct html2text_links *);

/*
 * Appends text re-wrapped: each line longer than width is broken at
 * spaces, continuation lines repeating its leading indentation and "> "
 * quote markers.  Shorter lines are copied as they are.
 */
void	 html2text_wrap(struct buf *out, const char *text, size_t len, size_t width);

/* Display width of s[0..n): the number of UTF-8 code points. */
size_t	 html2text_width(const char *s, size_t n);

#endif
