/*
 * store_subs_bulk: the writes of `subscribers import` (sub_import.c), one
 * statement per table and batch.  The rest of the subscriber queries are in
 * store_subs.h.
 */
#ifndef HERALD_STORE_SUBS_BULK_H
#define HERALD_STORE_SUBS_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store_subs.h"

/*
 * Set-based writes for a bulk import: one statement per table and batch
 * instead of one per row (SQLite's per-statement cost was most of an
 * import's time).  The rows come from the caller through row(arg, i, out)
 * for i in [0, n), in that order; the strings it points out must stay valid
 * until the call returns.
 */
struct sub_bulk_row {
	int64_t		 id;
	const char	*email;
	const char	*key;		/* email_key(email) */
	const char	*name;		/* NULL or "": none */
	const char	*attrs;		/* JSON object text; NULL or "": {} */
	size_t		 email_len, name_len, attrs_len;	/* strlen() */
						/* (key: email_len too) */
	time_t		 created;
	enum sub_status	 status;
	unsigned long	 line;		/* for the event detail */
};
struct sub_bulk {
	size_t		 n;
	void		(*row)(void *arg, size_t i, struct sub_bulk_row *out);
	void		*arg;
	const char	*prefix;	/* event detail: see below */
};
/*
 * Inserts the subscribers of b (each with its id, which must be unused),
 * skipping those whose key exists (ON CONFLICT DO NOTHING); rows in id
 * order make the table's work appends.  *added gets how many were
 * inserted.
 */
enum store_rc	 store_subs_bulk_insert(struct store *,
		    const struct sub_bulk *b, long *added) STORE_WUR;
/*
 * Calls cb(id, arg) for each subscriber id >= from, ascending: after
 * store_subs_bulk_insert() with ids above every earlier id, the rows it
 * inserted.
 */
enum store_rc	 store_subs_ids_from(struct store *, int64_t from,
		    void (*cb)(int64_t id, void *arg), void *arg) STORE_WUR;
/*
 * Adds the subscription to nl of each row of b (id, status, created, as
 * store_subs_subscribe() does) and its "subscribe" event at `at`, whose
 * detail is b->prefix, the row's line number and, when the status is not
 * active, " as <status>" (b->prefix NULL: none).  Two statements.
 */
enum store_rc	 store_subs_bulk_subscribe(struct store *, const char *nl,
		    const struct sub_bulk *b, time_t at) STORE_WUR;
/*
 * Sets this connection's page cache as SQLite's cache_size does (negative:
 * KiB, positive: pages); *old gets the previous setting, in the same form,
 * when not NULL.
 */
enum store_rc	 store_subs_cache_size(struct store *, long size, long *old) STORE_WUR;
/*
 * Sets this connection's WAL auto-checkpoint threshold in pages, as
 * PRAGMA wal_autocheckpoint does (0: never); *old gets the previous one
 * when not NULL.
 */
enum store_rc	 store_subs_wal_autocheckpoint(struct store *, long pages,
		    long *old) STORE_WUR;
/*
 * Turns this connection's foreign key checks on or off (outside a
 * transaction only: SQLite ignores the change inside one).  For a bulk
 * writer that only refers to rows it has just written or read in the same
 * transaction.
 */
enum store_rc	 store_subs_foreign_keys(struct store *, bool on) STORE_WUR;
/*
 * A checkpointer beside a bulk writer (SQLite): a second connection to the
 * database and a thread that copies the WAL into the database file (a
 * PASSIVE checkpoint) after each commit store_subs_ckpt_kick() reports,
 * while the writer goes on with its next transaction.  start sets the
 * writer connection's WAL hook (to count the frames its commits leave),
 * which replaces its auto-checkpoint; stop removes it (set the
 * auto-checkpoint again after stop, not before).  lag_ms: for tests, a
 * pause before each checkpoint (a checkpointer a loaded machine holds
 * back); 0 in use.  start: NULL on PostgreSQL
 * or when no second connection could be opened (the writer then
 * checkpoints as usual).  stop waits for the checkpoint in progress and
 * frees c; *err: the first failure's message (caller frees), else NULL.
 * kick and stop take NULL.
 */
struct store_ckpt;
struct store_ckpt *store_subs_ckpt_start(struct store *, unsigned lag_ms);
void		 store_subs_ckpt_kick(struct store_ckpt *c);
/*
 * Keeps the WAL under `frames` pages plus one transaction's: when the
 * writer's last commit left at least that many frames in it, waits until
 * a checkpoint begun after that commit has ended, so that the next
 * transaction starts the WAL over.  SQLite starts the WAL over only in a
 * transaction that begins with every frame copied, which a writer that
 * begins the next batch at once never does; and a checkpointer that lags
 * (a loaded machine) must not let the WAL grow.  Call this between a kick
 * and the next transaction.  (A reader's snapshot that holds the copy
 * back still holds the WAL back.)
 */
void		 store_subs_ckpt_bound(struct store_ckpt *c, long frames);
enum store_rc	 store_subs_ckpt_stop(struct store_ckpt *c, char **err)
		    STORE_WUR;
#endif
