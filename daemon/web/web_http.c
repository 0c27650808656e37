/*
 * web_http: routing and form decoding, without a server.
 */
#include "web_http.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* path without prefix, when it starts with it at a segment boundary */
static const char *
strip_prefix(const char *path, const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;

	while (n > 0 && prefix[n - 1] == '/')
		n--;
	if (n == 0 || strncmp(path, prefix, n) != 0)
		return path;
	if (path[n] == '/')
		return path + n;
	if (path[n] == '\0')
		return "/";
	return path;
}

static void
copy_trunc(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n > cap - 1)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* "/seg" or "/seg/..." : the rest after "/seg/" (or "" after "/seg"). */
static const char *
after(const char *path, const char *seg)
{
	size_t n = strlen(seg);

	if (path[0] != '/' || strncmp(path + 1, seg, n) != 0)
		return NULL;
	if (path[1 + n] == '\0')
		return "";
	if (path[1 + n] == '/')
		return path + 2 + n;
	return NULL;
}

static bool
id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))
			return false;
	return i <= WEB_ID_MAX;
}

void
web_route(const char *method, const char *path, const char *prefix,
    struct web_route *out)
{
	bool get, post;
	const char *rest;

	memset(out, 0, sizeof(*out));
	out->endpoint = WEB_NOT_FOUND;
	if (method == NULL || path == NULL)
		return;
	get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	post = strcmp(method, "POST") == 0;
	path = strip_prefix(path, prefix);
	if ((rest = after(path, "unsubscribe")) != NULL) {
		copy_trunc(out->token, sizeof(out->token), rest);
		out->endpoint = get ? WEB_UNSUBSCRIBE_PAGE : post ?
		    WEB_UNSUBSCRIBE : WEB_BAD_METHOD;
	} else if ((rest = after(path, "confirm")) != NULL) {
		copy_trunc(out->token, sizeof(out->token), rest);
		out->endpoint = get ? WEB_CONFIRM_PAGE : post ? WEB_CONFIRM :
		    WEB_BAD_METHOD;
	} else if ((rest = after(path, "preferences")) != NULL) {
		copy_trunc(out->token, sizeof(out->token), rest);
		out->endpoint = get ? WEB_PREFERENCES_PAGE : post ?
		    WEB_PREFERENCES : WEB_BAD_METHOD;
	} else if ((rest = after(path, "signup")) != NULL) {
		if (!id_ok(rest))
			return;
		copy_trunc(out->newsletter, sizeof(out->newsletter), rest);
		out->endpoint = get ? WEB_SIGNUP_PAGE : post ? WEB_SIGNUP :
		    WEB_BAD_METHOD;
	}
	if (out->endpoint == WEB_BAD_METHOD)
		out->allow = "GET, HEAD, POST";
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
web_url_decode(const char *s, size_t n, bool plus_space, struct buf *out)
{
	size_t i;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_space)
			c = ' ';
		if (c == '\0')
			return -1;
		if (buf_addc(out, c) == -1)
			return -1;
	}
	return 0;
}

int
web_form_field(const char *body, size_t len, const char *name,
    struct buf *out)
{
	struct buf key;
	const char *p = body, *end = body + len, *amp, *eq;
	int rc = 0;

	buf_reset(out);
	buf_init(&key, 256);
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		buf_reset(&key);
		if (web_url_decode(p, (size_t)((eq ? eq : amp) - p), true,
		    &key) == -1) {
			rc = -1;
			break;
		}
		if (strcmp(buf_cstr(&key), name) == 0) {
			if (eq && web_url_decode(eq + 1,
			    (size_t)(amp - eq - 1), true, out) == -1)
				rc = -1;
			else
				rc = 1;
			buf_cstr(out);
			break;
		}
		p = amp + 1;
	}
	buf_free(&key);
	return rc;
}

int
web_multipart_boundary(const char *ct, char out[71])
{
	const char *p;
	size_t n = 0;
	bool quoted;

	if (ct == NULL)
		return -1;
	for (p = ct; *p; p++)
		if (ascii_ncasecmp(p, "boundary=", 9) == 0 &&
		    (p == ct || p[-1] == ';' || p[-1] == ' ' || p[-1] == '\t'))
			break;
	if (*p == '\0')
		return -1;
	p += 9;
	quoted = *p == '"';
	if (quoted)
		p++;
	while (*p && n < 70) {
		if (quoted ? *p == '"' : (*p == ';' || *p == ' ' ||
		    *p == '\t'))
			break;
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return -1;
		out[n++] = *p++;
	}
	if (n == 0 || (*p && !quoted && *p != ';' && *p != ' ' &&
	    *p != '\t') || (quoted && *p != '"'))
		return -1;
	out[n] = '\0';
	return 0;
}

/* The first occurrence of needle (nlen bytes) in h[0..hlen), or NULL. */
static const char *
find(const char *h, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0 || hlen < nlen)
		return NULL;
	return memmem(h, hlen, needle, nlen);
}

/* Is this part's header block (h[0..n)) for form field name? */
static bool
part_named(const char *h, size_t n, const char *name)
{
	const char *p = h, *end = h + n, *eol, *q;
	size_t nl = strlen(name);

	while (p < end) {
		eol = find(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > 20 &&
		    ascii_ncasecmp(p, "Content-Disposition:", 20) == 0) {
			for (q = p + 20; q + 6 + nl + 1 <= eol; q++) {
				if ((q[-1] == ' ' || q[-1] == ';' ||
				    q[-1] == '\t') &&
				    ascii_ncasecmp(q, "name=\"", 6) == 0 &&
				    memcmp(q + 6, name, nl) == 0 &&
				    q[6 + nl] == '"')
					return true;
			}
		}
		p = eol + 2;
	}
	return false;
}

int
web_multipart_field(const char *body, size_t len, const char *boundary,
    const char *name, struct buf *out)
{
	char delim[80];
	const char *p, *end = body + len, *hend, *next;
	size_t dlen;

	buf_reset(out);
	dlen = (size_t)snprintf(delim, sizeof(delim), "--%s", boundary);
	if (dlen >= sizeof(delim) || dlen < 3)
		return -1;
	/* the first delimiter may start the body or follow a CRLF */
	if (len >= dlen && memcmp(body, delim, dlen) == 0)
		p = body + dlen;
	else {
		const char *d;

		dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s",
		    boundary);
		d = find(body, len, delim, dlen);
		if (d == NULL)
			return -1;
		p = d + dlen;
	}
	/* from now on every delimiter is CRLF--boundary */
	dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	for (;;) {
		if ((size_t)(end - p) >= 2 && p[0] == '-' && p[1] == '-')
			return 0;		/* the close delimiter */
		/* transport padding, then CRLF */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		p += 2;
		hend = find(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (hend == NULL) {
			/* a part with no header at all starts with CRLF */
			if ((size_t)(end - p) >= 2 && p[0] == '\r' &&
			    p[1] == '\n')
				hend = p - 2;
			else
				return -1;
		}
		next = find(hend + 4, (size_t)(end - (hend + 4)), delim, dlen);
		if (next == NULL)
			return -1;
		if (part_named(p, (size_t)(hend - p), name)) {
			if (buf_add(out, hend + 4, (size_t)(next - (hend + 4)))
			    == -1)
				return -1;
			buf_cstr(out);
			return 1;
		}
		p = next + dlen;
	}
}

int
web_post_field(const char *ct, const char *body, size_t len,
    const char *name, struct buf *out)
{
	char boundary[71];

	if (ct && ascii_ncasecmp(ct, "multipart/form-data", 19) == 0) {
		if (web_multipart_boundary(ct, boundary) == -1)
			return -1;
		return web_multipart_field(body, len, boundary, name, out);
	}
	return web_form_field(body, len, name, out);
}

static bool
loopback(const char *a)
{
	return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
	    strncmp(a, "::ffff:127.", 11) == 0;
}

void
web_client_address(const char *peer, const char *xff, char *out,
    size_t outlen)
{
	const char *s = peer ? peer : "", *e, *b;
	size_t n;

	if (outlen == 0)
		return;
	if (xff && *xff && loopback(s)) {
		e = xff + strlen(xff);
		while (e > xff && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		b = e;
		while (b > xff && b[-1] != ',')
			b--;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		if (b < e) {
			n = (size_t)(e - b);
			if (n > outlen - 1)
				n = outlen - 1;
			memcpy(out, b, n);
			out[n] = '\0';
			return;
		}
	}
	n = strlen(s);
	if (n > outlen - 1)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}
