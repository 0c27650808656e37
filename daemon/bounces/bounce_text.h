/*
 * bounce_text: reading the free text of bounce reports (for bounce_parse.c
 * and bounce_classify.c): case-insensitive phrase search, addresses and
 * herald's VERP addresses in running text, RFC 3463 status codes and SMTP
 * reply codes, the line that carries the server's reply, and "Name: value"
 * field blocks (DSN and ARF reports) with folding.
 *
 * Everything here reads its input within the length given, or up to a NUL
 * for the C-string functions, and never writes to it.
 */
#ifndef HERALD_BOUNCE_TEXT_H
#define HERALD_BOUNCE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define BTEXT_LIST_MAX	32	/* addresses kept per list */
#define BTEXT_DIAG_MAX	400	/* bytes of a diagnostic kept */

/* ASCII case-insensitive: needle in hay; s starts with p; the first of
 * list (NULL-terminated) found in s, or NULL. */
bool		 btext_has(const char *hay, const char *needle);
bool		 btext_prefix(const char *s, const char *p);
const char	*btext_find_any(const char *s, const char *const *list);

/*
 * s[0..n) as one clean line: control characters as spaces, white space
 * squeezed, trimmed, invalid UTF-8 as '?', at most max bytes (cut at a
 * character boundary).  A new string, or NULL when nothing is left.
 */
char		*btext_clean(const char *s, size_t n, size_t max);

/* Appends a copy of s[0..len) to the list *v of *n strings unless it is
 * there already (compared case-insensitively) or the list is full. */
void		 btext_list_add(char ***v, size_t *n, const char *s, size_t len);
void		 btext_list_free(char **v, size_t n);

/*
 * The address around the '@' at s[at], as [*start, *end): false when what
 * is there does not look like local@domain.tld.
 */
bool		 btext_addr_at(const char *s, size_t len, size_t at,
		    size_t *start, size_t *end);
/* mailer-daemon@, postmaster@, noreply@, bounces@ ... */
bool		 btext_is_robot(const char *a, size_t n);
/* Appends every address in s[0..len) (robots left out), in order. */
void		 btext_addrs(const char *s, size_t len, char ***v, size_t *n);
/* Appends every address shaped like herald's VERP (local+ID-16HEX@...). */
void		 btext_verp(const char *s, size_t len, char ***v, size_t *n);

/*
 * The first RFC 3463 code (4.x.x or 5.x.x) in s copied into out; returns
 * where it is, or NULL.  IP addresses and version numbers do not count.
 */
const char	*btext_status(const char *s, char out[16]);
/* True when l[0..n) has an SMTP reply code (4xx/5xx) as a word. */
bool		 btext_reply_code(const char *l, size_t n);
/*
 * The server's reply in a report's text: the first line with a status or
 * reply code, with the line that introduces it ("... after MAIL FROM:<x>:",
 * ">>> RCPT To:<x>") and the lines that continue it, as one clean line (a
 * new string), or NULL.
 */
char		*btext_diag(const char *s, size_t n);

/* "Name: value" lines with folding; a blank line calls blank(). */
struct btext_field_cb {
	void	(*field)(void *, const char *name, const char *value);
	void	(*blank)(void *);	/* a blank line: next block */
	void	 *arg;
};
void		 btext_fields(const char *s, size_t n,
		    const struct btext_field_cb *cb);

#endif
