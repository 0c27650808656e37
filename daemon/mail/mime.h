/*
 * mime: builds one digest message with libetpan (RFC 5322 + MIME).
 *
 * multipart/alternative (text/plain then text/html), UTF-8,
 * quoted-printable, CRLF line ends, no line over 998 octets.  No header can
 * be injected by data: every value is checked/encoded (RFC 2047) here.
 */
#ifndef HERALD_MIME_H
#define HERALD_MIME_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

struct mime_params {
	const char	*from_name;	/* display name or NULL */
	const char	*from_addr;	/* addr-spec */
	const char	*to_name;	/* may be NULL */
	const char	*to_addr;
	const char	*reply_to;	/* addr-spec, "Name <addr-spec>", or NULL */
	const char	*subject;	/* UTF-8 */
	time_t		 date;
	const char	*message_id;	/* "<...@domain>", see mime_message_id() */
	const char	*list_id;	/* "Title <id.domain>" or NULL */
	const char	*list_unsubscribe_mailto;	/* "mailto:..." or NULL */
	const char	*list_unsubscribe_https;	/* "https://..." or NULL */
	const char	*feedback_id;	/* or NULL */
	const char	*text;		/* text/plain body, UTF-8 */
	size_t		 text_len;
	const char	*html;		/* text/html body, UTF-8 */
	size_t		 html_len;
};

/* Appends the whole message (CRLF) to out.  0, or -1 with *err (caller frees). */
int	mime_build(const struct mime_params *, struct buf *out, char **err);
/*
 * Appends text[0..n) quoted-printable encoded (RFC 2045 6.7): CRLF line
 * ends (LF or CRLF in the input is a line break), lines of at most 76
 * octets, '=', controls, non-ASCII and whitespace before a line end as =XX,
 * '.' and "From " at a line start encoded too.  -1 when out is full.
 */
int	mime_qp_encode(struct buf *out, const char *text, size_t n);
/* A new unique Message-ID "<random.time@domain>" (caller frees). */
char	*mime_message_id(const char *domain);

#endif
