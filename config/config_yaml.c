/*
 * config_yaml: YAML access for the configuration loader.  See
 * config_yaml.h.
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

/* ---- the load context ---- */



static void __attribute__((format(printf, 4, 0)))
vdiag(struct ctx *c, const yaml_node_t *n, bool warning, const char *fmt,
    va_list ap)
{
	struct buf b = BUF_INIT;
	char *msg;

	buf_vprintf(&b, fmt, ap);
	msg = buf_take(&b);
	diags_add(c->d, c->file, n ? (int)n->start_mark.line + 1 : 0,
	    n ? (int)n->start_mark.column + 1 : 0, warning, "%s", msg);
	free(msg);
}

void
cfg_err(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(c, n, false, fmt, ap);
	va_end(ap);
}

void
cfg_warn(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(c, n, true, fmt, ap);
	va_end(ap);
}

/* A short printable rendering of a user value for messages. */
const char *
cfg_quote(const char *s, char out[QUOTE_MAX + 8])
{
	size_t i, o = 0;

	out[o++] = '\'';
	for (i = 0; s[i] && o < QUOTE_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (s[i]) {
		/* do not cut a UTF-8 sequence in half */
		while (o > 1 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 1 && (unsigned char)out[o - 1] >= 0xc0)
			o--;
		out[o++] = '.';
		out[o++] = '.';
		out[o++] = '.';
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

const char *
cfg_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a value";
	}
}

yaml_node_t *
cfg_node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

bool
cfg_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n == NULL)
		return true;
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/*
 * Marks a collection node as walked; a second walk means an alias reuses
 * it, which the schema has no use for (and which could multiply work).
 */
bool
cfg_visit(struct ctx *c, yaml_node_t *n, const char *path)
{
	size_t i = (size_t)(n - c->doc->nodes.start);

	if (i >= c->nnodes)
		return false;
	if (c->visited[i]) {
		cfg_err(c, n, "%s: the same mapping or list is used twice "
		    "(YAML aliases of mappings and lists are not supported)",
		    path);
		return false;
	}
	c->visited[i] = 1;
	return true;
}

/* ---- unknown keys: closest known key by edit distance ---- */

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65];

	if (la > 64 || lb > 64)
		return 64;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best;

			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *
cfg_closest(const char *key, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t i, bestd = SIZE_MAX, limit;

	limit = strlen(key) <= 4 ? 1 : strlen(key) / 3 + 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; i < n; i++) {
		size_t dd = edit_distance(key, names[i]);

		if (dd < bestd) {
			bestd = dd;
			best = names[i];
		}
	}
	return bestd <= limit ? best : NULL;
}

/*
 * Checks map (a mapping at path) against names[0..n): fills vals[i] with
 * the value node of names[i] (NULL when absent) and keys[i] with its key
 * node.  Reports unknown and duplicate keys and inline passwords.
 * Returns false when map is not a mapping.
 */
bool
cfg_map_keys(struct ctx *c, yaml_node_t *map, const char *path,
    const char *const *names, size_t n, yaml_node_t **vals,
    yaml_node_t **keys)
{
	yaml_node_pair_t *p;
	size_t i;
	char q[QUOTE_MAX + 8];

	for (i = 0; i < n; i++)
		vals[i] = keys[i] = NULL;
	if (map->type != YAML_MAPPING_NODE) {
		cfg_err(c, map, "%s: expected a mapping (key: value lines), "
		    "got %s", path, cfg_kind(map));
		return false;
	}
	if (!cfg_visit(c, map, path))
		return false;
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = cfg_node(c, p->key), *v = cfg_node(c, p->value);
		const char *name, *hint;
		size_t j;

		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			cfg_err(c, k, "%s: expected a key name, got %s", path,
			    cfg_kind(k));
			continue;
		}
		name = (const char *)k->data.scalar.value;
		if (strcmp(name, "password") == 0 ||
		    strcmp(name, "passwd") == 0 ||
		    strcmp(name, "pass") == 0) {
			cfg_err(c, k, "%s.%s: a password may not be written in "
			    "the configuration; use password_env (the name of "
			    "an environment variable holding it) or "
			    "password_file (a file holding it)", path, name);
			continue;
		}
		for (j = 0; j < n; j++)
			if (strcmp(name, names[j]) == 0)
				break;
		if (j == n) {
			hint = cfg_closest(name, names, n);
			if (hint) {
				cfg_err(c, k, "%s: unknown key %s (did you mean "
				    "'%s'?)", path, cfg_quote(name, q), hint);
				continue;
			}
			if ((hint = cfg_key_home(name)) != NULL)
				cfg_err(c, k, "%s: unknown key %s (it belongs "
				    "in %s)", path, cfg_quote(name, q), hint);
			else
				cfg_err(c, k, "%s: unknown key %s", path,
				    cfg_quote(name, q));
			continue;
		}
		if (keys[j] != NULL) {
			cfg_err(c, k, "%s: duplicate key '%s' (first given at "
			    "line %zu)", path, names[j],
			    keys[j]->start_mark.line + 1);
			continue;
		}
		keys[j] = k;
		vals[j] = v;
	}
	return true;
}

/* ---- typed values ---- */

/* "path.key" into out (truncated if it must be: only used in messages). */
__attribute__((noinline)) void
cfg_keypath(char *out, size_t n, const char *path, const char *key)
{
	snprintf(out, n, "%s.%s", path, key);
}


/* The scalar text of v, or NULL (with an error) when v is not a scalar. */
const char *
cfg_scalar(struct ctx *c, yaml_node_t *v, const char *path, const char *expect)
{
	if (v->type != YAML_SCALAR_NODE) {
		cfg_err(c, v, "%s: expected %s, got %s", path, expect,
		    cfg_kind(v));
		return NULL;
	}
	return (const char *)v->data.scalar.value;
}

/* A one-line UTF-8 string without control characters. */
bool
cfg_string(struct ctx *c, yaml_node_t *v, const char *path, char **out)
{
	const char *s;
	size_t i;

	if ((s = cfg_scalar(c, v, path, "a string")) == NULL)
		return false;
	if (*s == '\0') {
		cfg_err(c, v, "%s: expected a non-empty string", path);
		return false;
	}
	if (!utf8_valid(s, v->data.scalar.length) ||
	    strlen(s) != v->data.scalar.length) {
		cfg_err(c, v, "%s: not valid UTF-8 text", path);
		return false;
	}
	for (i = 0; s[i]; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			cfg_err(c, v, "%s: expected one line of text without "
			    "control characters", path);
			return false;
		}
	}
	free(*out);
	*out = xstrdup(s);
	return true;
}

bool
cfg_long(struct ctx *c, yaml_node_t *v, const char *path, long min, long max,
    long *out)
{
	const char *s;
	char q[QUOTE_MAX + 8];

	if ((s = cfg_scalar(c, v, path, "a whole number")) == NULL)
		return false;
	if (parse_long(s, min, max, out) == -1) {
		cfg_err(c, v, "%s: expected a whole number from %ld to %ld, "
		    "got %s", path, min, max, cfg_quote(s, q));
		return false;
	}
	return true;
}

bool
cfg_double(struct ctx *c, yaml_node_t *v, const char *path, double min,
    double max, double *out)
{
	const char *s;
	char *end, q[QUOTE_MAX + 8];
	double x;

	if ((s = cfg_scalar(c, v, path, "a number")) == NULL)
		return false;
	errno = 0;
	x = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno || !(x >= min && x <= max) ||
	    strpbrk(s, "xXnN") != NULL) {
		cfg_err(c, v, "%s: expected a number from %.15g to %.15g, got %s",
		    path, min, max, cfg_quote(s, q));
		return false;
	}
	*out = x;
	return true;
}

bool
cfg_bool(struct ctx *c, yaml_node_t *v, const char *path, bool *out)
{
	static const char *yes[] = { "true", "True", "TRUE", "yes", "Yes",
	    "YES", "on", "On", "ON" };
	static const char *no[] = { "false", "False", "FALSE", "no", "No",
	    "NO", "off", "Off", "OFF" };
	const char *s;
	char q[QUOTE_MAX + 8];
	size_t i;

	if ((s = cfg_scalar(c, v, path, "true or false")) == NULL)
		return false;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	cfg_err(c, v, "%s: expected true or false, got %s", path, cfg_quote(s, q));
	return false;
}

bool
cfg_duration(struct ctx *c, yaml_node_t *v, const char *path, long min,
    long *out)
{
	const char *s;
	char q[QUOTE_MAX + 8], m[32];
	long x;

	if ((s = cfg_scalar(c, v, path, "a duration")) == NULL)
		return false;
	if ((x = duration_parse(s)) == -1) {
		cfg_err(c, v, "%s: expected a duration such as 30s, 15m, 6h or "
		    "1d, got %s", path, cfg_quote(s, q));
		return false;
	}
	if (x < min) {
		duration_format(min, m, sizeof(m));
		cfg_err(c, v, "%s: %s is too short (at least %s)", path,
		    cfg_quote(s, q), m);
		return false;
	}
	*out = x;
	return true;
}

/*
 * Cleans an absolute path in place, lexically: no "//", "." or trailing
 * "/", and "x/.." removed.  A folder is the identity of its source in the
 * database, so "articles", "./articles/" and "/srv/x/../x/articles" must
 * name it the same way (else an edit re-collects every file).
 */
static void
path_clean(char *p)
{
	char *r = p, *w = p;

	while (*r) {
		char *seg;
		size_t n;

		while (*r == '/')
			r++;
		seg = r;
		while (*r && *r != '/')
			r++;
		n = (size_t)(r - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (w > p && *--w != '/')
				;
			continue;
		}
		*w++ = '/';
		memmove(w, seg, n);
		w += n;
	}
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

char *
cfg_resolve_path(const char *dir, const char *p)
{
	char *out;

	if (p[0] == '/')
		out = xstrdup(p);
	else if (strcmp(dir, "/") == 0)
		out = xasprintf("/%s", p);
	else
		out = xasprintf("%s/%s", dir, p);
	if (out[0] == '/')
		path_clean(out);
	return out;
}

bool
cfg_path(struct ctx *c, yaml_node_t *v, const char *path, char **out)
{
	char *s = NULL;

	if (!cfg_string(c, v, path, &s))
		return false;
	free(*out);
	/* database: a PostgreSQL URI (issue 14) is kept as written. */
	if (strcmp(path, "database") == 0 &&
	    (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0)) {
		*out = s;
		return true;
	}
	*out = cfg_resolve_path(c->dir, s);
	free(s);
	return true;
}

bool
cfg_env_name_valid(const char *s)
{
	size_t i;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	    s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return i <= 128;
}

/* password_env / password_file pair of a section. */
void
cfg_secret_ref(struct ctx *c, const char *path, yaml_node_t *envv,
    yaml_node_t *filev, char **env, char **file)
{
	char sub[128];

	if (envv && !cfg_is_null(envv)) {
		cfg_keypath(sub, sizeof(sub), path, "password_env");
		if (cfg_string(c, envv, sub, env) && !cfg_env_name_valid(*env)) {
			cfg_err(c, envv, "%s: expected the name of an "
			    "environment variable (letters, digits and _), "
			    "not the password itself", sub);
			free(*env);
			*env = NULL;
		}
	}
	if (filev && !cfg_is_null(filev)) {
		cfg_keypath(sub, sizeof(sub), path, "password_file");
		cfg_path(c, filev, sub, file);
	}
	if (*env && *file)
		cfg_err(c, filev, "%s: give password_env or password_file, "
		    "not both", path);
}

char *
cfg_absolute_dir(const char *dir)
{
	char cwd[PATH_MAX];

	if (dir == NULL || *dir == '\0')
		dir = ".";
	if (dir[0] == '/')
		return xstrdup(dir);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(dir);
	if (strcmp(dir, ".") == 0)
		return xstrdup(cwd);
	if (dir[0] == '.' && dir[1] == '/')
		dir += 2;
	return xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, dir);
}

/*
 * A libyaml reader error (bad UTF-8, a control character) as file:line:col.
 * libyaml gives a byte offset only, and past the start of a bad sequence:
 * find that start, then its line and column.
 */
void
cfg_reader_error(struct diags *d, const char *name, const char *data, size_t len,
    const yaml_parser_t *parser)
{
	size_t i, line = 1, col = 1, end = 0, k;
	bool utf8;

	while (end < len) {
		unsigned char ch = (unsigned char)data[end];

		k = ch < 0x80 ? 1 : ch >= 0xc2 && ch <= 0xdf ? 2 :
		    ch >= 0xe0 && ch <= 0xef ? 3 : ch >= 0xf0 && ch <= 0xf4 ?
		    4 : 0;
		if (k == 0 || k > len - end || !utf8_valid(data + end, k))
			break;
		end += k;
	}
	if ((utf8 = end == len))	/* then a control character */
		end = parser->problem_offset;
	for (i = 0; i < end && i < len; i++) {
		if (data[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)data[i] & 0xc0) != 0x80)
			col++;
	}
	if (utf8)
		diags_add(d, name, (int)line, (int)col, false, "%s (remove it)",
		    parser->problem ? parser->problem :
		    "a character YAML refuses");
	else
		diags_add(d, name, (int)line, (int)col, false, "not valid UTF-8 "
		    "(%s); save the file as UTF-8", parser->problem ?
		    parser->problem : "bad byte");
}

/*
 * Flow collections nested deeper than CONFIG_MAX_DEPTH, found before libyaml
 * sees the text: its scanner keeps a possible simple key per open flow
 * level and walks them all for every token, so "[" x 400,000 takes minutes.
 * A lexical pass is enough: it skips comments and quoted scalars, and counts
 * [ and { where a node may start (at flow level 0 only after ": ", "- ",
 * "? " or at the start of a line, since inside a plain scalar they are
 * text).  Returns the 1-based line and column of the first bracket too deep
 * through *line, *col, and -1; 0 when the text is within the limit.
 */
int
cfg_flow_depth_check(const char *s, size_t len, size_t *line, size_t *col)
{
	size_t i, depth = 0, ln = 1, linestart = 0;
	bool node_start = true;		/* a node may start here */

	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '\n') {
			ln++;
			linestart = i + 1;
			node_start = true;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r')
			continue;
		if (ch == '#' && (i == linestart || s[i - 1] == ' ' ||
		    s[i - 1] == '\t')) {
			while (i + 1 < len && s[i + 1] != '\n')
				i++;
			continue;
		}
		if ((ch == '\'' || ch == '"') && node_start) {
			/* a quoted scalar: '' and \" do not end it */
			for (i++; i < len; i++) {
				if (s[i] == '\n') {
					ln++;
					linestart = i + 1;
				} else if (ch == '"' && s[i] == '\\')
					i++;
				else if (s[i] == ch) {
					if (ch == '\'' && i + 1 < len &&
					    s[i + 1] == '\'')
						i++;
					else
						break;
				}
			}
			node_start = false;
			continue;
		}
		if ((ch == '[' || ch == '{') && (depth > 0 || node_start)) {
			if (++depth > CONFIG_MAX_DEPTH) {
				*line = ln;
				*col = i - linestart + 1;
				return -1;
			}
			node_start = true;
			continue;
		}
		if ((ch == ']' || ch == '}') && depth > 0) {
			depth--;
			node_start = false;
			continue;
		}
		if (ch == ',' && depth > 0) {
			node_start = true;
			continue;
		}
		if ((ch == ':' || ch == '-' || ch == '?') &&
		    (i + 1 == len || s[i + 1] == ' ' || s[i + 1] == '\n' ||
		    s[i + 1] == '\r' || s[i + 1] == '\t' ||
		    (depth > 0 && (s[i + 1] == ',' || s[i + 1] == ']' ||
		    s[i + 1] == '}')))) {
			node_start = true;
			continue;
		}
		node_start = false;
	}
	return 0;
}

/*
 * Nesting deeper than CONFIG_MAX_DEPTH in the loaded document (block
 * mappings and lists, which the scanner handles in linear time but which
 * herald's schema never needs).  libyaml appends a collection before its
 * children, so a child's index is above its parent's; alias edges (to
 * earlier nodes) are left out.  Returns the first node too deep, or NULL.
 */
yaml_node_t *
cfg_tree_depth_check(yaml_document_t *doc)
{
	size_t n = (size_t)(doc->nodes.top - doc->nodes.start), i;
	unsigned short *depth;
	yaml_node_t *bad = NULL;

	if (n == 0)
		return NULL;
	depth = xcalloc(n, sizeof(*depth));
	depth[0] = 1;
	for (i = 0; i < n && bad == NULL; i++) {
		yaml_node_t *p = doc->nodes.start + i;
		yaml_node_item_t *it;
		yaml_node_pair_t *pr;

		if (depth[i] == 0)
			continue;	/* not reached from the root */
#define CHILD(id) do {							\
			size_t j_ = (size_t)(id) - 1;				\
			if (j_ > i && j_ < n && depth[j_] < depth[i] + 1)	\
				depth[j_] = (unsigned short)(depth[i] + 1);	\
			if (j_ > i && j_ < n && depth[j_] > CONFIG_MAX_DEPTH &&	\
			    doc->nodes.start[j_].type != YAML_SCALAR_NODE &&	\
			    bad == NULL)					\
				bad = doc->nodes.start + j_;			\
		} while (0)
		if (p->type == YAML_SEQUENCE_NODE)
			for (it = p->data.sequence.items.start;
			    it < p->data.sequence.items.top; it++)
				CHILD(*it);
		else if (p->type == YAML_MAPPING_NODE)
			for (pr = p->data.mapping.pairs.start;
			    pr < p->data.mapping.pairs.top; pr++) {
				CHILD(pr->key);
				CHILD(pr->value);
			}
#undef CHILD
	}
	free(depth);
	return bad;
}

/*
 * Indentation: libyaml says "did not find expected key" or "mapping values
 * are not allowed in this context" at a line whose key starts in the wrong
 * column.  This replays the indentation of the lines above it (a stack of
 * open blocks, as YAML has it) and, when the line matches none, says which
 * key's block is misaligned and which columns would be right.  Returns a
 * new message, or NULL when the line's indentation is not the problem.
 */
#define INDENT_MAX_LEVELS 64

struct indent_level {
	size_t		 col;		/* 0-based column of the key */
	size_t		 line;		/* 1-based line that opened it */
	bool		 dash;		/* the "- " of a list item */
	char		 key[40];
};

/* The key of a line ("url" of "  url: x", "id" of "- id: a"), or "". */
static void
line_key(const char *p, const char *end, char *out, size_t outlen)
{
	size_t n = 0;

	while (p < end && (*p == ' ' || *p == '-'))
		p++;
	while (p + n < end && p[n] != ':' && p[n] != ' ' && p[n] != '#' &&
	    n + 1 < outlen)
		n++;
	if (p + n < end && p[n] == ':') {
		memcpy(out, p, n);
		out[n] = '\0';
	} else
		out[0] = '\0';
}

char *
cfg_indent_hint(const char *data, size_t len, size_t bad_line)
{
	struct indent_level st[INDENT_MAX_LEVELS];
	size_t nst = 0, line = 0, i = 0, scalar_col = SIZE_MAX;
	bool opens = true;	/* the last key line opened a block */
	char key[40], prevkey[40] = "";
	size_t prevline = 0, prevcol = 0;

	while (i < len) {
		const char *p = data + i, *eol = memchr(p, '\n', len - i);
		const char *end = eol ? eol : data + len;
		size_t col = 0, kcol;
		const char *q;
		bool dash = false;

		line++;
		i = (size_t)(end - data) + 1;
		while (p + col < end && p[col] == ' ')
			col++;
		if (p + col == end || p[col] == '#' || p[col] == '\r')
			continue;		/* blank or a comment */
		if (scalar_col != SIZE_MAX) {	/* inside a | or > block */
			if (col > scalar_col)
				continue;
			scalar_col = SIZE_MAX;
		}
		kcol = col;
		if (p[col] == '-' && (p + col + 1 == end || p[col + 1] == ' ')) {
			dash = true;
			for (kcol = col + 1; p + kcol < end && p[kcol] == ' ';
			    kcol++)
				;
		}
		line_key(p + col, end, key, sizeof(key));
		if (line == bad_line) {
			size_t j, lo = SIZE_MAX, hi = SIZE_MAX;

			if (key[0] == '\0')
				return NULL;
			for (j = 0; j < nst; j++)
				if (st[j].col == col)
					return NULL;	/* a valid column */
			for (j = 0; j < nst; j++) {
				if (st[j].col < col)
					lo = j;
				else if (hi == SIZE_MAX)
					hi = j;
			}
			if (hi == SIZE_MAX) {
				/* deeper than every open block */
				if (opens || prevkey[0] == '\0')
					return NULL;
				return xasprintf("`%s:` is indented %zu "
				    "space%s, more than `%s:` on line %zu, "
				    "which has a value and so opens no block: "
				    "indent `%s:` %zu space%s, as `%s:` is, to "
				    "make it a key of the same mapping", key,
				    col, col == 1 ? "" : "s", prevkey, prevline,
				    key, prevcol, prevcol == 1 ? "" : "s",
				    prevkey);
			}
			if (lo == SIZE_MAX || st[lo].dash)
				return xasprintf("`%s:` is indented %zu "
				    "space%s, less than `%s:` on line %zu: "
				    "indent `%s:` %zu space%s, as `%s:` is, to "
				    "make it a key of the same mapping", key,
				    col, col == 1 ? "" : "s", st[hi].key,
				    st[hi].line, key, st[hi].col,
				    st[hi].col == 1 ? "" : "s", st[hi].key);
			return xasprintf("`%s:` is indented %zu space%s, which "
			    "matches no block above it: indent it %zu, as "
			    "`%s:` on line %zu is, to make it a key of the same "
			    "mapping, or %zu, as `%s:` on line %zu is, to end "
			    "that block", key, col, col == 1 ? "" : "s",
			    st[hi].col, st[hi].key, st[hi].line, st[lo].col,
			    st[lo].key, st[lo].line);
		}
		if (line > bad_line)
			break;
		while (nst > 0 && st[nst - 1].col > col)
			nst--;
		if ((nst == 0 || st[nst - 1].col < col) &&
		    nst < INDENT_MAX_LEVELS) {
			st[nst].col = col;
			st[nst].line = line;
			st[nst].dash = dash;
			memcpy(st[nst].key, key, sizeof(key));
			nst++;
		} else if (nst > 0) {
			st[nst - 1].line = line;
			st[nst - 1].dash = dash;
			memcpy(st[nst - 1].key, key, sizeof(key));
		}
		if (dash && kcol > col && nst < INDENT_MAX_LEVELS) {
			st[nst].col = kcol;
			st[nst].line = line;
			st[nst].dash = false;
			memcpy(st[nst].key, key, sizeof(key));
			nst++;
		}
		/* does the line open a block (key: and nothing after)? */
		q = memchr(p + kcol, ':', (size_t)(end - (p + kcol)));
		opens = key[0] == '\0' || q == NULL;
		if (q != NULL && key[0] != '\0') {
			for (q++; q < end && (*q == ' ' || *q == '\r'); q++)
				;
			opens = q == end || *q == '#';
			if (q < end && (*q == '|' || *q == '>'))
				scalar_col = kcol;
		}
		memcpy(prevkey, key, sizeof(key));
		prevline = line;
		prevcol = kcol;
	}
	return NULL;
}

