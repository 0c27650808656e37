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

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "store.h"
#include "store_digest.h"

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
 * Same as digest_new() from rows already loaded (tests, benchmarks,
 * previews of data not in the store).  The rows are copied.
 */
struct digest	*digest_new_rows(const struct config *, const struct newsletter_conf *,
		    const struct store_article *rows, size_t nrows,
		    long number, time_t date, char **err);

/*
 * Compiles one part of the newsletter's templates: 0 text, 1 HTML (each
 * with its partials), 2 the subject.  0, or -1 with *err (caller frees)
 * "file:line:col: message" (the subject: "line:col: message").
 */
/*
 * Warnings for names a newsletter's templates (text, HTML, subject) use
 * that herald never sets, such as {{subscriber.nmae}}, each with the
 * closest name herald does set ("did you mean subscriber.name?"), added to
 * d as "file:line:col: warning: ...".  Templates that do not compile are
 * left to digest_check_part().  Returns the number of warnings.
 */
int		 digest_check_names(const struct newsletter_conf *,
		    const char *cfile, struct diags *d);
int		 digest_check_part(const struct newsletter_conf *, int part,
		    char **err);

/* Dates as templates show them: "24 November 2026" in time zone tz. */
void		 render_date(time_t t, const char *tz, char *out, size_t outlen);

/*
 * Checks that the newsletter's templates (and subject) compile; appends
 * file:line:col diagnostics to d.  Returns 0 when all compile.
 */
int		 render_check_templates(const struct config *,
		    const struct newsletter_conf *, struct diags *d);

#endif
