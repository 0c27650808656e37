/*
 * store_digest: the queries the render stage needs: which articles the next
 * issue would carry, and the article rows of a digest.
 */
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "store.h"
#include "xmalloc.h"

long
store_pending_articles(struct store *st, const char *newsletter, long max,
    int64_t **ids)
{
	sqlite3_stmt *s = store_stmt(st,
	    "SELECT a.id FROM articles a JOIN sources s ON s.id = a.source_id"
	    " WHERE s.newsletter = ?1 AND NOT EXISTS ("
	    "   SELECT 1 FROM issue_articles ia JOIN issues i ON i.id = ia.issue_id"
	    "   WHERE ia.article_id = a.id AND i.newsletter = ?1)"
	    " ORDER BY COALESCE(a.published, a.collected) DESC, a.id DESC"
	    " LIMIT ?2");

	*ids = NULL;
	if (max <= 0)
		return 0;
	sqlite3_bind_text(s, 1, newsletter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, max);
	return store_collect_ids(s, ids);
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const char *v = store_col_text(s, i);

	return v ? xstrdup(v) : NULL;
}

long
store_digest_articles(struct store *st, const int64_t *ids, size_t n,
    struct digest_article **out, char **err)
{
	sqlite3_stmt *s = store_stmt(st,
	    "SELECT a.id, a.title, a.url, a.author, a.published, a.summary,"
	    " a.content, a.text, s.title"
	    " FROM articles a JOIN sources s ON s.id = a.source_id WHERE a.id = ?");
	struct digest_article *rows = xcalloc(n + 1, sizeof(*rows));
	size_t k = 0;

	*err = NULL;
	for (size_t i = 0; i < n; i++) {
		int rc;

		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, ids[i]);
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			continue;
		if (rc != SQLITE_ROW) {
			*err = xasprintf("loading article %lld: %s", (long long)ids[i],
			    store_errmsg(st));
			sqlite3_reset(s);
			digest_articles_free(rows, k);
			*out = NULL;
			return -1;
		}
		rows[k].id = sqlite3_column_int64(s, 0);
		rows[k].title = col_dup(s, 1);
		rows[k].url = col_dup(s, 2);
		rows[k].author = col_dup(s, 3);
		if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
			rows[k].published = (time_t)sqlite3_column_int64(s, 4);
			rows[k].has_published = true;
		}
		rows[k].summary = col_dup(s, 5);
		rows[k].content = col_dup(s, 6);
		rows[k].text = col_dup(s, 7);
		rows[k].source_title = col_dup(s, 8);
		k++;
	}
	sqlite3_reset(s);
	*out = rows;
	return (long)k;
}

void
digest_articles_free(struct digest_article *rows, size_t n)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(rows[i].title);
		free(rows[i].url);
		free(rows[i].author);
		free(rows[i].summary);
		free(rows[i].content);
		free(rows[i].text);
		free(rows[i].source_title);
	}
	free(rows);
}

long
store_digest_next_number(struct store *st, const char *newsletter)
{
	sqlite3_stmt *s = store_stmt(st,
	    "SELECT COALESCE(MAX(number), 0) + 1 FROM issues WHERE newsletter = ?");
	long n = -1;

	sqlite3_bind_text(s, 1, newsletter, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}
