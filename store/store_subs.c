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

/* Finishes a statement run: reset, and the STORE_* code of rc. */
static enum store_rc
done(sqlite3_stmt *s, int rc)
{
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : store_rc(rc);
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
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	/*
	 * lower() in SQLite folds ASCII only, like email_key(); binding the
	 * address itself avoids an allocation.
	 */
	memset(out, 0, sizeof(*out));
	*found = false;
	sqlite3_bind_text(s, 1, email, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = true;
		out->id = sqlite3_column_int64(s, 0);
		out->email = xstrdup(store_col_text(s, 1));
		out->name = xstrdup(store_col_text(s, 2));
		out->attributes = xstrdup(store_col_text(s, 3));
		out->created = (time_t)sqlite3_column_int64(s, 4);
	}
	return done(s, rc);
}

enum store_rc
store_subs_status(struct store *st, int64_t id, const char *nl,
    enum sub_status *status, time_t *since, bool *has)
{
	static const char sql[] = "SELECT status, "
	    "max(created, coalesce(confirmed, 0), coalesce(unsubscribed, 0)) "
	    "FROM subscriptions WHERE subscriber_id = ?1 AND newsletter = ?2";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	*has = false;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, nl, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*has = true;
		*status = status_of(store_col_text(s, 0));
		if (since)
			*since = (time_t)sqlite3_column_int64(s, 1);
	}
	return done(s, rc);
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
	    "?1, ?2, ?3, ?4, ?5) ON CONFLICT (email_key) DO NOTHING";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	*id = 0;
	*inserted = false;
	sqlite3_bind_text(s, 1, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	if (name && *name)
		sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, attrs ? attrs : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)created);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE && sqlite3_changes(store_db(st)) == 1) {
		*inserted = true;
		*id = sqlite3_last_insert_rowid(store_db(st));
	}
	return done(s, rc);
}

enum store_rc
store_subs_insert_at(struct store *st, int64_t id, const char *email,
    const char *key, const char *name, const char *attrs, time_t created,
    bool *inserted)
{
	static const char sql[] = "INSERT INTO subscribers "
	    "(id, email, email_key, name, attributes, created) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (email_key) DO NOTHING";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	*inserted = false;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
	if (name && *name)
		sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, attrs && *attrs ? attrs : "{}", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)created);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE && sqlite3_changes(store_db(st)) == 1)
		*inserted = true;
	return done(s, rc);
}

enum store_rc
store_subs_max_id(struct store *st, int64_t *max)
{
	static const char sql[] = "SELECT max("
	    "coalesce((SELECT max(id) FROM subscribers), 0), "
	    "coalesce((SELECT max(floor) FROM subscriber_ids), 0))";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	*max = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*max = sqlite3_column_int64(s, 0);
	return done(s, rc);
}

enum store_rc
store_subs_find_key(struct store *st, const char *key, const char *nl,
    int64_t *id, bool *found, bool *has, enum sub_status *status)
{
	static const char sql[] = "SELECT s.id, b.status FROM subscribers s "
	    "LEFT JOIN subscriptions b ON b.subscriber_id = s.id "
	    "AND b.newsletter = ?2 WHERE s.email_key = ?1";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	*found = *has = false;
	*id = 0;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nl, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*found = true;
		*id = sqlite3_column_int64(s, 0);
		if (sqlite3_column_type(s, 1) != SQLITE_NULL) {
			*has = true;
			*status = status_of(store_col_text(s, 1));
		}
	}
	return done(s, rc);
}

/* Sets an integer PRAGMA of this connection; *old: its value before. */
static enum store_rc
pragma_int(struct store *st, const char *get, const char *name, long value,
    long *old)
{
	char sql[64];

	if (old) {
		sqlite3_stmt *s = store_stmt(st, get);
		enum store_rc r;
		int rc = sqlite3_step(s);

		if (rc == SQLITE_ROW)
			*old = (long)sqlite3_column_int64(s, 0);
		if ((r = done(s, rc)) != STORE_OK)
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
	return store_exec(st, on ? "PRAGMA foreign_keys = ON" :
	    "PRAGMA foreign_keys = OFF");
}

enum store_rc
store_subs_subscribe(struct store *st, int64_t id, const char *nl,
    enum sub_status status, time_t created)
{
	static const char sql[] = "INSERT INTO subscriptions "
	    "(subscriber_id, newsletter, status, created, confirmed, "
	    "unsubscribed, pending_since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "CASE WHEN ?3 = 'pending' THEN ?4 END)";
	sqlite3_stmt *s = store_stmt(st, sql);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, nl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, status_names[status], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)created);
	if (status == SUB_ACTIVE)
		sqlite3_bind_int64(s, 5, (sqlite3_int64)created);
	if (status == SUB_UNSUBSCRIBED || status == SUB_BOUNCED)
		sqlite3_bind_int64(s, 6, (sqlite3_int64)created);
	return done(s, sqlite3_step(s));
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
	sqlite3_stmt *s = store_stmt(st, sql);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, nl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, status_names[status], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
	return done(s, sqlite3_step(s));
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
	sqlite3_stmt *s = store_stmt(st, sql);

	sqlite3_bind_int64(s, 1, id);
	if (name)
		sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	if (attrs)
		sqlite3_bind_text(s, 3, attrs, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
}

enum store_rc
store_subs_event(struct store *st, int64_t id, const char *nl,
    const char *kind, const char *detail, time_t at)
{
	static const char sql[] = "INSERT INTO events "
	    "(at, subscriber_id, newsletter, kind, detail) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)";
	sqlite3_stmt *s = store_stmt(st, sql);

	sqlite3_bind_int64(s, 1, (sqlite3_int64)at);
	if (id)
		sqlite3_bind_int64(s, 2, id);
	if (nl)
		sqlite3_bind_text(s, 3, nl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, kind, -1, SQLITE_STATIC);
	if (detail)
		sqlite3_bind_text(s, 5, detail, -1, SQLITE_STATIC);
	return done(s, sqlite3_step(s));
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
	static const char del_sql[] = "DELETE FROM subscribers WHERE id = ?1";
	sqlite3_stmt *s = store_stmt(st, count_sql);
	enum store_rc r;
	int rc;

	memset(er, 0, sizeof(*er));
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		er->subscriptions = sqlite3_column_int(s, 0);
		er->deliveries = sqlite3_column_int(s, 1);
		er->events = sqlite3_column_int(s, 2);
	}
	if ((r = done(s, rc)) != STORE_OK)
		return r;
	/* its id is never given again: links to it are out there */
	s = store_stmt(st, floor_sql);
	sqlite3_bind_int64(s, 1, id);
	if ((r = done(s, sqlite3_step(s))) != STORE_OK)
		return r;
	s = store_stmt(st, del_sql);
	sqlite3_bind_int64(s, 1, id);
	return done(s, sqlite3_step(s));
}

enum store_rc
store_subs_count(struct store *st, const char *nl, long counts[SUB_NSTATUS])
{
	static const char sql[] = "SELECT status, count(*) FROM subscriptions "
	    "WHERE newsletter = ?1 GROUP BY status";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	memset(counts, 0, SUB_NSTATUS * sizeof(counts[0]));
	sqlite3_bind_text(s, 1, nl, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		counts[status_of(store_col_text(s, 0))] =
		    sqlite3_column_int(s, 1);
	return done(s, rc);
}

/* Binds (?1 newsletter, ?2 status filter or NULL) for the walks below. */
static void
bind_filter(sqlite3_stmt *s, const char *nl, const enum sub_status *filter)
{
	sqlite3_bind_text(s, 1, nl, -1, SQLITE_STATIC);
	if (filter)
		sqlite3_bind_text(s, 2, status_names[*filter], -1,
		    SQLITE_STATIC);
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
	sqlite3_stmt *s = store_stmt(st, sql);
	struct sub_row row;
	char *email = NULL, *name = NULL;
	char **keys = NULL, **vals = NULL;
	size_t cap = 0, i;
	int rc;

	*cbrc = 0;
	memset(&row, 0, sizeof(row));
	bind_filter(s, nl, filter);
	for (;;) {
		int64_t id = 0;

		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(s, 0);
		/* a new subscriber (or the end): emit the one collected */
		if (row.id && (rc != SQLITE_ROW || id != row.id)) {
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
		if (rc != SQLITE_ROW)
			break;
		if (row.id == 0) {
			row.id = id;
			email = xstrdup(store_col_text(s, 1));
			name = xstrdup(store_col_text(s, 2));
			row.status = status_of(store_col_text(s, 3));
			row.created = (time_t)sqlite3_column_int64(s, 4);
		}
		if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
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
	return done(s, rc);
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
	sqlite3_stmt *s = store_stmt(st, sql);
	size_t cap = 0;
	int rc;

	*keys = NULL;
	*n = 0;
	bind_filter(s, nl, filter);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*keys = xrealloc(*keys, cap * sizeof(**keys));
		}
		(*keys)[(*n)++] = xstrdup(store_col_text(s, 0));
	}
	return done(s, rc);
}

enum store_rc
store_subs_widths(struct store *st, const char *nl,
    const enum sub_status *filter, int *email, int *name)
{
	static const char sql[] = "SELECT max(length(s.email)), "
	    "max(length(s.name)) "
	    "FROM subscriptions b JOIN subscribers s ON s.id = b.subscriber_id "
	    "WHERE b.newsletter = ?1 AND (?2 IS NULL OR b.status = ?2)";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	*email = *name = 0;
	bind_filter(s, nl, filter);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*email = sqlite3_column_int(s, 0);
		*name = sqlite3_column_int(s, 1);
	}
	return done(s, rc);
}

enum store_rc
store_subs_each_subscription(struct store *st, int64_t id,
    void (*cb)(const struct sub_subscription *, void *), void *arg)
{
	static const char sql[] = "SELECT newsletter, status, created, "
	    "confirmed, unsubscribed, soft_bounces FROM subscriptions "
	    "WHERE subscriber_id = ?1 ORDER BY newsletter";
	sqlite3_stmt *s = store_stmt(st, sql);
	struct sub_subscription sub;
	int rc;

	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		sub.newsletter = store_col_text(s, 0);
		sub.status = status_of(store_col_text(s, 1));
		sub.created = (time_t)sqlite3_column_int64(s, 2);
		sub.confirmed = (time_t)sqlite3_column_int64(s, 3);
		sub.unsubscribed = (time_t)sqlite3_column_int64(s, 4);
		sub.soft_bounces = sqlite3_column_int(s, 5);
		cb(&sub, arg);
	}
	return done(s, rc);
}

enum store_rc
store_subs_each_event(struct store *st, int64_t id, int limit,
    void (*cb)(const struct sub_event *, void *), void *arg)
{
	static const char sql[] = "SELECT at, newsletter, kind, detail FROM "
	    "(SELECT id, at, newsletter, kind, detail FROM events "
	    " WHERE subscriber_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2) "
	    "ORDER BY at, id";
	sqlite3_stmt *s = store_stmt(st, sql);
	struct sub_event ev;
	int rc;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ev.at = (time_t)sqlite3_column_int64(s, 0);
		ev.newsletter = store_col_text(s, 1);
		ev.kind = store_col_text(s, 2);
		ev.detail = store_col_text(s, 3);
		cb(&ev, arg);
	}
	return done(s, rc);
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

/*
 * The event detail: prefix, line, and " as <status>" unless active; built
 * by hand (snprintf was 5% of an import).
 */
static int
bulk_detail(struct bulk_cur *c, sqlite3_context *ctx)
{
	const struct sub_bulk_row *r = &c->row;
	const char *as = r->status == SUB_ACTIVE ? NULL :
	    store_subs_status_name(r->status);
	char digits[24], *d = digits + sizeof(digits), *o;
	unsigned long line = r->line;
	size_t nd, na = as ? 4 + strlen(as) : 0;

	do
		*--d = (char)('0' + line % 10);
	while ((line /= 10) != 0);
	nd = (size_t)(digits + sizeof(digits) - d);
	if (c->plen + nd + na > sizeof(c->detail)) {
		/* a very long file name: on the heap */
		char *h = sqlite3_mprintf("%s%.*s%s%s", c->prefix, (int)nd, d,
		    as ? " as " : "", as ? as : "");

		if (h == NULL)
			return SQLITE_NOMEM;
		sqlite3_result_text(ctx, h, -1, sqlite3_free);
		return SQLITE_OK;
	}
	o = c->detail + c->plen;	/* the prefix is there already */
	memcpy(o, d, nd);
	o += nd;
	if (as) {
		memcpy(o, " as ", 4);
		memcpy(o + 4, as, na - 4);
		o += na;
	}
	sqlite3_result_text(ctx, c->detail, (int)(o - c->detail),
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
bulk_run(sqlite3_stmt *s, const struct sub_bulk *b)
{
	sqlite3_bind_pointer(s, 1, (void *)b, BULK_PTR, NULL);
	return done(s, sqlite3_step(s));
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
	if ((rc = bulk_register(st)) != STORE_OK)
		return rc;
	rc = bulk_run(store_stmt(st, sql), b);
	if (rc == STORE_OK)
		*added = (long)sqlite3_changes64(store_db(st));
	return rc;
}

enum store_rc
store_subs_ids_from(struct store *st, int64_t from,
    void (*cb)(int64_t id, void *arg), void *arg)
{
	static const char sql[] = "SELECT id FROM subscribers WHERE id >= ?1 "
	    "ORDER BY id";
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	sqlite3_bind_int64(s, 1, from);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb(sqlite3_column_int64(s, 0), arg);
	return done(s, rc);
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
	sqlite3_stmt *s;
	enum store_rc rc;

	if (b->n == 0)
		return STORE_OK;
	if ((rc = bulk_register(st)) != STORE_OK)
		return rc;
	s = store_stmt(st, sub_sql);
	sqlite3_bind_text(s, 2, nl, -1, SQLITE_STATIC);
	if ((rc = bulk_run(s, b)) != STORE_OK)
		return rc;
	s = store_stmt(st, ev_sql);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)at);
	sqlite3_bind_text(s, 3, nl, -1, SQLITE_STATIC);
	return bulk_run(s, b);
}
