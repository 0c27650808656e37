/*
 * config: loads herald.yml (DESIGN §4) with libyaml's document API, which
 * keeps the position of every node, and validates every key.
 *
 * Each mapping is checked against its list of known keys first (unknown
 * keys get the closest known one suggested, duplicates are refused, an
 * inline password is refused without echoing it); then each known key is
 * converted and checked.  Problems are collected, not returned at the first
 * one, and sorted into file order at the end.
 */
#include "config.h"

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

#define CONFIG_MAX_SIZE	(1024 * 1024)	/* a config file is small */
#define QUOTE_MAX	60		/* how much of a bad value to echo */
#define CONFIG_MAX_DEPTH 64		/* nested mappings and lists */

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

/* ---- the load context ---- */

struct ctx {
	const char	*file;		/* as named in messages */
	const char	*dir;		/* absolute directory of the file */
	yaml_document_t	*doc;
	struct diags	*d;
	size_t		 first;		/* index of our first diag in d */
	unsigned char	*visited;	/* per node, to refuse alias reuse */
	size_t		 nnodes;
};

static void err_at(struct ctx *, const yaml_node_t *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void warn_at(struct ctx *, const yaml_node_t *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

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

static void
err_at(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(c, n, false, fmt, ap);
	va_end(ap);
}

static void
warn_at(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(c, n, true, fmt, ap);
	va_end(ap);
}

/* A short printable rendering of a user value for messages. */
static const char *
quote(const char *s, char out[QUOTE_MAX + 8])
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

static const char *
node_kind(const yaml_node_t *n)
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

static yaml_node_t *
node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static bool
is_null(const yaml_node_t *n)
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
static bool
visit(struct ctx *c, yaml_node_t *n, const char *path)
{
	size_t i = (size_t)(n - c->doc->nodes.start);

	if (i >= c->nnodes)
		return false;
	if (c->visited[i]) {
		err_at(c, n, "%s: the same mapping or list is used twice "
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

static const char *
closest(const char *key, const char *const *names, size_t n)
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

/* Where known keys live, to say "belongs under smtp:". */
static const struct {
	const char *key, *section;
} key_homes[] = {
	{ "url", "smtp" }, { "starttls", "smtp" }, { "username", "smtp" },
	{ "connections", "smtp" }, { "rate", "smtp" }, { "timeout", "smtp" },
	{ "max_attempts", "smtp" }, { "listen", "web" }, { "base_url", "web" },
	{ "signup", "web" }, { "confirm_expiry", "web" }, { "welcome", "web" },
	{ "mailbox", "bounces" }, { "soft_limit", "bounces" },
	{ "id", "a newsletter (under newsletters:)" },
	{ "title", "a newsletter (under newsletters:)" },
	{ "from", "a newsletter (under newsletters:)" },
	{ "schedule", "a newsletter (under newsletters:)" },
	{ "sources", "a newsletter (under newsletters:)" },
	{ "timezone", "a newsletter (under newsletters:)" },
	{ "subject", "a newsletter (under newsletters:)" },
	{ "feed", "a source (under sources:)" },
	{ "folder", "a source (under sources:)" },
};

/*
 * Checks map (a mapping at path) against names[0..n): fills vals[i] with
 * the value node of names[i] (NULL when absent) and keys[i] with its key
 * node.  Reports unknown and duplicate keys and inline passwords.
 * Returns false when map is not a mapping.
 */
static bool
map_keys(struct ctx *c, yaml_node_t *map, const char *path,
    const char *const *names, size_t n, yaml_node_t **vals,
    yaml_node_t **keys)
{
	yaml_node_pair_t *p;
	size_t i;
	char q[QUOTE_MAX + 8];

	for (i = 0; i < n; i++)
		vals[i] = keys[i] = NULL;
	if (map->type != YAML_MAPPING_NODE) {
		err_at(c, map, "%s: expected a mapping (key: value lines), "
		    "got %s", path, node_kind(map));
		return false;
	}
	if (!visit(c, map, path))
		return false;
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *name, *hint;
		size_t j;

		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			err_at(c, k, "%s: expected a key name, got %s", path,
			    node_kind(k));
			continue;
		}
		name = (const char *)k->data.scalar.value;
		if (strcmp(name, "password") == 0 ||
		    strcmp(name, "passwd") == 0 ||
		    strcmp(name, "pass") == 0) {
			err_at(c, k, "%s.%s: a password may not be written in "
			    "the configuration; use password_env (the name of "
			    "an environment variable holding it) or "
			    "password_file (a file holding it)", path, name);
			continue;
		}
		for (j = 0; j < n; j++)
			if (strcmp(name, names[j]) == 0)
				break;
		if (j == n) {
			hint = closest(name, names, n);
			if (hint) {
				err_at(c, k, "%s: unknown key %s (did you mean "
				    "'%s'?)", path, quote(name, q), hint);
				continue;
			}
			for (j = 0; j < sizeof(key_homes) /
			    sizeof(key_homes[0]); j++)
				if (strcmp(name, key_homes[j].key) == 0)
					break;
			if (j < sizeof(key_homes) / sizeof(key_homes[0]))
				err_at(c, k, "%s: unknown key %s (it belongs "
				    "in %s)", path, quote(name, q),
				    key_homes[j].section);
			else
				err_at(c, k, "%s: unknown key %s", path,
				    quote(name, q));
			continue;
		}
		if (keys[j] != NULL) {
			err_at(c, k, "%s: duplicate key '%s' (first given at "
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
static __attribute__((noinline)) void
keypath(char *out, size_t n, const char *path, const char *key)
{
	snprintf(out, n, "%s.%s", path, key);
}


/* The scalar text of v, or NULL (with an error) when v is not a scalar. */
static const char *
scalar(struct ctx *c, yaml_node_t *v, const char *path, const char *expect)
{
	if (v->type != YAML_SCALAR_NODE) {
		err_at(c, v, "%s: expected %s, got %s", path, expect,
		    node_kind(v));
		return NULL;
	}
	return (const char *)v->data.scalar.value;
}

/* A one-line UTF-8 string without control characters. */
static bool
get_string(struct ctx *c, yaml_node_t *v, const char *path, char **out)
{
	const char *s;
	size_t i;

	if ((s = scalar(c, v, path, "a string")) == NULL)
		return false;
	if (*s == '\0') {
		err_at(c, v, "%s: expected a non-empty string", path);
		return false;
	}
	if (!utf8_valid(s, v->data.scalar.length) ||
	    strlen(s) != v->data.scalar.length) {
		err_at(c, v, "%s: not valid UTF-8 text", path);
		return false;
	}
	for (i = 0; s[i]; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			err_at(c, v, "%s: expected one line of text without "
			    "control characters", path);
			return false;
		}
	}
	free(*out);
	*out = xstrdup(s);
	return true;
}

static bool
get_long(struct ctx *c, yaml_node_t *v, const char *path, long min, long max,
    long *out)
{
	const char *s;
	char q[QUOTE_MAX + 8];

	if ((s = scalar(c, v, path, "a whole number")) == NULL)
		return false;
	if (parse_long(s, min, max, out) == -1) {
		err_at(c, v, "%s: expected a whole number from %ld to %ld, "
		    "got %s", path, min, max, quote(s, q));
		return false;
	}
	return true;
}

static bool
get_double(struct ctx *c, yaml_node_t *v, const char *path, double min,
    double max, double *out)
{
	const char *s;
	char *end, q[QUOTE_MAX + 8];
	double x;

	if ((s = scalar(c, v, path, "a number")) == NULL)
		return false;
	errno = 0;
	x = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno || !(x >= min && x <= max) ||
	    strpbrk(s, "xXnN") != NULL) {
		err_at(c, v, "%s: expected a number from %.15g to %.15g, got %s",
		    path, min, max, quote(s, q));
		return false;
	}
	*out = x;
	return true;
}

static bool
get_bool(struct ctx *c, yaml_node_t *v, const char *path, bool *out)
{
	static const char *yes[] = { "true", "True", "TRUE", "yes", "Yes",
	    "YES", "on", "On", "ON" };
	static const char *no[] = { "false", "False", "FALSE", "no", "No",
	    "NO", "off", "Off", "OFF" };
	const char *s;
	char q[QUOTE_MAX + 8];
	size_t i;

	if ((s = scalar(c, v, path, "true or false")) == NULL)
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
	err_at(c, v, "%s: expected true or false, got %s", path, quote(s, q));
	return false;
}

static bool
get_duration(struct ctx *c, yaml_node_t *v, const char *path, long min,
    long *out)
{
	const char *s;
	char q[QUOTE_MAX + 8], m[32];
	long x;

	if ((s = scalar(c, v, path, "a duration")) == NULL)
		return false;
	if ((x = duration_parse(s)) == -1) {
		err_at(c, v, "%s: expected a duration such as 30s, 15m, 6h or "
		    "1d, got %s", path, quote(s, q));
		return false;
	}
	if (x < min) {
		duration_format(min, m, sizeof(m));
		err_at(c, v, "%s: %s is too short (at least %s)", path,
		    quote(s, q), m);
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

static char *
resolve_path(const char *dir, const char *p)
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

static bool
get_path(struct ctx *c, yaml_node_t *v, const char *path, char **out)
{
	char *s = NULL;

	if (!get_string(c, v, path, &s))
		return false;
	free(*out);
	*out = resolve_path(c->dir, s);
	free(s);
	return true;
}

static bool
env_name_valid(const char *s)
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
static void
get_secret_ref(struct ctx *c, const char *path, yaml_node_t *envv,
    yaml_node_t *filev, char **env, char **file)
{
	char sub[128];

	if (envv && !is_null(envv)) {
		keypath(sub, sizeof(sub), path, "password_env");
		if (get_string(c, envv, sub, env) && !env_name_valid(*env)) {
			err_at(c, envv, "%s: expected the name of an "
			    "environment variable (letters, digits and _), "
			    "not the password itself", sub);
			free(*env);
			*env = NULL;
		}
	}
	if (filev && !is_null(filev)) {
		keypath(sub, sizeof(sub), path, "password_file");
		get_path(c, filev, sub, file);
	}
	if (*env && *file)
		err_at(c, filev, "%s: give password_env or password_file, "
		    "not both", path);
}

/* ---- URLs ---- */

struct url {
	char		 scheme[16];	/* lowercased */
	const char	*user;		/* userinfo, not NUL-terminated */
	size_t		 user_len;
	bool		 has_password;	/* userinfo holds a ':' */
	const char	*host;
	size_t		 host_len;
	long		 port;		/* -1 when absent */
	const char	*rest;		/* path, query, fragment */
};

static int
url_parse(const char *s, struct url *u, const char **why)
{
	const char *p = s, *auth, *end, *at, *h;
	size_t i = 0;

	memset(u, 0, sizeof(*u));
	u->port = -1;
	for (p = s; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			*why = "spaces and control characters are not allowed "
			    "in a URL";
			return -1;
		}
	}
	for (p = s; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9' && p > s) || *p == '+' || *p == '-' ||
	    *p == '.'; p++) {
		if (i + 1 >= sizeof(u->scheme))
			break;
		u->scheme[i++] = (char)(*p | 0x20);
	}
	u->scheme[i] = '\0';
	if (i == 0 || strncmp(p, "://", 3) != 0) {
		*why = "expected SCHEME://HOST";
		return -1;
	}
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	u->rest = end;
	at = NULL;
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	h = auth;
	if (at) {
		u->user = auth;
		u->user_len = (size_t)(at - auth);
		u->has_password = memchr(auth, ':', u->user_len) != NULL;
		h = at + 1;
	}
	if (*h == '[') {
		p = memchr(h, ']', (size_t)(end - h));
		if (p == NULL) {
			*why = "unclosed [ in the host";
			return -1;
		}
		u->host = h;
		u->host_len = (size_t)(p + 1 - h);
		p++;
	} else {
		for (p = h; p < end && *p != ':'; p++)
			;
		u->host = h;
		u->host_len = (size_t)(p - h);
		for (i = 0; i < u->host_len; i++) {
			unsigned char ch = (unsigned char)h[i];

			if (!(ch >= 0x80 || (ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' ||
			    ch == '.' || ch == '_')) {
				*why = "the host name has characters that are "
				    "not allowed";
				return -1;
			}
		}
	}
	if (p < end) {
		char port[8];
		size_t n = (size_t)(end - p - 1);

		if (*p != ':' || n == 0 || n >= sizeof(port)) {
			*why = "expected HOST:PORT with a port from 1 to 65535";
			return -1;
		}
		memcpy(port, p + 1, n);
		port[n] = '\0';
		if (parse_long(port, 1, 65535, &u->port) == -1) {
			*why = "expected HOST:PORT with a port from 1 to 65535";
			return -1;
		}
	}
	return 0;
}

/* ---- time zones ---- */

bool
config_tz_valid(const char *name)
{
	const char *dir, *p;
	char path[PATH_MAX], magic[4];
	struct stat sb;
	int fd;
	ssize_t n;

	if (name == NULL || *name == '\0' || name[0] == '/' ||
	    strstr(name, "..") != NULL || strlen(name) > 128)
		return false;
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' ||
		    *p == '-' || *p == '+'))
			return false;
	if (strcmp(name, "UTC") == 0)
		return true;
	dir = getenv("TZDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		/* zone names are often symlinks (e.g. US/Eastern) */
		if (errno != ELOOP ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			return false;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return false;
	}
	n = read(fd, magic, sizeof(magic));
	close(fd);
	return n == 4 && memcmp(magic, "TZif", 4) == 0;
}

/* ---- sections ---- */

static void
load_smtp(struct ctx *c, struct config *cfg, yaml_node_t *map)
{
	static const char *const names[] = { "url", "starttls", "username",
	    "password_env", "password_file", "connections", "rate",
	    "timeout", "max_attempts" };
	enum { K_URL, K_STARTTLS, K_USER, K_PENV, K_PFILE, K_CONN, K_RATE,
	    K_TIMEOUT, K_ATTEMPTS, K_N };
	yaml_node_t *v[K_N], *k[K_N];
	const char *s, *why;
	char q[QUOTE_MAX + 8];
	struct url u;

	if (!map_keys(c, map, "smtp", names, K_N, v, k))
		return;
	if (v[K_URL] && !is_null(v[K_URL]) &&
	    (s = scalar(c, v[K_URL], "smtp.url", "a URL"))) {
		if (url_parse(s, &u, &why) == -1)
			err_at(c, v[K_URL], "smtp.url: %s (smtp://HOST[:PORT] "
			    "or smtps://HOST[:PORT])", why);
		else if (strcmp(u.scheme, "smtp") != 0 &&
		    strcmp(u.scheme, "smtps") != 0)
			err_at(c, v[K_URL], "smtp.url: expected smtp:// or "
			    "smtps://, got %s://", u.scheme);
		else if (u.user)
			/* never echo it: it may hold a password */
			err_at(c, v[K_URL], "smtp.url: do not put a user name "
			    "or password in the URL; use smtp.username and "
			    "smtp.password_env or smtp.password_file");
		else if (u.host_len == 0)
			err_at(c, v[K_URL], "smtp.url: no host name (expected "
			    "smtp://HOST[:PORT])");
		else {
			free(cfg->smtp.url);
			cfg->smtp.url = xstrdup(s);
		}
	}
	if (v[K_STARTTLS] && !is_null(v[K_STARTTLS]) &&
	    (s = scalar(c, v[K_STARTTLS], "smtp.starttls", "auto, required "
	    "or off"))) {
		if (strcmp(s, "auto") == 0)
			cfg->smtp.starttls = STARTTLS_AUTO;
		else if (strcmp(s, "required") == 0)
			cfg->smtp.starttls = STARTTLS_REQUIRED;
		else if (strcmp(s, "off") == 0 || strcmp(s, "false") == 0 ||
		    strcmp(s, "no") == 0)
			cfg->smtp.starttls = STARTTLS_OFF;
		else
			err_at(c, v[K_STARTTLS], "smtp.starttls: expected auto, "
			    "required or off, got %s", quote(s, q));
	}
	if (v[K_USER] && !is_null(v[K_USER]))
		get_string(c, v[K_USER], "smtp.username", &cfg->smtp.username);
	get_secret_ref(c, "smtp", v[K_PENV], v[K_PFILE],
	    &cfg->smtp.password_env, &cfg->smtp.password_file);
	if (v[K_CONN] && !is_null(v[K_CONN]))
		get_long(c, v[K_CONN], "smtp.connections", 1, 64,
		    &cfg->smtp.connections);
	if (v[K_RATE] && !is_null(v[K_RATE]))
		get_double(c, v[K_RATE], "smtp.rate", 0, 1000000,
		    &cfg->smtp.rate);
	if (v[K_TIMEOUT] && !is_null(v[K_TIMEOUT]))
		get_long(c, v[K_TIMEOUT], "smtp.timeout", 1, 3600,
		    &cfg->smtp.timeout);
	if (v[K_ATTEMPTS] && !is_null(v[K_ATTEMPTS]))
		get_long(c, v[K_ATTEMPTS], "smtp.max_attempts", 1, 100,
		    &cfg->smtp.max_attempts);
}

static void
load_web(struct ctx *c, struct config *cfg, yaml_node_t *map)
{
	static const char *const names[] = { "listen", "base_url", "signup",
	    "confirm_expiry", "welcome", "templates" };
	enum { K_LISTEN, K_BASE, K_SIGNUP, K_EXPIRY, K_WELCOME, K_TEMPLATES,
	    K_N };
	yaml_node_t *v[K_N], *k[K_N];
	const char *s, *why;
	struct url u;

	if (!map_keys(c, map, "web", names, K_N, v, k))
		return;
	cfg->web.enabled = true;
	if (v[K_LISTEN] && !is_null(v[K_LISTEN]) &&
	    (s = scalar(c, v[K_LISTEN], "web.listen", "HOST:PORT"))) {
		char *tmp = xasprintf("http://%s", s);

		if (url_parse(tmp, &u, &why) == -1 || u.user ||
		    u.host_len == 0 || u.port == -1 || *u.rest != '\0')
			err_at(c, v[K_LISTEN], "web.listen: expected HOST:PORT "
			    "(such as 127.0.0.1:8080 or [::1]:8080)");
		else {
			free(cfg->web.listen);
			cfg->web.listen = xstrdup(s);
		}
		free(tmp);
	}
	if (v[K_BASE] == NULL || is_null(v[K_BASE]))
		err_at(c, map, "web: base_url is missing (the https:// address "
		    "that links in messages point at)");
	else if ((s = scalar(c, v[K_BASE], "web.base_url", "a URL"))) {
		if (url_parse(s, &u, &why) == -1)
			err_at(c, v[K_BASE], "web.base_url: %s", why);
		else if (strcmp(u.scheme, "https") != 0 &&
		    strcmp(u.scheme, "http") != 0)
			err_at(c, v[K_BASE], "web.base_url: expected https:// "
			    "(or http:// for testing), got %s://", u.scheme);
		else if (u.host_len == 0 || u.user)
			err_at(c, v[K_BASE], "web.base_url: expected "
			    "https://HOST[/PATH] without a user name");
		else if (strpbrk(u.rest, "?#") != NULL)
			err_at(c, v[K_BASE], "web.base_url: no query or "
			    "fragment allowed");
		else {
			if (strcmp(u.scheme, "http") == 0)
				warn_at(c, v[K_BASE], "web.base_url: http:// "
				    "links are not private or tamper-proof; "
				    "use https:// outside testing");
			free(cfg->web.base_url);
			cfg->web.base_url = xstrdup(s);
			/* links are built as base_url + "/path" */
			while (cfg->web.base_url[0] && cfg->web.base_url[
			    strlen(cfg->web.base_url) - 1] == '/' &&
			    strlen(cfg->web.base_url) > 8)
				cfg->web.base_url[strlen(cfg->web.base_url) -
				    1] = '\0';
		}
	}
	if (v[K_SIGNUP] && !is_null(v[K_SIGNUP]))
		get_bool(c, v[K_SIGNUP], "web.signup", &cfg->web.signup);
	if (v[K_EXPIRY] && !is_null(v[K_EXPIRY]))
		get_duration(c, v[K_EXPIRY], "web.confirm_expiry", 60,
		    &cfg->web.confirm_expiry);
	if (v[K_WELCOME] && !is_null(v[K_WELCOME]))
		get_bool(c, v[K_WELCOME], "web.welcome", &cfg->web.welcome);
	if (v[K_TEMPLATES] && !is_null(v[K_TEMPLATES]))
		get_path(c, v[K_TEMPLATES], "web.templates",
		    &cfg->web.templates);
}

static void
load_bounces(struct ctx *c, struct config *cfg, yaml_node_t *map)
{
	static const char *const names[] = { "mailbox", "password_env",
	    "password_file", "interval", "soft_limit" };
	enum { K_MAILBOX, K_PENV, K_PFILE, K_INTERVAL, K_SOFT, K_N };
	yaml_node_t *v[K_N], *k[K_N];
	const char *s, *why;
	struct url u;

	if (!map_keys(c, map, "bounces", names, K_N, v, k))
		return;
	cfg->bounces.enabled = true;
	if (v[K_MAILBOX] == NULL || is_null(v[K_MAILBOX]))
		err_at(c, map, "bounces: mailbox is missing (imaps://USER@HOST/"
		    "FOLDER, pop3s://USER@HOST or maildir:PATH)");
	else if ((s = scalar(c, v[K_MAILBOX], "bounces.mailbox",
	    "a mailbox URL"))) {
		if (strncmp(s, "maildir:", 8) == 0) {
			if (s[8] == '\0' || strpbrk(s, "\r\n") != NULL)
				err_at(c, v[K_MAILBOX], "bounces.mailbox: "
				    "expected maildir:PATH");
			else {
				char *p = resolve_path(c->dir,
				    s[8] == '/' && s[9] == '/' && s[10] == '/' ?
				    s + 10 : s + 8);

				free(cfg->bounces.mailbox);
				cfg->bounces.mailbox = xasprintf("maildir:%s",
				    p);
				free(p);
			}
		} else if (url_parse(s, &u, &why) == -1)
			err_at(c, v[K_MAILBOX], "bounces.mailbox: %s "
			    "(imaps://USER@HOST/FOLDER, pop3s://USER@HOST or "
			    "maildir:PATH)", why);
		else if (strcmp(u.scheme, "imap") != 0 &&
		    strcmp(u.scheme, "imaps") != 0 &&
		    strcmp(u.scheme, "pop3") != 0 &&
		    strcmp(u.scheme, "pop3s") != 0)
			err_at(c, v[K_MAILBOX], "bounces.mailbox: expected "
			    "imap://, imaps://, pop3://, pop3s:// or maildir:, "
			    "got %s://", u.scheme);
		else if (u.has_password)
			err_at(c, v[K_MAILBOX], "bounces.mailbox: do not put a "
			    "password in the URL; use bounces.password_env or "
			    "bounces.password_file");
		else if (u.host_len == 0)
			err_at(c, v[K_MAILBOX], "bounces.mailbox: no host name");
		else {
			free(cfg->bounces.mailbox);
			cfg->bounces.mailbox = xstrdup(s);
		}
	}
	get_secret_ref(c, "bounces", v[K_PENV], v[K_PFILE],
	    &cfg->bounces.password_env, &cfg->bounces.password_file);
	if (v[K_INTERVAL] && !is_null(v[K_INTERVAL]))
		get_duration(c, v[K_INTERVAL], "bounces.interval", 10,
		    &cfg->bounces.interval);
	if (v[K_SOFT] && !is_null(v[K_SOFT]))
		get_long(c, v[K_SOFT], "bounces.soft_limit", 1, 1000,
		    &cfg->bounces.soft_limit);
}

static void
load_source(struct ctx *c, struct newsletter_conf *nl, yaml_node_t *map,
    const char *path)
{
	static const char *const names[] = { "feed", "folder", "interval" };
	enum { K_FEED, K_FOLDER, K_INTERVAL, K_N };
	yaml_node_t *v[K_N], *k[K_N];
	struct source_conf src = { 0 };
	const char *s, *why;
	char sub[160];
	struct url u;
	size_t i;

	if (!map_keys(c, map, path, names, K_N, v, k))
		return;
	src.interval = 15 * 60;
	if (v[K_INTERVAL] && !is_null(v[K_INTERVAL])) {
		keypath(sub, sizeof(sub), path, "interval");
		get_duration(c, v[K_INTERVAL], sub, 10, &src.interval);
	}
	if ((v[K_FEED] != NULL) == (v[K_FOLDER] != NULL)) {
		err_at(c, map, "%s: give exactly one of feed: (a URL) or "
		    "folder: (a directory)", path);
		return;
	}
	if (v[K_FEED]) {
		keypath(sub, sizeof(sub), path, "feed");
		src.kind = SOURCE_FEED;
		if ((s = scalar(c, v[K_FEED], sub, "a URL")) == NULL)
			return;
		if (url_parse(s, &u, &why) == -1) {
			err_at(c, v[K_FEED], "%s: %s (http://, https:// or "
			    "file:///PATH)", sub, why);
			return;
		}
		if (strcmp(u.scheme, "http") == 0 ||
		    strcmp(u.scheme, "https") == 0) {
			if (u.host_len == 0) {
				err_at(c, v[K_FEED], "%s: no host name", sub);
				return;
			}
		} else if (strcmp(u.scheme, "file") == 0) {
			if (u.user || (u.host_len && !(u.host_len == 9 &&
			    strncmp(u.host, "localhost", 9) == 0)) ||
			    *u.rest != '/') {
				err_at(c, v[K_FEED], "%s: expected file:///"
				    "ABSOLUTE/PATH", sub);
				return;
			}
		} else {
			err_at(c, v[K_FEED], "%s: expected an http://, https:// "
			    "or file:// URL, got %s://", sub, u.scheme);
			return;
		}
		src.location = xstrdup(s);
	} else {
		keypath(sub, sizeof(sub), path, "folder");
		src.kind = SOURCE_FOLDER;
		if (!get_path(c, v[K_FOLDER], sub, &src.location))
			return;
	}
	for (i = 0; i < nl->nsources; i++) {
		if (nl->sources[i].kind == src.kind &&
		    strcmp(nl->sources[i].location, src.location) == 0) {
			err_at(c, map, "%s: the same source is listed twice in "
			    "this newsletter", path);
			free(src.location);
			return;
		}
	}
	nl->sources = xrealloc(nl->sources,
	    (nl->nsources + 1) * sizeof(*nl->sources));
	nl->sources[nl->nsources++] = src;
}

static bool
id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return i > 0 && i <= 64;
}

static void
load_templates(struct ctx *c, struct newsletter_conf *nl, yaml_node_t *map,
    const char *path)
{
	static const char *const names[] = { "text", "html" };
	yaml_node_t *v[2], *k[2];
	char sub[160];

	if (!map_keys(c, map, path, names, 2, v, k))
		return;
	if (v[0] && !is_null(v[0])) {
		keypath(sub, sizeof(sub), path, "text");
		get_path(c, v[0], sub, &nl->template_text);
	}
	if (v[1] && !is_null(v[1])) {
		keypath(sub, sizeof(sub), path, "html");
		get_path(c, v[1], sub, &nl->template_html);
	}
}

static void
newsletter_free(struct newsletter_conf *nl)
{
	size_t i;

	free(nl->id);
	free(nl->title);
	free(nl->from);
	free(nl->from_name);
	free(nl->from_addr);
	free(nl->reply_to);
	free(nl->bounce_address);
	free(nl->subject);
	free(nl->schedule_text);
	free(nl->timezone);
	free(nl->template_text);
	free(nl->template_html);
	free(nl->feedback_id);
	for (i = 0; i < nl->nsources; i++)
		free(nl->sources[i].location);
	free(nl->sources);
}

/*
 * The first Mustache tag of a subject that names a per-reader variable
 * (subscriber.*, the unsubscribe, preferences and confirmation links), or
 * NULL: the subject is rendered once per issue and stored with it.
 */
static const char *
per_reader_name(const char *subject)
{
	static const char *const names[] = { "subscriber", "unsubscribe_url",
	    "preferences_url", "confirm_url" };
	const char *p = subject;
	size_t i, n;

	while ((p = strstr(p, "{{")) != NULL) {
		p += 2;
		while (*p == '{' || *p == '&' || *p == '#' || *p == '^' ||
		    *p == '/' || *p == ' ')
			p++;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			n = strlen(names[i]);
			if (strncmp(p, names[i], n) == 0 && (p[n] == '.' ||
			    p[n] == '}' || p[n] == ' '))
				return p;
		}
	}
	return NULL;
}

static void
load_newsletter(struct ctx *c, struct config *cfg, yaml_node_t *map,
    size_t idx)
{
	static const char *const names[] = { "id", "title", "from",
	    "reply_to", "bounce_address", "subject", "schedule", "timezone",
	    "min_articles", "max_articles", "templates", "sources",
	    "feedback_id" };
	enum { K_ID, K_TITLE, K_FROM, K_REPLY, K_BOUNCE, K_SUBJECT, K_SCHED,
	    K_TZ, K_MIN, K_MAX, K_TMPL, K_SOURCES, K_FBID, K_N };
	yaml_node_t *v[K_N], *k[K_N];
	struct newsletter_conf *nl;
	char path[64], sub[160], q[QUOTE_MAX + 8];
	const char *s, *why;
	yaml_node_item_t *it;
	size_t i, nsrc;

	snprintf(path, sizeof(path), "newsletters[%zu]", idx);
	cfg->newsletters = xrealloc(cfg->newsletters,
	    (cfg->nnewsletters + 1) * sizeof(*cfg->newsletters));
	nl = &cfg->newsletters[cfg->nnewsletters];
	memset(nl, 0, sizeof(*nl));
	if (!map_keys(c, map, path, names, K_N, v, k))
		return;
	cfg->nnewsletters++;
	nl->min_articles = 1;
	nl->max_articles = 20;

	if (v[K_ID] == NULL || is_null(v[K_ID]))
		err_at(c, map, "%s: id is missing (a short name such as "
		    "'daily': lowercase letters, digits, - and _)", path);
	else if ((keypath(sub, sizeof(sub), path, "id"), get_string(c, v[K_ID], sub, &nl->id))) {
		if (!id_valid(nl->id)) {
			err_at(c, v[K_ID], "%s.id: %s may hold only lowercase "
			    "letters, digits, - and _ (at most 64)", path,
			    quote(nl->id, q));
		} else {
			for (i = 0; i + 1 < cfg->nnewsletters; i++) {
				if (cfg->newsletters[i].id &&
				    strcmp(cfg->newsletters[i].id, nl->id) == 0)
					err_at(c, v[K_ID], "%s.id: '%s' is "
					    "already used by another "
					    "newsletter", path, nl->id);
			}
		}
	}
	if (v[K_TITLE] == NULL || is_null(v[K_TITLE]))
		err_at(c, map, "%s: title is missing", path);
	else {
		keypath(sub, sizeof(sub), path, "title");
		get_string(c, v[K_TITLE], sub, &nl->title);
	}
	if (v[K_FROM] == NULL || is_null(v[K_FROM]))
		err_at(c, map, "%s: from is missing (\"Name <address>\")",
		    path);
	else if ((s = scalar(c, v[K_FROM], (keypath(sub, sizeof(sub), path, "from"), sub), "an address"))) {
		if (email_mailbox_parse(s, &nl->from_name, &nl->from_addr,
		    &why) == -1)
			err_at(c, v[K_FROM], "%s.from: %s is not a valid "
			    "address: %s (expected \"Name <user@example.org>\" "
			    "or user@example.org)", path, quote(s, q), why);
		else
			nl->from = xstrdup(s);
	}
	if (v[K_REPLY] && !is_null(v[K_REPLY]) &&
	    (s = scalar(c, v[K_REPLY], (keypath(sub, sizeof(sub), path, "reply_to"), sub), "an address"))) {
		char *n = NULL, *a = NULL;

		if (email_mailbox_parse(s, &n, &a, &why) == -1)
			err_at(c, v[K_REPLY], "%s.reply_to: %s is not a valid "
			    "address: %s", path, quote(s, q), why);
		else
			nl->reply_to = xstrdup(s);
		free(n);
		free(a);
	}
	if (v[K_BOUNCE] && !is_null(v[K_BOUNCE]) &&
	    (s = scalar(c, v[K_BOUNCE], (keypath(sub, sizeof(sub), path, "bounce_address"), sub), "an address"))) {
		if (!email_addr_valid(s, &why))
			err_at(c, v[K_BOUNCE], "%s.bounce_address: %s is not a "
			    "valid address: %s (expected user@example.org, "
			    "without a name or <>)", path, quote(s, q), why);
		else
			nl->bounce_address = xstrdup(s);
	} else if (nl->from_addr && (v[K_BOUNCE] == NULL ||
	    is_null(v[K_BOUNCE])))
		nl->bounce_address = xstrdup(nl->from_addr);
	if (v[K_SUBJECT] && !is_null(v[K_SUBJECT])) {
		keypath(sub, sizeof(sub), path, "subject");
		if (get_string(c, v[K_SUBJECT], sub, &nl->subject) &&
		    (s = per_reader_name(nl->subject)) != NULL)
			err_at(c, v[K_SUBJECT], "%s: {{%.*s}} differs from one "
			    "reader to the next, but an issue has one subject "
			    "for everybody; use it in the templates instead",
			    sub, (int)strcspn(s, " }"), s);
	} else
		nl->subject = xstrdup(CONFIG_DEFAULT_SUBJECT);
	if (v[K_TZ] && !is_null(v[K_TZ]) &&
	    (s = scalar(c, v[K_TZ], (keypath(sub, sizeof(sub), path, "timezone"), sub), "a time zone name"))) {
		if (!config_tz_valid(s))
			err_at(c, v[K_TZ], "%s.timezone: %s is not a time zone "
			    "of the system tz database (expected a name such "
			    "as Europe/London, America/New_York or UTC)", path,
			    quote(s, q));
		else
			nl->timezone = xstrdup(s);
	} else
		nl->timezone = xstrdup("UTC");
	if (v[K_SCHED] == NULL || is_null(v[K_SCHED]))
		err_at(c, map, "%s: schedule is missing (a cron expression "
		    "such as \"0 7 * * *\", or \"every 6h\")", path);
	else if ((s = scalar(c, v[K_SCHED], (keypath(sub, sizeof(sub), path, "schedule"), sub), "a schedule"))) {
		if (schedule_parse(s, &nl->schedule, &why) == -1)
			err_at(c, v[K_SCHED], "%s.schedule: %s: %s (expected "
			    "5 cron fields such as \"0 7 * * mon-fri\", or "
			    "\"every 6h\")", path, quote(s, q), why);
		else
			nl->schedule_text = xstrdup(s);
	}
	if (v[K_MIN] && !is_null(v[K_MIN])) {
		keypath(sub, sizeof(sub), path, "min_articles");
		get_long(c, v[K_MIN], sub, 1, 1000, &nl->min_articles);
	}
	if (v[K_MAX] && !is_null(v[K_MAX])) {
		keypath(sub, sizeof(sub), path, "max_articles");
		get_long(c, v[K_MAX], sub, 1, 1000, &nl->max_articles);
	}
	if (nl->min_articles > nl->max_articles)
		err_at(c, v[K_MIN] ? v[K_MIN] : v[K_MAX], "%s: min_articles "
		    "(%ld) is larger than max_articles (%ld)", path,
		    nl->min_articles, nl->max_articles);
	if (v[K_TMPL] && !is_null(v[K_TMPL])) {
		keypath(sub, sizeof(sub), path, "templates");
		load_templates(c, nl, v[K_TMPL], sub);
	}
	if (v[K_FBID] && !is_null(v[K_FBID])) {
		keypath(sub, sizeof(sub), path, "feedback_id");
		if (get_string(c, v[K_FBID], sub, &nl->feedback_id)) {
			for (i = 0; nl->feedback_id[i]; i++)
				if ((unsigned char)nl->feedback_id[i] > 0x7e)
					break;
			if (nl->feedback_id[i] || i > 200)
				err_at(c, v[K_FBID], "%s: expected printable "
				    "ASCII of at most 200 characters (such as "
				    "daily:herald:example.org)", sub);
		}
	}
	if (v[K_SOURCES] == NULL || is_null(v[K_SOURCES])) {
		err_at(c, map, "%s: sources is missing (a list of feed: URL "
		    "or folder: PATH entries)", path);
		return;
	}
	keypath(sub, sizeof(sub), path, "sources");
	if (v[K_SOURCES]->type != YAML_SEQUENCE_NODE) {
		err_at(c, v[K_SOURCES], "%s: expected a list (lines starting "
		    "with '- feed:' or '- folder:'), got %s", sub,
		    node_kind(v[K_SOURCES]));
		return;
	}
	if (!visit(c, v[K_SOURCES], sub))
		return;
	nsrc = 0;
	for (it = v[K_SOURCES]->data.sequence.items.start;
	    it < v[K_SOURCES]->data.sequence.items.top; it++, nsrc++) {
		yaml_node_t *sn = node(c, *it);

		if (sn == NULL)
			continue;
		snprintf(sub, sizeof(sub), "%s.sources[%zu]", path, nsrc);
		load_source(c, nl, sn, sub);
	}
	if (nsrc == 0)
		err_at(c, v[K_SOURCES], "%s.sources: the list is empty; give "
		    "at least one feed: or folder:", path);
}

static void
load_root(struct ctx *c, struct config *cfg, yaml_node_t *root)
{
	static const char *const names[] = { "database", "smtp", "web",
	    "secret_file", "bounces", "newsletters" };
	enum { K_DB, K_SMTP, K_WEB, K_SECRET, K_BOUNCES, K_NL, K_N };
	yaml_node_t *v[K_N], *k[K_N];
	yaml_node_item_t *it;
	size_t i;

	if (root->type != YAML_MAPPING_NODE) {
		err_at(c, root, "expected a mapping of settings (database:, "
		    "smtp:, newsletters: ...), got %s", node_kind(root));
		return;
	}
	if (!map_keys(c, root, "config", names, K_N, v, k))
		return;
	if (v[K_DB] && !is_null(v[K_DB]))
		get_path(c, v[K_DB], "database", &cfg->database);
	if (v[K_SMTP] && !is_null(v[K_SMTP]))
		load_smtp(c, cfg, v[K_SMTP]);
	if (v[K_WEB] && !is_null(v[K_WEB]))
		load_web(c, cfg, v[K_WEB]);
	if (v[K_SECRET] && !is_null(v[K_SECRET]))
		get_path(c, v[K_SECRET], "secret_file", &cfg->secret_file);
	if (v[K_BOUNCES] && !is_null(v[K_BOUNCES]))
		load_bounces(c, cfg, v[K_BOUNCES]);
	if (v[K_NL] == NULL || is_null(v[K_NL])) {
		err_at(c, root, "newsletters is missing (a list with at least "
		    "one newsletter: id, title, from, schedule, sources)");
		return;
	}
	if (v[K_NL]->type != YAML_SEQUENCE_NODE) {
		err_at(c, v[K_NL], "newsletters: expected a list (lines "
		    "starting with '- id:'), got %s", node_kind(v[K_NL]));
		return;
	}
	if (!visit(c, v[K_NL], "newsletters"))
		return;
	i = 0;
	for (it = v[K_NL]->data.sequence.items.start;
	    it < v[K_NL]->data.sequence.items.top; it++, i++) {
		yaml_node_t *n = node(c, *it);

		if (n != NULL)
			load_newsletter(c, cfg, n, i);
	}
	if (i == 0)
		err_at(c, v[K_NL], "newsletters: the list is empty; give at "
		    "least one newsletter");
}

/* ---- loading ---- */

static struct config *
config_new(const char *dir)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->dir = xstrdup(dir);
	cfg->smtp.url = xstrdup("smtp://127.0.0.1:25");
	cfg->smtp.starttls = STARTTLS_AUTO;
	cfg->smtp.connections = 4;
	cfg->smtp.rate = 50;
	cfg->smtp.timeout = 30;
	cfg->smtp.max_attempts = 8;
	cfg->web.listen = xstrdup("127.0.0.1:8080");
	cfg->web.confirm_expiry = 7 * 86400;
	cfg->bounces.interval = 5 * 60;
	cfg->bounces.soft_limit = 3;
	return cfg;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->dir);
	free(cfg->database);
	free(cfg->smtp.url);
	free(cfg->smtp.username);
	free(cfg->smtp.password_env);
	free(cfg->smtp.password_file);
	free(cfg->web.listen);
	free(cfg->web.base_url);
	free(cfg->web.templates);
	free(cfg->secret_file);
	free(cfg->bounces.mailbox);
	free(cfg->bounces.password_env);
	free(cfg->bounces.password_file);
	for (i = 0; i < cfg->nnewsletters; i++)
		newsletter_free(&cfg->newsletters[i]);
	free(cfg->newsletters);
	free(cfg);
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
static void
diags_sort(struct diags *d, size_t from)
{
	size_t i, j;

	for (i = from + 1; i < d->n; i++) {
		struct diag t = d->v[i];

		for (j = i; j > from && diag_cmp(&d->v[j - 1], &t) > 0; j--)
			d->v[j] = d->v[j - 1];
		d->v[j] = t;
	}
}

static char *
absolute_dir(const char *dir)
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
static void
reader_error(struct diags *d, const char *name, const char *data, size_t len,
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
static int
flow_depth_check(const char *s, size_t len, size_t *line, size_t *col)
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
static yaml_node_t *
tree_depth_check(yaml_document_t *doc)
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

static char *
indent_hint(const char *data, size_t len, size_t bad_line)
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

struct config *
config_load_mem(const char *name, const char *dir, const char *data,
    size_t len, struct diags *d)
{
	yaml_parser_t parser;
	yaml_document_t doc, doc2;
	yaml_node_t *root;
	struct config *cfg = NULL;
	struct ctx c = { 0 };
	size_t nerr0 = d->nerrors;
	char *hint;

	c.file = name;
	c.d = d;
	c.first = d->n;
	if (len > CONFIG_MAX_SIZE) {
		diags_add(d, name, 0, 0, false, "the file is larger than "
		    "1 MiB; is this really a herald configuration?");
		return NULL;
	}
	{
		size_t line, col;

		if (flow_depth_check(data, len, &line, &col) == -1) {
			diags_add(d, name, (int)line, (int)col, false, "nested "
			    "more than %d levels deep; a herald configuration "
			    "needs a few (remove the extra [ and {)",
			    CONFIG_MAX_DEPTH);
			return NULL;
		}
	}
	if (!yaml_parser_initialize(&parser))
		fatal("yaml: out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)data,
	    len);
	if (!yaml_parser_load(&parser, &doc)) {
		size_t at = parser.problem_mark.index;

		if (parser.error == YAML_READER_ERROR)
			reader_error(d, name, data, len, &parser);
		else if (at < len && data[at] == '\t')
			diags_add(d, name, (int)parser.problem_mark.line + 1,
			    (int)parser.problem_mark.column + 1, false,
			    "a tab character: YAML indents with spaces only "
			    "(replace the tab with spaces)");
		else if ((hint = indent_hint(data, len,
		    parser.problem_mark.line + 1)) != NULL) {
			size_t col = 0, k = 0, ln = 0;

			/* the misaligned key's column on that line */
			while (k < len && ln < parser.problem_mark.line)
				if (data[k++] == '\n')
					ln++;
			while (k + col < len && data[k + col] == ' ')
				col++;
			diags_add(d, name, (int)parser.problem_mark.line + 1,
			    (int)col + 1, false, "indentation: %s", hint);
			free(hint);
		} else
			diags_add(d, name, (int)parser.problem_mark.line + 1,
			    (int)parser.problem_mark.column + 1, false,
			    "YAML syntax error: %s%s%s", parser.problem ?
			    parser.problem : "cannot parse",
			    parser.context ? " " : "",
			    parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		diags_add(d, name, 0, 0, false, "the file is empty (expected "
		    "a mapping with database:, smtp:, newsletters: ...; "
		    "`herald init` writes a starter)");
		goto out;
	}
	{
		yaml_node_t *deep = tree_depth_check(&doc);

		if (deep) {
			diags_add(d, name, (int)deep->start_mark.line + 1,
			    (int)deep->start_mark.column + 1, false, "nested "
			    "more than %d levels deep; a herald configuration "
			    "needs a few", CONFIG_MAX_DEPTH);
			goto out;
		}
	}
	if (yaml_parser_load(&parser, &doc2)) {
		yaml_node_t *r2 = yaml_document_get_root_node(&doc2);

		if (r2)
			diags_add(d, name, (int)r2->start_mark.line + 1,
			    (int)r2->start_mark.column + 1, false,
			    "only one YAML document is allowed (remove the "
			    "second '---')");
		yaml_document_delete(&doc2);
	}
	{
		char *adir = absolute_dir(dir);	/* NULL or relative: from cwd */

		cfg = config_new(adir);
		free(adir);
	}
	c.dir = cfg->dir;
	c.doc = &doc;
	c.nnodes = (size_t)(doc.nodes.top - doc.nodes.start);
	c.visited = xcalloc(c.nnodes ? c.nnodes : 1, 1);
	load_root(&c, cfg, root);
	free(c.visited);
	if (cfg->database == NULL)
		cfg->database = resolve_path(cfg->dir, "herald.db");
	if (cfg->secret_file == NULL)
		cfg->secret_file = resolve_path(cfg->dir, "secret");
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	diags_sort(d, c.first);
	if (d->nerrors > nerr0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct config *
config_load(const char *path, struct diags *d)
{
	struct config *cfg = NULL;
	struct buf b = BUF_INIT;
	char *abs = NULL, *dir = NULL, *slash;
	struct stat sb;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		diags_add(d, path, 0, 0, false, "cannot open: %s",
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		diags_add(d, path, 0, 0, false, "not a regular file");
		goto out;
	}
	buf_init(&b, CONFIG_MAX_SIZE + 1);
	switch (buf_read_fd(&b, fd)) {
	case -1:
		diags_add(d, path, 0, 0, false, "cannot read: %s",
		    strerror(errno));
		goto out;
	case -2:
		diags_add(d, path, 0, 0, false, "the file is larger than 1 MiB; "
		    "is this really a herald configuration?");
		goto out;
	}
	if (path[0] == '/')
		abs = xstrdup(path);
	else {
		char *cwd = absolute_dir(".");

		abs = xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd,
		    path[0] == '.' && path[1] == '/' ? path + 2 : path);
		free(cwd);
	}
	dir = xstrdup(abs);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	cfg = config_load_mem(path, dir, b.data ? b.data : "", b.len, d);
	if (cfg) {
		cfg->path = abs;
		abs = NULL;
	}
out:
	close(fd);
	buf_free(&b);
	free(abs);
	free(dir);
	return cfg;
}

const char *
config_default_path(const char *explicit_path)
{
	const char *env;

	/* -c "" (an unset variable in a script) must not mean "any file" */
	if (explicit_path)
		return explicit_path;
	env = getenv("HERALD_CONFIG");
	if (env && *env)
		return env;
	if (access("herald.yml", F_OK) == 0)
		return "herald.yml";
	return "/etc/herald/herald.yml";
}

const struct newsletter_conf *
config_newsletter(const struct config *cfg, const char *id, const char **why)
{
	size_t i;

	*why = NULL;
	if (cfg == NULL || cfg->nnewsletters == 0) {
		*why = "no newsletter is configured";
		return NULL;
	}
	if (id == NULL) {
		if (cfg->nnewsletters == 1)
			return &cfg->newsletters[0];
		*why = "several newsletters are configured; choose one with "
		    "-n ID (`herald config check` lists them)";
		return NULL;
	}
	for (i = 0; i < cfg->nnewsletters; i++)
		if (strcmp(cfg->newsletters[i].id, id) == 0)
			return &cfg->newsletters[i];
	*why = "no newsletter has this id (`herald config check` lists them)";
	return NULL;
}

char *
config_secret(const char *env_name, const char *file, char **why)
{
	struct buf b = BUF_INIT;
	const char *v;
	int fd, rc;

	*why = NULL;
	if (env_name) {
		v = getenv(env_name);
		if (v == NULL || *v == '\0') {
			*why = xasprintf("the environment variable %s is not "
			    "set", env_name);
			return NULL;
		}
		return xstrdup(v);
	}
	if (file == NULL)
		return NULL;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		*why = xasprintf("%s: %s", file, strerror(errno));
		return NULL;
	}
	buf_init(&b, 64 * 1024);
	rc = buf_read_fd(&b, fd);
	if (rc == -1)
		*why = xasprintf("%s: %s", file, strerror(errno));
	close(fd);
	if (rc != 0) {
		if (rc == -2)
			*why = xasprintf("%s: larger than 64 KiB", file);
		if (b.data)
			explicit_bzero(b.data, b.cap);
		buf_free(&b);
		return NULL;
	}
	while (b.len > 0 && (b.data[b.len - 1] == '\n' ||
	    b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	if (b.len == 0 || memchr(b.data, '\0', b.len) != NULL) {
		*why = xasprintf("%s: %s", file, b.len ? "holds a NUL byte" :
		    "is empty");
		if (b.data)
			explicit_bzero(b.data, b.cap);
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}
