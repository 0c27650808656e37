/*
 * store_subs: the queries on subscribers, subscriptions and their events.
 *
 * A subscriber is one person (email unique compared case-insensitively
 * through email_key, stored as given); a subscription is that person's
 * status in one newsletter.  Every function returns a STORE_* code
 * (STORE_BUSY: the database stayed locked past the busy timeout, exit 3).
 * None of them opens a transaction unless it says so: callers group writes
 * with store_begin() / store_commit().
 *
 * Strings handed to callbacks belong to the store and are valid only during
 * the call.
 */
#ifndef HERALD_STORE_SUBS_H
#define HERALD_STORE_SUBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

enum sub_status {
	SUB_PENDING = 0,
	SUB_ACTIVE,
	SUB_UNSUBSCRIBED,
	SUB_BOUNCED,
	SUB_NSTATUS
};

/* "pending", "active", ... (static). */
const char	*store_subs_status_name(enum sub_status);
/* Case-insensitive; -1 when s names no status. */
int		 store_subs_status_parse(const char *s, enum sub_status *out) STORE_WUR;

struct sub_info {
	int64_t		 id;
	char		*email;		/* as given */
	char		*name;		/* or NULL */
	char		*attributes;	/* JSON object text */
	time_t		 created;
};
void		 store_subs_info_free(struct sub_info *);	/* frees members */

/* Looks email up (case-insensitively); *found false when absent. */
enum store_rc	 store_subs_find(struct store *, const char *email,
		    struct sub_info *out, bool *found) STORE_WUR;
/*
 * The subscription of subscriber id to newsletter nl: *has false when there
 * is none; else its status and the time it was last changed (created,
 * confirmed or unsubscribed).
 */
enum store_rc	 store_subs_status(struct store *, int64_t id, const char *nl,
		    enum sub_status *status, time_t *since, bool *has) STORE_WUR;

/*
 * Inserts a subscriber unless its key exists: *inserted tells which, and
 * *id is the new row's id when inserted (else 0).  key is email_key(email);
 * attrs a JSON object text or NULL ("{}").
 */
enum store_rc	 store_subs_insert(struct store *, const char *email,
		    const char *key, const char *name, const char *attrs,
		    time_t created, int64_t *id, bool *inserted) STORE_WUR;
/*
 * Bulk import helpers (sub_import).  store_subs_insert_at() is
 * store_subs_insert() with the id chosen by the caller (it must be unused);
 * store_subs_max_id() gives the largest id so far (0 when none);
 * store_subs_find_key() looks a key (email_key()) up with its subscription
 * to nl in one query: *found false when there is no such subscriber, else
 * *id, and *has with *status as store_subs_status() gives them.
 */
enum store_rc	 store_subs_insert_at(struct store *, int64_t id,
		    const char *email, const char *key, const char *name,
		    const char *attrs, time_t created, bool *inserted) STORE_WUR;
enum store_rc	 store_subs_max_id(struct store *, int64_t *max) STORE_WUR;
enum store_rc	 store_subs_find_key(struct store *, const char *key,
		    const char *nl, int64_t *id, bool *found, bool *has,
		    enum sub_status *status) STORE_WUR;
/* Adds subscription (id, nl) with a status; it must not exist yet. */
enum store_rc	 store_subs_subscribe(struct store *, int64_t id,
		    const char *nl, enum sub_status, time_t created) STORE_WUR;
/*
 * Changes a subscription's status, stamping confirmed (active),
 * unsubscribed (unsubscribed, bounced) or pending_since (pending) with now;
 * resets the soft-bounce count when it becomes active.
 */
enum store_rc	 store_subs_set_status(struct store *, int64_t id,
		    const char *nl, enum sub_status, time_t now) STORE_WUR;
/*
 * Updates the name (when name is not NULL) and merges attrs (a JSON object
 * text, when not NULL) into the attributes.
 */
enum store_rc	 store_subs_update(struct store *, int64_t id,
		    const char *name, const char *attrs) STORE_WUR;
/* Appends an event; id 0 and nl NULL store NULL. */
enum store_rc	 store_subs_event(struct store *, int64_t id, const char *nl,
		    const char *kind, const char *detail, time_t at) STORE_WUR;

/* What a GDPR erasure removed. */
struct sub_erased {
	long		 subscriptions, deliveries, events;
};
/* Deletes the subscriber and (ON DELETE CASCADE) all its history. */
enum store_rc	 store_subs_remove(struct store *, int64_t id,
		    struct sub_erased *) STORE_WUR;

/* Subscriptions of nl by status. */
enum store_rc	 store_subs_count(struct store *, const char *nl,
		    long counts[SUB_NSTATUS]) STORE_WUR;

/* One subscription row as list/export see it. */
struct sub_row {
	int64_t		 id;
	const char	*email;
	const char	*name;		/* or NULL */
	enum sub_status	 status;
	time_t		 created;	/* of the subscription */
	size_t		 nattrs;	/* attributes, in stored order */
	const char	**keys;
	const char	**values;
};
/*
 * Calls cb for each subscription of nl (only those with *filter when
 * filter is not NULL), oldest subscriber first.  A non-zero return from cb
 * stops the walk and is returned in *cbrc.  Streams: memory does not grow
 * with the number of rows.
 */
enum store_rc	 store_subs_each(struct store *, const char *nl,
		    const enum sub_status *filter,
		    int (*cb)(const struct sub_row *, void *), void *arg,
		    int *cbrc) STORE_WUR;
/*
 * The sorted union of attribute keys over the same rows; *keys is a new
 * array of new strings (caller frees each and the array).
 */
enum store_rc	 store_subs_attr_keys(struct store *, const char *nl,
		    const enum sub_status *filter, char ***keys, size_t *n) STORE_WUR;
/* Longest email and name (in characters) over the same rows. */
enum store_rc	 store_subs_widths(struct store *, const char *nl,
		    const enum sub_status *filter, int *email, int *name) STORE_WUR;

struct sub_subscription {
	const char	*newsletter;
	enum sub_status	 status;
	time_t		 created, confirmed, unsubscribed;	/* 0: never */
	long		 soft_bounces;
};
struct sub_event {
	time_t		 at;
	const char	*newsletter;	/* or NULL */
	const char	*kind;
	const char	*detail;	/* or NULL */
};
/* Each subscription of subscriber id, by newsletter. */
enum store_rc	 store_subs_each_subscription(struct store *, int64_t id,
		    void (*cb)(const struct sub_subscription *, void *),
		    void *arg) STORE_WUR;
/* Its latest `limit` events, oldest first. */
enum store_rc	 store_subs_each_event(struct store *, int64_t id, int limit,
		    void (*cb)(const struct sub_event *, void *), void *arg) STORE_WUR;

#endif
