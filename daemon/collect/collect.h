/*
 * collect: the collect stage.  Polls a newsletter's sources and stores their
 * new articles (DESIGN §1, Collect).
 *
 * Feeds are fetched in parallel (fetch.h) and parsed (feed.h); folders are
 * read (folder.h).  Each source gets a `sources` row on first use; its new
 * articles and its new state (ETag, Last-Modified, a permanently redirected
 * location) are stored in one transaction per source.  A source that fails
 * keeps its last good state; its error and consecutive failure count are
 * stored (for `herald status`) and the other sources still collect.
 *
 * Report lines (one per source, to `report`):
 *   feed https://example.org/feed.xml: 3 new (12 seen)
 *   feed https://example.org/feed.xml: not modified
 *   folder /srv/articles: 1 new
 *   feed https://example.org/feed.xml: error: HTTP 404 Not Found (2 failures in a row)
 * With report NULL (preview, send), errors are logged as warnings and the
 * rest only with -v.
 */
#ifndef HERALD_COLLECT_H
#define HERALD_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "store.h"

/*
 * Collects the sources of nls[0..n) (several newsletters are fetched
 * together).  Folders are always read; feeds only when their interval has
 * passed since the last poll, or always when force is true.
 *
 * Returns EXIT_OK, EXIT_FAIL when any source failed (the others are
 * collected), or EXIT_TEMP when the database was locked.
 */
int	collect_many(struct store *, const struct newsletter_conf *nls,
	    size_t n, bool force, FILE *report);

/*
 * What `preview`, `send-test` and `send` call before they render: collects
 * one newsletter (folders always, feeds whose interval has passed unless
 * force).  Same return values as collect_many().
 */
int	collect_run(struct store *, const struct newsletter_conf *nl,
	    bool force, FILE *report);

#endif
