/*
 * web_http: the parts of HTTP request handling that need no server: the
 * routing of a method and path to an endpoint, and the decoding of form
 * bodies (application/x-www-form-urlencoded and multipart/form-data).
 * Pure functions over bounded input, so that a fuzzer can drive them
 * (fuzz/fuzz_web.c).
 */
#ifndef HERALD_WEB_HTTP_H
#define HERALD_WEB_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define WEB_TOKEN_MAX	64	/* "<id>.<mac>" is at most 20 + 1 + 24 */
#define WEB_ID_MAX	64	/* a newsletter id (config: 1..64 characters) */

enum web_endpoint {
	WEB_NOT_FOUND = 0,
	WEB_BAD_METHOD,		/* a known path, a method it does not take */
	WEB_UNSUBSCRIBE_PAGE,	/* GET /unsubscribe/TOKEN */
	WEB_UNSUBSCRIBE,	/* POST /unsubscribe/TOKEN (RFC 8058, the page) */
	WEB_CONFIRM_PAGE,	/* GET /confirm/TOKEN */
	WEB_CONFIRM,		/* POST /confirm/TOKEN */
	WEB_PREFERENCES_PAGE,	/* GET /preferences/TOKEN */
	WEB_PREFERENCES,	/* POST /preferences/TOKEN (its button) */
	WEB_SIGNUP_PAGE,	/* GET /signup, /signup/ID */
	WEB_SIGNUP,		/* POST /signup, /signup/ID */
};

struct web_route {
	enum web_endpoint endpoint;
	const char	*allow;		/* WEB_BAD_METHOD: the Allow header */
	char		 token[WEB_TOKEN_MAX + 1];	/* "" when none */
	char		 newsletter[WEB_ID_MAX + 1];	/* signup: "" none */
};

/*
 * Routes method and path (as received, without the query; percent
 * escapes already decoded).  prefix is the path of web.base_url ("" or
 * "/news"): a path that starts with it has it removed first, so herald
 * answers both behind a proxy that strips the prefix and one that does not.
 * HEAD is GET.  A token or id with characters outside [A-Za-z0-9._-], or
 * longer than its maximum, is WEB_NOT_FOUND... except for tokens, whose
 * malformed values are kept (truncated to WEB_TOKEN_MAX + 1 characters,
 * which no valid token is) so that the caller answers 403.
 */
void	web_route(const char *method, const char *path, const char *prefix,
	    struct web_route *out);

/*
 * Decodes percent escapes of s[0..n) into out (plus as space when
 * plus_space).  -1 for a malformed escape or a NUL byte; 0 otherwise.
 */
int	web_url_decode(const char *s, size_t n, bool plus_space,
	    struct buf *out);

/*
 * Finds field name in a application/x-www-form-urlencoded body and decodes
 * its first value into out (reset first).  1 found, 0 absent, -1 the body
 * or the value is malformed.
 */
int	web_form_field(const char *body, size_t len, const char *name,
	    struct buf *out);

/*
 * The boundary parameter of a multipart/form-data Content-Type into out
 * (at most 70 characters, RFC 2046); -1 when there is none or it is bad.
 */
int	web_multipart_boundary(const char *content_type, char out[71]);

/*
 * Finds the part named name (Content-Disposition: form-data;
 * name="name") in a multipart/form-data body and copies its content into
 * out (reset first).  1 found, 0 absent, -1 malformed.
 */
int	web_multipart_field(const char *body, size_t len, const char *boundary,
	    const char *name, struct buf *out);

/*
 * The field name of a form POST with the given Content-Type (either kind;
 * NULL or another type: urlencoded is tried), as web_form_field().
 */
int	web_post_field(const char *content_type, const char *body, size_t len,
	    const char *name, struct buf *out);

/*
 * The client address to rate-limit: peer, or, when the peer is a loopback
 * address (a reverse proxy on this machine) and forwarded_for (the
 * X-Forwarded-For header) is not NULL, its last entry, which the proxy
 * appended.  Copies at most outlen - 1 bytes.
 */
void	web_client_address(const char *peer, const char *forwarded_for,
	    char *out, size_t outlen);

#endif
