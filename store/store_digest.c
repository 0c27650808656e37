/*
 * store_digest: the queries that draft an issue and load its articles (see
 * store_digest.h).
 */
#include <stdlib.h>
#include <string.h>

#include "store_digest.h"
#include "store_queue.h"
#include "store_sqlite.h"
#include "xmalloc.h"

long
store_pending_articles(struct store *st, const char *newsletter, long max,
    int64_t **ids)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT a.id FROM articles a JOIN sources s ON s.id = a.source_id"
	    " WHERE s.newsletter = ?1 AND NOT EXISTS ("
	    "   SELECT 1 FROM issue_articles ia JOIN issues i ON i.id = ia.issue_id"
	    "   WHERE ia.article_id = a.id AND i.newsletter = ?1)"
	    " ORDER BY COALESCE(a.published, a.updated, a.collected) DESC, a.id DESC"
	    " LIMIT ?2");

	*ids = NULL;
	if (max <= 0)
		return 0;
	db_bind_text(s, 1, newsletter);
	db_bind_int64(s, 2, max);
	return store_collect_ids(s, ids);
}

static char *
col_dup(struct db_stmt *s, int i)
{
	const char *v = store_col_text(s, i);

	return v ? xstrdup(v) : NULL;
}

long
store_article_rows(struct store *st, const int64_t *ids, size_t n,
    struct store_article **out, char **err)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT a.id, a.title, a.url, a.author, a.published, a.summary,"
	    " a.content, a.text, s.title"
	    " FROM articles a JOIN sources s ON s.id = a.source_id WHERE a.id = ?");
	struct store_article *rows = xcalloc(n + 1, sizeof(*rows));
	size_t k = 0;

	*err = NULL;
	for (size_t i = 0; i < n; i++) {
		int rc;

		db_reset(s);
		db_bind_int64(s, 1, ids[i]);
		rc = db_step(s);
		if (rc == DB_DONE)
			continue;
		if (rc != DB_ROW) {
			*err = xasprintf("loading article %lld: %s", (long long)ids[i],
			    store_errmsg(st));
			db_reset(s);
			store_article_rows_free(rows, k);
			*out = NULL;
			return -1;
		}
		rows[k].id = db_column_int64(s, 0);
		rows[k].title = col_dup(s, 1);
		rows[k].url = col_dup(s, 2);
		rows[k].author = col_dup(s, 3);
		if (!db_column_null(s, 4)) {
			rows[k].published = (time_t)db_column_int64(s, 4);
			rows[k].has_published = true;
		}
		rows[k].summary = col_dup(s, 5);
		rows[k].content = col_dup(s, 6);
		rows[k].text = col_dup(s, 7);
		rows[k].source_title = col_dup(s, 8);
		k++;
	}
	db_reset(s);
	*out = rows;
	return (long)k;
}

void
store_article_rows_free(struct store_article *rows, size_t n)
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

enum store_rc
store_issue_draft(struct store *st, const char *newsletter, long max,
    struct store_draft *out)
{
	int64_t *ids = NULL;
	long n;

	memset(out, 0, sizeof(*out));
	n = store_pending_articles(st, newsletter, max, &ids);
	if (n < 0)
		return STORE_ERR;
	out->number = store_issue_next_number(st, newsletter);
	if (out->number < 0) {
		free(ids);
		out->number = 0;
		return STORE_ERR;
	}
	out->ids = ids;
	out->n = (size_t)n;
	return STORE_OK;
}

void
store_draft_clear(struct store_draft *d)
{
	free(d->ids);
	memset(d, 0, sizeof(*d));
}
