/*
 * store_subs_state: the queries under the subscription state machine
 * (subscribers/subscription.c), beside store_subs.  Same conventions: a
 * STORE_* code, no transaction of their own.
 */
#ifndef HERALD_STORE_SUBS_STATE_H
#define HERALD_STORE_SUBS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"
#include "store_subs.h"

/* One subscription as the state machine sees it. */
struct sub_state {
	enum sub_status	 status;
	time_t		 since;		/* as store_subs_status() gives it */
	time_t		 pending_since;	/* when it last became pending (or
					   its creation) */
	long		 soft_bounces;
	int64_t		 soft_bounce_delivery;	/* the last counted; 0 none */
	bool		 ever_active;	/* confirmed or unsubscribed once */
};

/* The subscription of subscriber id to nl; *has false when none. */
enum store_rc	 store_subs_state(struct store *, int64_t id, const char *nl,
		    struct sub_state *out, bool *has) STORE_WUR;
/* Subscriber id (*found false when none); free with store_subs_info_free. */
enum store_rc	 store_subs_get(struct store *, int64_t id,
		    struct sub_info *out, bool *found) STORE_WUR;
/* Sets a subscription's soft-bounce count and last counted delivery. */
enum store_rc	 store_subs_set_soft(struct store *, int64_t id,
		    const char *nl, long count, int64_t delivery) STORE_WUR;
/*
 * *yes when a delivery of an issue of nl to subscriber id, with an id
 * between after and before (both excluded), was sent.
 */
enum store_rc	 store_subs_sent_between(struct store *, int64_t id,
		    const char *nl, int64_t after, int64_t before, bool *yes) STORE_WUR;

/* A pending subscription that waited too long. */
struct sub_pending {
	int64_t		 id;
	char		*newsletter;
	bool		 ever_active;
};
/*
 * The pending subscriptions of nl (NULL: all) pending since before cutoff;
 * *rows a new array (caller frees each newsletter and the array), *n its
 * length.
 */
enum store_rc	 store_subs_pending_before(struct store *, const char *nl,
		    time_t cutoff, struct sub_pending **rows, size_t *n) STORE_WUR;
/* Deletes subscription (id, nl). */
enum store_rc	 store_subs_delete_subscription(struct store *, int64_t id,
		    const char *nl) STORE_WUR;
/* *orphan when subscriber id has no subscription and no delivery left. */
enum store_rc	 store_subs_orphan(struct store *, int64_t id, bool *orphan) STORE_WUR;

/* What the web endpoint did for a newsletter (herald status). */
struct sub_web_counts {
	long	 pending;		/* pending subscriptions now */
	long	 one_click, page;	/* unsubscribes: RFC 8058 POST, a page's button */
	long	 signups, confirmed, expired;
};
/*
 * The pending count now, and the web's events of nl since `since` (one
 * pass over the events table: ~0.15 s per million events).
 */
enum store_rc	 store_subs_web_counts(struct store *, const char *nl,
		    time_t since, struct sub_web_counts *out);

#endif
