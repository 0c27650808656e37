/*
 * config_diag: the list of problems a load finds, each as file:line:col.
 * See config.h (diags_*) and config_yaml.h.
 */
#include "config_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "email.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* ---- diagnostics ---- */

void
diags_add(struct diags *d, const char *file, int line, int col, bool warning,
    const char *fmt, ...)
{
	struct diag *g;
	va_list ap;
	struct buf b = BUF_INIT;

	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	g = &d->v[d->n++];
	g->file = xstrdup(file ? file : "");
	g->line = line;
	g->col = col;
	g->warning = warning;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	g->msg = buf_take(&b);
	if (!warning)
		d->nerrors++;
}

void
diags_free(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->nerrors = 0;
}

void
diags_print(const struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		if (g->warning && log_verbosity() < 0)
			continue;	/* -q: errors only */
		if (g->line > 0)
			fprintf(stderr, "%s:%d:%d: %s%s\n", g->file, g->line,
			    g->col, g->warning ? "warning: " : "", g->msg);
		else
			fprintf(stderr, "%s: %s%s\n", g->file,
			    g->warning ? "warning: " : "", g->msg);
	}
}

static int
diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

/* Stable sort of d->v[from..] by position (insertion: lists are short). */
void
cfg_diags_sort(struct diags *d, size_t from)
{
	size_t i, j;

	for (i = from + 1; i < d->n; i++) {
		struct diag t = d->v[i];

		for (j = i; j > from && diag_cmp(&d->v[j - 1], &t) > 0; j--)
			d->v[j] = d->v[j - 1];
		d->v[j] = t;
	}
}

