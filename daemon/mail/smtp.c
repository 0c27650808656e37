/*
 * smtp: the SMTP sender: libcurl makes each connection (connect, greeting,
 * EHLO, STARTTLS, AUTH: CURLOPT_CONNECT_ONLY), then this file speaks the
 * mail transaction itself over it (curl_easy_send/recv), without blocking,
 * for every connection from one poll loop.  See smtp.h for the contract.
 *
 * Why not libcurl's own SMTP transfer: it waits for the reply to the end of
 * the message inside curl_multi_perform (smtp_done's smtp_block_statemach),
 * blocking every other connection of the thread for one round trip per
 * message.  Through a relay 20 ms away that serialised the sender: 40, 75
 * and 86 messages/s with 4, 16 and 64 connections where smtp-source sent
 * 45, 162 and 548 (issue 13).  Here a connection waiting for a reply costs
 * nothing, and when the server offers PIPELINING (RFC 2920) MAIL, RCPT and
 * DATA go in one write: two round trips per message, as smtp-source.
 *
 * A connection is used for another message only after a clean exchange:
 * after a timeout, a reply that makes no sense, or a broken connection it
 * is closed (a late reply can never be taken for the next message's).
 * After a refused transaction RSET clears it.
 */
#include "smtp.h"

#include <curl/curl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "email.h"
#include "log.h"
#include "xmalloc.h"

enum slot_state {
	S_IDLE = 0,	/* no connection; the handle is in no multi */
	S_CONNECTING,	/* libcurl connects (greeting, EHLO, TLS, AUTH) */
	S_READY,	/* connected, no transaction */
	S_TX,		/* a transaction: replies expected */
};

/* What a reply we wait for answers. */
enum expect { X_MAIL, X_RCPT, X_DATA, X_FINAL, X_RSET };

#define NEXPECT	8

struct slot {
	CURL		*easy;
	enum slot_state	 state;
	curl_socket_t	 fd;
	bool		 pipelining;	/* the server offered PIPELINING */
	bool		 queued;	/* a message waits for the connection */
	struct buf	 msg;		/* the message being sent */
	struct buf	 from, rcpt;	/* envelope, NUL-terminated */
	struct buf	 out;		/* bytes to write */
	size_t		 outoff;
	enum expect	 exp[NEXPECT];	/* replies awaited, in order */
	size_t		 nexp;
	double		 deadline;	/* monotonic: the reply is late after */
	const char	*waiting;	/* what for, for the timeout message */
	void		*cookie;
	/* the transaction's outcome so far */
	int		 err_code;	/* first 4xx/5xx, 0 none */
	char		 err_text[SMTP_REPLY_MAX];
	struct smtp_reply reply;	/* the transaction's replies */
	/* the connection phase, through libcurl's debug callback */
	struct smtp_reply creply;
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
	long		 timeout;	/* seconds per reply */
	struct bucket	*bk;		/* own, or the parent's (a part) */
	struct smtp	*parent;	/* a part: whose slots these are */
	size_t		 lent;		/* slots lent to a part */
	struct pollfd	*pfd;		/* scratch for smtp_run */
	/* outcomes found by a step, reported by smtp_run */
	smtp_done_fn	 done;
	void		*done_arg;
	size_t		 reported;
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

size_t
smtp_reply_feed_one(struct smtp_reply *r, const char *data, size_t len,
    bool *complete)
{
	size_t i;

	*complete = false;
	for (i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\n') {
			size_t n = r->linelen;

			if (n > 0 && r->line[n - 1] == '\r')
				n--;
			reply_line(r, r->line, n);
			r->linelen = 0;
			if (!r->acc_open) {
				*complete = true;
				return i + 1;
			}
		} else if (r->linelen < sizeof(r->line)) {
			r->line[r->linelen++] = c;
		}
	}
	return len;
}

void
smtp_reply_feed(struct smtp_reply *r, const char *data, size_t len)
{
	bool complete;
	size_t off = 0;

	while (off < len)
		off += smtp_reply_feed_one(r, data + off, len - off,
		    &complete);
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

/* ---- libcurl: the connection phase ---- */

static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct slot *s = arg;

	(void)h;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	smtp_reply_feed(&s->creply, data, size);
	/* "250-PIPELINING" or "250 PIPELINING" in the EHLO reply */
	if (size >= 14 && strncmp(data, "250", 3) == 0 &&
	    strncasecmp(data + 4, "PIPELINING", 10) == 0 &&
	    (size == 14 || data[14] == '\r' || data[14] == '\n' ||
	    data[14] == ' '))
		s->pipelining = true;
	return 0;
}

static int
setup_slot(struct slot *s, const struct smtp_opts *o, const char *url)
{
	CURL *e = curl_easy_init();
	long ssl;

	if (e == NULL)
		return -1;
	s->easy = e;
	s->fd = CURL_SOCKET_BAD;
	buf_init(&s->msg, 0);
	buf_init(&s->from, 0);
	buf_init(&s->rcpt, 0);
	buf_init(&s->out, 0);
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
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_USE_SSL, ssl);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);	/* feeds debug_cb */
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, o->timeout);
	curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, o->timeout);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
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

/* ---- outcomes ---- */

static void
report(struct smtp *sm, struct slot *s, enum smtp_result r, int code,
    const char *text)
{
	struct smtp_outcome o;

	o.cookie = s->cookie;
	o.result = r;
	o.code = code;
	o.reply = text;
	s->cookie = NULL;
	s->queued = false;
	sm->inflight--;
	sm->reported++;
	sm->done(&o, sm->done_arg);
}

/* Closes the slot's connection (libcurl closes a CONNECT_ONLY one). */
static void
slot_close(struct smtp *sm, struct slot *s)
{
	if (s->state != S_IDLE)
		curl_multi_remove_handle(sm->multi, s->easy);
	s->state = S_IDLE;
	s->fd = CURL_SOCKET_BAD;
	s->nexp = 0;
	buf_reset(&s->out);
	s->outoff = 0;
	smtp_reply_init(&s->reply);
}

/* The message in flight fails for a reason of the connection; close it. */
static void
slot_fail(struct smtp *sm, struct slot *s, enum smtp_result r,
    const char *why)
{
	bool had = s->cookie != NULL || s->queued;

	slot_close(sm, s);
	if (had)
		report(sm, s, r, 0, why);
}

/* ---- the transaction ---- */

static void
out_cmd(struct slot *s, const char *verb, const char *arg)
{
	buf_adds(&s->out, verb);
	if (arg) {
		buf_adds(&s->out, arg);
		buf_adds(&s->out, ">");
	}
	buf_adds(&s->out, "\r\n");
}

static void
expect(struct smtp *sm, struct slot *s, enum expect x, const char *what)
{
	if (s->nexp < NEXPECT)
		s->exp[s->nexp++] = x;
	s->deadline = now_mono() + (double)sm->timeout;
	s->waiting = what;
}

/*
 * The message with dot-stuffing (RFC 5321 4.5.2) and the end of data, into
 * the output: a line that begins with '.' gets one more; lines are found
 * with memchr, not byte by byte.
 */
static void
out_body(struct slot *s)
{
	const char *p = s->msg.data ? s->msg.data : "", *end = p + s->msg.len;

	buf_grow(&s->out, s->msg.len + s->msg.len / 64 + 8);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (*p == '.')
			buf_addc(&s->out, '.');
		buf_add(&s->out, p, n);
		p += n;
	}
	if (s->msg.len > 0 && s->msg.data[s->msg.len - 1] != '\n')
		buf_adds(&s->out, "\r\n");
	buf_adds(&s->out, ".\r\n");
}

/* Starts the transaction of the slot's message on its ready connection. */
static void
tx_start(struct smtp *sm, struct slot *s)
{
	s->state = S_TX;
	s->err_code = 0;
	s->err_text[0] = '\0';
	s->nexp = 0;
	out_cmd(s, "MAIL FROM:<", buf_cstr(&s->from));
	expect(sm, s, X_MAIL, "MAIL FROM");
	if (s->pipelining) {
		out_cmd(s, "RCPT TO:<", buf_cstr(&s->rcpt));
		expect(sm, s, X_RCPT, "RCPT TO");
		out_cmd(s, "DATA", NULL);
		expect(sm, s, X_DATA, "DATA");
	}
}

/* The transaction is over (all replies in): report and keep or close. */
static void
tx_end(struct smtp *sm, struct slot *s, bool sent, int code,
    const char *text)
{
	s->state = S_READY;
	buf_reset(&s->out);
	s->outoff = 0;
	if (sent)
		report(sm, s, SMTP_SENT, code, text);
	else
		report(sm, s, s->err_code >= 500 ? SMTP_PERMFAIL :
		    SMTP_TEMPFAIL, s->err_code, s->err_text);
}

static void
note_err(struct slot *s, int code, const char *text)
{
	if (s->err_code == 0) {
		s->err_code = code;
		snprintf(s->err_text, sizeof(s->err_text), "%s", text);
	}
}

/* One complete reply (code 0: malformed). */
static void
on_reply(struct smtp *sm, struct slot *s, int code, const char *text)
{
	enum expect x;
	char why[SMTP_REPLY_MAX + 64];

	if (s->state != S_TX || s->nexp == 0 || code == 0 || code == 421) {
		/* unasked for, malformed, or the server closing: drop it */
		snprintf(why, sizeof(why), "%s%s", code == 0 ?
		    "malformed reply: " : code == 421 ? "" :
		    "reply out of turn: ", text);
		if (code == 421)
			note_err(s, code, text);
		slot_fail(sm, s, SMTP_TEMPFAIL, code == 421 ? s->err_text :
		    why);
		return;
	}
	x = s->exp[0];
	memmove(s->exp, s->exp + 1, (--s->nexp) * sizeof(s->exp[0]));
	s->deadline = now_mono() + (double)sm->timeout;
	switch (x) {
	case X_MAIL:
	case X_RCPT:
		if (code >= 200 && code < 300) {
			if (!s->pipelining && s->err_code == 0) {
				if (x == X_MAIL) {
					out_cmd(s, "RCPT TO:<",
					    buf_cstr(&s->rcpt));
					expect(sm, s, X_RCPT, "RCPT TO");
				} else {
					out_cmd(s, "DATA", NULL);
					expect(sm, s, X_DATA, "DATA");
				}
			}
			break;
		}
		note_err(s, code, text);
		if (!s->pipelining && x == X_RCPT) {
			out_cmd(s, "RSET", NULL);
			expect(sm, s, X_RSET, "RSET");
		}
		break;
	case X_DATA:
		if (code == 354) {
			if (s->err_code != 0) {
				/* DATA taken after a refusal: no sense */
				slot_fail(sm, s, SMTP_TEMPFAIL, "354 to DATA "
				    "after a refused command");
				return;
			}
			out_body(s);
			expect(sm, s, X_FINAL, "the end of data");
			break;
		}
		note_err(s, code, text);
		/* MAIL was taken (or refused): clear the transaction */
		out_cmd(s, "RSET", NULL);
		expect(sm, s, X_RSET, "RSET");
		break;
	case X_FINAL:
		if (code >= 200 && code < 300) {
			tx_end(sm, s, true, code, text);
			return;
		}
		note_err(s, code, text);
		break;
	case X_RSET:
		break;
	}
	if (s->nexp == 0 && s->state == S_TX)
		tx_end(sm, s, false, s->err_code, s->err_text);
}

/* Writes what is pending; -1 when the connection broke. */
static int
slot_flush(struct smtp *sm, struct slot *s)
{
	while (s->outoff < s->out.len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(s->easy, s->out.data + s->outoff,
		    s->out.len - s->outoff, &n);

		if (rc == CURLE_AGAIN)
			return 0;
		if (rc != CURLE_OK) {
			slot_fail(sm, s, SMTP_TEMPFAIL, curl_easy_strerror(rc));
			return -1;
		}
		s->outoff += n;
	}
	buf_reset(&s->out);
	s->outoff = 0;
	return 0;
}

/* Reads what arrived and acts on each reply; -1 when the connection went. */
static int
slot_read(struct smtp *sm, struct slot *s)
{
	char in[16384];

	for (;;) {
		size_t n = 0, off;
		CURLcode rc = curl_easy_recv(s->easy, in, sizeof(in), &n);

		if (rc == CURLE_AGAIN)
			return 0;
		if (rc != CURLE_OK || n == 0) {
			slot_fail(sm, s, SMTP_TEMPFAIL, rc != CURLE_OK ?
			    curl_easy_strerror(rc) :
			    "the server closed the connection");
			return -1;
		}
		for (off = 0; off < n; ) {
			bool complete;

			off += smtp_reply_feed_one(&s->reply, in + off,
			    n - off, &complete);
			if (!complete)
				continue;
			on_reply(sm, s, s->reply.code, s->reply.text);
			if (s->state == S_IDLE)
				return -1;
		}
	}
}

/*
 * True when an idle connection shows no sign of having been closed.  A
 * readable socket is not enough to say: under TLS it may hold records
 * that carry no data (a TLS 1.3 session ticket), so read: nothing to read
 * is alive; an EOF, an error or an unasked-for reply (a 421 before the
 * server hung up) is not.
 */
static bool
slot_alive(struct slot *s)
{
	struct pollfd p = { s->fd, POLLIN, 0 };
	char c[512];
	size_t n = 0;

	if (s->fd == CURL_SOCKET_BAD)
		return false;
	if (poll(&p, 1, 0) == 0)
		return true;
	return curl_easy_recv(s->easy, c, sizeof(c), &n) == CURLE_AGAIN;
}

/* Moves the slot along as far as it goes without waiting. */
static void
slot_step(struct smtp *sm, struct slot *s, double now)
{
	if (s->state == S_READY && s->queued) {
		if (!slot_alive(s)) {
			/* the server let it go while idle: a new one */
			curl_multi_remove_handle(sm->multi, s->easy);
			s->state = S_CONNECTING;
			s->pipelining = false;
			smtp_reply_init(&s->creply);
			s->errbuf[0] = '\0';
			curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, 1L);
			if (curl_multi_add_handle(sm->multi, s->easy) !=
			    CURLM_OK)
				fatal("smtp: libcurl refused a connection");
			return;
		}
		tx_start(sm, s);
	}
	if (s->state != S_TX)
		return;
	if (slot_flush(sm, s) == -1 || slot_read(sm, s) == -1)
		return;
	if (s->state == S_TX && s->outoff < s->out.len &&
	    slot_flush(sm, s) == -1)
		return;
	if (s->state == S_TX && s->nexp > 0 && now > s->deadline) {
		char why[128];

		snprintf(why, sizeof(why), "timeout: no reply to %s in %ld s",
		    s->waiting, sm->timeout);
		slot_fail(sm, s, SMTP_TEMPFAIL, why);
	}
}

/* A connection libcurl finished making (or failed to). */
static void
on_connected(struct smtp *sm, struct slot *s, CURLcode cc)
{
	char why[SMTP_REPLY_MAX + CURL_ERROR_SIZE + 32];
	int code;

	if (cc == CURLE_OK) {
		curl_socket_t fd = CURL_SOCKET_BAD;

		curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &fd);
		s->fd = fd;
		s->state = S_READY;
		if (fd != CURL_SOCKET_BAD)
			return;
		cc = CURLE_COULDNT_CONNECT;
	}
	code = s->creply.err_code ? s->creply.err_code : s->creply.code;
	if (code >= 400 && s->creply.err_code)
		snprintf(why, sizeof(why), "%s", s->creply.err_text);
	else
		snprintf(why, sizeof(why), "%s%s%s%s%s",
		    curl_easy_strerror(cc), s->errbuf[0] ? ": " : "",
		    s->errbuf, s->creply.text[0] ? "; last reply: " : "",
		    s->creply.text);
	slot_close(sm, s);
	if (s->queued)
		report(sm, s, smtp_classify(cc, code, false), code, why);
}

/* ---- the sender ---- */

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
	sm->pfd = xcalloc(sm->nslots, sizeof(*sm->pfd));
	sm->timeout = o->timeout > 0 ? o->timeout : 30;
	sm->multi = curl_multi_init();
	if (sm->multi == NULL) {
		*err = xstrdup("libcurl: cannot create a multi handle");
		goto fail;
	}
	curl_multi_setopt(sm->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)sm->nslots);
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

/* Says goodbye on an idle connection (best effort, never waits). */
static void
slot_quit(struct slot *s)
{
	size_t n;

	if (s->state == S_READY && s->fd != CURL_SOCKET_BAD)
		(void)curl_easy_send(s->easy, "QUIT\r\n", 6, &n);
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
		slot_quit(s);
		if (s->state != S_IDLE && sm->multi)
			curl_multi_remove_handle(sm->multi, s->easy);
		curl_easy_cleanup(s->easy);
		buf_free(&s->msg);
		buf_free(&s->from);
		buf_free(&s->rcpt);
		buf_free(&s->out);
	}
	if (sm->multi)
		curl_multi_cleanup(sm->multi);
	free(sm->slots);
	free(sm->pfd);
	pthread_mutex_destroy(&sm->bk->mu);
	free(sm->bk);
	free(sm);
}

struct smtp *
smtp_split(struct smtp *sm, size_t n)
{
	struct smtp *part;
	size_t i;

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
	/* the last n slots, in place; their connections were sm's */
	for (i = sm->nslots - n; i < sm->nslots; i++) {
		slot_quit(&sm->slots[i]);
		slot_close(sm, &sm->slots[i]);
	}
	sm->nslots -= n;
	sm->lent = n;
	part->slots = sm->slots + sm->nslots;
	part->nslots = n;
	part->pfd = xcalloc(n, sizeof(*part->pfd));
	part->timeout = sm->timeout;
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

		slot_quit(s);
		slot_close(part, s);
		s->cookie = NULL;
		s->queued = false;
	}
	curl_multi_cleanup(part->multi);
	sm->nslots += sm->lent;
	sm->lent = 0;
	free(part->pfd);
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

	/* a connected slot first, then any free one */
	for (i = 0; i < sm->nslots; i++) {
		struct slot *c = &sm->slots[i];

		if (c->queued)
			continue;
		if (c->state == S_READY) {
			s = c;
			break;
		}
		if (s == NULL)
			s = c;
	}
	if (s == NULL)
		return -1;
	tmp = s->msg;
	s->msg = *msg;
	buf_reset(&tmp);
	*msg = tmp;
	buf_reset(&s->from);
	buf_adds(&s->from, from);
	buf_reset(&s->rcpt);
	if (is_ascii(rcpt))
		buf_adds(&s->rcpt, rcpt);
	else {
		/* an IDN domain goes on the wire in its IDNA form */
		const char *why;
		char *a = email_to_ascii(rcpt, &why);

		buf_adds(&s->rcpt, a ? a : rcpt);
		free(a);
	}
	s->cookie = cookie;
	s->queued = true;
	sm->inflight++;
	if (s->state == S_IDLE) {
		s->state = S_CONNECTING;
		s->pipelining = false;
		smtp_reply_init(&s->creply);
		s->errbuf[0] = '\0';
		if (curl_multi_add_handle(sm->multi, s->easy) != CURLM_OK)
			fatal("smtp: libcurl refused a connection");
	}
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

/* Drives libcurl's connections and every transaction, without waiting. */
static void
step_all(struct smtp *sm)
{
	CURLMsg *m;
	int left, running = 0;
	double now;
	size_t i;

	curl_multi_perform(sm->multi, &running);
	while ((m = curl_multi_info_read(sm->multi, &left)) != NULL) {
		struct slot *s = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&s);
		if (s != NULL && s->state == S_CONNECTING)
			on_connected(sm, s, m->data.result);
	}
	now = now_mono();
	for (i = 0; i < sm->nslots; i++)
		slot_step(sm, &sm->slots[i], now);
}

/*
 * Waits for activity on libcurl's sockets (connections being made, the
 * wakeup) and on the transactions' sockets, at most wait ms.
 */
static void
poll_wait(struct smtp *sm, unsigned nfd, int wait)
{
	struct curl_waitfd wfd[256];
	unsigned i, n = nfd < 256 ? nfd : 256;

	for (i = 0; i < n; i++) {
		wfd[i].fd = sm->pfd[i].fd;
		wfd[i].events = (short)((sm->pfd[i].events & POLLIN ?
		    CURL_WAIT_POLLIN : 0) | (sm->pfd[i].events & POLLOUT ?
		    CURL_WAIT_POLLOUT : 0));
		wfd[i].revents = 0;
	}
	curl_multi_poll(sm->multi, wfd, n, wait, NULL);
}

size_t
smtp_run(struct smtp *sm, int timeout_ms, smtp_done_fn done, void *arg)
{
	int wait = timeout_ms < 0 ? 0 : timeout_ms;
	unsigned nfd = 0;
	double now, soonest = 0;
	size_t i;

	sm->done = done;
	sm->done_arg = arg;
	sm->reported = 0;
	step_all(sm);
	if (sm->reported > 0)
		return sm->inflight;
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
	now = now_mono();
	for (i = 0; i < sm->nslots; i++) {
		struct slot *s = &sm->slots[i];

		if (s->state != S_TX || s->fd == CURL_SOCKET_BAD)
			continue;
		sm->pfd[nfd].fd = s->fd;
		sm->pfd[nfd].events = POLLIN |
		    (s->outoff < s->out.len ? POLLOUT : 0);
		sm->pfd[nfd].revents = 0;
		nfd++;
		if (s->nexp > 0 && (soonest == 0 || s->deadline < soonest))
			soonest = s->deadline;
	}
	if (soonest > 0) {
		int due = (int)ceil((soonest - now) * 1000);

		if (due < 0)
			due = 0;
		if (due < wait)
			wait = due;
	}
	if (wait > 0)
		poll_wait(sm, nfd, wait);
	step_all(sm);
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
