/*
 * collect_run() as preview/send call it: folders always, feeds only when
 * their interval has passed (unless forced); a real SQLite file, file://
 * feeds.
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

#include "collect.h"
#include "config.h"
#include "store_sqlite.h"
#include "util.h"
#include "xmalloc.h"

static char dir[512];

static void
put(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static const char *
rss(int n)
{
	static char buf[2048];
	size_t off;
	int i;

	off = (size_t)snprintf(buf, sizeof(buf), "<?xml version=\"1.0\"?>"
	    "<rss version=\"2.0\"><channel><title>F</title>");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "<item><title>I%d</title><guid>g%d</guid></item>", i, i);
	snprintf(buf + off, sizeof(buf) - off, "</channel></rss>\n");
	return buf;
}

/* Runs collect_run and returns its report (caller frees). */
static char *
collect(struct store *st, const struct newsletter_conf *nl, bool force,
    int want_rc)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(collect_run(st, nl, force, f), want_rc);
	fclose(f);
	return out;
}

static void
test_intervals(void **state)
{
	const char *tmp = getenv("HERALD_TEST_TMP");
	struct source_conf src[2];
	struct newsletter_conf nl;
	struct store *st;
	char *err = NULL, *db, *feed_url, *folder, *rep, *line;
	bool busy;

	(void)state;
	mkdir(tmp ? tmp : "/tmp", 0700);
	snprintf(dir, sizeof(dir), "%s/collect.XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	folder = xasprintf("%s/articles", dir);
	assert_int_equal(mkdir(folder, 0700), 0);
	put("feed.xml", rss(1));
	put("articles/one.txt", "One\nbody\n");
	feed_url = xasprintf("file://%s/feed.xml", dir);
	memset(src, 0, sizeof(src));
	src[0].kind = SOURCE_FEED;
	src[0].location = feed_url;
	src[0].interval = 3600;
	src[1].kind = SOURCE_FOLDER;
	src[1].location = folder;
	memset(&nl, 0, sizeof(nl));
	nl.id = "daily";
	nl.sources = src;
	nl.nsources = 2;
	db = xasprintf("%s/herald.db", dir);
	st = store_open(db, &err, &busy);
	assert_non_null(st);

	/* First time: every source is due. */
	rep = collect(st, &nl, false, EXIT_OK);
	line = xasprintf("feed %s: 1 new (1 seen)\n", feed_url);
	assert_non_null(strstr(rep, line));
	free(line);
	line = xasprintf("folder %s: 1 new\n", folder);
	assert_non_null(strstr(rep, line));
	free(line);
	free(rep);

	/* Interval not passed: the feed is left alone, the folder is read. */
	put("feed.xml", rss(2));
	put("articles/two.md", "# Two\n\nbody\n");
	rep = collect(st, &nl, false, EXIT_OK);
	assert_null(strstr(rep, "feed "));
	line = xasprintf("folder %s: 1 new\n", folder);
	assert_non_null(strstr(rep, line));
	free(line);
	free(rep);

	/* Forced: the feed is polled. */
	rep = collect(st, &nl, true, EXIT_OK);
	line = xasprintf("feed %s: 1 new (2 seen)\n", feed_url);
	assert_non_null(strstr(rep, line));
	free(line);
	free(rep);

	/* Not a feed: exit 1, reported, articles kept. */
	put("feed.xml", "<html><body>oops</body></html>");
	rep = collect(st, &nl, true, EXIT_FAIL);
	assert_non_null(strstr(rep, "error: not a feed: "));
	assert_non_null(strstr(rep, "(1 failure in a row)"));
	free(rep);
	/* Without a report (preview, send): the same, quietly. */
	assert_int_equal(collect_run(st, &nl, true, NULL), EXIT_FAIL);
	{
		sqlite3_stmt *s;

		assert_int_equal(sqlite3_prepare_v2(store_db(st),
		    "SELECT (SELECT count(*) FROM articles), failures FROM "
		    "sources WHERE kind = 'feed'", -1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(s, 0), 4);
		assert_int_equal(sqlite3_column_int(s, 1), 2);
		sqlite3_finalize(s);
	}
	store_close(st);

	line = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(line), 0);
	free(line);
	free(db);
	free(feed_url);
	free(folder);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intervals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
