/*
 * store_subs_bulk: the set-based writes of a bulk import (see
 * store_subs_bulk.h): the herald_bulk virtual table that hands a batch to
 * SQLite in place, the INSERT ... SELECT statements over it, and the
 * connection settings an import changes for its duration.
 */
#include "store_subs_bulk.h"
#include "store_subs_bulk_pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_sqlite.h"
#include "xmalloc.h"

/* Sets an integer PRAGMA of this connection; *old: its value before. */
static enum store_rc
pragma_int(struct store *st, const char *get, const char *name, long value,
    long *old)
{
	char sql[64];

	if (store_is_pg(st)) {		/* SQLite's knobs: nothing to turn */
		if (old)
			*old = value;
		return STORE_OK;
	}
	if (old) {
		struct db_stmt *s = store_stmt(st, get);
		enum store_rc r;
		int rc = db_step(s);

		if (rc == DB_ROW)
			*old = (long)db_column_int64(s, 0);
		if ((r = store_finish(s, rc)) != STORE_OK)
			return r;
	}
	snprintf(sql, sizeof(sql), "PRAGMA %s = %ld", name, value);
	return store_exec(st, sql);
}

enum store_rc
store_subs_cache_size(struct store *st, long size, long *old)
{
	static const char get[] = "PRAGMA cache_size";

	return pragma_int(st, get, "cache_size", size, old);
}

enum store_rc
store_subs_wal_autocheckpoint(struct store *st, long pages, long *old)
{
	static const char get[] = "PRAGMA wal_autocheckpoint";

	return pragma_int(st, get, "wal_autocheckpoint", pages, old);
}

enum store_rc
store_subs_foreign_keys(struct store *st, bool on)
{
	if (store_is_pg(st))
		return STORE_OK;
	return store_exec(st, on ? "PRAGMA foreign_keys = ON" :
	    "PRAGMA foreign_keys = OFF");
}

/*
 * The checkpointer: its own connection to the database and a thread that
 * runs a PASSIVE checkpoint (copy the WAL's committed pages into the
 * database file, fsync, and let the next transaction start the WAL over)
 * after each commit it is told of.  SQLite lets a checkpoint run beside a
 * writer, so the copy of one batch overlaps the writing of the next
 * instead of stopping the writer inside a commit or at close (measured:
 * a third of an import's wall clock).
 */
struct store_ckpt {
	sqlite3		*db;
	sqlite3		*wdb;		/* the writer's connection */
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	unsigned long	 asked, done;	/* commits told of, checkpoints run */
	long		 wal;		/* frames after the writer's commit */
	unsigned	 lag_ms;	/* tests: pause before each checkpoint */
	bool		 quit;
	int		 rc;		/* the first failed checkpoint's */
	char		*err;
};

static void *
ckpt_main(void *arg)
{
	struct store_ckpt *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		unsigned long want;
		int rc;

		while (c->done == c->asked && !c->quit)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->done == c->asked)
			break;
		want = c->asked;
		pthread_mutex_unlock(&c->mu);
		if (c->lag_ms) {
			struct timespec ts = { (time_t)(c->lag_ms / 1000),
			    (long)(c->lag_ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
		rc = sqlite3_wal_checkpoint_v2(c->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		/* SQLITE_BUSY: another checkpoint runs; the next one catches up */
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && c->rc == SQLITE_OK) {
			c->rc = rc;
			c->err = xstrdup(sqlite3_errmsg(c->db));
		}
		c->done = want;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/*
 * The writer's WAL hook: how many frames its commit left in the WAL (the
 * count starts over when a transaction starts the WAL over).  Installing
 * it replaces the connection's auto-checkpoint.
 */
static int
ckpt_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store_ckpt *c = arg;

	(void)db;
	(void)name;
	pthread_mutex_lock(&c->mu);
	c->wal = frames;
	pthread_mutex_unlock(&c->mu);
	return SQLITE_OK;
}

struct store_ckpt *
store_subs_ckpt_start(struct store *st, unsigned lag_ms)
{
	struct store_ckpt *c;
	const char *path;
	sqlite3 *db = NULL;

	if (store_is_pg(st) || (path = sqlite3_db_filename(store_db(st),
	    "main")) == NULL || *path == '\0')
		return NULL;		/* PostgreSQL, or an in-memory test store */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->db = db;
	c->lag_ms = lag_ms;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		sqlite3_close(db);
		free(c);
		return NULL;
	}
	c->wdb = store_db(st);
	sqlite3_wal_hook(c->wdb, ckpt_wal_hook, c);
	return c;
}

void
store_subs_ckpt_kick(struct store_ckpt *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->asked++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void
store_subs_ckpt_bound(struct store_ckpt *c, long frames)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	if (c->wal >= frames)
		while (c->done != c->asked)
			pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

enum store_rc
store_subs_ckpt_stop(struct store_ckpt *c, char **err)
{
	enum store_rc rc;

	*err = NULL;
	if (c == NULL)
		return STORE_OK;
	pthread_mutex_lock(&c->mu);
	c->quit = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	sqlite3_wal_hook(c->wdb, NULL, NULL);
	rc = store_rc(c->rc);
	*err = c->err;
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
	return rc;
}

/*
 * herald_bulk: an eponymous virtual table over a struct sub_bulk, passed as
 * a pointer in its hidden column `bulk` (sqlite3_bind_pointer), so that a
 * batch goes into each table with one INSERT ... SELECT.
 */
#define BULK_PTR	"herald_bulk"

enum bulk_col {
	BC_ID, BC_EMAIL, BC_KEY, BC_NAME, BC_ATTRS, BC_CREATED, BC_STATUS,
	BC_CONFIRMED, BC_UNSUBSCRIBED, BC_DETAIL, BC_BULK
};

struct bulk_cur {
	sqlite3_vtab_cursor	 base;
	const struct sub_bulk	*b;
	const char		*prefix;
	size_t			 plen;		/* copied to detail[] when short */
	size_t			 i;
	struct sub_bulk_row	 row;
	char			 detail[512];
};

static int
bulk_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
    sqlite3_vtab **vt, char **err)
{
	int rc;

	(void)aux;
	(void)argc;
	(void)argv;
	(void)err;
	rc = sqlite3_declare_vtab(db, "CREATE TABLE x(id, email, email_key, "
	    "name, attributes, created, status, confirmed, unsubscribed, "
	    "detail, bulk HIDDEN)");
	if (rc != SQLITE_OK)
		return rc;
	*vt = sqlite3_malloc(sizeof(**vt));
	if (*vt == NULL)
		return SQLITE_NOMEM;
	memset(*vt, 0, sizeof(**vt));
	return SQLITE_OK;
}

static int
bulk_disconnect(sqlite3_vtab *vt)
{
	sqlite3_free(vt);
	return SQLITE_OK;
}

/* Only `bulk = ?` gives rows; without it the table is empty. */
static int
bulk_best_index(sqlite3_vtab *vt, sqlite3_index_info *ii)
{
	int i;

	(void)vt;
	ii->idxNum = 0;
	ii->estimatedCost = 1e12;
	for (i = 0; i < ii->nConstraint; i++) {
		if (ii->aConstraint[i].iColumn != BC_BULK ||
		    ii->aConstraint[i].op != SQLITE_INDEX_CONSTRAINT_EQ ||
		    !ii->aConstraint[i].usable)
			continue;
		ii->aConstraintUsage[i].argvIndex = 1;
		ii->aConstraintUsage[i].omit = 1;
		ii->idxNum = 1;
		ii->estimatedCost = 1;
		break;
	}
	return SQLITE_OK;
}

static int
bulk_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **cur)
{
	struct bulk_cur *c;

	(void)vt;
	if ((c = sqlite3_malloc(sizeof(*c))) == NULL)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof(*c));
	*cur = &c->base;
	return SQLITE_OK;
}

static int
bulk_close(sqlite3_vtab_cursor *cur)
{
	sqlite3_free(cur);
	return SQLITE_OK;
}

static void
bulk_load(struct bulk_cur *c)
{
	if (c->b && c->i < c->b->n)
		c->b->row(c->b->arg, c->i, &c->row);
}

static int
bulk_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxs, int argc,
    sqlite3_value **argv)
{
	struct bulk_cur *c = (struct bulk_cur *)cur;

	(void)idxs;
	c->b = idx == 1 && argc == 1 ?
	    sqlite3_value_pointer(argv[0], BULK_PTR) : NULL;
	c->prefix = c->b && c->b->prefix ? c->b->prefix : "";
	c->plen = strlen(c->prefix);
	if (c->plen < sizeof(c->detail))
		memcpy(c->detail, c->prefix, c->plen);
	c->i = 0;
	bulk_load(c);
	return SQLITE_OK;
}

static int
bulk_next(sqlite3_vtab_cursor *cur)
{
	struct bulk_cur *c = (struct bulk_cur *)cur;

	c->i++;
	bulk_load(c);
	return SQLITE_OK;
}

static int
bulk_eof(sqlite3_vtab_cursor *cur)
{
	struct bulk_cur *c = (struct bulk_cur *)cur;

	return c->b == NULL || c->i >= c->b->n;
}

/*
 * A string of n bytes, or NULL (empty: the text empty instead, unless that
 * is NULL too).  The caller's, valid for the statement: SQLITE_STATIC.
 */
static void
result_str(sqlite3_context *ctx, const char *s, size_t n, const char *empty)
{
	if (s == NULL || n == 0) {
		if (empty)
			sqlite3_result_text(ctx, empty, -1, SQLITE_STATIC);
		else
			sqlite3_result_null(ctx);
	} else
		sqlite3_result_text(ctx, s, (int)n, SQLITE_STATIC);
}

size_t
store_subs_bulk_tail(const struct sub_bulk_row *r, char out[SUB_BULK_TAIL])
{
	const char *as = r->status == SUB_ACTIVE ? NULL :
	    store_subs_status_name(r->status);
	char digits[24], *d = digits + sizeof(digits);
	unsigned long line = r->line;
	size_t nd, na = as ? strlen(as) : 0;

	do
		*--d = (char)('0' + line % 10);
	while ((line /= 10) != 0);
	nd = (size_t)(digits + sizeof(digits) - d);
	memcpy(out, d, nd);
	if (as) {
		memcpy(out + nd, " as ", 4);
		memcpy(out + nd + 4, as, na);
		nd += 4 + na;
	}
	return nd;
}

/*
 * The event detail: prefix then store_subs_bulk_tail(); built by hand
 * (snprintf was 5% of an import).
 */
static int
bulk_detail(struct bulk_cur *c, sqlite3_context *ctx)
{
	char tail[SUB_BULK_TAIL];
	size_t nt = store_subs_bulk_tail(&c->row, tail);

	if (c->plen + nt > sizeof(c->detail)) {
		/* a very long file name: on the heap */
		char *h = sqlite3_mprintf("%s%.*s", c->prefix, (int)nt, tail);

		if (h == NULL)
			return SQLITE_NOMEM;
		sqlite3_result_text(ctx, h, -1, sqlite3_free);
		return SQLITE_OK;
	}
	/* the prefix is there already */
	memcpy(c->detail + c->plen, tail, nt);
	sqlite3_result_text(ctx, c->detail, (int)(c->plen + nt),
	    SQLITE_TRANSIENT);
	return SQLITE_OK;
}

static int
bulk_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	struct bulk_cur *c = (struct bulk_cur *)cur;
	const struct sub_bulk_row *r = &c->row;

	switch (col) {
	case BC_ID:
		sqlite3_result_int64(ctx, r->id);
		break;
	case BC_EMAIL:
		result_str(ctx, r->email, r->email_len, NULL);
		break;
	case BC_KEY:
		result_str(ctx, r->key, r->email_len, NULL);
		break;
	case BC_NAME:
		result_str(ctx, r->name, r->name_len, NULL);
		break;
	case BC_ATTRS:
		result_str(ctx, r->attrs, r->attrs_len, "{}");
		break;
	case BC_CREATED:
		sqlite3_result_int64(ctx, (sqlite3_int64)r->created);
		break;
	case BC_STATUS:
		sqlite3_result_text(ctx, store_subs_status_name(r->status), -1,
		    SQLITE_STATIC);
		break;
	case BC_CONFIRMED:
		if (r->status == SUB_ACTIVE)
			sqlite3_result_int64(ctx, (sqlite3_int64)r->created);
		else
			sqlite3_result_null(ctx);
		break;
	case BC_UNSUBSCRIBED:
		if (r->status == SUB_UNSUBSCRIBED || r->status == SUB_BOUNCED)
			sqlite3_result_int64(ctx, (sqlite3_int64)r->created);
		else
			sqlite3_result_null(ctx);
		break;
	case BC_DETAIL:
		return bulk_detail(c, ctx);
	default:
		sqlite3_result_null(ctx);
		break;
	}
	return SQLITE_OK;
}

static int
bulk_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
	*rowid = (sqlite3_int64)((struct bulk_cur *)cur)->i;
	return SQLITE_OK;
}

static const sqlite3_module bulk_module = {
	.iVersion = 0,
	.xCreate = NULL,		/* eponymous only */
	.xConnect = bulk_connect,
	.xBestIndex = bulk_best_index,
	.xDisconnect = bulk_disconnect,
	.xDestroy = bulk_disconnect,
	.xOpen = bulk_open,
	.xClose = bulk_close,
	.xFilter = bulk_filter,
	.xNext = bulk_next,
	.xEof = bulk_eof,
	.xColumn = bulk_column,
	.xRowid = bulk_rowid,
};

/* Registers herald_bulk on this connection unless it is there already. */
static enum store_rc
bulk_register(struct store *st)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM herald_bulk", -1, &s,
	    NULL) == SQLITE_OK) {
		sqlite3_finalize(s);
		return STORE_OK;
	}
	return store_rc(sqlite3_create_module(db, "herald_bulk", &bulk_module,
	    NULL));
}

/*
 * Runs one INSERT ... SELECT over b (bound as ?1).  The statements say OR
 * FAIL: a multi-row INSERT with the default OR ABORT keeps a statement
 * journal (in memory here) to undo its own rows on an error, which cost 7
 * MB and a copy of every page it touched; with OR FAIL an error stops it
 * and the caller rolls back the whole transaction anyway.
 */
static enum store_rc
bulk_run(struct db_stmt *s, const struct sub_bulk *b)
{
	sqlite3_bind_pointer(db_sqlite_stmt(s), 1, (void *)b, BULK_PTR, NULL);
	return store_finish(s, db_step(s));
}

enum store_rc
store_subs_bulk_insert(struct store *st, const struct sub_bulk *b,
    long *added)
{
	static const char sql[] = "INSERT OR FAIL INTO subscribers "
	    "(id, email, email_key, name, attributes, created) "
	    "SELECT id, email, email_key, name, attributes, created "
	    "FROM herald_bulk WHERE bulk = ?1 "
	    "ON CONFLICT (email_key) DO NOTHING";
	enum store_rc rc;

	*added = 0;
	if (b->n == 0)
		return STORE_OK;
	if (store_is_pg(st))
		return store_subs_bulk_pg_insert(st, b, added);
	if ((rc = bulk_register(st)) != STORE_OK)
		return rc;
	rc = bulk_run(store_stmt(st, sql), b);
	if (rc == STORE_OK)
		*added = (long)db_changes(store_conn(st));
	return rc;
}

enum store_rc
store_subs_ids_from(struct store *st, int64_t from,
    void (*cb)(int64_t id, void *arg), void *arg)
{
	static const char sql[] = "SELECT id FROM subscribers WHERE id >= ?1 "
	    "ORDER BY id";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	db_bind_int64(s, 1, from);
	while ((rc = db_step(s)) == DB_ROW)
		cb(db_column_int64(s, 0), arg);
	return store_finish(s, rc);
}

enum store_rc
store_subs_bulk_subscribe(struct store *st, const char *nl,
    const struct sub_bulk *b, time_t at)
{
	static const char sub_sql[] = "INSERT OR FAIL INTO subscriptions "
	    "(subscriber_id, newsletter, status, created, confirmed, "
	    "unsubscribed) SELECT id, ?2, status, created, confirmed, "
	    "unsubscribed FROM herald_bulk WHERE bulk = ?1";
	static const char ev_sql[] = "INSERT OR FAIL INTO events "
	    "(at, subscriber_id, newsletter, kind, detail) "
	    "SELECT ?2, id, ?3, 'subscribe', detail "
	    "FROM herald_bulk WHERE bulk = ?1";
	struct db_stmt *s;
	enum store_rc rc;

	if (b->n == 0)
		return STORE_OK;
	if (store_is_pg(st))
		return store_subs_bulk_pg_subscribe(st, nl, b, at);
	if ((rc = bulk_register(st)) != STORE_OK)
		return rc;
	s = store_stmt(st, sub_sql);
	db_bind_text(s, 2, nl);
	if ((rc = bulk_run(s, b)) != STORE_OK)
		return rc;
	s = store_stmt(st, ev_sql);
	db_bind_int64(s, 2, at);
	db_bind_text(s, 3, nl);
	return bulk_run(s, b);
}
