#include "store_subs_state.h"

#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"
#include "xmalloc.h"

enum store_rc
store_subs_state(struct store *st, int64_t id, const char *nl,
    struct sub_state *out, bool *has)
{
	static const char sql[] = "SELECT status, "
	    "max(created, coalesce(confirmed, 0), coalesce(unsubscribed, 0)), "
	    "coalesce(pending_since, created), soft_bounces, "
	    "coalesce(soft_bounce_delivery, 0), "
	    "confirmed IS NOT NULL OR unsubscribed IS NOT NULL "
	    "FROM subscriptions WHERE subscriber_id = ?1 AND newsletter = ?2";
	static const char pg_sql[] = "SELECT status, "
	    "greatest(created, coalesce(confirmed, 0), coalesce(unsubscribed, 0)), "
	    "coalesce(pending_since, created), soft_bounces, "
	    "coalesce(soft_bounce_delivery, 0), "
	    "confirmed IS NOT NULL OR unsubscribed IS NOT NULL "
	    "FROM subscriptions WHERE subscriber_id = ?1 AND newsletter = ?2";
	struct db_stmt *s = store_stmt(st, STORE_SQL(st, sql, pg_sql));
	int rc;

	memset(out, 0, sizeof(*out));
	*has = false;
	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, nl);
	rc = db_step(s);
	if (rc == DB_ROW) {
		*has = true;
		if (store_subs_status_parse(store_col_text(s, 0),
		    &out->status) == -1)
			out->status = SUB_ACTIVE;
		out->since = (time_t)db_column_int64(s, 1);
		out->pending_since = (time_t)db_column_int64(s, 2);
		out->soft_bounces = (long)db_column_int64(s, 3);
		out->soft_bounce_delivery = db_column_int64(s, 4);
		out->ever_active = db_column_int(s, 5) != 0;
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_get(struct store *st, int64_t id, struct sub_info *out,
    bool *found)
{
	static const char sql[] = "SELECT id, email, name, attributes, created "
	    "FROM subscribers WHERE id = ?1";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	memset(out, 0, sizeof(*out));
	*found = false;
	db_bind_int64(s, 1, id);
	rc = db_step(s);
	if (rc == DB_ROW) {
		*found = true;
		out->id = db_column_int64(s, 0);
		out->email = xstrdup(store_col_text(s, 1));
		out->name = store_col_text(s, 2) ?
		    xstrdup(store_col_text(s, 2)) : NULL;
		out->attributes = xstrdup(store_col_text(s, 3) ?
		    store_col_text(s, 3) : "{}");
		out->created = (time_t)db_column_int64(s, 4);
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_set_soft(struct store *st, int64_t id, const char *nl, long count,
    int64_t delivery)
{
	static const char sql[] = "UPDATE subscriptions SET soft_bounces = ?3, "
	    "soft_bounce_delivery = CASE WHEN ?4 = 0 THEN soft_bounce_delivery "
	    "  ELSE ?4 END "
	    "WHERE subscriber_id = ?1 AND newsletter = ?2";
	struct db_stmt *s = store_stmt(st, sql);

	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, nl);
	db_bind_int64(s, 3, count);
	db_bind_int64(s, 4, delivery);
	return store_finish_one(st, s, db_step(s), "soft-bounce count");
}

enum store_rc
store_subs_sent_between(struct store *st, int64_t id, const char *nl,
    int64_t after, int64_t before, bool *yes)
{
	static const char sql[] = "SELECT 1 FROM deliveries d "
	    "JOIN issues i ON i.id = d.issue_id "
	    "WHERE d.subscriber_id = ?1 AND i.newsletter = ?2 "
	    "AND d.id > ?3 AND d.id < ?4 AND d.state = 'sent' LIMIT 1";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, nl);
	db_bind_int64(s, 3, after);
	db_bind_int64(s, 4, before);
	rc = db_step(s);
	*yes = rc == DB_ROW;
	return store_finish(s, rc);
}

enum store_rc
store_subs_pending_before(struct store *st, const char *nl, time_t cutoff,
    struct sub_pending **rows, size_t *n)
{
	static const char sql[] = "SELECT subscriber_id, newsletter, "
	    "confirmed IS NOT NULL OR unsubscribed IS NOT NULL "
	    "FROM subscriptions WHERE status = 'pending' "
	    "AND (CAST(?1 AS TEXT) IS NULL OR newsletter = ?1) "
	    "AND coalesce(pending_since, created) < ?2";
	struct db_stmt *s = store_stmt(st, sql);
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	if (nl)
		db_bind_text(s, 1, nl);
	db_bind_int64(s, 2, cutoff);
	while ((rc = db_step(s)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*rows = xrealloc(*rows, cap * sizeof(**rows));
		}
		(*rows)[*n].id = db_column_int64(s, 0);
		(*rows)[*n].newsletter = xstrdup(store_col_text(s, 1));
		(*rows)[*n].ever_active = db_column_int(s, 2) != 0;
		(*n)++;
	}
	return store_finish(s, rc);
}

enum store_rc
store_subs_delete_subscription(struct store *st, int64_t id, const char *nl)
{
	static const char sql[] = "DELETE FROM subscriptions "
	    "WHERE subscriber_id = ?1 AND newsletter = ?2";
	struct db_stmt *s = store_stmt(st, sql);

	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, nl);
	return store_finish(s, db_step(s));
}

enum store_rc
store_subs_orphan(struct store *st, int64_t id, bool *orphan)
{
	static const char sql[] = "SELECT "
	    "EXISTS (SELECT 1 FROM subscriptions WHERE subscriber_id = ?1) OR "
	    "EXISTS (SELECT 1 FROM deliveries WHERE subscriber_id = ?1)";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	*orphan = false;
	db_bind_int64(s, 1, id);
	rc = db_step(s);
	if (rc == DB_ROW)
		*orphan = db_column_int(s, 0) == 0;
	return store_finish(s, rc);
}

enum store_rc
store_subs_web_counts(struct store *st, const char *nl, time_t since,
    struct sub_web_counts *out)
{
	static const char pend[] = "SELECT count(*) FROM subscriptions "
	    "WHERE newsletter = ?1 AND status = 'pending'";
	/* the details are subscription.c's and web.c's: "web: one-click",
	 * "web: unsubscribe page", "web, pending confirmation", "web" */
	static const char ev[] = "SELECT "
	    "coalesce(sum(kind = 'unsubscribe' AND detail = 'web: one-click'), 0), "
	    "coalesce(sum(kind = 'unsubscribe' AND detail LIKE 'web: % page'), 0), "
	    "coalesce(sum(kind = 'subscribe' AND detail LIKE 'web,%'), 0), "
	    "coalesce(sum(kind = 'confirm' AND detail = 'web'), 0), "
	    "coalesce(sum(kind = 'expire'), 0) "
	    "FROM events WHERE newsletter = ?1 AND at >= ?2 "
	    "AND (kind = 'unsubscribe' OR kind = 'subscribe' OR "
	    "kind = 'confirm' OR kind = 'expire')";
	struct db_stmt *s = store_stmt(st, pend);
	enum store_rc r;
	int rc;

	memset(out, 0, sizeof(*out));
	db_bind_text(s, 1, nl);
	rc = db_step(s);
	if (rc == DB_ROW)
		out->pending = (long)db_column_int64(s, 0);
	if ((r = store_finish(s, rc)) != STORE_OK)
		return r;
	s = store_stmt(st, ev);
	db_bind_text(s, 1, nl);
	db_bind_int64(s, 2, since);
	rc = db_step(s);
	if (rc == DB_ROW) {
		out->one_click = (long)db_column_int64(s, 0);
		out->page = (long)db_column_int64(s, 1);
		out->signups = (long)db_column_int64(s, 2);
		out->confirmed = (long)db_column_int64(s, 3);
		out->expired = (long)db_column_int64(s, 4);
	}
	return store_finish(s, rc);
}
