/*
 * bounces: one poll of the bounce mailbox (see bounces.h).
 */
#include "bounces.h"

#include <inttypes.h>
#include <stdlib.h>

#include <idn2.h>
#include <string.h>
#include <time.h>

#include "bounce.h"
#include "buf.h"
#include "log.h"
#include "mailbox.h"
#include "store_bounces.h"
#include "subscription.h"
#include "util.h"
#include "xmalloc.h"

#define WHY_MAX		300	/* bytes of the reason kept in an event */
#define NET_TIMEOUT	60	/* seconds per mailbox command */

struct ctx {
	struct store		*st;
	const struct config	*cfg;
	const struct token_key	*key;
	const struct bounces_opts *o;
	struct bounces_stats	*stats;
	time_t			 now;
};

/* s cut to at most max bytes, not inside a UTF-8 sequence. */
static void
add_cut(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	buf_add(b, s, n);
}

/* "user unknown 5.1.1: <diagnostic>" for the event and the report. */
static char *
why_of(const char *reason, const char *status, const char *diag)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, reason ? reason : "bounce");
	if (status)
		buf_printf(&b, " %s", status);
	if (diag) {
		buf_adds(&b, ": ");
		add_cut(&b, diag, WHY_MAX);
	}
	return buf_take(&b);
}

static bool
is_own_address(const struct config *cfg, const char *a)
{
	size_t i;

	for (i = 0; i < cfg->nnewsletters; i++) {
		const struct newsletter_conf *nl = &cfg->newsletters[i];

		if ((nl->from_addr && ascii_casecmp(nl->from_addr, a) == 0) ||
		    (nl->bounce_address &&
		    ascii_casecmp(nl->bounce_address, a) == 0))
			return true;
	}
	return false;
}

/* The one newsletter whose bounce_address the message was sent to. */
static const char *
newsletter_of_to(const struct config *cfg, const struct bounce *b)
{
	const char *found = NULL;
	size_t i, j;

	for (i = 0; i < cfg->nnewsletters; i++) {
		const struct newsletter_conf *nl = &cfg->newsletters[i];

		for (j = 0; j < b->nto; j++)
			if (nl->bounce_address &&
			    ascii_casecmp(nl->bounce_address, b->to[j]) == 0) {
				if (found && strcmp(found, nl->id) != 0)
					return NULL;	/* shared: any */
				found = nl->id;
			}
	}
	return found;
}

/*
 * addr with its domain in Unicode when the bounce gives its IDNA form
 * (herald mails ada@xn--exmple-cua.org for a subscriber stored as
 * ada@exämple.org): a new string, or NULL when there is no such form.
 */
static char *
unicode_form(const char *addr)
{
	const char *at = strrchr(addr, '@');
	char *dom = NULL, *out;

	if (at == NULL || strstr(at, "xn--") == NULL ||
	    idn2_to_unicode_8z8z(at + 1, &dom, 0) != IDN2_OK)
		return NULL;
	out = xasprintf("%.*s@%s", (int)(at - addr), addr, dom);
	idn2_free(dom);
	return out;
}

/*
 * The delivery the bounce is about: *how "VERP" or "recipient", and *r the
 * recipient entry that names the subscriber (or NULL).  0 found, 1 none,
 * or a STORE_* error (negative).
 */
static int
match(struct ctx *c, const struct bounce *b, struct bounce_delivery *d,
    const char **how, const struct bounce_rcpt **r)
{
	enum store_rc rc;
	const char *nl;
	bool found;
	size_t i, j;

	*r = NULL;
	for (i = 0; c->key && i < b->nverp; i++) {
		int64_t id;

		if (token_verp_parse(c->key, b->verp[i], &id) == -1)
			continue;
		if ((rc = store_bounces_delivery(c->st, id, d, &found)) != STORE_OK)
			return rc;
		if (!found)
			continue;
		*how = "VERP";
		for (j = 0; j < b->nrcpt; j++)
			if (ascii_casecmp(b->rcpt[j].addr, d->email) == 0) {
				*r = &b->rcpt[j];
				break;
			}
		return 0;
	}
	nl = newsletter_of_to(c->cfg, b);
	for (i = 0; i < b->nrcpt; i++) {
		if (is_own_address(c->cfg, b->rcpt[i].addr))
			continue;
		if ((rc = store_bounces_mailed(c->st, b->rcpt[i].addr, nl,
		    c->now - BOUNCES_RECENT, d, &found)) != STORE_OK)
			return rc;
		if (!found) {
			char *u = unicode_form(b->rcpt[i].addr);

			if (u)
				rc = store_bounces_mailed(c->st, u, nl,
				    c->now - BOUNCES_RECENT, d, &found);
			free(u);
			if (rc != STORE_OK)
				return rc;
		}
		if (found) {
			*how = "recipient";
			*r = &b->rcpt[i];
			return 0;
		}
	}
	return 1;
}

static void
say_outcome(struct buf *line, const struct sub_result *res, bool soft,
    long limit, struct bounces_stats *stats)
{
	switch (res->outcome) {
	case SUB_CHANGED:
		stats->changed++;
		if (res->after == SUB_BOUNCED)
			buf_adds(line, soft ? "bounced (soft limit reached)" :
			    "bounced");
		else if (res->after == SUB_UNSUBSCRIBED)
			buf_adds(line, "unsubscribed");
		else if (soft)
			buf_printf(line, "soft bounce %ld of %ld counted",
			    res->soft_bounces, limit);
		else
			buf_adds(line, "changed");
		break;
	case SUB_UNCHANGED:
		if (res->had && (res->before == SUB_BOUNCED ||
		    res->before == SUB_UNSUBSCRIBED))
			buf_printf(line, "already %s, nothing changed",
			    res->before == SUB_BOUNCED ? "bounced" :
			    "unsubscribed");
		else
			buf_adds(line, "already counted, nothing changed");
		break;
	case SUB_NOT_FOUND:
		buf_adds(line, "no such subscription, nothing changed");
		break;
	default:
		buf_adds(line, "nothing changed");
		break;
	}
}

/* A hard or soft bounce, or a complaint.  0, or a STORE_* error. */
static int
apply_bounce(struct ctx *c, const struct bounce *b, struct buf *line)
{
	struct bounce_delivery d;
	const struct bounce_rcpt *r;
	struct sub_result res;
	enum bounce_kind kind = b->kind;
	const char *how = NULL, *reason = b->reason, *status = b->status;
	const char *diag = b->diag;
	char *why = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = match(c, b, &d, &how, &r)) < 0)
		return rc;
	if (rc == 1) {
		c->stats->unmatched++;
		buf_adds(line, " herald has not mailed ");
		buf_adds(line, b->nrcpt ? b->rcpt[0].addr : "any address it names");
		buf_adds(line, " recently, nothing changed");
		return 0;
	}
	if (r && kind != BOUNCE_COMPLAINT) {
		kind = r->kind;
		reason = r->reason;
		status = r->status;
		diag = r->diag;
	}
	buf_printf(line, " %s #%ld to %s (by %s): ", d.newsletter,
	    d.issue_number, d.email, how);
	if (kind == BOUNCE_NOTICE || kind == BOUNCE_UNKNOWN) {
		buf_adds(line, "delivered there, nothing changed");
		goto out;
	}
	why = why_of(reason, status, diag);
	if (c->o->dry_run) {
		buf_adds(line, kind == BOUNCE_HARD ? "would mark bounced" :
		    kind == BOUNCE_SOFT ? "would count a soft bounce" :
		    "would unsubscribe");
		goto out;
	}
	if (kind == BOUNCE_COMPLAINT)
		rc = sub_unsubscribe(c->st, d.subscriber_id, d.newsletter,
		    "complaint", why, c->now, &res);
	else
		rc = sub_bounce(c->st, d.subscriber_id, d.newsletter,
		    kind == BOUNCE_HARD ? SUB_BOUNCE_HARD : SUB_BOUNCE_SOFT,
		    d.id, c->cfg->bounces.soft_limit, "bounce", why, c->now,
		    &res);
	if (rc != STORE_OK)
		goto out;
	say_outcome(line, &res, kind == BOUNCE_SOFT,
	    c->cfg->bounces.soft_limit, c->stats);
out:
	sub_result_free(&res);
	store_bounces_delivery_free(&d);
	free(why);
	return rc;
}

/* Mail to the List-Unsubscribe mailto address.  0 or a STORE_* error. */
static int
apply_unsubscribe(struct ctx *c, const struct bounce *b, struct buf *line)
{
	const char *only = newsletter_of_to(c->cfg, b);
	struct sub_result res;
	int64_t sid;
	bool any = false;
	size_t i;
	int rc = STORE_OK;
	char *why = xasprintf("request from %s", b->from ? b->from : "?");

	/* the link token of the message it answers: authenticated */
	if (b->token && c->key && token_subscriber(b->token, &sid) == 0) {
		for (i = 0; i < c->cfg->nnewsletters; i++) {
			const char *nl = c->cfg->newsletters[i].id;

			if (!token_check(c->key, b->token, sid, nl,
			    "unsubscribe"))
				continue;
			any = true;
			buf_printf(line, "%s subscriber #%" PRId64 " (token): ",
			    nl, sid);
			if (c->o->dry_run) {
				buf_adds(line, "would unsubscribe; ");
				continue;
			}
			memset(&res, 0, sizeof(res));
			rc = sub_unsubscribe(c->st, sid, nl, "mailto", why,
			    c->now, &res);
			if (rc == STORE_OK) {
				say_outcome(line, &res, false, 0, c->stats);
			}
			sub_result_free(&res);
			if (rc != STORE_OK)
				goto out;
			buf_adds(line, "; ");
		}
	}
	/* else its sender, from the newsletters of the address it went to */
	for (i = 0; !any && b->from && i < c->cfg->nnewsletters; i++) {
		const char *nl = c->cfg->newsletters[i].id;

		if (only && strcmp(only, nl) != 0)
			continue;
		memset(&res, 0, sizeof(res));
		if (c->o->dry_run) {
			buf_printf(line, "%s %s: would unsubscribe if subscribed; ",
			    nl, b->from);
			continue;
		}
		rc = sub_unsubscribe_email(c->st, b->from, nl, "mailto", why,
		    c->now, &res);
		if (rc == STORE_OK && res.outcome != SUB_NOT_FOUND) {
			buf_printf(line, "%s %s: ", nl, b->from);
			say_outcome(line, &res, false, 0, c->stats);
			buf_adds(line, "; ");
			any = true;
		}
		sub_result_free(&res);
		if (rc != STORE_OK)
			goto out;
	}
	if (!any && !c->o->dry_run)
		buf_printf(line, "%s is not a subscriber, nothing changed",
		    b->from ? b->from : "the sender");
	else if (line->len >= 2 && line->data[line->len - 2] == ';')
		line->len -= 2;
	if (!any)
		c->stats->unmatched++;
out:
	free(why);
	return rc;
}

/*
 * One message: what it is, what it changes.  *done is set when it may
 * leave the mailbox.  0, or a STORE_* error.
 */
static int
handle(struct ctx *c, const struct bounce *b, struct buf *line, bool *done)
{
	buf_adds(line, bounce_kind_name(b->kind));
	if (b->reason || b->status) {
		buf_adds(line, " (");
		if (b->reason)
			buf_adds(line, b->reason);
		if (b->status)
			buf_printf(line, "%s%s", b->reason ? ", " : "", b->status);
		buf_adds(line, ")");
	}
	*done = true;
	switch (b->kind) {
	case BOUNCE_HARD:
	case BOUNCE_SOFT:
	case BOUNCE_COMPLAINT:
		if (b->kind == BOUNCE_COMPLAINT)
			c->stats->complaints++;
		else if (b->kind == BOUNCE_HARD)
			c->stats->hard++;
		else
			c->stats->soft++;
		buf_adds(line, ":");
		return apply_bounce(c, b, line);
	case BOUNCE_UNSUBSCRIBE:
		c->stats->unsubscribes++;
		buf_adds(line, ": ");
		return apply_unsubscribe(c, b, line);
	case BOUNCE_AUTOREPLY:
	case BOUNCE_NOTICE:
		c->stats->ignored++;
		buf_adds(line, ": ignored");
		return 0;
	case BOUNCE_UNKNOWN:
		break;
	}
	c->stats->unknown++;
	*done = false;
	buf_adds(line, ": from ");
	buf_adds(line, b->from ? b->from : "?");
	if (b->subject) {
		buf_adds(line, ", \"");
		add_cut(line, b->subject, 80);
		buf_adds(line, "\"");
	}
	buf_adds(line, ": not recognised, left in the mailbox");
	return 0;
}

/* How the message was read, for -v: a second, indented line. */
static void
explain(struct buf *line, const struct bounce *b)
{
	size_t i;

	buf_printf(line, "\n    read as %s; from %s", b->format,
	    b->from ? b->from : "?");
	if (b->subject) {
		buf_adds(line, "; subject \"");
		add_cut(line, b->subject, 80);
		buf_adds(line, "\"");
	}
	for (i = 0; i < b->nrcpt && i < 5; i++)
		buf_printf(line, "%s%s", i ? ", " : "; names ", b->rcpt[i].addr);
	for (i = 0; i < b->nverp && i < 3; i++)
		buf_printf(line, "%s%s", i ? ", " : "; VERP ", b->verp[i]);
	if (b->diag) {
		buf_adds(line, "; server said: ");
		add_cut(line, b->diag, 200);
	}
}

/*
 * One message's line: to the report, or to the log, where what changes
 * nothing (an auto-reply, a message left in the mailbox, seen again at
 * every poll) is debug.
 */
static void
report(const struct bounces_opts *o, const struct buf *line, bool quiet)
{
	if (o->report) {
		fwrite(line->data, 1, line->len, o->report);
		fputc('\n', o->report);
		fflush(o->report);
	} else if (quiet)
		log_debug("bounces: %s", buf_cstr(line));
	else
		log_info("bounces: %s", buf_cstr(line));
}

int
bounces_check(struct store *st, const struct config *cfg,
    const struct token_key *key, const struct bounces_opts *o,
    struct bounces_stats *stats, char **err)
{
	struct ctx c = { st, cfg, key, o, stats, time(NULL) };
	struct mailbox *mb = NULL;
	char **ids = NULL, *pw = NULL, *e = NULL;
	size_t n = 0, i;
	int rc;

	memset(stats, 0, sizeof(*stats));
	*err = NULL;
	if (!cfg->bounces.enabled || cfg->bounces.mailbox == NULL) {
		*err = xasprintf("no bounces: section in %s", cfg->path);
		return -1;
	}
	if (strncmp(cfg->bounces.mailbox, "maildir:", 8) != 0 &&
	    (cfg->bounces.password_env || cfg->bounces.password_file)) {
		char *why = NULL;

		pw = config_secret(cfg->bounces.password_env,
		    cfg->bounces.password_file, &why);
		if (pw == NULL) {
			*err = xasprintf("bounces: mailbox password: %s",
			    why ? why : "not set");
			free(why);
			return -1;
		}
	}
	rc = mailbox_open(cfg->bounces.mailbox, pw, NET_TIMEOUT, &mb, err);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (rc != 0)
		return rc;
	if ((rc = mailbox_list(mb, &ids, &n, err)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct buf line = BUF_INIT, ex = BUF_INIT;
		struct bounce b;
		char *data = NULL;
		size_t len = 0;
		bool done = false, quiet;
		int hr;

		if (o->stop && *o->stop)
			break;
		stats->messages++;
		buf_printf(&line, "%s %s: ", mailbox_kind(mb), ids[i]);
		if ((hr = mailbox_fetch(mb, ids[i], &data, &len, &e)) != 0) {
			stats->errors++;
			buf_printf(&line, "cannot read: %s", e);
			report(o, &line, false);
			buf_free(&line);
			free(e);
			e = NULL;
			if (hr == -2) {	/* the connection is gone */
				*err = xasprintf("bounces: %s mailbox: "
				    "connection lost", mailbox_kind(mb));
				rc = -2;
				goto out;
			}
			continue;
		}
		bounce_parse(data, len, &b);
		free(data);
		hr = handle(&c, &b, &line, &done);
		if (o->verbose)
			explain(&ex, &b);
		quiet = b.kind == BOUNCE_UNKNOWN || b.kind == BOUNCE_AUTOREPLY ||
		    b.kind == BOUNCE_NOTICE;
		bounce_free(&b);
		if (hr != STORE_OK) {
			*err = xasprintf("bounces: database: %s",
			    hr == STORE_BUSY ? "locked" : store_errmsg(st));
			rc = hr == STORE_BUSY ? -2 : -1;
			report(o, &line, false);
			buf_free(&line);
			buf_free(&ex);
			goto out;
		}
		if (done && o->dry_run)
			buf_adds(&line, " [dry run: left in place]");
		else if (done && mailbox_done(mb, ids[i], &e) != 0) {
			stats->errors++;
			buf_printf(&line, " [not moved: %s]", e);
			free(e);
			e = NULL;
			quiet = false;
		}
		if (ex.len)
			buf_add(&line, ex.data, ex.len);
		report(o, &line, quiet);
		buf_free(&line);
		buf_free(&ex);
		if (o->alive)
			o->alive();
	}
	rc = 0;
out:
	mailbox_ids_free(ids, n);
	if (mailbox_close(mb, &e) != 0 && rc == 0) {
		*err = e;
		e = NULL;
		rc = -2;
	}
	free(e);
	return rc;
}

int
bounces_poll(struct store *st, const struct config *cfg,
    volatile sig_atomic_t *stop, void (*alive)(void))
{
	struct bounces_opts o = { false, NULL, stop, alive, false };
	struct bounces_stats s;
	struct token_key *key;
	char *err = NULL;
	int rc;

	if ((key = token_key_load(cfg->secret_file, &err)) == NULL) {
		log_warn("bounces: %s", err);
		free(err);
		return -1;
	}
	rc = bounces_check(st, cfg, key, &o, &s, &err);
	token_key_free(key);
	if (rc != 0) {
		log_warn("bounces: %s%s", err, rc == -2 ? " (will retry)" : "");
		free(err);
		return rc;
	}
	if (s.changed || s.errors)
		log_info("bounces: %ld message%s: %ld hard, %ld soft, "
		    "%ld complaint(s), %ld unsubscribe(s), %ld ignored, "
		    "%ld unknown; %ld subscription(s) changed", s.messages,
		    s.messages == 1 ? "" : "s", s.hard, s.soft, s.complaints,
		    s.unsubscribes, s.ignored, s.unknown, s.changed);
	else if (s.messages)
		log_debug("bounces: %ld message(s), nothing changed (%ld left "
		    "in the mailbox)", s.messages, s.unknown);
	return 0;
}
