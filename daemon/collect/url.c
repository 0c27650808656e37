/*
 * url: reference resolution per RFC 3986 §5 (strict resolver: a reference
 * with its own scheme is used as it is).
 *
 * Surrounding whitespace and control characters are stripped from both
 * strings, and tabs and line breaks inside are dropped, as browsers do;
 * feeds often wrap long links.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "url.h"
#include "util.h"
#include "xmalloc.h"

struct uri {
	const char	*scheme;	size_t scheme_len;	bool has_scheme;
	const char	*auth;		size_t auth_len;	bool has_auth;
	const char	*path;		size_t path_len;
	const char	*query;		size_t query_len;	bool has_query;
	const char	*frag;		size_t frag_len;	bool has_frag;
};

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Splits s per RFC 3986 Appendix B; the parts point into s. */
static void
uri_split(const char *s, struct uri *u)
{
	const char *p = s;

	memset(u, 0, sizeof(*u));
	if (is_alpha((unsigned char)*p)) {
		const char *q = p + 1;

		while (is_alpha((unsigned char)*q) || (*q >= '0' && *q <= '9') ||
		    *q == '+' || *q == '-' || *q == '.')
			q++;
		if (*q == ':') {
			u->has_scheme = true;
			u->scheme = p;
			u->scheme_len = (size_t)(q - p);
			p = q + 1;
		}
	}
	if (p[0] == '/' && p[1] == '/') {
		u->has_auth = true;
		u->auth = p + 2;
		u->auth_len = strcspn(u->auth, "/?#");
		p = u->auth + u->auth_len;
	}
	u->path = p;
	u->path_len = strcspn(p, "?#");
	p += u->path_len;
	if (*p == '?') {
		u->has_query = true;
		u->query = p + 1;
		u->query_len = strcspn(u->query, "#");
		p = u->query + u->query_len;
	}
	if (*p == '#') {
		u->has_frag = true;
		u->frag = p + 1;
		u->frag_len = strlen(u->frag);
	}
}

/* RFC 3986 §5.2.4, appending the result to out. */
static void
remove_dots(const char *in, size_t n, struct buf *out)
{
	size_t start = out->len;
	size_t i = 0;

	while (i < n) {
		const char *p = in + i;
		size_t left = n - i;

		if (left >= 3 && memcmp(p, "../", 3) == 0) {
			i += 3;
		} else if (left >= 2 && memcmp(p, "./", 2) == 0) {
			i += 2;
		} else if (left >= 3 && memcmp(p, "/./", 3) == 0) {
			i += 2;
		} else if (left == 2 && memcmp(p, "/.", 2) == 0) {
			buf_addc(out, '/');
			i += 2;
		} else if ((left >= 4 && memcmp(p, "/../", 4) == 0) ||
		    (left == 3 && memcmp(p, "/..", 3) == 0)) {
			/* Drop the last output segment and its '/'. */
			size_t l = out->len;

			while (l > start && out->data[l - 1] != '/')
				l--;
			if (l > start)
				l--;
			out->len = l;
			if (out->data != NULL)
				out->data[l] = '\0';
			if (left == 3)
				buf_addc(out, '/');
			i += 3;		/* "/../" leaves the "/" of the next segment */
		} else if ((left == 1 && p[0] == '.') ||
		    (left == 2 && memcmp(p, "..", 2) == 0)) {
			i = n;
		} else {
			size_t seg = p[0] == '/' ? 1 : 0;

			while (seg < left && p[seg] != '/')
				seg++;
			buf_add(out, p, seg);
			i += seg;
		}
	}
}

/* Copies s without surrounding whitespace/controls or inner tab/CR/LF. */
static char *
url_clean(const char *s)
{
	size_t n = strlen(s);
	char *r, *w;

	while (n > 0 && (unsigned char)s[n - 1] <= 0x20)
		n--;
	while (n > 0 && (unsigned char)*s <= 0x20) {
		s++;
		n--;
	}
	r = w = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			*w++ = s[i];
	*w = '\0';
	return r;
}

char *
url_resolve(const char *base, const char *ref)
{
	struct uri b, r;
	struct buf out = BUF_INIT;
	char *cb = NULL, *cr;

	if (ref == NULL)
		return NULL;
	cr = url_clean(ref);
	if (base == NULL || *base == '\0')
		return cr;
	cb = url_clean(base);
	uri_split(cb, &b);
	uri_split(cr, &r);
	if (!b.has_scheme || r.has_scheme) {
		free(cb);
		return cr;
	}

	buf_add(&out, b.scheme, b.scheme_len);
	buf_addc(&out, ':');
	if (r.has_auth) {
		buf_adds(&out, "//");
		buf_add(&out, r.auth, r.auth_len);
		remove_dots(r.path, r.path_len, &out);
		if (r.has_query) {
			buf_addc(&out, '?');
			buf_add(&out, r.query, r.query_len);
		}
	} else {
		if (b.has_auth) {
			buf_adds(&out, "//");
			buf_add(&out, b.auth, b.auth_len);
		}
		if (r.path_len == 0) {
			buf_add(&out, b.path, b.path_len);
			if (r.has_query) {
				buf_addc(&out, '?');
				buf_add(&out, r.query, r.query_len);
			} else if (b.has_query) {
				buf_addc(&out, '?');
				buf_add(&out, b.query, b.query_len);
			}
		} else {
			if (r.path[0] == '/') {
				remove_dots(r.path, r.path_len, &out);
			} else {
				/* §5.2.3 merge, then remove dot segments. */
				struct buf m = BUF_INIT;

				if (b.has_auth && b.path_len == 0) {
					buf_addc(&m, '/');
				} else {
					size_t l = b.path_len;

					while (l > 0 && b.path[l - 1] != '/')
						l--;
					buf_add(&m, b.path, l);
				}
				buf_add(&m, r.path, r.path_len);
				remove_dots(m.data, m.len, &out);
				buf_free(&m);
			}
			if (r.has_query) {
				buf_addc(&out, '?');
				buf_add(&out, r.query, r.query_len);
			}
		}
	}
	if (r.has_frag) {
		buf_addc(&out, '#');
		buf_add(&out, r.frag, r.frag_len);
	}
	free(cb);
	free(cr);
	return buf_take(&out);
}

bool
url_is_relative(const char *url)
{
	struct uri u;

	if (url == NULL)
		return false;
	uri_split(url, &u);
	return !u.has_scheme;
}

bool
url_is_web(const char *url, bool mailto)
{
	struct uri u;

	if (url == NULL)
		return false;
	uri_split(url, &u);
	if (!u.has_scheme)
		return false;
	if (mailto && u.scheme_len == 6 &&
	    ascii_ncasecmp(u.scheme, "mailto", 6) == 0)
		return !u.has_auth && u.path_len > 0;
	if (!((u.scheme_len == 4 && ascii_ncasecmp(u.scheme, "http", 4) == 0) ||
	    (u.scheme_len == 5 && ascii_ncasecmp(u.scheme, "https", 5) == 0)))
		return false;
	/* A host: "http://" and "https:///x" are not links. */
	if (!u.has_auth || u.auth_len == 0)
		return false;
	for (size_t i = 0; i < u.auth_len; i++)
		if ((unsigned char)u.auth[i] <= 0x20 || u.auth[i] == 0x7f)
			return false;
	return u.auth[u.auth_len - 1] != '@' && u.auth[0] != ':';
}
