/*
 * feed: parse one RSS 0.9x/2.0, RSS 1.0 (RDF) or Atom document with libxml2.
 *
 * Contract shared with the folder reader and with `herald inspect`: both
 * produce a struct feed (a folder article is a feed of kind FEED_FOLDER
 * with one entry).  Every string is UTF-8 and owned by the feed;
 * summary/content are already sanitised HTML (sanitize.h); url/link are
 * absolute where a base was known.  Times are UTC; 0 with has_* false means
 * unknown.
 */
#ifndef HERALD_FEED_H
#define HERALD_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

enum feed_kind {
	FEED_RSS = 0,
	FEED_ATOM,
	FEED_RDF,
	FEED_FOLDER,
};

struct entry {
	char	*title;
	char	*url;
	char	*guid;		/* guid/id, else link, else "sha256:" hash */
	char	*author;
	char	*summary;	/* sanitised HTML or NULL */
	char	*content;	/* sanitised HTML or NULL */
	char	*text;		/* plain text when the source was plain text, else NULL */
	time_t	 published;
	time_t	 updated;
	bool	 has_published;
	bool	 has_updated;
};

struct feed {
	enum feed_kind	 kind;
	char		*title;
	char		*link;
	struct entry	*entries;
	size_t		 nentries;
	/* What was read but left out (a link that is not http(s), ...), one
	 * line each, for `herald inspect`; owned by the feed. */
	char		**warnings;
	size_t		 nwarnings;
};

#define FEED_MAX_SIZE	(16u << 20)	/* documents larger than this are refused */
#define FEED_MAX_WARNINGS 100

/*
 * Parses data (len bytes).  base_url is the document's own URL (for
 * resolving relative links; may be NULL); charset is the HTTP Content-Type
 * charset or NULL.  Returns NULL and sets *err (caller frees) with the
 * reason and position when the document is not a feed.
 */
struct feed	*feed_parse(const char *data, size_t len, const char *base_url,
		    const char *charset, char **err);
void		 feed_free(struct feed *);
/*
 * Adds a warning to f (at most FEED_MAX_WARNINGS are kept, then one line
 * says how many more).  Control characters in it are shown as '?'.
 */
void		 feed_warn(struct feed *f, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/*
 * The warning for URLs the sanitiser dropped from one field (see
 * sanitize_ctx_dropped); where is "entry 3: content" or the like.  Frees
 * first.
 */
void		 feed_warn_dropped(struct feed *f, const char *where, size_t n,
		    char *first, bool image);
const char	*feed_kind_name(enum feed_kind);	/* "rss", "atom", "rdf", "folder" */
/* Appends the `herald inspect --format json` object (DESIGN §3). */
void		 feed_json(const struct feed *, struct buf *out);
/* Appends a human-readable listing (`herald inspect`, text format). */
void		 feed_text(const struct feed *, struct buf *out);

#endif
