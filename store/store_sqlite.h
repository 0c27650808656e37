/*
 * store_sqlite: the inside of the store, for the files of store/ only (and unit
 * tests that put rows in place directly).  Nothing above store/ includes
 * it: scripts/checksrc.sh fails the build when a file outside store/ and
 * tests/ names sqlite3 or this header.
 *
 * Statements go through the db driver layer (db.h), so the same store
 * functions run on SQLite and on PostgreSQL (issue 14); store_db() is the
 * raw SQLite connection for what only SQLite has (the bulk loader's
 * virtual table, tests), NULL on PostgreSQL.
 */
#ifndef HERALD_STORE_SQLITE_H
#define HERALD_STORE_SQLITE_H

#include <sqlite3.h>

#include "db.h"
#include "store.h"

/* The SQLite connection; NULL when the store is on PostgreSQL. */
sqlite3		*store_db(struct store *);
/* The driver connection (db_changes, db_last_insert_id, db_kind). */
struct db	*store_conn(struct store *);
/* This process as a sender: "host:pid" (claimed_by), and the host name. */
const char	*store_sender(struct store *);
const char	*store_host(void);

/*
 * Prepares sql once per store and caches it (keyed by the sql pointer, so
 * pass a string literal).  The statement is reset and its bindings cleared
 * before it is returned.  Never NULL: a prepare error is a programming error
 * and is fatal.
 */
struct db_stmt	*store_stmt(struct store *, const char *sql);
/*
 * The statement for this store's dialect: sq on SQLite, pg on PostgreSQL
 * (both string literals or static arrays: store_stmt caches by pointer).
 */
#define STORE_SQL(st, sq, pg)	(store_is_pg(st) ? (pg) : (sq))

/* Runs one or more statements without results; STORE_* code. */
enum store_rc	 store_exec(struct store *, const char *sql) STORE_WUR;
/* Maps a db (SQLite-valued) result code to STORE_OK / STORE_BUSY / STORE_ERR. */
enum store_rc	 store_rc(int sqlite_rc) STORE_WUR;

/*
 * Steps a bound statement and collects its first column (int64) into *ids
 * (caller frees; NULL when none).  Resets the statement.  Returns the count,
 * or -1 on error.
 */
long		 store_collect_ids(struct db_stmt *, int64_t **ids) STORE_WUR;

/* An error SQLite did not see (a row that did not change), for store_errmsg. */
void		 store_set_error(struct store *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* Column helper: text or NULL. */
const char	*store_col_text(struct db_stmt *, int col);

/*
 * Finishes a statement run: resets it, and returns STORE_OK when rc (its
 * last db_step) was DB_DONE or DB_ROW, else store_rc(rc).
 */
enum store_rc	 store_finish(struct db_stmt *, int rc) STORE_WUR;
/* store_finish for a write that must change exactly one row: anything else
   is STORE_ERR with "WHAT: no row changed" in store_errmsg(). */
enum store_rc	 store_finish_one(struct store *, struct db_stmt *, int rc,
		    const char *what) STORE_WUR;
/* Steps a statement that returns no row, then resets it; STORE_* code. */
enum store_rc	 store_step_done(struct db_stmt *) STORE_WUR;
/* Binds text (copied), or NULL when v is NULL. */
void		 store_bind_text(struct db_stmt *, int i, const char *v);

#endif
