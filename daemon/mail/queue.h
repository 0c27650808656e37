/*
 * queue: one pass over an issue's due deliveries.
 *
 * queue_run() streams the issue's due rows (queued or deferred with
 * next_attempt <= the pass's start time) in id order, a chunk of
 * QUEUE_CHUNK rows at a time, so memory does not grow with the list.  For
 * each row it asks the caller's build function for the message, hands it
 * to the SMTP sender, and records the outcome:
 *
 *   sent      the server's final 250; reply, sent time, Message-ID kept
 *   deferred  4xx, timeout, broken connection: next_attempt = now +
 *             retry_delay() (retry.h: the policy); after max_attempts
 *             the row is failed instead
 *   failed    5xx for this message (reply kept), or a message that
 *             could not be built for this row (its address); a message
 *             that cannot be built for another reason stops the pass
 *   skipped   the subscription is no longer active (unsubscribed during
 *             the send): the row becomes failed with last_reply
 *             "skipped: ..." and is not counted as a failure
 *
 * When the server cannot be reached at all (connect, TLS, AUTH errors)
 * the rows are left untouched (no attempt counted) and, after a run of
 * such errors with nothing sent, the pass stops early: `unreachable`.
 *
 * Outcomes are committed as the server answers, off the I/O loop: a
 * writer thread with its own database connection commits whatever
 * outcomes arrived while its previous commit ran (at the usual rates each
 * outcome alone, at once; flat out a few share a commit).  Messages are
 * built ahead on a builder thread (QUEUE_LOOKAHEAD at most), which also
 * reads the chunks on the caller's store connection: during the pass the
 * caller must not use that connection, and the build function runs on the
 * builder thread.  The outcomes not yet committed (queued for the writer or
 * in the commit running) are at most smtp.connections + QUEUE_BACKLOG
 * (QUEUE_BACKLOG_PG on PostgreSQL): the I/O loop waits for the writer
 * beyond that.  A crash (kill -9) can therefore re-send at most the
 * messages in flight (smtp.connections) and those uncommitted outcomes:
 * 2 x smtp.connections + QUEUE_BACKLOG (or QUEUE_BACKLOG_PG).  On
 * *stop >= 1 (SIGTERM) no new row is taken, the transfers in flight
 * finish, everything is committed, and the pass returns: a resumed pass
 * sends no duplicate.  On *stop >= 2 in-flight transfers are abandoned
 * (their rows stay due); the outcomes already known are still committed.
 */
#ifndef HERALD_QUEUE_H
#define HERALD_QUEUE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "smtp.h"
#include "store.h"
#include "store_queue.h"

#define QUEUE_CHUNK	256	/* rows read at a time */
#define QUEUE_LOOKAHEAD	64	/* messages built ahead, at most */
#define QUEUE_BACKLOG	16	/* uncommitted outcomes beyond connections */
/*
 * The same on PostgreSQL, where a commit is a round trip to the server
 * process, which waits for a core on a busy machine: with 16 the I/O loop
 * waited for the writer (100,000 to smtp-sink: 11,300 msg/s; 13,500 with
 * 64, against SQLite's 14,500 in the same run).
 */
#define QUEUE_BACKLOG_PG 64

/* A message the build function fills; the queue owns and reuses it. */
struct queue_msg {
	struct buf	 data;		/* the whole message, CRLF */
	char		*env_from;	/* envelope sender (VERP); set by build */
	char		*message_id;	/* "<...>"; set by build */
};

/*
 * Builds the message for one delivery into m (m->data is empty; env_from
 * and message_id are NULL and become the queue's).  0; QUEUE_BUILD_ROW
 * with *err (caller frees) to fail that row (its address cannot be
 * written); QUEUE_BUILD_STOP with *err when the message cannot be built for
 * a reason that is not the row's (configuration, digest): the pass stops,
 * no row is failed for it, the rows stay due (stats->build_failed).  Runs
 * on the queue's builder thread, one call at a time: what it uses
 * (build_arg) must not be touched by the caller's thread during
 * queue_run().
 */
#define QUEUE_BUILD_ROW		(-1)
#define QUEUE_BUILD_STOP	(-2)
typedef int (*queue_build_fn)(void *arg, const struct store_delivery *,
    struct queue_msg *m, char **err);

struct queue_stats {
	long		 sent;
	long		 deferred;
	long		 failed;
	long		 skipped;
	long		 unreached;	/* rows left untouched: no connection */
	long		 inflight;
	bool		 unreachable;	/* the pass stopped: server unreachable */
	bool		 stopped;	/* the pass stopped on a signal */
	bool		 build_failed;	/* stopped: QUEUE_BUILD_STOP */
	char		 last_error[SMTP_REPLY_MAX + 64]; /* why unreachable,
					   or why no message could be built */
};

typedef void (*queue_progress_fn)(const struct queue_stats *, void *arg);

struct queue_opts {
	struct store	*store;
	int64_t		 issue_id;
	struct smtp	*smtp;
	long		 max_attempts;
	queue_build_fn	 build;
	void		*build_arg;
	volatile sig_atomic_t *stop;	/* may be NULL */
	queue_progress_fn progress;	/* called at most 10 times/s; may be NULL */
	void		*progress_arg;
};

/*
 * Makes one pass.  Fills *stats.  Returns 0, STORE_BUSY when the database
 * stayed locked, or -1 on a database error (logged).
 */
int	queue_run(const struct queue_opts *, struct queue_stats *stats);

#endif
