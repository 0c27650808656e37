/*
 * store_subs_bulk_pg: a bulk import's batch on PostgreSQL (issue 14).
 *
 * One statement per row cost a round trip each (100,000 rows: 22 s).
 * Here a batch goes to the server in one COPY into a temporary staging
 * table (herald_bulk, this connection's own), and each table takes it with
 * one INSERT ... SELECT, as SQLite's herald_bulk virtual table does
 * (store_subs_bulk.c): the same rows, order, conflicts and event details.
 * Everything runs in the caller's transaction.
 */
#include "store_subs_bulk_pg.h"

#include <inttypes.h>
#include <string.h>

#include "buf.h"
#include "store_sqlite.h"

/* Sent to the server whenever this much of a COPY has gathered. */
#define COPY_CHUNK	(256 * 1024)

static const char stage_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS herald_bulk ("
    "  seq bigint, id bigint, email text, email_key text, name text,"
    "  attributes text, created bigint, status text, confirmed bigint,"
    "  unsubscribed bigint, detail text);"
    "TRUNCATE herald_bulk";

/* s (n bytes) escaped for COPY's text format. */
static void
esc(struct buf *o, const char *s, size_t n)
{
	size_t i, from = 0;
	const char *e;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': e = "\\\\"; break;
		case '\t': e = "\\t"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		default: continue;
		}
		buf_add(o, s + from, i - from);
		buf_add(o, e, 2);
		from = i + 1;
	}
	buf_add(o, s + from, n - from);
}

/* A field: n bytes of s, or \N when s is NULL; then sep. */
static void
field(struct buf *o, const char *s, size_t n, char sep)
{
	if (s == NULL)
		buf_add(o, "\\N", 2);
	else
		esc(o, s, n);
	buf_addc(o, sep);
}

static void
field_int(struct buf *o, int64_t v, bool null, char sep)
{
	if (null)
		buf_add(o, "\\N", 2);
	else
		buf_printf(o, "%" PRId64, v);
	buf_addc(o, sep);
}

/*
 * Empties the staging table and COPYs the rows of b into it, each line
 * made by line(o, i, row).  STORE_* code.
 */
static enum store_rc
stage(struct store *st, const char *copy, const struct sub_bulk *b,
    void (*line)(struct buf *, size_t, const struct sub_bulk_row *,
    const char *), const char *prefix)
{
	struct db *db = store_conn(st);
	struct buf o = BUF_INIT;
	struct sub_bulk_row r;
	enum store_rc rc;
	int drc = DB_OK;
	size_t i;

	if ((rc = store_exec(st, stage_sql)) != STORE_OK)
		return rc;
	if ((drc = db_pg_copy_begin(db, copy)) != DB_OK)
		return store_rc(drc);
	for (i = 0; i < b->n && drc == DB_OK; i++) {
		memset(&r, 0, sizeof(r));
		b->row(b->arg, i, &r);
		line(&o, i, &r, prefix);
		if (o.len >= COPY_CHUNK || i + 1 == b->n) {
			drc = db_pg_copy_put(db, o.data, o.len);
			buf_reset(&o);
		}
	}
	buf_free(&o);
	if (drc != DB_OK) {
		(void)db_pg_copy_end(db, false);
		return store_rc(drc);
	}
	return store_rc(db_pg_copy_end(db, true));
}

static void
subscriber_line(struct buf *o, size_t i, const struct sub_bulk_row *r,
    const char *prefix)
{
	(void)prefix;
	field_int(o, (int64_t)i, false, '\t');
	field_int(o, r->id, false, '\t');
	field(o, r->email, r->email_len, '\t');
	field(o, r->key, r->email_len, '\t');
	field(o, r->name_len ? r->name : NULL, r->name_len, '\t');
	if (r->attrs_len)
		field(o, r->attrs, r->attrs_len, '\t');
	else
		field(o, "{}", 2, '\t');
	field_int(o, (int64_t)r->created, false, '\n');
}

enum store_rc
store_subs_bulk_pg_insert(struct store *st, const struct sub_bulk *b,
    long *added)
{
	static const char copy[] = "COPY herald_bulk "
	    "(seq, id, email, email_key, name, attributes, created) FROM STDIN";
	static const char sql[] = "INSERT INTO subscribers "
	    "(id, email, email_key, name, attributes, created) "
	    "SELECT id, email, email_key, name, attributes, created "
	    "FROM herald_bulk ORDER BY seq "
	    "ON CONFLICT (email_key) DO NOTHING";
	enum store_rc rc;

	*added = 0;
	if ((rc = stage(st, copy, b, subscriber_line, NULL)) != STORE_OK)
		return rc;
	if ((rc = store_exec(st, sql)) == STORE_OK)
		*added = (long)db_changes(store_conn(st));
	return rc;
}

/* The event detail as the SQLite path makes it: prefix, then the tail. */
static void
subscription_line(struct buf *o, size_t i, const struct sub_bulk_row *r,
    const char *prefix)
{
	const char *status = store_subs_status_name(r->status);
	char tail[SUB_BULK_TAIL];

	field_int(o, (int64_t)i, false, '\t');
	field_int(o, r->id, false, '\t');
	field(o, status, strlen(status), '\t');
	field_int(o, (int64_t)r->created, false, '\t');
	field_int(o, (int64_t)r->created, r->status != SUB_ACTIVE, '\t');
	field_int(o, (int64_t)r->created, r->status != SUB_UNSUBSCRIBED &&
	    r->status != SUB_BOUNCED, '\t');
	if (prefix == NULL) {
		field(o, NULL, 0, '\n');
		return;
	}
	esc(o, prefix, strlen(prefix));
	field(o, tail, store_subs_bulk_tail(r, tail), '\n');
}

enum store_rc
store_subs_bulk_pg_subscribe(struct store *st, const char *nl,
    const struct sub_bulk *b, time_t at)
{
	static const char copy[] = "COPY herald_bulk (seq, id, status, "
	    "created, confirmed, unsubscribed, detail) FROM STDIN";
	static const char sub_sql[] = "INSERT INTO subscriptions "
	    "(subscriber_id, newsletter, status, created, confirmed, "
	    "unsubscribed, pending_since) SELECT id, CAST(?1 AS TEXT), status, "
	    "created, confirmed, unsubscribed, "
	    "CASE WHEN status = 'pending' THEN created END "
	    "FROM herald_bulk ORDER BY seq";
	static const char ev_sql[] = "INSERT INTO events "
	    "(at, subscriber_id, newsletter, kind, detail) "
	    "SELECT CAST(?1 AS BIGINT), id, CAST(?2 AS TEXT), 'subscribe', "
	    "detail FROM herald_bulk ORDER BY seq";
	struct db_stmt *s;
	enum store_rc rc;

	if ((rc = stage(st, copy, b, subscription_line, b->prefix))
	    != STORE_OK)
		return rc;
	s = store_stmt(st, sub_sql);
	db_bind_text(s, 1, nl);
	if ((rc = store_finish(s, db_step(s))) != STORE_OK)
		return rc;
	s = store_stmt(st, ev_sql);
	db_bind_int64(s, 1, at);
	db_bind_text(s, 2, nl);
	return store_finish(s, db_step(s));
}
