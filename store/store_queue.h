/*
 * store_queue: the queries of issues and deliveries (DESIGN §2).
 *
 * Issues are created with their articles and one delivery row per active
 * subscriber in one transaction (store_issue_create).  The sender streams
 * due rows in id order, a chunk at a time (store_deliveries_due), and
 * writes outcomes as they come, one transaction for those that arrived
 * together (store_deliveries_update), on a second connection.
 */
#ifndef HERALD_STORE_QUEUE_H
#define HERALD_STORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

struct store_issue {
	int64_t		 id;
	long		 number;
	char		*subject;	/* owned; store_issue_clear() frees */
	time_t		 created;
	bool		 done;
};

void		 store_issue_clear(struct store_issue *);

/* The newsletter's issue in state 'sending' (the oldest): 1, 0 none, -1. */
int		 store_issue_unfinished(struct store *, const char *newsletter,
		    struct store_issue *out) STORE_WUR;
/* The newsletter's latest issue (highest number): 1, 0 none, -1 error. */
int		 store_issue_last(struct store *, const char *newsletter,
		    struct store_issue *out) STORE_WUR;
/* Issue `number` of the newsletter: 1 found, 0 none, -1 error. */
int		 store_issue_by_number(struct store *, const char *newsletter,
		    long number, struct store_issue *out) STORE_WUR;
/*
 * The number the newsletter's next issue gets: the highest so far + 1 (1
 * when none); -1 on error.  The one place this is decided.
 */
long		 store_issue_next_number(struct store *, const char *newsletter) STORE_WUR;
/* The issue's article ids in position order (caller frees *ids); -1 error. */
long		 store_issue_articles(struct store *, int64_t issue_id,
		    int64_t **ids) STORE_WUR;

/*
 * In one transaction: the issue (state 'sending'), its articles (position
 * = index) and a 'queued' delivery due at `created` for every subscriber
 * whose subscription to the newsletter is active.  Fails (STORE_ERR) when
 * the newsletter already has issue `number`.  Sets *issue_id and
 * *ndeliveries.
 */
enum store_rc	 store_issue_create(struct store *, const char *newsletter,
		    long number, const char *subject, time_t created,
		    const int64_t *article_ids, size_t narticles,
		    int64_t *issue_id, long *ndeliveries) STORE_WUR;

/* One due delivery with its subscriber (strings owned by the struct). */
struct store_delivery {
	int64_t		 id;
	int64_t		 subscriber_id;
	long		 attempts;
	char		*email;
	char		*name;		/* may be NULL */
	char		*attributes;	/* JSON object text */
	bool		 active;	/* subscription still active */
};

void		 store_delivery_clear(struct store_delivery *);

/*
 * Up to max deliveries of the issue in state queued/deferred with
 * next_attempt <= now and id > after_id, in id order, into out[] (each
 * cleared by the caller with store_delivery_clear).  Returns how many, or
 * -1 on error.
 */
long		 store_deliveries_due(struct store *, int64_t issue_id,
		    time_t now, int64_t after_id, size_t max,
		    struct store_delivery *out) STORE_WUR;

/* One outcome to record; strings are the caller's. */
struct store_outcome {
	int64_t		 id;
	const char	*state;		/* "sent", "deferred", "failed", "queued" */
	long		 attempts;
	time_t		 next_attempt;
	const char	*reply;		/* last SMTP reply or reason */
	time_t		 sent;		/* 0: NULL */
	const char	*message_id;	/* may be NULL (kept as it was) */
};

/* Writes all n outcomes in one transaction. */
enum store_rc	 store_deliveries_update(struct store *,
		    const struct store_outcome *, size_t n) STORE_WUR;

/*
 * Counts of the issue's deliveries by state (queued, sent, deferred,
 * failed) and the earliest next_attempt of those still queued/deferred
 * (0 when none).
 */
struct store_queue_counts {
	long		 queued, sent, deferred, failed;
	time_t		 next_due;
};
enum store_rc	 store_issue_counts(struct store *, int64_t issue_id,
		    struct store_queue_counts *) STORE_WUR;
/* Marks the issue 'done' when no delivery is queued or deferred. */
enum store_rc	 store_issue_finish_if_done(struct store *, int64_t issue_id,
		    bool *done) STORE_WUR;

/*
 * Several senders (PostgreSQL, issue 14).  store_deliveries_due() there
 * claims the rows it returns for STORE_LEASE seconds (HERALD_LEASE in the
 * environment overrides it); an outcome clears the claim, and a sender
 * that dies leaves its rows to be claimed again when the lease ends.
 */
#define STORE_LEASE	60
/*
 * Of the issue's queued and deferred rows: *claimable are due at `now`
 * and held by nobody, *held are held by a lease that has not ended.
 */
enum store_rc	 store_issue_waiting(struct store *, int64_t issue_id,
		    time_t now, long *claimable, long *held) STORE_WUR;
/*
 * Gives back the rows this sender holds and has not finished (a pass that
 * stopped: the server unreachable, a signal), so that the next sender
 * takes them at once instead of after the lease.  SQLite: nothing to do.
 */
enum store_rc	 store_deliveries_release(struct store *) STORE_WUR;
/*
 * Waits up to ms milliseconds for another sender to end a pass (while it
 * holds rows of an issue this one has finished): on PostgreSQL a NOTIFY
 * that store_deliveries_release() sends, so a waiting sender looks again
 * at once instead of at its next poll.  The first call on a connection
 * only starts listening and returns at once.  SQLite: sleeps.
 */
void		 store_issue_wait(struct store *, int ms);
/*
 * Serialises deciding "resume or assemble a new issue" of a newsletter
 * between processes (lock true, then false): on PostgreSQL a session
 * advisory lock, so two daemons whose schedules fire together make one
 * issue and the second resumes it; on SQLite a no-op (one sender at a
 * time holds the send lock already).
 */
enum store_rc	 store_issue_lock(struct store *, const char *newsletter,
		    bool lock) STORE_WUR;
/* A sender seen on the database (a herald send or daemon process). */
struct store_sender {
	const char	*host;
	long		 pid;
	time_t		 started, heartbeat;
	long		 claimed;	/* rows claimed in all */
};
/* Calls cb for each sender whose last heartbeat is at `since` or later. */
enum store_rc	 store_senders_recent(struct store *, time_t since,
		    void (*cb)(const struct store_sender *, void *),
		    void *arg) STORE_WUR;

#endif
