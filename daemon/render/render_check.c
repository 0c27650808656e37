/*
 * render_check: `herald config check` compiles every template a newsletter
 * uses (text, HTML, their partials, the subject) and reports each error as
 * file:line:col.
 */
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "xmalloc.h"

static void
diag_add(struct diags *d, const char *file, int line, int col, const char *msg)
{
	struct diag *g;

	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	g = &d->v[d->n++];
	memset(g, 0, sizeof(*g));
	g->file = xstrdup(file);
	g->line = line;
	g->col = col;
	g->msg = xstrdup(msg);
	d->nerrors++;
}

/*
 * Splits "file:line:col: message" (the engine's form) into a diagnostic;
 * the file may itself hold colons, so the last ":N:N: " decides.
 */
static void
diag_from(struct diags *d, const char *err, const char *fallback_file,
    const char *what)
{
	char *msg;

	for (const char *p = err; (p = strchr(p, ':')) != NULL; p++) {
		char *e1, *e2, *file;
		long line = strtol(p + 1, &e1, 10), col;

		if (e1 == p + 1 || *e1 != ':')
			continue;
		col = strtol(e1 + 1, &e2, 10);
		if (e2 == e1 + 1 || strncmp(e2, ": ", 2) != 0)
			continue;
		file = xstrndup(err, (size_t)(p - err));
		msg = xasprintf("%s%s", what, e2 + 2);
		diag_add(d, file, (int)line, (int)col, msg);
		free(file);
		free(msg);
		return;
	}
	msg = xasprintf("%s%s", what, err);
	diag_add(d, fallback_file, 0, 0, msg);
	free(msg);
}

int
render_check_templates(const struct config *cfg,
    const struct newsletter_conf *nl, struct diags *d)
{
	const char *cfile = cfg && cfg->path ? cfg->path : "config";
	char *what = xasprintf("newsletter '%s': ", nl->id);
	int rc = 0;

	for (int part = 0; part < 3; part++) {
		char *err = NULL;

		if (digest_check_part(nl, part, &err) == 0)
			continue;
		rc = -1;
		if (part == 2) {
			/* the subject lives in the config; its position is inside the value */
			char *m = xasprintf("%ssubject: %s", what, err);

			diag_add(d, cfile, 0, 0, m);
			free(m);
		} else {
			diag_from(d, err ? err : "template error", cfile, what);
		}
		free(err);
	}
	if (rc == 0)
		digest_check_names(nl, cfile, d);
	free(what);
	return rc;
}
