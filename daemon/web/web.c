/*
 * web: the HTTP endpoint on libmicrohttpd.  See web.h for the routes.
 *
 * Threads: libmicrohttpd runs one thread per connection (at most
 * WEB_CONNECTIONS, each timed out after WEB_TIMEOUT idle seconds); the
 * store connection is shared under `lock`, held only for one state-machine
 * call.  Mail (the confirmation after a signup, the welcome after a
 * confirmation) is sent after the response has gone out, from the
 * request-completed callback: the reader never waits for the SMTP relay,
 * and a signup takes the same time whether or not a mail is sent.
 */
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "buf.h"
#include "confirm.h"
#include "email.h"
#include "log.h"
#include "mustache.h"
#include "store.h"
#include "subscription.h"
#include "token.h"
#include "util.h"
#include "web_http.h"
#include "xmalloc.h"

#define PAGE_TEMPLATE	"page.html.mustache"
#define PAGE_MAX	(256 * 1024)
#define RATE_SLOTS	1024
#define NAME_MAX_BYTES	200
#define WEB_DISCARD_MAX	(1024 * 1024)	/* body bytes dropped before closing */
#define EMAIL_MAX_BYTES	254

static const char csp[] = "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src 'none'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

struct rate_slot {
	char		 addr[80];
	time_t		 start;
	int		 n;
};

struct web {
	struct config		*cfg;		/* its own copy */
	struct MHD_Daemon	*mhd;
	int			 port;
	char			*prefix;	/* the path of base_url, or "" */
	struct token_key	*key;
	struct tmpl		*page;
	pthread_mutex_t		 page_lock;	/* page: rendering caches partials */

	pthread_mutex_t		 lock;		/* st */
	struct store		*st;

	pthread_mutex_t		 rate_lock;	/* rate, rate_all */
	struct rate_slot	 rate[RATE_SLOTS];
	time_t			 rate_all_start;
	int			 rate_all;

	pthread_t		 purger;
	bool			 purger_on;
	pthread_mutex_t		 stop_lock;
	pthread_cond_t		 stop_cond;
	bool			 stopping;
};

enum mail_after { MAIL_NONE = 0, MAIL_CONFIRM, MAIL_WELCOME };

/* One request, across the handler's calls. */
struct req {
	struct buf		 body;
	size_t			 seen;		/* body bytes received */
	bool			 too_big;
	bool			 answered;	/* the 413 is queued */
	enum mail_after		 mail;
	const struct newsletter_conf *nl;
	int64_t			 id;
	char			*email;
	char			*name;
};

/* ---- pages ----------------------------------------------------------- */

enum page_kind {
	PAGE_UNSUBSCRIBE, PAGE_UNSUBSCRIBED, PAGE_CONFIRM, PAGE_CONFIRMED,
	PAGE_EXPIRED, PAGE_INVALID, PAGE_SIGNUP, PAGE_SIGNED_UP, PAGE_ERROR,
};
static const char *const page_names[] = {
	"unsubscribe", "unsubscribed", "confirm", "confirmed", "expired",
	"invalid", "signup", "signed_up", "error",
};

struct page {
	enum page_kind	 kind;
	const char	*heading;
	const char	*message;	/* may be NULL */
	const char	*button;	/* NULL: no button form */
	const char	*field_name, *field_value;	/* a hidden field */
	const char	*field2_name, *field2_value;
	const char	*email;		/* signup pages */
};

/* Renders the page into a new string (*len its length). */
static char *
page_render(struct web *w, const struct newsletter_conf *nl,
    const struct page *pg, size_t *len)
{
	struct tmpl_value *ctx = tmpl_map(), *m, *form, *fields, *f;
	struct buf out;
	size_t i;
	int rc;

	buf_init(&out, PAGE_MAX);
	m = tmpl_map();
	tmpl_map_set(m, "title", tmpl_str(nl ? (nl->title ? nl->title :
	    nl->id) : "Newsletter"));
	tmpl_map_set(m, "id", tmpl_str(nl ? nl->id : NULL));
	tmpl_map_set(ctx, "newsletter", m);
	m = tmpl_map();
	for (i = 0; i < sizeof(page_names) / sizeof(page_names[0]); i++)
		tmpl_map_set(m, page_names[i], tmpl_bool(i == pg->kind));
	tmpl_map_set(ctx, "page", m);
	tmpl_map_set(ctx, "heading", tmpl_str(pg->heading));
	tmpl_map_set(ctx, "message", tmpl_str(pg->message));
	tmpl_map_set(ctx, "email", tmpl_str(pg->email));
	tmpl_map_set(ctx, "signup", tmpl_bool(pg->kind == PAGE_SIGNUP));
	if (pg->button) {
		form = tmpl_map();
		tmpl_map_set(form, "button", tmpl_str(pg->button));
		fields = tmpl_list();
		if (pg->field_name) {
			f = tmpl_map();
			tmpl_map_set(f, "name", tmpl_str(pg->field_name));
			tmpl_map_set(f, "value", tmpl_str(pg->field_value));
			tmpl_list_push(fields, f);
		}
		if (pg->field2_name) {
			f = tmpl_map();
			tmpl_map_set(f, "name", tmpl_str(pg->field2_name));
			tmpl_map_set(f, "value", tmpl_str(pg->field2_value));
			tmpl_list_push(fields, f);
		}
		tmpl_map_set(form, "fields", fields);
		tmpl_map_set(ctx, "form", form);
	}
	pthread_mutex_lock(&w->page_lock);
	rc = tmpl_render(w->page, ctx, &out);
	pthread_mutex_unlock(&w->page_lock);
	if (rc == -1) {
		buf_reset(&out);
		buf_adds(&out, "<!DOCTYPE html><title>herald</title>"
		    "<p>The page could not be shown.</p>\n");
	}
	tmpl_value_free(ctx);
	*len = out.len;
	return buf_take(&out);
}

static void
add_security_headers(struct MHD_Response *r, bool html)
{
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	/* every page either carries a token or depends on the database */
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Content-Type", html ?
	    "text/html; charset=utf-8" : "text/plain; charset=utf-8");
}

static enum MHD_Result
respond_page(struct web *w, struct MHD_Connection *c, unsigned status,
    const struct newsletter_conf *nl, const struct page *pg)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *html = page_render(w, nl, pg, &len);

	r = MHD_create_response_from_buffer(len, html, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(html);
		return MHD_NO;
	}
	add_security_headers(r, true);
	if (status == MHD_HTTP_TOO_MANY_REQUESTS)
		MHD_add_response_header(r, "Retry-After", "600");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
respond_text(struct MHD_Connection *c, unsigned status, const char *text,
    const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	add_security_headers(r, false);
	if (allow)
		MHD_add_response_header(r, "Allow", allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
respond_invalid(struct web *w, struct MHD_Connection *c)
{
	static const struct page pg = { PAGE_INVALID, "This link is not valid",
	    "It may have been cut short or changed on its way to you. Copy "
	    "the whole address from the mail, or use the link in the latest "
	    "issue.", NULL, NULL, NULL, NULL, NULL, NULL };

	return respond_page(w, c, MHD_HTTP_FORBIDDEN, NULL, &pg);
}

static enum MHD_Result
respond_busy(struct web *w, struct MHD_Connection *c,
    const struct newsletter_conf *nl)
{
	static const struct page pg = { PAGE_ERROR, "Please try again",
	    "The server is busy; nothing was changed. Try again in a "
	    "minute.", NULL, NULL, NULL, NULL, NULL, NULL };

	return respond_page(w, c, MHD_HTTP_SERVICE_UNAVAILABLE, nl, &pg);
}

/* ---- tokens ---------------------------------------------------------- */

/* The newsletter a valid token for action names, with its subscriber. */
static const struct newsletter_conf *
token_newsletter(struct web *w, const char *token, const char *action,
    int64_t *id)
{
	size_t i;

	if (strlen(token) > WEB_TOKEN_MAX || token_subscriber(token, id) == -1
	    || *id <= 0)
		return NULL;
	for (i = 0; i < w->cfg->nnewsletters; i++)
		if (token_check(w->key, token, *id, w->cfg->newsletters[i].id,
		    action))
			return &w->cfg->newsletters[i];
	return NULL;
}

/* ---- handlers -------------------------------------------------------- */

static enum MHD_Result
unsubscribe_page(struct web *w, struct MHD_Connection *c, const char *token)
{
	const struct newsletter_conf *nl;
	struct page pg = { 0 };
	int64_t id;

	if ((nl = token_newsletter(w, token, "unsubscribe", &id)) == NULL)
		return respond_invalid(w, c);
	pg.kind = PAGE_UNSUBSCRIBE;
	pg.heading = "Unsubscribe?";
	pg.message = "Press the button to stop receiving this newsletter.";
	pg.button = "Unsubscribe";
	pg.field_name = "List-Unsubscribe";
	pg.field_value = "One-Click";
	pg.field2_name = "via";
	pg.field2_value = "page";
	return respond_page(w, c, MHD_HTTP_OK, nl, &pg);
}

/* The preferences link of each issue: the subscription and a button. */
static enum MHD_Result
preferences_page(struct web *w, struct MHD_Connection *c, const char *token)
{
	const struct newsletter_conf *nl;
	struct sub_info si = { 0 };
	struct sub_state ss;
	struct page pg = { 0 };
	enum store_rc src;
	enum MHD_Result ret;
	bool found = false, has = false;
	char *msg = NULL;
	int64_t id;

	if ((nl = token_newsletter(w, token, "preferences", &id)) == NULL)
		return respond_invalid(w, c);
	pthread_mutex_lock(&w->lock);
	src = sub_who(w->st, id, &si, &found);
	if (src == STORE_OK && found)
		src = sub_state(w->st, id, nl->id, &ss, &has);
	pthread_mutex_unlock(&w->lock);
	if (src != STORE_OK) {
		store_subs_info_free(&si);
		return respond_busy(w, c, nl);
	}
	pg.kind = PAGE_UNSUBSCRIBE;
	pg.heading = "Your subscription";
	if (has && (ss.status == SUB_ACTIVE || ss.status == SUB_PENDING)) {
		msg = xasprintf("%s receives this newsletter. To stop it, press "
		    "the button.", si.email);
		pg.message = msg;
		pg.button = "Unsubscribe";
		pg.field_name = "List-Unsubscribe";
		pg.field_value = "One-Click";
		pg.field2_name = "via";
		pg.field2_value = "preferences page";
	} else {
		pg.kind = PAGE_UNSUBSCRIBED;
		pg.message = "This address does not receive this newsletter.";
	}
	ret = respond_page(w, c, MHD_HTTP_OK, nl, &pg);
	store_subs_info_free(&si);
	free(msg);
	return ret;
}

static enum MHD_Result
unsubscribe(struct web *w, struct MHD_Connection *c, const char *token,
    const char *action, struct req *rq)
{
	const struct newsletter_conf *nl;
	struct sub_result res;
	struct page pg = { 0 };
	struct buf v = BUF_INIT;
	const char *ct, *why = "one-click";
	enum store_rc src;
	bool one_click;
	int64_t id;

	if ((nl = token_newsletter(w, token, action, &id)) == NULL)
		return respond_invalid(w, c);
	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	buf_init(&v, 64);
	one_click = web_post_field(ct, buf_cstr(&rq->body), rq->body.len,
	    "List-Unsubscribe", &v) == 1 &&
	    strcmp(buf_cstr(&v), "One-Click") == 0;
	if (web_post_field(ct, buf_cstr(&rq->body), rq->body.len, "via",
	    &v) == 1) {
		if (strcmp(buf_cstr(&v), "page") == 0)
			why = "unsubscribe page";
		else if (strcmp(buf_cstr(&v), "preferences page") == 0)
			why = "preferences page";
	}
	buf_free(&v);
	if (!one_click)
		return respond_text(c, MHD_HTTP_BAD_REQUEST, "The body must be "
		    "List-Unsubscribe=One-Click (RFC 8058); nothing was "
		    "changed.\n", NULL);
	pthread_mutex_lock(&w->lock);
	src = sub_unsubscribe(w->st, id, nl->id, "web", why, time(NULL), &res);
	pthread_mutex_unlock(&w->lock);
	if (src != STORE_OK) {
		log_warn("web: unsubscribe of subscriber #%" PRId64 " from %s: "
		    "database %s", id, nl->id, src == STORE_BUSY ? "busy" :
		    "error");
		return respond_busy(w, c, nl);
	}
	if (res.outcome == SUB_CHANGED)
		log_info("web: subscriber #%" PRId64 " unsubscribed from %s "
		    "(%s)", id, nl->id, why);
	sub_result_free(&res);
	/* the same answer whatever it was: done, already, or unknown */
	pg.kind = PAGE_UNSUBSCRIBED;
	pg.heading = "You are unsubscribed";
	pg.message = "You will get no more issues of this newsletter.";
	return respond_page(w, c, MHD_HTTP_OK, nl, &pg);
}

static void
page_expired(struct page *pg)
{
	pg->kind = PAGE_EXPIRED;
	pg->heading = "This link has expired";
	pg->message = "Confirmation links work for a limited time, and "
	    "this one is no longer valid. Nothing was changed. To subscribe, "
	    "sign up again.";
}

static enum MHD_Result
confirm_page(struct web *w, struct MHD_Connection *c, const char *token)
{
	const struct newsletter_conf *nl;
	struct sub_state ss;
	struct page pg = { 0 };
	enum store_rc src;
	bool has = false;
	int64_t id;
	time_t now = time(NULL);
	long expiry = w->cfg->web.confirm_expiry;

	if ((nl = token_newsletter(w, token, "confirm", &id)) == NULL)
		return respond_invalid(w, c);
	pthread_mutex_lock(&w->lock);
	src = sub_state(w->st, id, nl->id, &ss, &has);
	pthread_mutex_unlock(&w->lock);
	if (src != STORE_OK)
		return respond_busy(w, c, nl);
	if (has && ss.status == SUB_ACTIVE) {
		pg.kind = PAGE_CONFIRMED;
		pg.heading = "You are subscribed";
		pg.message = "Your subscription is already confirmed.";
	} else if (has && ss.status == SUB_PENDING &&
	    !(expiry > 0 && now - ss.pending_since > expiry)) {
		pg.kind = PAGE_CONFIRM;
		pg.heading = "Confirm your subscription";
		pg.message = "Press the button to start receiving this "
		    "newsletter.";
		pg.button = "Confirm my subscription";
		pg.field_name = "confirm";
		pg.field_value = "yes";
	} else {
		page_expired(&pg);
		return respond_page(w, c, MHD_HTTP_GONE, nl, &pg);
	}
	return respond_page(w, c, MHD_HTTP_OK, nl, &pg);
}

static enum MHD_Result
confirm(struct web *w, struct MHD_Connection *c, const char *token,
    struct req *rq)
{
	const struct newsletter_conf *nl;
	struct sub_result res;
	struct page pg = { 0 };
	enum store_rc src;
	int64_t id;

	if ((nl = token_newsletter(w, token, "confirm", &id)) == NULL)
		return respond_invalid(w, c);
	pthread_mutex_lock(&w->lock);
	src = sub_confirm(w->st, id, nl->id, w->cfg->web.confirm_expiry,
	    "web", time(NULL), &res);
	pthread_mutex_unlock(&w->lock);
	if (src != STORE_OK)
		return respond_busy(w, c, nl);
	switch (res.outcome) {
	case SUB_CHANGED:
		log_info("web: subscriber #%" PRId64 " confirmed %s", id,
		    nl->id);
		if (w->cfg->web.welcome) {
			rq->mail = MAIL_WELCOME;
			rq->nl = nl;
			rq->id = id;
			rq->email = res.email;
			rq->name = res.name;
			res.email = res.name = NULL;
		}
		pg.kind = PAGE_CONFIRMED;
		pg.heading = "You are subscribed";
		pg.message = "Thank you for confirming. The next issue will be "
		    "in your inbox.";
		break;
	case SUB_UNCHANGED:
		pg.kind = PAGE_CONFIRMED;
		pg.heading = "You are subscribed";
		pg.message = "Thank you for confirming. The next issue will be "
		    "in your inbox.";
		break;
	default:
		page_expired(&pg);
		sub_result_free(&res);
		return respond_page(w, c, MHD_HTTP_GONE, nl, &pg);
	}
	sub_result_free(&res);
	return respond_page(w, c, MHD_HTTP_OK, nl, &pg);
}

/* The newsletter a signup path names ("" : the only one), or NULL. */
static const struct newsletter_conf *
signup_newsletter(struct web *w, const char *id)
{
	size_t i;

	if (!w->cfg->web.signup)
		return NULL;
	if (*id == '\0')
		return w->cfg->nnewsletters == 1 ? &w->cfg->newsletters[0] :
		    NULL;
	for (i = 0; i < w->cfg->nnewsletters; i++)
		if (strcmp(w->cfg->newsletters[i].id, id) == 0)
			return &w->cfg->newsletters[i];
	return NULL;
}

static void
signup_form(struct page *pg, const char *email, const char *message)
{
	pg->kind = PAGE_SIGNUP;
	pg->heading = "Subscribe";
	pg->message = message;
	pg->email = email;
}

/* True when the client may sign up once more now (and counts it). */
static bool
rate_take(struct web *w, const char *addr, time_t now)
{
	struct rate_slot *s;
	uint32_t h = 2166136261u;
	const char *p;
	bool ok = true;

	for (p = addr; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	pthread_mutex_lock(&w->rate_lock);
	if (now - w->rate_all_start >= WEB_SIGNUP_WINDOW) {
		w->rate_all_start = now;
		w->rate_all = 0;
	}
	s = &w->rate[h % RATE_SLOTS];
	if (strcmp(s->addr, addr) != 0 || now - s->start >= WEB_SIGNUP_WINDOW) {
		/* a new window (or another client takes the slot over) */
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		s->start = now;
		s->n = 0;
	}
	if (s->n >= WEB_SIGNUP_PER_CLIENT || w->rate_all >= WEB_SIGNUP_ALL)
		ok = false;
	else {
		s->n++;
		w->rate_all++;
	}
	pthread_mutex_unlock(&w->rate_lock);
	return ok;
}

static void
client_address(struct MHD_Connection *c, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci;
	char peer[INET6_ADDRSTRLEN] = "";
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && (sa = ci->client_addr) != NULL) {
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, peer, sizeof(peer));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, peer, sizeof(peer));
	}
	web_client_address(peer, MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, "X-Forwarded-For"), out, outlen);
}

static bool
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n > NAME_MAX_BYTES || !utf8_valid(s, n))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static enum MHD_Result
signup(struct web *w, struct MHD_Connection *c, const char *nlid,
    struct req *rq)
{
	const struct newsletter_conf *nl;
	struct sub_request req = { 0 };
	struct sub_result res;
	struct page pg = { 0 };
	struct buf email, name;
	const char *ct, *why;
	char addr[80], *msg = NULL;
	enum store_rc src;
	enum MHD_Result ret;
	int er, nr;

	if ((nl = signup_newsletter(w, nlid)) == NULL)
		return respond_text(c, MHD_HTTP_NOT_FOUND, "Not found.\n",
		    NULL);
	client_address(c, addr, sizeof(addr));
	if (!rate_take(w, addr, time(NULL))) {
		log_info("web: signup from %s refused: more than %d in %d "
		    "minutes", addr, WEB_SIGNUP_PER_CLIENT,
		    WEB_SIGNUP_WINDOW / 60);
		pg.kind = PAGE_ERROR;
		pg.heading = "Too many sign-ups";
		pg.message = "Too many sign-ups came from your address. Please "
		    "try again later.";
		return respond_page(w, c, MHD_HTTP_TOO_MANY_REQUESTS, nl, &pg);
	}
	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	buf_init(&email, EMAIL_MAX_BYTES + 1);
	buf_init(&name, NAME_MAX_BYTES * 4);
	er = web_post_field(ct, buf_cstr(&rq->body), rq->body.len, "email",
	    &email);
	nr = web_post_field(ct, buf_cstr(&rq->body), rq->body.len, "name",
	    &name);
	if (er != 1 || email.len > EMAIL_MAX_BYTES ||
	    !email_addr_valid(buf_cstr(&email), &why) || nr == -1 ||
	    !name_ok(buf_cstr(&name), name.len)) {
		signup_form(&pg, er == 1 && utf8_valid(buf_cstr(&email),
		    email.len) ? buf_cstr(&email) : NULL, nr == -1 ||
		    !name_ok(buf_cstr(&name), name.len) ? "That name cannot "
		    "be used; write it in plain text." : "That does not look "
		    "like an email address. Please check it.");
		ret = respond_page(w, c, MHD_HTTP_BAD_REQUEST, nl, &pg);
		goto out;
	}
	req.email = buf_cstr(&email);
	req.name = name.len ? buf_cstr(&name) : NULL;
	req.pending = true;
	req.resubscribe = true;		/* they asked, and confirm by mail */
	req.via = "web";
	pthread_mutex_lock(&w->lock);
	src = sub_subscribe(w->st, nl->id, &req, time(NULL), &res);
	pthread_mutex_unlock(&w->lock);
	if (src != STORE_OK) {
		ret = respond_busy(w, c, nl);
		goto out;
	}
	if (res.outcome == SUB_CHANGED || (res.outcome == SUB_UNCHANGED &&
	    res.before == SUB_PENDING)) {
		rq->mail = MAIL_CONFIRM;
		rq->nl = nl;
		rq->id = res.id;
		rq->email = res.email;
		rq->name = res.name;
		res.email = res.name = NULL;
		log_info("web: signup of subscriber #%" PRId64 " to %s from %s",
		    res.id, nl->id, addr);
	}
	sub_result_free(&res);
	/* the same answer whether or not they were subscribed already */
	msg = xasprintf("If %s is not subscribed yet, a mail with a link to "
	    "confirm is on its way to it. The link works for a limited time.",
	    buf_cstr(&email));
	pg.kind = PAGE_SIGNED_UP;
	pg.heading = "Check your inbox";
	pg.message = msg;
	pg.email = buf_cstr(&email);
	ret = respond_page(w, c, MHD_HTTP_OK, nl, &pg);
out:
	free(msg);
	buf_free(&email);
	buf_free(&name);
	return ret;
}

/* ---- libmicrohttpd glue ---------------------------------------------- */

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct web *w = cls;
	struct req *rq = *con_cls;
	struct web_route rt;
	struct page pg = { 0 };
	const char *cl;
	const struct newsletter_conf *nl;

	(void)version;
	if (rq == NULL) {
		rq = xcalloc(1, sizeof(*rq));
		buf_init(&rq->body, WEB_BODY_MAX);
		*con_cls = rq;
		/* refuse a body announced too large before it is sent */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > WEB_BODY_MAX) {
			rq->too_big = rq->answered = true;
			return respond_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
			    "Request body too large.\n", NULL);
		}
		return MHD_YES;
	}
	if (*upload_size != 0) {
		/*
		 * libmicrohttpd takes no response in the middle of a body:
		 * past the limit the rest is read and dropped (so that the
		 * client gets its 413), up to WEB_DISCARD_MAX, after which the
		 * connection is closed.
		 */
		rq->seen += *upload_size;
		if (!rq->too_big && buf_add(&rq->body, upload, *upload_size)
		    == -1)
			rq->too_big = true;
		*upload_size = 0;
		return rq->seen > WEB_DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (rq->too_big)
		return rq->answered ? MHD_YES : respond_text(c,
		    MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large.\n",
		    NULL);
	web_route(method, url, w->prefix, &rt);
	log_debug("web: %s %s", method, url);
	switch (rt.endpoint) {
	case WEB_UNSUBSCRIBE_PAGE:
		return unsubscribe_page(w, c, rt.token);
	case WEB_UNSUBSCRIBE:
		return unsubscribe(w, c, rt.token, "unsubscribe", rq);
	case WEB_PREFERENCES_PAGE:
		return preferences_page(w, c, rt.token);
	case WEB_PREFERENCES:
		return unsubscribe(w, c, rt.token, "preferences", rq);
	case WEB_CONFIRM_PAGE:
		return confirm_page(w, c, rt.token);
	case WEB_CONFIRM:
		return confirm(w, c, rt.token, rq);
	case WEB_SIGNUP_PAGE:
		if ((nl = signup_newsletter(w, rt.newsletter)) == NULL)
			break;
		signup_form(&pg, NULL, "Get each new issue by mail. We will "
		    "send you a link to confirm.");
		return respond_page(w, c, MHD_HTTP_OK, nl, &pg);
	case WEB_SIGNUP:
		return signup(w, c, rt.newsletter, rq);
	case WEB_BAD_METHOD:
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "Method not allowed.\n", rt.allow);
	case WEB_NOT_FOUND:
		break;
	}
	return respond_text(c, MHD_HTTP_NOT_FOUND, "Not found.\n", NULL);
}

/* After the response: send the mail the request asked for, then free. */
static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct web *w = cls;
	struct req *rq = *con_cls;
	struct confirm_rcpt r;
	enum confirm_result cr;
	char *reply = NULL;

	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	if (rq->mail != MAIL_NONE) {
		r.subscriber_id = rq->id;
		r.email = rq->email;
		r.name = rq->name;
		cr = confirm_send_mail(w->cfg, rq->nl, rq->mail == MAIL_WELCOME ?
		    CONFIRM_MAIL_WELCOME : CONFIRM_MAIL_CONFIRM, &r, &reply);
		if (cr == CONFIRM_SENT)
			log_info("web: %s mail to subscriber #%" PRId64 " sent "
			    "(%s)", rq->mail == MAIL_WELCOME ? "welcome" :
			    "confirmation", rq->id, reply);
		else
			log_warn("web: %s mail to subscriber #%" PRId64 " not "
			    "sent: %s", rq->mail == MAIL_WELCOME ? "welcome" :
			    "confirmation", rq->id, reply);
		free(reply);
	}
	buf_free(&rq->body);
	free(rq->email);
	free(rq->name);
	free(rq);
	*con_cls = NULL;
}

static void mhd_log(void *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("web: %s", msg);
}

/* ---- expiry ---------------------------------------------------------- */

static void *
purge_loop(void *arg)
{
	struct web *w = arg;
	struct timespec ts;
	enum store_rc src;
	long n;

	pthread_mutex_lock(&w->stop_lock);
	while (!w->stopping) {
		pthread_mutex_unlock(&w->stop_lock);
		pthread_mutex_lock(&w->lock);
		src = sub_expire(w->st, NULL, w->cfg->web.confirm_expiry,
		    time(NULL), &n);
		pthread_mutex_unlock(&w->lock);
		if (src != STORE_OK)
			log_warn("web: ending expired pending subscriptions: "
			    "database %s; trying again in a minute",
			    src == STORE_BUSY ? "busy" : "error");
		else if (n > 0)
			log_info("web: %ld pending subscription%s expired "
			    "unconfirmed", n, n == 1 ? "" : "s");
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 60;
		pthread_mutex_lock(&w->stop_lock);
		if (!w->stopping)
			pthread_cond_timedwait(&w->stop_cond, &w->stop_lock,
			    &ts);
	}
	pthread_mutex_unlock(&w->stop_lock);
	return NULL;
}

/* ---- start, stop ----------------------------------------------------- */

/* Parses "host:port" / "[v6]:port" into a socket address. */
static int
listen_addr(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
    char **err)
{
	struct addrinfo hints, *ai = NULL;
	const char *colon;
	char *host;
	int rc;

	colon = strrchr(listen, ':');
	if (colon == NULL || colon == listen) {
		*err = xasprintf("web.listen %s: expected HOST:PORT", listen);
		return -1;
	}
	if (listen[0] == '[' && colon[-1] == ']')
		host = xstrndup(listen + 1, (size_t)(colon - listen - 2));
	else
		host = xstrndup(listen, (size_t)(colon - listen));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		*err = xasprintf("web.listen %s: %s", listen, gai_strerror(rc));
		free(host);
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	free(host);
	return 0;
}

/* The path of base_url ("" when none), without a trailing slash. */
static char *
base_path(const char *base_url)
{
	const char *p = base_url ? strstr(base_url, "://") : NULL;
	char *s;
	size_t n;

	if (p == NULL || (p = strchr(p + 3, '/')) == NULL)
		return xstrdup("");
	s = xstrdup(p);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

struct web *
web_start(const struct config *running, char **err)
{
	const struct config *cfg;
	struct web *w;
	struct sockaddr_storage ss;
	socklen_t sslen;
	const union MHD_DaemonInfo *di;
	struct diags d = { 0 };
	sigset_t all, old;
	unsigned flags;
	bool busy;

	*err = NULL;
	if (!running->web.enabled || running->web.listen == NULL) {
		*err = xstrdup("no web: section with listen in the config");
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->page_lock, NULL);
	pthread_mutex_init(&w->rate_lock, NULL);
	pthread_mutex_init(&w->stop_lock, NULL);
	pthread_cond_init(&w->stop_cond, NULL);
	/*
	 * Its own copy of the configuration (the caller's was just loaded
	 * and checked from the same file): a daemon's reload frees the old
	 * one while requests may still be using it.
	 */
	w->cfg = config_load(running->path, &d);
	diags_free(&d);
	if ((cfg = w->cfg) == NULL) {
		*err = xasprintf("%s: cannot load it again", running->path);
		goto fail;
	}
	w->prefix = base_path(cfg->web.base_url);
	if (cfg->web.base_url && strncmp(cfg->web.base_url, "https://", 8) != 0)
		log_warn("web: base_url %s is not https: links travel in the "
		    "clear; outside testing, serve herald behind a TLS proxy "
		    "(docs/web.md)", cfg->web.base_url);
	if ((w->page = confirm_template(cfg, PAGE_TEMPLATE, TMPL_ESCAPE_HTML,
	    err)) == NULL)
		goto fail;
	if ((w->key = token_key_load(cfg->secret_file, err)) == NULL)
		goto fail;
	if ((w->st = store_open(cfg->database, err, &busy)) == NULL)
		goto fail;
	if (listen_addr(cfg->web.listen, &ss, &sslen, err) == -1)
		goto fail;
	(void)sslen;
	flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_POLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the server's threads take no signal: the caller's thread does */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	w->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, w,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_HEADERS_MAX,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONNECTIONS,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, w,
	    MHD_OPTION_END);
	if (w->mhd && pthread_create(&w->purger, NULL, purge_loop, w) == 0)
		w->purger_on = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->mhd == NULL) {
		*err = xasprintf("web.listen %s: cannot listen there (in use, "
		    "or not an address of this machine)", cfg->web.listen);
		goto fail;
	}
	di = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_BIND_PORT);
	w->port = di ? di->port : 0;
	return w;
fail:
	web_stop(w);
	return NULL;
}

void
web_stop(struct web *w)
{
	if (w == NULL)
		return;
	if (w->mhd)
		MHD_stop_daemon(w->mhd);
	if (w->purger_on) {
		pthread_mutex_lock(&w->stop_lock);
		w->stopping = true;
		pthread_cond_signal(&w->stop_cond);
		pthread_mutex_unlock(&w->stop_lock);
		pthread_join(w->purger, NULL);
	}
	store_close(w->st);
	token_key_free(w->key);
	tmpl_free(w->page);
	free(w->prefix);
	config_free(w->cfg);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->page_lock);
	pthread_mutex_destroy(&w->rate_lock);
	pthread_mutex_destroy(&w->stop_lock);
	pthread_cond_destroy(&w->stop_cond);
	free(w);
}

int
web_port(const struct web *w)
{
	return w->port;
}
