/*
 * fetch: parallel downloads over libcurl's multi interface (see fetch.h).
 */
#include "fetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "feed.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

struct xfer {
	CURL		*h;
	struct fetch_req *r;
	struct curl_slist *hdrs;
	struct buf	 body;
	bool		 too_big;
	/* the response whose headers are being read (one per redirect hop) */
	long		 hop_code;
	char		 reason[64];
	char		*hop_url;	/* URL of the current hop */
	bool		 perm_chain;	/* every hop so far was 301/308 */
	char		*perm_url;
	char		*etag;
	char		*last_modified;
	char		 errbuf[CURL_ERROR_SIZE];
};

static bool curl_ready;

static void
fetch_global_init(void)
{
	CURLcode rc;

	if (curl_ready)
		return;
	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		fatal("fetch: initialising libcurl: %s", curl_easy_strerror(rc));
	atexit(curl_global_cleanup);
	curl_ready = true;
}

const char *
fetch_reason(long status)
{
	static const struct {
		long		 code;
		const char	*text;
	} reasons[] = {
		{ 200, "OK" }, { 301, "Moved Permanently" }, { 302, "Found" },
		{ 303, "See Other" }, { 304, "Not Modified" },
		{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
		{ 408, "Request Timeout" }, { 410, "Gone" },
		{ 429, "Too Many Requests" }, { 451, "Unavailable For Legal Reasons" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return "";
}

/* Seconds from an environment variable (tests only) as milliseconds. */
static long
env_ms(const char *name, long def_secs)
{
	const char *v = getenv(name);
	char *end;
	double d;

	if (v == NULL || *v == '\0')
		return def_secs * 1000;
	d = strtod(v, &end);
	if (*end != '\0' || !(d > 0) || d > 3600)
		return def_secs * 1000;
	return (long)(d * 1000);
}

/* Copies a header value: skips blanks, drops the trailing CR/LF/blanks. */
static char *
header_value(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' ||
	    p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return xstrndup(p, n);
}

/* base + ref -> absolute URL (curl's RFC 3986 resolution), or NULL. */
static char *
resolve(const char *base, const char *ref)
{
	CURLU *u = curl_url();
	char *out = NULL, *res = NULL;

	if (u == NULL)
		fatal("fetch: out of memory");
	if (base && curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		goto out;
	res = xstrdup(out);
	curl_free(out);
out:
	curl_url_cleanup(u);
	return res;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	long code;
	int off = 0;

	if (n > 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A status line starts a response: "HTTP/1.1 404 Not Found". */
		if (sscanf(data, "HTTP/%*s %ld %n", &code, &off) < 1)
			return n;
		if (code < 200)		/* 100 Continue and friends */
			return n;
		x->hop_code = code;
		x->reason[0] = '\0';
		if (off > 0 && (size_t)off < n) {
			char *v = header_value(data + off, n - (size_t)off);

			snprintf(x->reason, sizeof(x->reason), "%s", v);
			free(v);
		}
		free(x->etag);
		free(x->last_modified);
		x->etag = x->last_modified = NULL;
		return n;
	}
	if (x->hop_code == 0)		/* file:// fakes headers: ignore */
		return n;
	if (n > 5 && ascii_ncasecmp(data, "etag:", 5) == 0) {
		free(x->etag);
		x->etag = header_value(data + 5, n - 5);
	} else if (n > 14 && ascii_ncasecmp(data, "last-modified:", 14) == 0) {
		free(x->last_modified);
		x->last_modified = header_value(data + 14, n - 14);
	} else if (n > 9 && ascii_ncasecmp(data, "location:", 9) == 0 &&
	    x->hop_code >= 300 && x->hop_code < 400) {
		char *loc = header_value(data + 9, n - 9);
		char *next = resolve(x->hop_url, loc);

		free(loc);
		if (next == NULL)
			return n;
		if (x->perm_chain && (x->hop_code == 301 || x->hop_code == 308)) {
			free(x->perm_url);
			x->perm_url = xstrdup(next);
		} else
			x->perm_chain = false;
		free(x->hop_url);
		x->hop_url = next;
	}
	return n;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (buf_add(&x->body, data, n) == -1) {
		x->too_big = true;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	return n;
}

static bool
header_safe(const char *s)
{
	return s && *s && strpbrk(s, "\r\n") == NULL && strlen(s) < 1024;
}

static struct xfer *
xfer_new(struct fetch_req *r, long connect_ms, long total_ms)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	CURL *h;

	fetch_req_clear(r);
	x->r = r;
	x->hop_url = xstrdup(r->url);
	x->perm_chain = true;
	buf_init(&x->body, FEED_MAX_SIZE);
	if ((h = x->h = curl_easy_init()) == NULL)
		fatal("fetch: curl_easy_init failed");
	if (header_safe(r->etag)) {
		char *hd = xasprintf("If-None-Match: %s", r->etag);

		x->hdrs = curl_slist_append(x->hdrs, hd);
		free(hd);
	}
	if (header_safe(r->last_modified)) {
		char *hd = xasprintf("If-Modified-Since: %s", r->last_modified);

		x->hdrs = curl_slist_append(x->hdrs, hd);
		free(hd);
	}
	x->hdrs = curl_slist_append(x->hdrs, "Accept: application/rss+xml, "
	    "application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
	    "text/xml;q=0.9, */*;q=0.8");
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRECTS);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)FEED_MAX_SIZE);
	curl_easy_setopt(h, CURLOPT_USERAGENT, FETCH_USER_AGENT);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	return x;
}

/* "text/xml; charset=ISO-8859-1" -> "ISO-8859-1" (new string) or NULL. */
static char *
content_charset(const char *ct)
{
	const char *p;
	size_t n;

	for (p = ct; p && *p; p++) {
		if (ascii_ncasecmp(p, "charset=", 8) != 0)
			continue;
		p += 8;
		if (*p == '"')
			p++;
		n = strcspn(p, "\"; \t");
		return n ? xstrndup(p, n) : NULL;
	}
	return NULL;
}

static bool
temporary_code(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static void
xfer_done(struct xfer *x, CURLcode rc, double total_s)
{
	struct fetch_req *r = x->r;
	char *s = NULL;
	long code = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	r->status = code;
	if (curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s)
		r->effective_url = xstrdup(s);
	if (rc != CURLE_OK) {
		const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);

		r->temporary = temporary_code(rc);
		if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED)
			r->error = xasprintf("response larger than the %u MB "
			    "limit", FEED_MAX_SIZE >> 20);
		else if (rc == CURLE_TOO_MANY_REDIRECTS)
			r->error = xasprintf("more than %d redirects",
			    FETCH_MAX_REDIRECTS);
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			r->error = xasprintf("timed out after %.1f s", total_s);
		else if (rc == CURLE_UNSUPPORTED_PROTOCOL && x->hop_code)
			r->error = xasprintf("redirected to a URL that is not "
			    "http or https (%s)", why);
		else
			r->error = xstrdup(why);
		return;
	}
	if (code == 304) {
		r->ok = r->not_modified = true;
	} else if (code == 0 || (code >= 200 && code < 300)) {
		r->ok = true;
		r->len = x->body.len;
		r->body = buf_take(&x->body);
		if (curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &s) ==
		    CURLE_OK && s)
			r->charset = content_charset(s);
	} else {
		const char *reason = x->reason[0] ? x->reason :
		    fetch_reason(code);

		r->error = xasprintf("HTTP %ld%s%s", code, *reason ? " " : "",
		    reason);
		r->temporary = code >= 500 || code == 429 || code == 408;
		return;
	}
	r->etag_out = x->etag;
	r->last_modified_out = x->last_modified;
	x->etag = x->last_modified = NULL;
	if (x->perm_url && strcmp(x->perm_url, r->url) != 0) {
		r->permanent_url = x->perm_url;
		x->perm_url = NULL;
	}
}

static void
xfer_free(struct xfer *x)
{
	curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	buf_free(&x->body);
	free(x->hop_url);
	free(x->perm_url);
	free(x->etag);
	free(x->last_modified);
	free(x);
}

static volatile sig_atomic_t *fetch_stop;

void
fetch_set_stop(volatile sig_atomic_t *stop)
{
	fetch_stop = stop;
}

void
fetch_all(struct fetch_req *reqs, size_t n)
{
	struct xfer *live[FETCH_PARALLEL] = { 0 };
	long connect_ms, total_ms;
	size_t next = 0, active = 0, i;
	CURLM *m;

	if (n == 0)
		return;
	fetch_global_init();
	connect_ms = env_ms("HERALD_FETCH_CONNECT_TIMEOUT", FETCH_CONNECT_TIMEOUT);
	total_ms = env_ms("HERALD_FETCH_TIMEOUT", FETCH_TIMEOUT);
	if ((m = curl_multi_init()) == NULL)
		fatal("fetch: curl_multi_init failed");
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)FETCH_PARALLEL);
	for (;;) {
		CURLMsg *msg;
		int running, left;

		if (fetch_stop != NULL && *fetch_stop != 0) {
			/* a signal: drop what is left, each as temporary */
			for (; next < n; next++) {
				reqs[next].error = xstrdup("interrupted");
				reqs[next].temporary = true;
				reqs[next].interrupted = true;
			}
			for (i = 0; i < FETCH_PARALLEL; i++) {
				if (live[i] == NULL)
					continue;
				curl_multi_remove_handle(m, live[i]->h);
				live[i]->r->error = xstrdup("interrupted");
				live[i]->r->temporary = true;
				live[i]->r->interrupted = true;
				xfer_free(live[i]);
				live[i] = NULL;
				active--;
			}
			break;
		}
		while (next < n && active < FETCH_PARALLEL) {
			struct xfer *x = xfer_new(&reqs[next++], connect_ms,
			    total_ms);

			log_debug("fetch: GET %s", x->r->url);
			curl_multi_add_handle(m, x->h);
			for (i = 0; live[i] != NULL; i++)
				;
			live[i] = x;
			active++;
		}
		if (active == 0)
			break;
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct xfer *x = NULL;
			double t = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME, &t);
			xfer_done(x, msg->data.result, t);
			log_debug("fetch: %s: %s (%.3f s)", x->r->url,
			    x->r->error ? x->r->error : "ok", t);
			curl_multi_remove_handle(m, x->h);
			for (i = 0; i < FETCH_PARALLEL; i++)
				if (live[i] == x)
					live[i] = NULL;
			xfer_free(x);
			active--;
		}
		/* Wait for activity; never spin when curl has nothing to do. */
		if (active > 0)
			curl_multi_poll(m, NULL, 0, running > 0 ? 1000 : 10,
			    NULL);
	}
	curl_multi_cleanup(m);
}

void
fetch_req_clear(struct fetch_req *r)
{
	free(r->body);
	free(r->charset);
	free(r->etag_out);
	free(r->last_modified_out);
	free(r->effective_url);
	free(r->permanent_url);
	free(r->error);
	r->body = r->charset = r->etag_out = r->last_modified_out = NULL;
	r->effective_url = r->permanent_url = r->error = NULL;
	r->len = 0;
	r->status = 0;
	r->ok = r->not_modified = r->temporary = r->interrupted = false;
}
