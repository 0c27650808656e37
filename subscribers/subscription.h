/*
 * subscription: the subscription state machine (DESIGN §1, §2).
 *
 *                 subscribe(pending)          confirm
 *   (none) ─────────────────────────▶ pending ───────▶ active
 *      │                                │  expire         │
 *      └──── subscribe(active) ─────────┼─────────────────┤
 *                                       ▼                 ▼
 *            (deleted, or unsubscribed if it ever was)  unsubscribed / bounced
 *
 * Every call that changes something is one transaction that also appends
 * its `events` row (kind and detail below), so `subscribers show` tells the
 * story; a call that changes nothing writes nothing and says so in its
 * outcome.  The CLI, the confirmation mail, the web endpoint and the bounce
 * processor all go through here; nobody else changes a subscription.
 *
 * Each function opens its own transaction (BEGIN IMMEDIATE): call it with
 * no transaction open.  They return a STORE_* code (STORE_BUSY: the
 * database stayed locked, try again); the outcome is valid when STORE_OK.
 * `via` is who asked ("cli", "web", "bounce" ...): the event detail starts
 * with it.
 */
#ifndef HERALD_SUBSCRIPTION_H
#define HERALD_SUBSCRIPTION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store.h"
#include "store_subs.h"
#include "store_subs_state.h"

/* What a call did (or why it did nothing). */
enum sub_outcome {
	SUB_CHANGED = 0,	/* the state changed; an event was written */
	SUB_UNCHANGED,		/* already in the wanted state: nothing written */
	SUB_REFUSED,		/* not allowed from the current state (see each) */
	SUB_NOT_FOUND,		/* no such subscriber, or no subscription */
	SUB_EXPIRED,		/* confirm: pending for longer than the expiry */
};

struct sub_result {
	enum sub_outcome outcome;
	int64_t		 id;		/* the subscriber (0: not found) */
	bool		 had;		/* a subscription existed before */
	enum sub_status	 before;	/* its status then (when had) */
	enum sub_status	 after;		/* its status now (when it exists) */
	time_t		 since;		/* when `before` began (when had) */
	long		 soft_bounces;	/* the count after a soft bounce */
	char		*email;		/* as stored; caller frees (sub_result_free) */
	char		*name;		/* as stored, or NULL */
};
void		 sub_result_free(struct sub_result *);	/* frees members */

struct sub_request {
	const char	*email;		/* a valid address (email_addr_valid) */
	const char	*name;		/* NULL: keep; "" clears */
	const char	*attrs;		/* JSON object text to merge, or NULL */
	bool		 pending;	/* wait for confirmation (double opt-in) */
	bool		 resubscribe;	/* allowed from unsubscribed / bounced */
	const char	*via;		/* "cli", "web" ... */
};

/*
 * Subscribes req->email to nl, creating the subscriber when new (with name
 * and attrs) or updating them when it exists.  Outcomes:
 *  CHANGED    none -> active|pending ("subscribe"); pending -> active
 *             without req->pending ("confirm", by the operator);
 *             unsubscribed|bounced -> active|pending with req->resubscribe
 *             ("subscribe", "<via>, resubscribe ...").
 *  UNCHANGED  already active (asked active or pending), or already pending
 *             and asked pending (the caller may resend the mail; the
 *             expiry counts from now again, and no event is written).
 *  REFUSED    unsubscribed or bounced without req->resubscribe.
 * Name and attributes are updated only when the subscription changes.
 */
enum store_rc	 sub_subscribe(struct store *, const char *nl,
		    const struct sub_request *req, time_t now,
		    struct sub_result *out);

/*
 * Confirms subscriber id's pending subscription to nl (the link of the
 * confirmation mail).  expiry: seconds a pending subscription lives (0:
 * forever).  CHANGED pending -> active ("confirm"); UNCHANGED already
 * active; EXPIRED pending longer than expiry (nothing changes: the daemon's
 * purge removes it); REFUSED unsubscribed or bounced (an old link after an
 * unsubscribe, or after an expiry); NOT_FOUND no such subscriber or
 * subscription.
 */
enum store_rc	 sub_confirm(struct store *, int64_t id, const char *nl,
		    long expiry, const char *via, time_t now,
		    struct sub_result *out);

/*
 * Unsubscribes subscriber id from nl.  CHANGED active|pending ->
 * unsubscribed ("unsubscribe", detail "<via>" or "<via>: <why>");
 * UNCHANGED already unsubscribed or bounced; NOT_FOUND.  Idempotent: a
 * second call writes nothing.
 */
enum store_rc	 sub_unsubscribe(struct store *, int64_t id, const char *nl,
		    const char *via, const char *why, time_t now,
		    struct sub_result *out);
/* The same, by address. */
enum store_rc	 sub_unsubscribe_email(struct store *, const char *email,
		    const char *nl, const char *via, const char *why,
		    time_t now, struct sub_result *out);

enum sub_bounce_kind {
	SUB_BOUNCE_HARD,	/* permanent: the address does not work */
	SUB_BOUNCE_SOFT,	/* temporary: counts toward soft_limit */
};

/*
 * Records a bounce of subscriber id's mail from nl.  delivery is the
 * deliveries row it bounced (0: unknown); why goes into the event.
 *  HARD: active|pending -> bounced (CHANGED, event "bounce", "hard: why").
 *  SOFT: an active subscription's count goes up (CHANGED, event "bounce",
 *        "soft n/limit: why"); at soft_limit in a row it becomes bounced.
 *        A delivery of nl to them sent after the last soft-bounced one and
 *        before this one resets the count to 1 first (the bounces were not
 *        in a row).  The same delivery twice (a repeated DSN) and a
 *        delivery older than the last counted one change nothing.
 *        soft_limit < 1 counts as 1.
 * UNCHANGED when already bounced or unsubscribed (a bounce of the last
 * issue arriving after the unsubscribe), or a repeated delivery;
 * NOT_FOUND.  out->soft_bounces is the count after the call.
 */
enum store_rc	 sub_bounce(struct store *, int64_t id, const char *nl,
		    enum sub_bounce_kind, int64_t delivery, long soft_limit,
		    const char *via, const char *why, time_t now,
		    struct sub_result *out);

/*
 * Erases the subscriber with this address and all its history (GDPR); an
 * "erase" event without the address records that it happened.  CHANGED,
 * or NOT_FOUND.  *er (when not NULL) counts what went.
 */
enum store_rc	 sub_remove(struct store *, const char *email,
		    time_t now, struct sub_result *out,
		    struct sub_erased *er);

/*
 * Reads subscriber id's subscription to nl without changing anything
 * (*has false when there is none): what a page shows before its button.
 */
enum store_rc	 sub_state(struct store *, int64_t id, const char *nl,
		    struct sub_state *out, bool *has);

/* Reads subscriber id (*found false when none); store_subs_info_free(). */
enum store_rc	 sub_who(struct store *, int64_t id, struct sub_info *out,
		    bool *found);

/*
 * Ends the pending subscriptions to nl (NULL: every newsletter) that have
 * waited longer than expiry seconds at now.  One that was never active nor
 * ended before is deleted, and its subscriber too when that leaves them
 * with no subscription and no delivery (an address someone typed and never
 * confirmed is not kept; an "expire" event without the address records
 * it); one that had been active or unsubscribed goes back to unsubscribed
 * ("expire").  *n (when not NULL) gets how many ended.  One transaction.
 */
enum store_rc	 sub_expire(struct store *, const char *nl, long expiry,
		    time_t now, long *n);

#endif
