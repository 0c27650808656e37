/*
 * store: the SQLite database every stage reads and writes.
 *
 * One file, WAL mode, foreign keys on, a busy timeout, and numbered
 * migrations tracked in PRAGMA user_version (store_schema.c).  Stages talk
 * through the store, not through each other's structs: each area has its
 * queries and its own row types in a store_<area>.c / .h pair (store_subs,
 * store_articles, store_digest, store_queue, store_status).
 *
 * This header and the store_<area>.h headers are the whole interface: they
 * name no SQLite type, so a second backend could implement them
 * (docs/architecture.md).  store_sqlite.h is the SQLite side, for the files
 * of store/ only (and unit tests that set up rows directly).
 *
 * Every function that can fail returns a result that must be looked at
 * (STORE_WUR): an unchecked store call does not compile.
 */
#ifndef HERALD_STORE_H
#define HERALD_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct store;

/* Results of the store's calls must be checked. */
#define STORE_WUR	__attribute__((warn_unused_result))

/* Result of store operations that can hit a locked database. */
enum store_rc {
	STORE_OK = 0,
	STORE_ERR = -1,		/* real error; message via store_errmsg() */
	STORE_BUSY = -2,	/* database locked past the busy timeout: exit 3 */
};

/*
 * Opens (creating if needed) the database at path and brings its schema up
 * to date.  On failure returns NULL and sets *err to a message the caller
 * frees; *busy is set when the failure was a lock (exit 3).  A database whose
 * schema is newer than this binary is refused.  Only the commands that
 * write (subscribers add/import, collect, send, the daemon) may create one.
 */
struct store	*store_open(const char *path, char **err, bool *busy) STORE_WUR;
/*
 * The password of PostgreSQL connections this process opens from now on
 * (copied; NULL: HERALD_DB_PASSWORD's, else libpq's ~/.pgpass).
 */
void		 store_pg_password(const char *);
/*
 * Opens an existing database read-only, as it is (no migration; never
 * creates one), for a summary that must not change anything.  NULL with
 * *err (caller frees) when it cannot.
 */
struct store	*store_open_ro(const char *path, char **err) STORE_WUR;
/*
 * As store_open, but a missing database is an error (never created): what
 * the commands that only read use.  *missing is set when the file does not
 * exist, so the caller can say how to make one.
 */
struct store	*store_open_existing(const char *path, char **err, bool *busy,
		    bool *missing) STORE_WUR;
/*
 * A second connection to the very file st has open (for a thread of its
 * own): never creates, and fails when the path no longer names that file.
 */
struct store	*store_open_again(struct store *, char **err, bool *busy) STORE_WUR;
/*
 * 0 while the path st was opened with still names the file st has open;
 * -1 with *err (caller frees) when it was removed, renamed or replaced
 * under the running herald: writing on would go to a file nobody will
 * read again (or to a new one that lacks the rows), so callers stop.
 */
int		 store_check(struct store *st, char **err) STORE_WUR;
void		 store_close(struct store *);
/*
 * True when the store is a PostgreSQL database (database: postgresql://...,
 * issue 14): several herald processes may then send from it at once.
 */
bool		 store_is_pg(struct store *);
/* The last error: store_set_error()'s since the last statement, else SQLite's. */
const char	*store_errmsg(struct store *);
int		 store_schema_version(void) STORE_WUR;

/* Transactions: BEGIN IMMEDIATE so writers queue on the busy timeout. */
enum store_rc	 store_begin(struct store *) STORE_WUR;
enum store_rc	 store_commit(struct store *) STORE_WUR;
void		 store_rollback(struct store *);

#endif
