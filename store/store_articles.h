/*
 * store_articles: the `sources` and `articles` tables (collect stage).
 *
 * A source row exists per (newsletter, kind, location) and is created on
 * first use.  It keeps the last good state of a feed (ETag, Last-Modified,
 * the location a permanent redirect pointed at) and its health (last error,
 * consecutive failures).  Articles are unique per (source, guid): adding one
 * twice keeps the first.
 */
#ifndef HERALD_STORE_ARTICLES_H
#define HERALD_STORE_ARTICLES_H

#include <stdbool.h>
#include <time.h>

#include "store.h"

struct source_row {
	long long	 id;
	char		*fetch_url;	/* NULL: fetch location as configured */
	char		*etag;
	char		*last_modified;
	time_t		 last_fetch;	/* 0: never */
	long		 failures;	/* consecutive */
};

/*
 * Reads the source row, creating it when missing.  kind is "feed" or
 * "folder".  The strings in *out are owned by out (source_row_clear()).
 */
enum store_rc	 store_source_get(struct store *, const char *newsletter,
		    const char *kind, const char *location,
		    struct source_row *out) STORE_WUR;
void		 source_row_clear(struct source_row *);

/*
 * A successful poll: clears the error and failure count, sets last_fetch and
 * last_success to now.  etag/last_modified/title replace the stored ones
 * when not NULL (a 304 without them keeps the old ones).
 */
enum store_rc	 store_source_ok(struct store *, long long id, time_t now,
		    const char *etag, const char *last_modified,
		    const char *title) STORE_WUR;
/*
 * A full (200) response: its ETag and Last-Modified replace the stored ones,
 * NULL included, so validators a server no longer sends are not sent back
 * (a stale If-None-Match outranks If-Modified-Since and defeats the 304).
 */
enum store_rc	 store_source_validators(struct store *, long long id,
		    const char *etag, const char *last_modified) STORE_WUR;
/*
 * A failed poll: stores error, sets last_fetch, adds one to failures and
 * returns the new count in *failures.  Everything else is kept.
 */
enum store_rc	 store_source_fail(struct store *, long long id, time_t now,
		    const char *error, long *failures) STORE_WUR;
/* Where a permanent redirect pointed: fetched from there from now on. */
enum store_rc	 store_source_moved(struct store *, long long id,
		    const char *fetch_url) STORE_WUR;

/* A source's health as `status` shows it. */
struct source_health {
	time_t		 last_fetch;	/* 0: never */
	time_t		 last_success;	/* 0: never */
	long		 failures;	/* consecutive */
	char		*last_error;	/* owned; NULL when none */
	long		 articles;	/* stored so far */
};
/*
 * The health of the source (newsletter, kind, location); *found false when
 * it has no row yet (never collected).  source_health_clear() frees.
 */
enum store_rc	 store_source_health(struct store *, const char *newsletter,
		    const char *kind, const char *location,
		    struct source_health *out, bool *found) STORE_WUR;
void		 source_health_clear(struct source_health *);

/* True when (source, guid) is already stored (*found). */
enum store_rc	 store_article_exists(struct store *, long long source_id,
		    const char *guid, bool *found) STORE_WUR;
/* One article to store; the strings are the caller's, any may be NULL. */
struct store_article_new {
	const char	*guid;		/* required */
	const char	*url, *title, *author;
	const char	*summary, *content;	/* sanitised HTML */
	const char	*text;		/* plain text */
	time_t		 published, updated;
	bool		 has_published, has_updated;
};

/*
 * Stores a unless (source, guid) exists; *added tells which.  collected is
 * the time of this poll.
 */
enum store_rc	 store_article_add(struct store *, long long source_id,
		    const struct store_article_new *a, time_t collected,
		    bool *added) STORE_WUR;

#endif
