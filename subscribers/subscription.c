/*
 * subscription: the subscription state machine.  Each public function is
 * one transaction: begin, read the current state, decide, write the change
 * and its event, commit; any early return rolls back.
 */
#include "subscription.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "store_subs_state.h"
#include "xmalloc.h"

void
sub_result_free(struct sub_result *r)
{
	free(r->email);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

static void
result_init(struct sub_result *r)
{
	memset(r, 0, sizeof(*r));
	r->outcome = SUB_NOT_FOUND;
}

/* Fills r from the subscriber row (borrowing nothing). */
static void
result_who(struct sub_result *r, const struct sub_info *si)
{
	r->id = si->id;
	free(r->email);
	free(r->name);
	r->email = xstrdup(si->email);
	r->name = si->name ? xstrdup(si->name) : NULL;
}

static void
result_had(struct sub_result *r, const struct sub_state *ss, bool has)
{
	r->had = has;
	if (has) {
		r->before = ss->status;
		r->after = ss->status;
		r->since = ss->since;
		r->soft_bounces = ss->soft_bounces;
	}
}

/* Commits, or rolls back on an earlier error. */
static enum store_rc
finish(struct store *st, enum store_rc rc)
{
	if (rc == STORE_OK)
		rc = store_commit(st);
	if (rc != STORE_OK)
		store_rollback(st);
	return rc;
}

/* "<via>" or "<via>: <why>" (new string). */
static char *
detail_of(const char *via, const char *why)
{
	if (via == NULL)
		via = "herald";
	if (why == NULL || *why == '\0')
		return xstrdup(via);
	return xasprintf("%s: %s", via, why);
}

enum store_rc
sub_subscribe(struct store *st, const char *nl, const struct sub_request *req,
    time_t now, struct sub_result *out)
{
	const char *via = req->via ? req->via : "herald", *kind = "subscribe";
	enum sub_status want = req->pending ? SUB_PENDING : SUB_ACTIVE;
	struct sub_info si = { 0 };
	struct sub_state ss;
	enum store_rc rc;
	char *key = NULL, *detail = NULL;
	bool found, has = false, inserted;
	int64_t id;

	result_init(out);
	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	if ((rc = store_subs_find(st, req->email, &si, &found)) != STORE_OK)
		goto out;
	if (found && (rc = store_subs_state(st, si.id, nl, &ss, &has)) !=
	    STORE_OK)
		goto out;
	if (found) {
		result_who(out, &si);
		result_had(out, &ss, has);
	}
	if (has && ss.status == SUB_ACTIVE) {
		out->outcome = SUB_UNCHANGED;
		goto out;
	}
	if (has && ss.status == SUB_PENDING && req->pending) {
		/* still waiting: the caller may send the mail again, whose
		 * link gets the whole expiry time again */
		rc = store_subs_set_status(st, si.id, nl, SUB_PENDING, now);
		out->outcome = SUB_UNCHANGED;
		goto out;
	}
	if (has && (ss.status == SUB_UNSUBSCRIBED ||
	    ss.status == SUB_BOUNCED) && !req->resubscribe) {
		out->outcome = SUB_REFUSED;
		goto out;
	}
	if (!found) {
		key = email_key(req->email);
		if ((rc = store_subs_insert(st, req->email, key, req->name,
		    req->attrs, now, &id, &inserted)) != STORE_OK)
			goto out;
		if (!inserted) {	/* cannot happen inside BEGIN IMMEDIATE */
			rc = STORE_ERR;
			goto out;
		}
		if ((rc = store_subs_get(st, id, &si, &found)) != STORE_OK)
			goto out;
		result_who(out, &si);
	} else {
		id = si.id;
		if ((req->name || req->attrs) && (rc = store_subs_update(st,
		    id, req->name, req->attrs)) != STORE_OK)
			goto out;
		if (req->name) {
			free(out->name);
			out->name = *req->name ? xstrdup(req->name) : NULL;
		}
	}
	if (!has) {
		rc = store_subs_subscribe(st, id, nl, want, now);
		detail = req->pending ? xasprintf("%s, pending confirmation",
		    via) : xstrdup(via);
	} else {
		rc = store_subs_set_status(st, id, nl, want, now);
		if (ss.status == SUB_PENDING) {
			kind = "confirm";
			detail = xasprintf("%s, confirmed by the operator", via);
		} else
			detail = req->pending ? xasprintf("%s, resubscribe "
			    "pending confirmation", via) :
			    xasprintf("%s, resubscribe", via);
	}
	if (rc != STORE_OK)
		goto out;
	if ((rc = store_subs_event(st, id, nl, kind, detail, now)) != STORE_OK)
		goto out;
	out->outcome = SUB_CHANGED;
	out->after = want;
out:
	rc = finish(st, rc);
	store_subs_info_free(&si);
	free(key);
	free(detail);
	return rc;
}

/*
 * Begins, finds subscriber id and its subscription to nl; NOT_FOUND in
 * out when either is missing.  *go true when the caller goes on.
 */
static enum store_rc
load(struct store *st, int64_t id, const char *nl, struct sub_state *ss,
    struct sub_result *out, bool *go)
{
	struct sub_info si = { 0 };
	enum store_rc rc;
	bool found, has = false;

	*go = false;
	result_init(out);
	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	if ((rc = store_subs_get(st, id, &si, &found)) != STORE_OK || !found)
		goto out;
	result_who(out, &si);
	if ((rc = store_subs_state(st, id, nl, ss, &has)) != STORE_OK || !has)
		goto out;
	result_had(out, ss, has);
	*go = true;
out:
	store_subs_info_free(&si);
	return rc;
}

enum store_rc
sub_confirm(struct store *st, int64_t id, const char *nl, long expiry,
    const char *via, time_t now, struct sub_result *out)
{
	struct sub_state ss;
	enum store_rc rc;
	bool go;

	if ((rc = load(st, id, nl, &ss, out, &go)) != STORE_OK || !go)
		goto out;
	switch (ss.status) {
	case SUB_ACTIVE:
		out->outcome = SUB_UNCHANGED;
		goto out;
	case SUB_UNSUBSCRIBED:
	case SUB_BOUNCED:
		out->outcome = SUB_REFUSED;
		goto out;
	default:
		break;
	}
	if (expiry > 0 && now - ss.pending_since > expiry) {
		out->outcome = SUB_EXPIRED;
		goto out;
	}
	if ((rc = store_subs_set_status(st, id, nl, SUB_ACTIVE, now)) !=
	    STORE_OK || (rc = store_subs_event(st, id, nl, "confirm",
	    via ? via : "herald", now)) != STORE_OK)
		goto out;
	out->outcome = SUB_CHANGED;
	out->after = SUB_ACTIVE;
out:
	return finish(st, rc);
}

enum store_rc
sub_unsubscribe(struct store *st, int64_t id, const char *nl,
    const char *via, const char *why, time_t now, struct sub_result *out)
{
	struct sub_state ss;
	enum store_rc rc;
	char *detail = NULL;
	bool go;

	if ((rc = load(st, id, nl, &ss, out, &go)) != STORE_OK || !go)
		goto out;
	if (ss.status == SUB_UNSUBSCRIBED || ss.status == SUB_BOUNCED) {
		out->outcome = SUB_UNCHANGED;
		goto out;
	}
	detail = detail_of(via, why);
	if ((rc = store_subs_set_status(st, id, nl, SUB_UNSUBSCRIBED, now)) !=
	    STORE_OK || (rc = store_subs_event(st, id, nl, "unsubscribe",
	    detail, now)) != STORE_OK)
		goto out;
	out->outcome = SUB_CHANGED;
	out->after = SUB_UNSUBSCRIBED;
out:
	free(detail);
	return finish(st, rc);
}

enum store_rc
sub_unsubscribe_email(struct store *st, const char *email, const char *nl,
    const char *via, const char *why, time_t now, struct sub_result *out)
{
	struct sub_info si = { 0 };
	enum store_rc rc;
	bool found;

	/*
	 * The lookup outside the transaction is safe: an id never changes
	 * owner while the row exists, and sub_unsubscribe() reads it again.
	 */
	result_init(out);
	if ((rc = store_subs_find(st, email, &si, &found)) != STORE_OK)
		return rc;
	if (!found)
		return STORE_OK;
	rc = sub_unsubscribe(st, si.id, nl, via, why, now, out);
	store_subs_info_free(&si);
	return rc;
}

enum store_rc
sub_bounce(struct store *st, int64_t id, const char *nl,
    enum sub_bounce_kind kind, int64_t delivery, long soft_limit,
    const char *via, const char *why, time_t now, struct sub_result *out)
{
	struct sub_state ss;
	enum store_rc rc;
	char *detail = NULL, *base = NULL;
	long count;
	bool go, between;

	if (soft_limit < 1)
		soft_limit = 1;
	if ((rc = load(st, id, nl, &ss, out, &go)) != STORE_OK || !go)
		goto out;
	if (ss.status == SUB_UNSUBSCRIBED || ss.status == SUB_BOUNCED) {
		out->outcome = SUB_UNCHANGED;
		goto out;
	}
	base = detail_of(via, why);
	if (kind == SUB_BOUNCE_HARD) {
		detail = xasprintf("hard: %s", base);
		if ((rc = store_subs_set_status(st, id, nl, SUB_BOUNCED,
		    now)) != STORE_OK)
			goto out;
		out->after = SUB_BOUNCED;
	} else {
		if (ss.status != SUB_ACTIVE) {
			/* nothing is sent to a pending address but its
			 * confirmation mail: no count to keep */
			out->outcome = SUB_UNCHANGED;
			goto out;
		}
		if (delivery != 0 && ss.soft_bounce_delivery != 0 &&
		    delivery <= ss.soft_bounce_delivery) {
			out->outcome = SUB_UNCHANGED;	/* repeated or old */
			goto out;
		}
		count = ss.soft_bounces;
		if (delivery != 0 && ss.soft_bounce_delivery != 0 &&
		    count > 0) {
			if ((rc = store_subs_sent_between(st, id, nl,
			    ss.soft_bounce_delivery, delivery, &between)) !=
			    STORE_OK)
				goto out;
			if (between)
				count = 0;
		}
		count++;
		if ((rc = store_subs_set_soft(st, id, nl, count, delivery)) !=
		    STORE_OK)
			goto out;
		out->soft_bounces = count;
		if (count >= soft_limit) {
			detail = xasprintf("soft %ld/%ld, now bounced: %s",
			    count, soft_limit, base);
			if ((rc = store_subs_set_status(st, id, nl,
			    SUB_BOUNCED, now)) != STORE_OK)
				goto out;
			out->after = SUB_BOUNCED;
		} else
			detail = xasprintf("soft %ld/%ld: %s", count,
			    soft_limit, base);
	}
	if (delivery != 0) {
		char *d = xasprintf("%s (delivery #%" PRId64 ")", detail,
		    delivery);

		free(detail);
		detail = d;
	}
	if ((rc = store_subs_event(st, id, nl, "bounce", detail, now)) !=
	    STORE_OK)
		goto out;
	out->outcome = SUB_CHANGED;
out:
	free(base);
	free(detail);
	return finish(st, rc);
}

enum store_rc
sub_remove(struct store *st, const char *email, time_t now,
    struct sub_result *out, struct sub_erased *erp)
{
	struct sub_info si = { 0 };
	struct sub_erased er;
	enum store_rc rc;
	char *detail = NULL;
	bool found;

	result_init(out);
	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	if ((rc = store_subs_find(st, email, &si, &found)) != STORE_OK ||
	    !found)
		goto out;
	result_who(out, &si);
	if ((rc = store_subs_remove(st, si.id, &er)) != STORE_OK)
		goto out;
	/* the erasure is recorded, without the address */
	detail = xasprintf("subscriber #%" PRId64 " erased: %ld subscriptions, "
	    "%ld deliveries, %ld events", si.id, er.subscriptions,
	    er.deliveries, er.events);
	if ((rc = store_subs_event(st, 0, NULL, "erase", detail, now)) !=
	    STORE_OK)
		goto out;
	out->outcome = SUB_CHANGED;
	if (erp)
		*erp = er;
out:
	store_subs_info_free(&si);
	free(detail);
	return finish(st, rc);
}

enum store_rc
sub_expire(struct store *st, const char *nl, long expiry, time_t now,
    long *np)
{
	struct sub_pending *rows = NULL;
	struct sub_erased er;
	enum store_rc rc;
	size_t n = 0, i;
	char *detail;
	bool orphan;

	if (np)
		*np = 0;
	if (expiry <= 0)
		return STORE_OK;
	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	if ((rc = store_subs_pending_before(st, nl, now - expiry, &rows, &n))
	    != STORE_OK)
		goto out;
	for (i = 0; i < n && rc == STORE_OK; i++) {
		const struct sub_pending *p = &rows[i];

		if (p->ever_active) {
			if ((rc = store_subs_set_status(st, p->id,
			    p->newsletter, SUB_UNSUBSCRIBED, now)) == STORE_OK)
				rc = store_subs_event(st, p->id, p->newsletter,
				    "expire", "not confirmed in time; back to "
				    "unsubscribed", now);
			continue;
		}
		if ((rc = store_subs_delete_subscription(st, p->id,
		    p->newsletter)) != STORE_OK ||
		    (rc = store_subs_orphan(st, p->id, &orphan)) != STORE_OK)
			break;
		if (!orphan) {
			rc = store_subs_event(st, p->id, p->newsletter,
			    "expire", "not confirmed in time; subscription "
			    "deleted", now);
			continue;
		}
		if ((rc = store_subs_remove(st, p->id, &er)) != STORE_OK)
			break;
		detail = xasprintf("subscriber #%" PRId64 " not confirmed in "
		    "time: erased", p->id);
		rc = store_subs_event(st, 0, p->newsletter, "expire", detail,
		    now);
		free(detail);
	}
	if (rc == STORE_OK && np)
		*np = (long)n;
out:
	for (i = 0; i < n; i++)
		free(rows[i].newsletter);
	free(rows);
	return finish(st, rc);
}

enum store_rc
sub_state(struct store *st, int64_t id, const char *nl, struct sub_state *out,
    bool *has)
{
	return store_subs_state(st, id, nl, out, has);
}

enum store_rc
sub_who(struct store *st, int64_t id, struct sub_info *out, bool *found)
{
	return store_subs_get(st, id, out, found);
}
