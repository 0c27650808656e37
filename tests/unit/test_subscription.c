/*
 * The subscription state machine against a real SQLite file: each
 * transition, its event, and what must change nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "store_sqlite.h"
#include "store_subs.h"
#include "subscription.h"
#include "xmalloc.h"

#define NL	"daily"
#define T0	1800000000

struct fx {
	char		*path;
	struct store	*st;
};

static int
setup(void **state)
{
	const char *dir = getenv("HERALD_TEST_TMP");
	struct fx *f = xcalloc(1, sizeof(*f));
	static int seq;
	char *err = NULL;
	bool busy;

	if (dir == NULL)
		dir = "/tmp";
	mkdir(dir, 0700);
	f->path = xasprintf("%s/subscription-%ld-%d.db", dir, (long)getpid(),
	    seq++);
	unlink(f->path);
	f->st = store_open(f->path, &err, &busy);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char *w;

	store_close(f->st);
	unlink(f->path);
	w = xasprintf("%s-wal", f->path);
	unlink(w);
	free(w);
	w = xasprintf("%s-shm", f->path);
	unlink(w);
	free(w);
	free(f->path);
	free(f);
	return 0;
}

/* A single integer from sql. */
static long long
q(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL),
	    SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static long long
events(struct store *st, const char *kind)
{
	char *sql = xasprintf("SELECT count(*) FROM events WHERE kind = '%s'",
	    kind);
	long long n = q(st, sql);

	free(sql);
	return n;
}

static const char *
status(struct store *st, int64_t id)
{
	static char buf[32];
	sqlite3_stmt *s;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT status FROM "
	    "subscriptions WHERE subscriber_id = ?1 AND newsletter = 'daily'",
	    -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(buf, sizeof(buf), "%s", sqlite3_column_text(s, 0));
	else
		snprintf(buf, sizeof(buf), "none");
	sqlite3_finalize(s);
	return buf;
}

static int64_t
subscribe(struct store *st, const char *email, bool pending, time_t now,
    enum sub_outcome want)
{
	struct sub_request req = { .email = email, .pending = pending,
	    .via = "test" };
	struct sub_result r;
	int64_t id;

	assert_int_equal(sub_subscribe(st, NL, &req, now, &r), STORE_OK);
	assert_int_equal(r.outcome, want);
	id = r.id;
	sub_result_free(&r);
	return id;
}

static void
test_subscribe_active_and_again(void **state)
{
	struct fx *f = *state;
	struct sub_request req = { .email = "Ann@Example.org", .name = "Ann",
	    .via = "test" };
	struct sub_result r;
	int64_t id;

	assert_int_equal(sub_subscribe(f->st, NL, &req, T0, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_CHANGED);
	assert_false(r.had);
	assert_int_equal(r.after, SUB_ACTIVE);
	assert_string_equal(r.email, "Ann@Example.org");
	assert_string_equal(r.name, "Ann");
	id = r.id;
	sub_result_free(&r);
	assert_string_equal(status(f->st, id), "active");
	assert_int_equal(events(f->st, "subscribe"), 1);

	/* again, in another case: nothing changes, nothing is written */
	req.email = "ann@example.ORG";
	assert_int_equal(sub_subscribe(f->st, NL, &req, T0 + 5, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_UNCHANGED);
	assert_int_equal(r.id, id);
	assert_int_equal(r.before, SUB_ACTIVE);
	assert_int_equal(r.since, T0);
	sub_result_free(&r);
	assert_int_equal(events(f->st, "subscribe"), 1);
	assert_int_equal(q(f->st, "SELECT count(*) FROM subscribers"), 1);
}

static void
test_pending_confirm_expire(void **state)
{
	struct fx *f = *state;
	struct sub_result r;
	int64_t id;

	id = subscribe(f->st, "bob@example.org", true, T0, SUB_CHANGED);
	assert_string_equal(status(f->st, id), "pending");
	/* asked again: unchanged, no event, the clock restarts */
	subscribe(f->st, "bob@example.org", true, T0 + 100, SUB_UNCHANGED);
	assert_int_equal(events(f->st, "subscribe"), 1);
	assert_int_equal(q(f->st, "SELECT pending_since FROM subscriptions"),
	    T0 + 100);

	/* past the expiry: refused, nothing changes */
	assert_int_equal(sub_confirm(f->st, id, NL, 3600, "test",
	    T0 + 100 + 3601, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_EXPIRED);
	sub_result_free(&r);
	assert_string_equal(status(f->st, id), "pending");

	/* within it: active, once */
	assert_int_equal(sub_confirm(f->st, id, NL, 3600, "web", T0 + 200, &r),
	    STORE_OK);
	assert_int_equal(r.outcome, SUB_CHANGED);
	assert_int_equal(r.after, SUB_ACTIVE);
	sub_result_free(&r);
	assert_string_equal(status(f->st, id), "active");
	assert_int_equal(events(f->st, "confirm"), 1);
	assert_int_equal(sub_confirm(f->st, id, NL, 3600, "web", T0 + 300, &r),
	    STORE_OK);
	assert_int_equal(r.outcome, SUB_UNCHANGED);
	sub_result_free(&r);
	assert_int_equal(events(f->st, "confirm"), 1);

	/* an unknown subscriber, an unknown newsletter */
	assert_int_equal(sub_confirm(f->st, id + 99, NL, 0, "web", T0, &r),
	    STORE_OK);
	assert_int_equal(r.outcome, SUB_NOT_FOUND);
	sub_result_free(&r);
	assert_int_equal(sub_confirm(f->st, id, "weekly", 0, "web", T0, &r),
	    STORE_OK);
	assert_int_equal(r.outcome, SUB_NOT_FOUND);
	sub_result_free(&r);
}

static void
test_operator_confirms_pending(void **state)
{
	struct fx *f = *state;
	int64_t id;

	id = subscribe(f->st, "cat@example.org", true, T0, SUB_CHANGED);
	subscribe(f->st, "cat@example.org", false, T0 + 1, SUB_CHANGED);
	assert_string_equal(status(f->st, id), "active");
	assert_int_equal(events(f->st, "confirm"), 1);
}

static void
test_unsubscribe_idempotent_and_refused(void **state)
{
	struct fx *f = *state;
	struct sub_request req = { .email = "dan@example.org", .via = "test" };
	struct sub_result r;
	int64_t id;

	id = subscribe(f->st, "dan@example.org", false, T0, SUB_CHANGED);
	assert_int_equal(sub_unsubscribe(f->st, id, NL, "web", "one-click",
	    T0 + 10, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_CHANGED);
	assert_string_equal(r.email, "dan@example.org");
	sub_result_free(&r);
	assert_string_equal(status(f->st, id), "unsubscribed");
	assert_int_equal(q(f->st, "SELECT count(*) FROM events WHERE kind = "
	    "'unsubscribe' AND detail = 'web: one-click'"), 1);
	/* twice: nothing more */
	assert_int_equal(sub_unsubscribe(f->st, id, NL, "web", "one-click",
	    T0 + 20, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_UNCHANGED);
	assert_int_equal(r.since, T0 + 10);
	sub_result_free(&r);
	assert_int_equal(events(f->st, "unsubscribe"), 1);
	/* by address, unknown */
	assert_int_equal(sub_unsubscribe_email(f->st, "nobody@example.org", NL,
	    "cli", NULL, T0, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_NOT_FOUND);
	sub_result_free(&r);

	/* not subscribed again without resubscribe; with it, yes */
	assert_int_equal(sub_subscribe(f->st, NL, &req, T0 + 30, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_REFUSED);
	assert_int_equal(r.before, SUB_UNSUBSCRIBED);
	sub_result_free(&r);
	assert_string_equal(status(f->st, id), "unsubscribed");
	req.resubscribe = true;
	req.pending = true;
	assert_int_equal(sub_subscribe(f->st, NL, &req, T0 + 40, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_CHANGED);
	sub_result_free(&r);
	assert_string_equal(status(f->st, id), "pending");

	/* a confirmation link of an unsubscribed subscription is refused */
	assert_int_equal(sub_unsubscribe(f->st, id, NL, "web", NULL, T0 + 50,
	    &r), STORE_OK);
	sub_result_free(&r);
	assert_int_equal(sub_confirm(f->st, id, NL, 0, "web", T0 + 60, &r),
	    STORE_OK);
	assert_int_equal(r.outcome, SUB_REFUSED);
	sub_result_free(&r);
	assert_string_equal(status(f->st, id), "unsubscribed");
}

static void
test_hard_bounce(void **state)
{
	struct fx *f = *state;
	struct sub_result r;
	int64_t id;

	id = subscribe(f->st, "eve@example.org", false, T0, SUB_CHANGED);
	assert_int_equal(sub_bounce(f->st, id, NL, SUB_BOUNCE_HARD, 0, 3,
	    "bounce", "5.1.1 user unknown", T0 + 1, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_CHANGED);
	assert_int_equal(r.after, SUB_BOUNCED);
	sub_result_free(&r);
	assert_string_equal(status(f->st, id), "bounced");
	assert_int_equal(q(f->st, "SELECT count(*) FROM events WHERE kind = "
	    "'bounce' AND detail = 'hard: bounce: 5.1.1 user unknown'"), 1);
	assert_int_equal(sub_bounce(f->st, id, NL, SUB_BOUNCE_HARD, 0, 3,
	    "bounce", "again", T0 + 2, &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_UNCHANGED);
	sub_result_free(&r);
	assert_int_equal(events(f->st, "bounce"), 1);
}

/* An issue of NL numbered n with a delivery to id in state; its id. */
static int64_t
delivery(struct store *st, int64_t id, int n, const char *state)
{
	char *sql = xasprintf("INSERT INTO issues (newsletter, number, subject, "
	    "created, state) VALUES ('daily', %d, 's', %d, 'done');"
	    "INSERT INTO deliveries (issue_id, subscriber_id, state) VALUES "
	    "(last_insert_rowid(), %lld, '%s')", n, T0 + n, (long long)id,
	    state);

	assert_int_equal(store_exec(st, sql), STORE_OK);
	free(sql);
	return (int64_t)q(st, "SELECT max(id) FROM deliveries");
}

static long
soft(struct store *st, int64_t id, int64_t d, enum sub_outcome want)
{
	struct sub_result r;
	long n;

	assert_int_equal(sub_bounce(st, id, NL, SUB_BOUNCE_SOFT, d, 3,
	    "bounce", "4.2.2 mailbox full", T0 + 100, &r), STORE_OK);
	assert_int_equal(r.outcome, want);
	n = r.soft_bounces;
	sub_result_free(&r);
	return n;
}

static void
test_soft_bounces_in_a_row(void **state)
{
	struct fx *f = *state;
	int64_t id, d1, d2, d3, d4, d5;

	id = subscribe(f->st, "fay@example.org", false, T0, SUB_CHANGED);
	d1 = delivery(f->st, id, 1, "sent");
	d2 = delivery(f->st, id, 2, "sent");
	assert_int_equal(soft(f->st, id, d1, SUB_CHANGED), 1);
	/* the same DSN twice, an older one: not counted */
	assert_int_equal(soft(f->st, id, d1, SUB_UNCHANGED), 1);
	assert_int_equal(soft(f->st, id, d2, SUB_CHANGED), 2);
	assert_int_equal(soft(f->st, id, d1, SUB_UNCHANGED), 2);
	assert_string_equal(status(f->st, id), "active");
	/* issue 3 was delivered and did not bounce: 4's bounce starts again */
	d3 = delivery(f->st, id, 3, "sent");
	d4 = delivery(f->st, id, 4, "sent");
	(void)d3;
	assert_int_equal(soft(f->st, id, d4, SUB_CHANGED), 1);
	d5 = delivery(f->st, id, 5, "sent");
	assert_int_equal(soft(f->st, id, d5, SUB_CHANGED), 2);
	/* a failed or queued delivery in between does not reset */
	delivery(f->st, id, 6, "failed");
	assert_int_equal(soft(f->st, id, delivery(f->st, id, 7, "sent"),
	    SUB_CHANGED), 3);
	assert_string_equal(status(f->st, id), "bounced");
	assert_int_equal(q(f->st, "SELECT count(*) FROM events WHERE kind = "
	    "'bounce' AND detail LIKE 'soft 3/3, now bounced%'"), 1);
	/* an unknown delivery counts, but not once bounced */
	assert_int_equal(soft(f->st, id, 0, SUB_UNCHANGED), 3);
}

static void
test_soft_bounce_unknown_delivery(void **state)
{
	struct fx *f = *state;
	struct sub_result r;
	int64_t id;

	id = subscribe(f->st, "gus@example.org", false, T0, SUB_CHANGED);
	assert_int_equal(soft(f->st, id, 0, SUB_CHANGED), 1);
	assert_int_equal(soft(f->st, id, 0, SUB_CHANGED), 2);
	/* pending: a soft bounce does not count */
	assert_int_equal(sub_unsubscribe(f->st, id, NL, "t", NULL, T0, &r),
	    STORE_OK);
	sub_result_free(&r);
	assert_int_equal(soft(f->st, id, 0, SUB_UNCHANGED), 2);
}

static void
test_remove(void **state)
{
	struct fx *f = *state;
	struct sub_result r;
	struct sub_erased er;
	int64_t id;

	id = subscribe(f->st, "hal@example.org", false, T0, SUB_CHANGED);
	delivery(f->st, id, 1, "sent");
	assert_int_equal(sub_remove(f->st, "HAL@example.org", T0 + 1, &r, &er),
	    STORE_OK);
	assert_int_equal(r.outcome, SUB_CHANGED);
	sub_result_free(&r);
	assert_int_equal(er.subscriptions, 1);
	assert_int_equal(er.deliveries, 1);
	assert_int_equal(er.events, 1);
	assert_int_equal(q(f->st, "SELECT count(*) FROM subscribers"), 0);
	assert_int_equal(q(f->st, "SELECT count(*) FROM events WHERE kind = "
	    "'erase' AND subscriber_id IS NULL AND detail NOT LIKE '%hal%'"),
	    1);
	assert_int_equal(sub_remove(f->st, "hal@example.org", T0 + 2, &r, NULL),
	    STORE_OK);
	assert_int_equal(r.outcome, SUB_NOT_FOUND);
	sub_result_free(&r);
}

static void
test_expire(void **state)
{
	struct fx *f = *state;
	struct sub_request req = { .email = "ivy@example.org", .via = "t",
	    .pending = true, .resubscribe = true };
	struct sub_result r;
	int64_t fresh, old, back, other;
	long n;

	old = subscribe(f->st, "old@example.org", true, T0, SUB_CHANGED);
	fresh = subscribe(f->st, "new@example.org", true, T0 + 5000,
	    SUB_CHANGED);
	/* once active, unsubscribed, then pending again */
	back = subscribe(f->st, "ivy@example.org", false, T0, SUB_CHANGED);
	assert_int_equal(sub_unsubscribe(f->st, back, NL, "t", NULL, T0 + 1,
	    &r), STORE_OK);
	sub_result_free(&r);
	assert_int_equal(sub_subscribe(f->st, NL, &req, T0 + 2, &r), STORE_OK);
	sub_result_free(&r);
	/* pending here, active in another newsletter */
	other = subscribe(f->st, "ole@example.org", true, T0, SUB_CHANGED);
	req.email = "ole@example.org";
	req.pending = false;
	assert_int_equal(sub_subscribe(f->st, "weekly", &req, T0, &r),
	    STORE_OK);
	sub_result_free(&r);

	assert_int_equal(sub_expire(f->st, NL, 3600, T0 + 4000, &n), STORE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(status(f->st, fresh), "pending");
	assert_string_equal(status(f->st, old), "none");
	assert_int_equal(q(f->st, "SELECT count(*) FROM subscribers WHERE "
	    "email = 'old@example.org'"), 0);
	assert_string_equal(status(f->st, back), "unsubscribed");
	assert_string_equal(status(f->st, other), "none");
	assert_int_equal(q(f->st, "SELECT count(*) FROM subscriptions WHERE "
	    "newsletter = 'weekly' AND status = 'active'"), 1);
	assert_int_equal(events(f->st, "expire"), 3);
	assert_int_equal(q(f->st, "SELECT count(*) FROM events WHERE kind = "
	    "'expire' AND detail LIKE '%old@%'"), 0);
	/* nothing left to expire */
	assert_int_equal(sub_expire(f->st, NL, 3600, T0 + 4000, &n), STORE_OK);
	assert_int_equal(n, 0);
	/* the expired link now says so */
	assert_int_equal(sub_confirm(f->st, back, NL, 3600, "web", T0 + 4001,
	    &r), STORE_OK);
	assert_int_equal(r.outcome, SUB_REFUSED);
	sub_result_free(&r);
}

/*
 * A subscriber's id is in every link ever sent to them: an id freed by an
 * erasure or an expiry must never name someone else, or an old
 * confirmation link would confirm a stranger's sign-up (and an old
 * preferences link would show their address).
 */
static void
test_ids_never_reused(void **state)
{
	struct fx *f = *state;
	struct sub_result r;
	int64_t a, b, c, d, max;
	long n;

	a = subscribe(f->st, "a@example.org", false, T0, SUB_CHANGED);
	b = subscribe(f->st, "b@example.org", false, T0, SUB_CHANGED);
	assert_true(b > a);
	assert_int_equal(sub_remove(f->st, "b@example.org", T0, &r, NULL),
	    STORE_OK);
	sub_result_free(&r);
	c = subscribe(f->st, "c@example.org", true, T0, SUB_CHANGED);
	assert_true(c > b);
	/* the newest, pending, expires and is erased */
	assert_int_equal(sub_expire(f->st, NL, 60, T0 + 3600, &n), STORE_OK);
	assert_int_equal(n, 1);
	d = subscribe(f->st, "d@example.org", true, T0 + 3600, SUB_CHANGED);
	assert_true(d > c);
	/* the bulk importer starts above every id ever used */
	assert_int_equal(store_subs_max_id(f->st, &max), STORE_OK);
	assert_true(max >= d);
	assert_int_equal(sub_remove(f->st, "d@example.org", T0, &r, NULL),
	    STORE_OK);
	sub_result_free(&r);
	assert_int_equal(store_subs_max_id(f->st, &max), STORE_OK);
	assert_true(max >= d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_subscribe_active_and_again),
		T(test_pending_confirm_expire),
		T(test_operator_confirms_pending),
		T(test_unsubscribe_idempotent_and_refused),
		T(test_hard_bounce),
		T(test_soft_bounces_in_a_row),
		T(test_soft_bounce_unknown_delivery),
		T(test_remove),
		T(test_expire),
		T(test_ids_never_reused),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
