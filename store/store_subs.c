#include "store_subs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"
#include "util.h"
#include "xmalloc.h"

static const char *const status_names[SUB_NSTATUS] = {
	"pending", "active", "unsubscribed", "bounced",
};

const char *
store_subs_status_name(enum sub_status s)
{
	return (unsigned)s < SUB_NSTATUS ? status_names[s] : "unknown";
}

int
store_subs_status_parse(const char *s, enum sub_status *out)
{
	int i;

	for (i = 0; i < SUB_NSTATUS; i++) {
		if (ascii_casecmp(s, status_names[i]) == 0) {
			*out = (enum sub_status)i;
			return 0;
		}
	}
	return -1;
}

/* The stored status text to the enum (the schema CHECK keeps it valid). */
static enum sub_status
status_of(const char *s)
{
	enum sub_status st;

	if (s == NULL || store_subs_status_parse(s, &st) == -1)
		st = SUB_ACTIVE;
	return st;
}

void
store_subs_info_free(struct sub_info *si)
{
	free(si->email);
	free(si->name);
	free(si->attributes);
	memset(si, 0, sizeof(*si));
}

enum store_rc
store_subs_find(struct store *st, const char *email, struct sub_info *out,
    bool *found)
{
	static const char sql[] = "SELECT id, email, name, attributes, created "
	    "FROM subscribers WHERE email_key = lower(?1)";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	/*
	 * lower() in SQLite folds ASCII only, like email_key(); binding the
	 * address itself avoids an allocation.
	 */
	memset(out, 0, sizeof(*out));
	*found = false;
	db_bind_text(s, 1, email);
	rc = db_step(s);
	if (rc == DB_ROW) {
		*found = true;
		out->id = db_column_int64(s, 0);
		out->email = xstrdup(store_col_text(s, 1));
		out->name = xstrdup(store_col_text(s, 2));
		out->attributes = xstrdup(store_col_text(s, 3));
		out->created = (time_t)db_column_int64(s, 4);
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_status(struct store *st, int64_t id, const char *nl,
    enum sub_status *status, time_t *since, bool *has)
{
	static const char sql[] = "SELECT status, "
	    "max(created, coalesce(confirmed, 0), coalesce(unsubscribed, 0)) "
	    "FROM subscriptions WHERE subscriber_id = ?1 AND newsletter = ?2";
	static const char pg_sql[] = "SELECT status, "
	    "greatest(created, coalesce(confirmed, 0), coalesce(unsubscribed, 0)) "
	    "FROM subscriptions WHERE subscriber_id = ?1 AND newsletter = ?2";
	struct db_stmt *s = store_stmt(st, STORE_SQL(st, sql, pg_sql));
	int rc;

	*has = false;
	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, nl);
	rc = db_step(s);
	if (rc == DB_ROW) {
		*has = true;
		*status = status_of(store_col_text(s, 0));
		if (since)
			*since = (time_t)db_column_int64(s, 1);
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_insert(struct store *st, const char *email, const char *key,
    const char *name, const char *attrs, time_t created, int64_t *id,
    bool *inserted)
{
	/* above every id ever given (schema 3: subscriber_ids) */
	static const char sql[] = "INSERT INTO subscribers "
	    "(id, email, email_key, name, attributes, created) "
	    "VALUES (max(coalesce((SELECT max(id) FROM subscribers), 0), "
	    "coalesce((SELECT max(floor) FROM subscriber_ids), 0)) + 1, "
	    "?1, ?2, ?3, ?4, ?5) ON CONFLICT (email_key) DO NOTHING "
	    "RETURNING id";	/* PostgreSQL has no last_insert_rowid */
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	*id = 0;
	*inserted = false;
	db_bind_text(s, 1, email);
	db_bind_text(s, 2, key);
	if (name && *name)
		db_bind_text(s, 3, name);
	db_bind_text(s, 4, attrs ? attrs : "{}");
	db_bind_int64(s, 5, created);
	rc = db_step(s);
	if (rc == DB_ROW) {
		*inserted = true;
		*id = db_column_int64(s, 0);
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_insert_at(struct store *st, int64_t id, const char *email,
    const char *key, const char *name, const char *attrs, time_t created,
    bool *inserted)
{
	static const char sql[] = "INSERT INTO subscribers "
	    "(id, email, email_key, name, attributes, created) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (email_key) DO NOTHING";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	*inserted = false;
	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, email);
	db_bind_text(s, 3, key);
	if (name && *name)
		db_bind_text(s, 4, name);
	db_bind_text(s, 5, attrs && *attrs ? attrs : "{}");
	db_bind_int64(s, 6, created);
	rc = db_step(s);
	if (rc == DB_DONE && db_changes(store_conn(st)) == 1)
		*inserted = true;
	return store_finish(s, rc);
}

enum store_rc
store_subs_max_id(struct store *st, int64_t *max)
{
	static const char sql[] = "SELECT max("
	    "coalesce((SELECT max(id) FROM subscribers), 0), "
	    "coalesce((SELECT max(floor) FROM subscriber_ids), 0))";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	*max = 0;
	rc = db_step(s);
	if (rc == DB_ROW)
		*max = db_column_int64(s, 0);
	return store_finish(s, rc);
}

enum store_rc
store_subs_find_key(struct store *st, const char *key, const char *nl,
    int64_t *id, bool *found, bool *has, enum sub_status *status)
{
	static const char sql[] = "SELECT s.id, b.status FROM subscribers s "
	    "LEFT JOIN subscriptions b ON b.subscriber_id = s.id "
	    "AND b.newsletter = ?2 WHERE s.email_key = ?1";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	*found = *has = false;
	*id = 0;
	db_bind_text(s, 1, key);
	db_bind_text(s, 2, nl);
	rc = db_step(s);
	if (rc == DB_ROW) {
		*found = true;
		*id = db_column_int64(s, 0);
		if (!db_column_null(s, 1)) {
			*has = true;
			*status = status_of(store_col_text(s, 1));
		}
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_subscribe(struct store *st, int64_t id, const char *nl,
    enum sub_status status, time_t created)
{
	static const char sql[] = "INSERT INTO subscriptions "
	    "(subscriber_id, newsletter, status, created, confirmed, "
	    "unsubscribed, pending_since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "CASE WHEN ?3 = 'pending' THEN CAST(?4 AS BIGINT) END)";
	struct db_stmt *s = store_stmt(st, sql);

	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, nl);
	db_bind_text(s, 3, status_names[status]);
	db_bind_int64(s, 4, created);
	if (status == SUB_ACTIVE)
		db_bind_int64(s, 5, created);
	if (status == SUB_UNSUBSCRIBED || status == SUB_BOUNCED)
		db_bind_int64(s, 6, created);
	return store_finish(s, db_step(s));
}

enum store_rc
store_subs_set_status(struct store *st, int64_t id, const char *nl,
    enum sub_status status, time_t now)
{
	static const char sql[] = "UPDATE subscriptions SET status = ?3, "
	    "confirmed = CASE WHEN ?3 = 'active' THEN ?4 ELSE confirmed END, "
	    "unsubscribed = CASE WHEN ?3 IN ('unsubscribed', 'bounced') "
	    "  THEN ?4 WHEN ?3 = 'active' THEN NULL ELSE unsubscribed END, "
	    "soft_bounces = CASE WHEN ?3 = 'active' THEN 0 ELSE soft_bounces END, "
	    "soft_bounce_delivery = CASE WHEN ?3 = 'active' THEN NULL "
	    "  ELSE soft_bounce_delivery END, "
	    "pending_since = CASE WHEN ?3 = 'pending' THEN ?4 "
	    "  ELSE pending_since END "
	    "WHERE subscriber_id = ?1 AND newsletter = ?2";
	struct db_stmt *s = store_stmt(st, sql);

	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, nl);
	db_bind_text(s, 3, status_names[status]);
	db_bind_int64(s, 4, now);
	return store_finish_one(st, s, db_step(s), "subscription status");
}

enum store_rc
store_subs_update(struct store *st, int64_t id, const char *name,
    const char *attrs)
{
	static const char sql[] = "UPDATE subscribers SET "
	    "name = CASE WHEN ?2 IS NULL THEN name ELSE nullif(?2, '') END, "
	    "attributes = CASE WHEN ?3 IS NULL THEN attributes "
	    "  ELSE json_patch(attributes, ?3) END "
	    "WHERE id = ?1";
	/* json_patch's merge for flat objects: later keys win, null drops. */
	static const char pg_sql[] = "UPDATE subscribers SET "
	    "name = CASE WHEN CAST(?2 AS TEXT) IS NULL THEN name "
	    "  ELSE nullif(?2, '') END, "
	    "attributes = CASE WHEN CAST(?3 AS TEXT) IS NULL THEN attributes "
	    "  ELSE jsonb_strip_nulls(attributes::jsonb || CAST(?3 AS jsonb))::text END "
	    "WHERE id = ?1";
	struct db_stmt *s = store_stmt(st, STORE_SQL(st, sql, pg_sql));

	db_bind_int64(s, 1, id);
	if (name)
		db_bind_text(s, 2, name);
	if (attrs)
		db_bind_text(s, 3, attrs);
	return store_finish_one(st, s, db_step(s), "subscriber update");
}

enum store_rc
store_subs_event(struct store *st, int64_t id, const char *nl,
    const char *kind, const char *detail, time_t at)
{
	static const char sql[] = "INSERT INTO events "
	    "(at, subscriber_id, newsletter, kind, detail) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)";
	struct db_stmt *s = store_stmt(st, sql);

	db_bind_int64(s, 1, at);
	if (id)
		db_bind_int64(s, 2, id);
	if (nl)
		db_bind_text(s, 3, nl);
	db_bind_text(s, 4, kind);
	if (detail)
		db_bind_text(s, 5, detail);
	return store_finish(s, db_step(s));
}

enum store_rc
store_subs_remove(struct store *st, int64_t id, struct sub_erased *er)
{
	static const char count_sql[] = "SELECT "
	    "(SELECT count(*) FROM subscriptions WHERE subscriber_id = ?1), "
	    "(SELECT count(*) FROM deliveries WHERE subscriber_id = ?1), "
	    "(SELECT count(*) FROM events WHERE subscriber_id = ?1)";
	static const char floor_sql[] = "UPDATE subscriber_ids "
	    "SET floor = max(floor, ?1)";
	static const char dfloor_sql[] = "UPDATE delivery_ids "
	    "SET floor = max(floor, (SELECT coalesce(max(id), 0) "
	    "FROM deliveries WHERE subscriber_id = ?1))";
	static const char del_sql[] = "DELETE FROM subscribers WHERE id = ?1";
	struct db_stmt *s = store_stmt(st, count_sql);
	enum store_rc r;
	int rc;

	memset(er, 0, sizeof(*er));
	db_bind_int64(s, 1, id);
	rc = db_step(s);
	if (rc == DB_ROW) {
		er->subscriptions = db_column_int(s, 0);
		er->deliveries = db_column_int(s, 1);
		er->events = db_column_int(s, 2);
	}
	if ((r = store_finish(s, rc)) != STORE_OK)
		return r;
	/*
	 * its id is never given again: links to it are out there; nor are
	 * its deliveries' (the VERP addresses of its messages)
	 */
	s = store_stmt(st, floor_sql);
	db_bind_int64(s, 1, id);
	if ((r = store_finish_one(st, s, db_step(s), "subscriber id floor"))
	    != STORE_OK)
		return r;
	s = store_stmt(st, dfloor_sql);
	db_bind_int64(s, 1, id);
	if ((r = store_finish_one(st, s, db_step(s), "delivery id floor"))
	    != STORE_OK)
		return r;
	s = store_stmt(st, del_sql);
	db_bind_int64(s, 1, id);
	return store_finish(s, db_step(s));
}

enum store_rc
store_subs_count(struct store *st, const char *nl, long counts[SUB_NSTATUS])
{
	static const char sql[] = "SELECT status, count(*) FROM subscriptions "
	    "WHERE newsletter = ?1 GROUP BY status";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	memset(counts, 0, SUB_NSTATUS * sizeof(counts[0]));
	db_bind_text(s, 1, nl);
	while ((rc = db_step(s)) == DB_ROW)
		counts[status_of(store_col_text(s, 0))] =
		    db_column_int(s, 1);
	return store_finish(s, rc);
}

/* Binds (?1 newsletter, ?2 status filter or NULL) for the walks below. */
static void
bind_filter(struct db_stmt *s, const char *nl, const enum sub_status *filter)
{
	db_bind_text(s, 1, nl);
	if (filter)
		db_bind_text(s, 2, status_names[*filter]);
}

/*
 * The next row of a walk.  On PostgreSQL s is a FETCH of the next page of
 * a cursor, run again when a page ends (*got: rows of this page), so at
 * most one page of the result is in memory (issue 14; a plain query's
 * result arrives whole).
 */
static int
walk_step(struct db_stmt *s, bool pg, long *got)
{
	int rc = db_step(s);

	if (pg && rc == DB_DONE && *got > 0) {
		*got = 0;
		db_reset(s);
		rc = db_step(s);
	}
	if (rc == DB_ROW)
		(*got)++;
	return rc;
}

enum store_rc
store_subs_each(struct store *st, const char *nl,
    const enum sub_status *filter, int (*cb)(const struct sub_row *, void *),
    void *arg, int *cbrc)
{
	/* One row per attribute (or one with NULL key): grouped by id. */
	static const char sql[] = "SELECT s.id, s.email, s.name, b.status, "
	    "b.created, j.key, j.value "
	    "FROM subscriptions b JOIN subscribers s ON s.id = b.subscriber_id "
	    "LEFT JOIN json_each(s.attributes) j "
	    "WHERE b.newsletter = ?1 AND (?2 IS NULL OR b.status = ?2) "
	    "ORDER BY s.id, j.id";
	/* PostgreSQL: through a cursor, read in pages (see walk_step) */
	static const char pg_sql[] = "DECLARE herald_each NO SCROLL CURSOR "
	    "FOR SELECT s.id, s.email, s.name, b.status, "
	    "b.created, j.key, j.value "
	    "FROM subscriptions b JOIN subscribers s ON s.id = b.subscriber_id "
	    "LEFT JOIN LATERAL json_each_text(s.attributes::json) "
	    "  WITH ORDINALITY j(key, value, n) ON true "
	    "WHERE b.newsletter = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
	    "b.status = ?2) ORDER BY s.id, j.n";
	static const char fetch_sql[] = "FETCH FORWARD 1000 FROM herald_each";
	struct db_stmt *s = store_stmt(st, STORE_SQL(st, sql, pg_sql));
	struct sub_row row;
	char *email = NULL, *name = NULL;
	char **keys = NULL, **vals = NULL;
	size_t cap = 0, i;
	long got = 0;
	bool pg = store_is_pg(st), began = false;
	enum store_rc r;
	int rc;

	*cbrc = 0;
	memset(&row, 0, sizeof(row));
	bind_filter(s, nl, filter);
	if (pg) {
		/* a cursor lives in a transaction */
		if (!db_in_tx(store_conn(st))) {
			if ((r = store_exec(st, "BEGIN")) != STORE_OK)
				return r;
			began = true;
		}
		if ((r = store_finish(s, db_step(s))) != STORE_OK)
			goto out;
		s = store_stmt(st, fetch_sql);
	}
	for (;;) {
		int64_t id = 0;

		rc = walk_step(s, pg, &got);
		if (rc == DB_ROW)
			id = db_column_int64(s, 0);
		/* a new subscriber (or the end): emit the one collected */
		if (row.id && (rc != DB_ROW || id != row.id)) {
			row.email = email;
			row.name = name;
			row.keys = (const char **)keys;
			row.values = (const char **)vals;
			*cbrc = cb(&row, arg);
			free(email);
			free(name);
			email = name = NULL;
			for (i = 0; i < row.nattrs; i++) {
				free(keys[i]);
				free(vals[i]);
			}
			row.nattrs = 0;
			row.id = 0;
			if (*cbrc)
				break;
		}
		if (rc != DB_ROW)
			break;
		if (row.id == 0) {
			row.id = id;
			email = xstrdup(store_col_text(s, 1));
			name = xstrdup(store_col_text(s, 2));
			row.status = status_of(store_col_text(s, 3));
			row.created = (time_t)db_column_int64(s, 4);
		}
		if (!db_column_null(s, 5)) {
			if (row.nattrs == cap) {
				cap = cap ? cap * 2 : 8;
				keys = xrealloc(keys, cap * sizeof(*keys));
				vals = xrealloc(vals, cap * sizeof(*vals));
			}
			keys[row.nattrs] = xstrdup(store_col_text(s, 5));
			vals[row.nattrs] = xstrdup(store_col_text(s, 6) ?
			    store_col_text(s, 6) : "");
			row.nattrs++;
		}
	}
	for (i = 0; i < row.nattrs; i++) {
		free(keys[i]);
		free(vals[i]);
	}
	free(email);
	free(name);
	free(keys);
	free(vals);
	r = store_finish(s, rc);
	if (pg && r == STORE_OK)
		r = store_exec(st, "CLOSE herald_each");
out:
	if (began) {
		if (r == STORE_OK)
			r = store_commit(st);
		else
			store_rollback(st);
	}
	return r;
}

enum store_rc
store_subs_attr_keys(struct store *st, const char *nl,
    const enum sub_status *filter, char ***keys, size_t *n)
{
	static const char sql[] = "SELECT DISTINCT j.key "
	    "FROM subscriptions b JOIN subscribers s ON s.id = b.subscriber_id, "
	    "json_each(s.attributes) j "
	    "WHERE b.newsletter = ?1 AND (?2 IS NULL OR b.status = ?2) "
	    "ORDER BY j.key";
	static const char pg_sql[] = "SELECT DISTINCT j.key COLLATE \"C\" "
	    "FROM subscriptions b JOIN subscribers s ON s.id = b.subscriber_id "
	    "CROSS JOIN LATERAL json_each_text(s.attributes::json) j "
	    "WHERE b.newsletter = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
	    "b.status = ?2) ORDER BY 1";
	struct db_stmt *s = store_stmt(st, STORE_SQL(st, sql, pg_sql));
	size_t cap = 0;
	int rc;

	*keys = NULL;
	*n = 0;
	bind_filter(s, nl, filter);
	while ((rc = db_step(s)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*keys = xrealloc(*keys, cap * sizeof(**keys));
		}
		(*keys)[(*n)++] = xstrdup(store_col_text(s, 0));
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_widths(struct store *st, const char *nl,
    const enum sub_status *filter, int *email, int *name)
{
	static const char sql[] = "SELECT max(length(s.email)), "
	    "max(length(s.name)) "
	    "FROM subscriptions b JOIN subscribers s ON s.id = b.subscriber_id "
	    "WHERE b.newsletter = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
	    "b.status = ?2)";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	*email = *name = 0;
	bind_filter(s, nl, filter);
	rc = db_step(s);
	if (rc == DB_ROW) {
		*email = db_column_int(s, 0);
		*name = db_column_int(s, 1);
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_each_subscription(struct store *st, int64_t id,
    void (*cb)(const struct sub_subscription *, void *), void *arg)
{
	static const char sql[] = "SELECT newsletter, status, created, "
	    "confirmed, unsubscribed, soft_bounces FROM subscriptions "
	    "WHERE subscriber_id = ?1 ORDER BY newsletter";
	struct db_stmt *s = store_stmt(st, sql);
	struct sub_subscription sub;
	int rc;

	db_bind_int64(s, 1, id);
	while ((rc = db_step(s)) == DB_ROW) {
		sub.newsletter = store_col_text(s, 0);
		sub.status = status_of(store_col_text(s, 1));
		sub.created = (time_t)db_column_int64(s, 2);
		sub.confirmed = (time_t)db_column_int64(s, 3);
		sub.unsubscribed = (time_t)db_column_int64(s, 4);
		sub.soft_bounces = db_column_int(s, 5);
		cb(&sub, arg);
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_each_event(struct store *st, int64_t id, int limit,
    void (*cb)(const struct sub_event *, void *), void *arg)
{
	static const char sql[] = "SELECT at, newsletter, kind, detail FROM "
	    "(SELECT id, at, newsletter, kind, detail FROM events "
	    " WHERE subscriber_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2) e "
	    "ORDER BY at, id";
	struct db_stmt *s = store_stmt(st, sql);
	struct sub_event ev;
	int rc;

	db_bind_int64(s, 1, id);
	db_bind_int(s, 2, limit);
	while ((rc = db_step(s)) == DB_ROW) {
		ev.at = (time_t)db_column_int64(s, 0);
		ev.newsletter = store_col_text(s, 1);
		ev.kind = store_col_text(s, 2);
		ev.detail = store_col_text(s, 3);
		cb(&ev, arg);
	}
	return store_finish(s, rc);
}
