/*
 * store_sqlite: the SQLite side of the store, for the files of store/ only (and unit
 * tests that put rows in place directly).  Nothing above store/ includes
 * it: scripts/checksrc.sh fails the build when a file outside store/ and
 * tests/ names sqlite3 or this header.
 */
#ifndef HERALD_STORE_SQLITE_H
#define HERALD_STORE_SQLITE_H

#include <sqlite3.h>

#include "store.h"

/* The connection (for sqlite3_changes and the like). */
sqlite3		*store_db(struct store *);

/*
 * Prepares sql once per store and caches it (keyed by the sql pointer, so
 * pass a string literal).  The statement is reset and its bindings cleared
 * before it is returned.  Never NULL: a prepare error is a programming error
 * and is fatal.
 */
sqlite3_stmt	*store_stmt(struct store *, const char *sql);
/* Runs one or more statements without results; STORE_* code. */
enum store_rc	 store_exec(struct store *, const char *sql) STORE_WUR;
/* Maps an sqlite3 result code to STORE_OK / STORE_BUSY / STORE_ERR. */
enum store_rc	 store_rc(int sqlite_rc) STORE_WUR;

/*
 * Steps a bound statement and collects its first column (int64) into *ids
 * (caller frees; NULL when none).  Resets the statement.  Returns the count,
 * or -1 on error.
 */
long		 store_collect_ids(sqlite3_stmt *, int64_t **ids) STORE_WUR;

/* An error SQLite did not see (a row that did not change), for store_errmsg. */
void		 store_set_error(struct store *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* Column helper: text or NULL. */
const char	*store_col_text(sqlite3_stmt *, int col);

/*
 * Finishes a statement run: resets it, and returns STORE_OK when rc (its
 * last sqlite3_step) was SQLITE_DONE or SQLITE_ROW, else store_rc(rc).
 */
enum store_rc	 store_finish(sqlite3_stmt *, int rc) STORE_WUR;
/* Steps a statement that returns no row, then resets it; STORE_* code. */
enum store_rc	 store_step_done(sqlite3_stmt *) STORE_WUR;
/* Binds text (copied), or NULL when v is NULL. */
void		 store_bind_text(sqlite3_stmt *, int i, const char *v);

#endif
