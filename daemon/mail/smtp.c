/*
 * smtp: libcurl multi sender with reused connections and a rate limit.
 * See smtp.h for the contract.
 */
#include "smtp.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "email.h"
#include "log.h"
#include "xmalloc.h"

struct slot {
	CURL		*easy;
	bool		 busy;
	struct buf	 msg;
	size_t		 off;		/* read position in msg */
	struct curl_slist *rcpt;
	void		*cookie;
	struct smtp_reply reply;
	bool		 in_tx;		/* MAIL FROM sent in this transfer */
	char		 errbuf[CURL_ERROR_SIZE];
};

/*
 * The rate limit's token bucket.  A sender split with smtp_split() shares
 * its parent's, under mu, so the limit holds across all slots together.
 * rate and burst never change after smtp_new().
 */
struct bucket {
	pthread_mutex_t	 mu;
	double		 rate;
	double		 burst;
	double		 tokens;	/* under mu */
	double		 last;		/* monotonic seconds of last refill */
};

struct smtp {
	CURLM		*multi;
	struct slot	*slots;
	size_t		 nslots;
	size_t		 inflight;
	struct bucket	*bk;		/* own, or the parent's (a part) */
	struct smtp	*parent;	/* a part: whose slots these are */
	size_t		 lent;		/* slots lent to a part */
};

static int curl_inited;

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reply parsing ---- */

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

static void
acc_add(struct smtp_reply *r, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && r->acclen + 1 < sizeof(r->acc); i++) {
		unsigned char c = (unsigned char)s[i];

		r->acc[r->acclen++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	r->acc[r->acclen] = '\0';
}

static void
reply_line(struct smtp_reply *r, const char *l, size_t n)
{
	int code = 0;
	bool more = false;

	if (n >= 3 && l[0] >= '2' && l[0] <= '5' && l[1] >= '0' &&
	    l[1] <= '9' && l[2] >= '0' && l[2] <= '9' &&
	    (n == 3 || l[3] == ' ' || l[3] == '-')) {
		code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		more = n > 3 && l[3] == '-';
	}
	if (!r->acc_open) {
		r->acclen = 0;
		r->acc[0] = '\0';
		acc_add(r, l, n);		/* "DDD text" as the server said */
	} else {
		acc_add(r, " ", 1);
		acc_add(r, n > 4 ? l + 4 : "", n > 4 ? n - 4 : 0);
	}
	if (more && code != 0) {
		r->acc_open = true;
		return;
	}
	r->acc_open = false;
	r->code = code;
	memcpy(r->text, r->acc, r->acclen + 1);
	if (r->err_code == 0 && code >= 400) {
		r->err_code = code;
		memcpy(r->err_text, r->acc, r->acclen + 1);
	}
}

void
smtp_reply_feed(struct smtp_reply *r, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\n') {
			size_t n = r->linelen;

			if (n > 0 && r->line[n - 1] == '\r')
				n--;
			reply_line(r, r->line, n);
			r->linelen = 0;
		} else if (r->linelen < sizeof(r->line)) {
			r->line[r->linelen++] = c;
		}
	}
}

enum smtp_result
smtp_classify(int cc, int code, bool in_tx)
{
	switch ((CURLcode)cc) {
	case CURLE_OK:
		return SMTP_SENT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return SMTP_CONNFAIL;
	default:
		break;
	}
	if (code >= 500 && code <= 599)
		return in_tx ? SMTP_PERMFAIL : SMTP_CONNFAIL;
	if (!in_tx && code == 0)
		return SMTP_CONNFAIL;	/* e.g. a connect that timed out */
	return SMTP_TEMPFAIL;
}

/* ---- libcurl callbacks ---- */

static size_t
read_cb(char *out, size_t size, size_t nmemb, void *arg)
{
	struct slot *s = arg;
	size_t want = size * nmemb, left = s->msg.len - s->off;

	if (want > left)
		want = left;
	memcpy(out, s->msg.data + s->off, want);
	s->off += want;
	return want;
}

static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct slot *s = arg;

	(void)h;
	if (type == CURLINFO_HEADER_IN)
		smtp_reply_feed(&s->reply, data, size);
	else if (type == CURLINFO_HEADER_OUT && size >= 9 &&
	    strncmp(data, "MAIL FROM", 9) == 0)
		s->in_tx = true;
	return 0;
}

/* ---- the sender ---- */

static int
setup_slot(struct slot *s, const struct smtp_opts *o, const char *url)
{
	CURL *e = curl_easy_init();
	long ssl;

	if (e == NULL)
		return -1;
	s->easy = e;
	buf_init(&s->msg, 0);
	switch (o->starttls) {
	case STARTTLS_REQUIRED:
		ssl = CURLUSESSL_ALL;
		break;
	case STARTTLS_OFF:
		ssl = CURLUSESSL_NONE;
		break;
	default:
		ssl = CURLUSESSL_TRY;
		break;
	}
	if (strncmp(url, "smtps:", 6) == 0)
		ssl = CURLUSESSL_ALL;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_USE_SSL, ssl);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, s);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);	/* feeds debug_cb */
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, o->timeout);
	curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, o->timeout);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->timeout);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/*
	 * libcurl's smallest upload buffer: it allocates twice this for
	 * dot-stuffing every message and frees it after, and at the default
	 * 64 KB that allocation came from (and went back to) the kernel each
	 * time: two brk() calls and fresh zeroed pages per message.
	 */
	curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
	if (o->username != NULL) {
		curl_easy_setopt(e, CURLOPT_USERNAME, o->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD,
		    o->password ? o->password : "");
	}
	return 0;
}

/* The URL with the EHLO name as its path when it has none. */
static char *
url_with_helo(const char *url, const char *helo)
{
	const char *p = strstr(url, "://");

	p = p ? p + 3 : url;
	if (helo == NULL || *helo == '\0' || strchr(p, '/') != NULL)
		return xstrdup(url);
	return xasprintf("%s/%s", url, helo);
}

struct smtp *
smtp_new(const struct smtp_opts *o, char **err)
{
	struct smtp *sm;
	struct bucket *bk;
	char *url;
	size_t i;

	*err = NULL;
	if (!curl_inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			*err = xstrdup("libcurl initialisation failed");
			return NULL;
		}
		curl_inited = 1;
	}
	sm = xcalloc(1, sizeof(*sm));
	sm->bk = xcalloc(1, sizeof(*sm->bk));
	pthread_mutex_init(&sm->bk->mu, NULL);
	sm->nslots = o->connections > 0 ? (size_t)o->connections : 1;
	sm->slots = xcalloc(sm->nslots, sizeof(*sm->slots));
	sm->multi = curl_multi_init();
	if (sm->multi == NULL) {
		*err = xstrdup("libcurl: cannot create a multi handle");
		goto fail;
	}
	curl_multi_setopt(sm->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)sm->nslots);
	curl_multi_setopt(sm->multi, CURLMOPT_MAXCONNECTS, (long)sm->nslots);
	url = url_with_helo(o->url, o->helo);
	for (i = 0; i < sm->nslots; i++) {
		if (setup_slot(&sm->slots[i], o, url) == -1) {
			*err = xstrdup("libcurl: cannot create a handle");
			free(url);
			goto fail;
		}
	}
	free(url);
	bk = sm->bk;
	bk->rate = o->rate > 0 ? o->rate : 0;
	bk->burst = bk->rate > 0 ? fmax(1.0, fmin(bk->rate / 10.0,
	    (double)sm->nslots)) : 0;
	bk->tokens = bk->burst;
	bk->last = now_mono();
	return sm;
fail:
	smtp_free(sm);
	return NULL;
}

void
smtp_free(struct smtp *sm)
{
	size_t i;

	if (sm == NULL)
		return;
	if (sm->parent != NULL)
		fatal("smtp: freeing a part; smtp_merge() it");
	sm->nslots += sm->lent;		/* a part not merged: its slots */
	for (i = 0; i < sm->nslots; i++) {
		struct slot *s = &sm->slots[i];

		if (s->easy == NULL)
			continue;
		if (s->busy)
			curl_multi_remove_handle(sm->multi, s->easy);
		curl_easy_cleanup(s->easy);
		curl_slist_free_all(s->rcpt);
		buf_free(&s->msg);
	}
	if (sm->multi)
		curl_multi_cleanup(sm->multi);
	free(sm->slots);
	pthread_mutex_destroy(&sm->bk->mu);
	free(sm->bk);
	free(sm);
}

struct smtp *
smtp_split(struct smtp *sm, size_t n)
{
	struct smtp *part;

	if (sm->parent != NULL || sm->lent != 0 || sm->inflight != 0 ||
	    n == 0 || n >= sm->nslots)
		return NULL;
	part = xcalloc(1, sizeof(*part));
	part->multi = curl_multi_init();
	if (part->multi == NULL) {
		free(part);
		return NULL;
	}
	curl_multi_setopt(part->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)n);
	curl_multi_setopt(part->multi, CURLMOPT_MAXCONNECTS, (long)n);
	/* the last n slots, in place: libcurl holds pointers to them */
	sm->nslots -= n;
	sm->lent = n;
	part->slots = sm->slots + sm->nslots;
	part->nslots = n;
	part->bk = sm->bk;
	part->parent = sm;
	return part;
}

void
smtp_merge(struct smtp *part)
{
	struct smtp *sm;
	size_t i;

	if (part == NULL)
		return;
	sm = part->parent;
	for (i = 0; i < part->nslots; i++) {
		struct slot *s = &part->slots[i];

		if (!s->busy)
			continue;
		curl_multi_remove_handle(part->multi, s->easy);
		s->busy = false;
		s->cookie = NULL;
	}
	curl_multi_cleanup(part->multi);	/* closes its connections */
	sm->nslots += sm->lent;
	sm->lent = 0;
	free(part);
}

/* Needs bk->mu held when the bucket is shared (always taken: cheap). */
static void
refill(struct bucket *bk)
{
	double t;

	t = now_mono();
	bk->tokens = fmin(bk->burst, bk->tokens + (t - bk->last) * bk->rate);
	bk->last = t;
}

bool
smtp_ready(struct smtp *sm)
{
	struct bucket *bk = sm->bk;
	bool ok;

	if (sm->inflight >= sm->nslots)
		return false;
	if (bk->rate <= 0)
		return true;
	pthread_mutex_lock(&bk->mu);
	refill(bk);
	ok = bk->tokens >= 1.0;
	pthread_mutex_unlock(&bk->mu);
	return ok;
}

size_t
smtp_slots(const struct smtp *sm)
{
	return sm->nslots;
}

size_t
smtp_inflight(const struct smtp *sm)
{
	return sm->inflight;
}

static bool
is_ascii(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p & 0x80)
			return false;
	return true;
}

int
smtp_submit(struct smtp *sm, const char *from, const char *rcpt,
    struct buf *msg, void *cookie)
{
	struct slot *s = NULL;
	struct buf tmp;
	size_t i;

	for (i = 0; i < sm->nslots; i++)
		if (!sm->slots[i].busy) {
			s = &sm->slots[i];
			break;
		}
	if (s == NULL)
		return -1;
	tmp = s->msg;
	s->msg = *msg;
	buf_reset(&tmp);
	*msg = tmp;
	s->off = 0;
	curl_slist_free_all(s->rcpt);
	if (is_ascii(rcpt))
		s->rcpt = curl_slist_append(NULL, rcpt);
	else {
		/* an IDN domain goes on the wire in its IDNA form */
		const char *why;
		char *a = email_to_ascii(rcpt, &why);

		s->rcpt = curl_slist_append(NULL, a ? a : rcpt);
		free(a);
	}
	if (s->rcpt == NULL)
		fatal("out of memory");
	smtp_reply_init(&s->reply);
	s->in_tx = false;
	s->errbuf[0] = '\0';
	s->cookie = cookie;
	curl_easy_setopt(s->easy, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, s->rcpt);
	curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)s->msg.len);
	if (curl_multi_add_handle(sm->multi, s->easy) != CURLM_OK)
		fatal("smtp: libcurl refused a transfer");
	s->busy = true;
	sm->inflight++;
	if (sm->bk->rate > 0) {
		/*
		 * Two senders sharing the bucket may both have seen the
		 * last token: it goes below 0 and the refill pays it back.
		 */
		pthread_mutex_lock(&sm->bk->mu);
		sm->bk->tokens -= 1.0;
		pthread_mutex_unlock(&sm->bk->mu);
	}
	return 0;
}

/*
 * After a timeout or any other error the connection's state is unknown (a
 * late reply may still arrive), so it must never carry another message:
 * libcurl 7.88 puts it back in its pool when the final reply to DATA timed
 * out (smtp_done's wait does not mark it for closing), and the next message
 * then read the late "554" as the reply to its MAIL FROM.  Shutting the
 * socket down makes libcurl's liveness check, run before any reuse, find it
 * dead and close it; the descriptor itself stays libcurl's to close.
 */
static void
drop_connection(CURL *easy)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	long port = 0;
	int mine;

	/*
	 * ACTIVESOCKET names the easy handle's last connection kept in the
	 * pool: when this transfer's connection was closed already, that can
	 * be an older one now carrying another message.  The local port
	 * (recorded per transfer) tells them apart.
	 */
	if (curl_easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD ||
	    curl_easy_getinfo(easy, CURLINFO_LOCAL_PORT, &port) != CURLE_OK ||
	    port <= 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET)
		mine = ntohs(((struct sockaddr_in *)&ss)->sin_port) == port;
	else if (ss.ss_family == AF_INET6)
		mine = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == port;
	else
		mine = 0;
	if (mine)
		shutdown(fd, SHUT_RDWR);
}

static size_t
collect_done(struct smtp *sm, smtp_done_fn done, void *arg)
{
	CURLMsg *m;
	int left;
	size_t n = 0;

	while ((m = curl_multi_info_read(sm->multi, &left)) != NULL) {
		struct smtp_outcome o;
		struct slot *s = NULL;
		char why[SMTP_REPLY_MAX + CURL_ERROR_SIZE + 32];
		long rc = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		o.cookie = s->cookie;
		o.code = s->reply.code;
		if (m->data.result != CURLE_OK && s->reply.err_code != 0) {
			o.code = s->reply.err_code;
			memcpy(s->reply.text, s->reply.err_text,
			    sizeof(s->reply.text));
		}
		if (o.code == 0) {
			curl_easy_getinfo(m->easy_handle,
			    CURLINFO_RESPONSE_CODE, &rc);
			o.code = (int)rc;
		}
		o.result = smtp_classify(m->data.result, o.code, s->in_tx);
		if (o.result == SMTP_SENT ||
		    (o.code >= 400 && o.code <= 599)) {
			o.reply = s->reply.text[0] ? s->reply.text :
			    (o.result == SMTP_SENT ? "250 (no reply text)" : "");
		} else {
			snprintf(why, sizeof(why), "%s%s%s%s%s",
			    curl_easy_strerror(m->data.result),
			    s->errbuf[0] ? ": " : "", s->errbuf,
			    s->reply.text[0] ? "; last reply: " : "",
			    s->reply.text);
			o.reply = why;
		}
		if (m->data.result != CURLE_OK)
			drop_connection(m->easy_handle);
		curl_multi_remove_handle(sm->multi, s->easy);
		s->busy = false;
		s->cookie = NULL;
		sm->inflight--;
		n++;
		done(&o, arg);
	}
	return n;
}

size_t
smtp_run(struct smtp *sm, int timeout_ms, smtp_done_fn done, void *arg)
{
	int running = 0, wait = timeout_ms < 0 ? 0 : timeout_ms;

	if (sm->bk->rate > 0 && sm->inflight < sm->nslots) {
		struct bucket *bk = sm->bk;
		double tokens;

		pthread_mutex_lock(&bk->mu);
		refill(bk);
		tokens = bk->tokens;
		pthread_mutex_unlock(&bk->mu);
		if (tokens < 1.0) {
			int due = (int)ceil((1.0 - tokens) / bk->rate * 1000);

			if (due < wait)
				wait = due;
		}
	}
	curl_multi_perform(sm->multi, &running);
	if (collect_done(sm, done, arg) > 0)
		return sm->inflight;
	if (wait > 0)
		curl_multi_poll(sm->multi, NULL, 0, wait, NULL);
	curl_multi_perform(sm->multi, &running);
	collect_done(sm, done, arg);
	return sm->inflight;
}

void
smtp_wakeup(struct smtp *sm)
{
	curl_multi_wakeup(sm->multi);
}

struct one {
	bool		 done;
	enum smtp_result result;
	char		*reply;
};

static void
one_done(const struct smtp_outcome *o, void *arg)
{
	struct one *r = arg;

	r->done = true;
	r->result = o->result;
	r->reply = xstrdup(o->reply ? o->reply : "");
}

enum smtp_result
smtp_send_one(struct smtp *sm, const char *from, const char *rcpt,
    struct buf *msg, long timeout, char **reply)
{
	struct one one;
	time_t deadline;

	memset(&one, 0, sizeof(one));
	*reply = NULL;
	if (smtp_submit(sm, from, rcpt, msg, NULL) == -1) {
		*reply = xstrdup("sender busy");
		return SMTP_TEMPFAIL;
	}
	/* Bounded: libcurl's timeouts end every transfer; this is a backstop. */
	deadline = time(NULL) + 6 * ((timeout > 0 ? timeout : 30) + 5);
	while (!one.done && time(NULL) < deadline)
		smtp_run(sm, 200, one_done, &one);
	if (!one.done) {
		*reply = xstrdup("no answer in time");
		return SMTP_TEMPFAIL;
	}
	*reply = one.reply;
	return one.result;
}
