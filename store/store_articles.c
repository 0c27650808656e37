/*
 * store_articles: sources and articles queries (see store_articles.h).
 */
#include "store_articles.h"

#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"
#include "xmalloc.h"

static char *
col_dup(struct db_stmt *s, int i)
{
	return xstrdup(store_col_text(s, i));
}

enum store_rc
store_source_get(struct store *st, const char *newsletter, const char *kind,
    const char *location, struct source_row *out)
{
	struct db_stmt *s;
	enum store_rc rc;
	int r, tries;

	memset(out, 0, sizeof(*out));
	for (tries = 0; tries < 2; tries++) {
		s = store_stmt(st, "SELECT id, fetch_url, etag, last_modified, "
		    "last_fetch, failures FROM sources WHERE newsletter = ?1 "
		    "AND kind = ?2 AND location = ?3");
		store_bind_text(s, 1, newsletter);
		store_bind_text(s, 2, kind);
		store_bind_text(s, 3, location);
		r = db_step(s);
		if (r == DB_ROW) {
			out->id = db_column_int64(s, 0);
			out->fetch_url = col_dup(s, 1);
			out->etag = col_dup(s, 2);
			out->last_modified = col_dup(s, 3);
			out->last_fetch = (time_t)db_column_int64(s, 4);
			out->failures = db_column_int(s, 5);
			db_reset(s);
			return STORE_OK;
		}
		db_reset(s);
		if (r != DB_DONE)
			return store_rc(r) == STORE_BUSY ? STORE_BUSY :
			    STORE_ERR;
		s = store_stmt(st, "INSERT OR IGNORE INTO sources "
		    "(newsletter, kind, location) VALUES (?1, ?2, ?3)");
		store_bind_text(s, 1, newsletter);
		store_bind_text(s, 2, kind);
		store_bind_text(s, 3, location);
		if ((rc = store_step_done(s)) != STORE_OK)
			return rc;
	}
	return STORE_ERR;
}

void
source_row_clear(struct source_row *r)
{
	free(r->fetch_url);
	free(r->etag);
	free(r->last_modified);
	memset(r, 0, sizeof(*r));
}

enum store_rc
store_source_health(struct store *st, const char *newsletter,
    const char *kind, const char *location, struct source_health *out,
    bool *found)
{
	struct db_stmt *s = store_stmt(st,
	    "SELECT last_fetch, last_success, failures, last_error,"
	    " (SELECT count(*) FROM articles a WHERE a.source_id = sources.id)"
	    " FROM sources WHERE newsletter = ?1 AND kind = ?2 AND location = ?3");
	int r;

	memset(out, 0, sizeof(*out));
	*found = false;
	store_bind_text(s, 1, newsletter);
	store_bind_text(s, 2, kind);
	store_bind_text(s, 3, location);
	r = db_step(s);
	if (r == DB_ROW) {
		*found = true;
		out->last_fetch = (time_t)db_column_int64(s, 0);
		out->last_success = (time_t)db_column_int64(s, 1);
		out->failures = db_column_int(s, 2);
		out->last_error = col_dup(s, 3);
		out->articles = db_column_int(s, 4);
	}
	db_reset(s);
	return r == DB_ROW || r == DB_DONE ? STORE_OK :
	    store_rc(r) == STORE_BUSY ? STORE_BUSY : STORE_ERR;
}

void
source_health_clear(struct source_health *h)
{
	free(h->last_error);
	memset(h, 0, sizeof(*h));
}

enum store_rc
store_source_ok(struct store *st, long long id, time_t now, const char *etag,
    const char *last_modified, const char *title)
{
	struct db_stmt *s = store_stmt(st, "UPDATE sources SET "
	    "last_fetch = ?2, last_success = ?2, last_error = NULL, "
	    "failures = 0, etag = coalesce(?3, etag), "
	    "last_modified = coalesce(?4, last_modified), "
	    "title = coalesce(?5, title) WHERE id = ?1");

	db_bind_int64(s, 1, id);
	db_bind_int64(s, 2, now);
	store_bind_text(s, 3, etag);
	store_bind_text(s, 4, last_modified);
	store_bind_text(s, 5, title);
	return store_step_done(s);
}

enum store_rc
store_source_validators(struct store *st, long long id, const char *etag,
    const char *last_modified)
{
	struct db_stmt *s = store_stmt(st, "UPDATE sources SET etag = ?2, "
	    "last_modified = ?3 WHERE id = ?1");

	db_bind_int64(s, 1, id);
	store_bind_text(s, 2, etag);
	store_bind_text(s, 3, last_modified);
	return store_step_done(s);
}

enum store_rc
store_source_fail(struct store *st, long long id, time_t now,
    const char *error, long *failures)
{
	struct db_stmt *s = store_stmt(st, "UPDATE sources SET "
	    "last_fetch = ?2, last_error = ?3, failures = failures + 1 "
	    "WHERE id = ?1 RETURNING failures");
	int r;

	db_bind_int64(s, 1, id);
	db_bind_int64(s, 2, now);
	store_bind_text(s, 3, error);
	r = db_step(s);
	if (r == DB_ROW) {
		*failures = db_column_int(s, 0);
		r = db_step(s);
	}
	db_reset(s);
	return r == DB_DONE ? STORE_OK : store_rc(r) == STORE_BUSY ?
	    STORE_BUSY : STORE_ERR;
}

enum store_rc
store_source_moved(struct store *st, long long id, const char *fetch_url)
{
	struct db_stmt *s = store_stmt(st,
	    "UPDATE sources SET fetch_url = ?2 WHERE id = ?1");

	db_bind_int64(s, 1, id);
	store_bind_text(s, 2, fetch_url);
	return store_step_done(s);
}

enum store_rc
store_article_exists(struct store *st, long long source_id, const char *guid,
    bool *found)
{
	struct db_stmt *s = store_stmt(st, "SELECT 1 FROM articles "
	    "WHERE source_id = ?1 AND guid = ?2");
	int r;

	db_bind_int64(s, 1, source_id);
	store_bind_text(s, 2, guid);
	r = db_step(s);
	db_reset(s);
	*found = r == DB_ROW;
	return r == DB_ROW || r == DB_DONE ? STORE_OK :
	    store_rc(r) == STORE_BUSY ? STORE_BUSY : STORE_ERR;
}

enum store_rc
store_article_add(struct store *st, long long source_id, const struct
    store_article_new *e, time_t collected, bool *added)
{
	struct db_stmt *s = store_stmt(st, "INSERT INTO articles (source_id, "
	    "guid, url, title, author, published, updated, summary, content, "
	    "text, collected) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	    "?10, ?11) ON CONFLICT (source_id, guid) DO NOTHING");
	enum store_rc rc;

	db_bind_int64(s, 1, source_id);
	store_bind_text(s, 2, e->guid);
	store_bind_text(s, 3, e->url);
	store_bind_text(s, 4, e->title);
	store_bind_text(s, 5, e->author);
	if (e->has_published)
		db_bind_int64(s, 6, e->published);
	if (e->has_updated)
		db_bind_int64(s, 7, e->updated);
	store_bind_text(s, 8, e->summary);
	store_bind_text(s, 9, e->content);
	store_bind_text(s, 10, e->text);
	db_bind_int64(s, 11, collected);
	rc = store_step_done(s);
	*added = rc == STORE_OK && db_changes(store_conn(st)) > 0;
	return rc;
}
