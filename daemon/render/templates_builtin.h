/*
 * The shipped templates (every templates/NAME.mustache), compiled into the binary by
 * templates/embed.cmake.
 */
#ifndef HERALD_TEMPLATES_BUILTIN_H
#define HERALD_TEMPLATES_BUILTIN_H

#include <stddef.h>

struct builtin_template {
	const char	*name;		/* file name, e.g. "digest.html.mustache" */
	const char	*data;		/* NUL-terminated */
	size_t		 len;
};

/* Terminated by an entry whose name is NULL. */
extern const struct builtin_template herald_builtin_templates[];

#endif
