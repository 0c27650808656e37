/*
 * sub_import against a real SQLite file: batches, a fatal error after some
 * batches, a dry run spanning batches, duplicates and re-runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "store_sqlite.h"
#include "store_subs.h"
#include "sub_import.h"
#include "xmalloc.h"

static char dir[] = "/tmp/test_sub_import.XXXXXX";

static struct store *
open_db(const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *err = NULL;
	struct store *st;
	bool busy;

	st = store_open(path, &err, &busy);
	assert_non_null(st);
	free(path);
	return st;
}

/* Imports text through a pipe-free temp file into nl; the store rc. */
static enum store_rc
import_nl(struct store *st, const char *nl, const char *text, long batch,
    bool dry, struct sub_import_report *rep, char **err)
{
	char *path = xasprintf("%s/in.csv", dir);
	struct sub_import_opts o = { .newsletter = nl, .name = "in.csv",
	    .dry_run = dry, .batch = batch, .errors = NULL };
	enum store_rc rc;
	FILE *f = fopen(path, "w");
	int fd;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	*err = NULL;
	rc = sub_import(st, fd, &o, rep, err);
	close(fd);
	free(path);
	return rc;
}

static enum store_rc
import(struct store *st, const char *text, long batch, bool dry,
    struct sub_import_report *rep, char **err)
{
	return import_nl(st, "daily", text, batch, dry, rep, err);
}

static long
count(struct store *st, enum sub_status s)
{
	long c[SUB_NSTATUS];

	assert_int_equal(store_subs_count(st, "daily", c), STORE_OK);
	return c[s];
}

static void
test_batches(void **state)
{
	struct store *st = open_db("a.db");
	struct sub_import_report rep;
	char *err;

	(void)state;
	assert_int_equal(import(st, "email,name\na@example.org,A\n"
	    "b@example.org,B\nbad\nc@example.org,C\nA@EXAMPLE.ORG,dup\n"
	    "d@example.org,D\ne@example.org,E\n", 2, false, &rep, &err),
	    STORE_OK);
	assert_null(err);
	assert_int_equal(rep.rows, 7);
	assert_int_equal(rep.added, 5);
	assert_int_equal(rep.committed, 5);
	assert_int_equal(rep.bad, 1);
	assert_int_equal(rep.duplicates, 1);
	assert_int_equal(count(st, SUB_ACTIVE), 5);

	/* again: nothing changes; the duplicate is still a duplicate */
	assert_int_equal(import(st, "email,name\na@example.org,A\n"
	    "b@example.org,B\nbad\nc@example.org,C\nA@EXAMPLE.ORG,dup\n"
	    "d@example.org,D\ne@example.org,E\n", 2, false, &rep, &err),
	    STORE_OK);
	assert_int_equal(rep.added, 0);
	assert_int_equal(rep.already, 5);
	assert_int_equal(rep.duplicates, 1);
	store_close(st);
}

static void
test_fatal_keeps_earlier_batches(void **state)
{
	struct store *st = open_db("b.db");
	struct sub_import_report rep;
	char *err;

	(void)state;
	/* batch of 2: rows 1-2 committed, row 3 pending, then not UTF-8 */
	assert_int_equal(import(st, "email\na@example.org\nb@example.org\n"
	    "c@example.org\nd\xff@example.org\n", 2, false, &rep, &err),
	    STORE_ERR);
	assert_non_null(err);
	assert_non_null(strstr(err, "in.csv: line 5: not UTF-8"));
	free(err);
	assert_int_equal(rep.committed, 2);
	assert_int_equal(count(st, SUB_ACTIVE), 2);
	/* no half-written rows: every subscriber has its subscription */
	{
		sqlite3_stmt *s;

		assert_int_equal(sqlite3_prepare_v2(store_db(st),
		    "SELECT count(*) FROM subscribers", -1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(s, 0), 2);
		sqlite3_finalize(s);
	}
	store_close(st);
}

static void
test_dry_run_spans_batches(void **state)
{
	struct store *st = open_db("c.db");
	struct sub_import_report rep;
	char *err;

	(void)state;
	assert_int_equal(import(st, "email,status\na@example.org,\n"
	    "b@example.org,unsubscribed\nc@example.org,BOUNCED\n"
	    "d@example.org,pending\ne@example.org,gone\n", 2, true, &rep,
	    &err), STORE_OK);
	assert_int_equal(rep.added, 4);
	assert_int_equal(rep.bad, 1);
	assert_int_equal(count(st, SUB_ACTIVE) + count(st, SUB_PENDING) +
	    count(st, SUB_UNSUBSCRIBED) + count(st, SUB_BOUNCED), 0);
	/* the real run: statuses from the file for new subscriptions */
	assert_int_equal(import(st, "email,status\na@example.org,\n"
	    "b@example.org,unsubscribed\nc@example.org,BOUNCED\n"
	    "d@example.org,pending\n", 2, false, &rep, &err), STORE_OK);
	assert_int_equal(count(st, SUB_ACTIVE), 1);
	assert_int_equal(count(st, SUB_UNSUBSCRIBED), 1);
	assert_int_equal(count(st, SUB_BOUNCED), 1);
	assert_int_equal(count(st, SUB_PENDING), 1);
	/* an active row for them later never re-activates them */
	assert_int_equal(import(st, "email\nb@example.org\nc@example.org\n",
	    0, false, &rep, &err), STORE_OK);
	assert_int_equal(rep.unsubscribed, 1);
	assert_int_equal(rep.bounced, 1);
	assert_int_equal(count(st, SUB_ACTIVE), 1);
	store_close(st);
}

/* The first column of a query's rows, joined with commas. */
static char *
column(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	char *out = xstrdup(""), *t;

	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL),
	    SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		t = xasprintf("%s%s%s", out, *out ? "," : "",
		    (const char *)sqlite3_column_text(s, 0));
		free(out);
		out = t;
	}
	sqlite3_finalize(s);
	return out;
}

/*
 * Ids follow the file, duplicates inside a batch included; addresses
 * the database knew before (here: subscribed to another newsletter) are
 * recognised as duplicates across batches too.
 */
static void
test_order_and_known(void **state)
{
	struct store *st = open_db("d.db");
	struct sub_import_report rep;
	char *err, *got;

	(void)state;
	assert_int_equal(import(st, "email\nz@example.org\na@example.org\n"
	    "m@example.org\n", 10, false, &rep, &err), STORE_OK);
	got = column(st, "SELECT email FROM subscribers ORDER BY id");
	assert_string_equal(got, "z@example.org,a@example.org,m@example.org");
	free(got);

	/* batches of 2: {m, x} {A, M}: m and A known, x new, M a duplicate */
	assert_int_equal(import_nl(st, "weekly", "email\nm@example.org\n"
	    "x@example.org\nA@example.org\nM@EXAMPLE.ORG\n", 2, false, &rep,
	    &err), STORE_OK);
	assert_int_equal(rep.added, 3);
	assert_int_equal(rep.duplicates, 1);
	assert_int_equal(rep.already, 0);
	got = column(st, "SELECT s.email FROM subscriptions b JOIN subscribers "
	    "s ON s.id = b.subscriber_id WHERE b.newsletter = 'weekly' "
	    "ORDER BY s.id");
	assert_string_equal(got, "a@example.org,m@example.org,x@example.org");
	free(got);

	/* again: all known now; the duplicate stays a duplicate */
	assert_int_equal(import_nl(st, "weekly", "email\nm@example.org\n"
	    "x@example.org\nA@example.org\nM@EXAMPLE.ORG\n", 2, false, &rep,
	    &err), STORE_OK);
	assert_int_equal(rep.added, 0);
	assert_int_equal(rep.already, 3);
	assert_int_equal(rep.duplicates, 1);
	got = column(st, "SELECT count(*) FROM subscribers");
	assert_string_equal(got, "4");
	free(got);
	store_close(st);
}

/*
 * The checkpointer: when sub_import returns, the batches it committed are
 * in the database file already, not only in the WAL (the file is as large
 * as the database's pages), and a reader that holds an older snapshot
 * through an import (the daemon, say) neither blocks it nor loses its
 * view.
 */
static void
test_checkpointed(void **state)
{
	struct store *st = open_db("ckpt.db");
	struct sub_import_report rep;
	struct buf csv = BUF_INIT;
	struct stat sb;
	sqlite3 *other;
	sqlite3_stmt *s;
	char *path = xasprintf("%s/ckpt.db", dir), *err;
	long pages;
	int i;

	(void)state;
	buf_adds(&csv, "email,name\n");
	for (i = 0; i < 3000; i++)
		buf_printf(&csv, "user%d@example.org,User %d\n", i, i);
	assert_int_equal(import(st, buf_cstr(&csv), 1000, false, &rep, &err),
	    STORE_OK);
	assert_int_equal(rep.committed, 3000);
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT page_count, "
	    "page_size FROM pragma_page_count, pragma_page_size", -1, &s,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	pages = sqlite3_column_int(s, 0);
	assert_true(pages > 20);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size >= pages * sqlite3_column_int(s, 1));
	sqlite3_finalize(s);

	/* a reader with a snapshot from before the next import */
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(other, "SELECT count(*) FROM "
	    "subscribers", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 3000);
	sqlite3_reset(s);
	buf_reset(&csv);
	buf_adds(&csv, "email\n");
	for (i = 0; i < 3000; i++)
		buf_printf(&csv, "more%d@example.org\n", i);
	assert_int_equal(import(st, buf_cstr(&csv), 1000, false, &rep, &err),
	    STORE_OK);
	assert_int_equal(rep.committed, 3000);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 3000);	/* its view */
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(count(st, SUB_ACTIVE), 6000);
	buf_free(&csv);
	free(path);
	store_close(st);
}

/*
 * A large import keeps the WAL under its bound (o.wal_pages) plus one
 * batch: the writer waits for the checkpointer once a commit has left the
 * WAL past it, so that SQLite starts the WAL over instead of appending to
 * it for the whole import.  20 batches of ~65 frames here: 164 frames with
 * the bound, 1,586 without; lag_ms: a checkpointer that a loaded machine
 * holds back (a bound judged on the last checkpoint's count let the WAL
 * grow to 785 frames with 20 ms, and failed under load).
 */
static void
wal_bounded(const char *db, unsigned lag_ms)
{
	struct store *st = open_db(db);
	struct sub_import_report rep;
	struct sub_import_opts o = { .newsletter = "daily", .name = "in.csv",
	    .batch = 1000, .wal_pages = 100, .ckpt_lag_ms = lag_ms };
	struct buf csv = BUF_INIT;
	struct stat sb;
	char *path = xasprintf("%s/in.csv", dir), *err = NULL;
	char *wal = xasprintf("%s/%s-wal", dir, db);
	FILE *f;
	int i, fd;

	buf_adds(&csv, "email,name\n");
	for (i = 0; i < 20000; i++)
		buf_printf(&csv, "user%d@example.org,User %d\n", i, i);
	assert_non_null(f = fopen(path, "w"));
	fputs(buf_cstr(&csv), f);
	fclose(f);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(sub_import(st, fd, &o, &rep, &err), STORE_OK);
	close(fd);
	assert_int_equal(rep.committed, 20000);
	/* the store is open: its WAL is still there, at its largest */
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size < 300 * (4096 + 24));
	buf_free(&csv);
	free(path);
	free(wal);
	store_close(st);
}

static void
test_wal_bounded(void **state)
{
	(void)state;
	wal_bounded("walb.db", 0);
}

static void
test_wal_bounded_lagging(void **state)
{
	(void)state;
	wal_bounded("wall.db", 20);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_fatal_keeps_earlier_batches),
		cmocka_unit_test(test_dry_run_spans_batches),
		cmocka_unit_test(test_order_and_known),
		cmocka_unit_test(test_checkpointed),
		cmocka_unit_test(test_wal_bounded),
		cmocka_unit_test(test_wal_bounded_lagging),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
