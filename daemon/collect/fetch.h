/*
 * fetch: download feeds in parallel with libcurl's multi interface.
 *
 * The caller fills the "in" half of an array of struct fetch_req and calls
 * fetch_all(), which runs every transfer (at most FETCH_PARALLEL at once)
 * and fills the "out" half.  Rules applied to every transfer:
 *
 *   - http, https and file URLs only; redirects (at most 5) only to http and
 *     https; TLS certificates are verified.
 *   - conditional GET: the stored ETag / Last-Modified are sent as
 *     If-None-Match / If-Modified-Since; a 304 sets not_modified and no body.
 *   - any compression curl knows (Accept-Encoding), decoded transparently.
 *   - connect timeout 10 s, total timeout 30 s.  For tests only, the
 *     environment variables HERALD_FETCH_TIMEOUT and
 *     HERALD_FETCH_CONNECT_TIMEOUT (seconds, decimals allowed) override them.
 *   - bodies larger than FEED_MAX_SIZE are refused while downloading.
 *   - User-Agent: herald/<version> (newsletter digest).
 *
 * A permanent redirect (301 or 308) at the start of the redirect chain sets
 * permanent_url to the location it points at, so the caller can store it and
 * fetch from there next time.
 */
#ifndef HERALD_FETCH_H
#define HERALD_FETCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define FETCH_PARALLEL		64	/* transfers at once */
#define FETCH_MAX_REDIRECTS	5
#define FETCH_CONNECT_TIMEOUT	10	/* seconds */
#define FETCH_TIMEOUT		30	/* seconds, whole transfer */
#define FETCH_USER_AGENT \
	"herald/" HERALD_VERSION " (newsletter digest)"

struct fetch_req {
	/* in: borrowed, must outlive fetch_all() */
	const char	*url;
	const char	*etag;		/* or NULL */
	const char	*last_modified;	/* or NULL */

	/* out: owned by the request, freed by fetch_req_clear() */
	bool		 ok;		/* 2xx (or file://) with a body, or 304 */
	bool		 not_modified;	/* 304: body is NULL */
	bool		 temporary;	/* failure worth retrying: unreachable,
					   timeout, 5xx, 429 */
	bool		 interrupted;	/* dropped by fetch_set_stop's flag: not
					   a failure of the source */
	long		 status;	/* final HTTP status, 0 for file:// */
	char		*body;		/* NUL-terminated, len bytes */
	size_t		 len;
	char		*charset;	/* Content-Type charset or NULL */
	char		*etag_out;	/* ETag of the response or NULL */
	char		*last_modified_out;
	char		*effective_url;	/* after redirects */
	char		*permanent_url;	/* where a permanent redirect points,
					   or NULL */
	char		*error;		/* why it failed, or NULL when ok */
};

/*
 * Runs every request in reqs[0..n).  Always returns with every request's out
 * fields set (ok, or error).  Initialises libcurl on first use.
 */
void	fetch_all(struct fetch_req *reqs, size_t n);
/*
 * A flag fetch_all() looks at while it waits (at least once a second): when
 * *stop is nonzero, transfers not finished are dropped, each with the
 * temporary error "interrupted", and fetch_all() returns.  The daemon points
 * it at its signal flag so that SIGTERM during a collect stops promptly.
 * NULL (the default) turns it off.
 */
void	fetch_set_stop(volatile sig_atomic_t *stop);
/* Frees a request's out fields and resets them (the in fields stay). */
void	fetch_req_clear(struct fetch_req *);
/* "Not Found" for 404 and the other common codes; "" when unknown. */
const char *fetch_reason(long status);

#endif
