/*
 * store_queue: issues and deliveries.  Every cached statement is reset
 * after use so no read transaction stays open between calls.
 */
#include "store_queue.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "store_sqlite.h"
#include "xmalloc.h"

void
store_issue_clear(struct store_issue *is)
{
	free(is->subject);
	memset(is, 0, sizeof(*is));
}

void
store_delivery_clear(struct store_delivery *d)
{
	free(d->email);
	free(d->name);
	free(d->attributes);
	memset(d, 0, sizeof(*d));
}

static int
issue_row(struct db_stmt *s, struct store_issue *out)
{
	int rc = db_step(s);

	if (rc == DB_DONE) {
		db_reset(s);
		return 0;
	}
	if (rc != DB_ROW) {
		db_reset(s);
		return -1;
	}
	out->id = db_column_int64(s, 0);
	out->number = (long)db_column_int64(s, 1);
	out->subject = xstrdup(store_col_text(s, 2));
	out->created = (time_t)db_column_int64(s, 3);
	out->done = strcmp(store_col_text(s, 4), "done") == 0;
	db_reset(s);
	return 1;
}

int
store_issue_unfinished(struct store *st, const char *nl,
    struct store_issue *out)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT id, number, subject, created, state FROM issues"
	    " WHERE newsletter = ? AND state = 'sending'"
	    " ORDER BY number LIMIT 1");

	memset(out, 0, sizeof(*out));
	db_bind_text(s, 1, nl);
	return issue_row(s, out);
}

int
store_issue_last(struct store *st, const char *nl, struct store_issue *out)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT id, number, subject, created, state FROM issues"
	    " WHERE newsletter = ? ORDER BY number DESC LIMIT 1");

	memset(out, 0, sizeof(*out));
	db_bind_text(s, 1, nl);
	return issue_row(s, out);
}

int
store_issue_by_number(struct store *st, const char *nl, long number,
    struct store_issue *out)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT id, number, subject, created, state FROM issues"
	    " WHERE newsletter = ? AND number = ?");

	memset(out, 0, sizeof(*out));
	db_bind_text(s, 1, nl);
	db_bind_int64(s, 2, number);
	return issue_row(s, out);
}

long
store_issue_next_number(struct store *st, const char *nl)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT coalesce(max(number), 0) + 1 FROM issues WHERE newsletter = ?");
	long n = -1;

	db_bind_text(s, 1, nl);
	if (db_step(s) == DB_ROW)
		n = (long)db_column_int64(s, 0);
	db_reset(s);
	return n;
}

long
store_issue_articles(struct store *st, int64_t issue_id, int64_t **ids)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT article_id FROM issue_articles WHERE issue_id = ?"
	    " ORDER BY position");

	db_bind_int64(s, 1, issue_id);
	return store_collect_ids(s, ids);
}

enum store_rc
store_issue_create(struct store *st, const char *nl, long number,
    const char *subject, time_t created, const int64_t *aids, size_t na,
    int64_t *issue_id, long *ndeliveries)
{
	struct db_stmt *s;
	enum store_rc rc;
	size_t i;
	int r;
	bool below;

	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	s = store_stmt(st, "INSERT INTO issues (newsletter, number, subject,"
	    " created, state) VALUES (?, ?, ?, ?, 'sending')");
	db_bind_text(s, 1, nl);
	db_bind_int64(s, 2, number);
	db_bind_text(s, 3, subject);
	db_bind_int64(s, 4, created);
	rc = store_rc(db_step(s));
	db_reset(s);
	if (rc != STORE_OK)
		goto fail;
	*issue_id = db_last_insert_id(store_conn(st));
	s = store_stmt(st, "INSERT INTO issue_articles (issue_id, article_id,"
	    " position) VALUES (?, ?, ?)");
	for (i = 0; i < na; i++) {
		db_reset(s);
		db_bind_int64(s, 1, *issue_id);
		db_bind_int64(s, 2, aids[i]);
		db_bind_int64(s, 3, i);
		rc = store_rc(db_step(s));
		if (rc != STORE_OK) {
			db_reset(s);
			goto fail;
		}
	}
	db_reset(s);
	/*
	 * Ids above every id ever given (schema 6: delivery_ids).  SQLite
	 * gives the largest + 1, which is that unless an erasure deleted the
	 * largest: then the rows are numbered from the floor (a sort of the
	 * list, so only then).  PostgreSQL's identity never gives one twice.
	 */
	below = false;
	if (!store_is_pg(st)) {
		s = store_stmt(st, "SELECT coalesce(max(floor), 0) > coalesce("
		    "(SELECT max(id) FROM deliveries), 0) FROM delivery_ids");
		if ((r = db_step(s)) == DB_ROW)
			below = db_column_int(s, 0) != 0;
		rc = store_finish(s, r);
		if (rc != STORE_OK)
			goto fail;
	}
	s = store_stmt(st, below ? "INSERT INTO deliveries (id, issue_id,"
	    " subscriber_id, state, attempts, next_attempt)"
	    " SELECT (SELECT max(floor) FROM delivery_ids) +"
	    " row_number() OVER (ORDER BY subscriber_id), ?1, subscriber_id,"
	    " 'queued', 0, ?2 FROM subscriptions"
	    " WHERE newsletter = ?3 AND status = 'active'"
	    " ORDER BY subscriber_id" :
	    "INSERT INTO deliveries (issue_id, subscriber_id,"
	    " state, attempts, next_attempt)"
	    " SELECT ?, subscriber_id, 'queued', 0, ? FROM subscriptions"
	    " WHERE newsletter = ? AND status = 'active'"
	    " ORDER BY subscriber_id");
	db_bind_int64(s, 1, *issue_id);
	db_bind_int64(s, 2, created);
	db_bind_text(s, 3, nl);
	rc = store_rc(db_step(s));
	db_reset(s);
	if (rc != STORE_OK)
		goto fail;
	*ndeliveries = (long)db_changes(store_conn(st));
	if ((rc = store_commit(st)) != STORE_OK || !store_is_pg(st))
		return rc;
	/*
	 * PostgreSQL plans the senders' claims from its statistics: fresh
	 * after an import and a new issue, autovacuum has not seen the rows
	 * yet and a claim's join walked the whole list (20,000 rows: 360
	 * msg/s instead of 2,000).  A sampled ANALYZE takes a moment.
	 */
	if (store_exec(st, "ANALYZE deliveries, subscriptions, subscribers")
	    != STORE_OK)
		log_warn("database: analyze: %s", store_errmsg(st));
	return STORE_OK;
fail:
	store_rollback(st);
	return rc;
}

/*
 * The walk is by primary key from after_id (the unary + keeps SQLite off
 * the deliveries_due index): it stops at the max-th due row, so a chunk
 * costs the same at any position.  Through deliveries_due SQLite read,
 * joined and sorted every remaining due row of the issue for each chunk:
 * 18 ms a chunk with 10,000 left, quadratic over a pass.  Now rows no
 * longer due (and those of later issues, e.g. another newsletter's, at the
 * end) are stepped over, each at most once per pass.
 */
/* Seconds a claim holds (HERALD_LEASE overrides, for tests). */
static long
lease_seconds(void)
{
	const char *e = getenv("HERALD_LEASE");
	long v = e ? strtol(e, NULL, 10) : 0;

	return v > 0 ? v : STORE_LEASE;
}

/*
 * The issue and the first id this process claimed in its current pass:
 * the rows it holds are among those from there on, which is where the
 * lease renewal (the writer's thread) looks.  0: no claim yet.
 */
static _Atomic int64_t held_issue, held_from;

/* The smallest claim, unless fewer rows are due. */
#define CLAIM_MIN	"32"

/* NOTIFY'd when a sender ends a pass (store_deliveries_release). */
#define QUEUE_CHANNEL	"herald_queue"

/*
 * PostgreSQL: several senders share the queue.  Each call claims up to max
 * due rows after after_id (the pass's cursor) that nobody holds (or whose
 * holder's lease has run out) with FOR UPDATE SKIP LOCKED, stamps them
 * with this sender and a lease, and returns them.  The claim commits at
 * once (autocommit), so other senders skip the rows.  A row skipped here
 * (held by another sender, then given back) is taken by a later pass.
 */
static long
pg_deliveries_claim(struct store *st, int64_t issue_id, time_t now,
    int64_t after_id, size_t max, struct store_delivery *out)
{
	/*
	 * A claim takes at most half of what is left after the cursor per
	 * sender seen within a lease (at least CLAIM_MIN): as the issue runs
	 * out the claims shrink, so the senders finish together instead of
	 * one sending a whole claim of 256 alone at the end (through a far
	 * relay 256 rows are 0.7 s of one sender's time).
	 *
	 * The ids are one array (an InitPlan), so the UPDATE fetches each by
	 * its key: as "id IN (subquery)" the generic plan of the prepared
	 * statement hashed the whole table for every claim.  The walk is on
	 * deliveries_issue from the cursor: from the issue's start it read
	 * every row the pass had finished (quadratic over a pass).
	 */
	static const char sql[] =
	    "WITH c AS (UPDATE deliveries d SET claimed_by = ?4,"
	    "  claimed_until = CAST(?2 AS BIGINT) + ?5"
	    " WHERE d.id = ANY (ARRAY(SELECT id FROM deliveries"
	    "  WHERE issue_id = ?1 AND id > ?7"
	    "  AND state IN ('queued', 'deferred') AND next_attempt <= ?2"
	    "  AND (claimed_until IS NULL OR claimed_until < ?6)"
	    "  ORDER BY id LIMIT least(?3, greatest(" CLAIM_MIN ","
	    "   ((SELECT max(id) FROM deliveries WHERE issue_id = ?1) - ?7)"
	    "   / (2 * greatest(1, (SELECT count(*) FROM senders"
	    "    WHERE heartbeat >= ?6 - ?5)))))"
	    "  FOR UPDATE SKIP LOCKED))"
	    " RETURNING d.id, d.subscriber_id, d.attempts)"
	    /*
	     * LATERAL (OFFSET 0 keeps it from being flattened into a join):
	     * index lookups per claimed row.  As joins, the planner hashed
	     * the whole list for every claim of 256 rows.
	     */
	    "SELECT c.id, c.subscriber_id, c.attempts, s.email, s.name,"
	    "  s.attributes, CASE WHEN sub.status = 'active' THEN 1 ELSE 0 END"
	    " FROM c CROSS JOIN LATERAL (SELECT email, name, attributes"
	    "  FROM subscribers WHERE id = c.subscriber_id OFFSET 0) s"
	    " LEFT JOIN LATERAL (SELECT status FROM subscriptions"
	    "  WHERE subscriber_id = c.subscriber_id AND newsletter ="
	    "  (SELECT newsletter FROM issues WHERE id = ?1) OFFSET 0) sub ON true"
	    " ORDER BY c.id";
	static const char beat[] = "INSERT INTO senders (host, pid, started,"
	    " heartbeat, claimed) VALUES (?1, ?2, ?3, ?3, ?4)"
	    " ON CONFLICT (host, pid) DO UPDATE SET heartbeat = excluded.heartbeat,"
	    " claimed = senders.claimed + excluded.claimed";
	struct db_stmt *s = store_stmt(st, sql);
	time_t wall = time(NULL);
	size_t n = 0;
	int rc = DB_DONE;

	db_bind_int64(s, 1, issue_id);
	db_bind_int64(s, 2, now > wall ? now : wall);
	db_bind_int64(s, 3, (int64_t)max);
	db_bind_text(s, 4, store_sender(st));
	db_bind_int64(s, 5, lease_seconds());
	db_bind_int64(s, 6, wall);
	db_bind_int64(s, 7, after_id);
	while (n < max && (rc = db_step(s)) == DB_ROW) {
		struct store_delivery *d = &out[n++];

		d->id = db_column_int64(s, 0);
		d->subscriber_id = db_column_int64(s, 1);
		d->attempts = (long)db_column_int64(s, 2);
		d->email = xstrdup(store_col_text(s, 3));
		d->name = xstrdup(store_col_text(s, 4));
		d->attributes = xstrdup(store_col_text(s, 5));
		d->active = db_column_int(s, 6) != 0;
	}
	db_reset(s);
	if (n < max && rc != DB_DONE) {
		while (n > 0)
			store_delivery_clear(&out[--n]);
		return -1;
	}
	if (n > 0 && (after_id == 0 || held_issue != issue_id)) {
		held_from = out[0].id;
		held_issue = issue_id;
	}
	/*
	 * The heartbeat status shows; a failure here costs nothing.  At a
	 * pass's start, senders not seen for a day go (status lists the last
	 * ten minutes): every claim counts the live ones, and each `herald
	 * send` from cron would add a row for ever.
	 */
	if (after_id == 0) {
		s = store_stmt(st, "DELETE FROM senders WHERE heartbeat < ?1");
		db_bind_int64(s, 1, (int64_t)wall - 86400);
		(void)db_step(s);
		db_reset(s);
	}
	s = store_stmt(st, beat);
	db_bind_text(s, 1, store_host());
	db_bind_int64(s, 2, (int64_t)getpid());
	db_bind_int64(s, 3, wall);
	db_bind_int64(s, 4, (int64_t)n);
	(void)db_step(s);
	db_reset(s);
	return (long)n;
}

static long
sq_deliveries_due(struct store *st, int64_t issue_id, time_t now,
    int64_t after_id, size_t max, struct store_delivery *out)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT d.id, d.subscriber_id, d.attempts, s.email, s.name,"
	    "  s.attributes, coalesce(sub.status = 'active', 0)"
	    " FROM deliveries d"
	    " JOIN issues i ON i.id = d.issue_id"
	    " JOIN subscribers s ON s.id = d.subscriber_id"
	    " LEFT JOIN subscriptions sub ON sub.subscriber_id = d.subscriber_id"
	    "  AND sub.newsletter = i.newsletter"
	    " WHERE d.id > ?2 AND +d.issue_id = ?1"
	    "  AND +d.state IN ('queued', 'deferred') AND d.next_attempt <= ?3"
	    " ORDER BY d.id LIMIT ?4");
	size_t n = 0;
	int rc = DB_DONE;

	db_bind_int64(s, 1, issue_id);
	db_bind_int64(s, 2, after_id);
	db_bind_int64(s, 3, now);
	db_bind_int64(s, 4, max);
	while (n < max && (rc = db_step(s)) == DB_ROW) {
		struct store_delivery *d = &out[n++];

		d->id = db_column_int64(s, 0);
		d->subscriber_id = db_column_int64(s, 1);
		d->attempts = (long)db_column_int64(s, 2);
		d->email = xstrdup(store_col_text(s, 3));
		d->name = xstrdup(store_col_text(s, 4));
		d->attributes = xstrdup(store_col_text(s, 5));
		d->active = db_column_int(s, 6) != 0;
	}
	if (n < max && rc != DB_DONE) {
		db_reset(s);
		while (n > 0)
			store_delivery_clear(&out[--n]);
		return -1;
	}
	db_reset(s);
	return (long)n;
}

long
store_deliveries_due(struct store *st, int64_t issue_id, time_t now,
    int64_t after_id, size_t max, struct store_delivery *out)
{
	if (store_is_pg(st))
		return pg_deliveries_claim(st, issue_id, now, after_id, max,
		    out);
	return sq_deliveries_due(st, issue_id, now, after_id, max, out);
}

/* Appends a PostgreSQL array element: "text" escaped, or NULL. */
static void
pg_array_text(struct buf *b, const char *v)
{
	if (b->len > 1)
		buf_addc(b, ',');
	if (v == NULL) {
		buf_adds(b, "NULL");
		return;
	}
	buf_addc(b, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *v);
	}
	buf_addc(b, '"');
}

static void
pg_array_int(struct buf *b, int64_t v, bool null)
{
	if (b->len > 1)
		buf_addc(b, ',');
	if (null)
		buf_adds(b, "NULL");
	else
		buf_printf(b, "%lld", (long long)v);
}

/*
 * Renews this sender's lease on the rows it still holds, at most every
 * quarter lease: a pass slower than a lease (a rate limit, a slow relay)
 * must not let other senders take rows it is sending.  Called as outcomes
 * are committed, which a live sender does all along.
 */
static void
pg_renew(struct store *st)
{
	/* on deliveries_issue: claimed_by has no index (HOT updates) */
	static const char sql[] = "UPDATE deliveries SET claimed_until = ?2"
	    " WHERE issue_id = ?3 AND id >= ?4 AND claimed_by = ?1"
	    " AND claimed_until < ?2";
	static time_t last;	/* one writer per process */
	time_t now = time(NULL);
	long lease = lease_seconds();
	int64_t issue = held_issue, from = held_from;
	struct db_stmt *s;

	if (now - last < lease / 4 || issue == 0)
		return;
	last = now;
	s = store_stmt(st, sql);
	db_bind_text(s, 1, store_sender(st));
	db_bind_int64(s, 2, (int64_t)now + lease);
	db_bind_int64(s, 3, issue);
	db_bind_int64(s, 4, from);
	if (db_step(s) != DB_DONE)
		log_warn("database: renewing the lease: %s", store_errmsg(st));
	db_reset(s);
}

enum store_rc
store_deliveries_release(struct store *st)
{
	/* where the lease renewal looks: claimed_by has no index */
	static const char sql[] = "UPDATE deliveries SET claimed_by = NULL,"
	    " claimed_until = NULL WHERE issue_id = ?2 AND id >= ?3"
	    " AND claimed_by = ?1";
	int64_t issue = held_issue, from = held_from;
	struct db_stmt *s;
	enum store_rc rc;

	if (!store_is_pg(st) || issue == 0)
		return STORE_OK;
	s = store_stmt(st, sql);
	db_bind_text(s, 1, store_sender(st));
	db_bind_int64(s, 2, issue);
	db_bind_int64(s, 3, from);
	if ((rc = store_finish(s, db_step(s))) != STORE_OK)
		return rc;
	/* the senders waiting in store_issue_wait() look again */
	s = store_stmt(st, "SELECT pg_notify('" QUEUE_CHANNEL "', '')");
	return store_finish(s, db_step(s));
}

void
store_issue_wait(struct store *st, int ms)
{
	struct timespec ts;

	if (store_is_pg(st)) {
		int rc = db_pg_wait(store_conn(st), QUEUE_CHANNEL, ms);

		if (rc == DB_ROW || rc == DB_DONE)
			return;
		log_warn("database: waiting for other senders: %s",
		    db_errmsg(store_conn(st)));
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/*
 * PostgreSQL: a commit's outcomes in one statement (arrays, unnest), not
 * one round trip per row.  Atomic on its own; a row that is not there
 * (n rows expected) fails it all, as on SQLite.
 */
static enum store_rc
pg_deliveries_update(struct store *st, const struct store_outcome *o,
    size_t n)
{
	static const char sql[] = "UPDATE deliveries d SET state = v.state,"
	    " attempts = v.attempts, next_attempt = v.next_attempt,"
	    " last_reply = v.reply, sent = v.sent,"
	    " message_id = coalesce(v.mid, d.message_id), claimed_by = NULL,"
	    " claimed_until = NULL FROM unnest(CAST(?1 AS bigint[]),"
	    " CAST(?2 AS text[]), CAST(?3 AS bigint[]), CAST(?4 AS bigint[]),"
	    " CAST(?5 AS text[]), CAST(?6 AS bigint[]), CAST(?7 AS text[]))"
	    " AS v(id, state, attempts, next_attempt, reply, sent, mid)"
	    " WHERE d.id = v.id";
	struct buf a[7] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT,
	    BUF_INIT, BUF_INIT };
	struct db_stmt *s;
	enum store_rc rc;
	size_t i;
	int k;

	for (k = 0; k < 7; k++)
		buf_addc(&a[k], '{');
	for (i = 0; i < n; i++) {
		pg_array_int(&a[0], o[i].id, false);
		pg_array_text(&a[1], o[i].state);
		pg_array_int(&a[2], o[i].attempts, false);
		pg_array_int(&a[3], (int64_t)o[i].next_attempt, false);
		pg_array_text(&a[4], o[i].reply);
		pg_array_int(&a[5], (int64_t)o[i].sent, o[i].sent == 0);
		pg_array_text(&a[6], o[i].message_id);
	}
	s = store_stmt(st, sql);
	for (k = 0; k < 7; k++) {
		buf_addc(&a[k], '}');
		db_bind_text(s, k + 1, buf_cstr(&a[k]));
		buf_free(&a[k]);
	}
	rc = store_rc(db_step(s));
	db_reset(s);
	if (rc == STORE_OK && db_changes(store_conn(st)) != (int64_t)n) {
		store_set_error(st, "%zu outcomes, %lld deliveries changed: "
		    "rows are missing from the database", n,
		    (long long)db_changes(store_conn(st)));
		return STORE_ERR;
	}
	if (rc == STORE_OK)
		pg_renew(st);
	return rc;
}

enum store_rc
store_deliveries_update(struct store *st, const struct store_outcome *o,
    size_t n)
{
	struct db_stmt *s;
	enum store_rc rc;
	size_t i;

	if (n == 0)
		return STORE_OK;
	if (store_is_pg(st))
		return pg_deliveries_update(st, o, n);
	if ((rc = store_begin(st)) != STORE_OK)
		return rc;
	s = store_stmt(st, "UPDATE deliveries SET state = ?, attempts = ?,"
	    " next_attempt = ?, last_reply = ?, sent = ?,"
	    " message_id = coalesce(?, message_id), claimed_by = NULL,"
	    " claimed_until = NULL WHERE id = ?");
	for (i = 0; i < n; i++) {
		db_reset(s);
		db_bind_text(s, 1, o[i].state);
		db_bind_int64(s, 2, o[i].attempts);
		db_bind_int64(s, 3, o[i].next_attempt);
		db_bind_text(s, 4, o[i].reply);
		if (o[i].sent)
			db_bind_int64(s, 5, o[i].sent);
		else
			db_bind_null(s, 5);
		db_bind_text(s, 6, o[i].message_id);
		db_bind_int64(s, 7, o[i].id);
		rc = store_rc(db_step(s));
		if (rc == STORE_OK && db_changes(store_conn(st)) != 1) {
			/*
			 * The row is gone: this is not the database the
			 * pass read it from (removed or replaced under us).
			 * Recording nothing here would leave the message
			 * due in the other file, to be sent again and again.
			 */
			db_reset(s);
			store_rollback(st);
			store_set_error(st, "delivery %lld is not in the "
			    "database any more (was the file removed or "
			    "replaced?)", (long long)o[i].id);
			return STORE_ERR;
		}
		if (rc != STORE_OK) {
			db_reset(s);
			store_rollback(st);
			return rc;
		}
	}
	db_reset(s);
	return store_commit(st);
}

enum store_rc
store_issue_counts(struct store *st, int64_t issue_id,
    struct store_queue_counts *c)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT state, count(*), min(CASE WHEN claimed_until > next_attempt"
	    "  THEN claimed_until ELSE next_attempt END) FROM deliveries"
	    " WHERE issue_id = ? GROUP BY state");
	int rc;

	memset(c, 0, sizeof(*c));
	db_bind_int64(s, 1, issue_id);
	while ((rc = db_step(s)) == DB_ROW) {
		const char *state = store_col_text(s, 0);
		long n = (long)db_column_int64(s, 1);
		time_t due = (time_t)db_column_int64(s, 2);

		if (strcmp(state, "sent") == 0)
			c->sent = n;
		else if (strcmp(state, "failed") == 0)
			c->failed = n;
		else {
			if (strcmp(state, "queued") == 0)
				c->queued = n;
			else
				c->deferred = n;
			if (c->next_due == 0 || due < c->next_due)
				c->next_due = due;
		}
	}
	db_reset(s);
	return store_rc(rc);
}

enum store_rc
store_issue_waiting(struct store *st, int64_t issue_id, time_t now,
    long *claimable, long *held)
{
	struct db_stmt *s = store_stmt(st, "SELECT"
	    " coalesce(sum(CASE WHEN next_attempt <= ?2 AND (claimed_until IS"
	    "  NULL OR claimed_until < ?2) THEN 1 ELSE 0 END), 0),"
	    " coalesce(sum(CASE WHEN claimed_until >= ?2 THEN 1 ELSE 0 END), 0)"
	    " FROM deliveries WHERE issue_id = ?1"
	    " AND state IN ('queued', 'deferred')");
	int rc;

	*claimable = *held = 0;
	db_bind_int64(s, 1, issue_id);
	db_bind_int64(s, 2, now);
	rc = db_step(s);
	if (rc == DB_ROW) {
		*claimable = (long)db_column_int64(s, 0);
		*held = (long)db_column_int64(s, 1);
	}
	db_reset(s);
	return store_rc(rc);
}

enum store_rc
store_issue_lock(struct store *st, const char *newsletter, bool lock)
{
	struct db_stmt *s;
	int rc;

	if (!store_is_pg(st))
		return STORE_OK;
	s = store_stmt(st, lock ?
	    "SELECT pg_advisory_lock(hashtext('herald-issue:' || ?1))" :
	    "SELECT pg_advisory_unlock(hashtext('herald-issue:' || ?1))");
	db_bind_text(s, 1, newsletter);
	rc = db_step(s);
	db_reset(s);
	return store_rc(rc);
}

enum store_rc
store_senders_recent(struct store *st, time_t since,
    void (*cb)(const struct store_sender *, void *), void *arg)
{
	struct db_stmt *s = store_stmt(st, "SELECT host, pid, started,"
	    " heartbeat, claimed FROM senders WHERE heartbeat >= ?1"
	    " ORDER BY host, pid");
	struct store_sender r;
	int rc;

	db_bind_int64(s, 1, since);
	while ((rc = db_step(s)) == DB_ROW) {
		r.host = store_col_text(s, 0);
		r.pid = (long)db_column_int64(s, 1);
		r.started = (time_t)db_column_int64(s, 2);
		r.heartbeat = (time_t)db_column_int64(s, 3);
		r.claimed = (long)db_column_int64(s, 4);
		cb(&r, arg);
	}
	db_reset(s);
	return store_rc(rc);
}

enum store_rc
store_issue_finish_if_done(struct store *st, int64_t issue_id, bool *done)
{
	struct db_stmt *s = store_stmt(st,
	    "UPDATE issues SET state = 'done' WHERE id = ?1 AND state = 'sending'"
	    " AND NOT EXISTS (SELECT 1 FROM deliveries WHERE issue_id = ?1"
	    "  AND state IN ('queued', 'deferred'))");
	enum store_rc rc;

	db_bind_int64(s, 1, issue_id);
	rc = store_rc(db_step(s));
	db_reset(s);
	if (rc != STORE_OK)
		return rc;
	s = store_stmt(st, "SELECT state = 'done' FROM issues WHERE id = ?");
	db_bind_int64(s, 1, issue_id);
	*done = db_step(s) == DB_ROW && db_column_int(s, 0);
	db_reset(s);
	return STORE_OK;
}
