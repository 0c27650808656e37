/*
 * store_copy: every row of one store into another, across backends
 * (herald store copy, issue 14).  See store_copy.h.
 */
#include "store_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"
#include "xmalloc.h"

/* Parents before children, so foreign keys hold at every row. */
static const char *const tables[] = {
	"subscribers", "subscriptions", "sources", "articles", "issues",
	"issue_articles", "deliveries", "events",
};
/*
 * Tables whose id is an identity column on PostgreSQL, and the table of
 * the largest id each ever gave, where it has one (schema 3 and 6: ids
 * that links and VERP addresses carry are never given twice).
 */
static const struct {
	const char	*table, *floor;
} with_id[] = {
	{ "subscribers", "subscriber_ids" }, { "sources", NULL },
	{ "articles", NULL }, { "issues", NULL },
	{ "deliveries", "delivery_ids" }, { "events", NULL },
};
/* What is not copied: who held a row is meaningless in another store. */
static bool
skipped(const char *col)
{
	return strcmp(col, "claimed_by") == 0 ||
	    strcmp(col, "claimed_until") == 0;
}

static enum store_rc
fail(struct store *st, char **err, const char *what, const char *table)
{
	*err = xasprintf("%s %s: %s", what, table, store_errmsg(st));
	return STORE_ERR;
}

static enum store_rc
count_rows(struct store *st, const char *table, long *n, char **err)
{
	struct db_stmt *s = NULL;
	char sql[128];
	int rc;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if (db_prepare(store_conn(st), sql, &s) != DB_OK)
		return fail(st, err, "reading", table);
	rc = db_step(s);
	*n = rc == DB_ROW ? (long)db_column_int64(s, 0) : 0;
	db_finalize(s);
	return rc == DB_ROW ? STORE_OK : fail(st, err, "reading", table);
}

static enum store_rc
copy_table(struct store *from, struct store *to, const char *table,
    long *rows, char **err)
{
	struct db_stmt *r = NULL, *w = NULL;
	char *ins = NULL;
	int rc, ncol = 0, i, k, map[64];
	char sql[128], *cols = NULL, *vals = NULL, *t;
	enum store_rc out = STORE_OK;

	*rows = 0;
	snprintf(sql, sizeof(sql), "SELECT * FROM %s", table);
	if (db_prepare(store_conn(from), sql, &r) != DB_OK)
		return fail(from, err, "reading", table);
	while ((rc = db_step(r)) == DB_ROW) {
		if (w == NULL) {
			ncol = db_column_count(r);
			if (ncol > 64)
				ncol = 64;
			cols = xstrdup("");
			vals = xstrdup("");
			for (i = 0, k = 0; i < ncol; i++) {
				const char *name = db_column_name(r, i);

				if (skipped(name))
					continue;
				map[k++] = i;
				t = xasprintf("%s%s%s", cols, k > 1 ? ", " : "",
				    name);
				free(cols);
				cols = t;
				t = xasprintf("%s%s?%d", vals, k > 1 ? ", " : "",
				    k);
				free(vals);
				vals = t;
			}
			ncol = k;
			ins = xasprintf("INSERT INTO %s (%s) VALUES (%s)", table,
			    cols, vals);
			if (db_prepare(store_conn(to), ins, &w) != DB_OK) {
				out = fail(to, err, "writing", table);
				break;
			}
		}
		db_reset(w);
		for (k = 0; k < ncol; k++) {
			if (db_column_null(r, map[k]))
				db_bind_null(w, k + 1);
			else
				db_bind_text(w, k + 1, db_column_text(r, map[k]));
		}
		if (db_step(w) != DB_DONE) {
			out = fail(to, err, "writing", table);
			break;
		}
		(*rows)++;
	}
	if (out == STORE_OK && rc != DB_DONE)
		out = fail(from, err, "reading", table);
	db_finalize(r);
	db_finalize(w);
	free(ins);
	free(cols);
	free(vals);
	return out;
}

/*
 * Raises the target's floor table ids to the source's floor (also put
 * in *floor; 0 when ids is NULL).  The table holds one row: an update that
 * changes none is an error, not a floor silently lost.
 */
static enum store_rc
copy_floor(struct store *from, struct store *to, const char *ids,
    int64_t *floor, char **err)
{
	struct db_stmt *s;
	char sql[128];
	int rc;

	*floor = 0;
	if (ids == NULL)
		return STORE_OK;
	snprintf(sql, sizeof(sql), "SELECT coalesce(max(floor), 0) FROM %s",
	    ids);
	if (db_prepare(store_conn(from), sql, &s) != DB_OK)
		return fail(from, err, "reading", ids);
	rc = db_step(s);
	if (rc == DB_ROW)
		*floor = db_column_int64(s, 0);
	db_finalize(s);
	if (rc != DB_ROW)
		return fail(from, err, "reading", ids);
	snprintf(sql, sizeof(sql), "UPDATE %s SET floor = max(floor, ?1)", ids);
	if (db_prepare(store_conn(to), sql, &s) != DB_OK)
		return fail(to, err, "writing", ids);
	db_bind_int64(s, 1, *floor);
	rc = db_step(s);
	db_finalize(s);
	if (rc != DB_DONE)
		return fail(to, err, "writing", ids);
	if (db_changes(store_conn(to)) != 1) {
		*err = xasprintf("writing %s: no row changed (the target's "
		    "schema lacks its one row)", ids);
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc
store_copy(struct store *from, struct store *to, long counts[STORE_NTABLES],
    char **err)
{
	enum store_rc rc;
	long n;
	size_t i;
	char sql[256];

	*err = NULL;
	for (i = 0; i < STORE_NTABLES; i++) {
		if ((rc = count_rows(to, tables[i], &n, err)) != STORE_OK)
			return rc;
		if (n > 0) {
			*err = xasprintf("the target is not empty (%ld rows in "
			    "%s): copy into a new database", n, tables[i]);
			return STORE_ERR;
		}
	}
	if ((rc = store_begin(to)) != STORE_OK)
		return fail(to, err, "starting a transaction on", "the target");
	for (i = 0; i < STORE_NTABLES; i++) {
		if ((rc = copy_table(from, to, tables[i], &counts[i], err)) !=
		    STORE_OK) {
			store_rollback(to);
			return rc;
		}
	}
	/*
	 * New rows must get ids above the copied ones and above every id the
	 * source ever gave (its floors); on PostgreSQL, the sequences too.
	 */
	for (i = 0; i < sizeof(with_id) / sizeof(*with_id); i++) {
		int64_t floor;

		if ((rc = copy_floor(from, to, with_id[i].floor, &floor,
		    err)) != STORE_OK) {
			store_rollback(to);
			return rc;
		}
		if (!store_is_pg(to))
			continue;
		snprintf(sql, sizeof(sql), "SELECT setval(pg_get_serial_sequence("
		    "'%s', 'id'), greatest(coalesce(max(id), 0), %lld) + 1, "
		    "false) FROM %s", with_id[i].table, (long long)floor,
		    with_id[i].table);
		if (store_exec(to, sql) != STORE_OK) {
			rc = fail(to, err, "setting the ids of",
			    with_id[i].table);
			store_rollback(to);
			return rc;
		}
	}
	if ((rc = store_commit(to)) != STORE_OK)
		return fail(to, err, "committing", "the copy");
	return STORE_OK;
}

const char *
store_copy_table(size_t i)
{
	return i < STORE_NTABLES ? tables[i] : NULL;
}
