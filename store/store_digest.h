/*
 * store_digest: what an issue carries.  Drafting the next issue (its number
 * and the articles waiting for it) and loading the rows of its articles for
 * the render stage.
 */
#ifndef HERALD_STORE_DIGEST_H
#define HERALD_STORE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store.h"

/*
 * The articles the next issue would carry: those of the newsletter's
 * sources that no issue of it has carried, newest first, at most max.
 * Returns the number found (ids in *ids, caller frees) or -1 on error.
 */
long		 store_pending_articles(struct store *, const char *newsletter,
		    long max, int64_t **ids) STORE_WUR;

/*
 * The next issue as it would be made now: its number and the articles
 * waiting for it (at most max, newest first; out->n may be 0).  The one
 * way `send`, `send-test` and `preview` decide what comes next.
 */
struct store_draft {
	long		 number;
	int64_t		*ids;		/* owned: store_draft_clear() */
	size_t		 n;
};
enum store_rc	 store_issue_draft(struct store *, const char *newsletter,
		    long max, struct store_draft *out) STORE_WUR;
void		 store_draft_clear(struct store_draft *);

/* One article row as a digest needs it. */
struct store_article {
	int64_t		 id;
	char		*title, *url, *author;
	char		*summary, *content;	/* sanitised HTML or NULL */
	char		*text;			/* plain text or NULL */
	char		*source_title;
	time_t		 published;
	bool		 has_published;
};

/*
 * Loads the rows of ids[0..n) in that order (a missing id is skipped).
 * Returns the number loaded (rows in *out, caller frees with
 * store_article_rows_free) or -1 with *err (caller frees).
 */
long		 store_article_rows(struct store *, const int64_t *ids, size_t n,
		    struct store_article **out, char **err) STORE_WUR;
void		 store_article_rows_free(struct store_article *, size_t n);

#endif
