#include <string.h>

#include "templates_builtin.h"
#include "templates_lookup.h"

const struct builtin_template *
templates_builtin(const char *name)
{
	const struct builtin_template *t;

	for (t = herald_builtin_templates; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}
