/*
 * assemble: turns pending articles into an issue (DESIGN §1, Assemble).
 *
 * assemble_issue() resumes the newsletter's unfinished issue (state
 * 'sending') when there is one; otherwise, when at least min_articles
 * articles are pending (at most max_articles, newest first) and at least
 * one subscriber is active, it renders the subject once and creates, in one transaction, the issue (number = last +
 * 1), its articles and one queued delivery per active subscriber.
 */
#ifndef HERALD_ASSEMBLE_H
#define HERALD_ASSEMBLE_H

#include <time.h>

#include "config.h"
#include "render.h"
#include "store.h"
#include "store_queue.h"

enum assemble_rc {
	ASSEMBLE_NEW = 0,	/* a new issue was created */
	ASSEMBLE_RESUMED,	/* the unfinished issue */
	ASSEMBLE_NOTHING,	/* too few new articles: no issue */
	ASSEMBLE_NO_READERS,	/* articles wait, but nobody is active:
				   no issue (it would use them up) */
	ASSEMBLE_ERR,		/* *err says why */
	ASSEMBLE_BUSY,		/* database locked */
};

/*
 * An issue for nobody would use the articles up (a fresh `init`, then
 * `send`, then the first subscribers get nothing of them), so without an
 * active subscriber the articles wait: ASSEMBLE_NO_READERS.
 *
 * Fills *is (caller clears with store_issue_clear) for NEW and RESUMED;
 * *ndeliveries is the number of rows queued for a NEW issue.  *npending is
 * the number of pending articles found (for the "nothing new" message).
 * *err (caller frees) for ASSEMBLE_ERR / ASSEMBLE_BUSY.
 */
enum assemble_rc assemble_issue(struct store *, const struct config *,
		    const struct newsletter_conf *, time_t now,
		    struct store_issue *is, long *ndeliveries, long *npending,
		    char **err);

/*
 * The digest of a recorded issue (its articles in position order, its
 * number and date).  NULL with *err (caller frees).  Caller frees the
 * digest with digest_free().
 */
struct digest	*assemble_digest(struct store *, const struct config *,
		    const struct newsletter_conf *, const struct store_issue *,
		    char **err);

#endif
