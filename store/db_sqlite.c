/*
 * db_sqlite: the SQLite driver of the db layer (db.h).  Thin: every call is
 * the sqlite3_* call of the same name, and result codes pass through.
 */
#include <sqlite3.h>

#include <stdlib.h>

#include "db.h"
#include "xmalloc.h"

struct sq_db {
	struct db	 base;
	sqlite3		*h;
};

struct sq_stmt {
	struct db_stmt	 base;
	sqlite3_stmt	*s;
};

#define SQ(db)	((struct sq_db *)(db))
#define SS(st)	(((struct sq_stmt *)(st))->s)

static int
sq_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct sq_stmt *st;
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	rc = sqlite3_prepare_v3(SQ(db)->h, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	st = xcalloc(1, sizeof(*st));
	st->base.db = db;
	st->s = s;
	*out = &st->base;
	return DB_OK;
}

static void
sq_finalize(struct db_stmt *st)
{
	sqlite3_finalize(SS(st));
	free(st);
}

static void
sq_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(SS(st), i, (sqlite3_int64)v);
}

static void
sq_bind_text(struct db_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(SS(st), i, v, -1, SQLITE_TRANSIENT);
}

static void
sq_bind_null(struct db_stmt *st, int i)
{
	sqlite3_bind_null(SS(st), i);
}

static int
sq_step(struct db_stmt *st)
{
	return sqlite3_step(SS(st));
}

static void
sq_reset(struct db_stmt *st)
{
	sqlite3_reset(SS(st));
}

static void
sq_clear(struct db_stmt *st)
{
	sqlite3_clear_bindings(SS(st));
}

static int64_t
sq_column_int64(struct db_stmt *st, int col)
{
	return (int64_t)sqlite3_column_int64(SS(st), col);
}

static const char *
sq_column_text(struct db_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(SS(st), col);
}

static bool
sq_column_null(struct db_stmt *st, int col)
{
	return sqlite3_column_type(SS(st), col) == SQLITE_NULL;
}

static int
sq_column_count(struct db_stmt *st)
{
	return sqlite3_column_count(SS(st));
}

static const char *
sq_column_name(struct db_stmt *st, int col)
{
	return sqlite3_column_name(SS(st), col);
}

static int
sq_exec(struct db *db, const char *sql)
{
	return sqlite3_exec(SQ(db)->h, sql, NULL, NULL, NULL);
}

static int64_t
sq_changes(struct db *db)
{
	return (int64_t)sqlite3_changes64(SQ(db)->h);
}

static int64_t
sq_last_insert_id(struct db *db)
{
	return (int64_t)sqlite3_last_insert_rowid(SQ(db)->h);
}

static const char *
sq_errmsg(struct db *db)
{
	return sqlite3_errmsg(SQ(db)->h);
}

static bool
sq_in_tx(struct db *db)
{
	return !sqlite3_get_autocommit(SQ(db)->h);
}

static void
sq_close(struct db *db)
{
	sqlite3_close(SQ(db)->h);
	free(db);
}

static const struct db_ops sq_ops = {
	.kind = DB_SQLITE,
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.bind_int64 = sq_bind_int64,
	.bind_text = sq_bind_text,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.reset = sq_reset,
	.clear = sq_clear,
	.column_int64 = sq_column_int64,
	.column_text = sq_column_text,
	.column_null = sq_column_null,
	.column_count = sq_column_count,
	.column_name = sq_column_name,
	.exec = sq_exec,
	.changes = sq_changes,
	.last_insert_id = sq_last_insert_id,
	.errmsg = sq_errmsg,
	.in_tx = sq_in_tx,
	.close = sq_close,
};

struct db *
db_sqlite_wrap(sqlite3 *h)
{
	struct sq_db *db = xcalloc(1, sizeof(*db));

	db->base.ops = &sq_ops;
	db->h = h;
	return &db->base;
}

sqlite3 *
db_sqlite_handle(struct db *db)
{
	return db && db->ops == &sq_ops ? SQ(db)->h : NULL;
}

sqlite3_stmt *
db_sqlite_stmt(struct db_stmt *st)
{
	return st && st->db->ops == &sq_ops ? SS(st) : NULL;
}
