#ifndef HERALD_TEMPLATES_LOOKUP_H
#define HERALD_TEMPLATES_LOOKUP_H

#include "templates_builtin.h"

/* The shipped template called name ("digest.txt.mustache"), or NULL. */
const struct builtin_template *templates_builtin(const char *name);

#endif
