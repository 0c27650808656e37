/*
 * render: turns an issue (a list of articles) into the text and HTML digest.
 *
 * digest_new() loads the articles, builds the template context and renders
 * every part that is the same for every reader once; digest_render() then
 * only fills the subscriber fields, so a personalised render costs little
 * more than copying bytes.  The subject is rendered once per issue.
 */
#ifndef HERALD_RENDER_H
#define HERALD_RENDER_H

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "store.h"

struct digest;

/* Per-subscriber fields (DESIGN §5).  Any may be NULL. */
struct recipient {
	const char	*email;
	const char	*name;
	const char	*attributes_json;	/* JSON object text, e.g. {"city":"Oslo"} */
	const char	*unsubscribe_url;
	const char	*preferences_url;
	const char	*confirm_url;
};

/*
 * Builds the digest of the given articles (in that order) for issue
 * `number` dated `date`.  Templates come from nl->template_text/html or the
 * shipped ones.  Returns NULL with *err (caller frees) on a template error.
 */
struct digest	*digest_new(const struct config *, const struct newsletter_conf *,
		    struct store *, const int64_t *article_ids, size_t narticles,
		    long number, time_t date, char **err);
/* Appends the personalised text and HTML parts to text / html. */
int		 digest_render(const struct digest *, const struct recipient *,
		    struct buf *text, struct buf *html);
const char	*digest_subject(const struct digest *);
size_t		 digest_article_count(const struct digest *);
void		 digest_free(struct digest *);

/*
 * The articles the next issue would carry: those of the newsletter's
 * sources that no issue of it has carried, newest first, at most max.
 * Returns the number found (ids in *ids, caller frees) or -1 on error.
 */
long		 store_pending_articles(struct store *, const char *newsletter,
		    long max, int64_t **ids);

/*
 * Checks that the newsletter's templates (and subject) compile; appends
 * file:line:col diagnostics to d.  Returns 0 when all compile.
 */
int		 render_check_templates(const struct config *,
		    const struct newsletter_conf *, struct diags *d);

#endif
