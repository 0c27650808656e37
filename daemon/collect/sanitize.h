/*
 * sanitize: allowlist HTML sanitiser on libxml2's HTML parser.
 *
 * Keeps links, paragraphs, lists, headings, emphasis, blockquote, pre/code,
 * tables and https images; drops script, style, iframe, form, event
 * attributes, and every link that is not http, https or mailto (an <a>
 * keeps its text).  Relative href/src are resolved against base_url (may
 * be NULL: then they are dropped too).
 */
#ifndef HERALD_SANITIZE_H
#define HERALD_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Returns new sanitised UTF-8 HTML (caller frees); never NULL. */
char	*sanitize_html(const char *html, size_t len, const char *base_url);

/*
 * The text of an HTML fragment (tags dropped, entities decoded, script and
 * the like dropped whole, whitespace collapsed), for titles.  Returns a new
 * UTF-8 string (caller frees); never NULL.
 */
char	*sanitize_text(const char *html, size_t len);

/*
 * The same with a reusable parser context, for many fragments in a row
 * (one feed's entries): one context per thread at a time.
 */
struct sanitize_ctx;
struct sanitize_ctx	*sanitize_ctx_new(void);
void			 sanitize_ctx_free(struct sanitize_ctx *);
char	*sanitize_html_in(struct sanitize_ctx *, const char *html, size_t len,
	    const char *base_url);
char	*sanitize_text_in(struct sanitize_ctx *, const char *html, size_t len);

/*
 * Links and images dropped for their URL (a link that is not http, https
 * or mailto, an image that is not http(s) at all) since the last call:
 * returns how many, sets *first to the first such URL (caller frees; NULL
 * when none) and *image to whether it was an image's.
 */
size_t	 sanitize_ctx_dropped(struct sanitize_ctx *, char **first, bool *image);

/*
 * Plain, well-nested HTML is written in one pass without libxml2's parser
 * (the same output, faster); on == 0 turns that off so that tests and the
 * fuzz target can compare both ways.  On by default.
 */
void	 sanitize_ctx_fast(struct sanitize_ctx *, int on);

/* A copy of s with whitespace runs (and U+00A0) as one space, trimmed
 * (caller frees). */
char	*sanitize_collapse(const char *s);

#endif
