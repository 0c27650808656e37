/*
 * header: making untrusted text safe for an RFC 5322 header (used by mime.c).
 *
 * Nothing here writes a header line: these functions turn data into tokens
 * (words, encoded-words, addr-specs) that libetpan's writers then place and
 * fold.  Every returned token is free of CR, LF, NUL and other controls.
 */
#ifndef HERALD_HEADER_H
#define HERALD_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The longest encoded-word we write (RFC 2047 allows 75). */
#define HEADER_EWORD_MAX	75

/*
 * Cleans header text: invalid UTF-8 becomes U+FFFD; C0 and C1 controls,
 * DEL, TAB, U+2028 and U+2029 become spaces; runs of spaces collapse to one;
 * leading and trailing spaces go; the result is cut to at most max bytes at
 * a character boundary.  NULL in gives "" out.  Returns a new string.
 */
char	*header_clean(const char *s, size_t max);

/*
 * True when addr is a plain ASCII addr-spec we accept in a header and an
 * envelope: dot-atom local part (1-64), '@', a domain of LDH labels, at most
 * 254 octets.  Otherwise false and *why (static) when why is not NULL.
 */
bool	 header_addr_ok(const char *addr, const char **why);

/*
 * Appends s[0..n) (valid UTF-8) as RFC 2047 encoded-words ("=?UTF-8?Q?...?="
 * or "?B?", whichever is shorter), separated by single spaces.  No word is
 * longer than word_max (at most HEADER_EWORD_MAX) and no UTF-8 character is
 * split between words.  Returns the number of words written.
 */
size_t	 header_ewords(struct buf *out, const char *s, size_t n,
	    size_t word_max);

/*
 * Unstructured text (Subject) from header_clean() output: ASCII words stay
 * as they are; the span from the first to the last word that needs encoding
 * (non-ASCII, looks like "=?", or too long to fold) becomes encoded-words,
 * the first at most first_max long.  Returns a new string.
 */
char	*header_text(const char *clean, size_t first_max);

/* True when clean needs no encoding as a phrase (ASCII, no "=?"). */
bool	 header_phrase_ascii(const char *clean);

/*
 * A phrase (display name, list title) from header_clean() output: atoms as
 * they are, a quoted-string when it has specials, encoded-words when not
 * ASCII.  *words (if not NULL) gets the number of encoded-words (0 when
 * none).  Returns a new string.
 */
char	*header_phrase(const char *clean, size_t *words);

#endif
