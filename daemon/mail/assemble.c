/*
 * assemble: issue creation.  See assemble.h.
 */
#include "assemble.h"

#include <stdlib.h>
#include <string.h>

#include "store_subs.h"
#include "xmalloc.h"

enum assemble_rc
assemble_issue(struct store *st, const struct config *cfg,
    const struct newsletter_conf *nl, time_t now, struct store_issue *is,
    long *ndeliveries, long *npending, char **err)
{
	struct digest *d = NULL;
	struct store_draft dr;
	int64_t issue_id = 0;
	enum store_rc rc;
	enum assemble_rc ret = ASSEMBLE_ERR;
	int found;

	*err = NULL;
	*ndeliveries = 0;
	*npending = 0;
	memset(is, 0, sizeof(*is));
	found = store_issue_unfinished(st, nl->id, is);
	if (found == 1)
		return ASSEMBLE_RESUMED;
	if (found == -1) {
		*err = xasprintf("reading issues: %s", store_errmsg(st));
		return ASSEMBLE_ERR;
	}
	if (store_issue_draft(st, nl->id, nl->max_articles, &dr) != STORE_OK) {
		*err = xasprintf("reading pending articles: %s",
		    store_errmsg(st));
		return ASSEMBLE_ERR;
	}
	*npending = (long)dr.n;
	if (dr.n == 0 || (long)dr.n < nl->min_articles) {
		store_draft_clear(&dr);
		return ASSEMBLE_NOTHING;
	}
	{
		long counts[SUB_NSTATUS] = { 0 };

		rc = store_subs_count(st, nl->id, counts);
		if (rc != STORE_OK) {
			*err = xasprintf("counting subscribers: %s",
			    store_errmsg(st));
			ret = rc == STORE_BUSY ? ASSEMBLE_BUSY : ASSEMBLE_ERR;
			goto out;
		}
		if (counts[SUB_ACTIVE] == 0) {
			ret = ASSEMBLE_NO_READERS;
			goto out;
		}
	}
	d = digest_new(cfg, nl, st, dr.ids, dr.n, dr.number, now, err);
	if (d == NULL)
		goto out;
	rc = store_issue_create(st, nl->id, dr.number, digest_subject(d), now,
	    dr.ids, dr.n, &issue_id, ndeliveries);
	if (rc != STORE_OK) {
		*err = xasprintf("creating issue #%ld: %s", dr.number,
		    store_errmsg(st));
		ret = rc == STORE_BUSY ? ASSEMBLE_BUSY : ASSEMBLE_ERR;
		goto out;
	}
	if (store_issue_by_number(st, nl->id, dr.number, is) != 1) {
		*err = xasprintf("reading issue #%ld back: %s", dr.number,
		    store_errmsg(st));
		goto out;
	}
	ret = ASSEMBLE_NEW;
out:
	if (d != NULL)
		digest_free(d);
	store_draft_clear(&dr);
	return ret;
}

struct digest *
assemble_digest(struct store *st, const struct config *cfg,
    const struct newsletter_conf *nl, const struct store_issue *is,
    char **err)
{
	struct digest *d;
	int64_t *ids = NULL;
	long n;

	*err = NULL;
	n = store_issue_articles(st, is->id, &ids);
	if (n < 0) {
		*err = xasprintf("reading the articles of issue #%ld: %s",
		    is->number, store_errmsg(st));
		return NULL;
	}
	d = digest_new(cfg, nl, st, ids, (size_t)n, is->number, is->created,
	    err);
	free(ids);
	return d;
}
