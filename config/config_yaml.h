/*
 * config_yaml: what the configuration loader's files share (internal to
 * config/; the API is config.h).
 *
 *   config_diag.c   the diagnostics list (diags_*): file:line:col messages,
 *                   sorted into file order
 *   config_yaml.c   YAML access: the load context, messages at a node,
 *                   typed values (string, path, number, bool, duration),
 *                   a mapping's keys checked against a section's names,
 *                   and the checks made on the text before and after
 *                   libyaml reads it (nesting depth, indentation, bad bytes)
 *   config_keys.c   the sections: one table of keys per section (name,
 *                   type, default, validator), the defaults, the loaders
 *   config.c        loading a file, the default path, secrets
 */
#ifndef HERALD_CONFIG_YAML_H
#define HERALD_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "config.h"

#define CONFIG_MAX_SIZE	(1024 * 1024)	/* a config file is small */
#define QUOTE_MAX	60		/* how much of a bad value to echo */
#define CONFIG_MAX_DEPTH 64		/* nested mappings and lists */

/* The load of one document. */
struct ctx {
	const char	*file;		/* as named in messages */
	const char	*dir;		/* absolute directory of the file */
	yaml_document_t	*doc;
	struct diags	*d;
	size_t		 first;		/* index of our first diag in d */
	unsigned char	*visited;	/* per node, to refuse alias reuse */
	size_t		 nnodes;
};

/* Messages at a node (NULL: no position), into c->d. */
void		 cfg_err(struct ctx *, const yaml_node_t *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 cfg_warn(struct ctx *, const yaml_node_t *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/* A short printable rendering of a user value, quoted, into out. */
const char	*cfg_quote(const char *s, char out[QUOTE_MAX + 8]);
/* "a mapping", "a list" or "a value", for messages. */
const char	*cfg_kind(const yaml_node_t *);
yaml_node_t	*cfg_node(struct ctx *, int id);
/* An absent value: no node, or a plain "", "~" or "null". */
bool		 cfg_is_null(const yaml_node_t *);
/* Marks a mapping or list walked; false (with an error) when an alias
   walks it a second time. */
bool		 cfg_visit(struct ctx *, yaml_node_t *, const char *path);
/* The name closest to key (edit distance), or NULL when none is close. */
const char	*cfg_closest(const char *key, const char *const *names,
		    size_t n);
/*
 * Checks map (a mapping at path) against names[0..n): fills vals[i] with
 * the value node of names[i] (NULL when absent) and keys[i] with its key
 * node.  Reports unknown keys (with the closest name, or the section a
 * key belongs to: cfg_key_home()), duplicates and inline passwords.
 * Returns false when map is not a mapping.
 */
bool		 cfg_map_keys(struct ctx *, yaml_node_t *map, const char *path,
		    const char *const *names, size_t n, yaml_node_t **vals,
		    yaml_node_t **keys);
/* Where a key is known, as "smtp" or "a newsletter (under newsletters:)";
   NULL when no section or several have it (config_keys.c). */
const char	*cfg_key_home(const char *key);
/* "path.key" into out (truncated if it must be: only used in messages). */
void		 cfg_keypath(char *out, size_t n, const char *path,
		    const char *key);
/* The typed values; each reports its own error at v and returns false. */
const char	*cfg_scalar(struct ctx *, yaml_node_t *v, const char *path,
		    const char *expect);
bool		 cfg_string(struct ctx *, yaml_node_t *v, const char *path,
		    char **out);
bool		 cfg_long(struct ctx *, yaml_node_t *v, const char *path,
		    long min, long max, long *out);
bool		 cfg_double(struct ctx *, yaml_node_t *v, const char *path,
		    double min, double max, double *out);
bool		 cfg_bool(struct ctx *, yaml_node_t *v, const char *path,
		    bool *out);
bool		 cfg_duration(struct ctx *, yaml_node_t *v, const char *path,
		    long min, long *out);
bool		 cfg_path(struct ctx *, yaml_node_t *v, const char *path,
		    char **out);
/* p against dir, cleaned lexically (new string). */
char		*cfg_resolve_path(const char *dir, const char *p);
bool		 cfg_env_name_valid(const char *s);
/* A section's password_env / password_file pair. */
void		 cfg_secret_ref(struct ctx *, const char *path,
		    yaml_node_t *envv, yaml_node_t *filev, char **env,
		    char **file);
/* dir made absolute against the working directory (new string). */
char		*cfg_absolute_dir(const char *dir);

/* Before and after libyaml: see config_yaml.c. */
int		 cfg_flow_depth_check(const char *s, size_t len, size_t *line,
		    size_t *col);
yaml_node_t	*cfg_tree_depth_check(yaml_document_t *doc);
char		*cfg_indent_hint(const char *data, size_t len,
		    size_t bad_line);
void		 cfg_reader_error(struct diags *d, const char *name,
		    const char *data, size_t len, const yaml_parser_t *parser);

/* Stable sort of d->v[from..] into file order (config_diag.c). */
void		 cfg_diags_sort(struct diags *d, size_t from);

/* The sections (config_keys.c). */
struct config	*cfg_new(const char *dir);
void		 cfg_load_root(struct ctx *, struct config *, yaml_node_t *root);

#endif
