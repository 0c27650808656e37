/*
 * db: the database driver under the store (issue 14).
 *
 * One small API (prepare, bind, step, column, exec, changes) with two
 * drivers as tables of functions, in the manner of OpenSMTPD's queue
 * backends: db_sqlite.c over SQLite and db_pg.c over libpq.  The store's
 * files write their SQL once, in SQLite's spelling with ?N parameters; the
 * PostgreSQL driver turns ?N into $N when it prepares a statement, and the
 * few statements whose dialects differ are chosen with db_kind().
 *
 * Result codes keep SQLite's values, so the SQLite driver passes them on.
 * A statement's text and bindings stay valid until the next db_reset(),
 * db_step() past the last row, or db_finalize().
 */
#ifndef HERALD_DB_H
#define HERALD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_OK		0
#define DB_ERROR	1
#define DB_BUSY		5
#define DB_LOCKED	6
#define DB_CONSTRAINT	19
#define DB_ROW		100
#define DB_DONE		101

enum db_kind {
	DB_SQLITE,
	DB_PG,
};

struct db;
struct db_stmt;

struct db_ops {
	enum db_kind	 kind;
	int		 (*prepare)(struct db *, const char *sql,
			    struct db_stmt **);
	void		 (*finalize)(struct db_stmt *);
	void		 (*bind_int64)(struct db_stmt *, int, int64_t);
	void		 (*bind_text)(struct db_stmt *, int, const char *);
	void		 (*bind_null)(struct db_stmt *, int);
	int		 (*step)(struct db_stmt *);
	void		 (*reset)(struct db_stmt *);
	void		 (*clear)(struct db_stmt *);
	int64_t		 (*column_int64)(struct db_stmt *, int);
	const char	*(*column_text)(struct db_stmt *, int);
	bool		 (*column_null)(struct db_stmt *, int);
	int		 (*column_count)(struct db_stmt *);
	const char	*(*column_name)(struct db_stmt *, int);
	int		 (*exec)(struct db *, const char *sql);
	int64_t		 (*changes)(struct db *);
	int64_t		 (*last_insert_id)(struct db *);
	const char	*(*errmsg)(struct db *);
	bool		 (*in_tx)(struct db *);
	void		 (*close)(struct db *);
};

/* Every connection and statement starts with these. */
struct db {
	const struct db_ops	*ops;
};
struct db_stmt {
	struct db		*db;
};

static inline enum db_kind
db_kind(struct db *db)
{
	return db->ops->kind;
}

/* Prepares sql; DB_OK and *out, or an error code (db_errmsg). */
static inline int
db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	return db->ops->prepare(db, sql, out);
}
static inline void
db_finalize(struct db_stmt *s)
{
	if (s)
		s->db->ops->finalize(s);
}
static inline void
db_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	s->db->ops->bind_int64(s, i, v);
}
static inline void
db_bind_int(struct db_stmt *s, int i, int v)
{
	s->db->ops->bind_int64(s, i, v);
}
/* Binds text (NULL binds NULL); the driver copies it. */
static inline void
db_bind_text(struct db_stmt *s, int i, const char *v)
{
	if (v)
		s->db->ops->bind_text(s, i, v);
	else
		s->db->ops->bind_null(s, i);
}
static inline void
db_bind_null(struct db_stmt *s, int i)
{
	s->db->ops->bind_null(s, i);
}
/* DB_ROW, DB_DONE, or an error code. */
static inline int
db_step(struct db_stmt *s)
{
	return s->db->ops->step(s);
}
static inline void
db_reset(struct db_stmt *s)
{
	s->db->ops->reset(s);
}
static inline void
db_clear_bindings(struct db_stmt *s)
{
	s->db->ops->clear(s);
}
static inline int64_t
db_column_int64(struct db_stmt *s, int col)
{
	return s->db->ops->column_int64(s, col);
}
static inline int
db_column_int(struct db_stmt *s, int col)
{
	return (int)s->db->ops->column_int64(s, col);
}
/* Text or NULL; valid until the next step or reset. */
static inline const char *
db_column_text(struct db_stmt *s, int col)
{
	return s->db->ops->column_text(s, col);
}
static inline bool
db_column_null(struct db_stmt *s, int col)
{
	return s->db->ops->column_null(s, col);
}
/* The result's columns (after a step that gave a row). */
static inline int
db_column_count(struct db_stmt *s)
{
	return s->db->ops->column_count(s);
}
static inline const char *
db_column_name(struct db_stmt *s, int col)
{
	return s->db->ops->column_name(s, col);
}
/* Runs one or more statements without results. */
static inline int
db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}
/* Rows changed by the last INSERT, UPDATE or DELETE. */
static inline int64_t
db_changes(struct db *db)
{
	return db->ops->changes(db);
}
/* The id the last INSERT into a table with an id column gave its row. */
static inline int64_t
db_last_insert_id(struct db *db)
{
	return db->ops->last_insert_id(db);
}
static inline const char *
db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}
static inline bool
db_in_tx(struct db *db)
{
	return db->ops->in_tx(db);
}
static inline void
db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}

/* db_sqlite.c: wraps an open connection, which db_close() closes. */
struct sqlite3;
struct sqlite3_stmt;
struct db	*db_sqlite_wrap(struct sqlite3 *);
/* The SQLite objects under a SQLite driver's (NULL for another driver). */
struct sqlite3	*db_sqlite_handle(struct db *);
struct sqlite3_stmt *db_sqlite_stmt(struct db_stmt *);

/*
 * db_pg.c: connects to a libpq URI (password, when not NULL, as libpq's
 * password).  NULL and *err (caller frees) on failure; *busy when the
 * server could not be reached (worth retrying).
 */
struct db	*db_pg_connect(const char *uri, const char *password,
		    char **err, bool *busy);
/* True when s names a PostgreSQL URI (postgresql:// or postgres://). */
bool		 db_is_pg_uri(const char *s);
/*
 * COPY ... FROM STDIN on a PostgreSQL connection (the bulk import's
 * loader): db_pg_copy_begin() runs the COPY statement sql; then
 * db_pg_copy_put() sends data in text format, in pieces of any size;
 * db_pg_copy_end() finishes it (ok false: abandons it, so the COPY fails
 * and loads nothing) and reads its result.  Each returns DB_OK or an
 * error code (db_errmsg); after a failed put, call end with ok false.
 * Nothing else may run on the connection between begin and end.
 */
int		 db_pg_copy_begin(struct db *, const char *sql);
int		 db_pg_copy_put(struct db *, const char *data, size_t len);
int		 db_pg_copy_end(struct db *, bool ok);
/*
 * LISTEN channel on a PostgreSQL connection, then wait up to timeout_ms for
 * a NOTIFY on it.  The first call only starts listening and returns 0 at
 * once, so a caller that checks its condition between calls misses no
 * notification.  DB_ROW: notified (all pending ones taken), DB_DONE: the
 * time ran out (or the first call), else an error code (db_errmsg).
 */
int		 db_pg_wait(struct db *, const char *channel, int timeout_ms);

#endif
