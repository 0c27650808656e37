/*
 * store: the SQLite database every stage reads and writes.
 *
 * One file, WAL mode, foreign keys on, a busy timeout, and numbered
 * migrations tracked in PRAGMA user_version (store_schema.c).  Stages talk
 * through the store, not through each other's structs: each stage keeps its
 * own queries in its own store_<area>.c file (store_subs.c, store_articles.c,
 * store_queue.c ...) on top of the helpers here.
 */
#ifndef HERALD_STORE_H
#define HERALD_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

struct store;

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
 * schema is newer than this binary is refused.
 */
struct store	*store_open(const char *path, char **err, bool *busy);
void		 store_close(struct store *);
sqlite3		*store_db(struct store *);
const char	*store_errmsg(struct store *);
int		 store_schema_version(void);

/* Transactions: BEGIN IMMEDIATE so writers queue on the busy timeout. */
enum store_rc	 store_begin(struct store *);
enum store_rc	 store_commit(struct store *);
void		 store_rollback(struct store *);

/*
 * Prepares sql once per store and caches it (keyed by the sql pointer, so
 * pass a string literal).  The statement is reset and its bindings cleared
 * before it is returned.  Never NULL: a prepare error is a programming error
 * and is fatal.
 */
sqlite3_stmt	*store_stmt(struct store *, const char *sql);
/* Runs one or more statements without results; STORE_* code. */
enum store_rc	 store_exec(struct store *, const char *sql);
/* Maps an sqlite3 result code to STORE_OK / STORE_BUSY / STORE_ERR. */
enum store_rc	 store_rc(int sqlite_rc);

/*
 * Steps a bound statement and collects its first column (int64) into *ids
 * (caller frees; NULL when none).  Resets the statement.  Returns the count,
 * or -1 on error.
 */
long		 store_collect_ids(sqlite3_stmt *, int64_t **ids);

/* Column helper: text or NULL. */
const char	*store_col_text(sqlite3_stmt *, int col);

#endif
