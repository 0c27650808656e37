/*
 * store_bounces: see store_bounces.h.
 */
#include "store_bounces.h"

#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"
#include "xmalloc.h"

void
store_bounces_delivery_free(struct bounce_delivery *d)
{
	free(d->newsletter);
	free(d->email);
	memset(d, 0, sizeof(*d));
}

static void
fill(struct db_stmt *s, struct bounce_delivery *out)
{
	out->id = db_column_int64(s, 0);
	out->subscriber_id = db_column_int64(s, 1);
	out->newsletter = xstrdup(store_col_text(s, 2));
	out->email = xstrdup(store_col_text(s, 3));
	out->issue_number = db_column_int(s, 4);
}

enum store_rc
store_bounces_delivery(struct store *st, int64_t id,
    struct bounce_delivery *out, bool *found)
{
	static const char sql[] = "SELECT d.id, d.subscriber_id, i.newsletter, "
	    "s.email, i.number FROM deliveries d "
	    "JOIN issues i ON i.id = d.issue_id "
	    "JOIN subscribers s ON s.id = d.subscriber_id WHERE d.id = ?1";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	memset(out, 0, sizeof(*out));
	db_bind_int64(s, 1, id);
	rc = db_step(s);
	*found = rc == DB_ROW;
	if (*found)
		fill(s, out);
	return store_finish(s, rc);
}

enum store_rc
store_bounces_mailed(struct store *st, const char *email, const char *nl,
    time_t since, struct bounce_delivery *out, bool *found)
{
	/* lower() folds ASCII only, as email_key() does */
	static const char sql[] = "SELECT d.id, d.subscriber_id, i.newsletter, "
	    "s.email, i.number FROM subscribers s "
	    "JOIN deliveries d ON d.subscriber_id = s.id "
	    "JOIN issues i ON i.id = d.issue_id "
	    "WHERE s.email_key = lower(?1) AND i.created >= ?2 "
	    "AND (CAST(?3 AS TEXT) IS NULL OR i.newsletter = ?3) "
	    "ORDER BY d.id DESC LIMIT 1";
	struct db_stmt *s = store_stmt(st, sql);
	int rc;

	memset(out, 0, sizeof(*out));
	db_bind_text(s, 1, email);
	db_bind_int64(s, 2, since);
	if (nl)
		db_bind_text(s, 3, nl);
	rc = db_step(s);
	*found = rc == DB_ROW;
	if (*found)
		fill(s, out);
	return store_finish(s, rc);
}

enum store_rc
store_bounces_counts(struct store *st, const char *nl, time_t since,
    struct bounce_counts *out)
{
	static const char subs[] = "SELECT "
	    "coalesce(sum(CASE WHEN status = 'bounced' THEN 1 ELSE 0 END), 0), "
	    "coalesce(sum(CASE WHEN status = 'active' AND soft_bounces > 0 "
	    "  THEN 1 ELSE 0 END), 0) "
	    "FROM subscriptions WHERE newsletter = ?1";
	/* the event details are subscription.c's: "hard: ...", "soft n/m...",
	 * and "<via>: ..." for unsubscribes */
	static const char ev[] = "SELECT "
	    "coalesce(sum(CASE WHEN kind = 'bounce' AND detail LIKE 'hard:%' "
	    "  THEN 1 ELSE 0 END), 0), "
	    "coalesce(sum(CASE WHEN kind = 'bounce' AND detail LIKE 'soft%' "
	    "  THEN 1 ELSE 0 END), 0), "
	    "coalesce(sum(CASE WHEN kind = 'unsubscribe' AND "
	    "  detail LIKE 'complaint%' THEN 1 ELSE 0 END), 0), "
	    "coalesce(sum(CASE WHEN kind = 'unsubscribe' AND "
	    "  detail LIKE 'mailto%' THEN 1 ELSE 0 END), 0) "
	    "FROM events WHERE newsletter = ?1 AND at >= ?2 "
	    "AND (kind = 'bounce' OR kind = 'unsubscribe')";
	struct db_stmt *s = store_stmt(st, subs);
	enum store_rc r;
	int rc;

	memset(out, 0, sizeof(*out));
	db_bind_text(s, 1, nl);
	rc = db_step(s);
	if (rc == DB_ROW) {
		out->bounced = db_column_int(s, 0);
		out->soft = db_column_int(s, 1);
	}
	if ((r = store_finish(s, rc)) != STORE_OK)
		return r;
	s = store_stmt(st, ev);
	db_bind_text(s, 1, nl);
	db_bind_int64(s, 2, since);
	rc = db_step(s);
	if (rc == DB_ROW) {
		out->hard_events = db_column_int(s, 0);
		out->soft_events = db_column_int(s, 1);
		out->complaints = db_column_int(s, 2);
		out->mailto = db_column_int(s, 3);
	}
	return store_finish(s, rc);
}
