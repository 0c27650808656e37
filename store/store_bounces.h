/*
 * store_bounces: the queries the bounce processor reads (which delivery a
 * bounce is about) and the counts `status` shows.  Changes to subscriptions
 * go through subscribers/subscription.c, not here.  STORE_* codes, no
 * transaction of their own.
 */
#ifndef HERALD_STORE_BOUNCES_H
#define HERALD_STORE_BOUNCES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

/* One delivery, as a bounce names it. */
struct bounce_delivery {
	int64_t		 id;		/* deliveries row */
	int64_t		 subscriber_id;
	char		*newsletter;	/* of its issue */
	char		*email;		/* the subscriber's, as stored */
	long		 issue_number;
};
void		 store_bounces_delivery_free(struct bounce_delivery *);

/* Delivery id; *found false when there is none (erased since). */
enum store_rc	 store_bounces_delivery(struct store *, int64_t id,
		    struct bounce_delivery *out, bool *found) STORE_WUR;
/*
 * The latest delivery to the subscriber with this address (compared
 * case-insensitively) of an issue created at or after `since`, of
 * newsletter nl (NULL: any).  *found false when herald has not mailed
 * that address in that time.
 */
enum store_rc	 store_bounces_mailed(struct store *, const char *email,
		    const char *nl, time_t since, struct bounce_delivery *out,
		    bool *found) STORE_WUR;

/* What `status` shows about bounces for a newsletter. */
struct bounce_counts {
	long		 bounced;	/* subscriptions now bounced */
	long		 soft;		/* active with soft bounces counted */
	long		 hard_events;	/* bounce events since `since` */
	long		 soft_events;
	long		 complaints;	/* feedback-loop unsubscribes */
	long		 mailto;	/* unsubscribes by mail */
};
enum store_rc	 store_bounces_counts(struct store *, const char *nl,
		    time_t since, struct bounce_counts *out) STORE_WUR;

#endif
