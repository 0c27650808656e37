/* Placeholder until the loader lands: every load fails. */
#include "config.h"

#include <stdlib.h>

#include "xmalloc.h"

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
	(void)d;
}

struct config *
config_load(const char *path, struct diags *d)
{
	(void)path;
	(void)d;
	return NULL;
}

void
config_free(struct config *c)
{
	(void)c;
}

const char *
config_default_path(const char *p)
{
	return p ? p : "herald.yml";
}

const struct newsletter_conf *
config_newsletter(const struct config *c, const char *id, const char **why)
{
	(void)c;
	(void)id;
	*why = "no config";
	return NULL;
}
