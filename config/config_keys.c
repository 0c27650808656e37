/*
 * config_keys: the sections of herald.yml and their keys (DESIGN §4).
 *
 * Each section is one table of keys (as Redis's standardConfig is): the
 * name, the type, where the value goes, its bounds, its default and, for
 * values no generic type covers, a validator.  The same table gives the
 * names an unknown key is compared with, the defaults a fresh config gets
 * (cfg_new) and the section a misplaced key belongs in (cfg_key_home); the
 * section's own code is left with what ties keys together (a password's
 * two sources, min <= max, the list of sources).  See config_yaml.h.
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

/* ---- the key tables ---- */

enum key_type {
	KT_STRING,	/* char *: one line of UTF-8 text */
	KT_PATH,	/* char *: resolved against the file's directory */
	KT_LONG,	/* long, min..max */
	KT_DOUBLE,	/* double, min..max */
	KT_BOOL,	/* bool */
	KT_DURATION,	/* long seconds, at least min */
	KT_CUSTOM,	/* check() converts and validates */
	KT_OWN,		/* the section's own code reads it (lists, pairs) */
};

struct key_def {
	const char	*name;
	enum key_type	 type;
	size_t		 off;		/* the field in the section's struct */
	double		 min, max;	/* KT_LONG, KT_DOUBLE; KT_DURATION: min */
	const char	*def;		/* the default, written as in the file */
	const char	*required;	/* the key must be given: what to say */
	void		(*check)(struct ctx *, yaml_node_t *v, const char *path,
			    void *obj);
};

#define KEYS_MAX	16
#define NKEYS(t)	(sizeof(t) / sizeof((t)[0]))

/* Fills obj with the defaults of defs (char * fields get new strings). */
static void
keys_default(const struct key_def *defs, size_t n, void *obj, const char *dir)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct key_def *k = &defs[i];
		void *f = (char *)obj + k->off;

		if (k->def == NULL)
			continue;
		switch (k->type) {
		case KT_STRING:
		case KT_CUSTOM:
			*(char **)f = xstrdup(k->def);
			break;
		case KT_PATH:
			*(char **)f = cfg_resolve_path(dir, k->def);
			break;
		case KT_LONG:
			*(long *)f = strtol(k->def, NULL, 10);
			break;
		case KT_DOUBLE:
			*(double *)f = strtod(k->def, NULL);
			break;
		case KT_BOOL:
			*(bool *)f = strcmp(k->def, "true") == 0;
			break;
		case KT_DURATION:
			*(long *)f = duration_parse(k->def);
			break;
		case KT_OWN:
			break;
		}
	}
}

/*
 * Reads the mapping map (at path; NULL path: the top level) against defs
 * into obj: unknown and duplicate keys are reported, a required key that
 * is missing too, and each given value is converted by its type.  vals[i]
 * is the value node of defs[i] for the section's own code: NULL when
 * absent or null (a KT_OWN key that is not required keeps a null node).
 * False when map is not a mapping.
 */
static bool
keys_load(struct ctx *c, yaml_node_t *map, const char *path,
    const struct key_def *defs, size_t n, void *obj, yaml_node_t **vals)
{
	const char *names[KEYS_MAX];
	yaml_node_t *keys[KEYS_MAX];
	char sub[160];
	size_t i;

	for (i = 0; i < n && i < KEYS_MAX; i++)
		names[i] = defs[i].name;
	if (!cfg_map_keys(c, map, path ? path : "config", names, n, vals,
	    keys))
		return false;
	for (i = 0; i < n; i++) {
		const struct key_def *k = &defs[i];
		yaml_node_t *v = vals[i];
		void *f = (char *)obj + k->off;

		if (v == NULL || cfg_is_null(v)) {
			if (k->type == KT_OWN && k->required == NULL)
				continue;	/* its code looks at it */
			vals[i] = NULL;
			if (k->required && path)
				cfg_err(c, map, "%s: %s", path, k->required);
			else if (k->required)
				cfg_err(c, map, "%s", k->required);
			continue;
		}
		if (path)
			cfg_keypath(sub, sizeof(sub), path, k->name);
		else
			snprintf(sub, sizeof(sub), "%s", k->name);
		switch (k->type) {
		case KT_STRING:
			cfg_string(c, v, sub, (char **)f);
			break;
		case KT_PATH:
			cfg_path(c, v, sub, (char **)f);
			break;
		case KT_LONG:
			cfg_long(c, v, sub, (long)k->min, (long)k->max,
			    (long *)f);
			break;
		case KT_DOUBLE:
			cfg_double(c, v, sub, k->min, k->max, (double *)f);
			break;
		case KT_BOOL:
			cfg_bool(c, v, sub, (bool *)f);
			break;
		case KT_DURATION:
			cfg_duration(c, v, sub, (long)k->min, (long *)f);
			break;
		case KT_CUSTOM:
			k->check(c, v, sub, obj);
			break;
		case KT_OWN:
			break;
		}
	}
	return true;
}

/* ---- smtp ---- */

static void
check_smtp_url(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct config *cfg = obj;
	const char *s, *why;
	struct url u;

	if ((s = cfg_scalar(c, v, path, "a URL")) == NULL)
		return;
	if (url_parse(s, &u, &why) == -1)
		cfg_err(c, v, "%s: %s (smtp://HOST[:PORT] or "
		    "smtps://HOST[:PORT])", path, why);
	else if (strcmp(u.scheme, "smtp") != 0 &&
	    strcmp(u.scheme, "smtps") != 0)
		cfg_err(c, v, "%s: expected smtp:// or smtps://, got %s://",
		    path, u.scheme);
	else if (u.user)
		/* never echo it: it may hold a password */
		cfg_err(c, v, "%s: do not put a user name or password in the "
		    "URL; use smtp.username and smtp.password_env or "
		    "smtp.password_file", path);
	else if (u.host_len == 0)
		cfg_err(c, v, "%s: no host name (expected smtp://HOST[:PORT])",
		    path);
	else {
		free(cfg->smtp.url);
		cfg->smtp.url = xstrdup(s);
	}
}

static void
check_starttls(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct config *cfg = obj;
	char q[QUOTE_MAX + 8];
	const char *s;

	if ((s = cfg_scalar(c, v, path, "auto, required or off")) == NULL)
		return;
	if (strcmp(s, "auto") == 0)
		cfg->smtp.starttls = STARTTLS_AUTO;
	else if (strcmp(s, "required") == 0)
		cfg->smtp.starttls = STARTTLS_REQUIRED;
	else if (strcmp(s, "off") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "no") == 0)
		cfg->smtp.starttls = STARTTLS_OFF;
	else
		cfg_err(c, v, "%s: expected auto, required or off, got %s",
		    path, cfg_quote(s, q));
}

/* Offsets are into struct config: the smtp, web and bounces sections are
   parts of it. */
static const struct key_def smtp_keys[] = {
	{ "url", KT_CUSTOM, offsetof(struct config, smtp.url), 0, 0,
	  "smtp://127.0.0.1:25", NULL, check_smtp_url },
	{ "starttls", KT_CUSTOM, 0, 0, 0, NULL, NULL, check_starttls },
	{ "username", KT_STRING, offsetof(struct config, smtp.username), 0, 0,
	  NULL, NULL, NULL },
	{ "password_env", KT_OWN, 0, 0, 0, NULL, NULL, NULL },
	{ "password_file", KT_OWN, 0, 0, 0, NULL, NULL, NULL },
	{ "connections", KT_LONG, offsetof(struct config, smtp.connections),
	  1, 256, "4", NULL, NULL },
	{ "rate", KT_DOUBLE, offsetof(struct config, smtp.rate), 0, 1000000,
	  "50", NULL, NULL },
	{ "timeout", KT_LONG, offsetof(struct config, smtp.timeout), 1, 3600,
	  "30", NULL, NULL },
	{ "max_attempts", KT_LONG, offsetof(struct config, smtp.max_attempts),
	  1, 100, "8", NULL, NULL },
};
enum { SMTP_PENV = 3, SMTP_PFILE = 4 };

static void
check_smtp(struct ctx *c, yaml_node_t *map, const char *path, void *obj)
{
	struct config *cfg = obj;
	yaml_node_t *v[NKEYS(smtp_keys)];

	(void)path;
	if (!keys_load(c, map, "smtp", smtp_keys, NKEYS(smtp_keys), cfg, v))
		return;
	cfg_secret_ref(c, "smtp", v[SMTP_PENV], v[SMTP_PFILE],
	    &cfg->smtp.password_env, &cfg->smtp.password_file);
}

/* ---- web ---- */

static void
check_listen(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct config *cfg = obj;
	const char *s, *why;
	struct url u;
	char *tmp;

	if ((s = cfg_scalar(c, v, path, "HOST:PORT")) == NULL)
		return;
	tmp = xasprintf("http://%s", s);
	if (url_parse(tmp, &u, &why) == -1 || u.user || u.host_len == 0 ||
	    u.port == -1 || *u.rest != '\0')
		cfg_err(c, v, "%s: expected HOST:PORT (such as 127.0.0.1:8080 "
		    "or [::1]:8080)", path);
	else {
		free(cfg->web.listen);
		cfg->web.listen = xstrdup(s);
	}
	free(tmp);
}

static void
check_base_url(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct config *cfg = obj;
	const char *s, *why;
	struct url u;
	size_t n;

	if ((s = cfg_scalar(c, v, path, "a URL")) == NULL)
		return;
	if (url_parse(s, &u, &why) == -1)
		cfg_err(c, v, "%s: %s", path, why);
	else if (strcmp(u.scheme, "https") != 0 &&
	    strcmp(u.scheme, "http") != 0)
		cfg_err(c, v, "%s: expected https:// (or http:// for testing), "
		    "got %s://", path, u.scheme);
	else if (u.host_len == 0 || u.user)
		cfg_err(c, v, "%s: expected https://HOST[/PATH] without a user "
		    "name", path);
	else if (strpbrk(u.rest, "?#") != NULL)
		cfg_err(c, v, "%s: no query or fragment allowed", path);
	else {
		if (strcmp(u.scheme, "http") == 0)
			cfg_warn(c, v, "%s: http:// links are not private or "
			    "tamper-proof; use https:// outside testing", path);
		free(cfg->web.base_url);
		cfg->web.base_url = xstrdup(s);
		/* links are built as base_url + "/path" */
		while ((n = strlen(cfg->web.base_url)) > 8 &&
		    cfg->web.base_url[n - 1] == '/')
			cfg->web.base_url[n - 1] = '\0';
	}
}

static const struct key_def web_keys[] = {
	{ "listen", KT_CUSTOM, offsetof(struct config, web.listen), 0, 0,
	  "127.0.0.1:8080", NULL, check_listen },
	{ "base_url", KT_CUSTOM, 0, 0, 0, NULL, "base_url is missing (the "
	  "https:// address that links in messages point at)",
	  check_base_url },
	{ "signup", KT_BOOL, offsetof(struct config, web.signup), 0, 0, NULL,
	  NULL, NULL },
	{ "confirm_expiry", KT_DURATION,
	  offsetof(struct config, web.confirm_expiry), 60, 0, "7d", NULL,
	  NULL },
	{ "welcome", KT_BOOL, offsetof(struct config, web.welcome), 0, 0, NULL,
	  NULL, NULL },
	{ "templates", KT_PATH, offsetof(struct config, web.templates), 0, 0,
	  NULL, NULL, NULL },
};

static void
check_web(struct ctx *c, yaml_node_t *map, const char *path, void *obj)
{
	struct config *cfg = obj;
	yaml_node_t *v[NKEYS(web_keys)];

	(void)path;
	if (map->type == YAML_MAPPING_NODE)
		cfg->web.enabled = true;
	keys_load(c, map, "web", web_keys, NKEYS(web_keys), cfg, v);
}

/* ---- bounces ---- */

static void
check_mailbox(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct config *cfg = obj;
	const char *s, *why;
	struct url u;

	if ((s = cfg_scalar(c, v, path, "a mailbox URL")) == NULL)
		return;
	if (strncmp(s, "maildir:", 8) == 0) {
		if (s[8] == '\0' || strpbrk(s, "\r\n") != NULL)
			cfg_err(c, v, "%s: expected maildir:PATH", path);
		else {
			char *p = cfg_resolve_path(c->dir, s[8] == '/' &&
			    s[9] == '/' && s[10] == '/' ? s + 10 : s + 8);

			free(cfg->bounces.mailbox);
			cfg->bounces.mailbox = xasprintf("maildir:%s", p);
			free(p);
		}
	} else if (url_parse(s, &u, &why) == -1)
		cfg_err(c, v, "%s: %s (imaps://USER@HOST/FOLDER, "
		    "pop3s://USER@HOST or maildir:PATH)", path, why);
	else if (strcmp(u.scheme, "imap") != 0 &&
	    strcmp(u.scheme, "imaps") != 0 && strcmp(u.scheme, "pop3") != 0 &&
	    strcmp(u.scheme, "pop3s") != 0)
		cfg_err(c, v, "%s: expected imap://, imaps://, pop3://, pop3s:// "
		    "or maildir:, got %s://", path, u.scheme);
	else if (u.has_password)
		cfg_err(c, v, "%s: do not put a password in the URL; use "
		    "bounces.password_env or bounces.password_file", path);
	else if (u.host_len == 0)
		cfg_err(c, v, "%s: no host name", path);
	else {
		free(cfg->bounces.mailbox);
		cfg->bounces.mailbox = xstrdup(s);
	}
}

static const struct key_def bounces_keys[] = {
	{ "mailbox", KT_CUSTOM, 0, 0, 0, NULL, "mailbox is missing "
	  "(imaps://USER@HOST/FOLDER, pop3s://USER@HOST or maildir:PATH)",
	  check_mailbox },
	{ "password_env", KT_OWN, 0, 0, 0, NULL, NULL, NULL },
	{ "password_file", KT_OWN, 0, 0, 0, NULL, NULL, NULL },
	{ "interval", KT_DURATION, offsetof(struct config, bounces.interval),
	  10, 0, "5m", NULL, NULL },
	{ "soft_limit", KT_LONG, offsetof(struct config, bounces.soft_limit),
	  1, 1000, "3", NULL, NULL },
};
enum { BOUNCES_PENV = 1, BOUNCES_PFILE = 2 };

static void
check_bounces(struct ctx *c, yaml_node_t *map, const char *path, void *obj)
{
	struct config *cfg = obj;
	yaml_node_t *v[NKEYS(bounces_keys)];

	(void)path;
	if (map->type == YAML_MAPPING_NODE)
		cfg->bounces.enabled = true;
	if (!keys_load(c, map, "bounces", bounces_keys, NKEYS(bounces_keys),
	    cfg, v))
		return;
	cfg_secret_ref(c, "bounces", v[BOUNCES_PENV], v[BOUNCES_PFILE],
	    &cfg->bounces.password_env, &cfg->bounces.password_file);
}

/* ---- a newsletter's sources and templates ---- */

static const struct key_def source_keys[] = {
	{ "feed", KT_OWN, 0, 0, 0, NULL, NULL, NULL },
	{ "folder", KT_OWN, 0, 0, 0, NULL, NULL, NULL },
	{ "interval", KT_DURATION, offsetof(struct source_conf, interval), 10,
	  0, "15m", NULL, NULL },
};
enum { SRC_FEED, SRC_FOLDER };

static void
load_source(struct ctx *c, struct newsletter_conf *nl, yaml_node_t *map,
    const char *path)
{
	yaml_node_t *v[NKEYS(source_keys)];
	struct source_conf src = { 0 };
	const char *s, *why;
	char sub[160];
	struct url u;
	size_t i;

	keys_default(source_keys, NKEYS(source_keys), &src, c->dir);
	if (!keys_load(c, map, path, source_keys, NKEYS(source_keys), &src,
	    v))
		return;
	if ((v[SRC_FEED] != NULL) == (v[SRC_FOLDER] != NULL)) {
		cfg_err(c, map, "%s: give exactly one of feed: (a URL) or "
		    "folder: (a directory)", path);
		return;
	}
	if (v[SRC_FEED]) {
		cfg_keypath(sub, sizeof(sub), path, "feed");
		src.kind = SOURCE_FEED;
		if ((s = cfg_scalar(c, v[SRC_FEED], sub, "a URL")) == NULL)
			return;
		if (url_parse(s, &u, &why) == -1) {
			cfg_err(c, v[SRC_FEED], "%s: %s (http://, https:// or "
			    "file:///PATH)", sub, why);
			return;
		}
		if (strcmp(u.scheme, "http") == 0 ||
		    strcmp(u.scheme, "https") == 0) {
			if (u.host_len == 0) {
				cfg_err(c, v[SRC_FEED], "%s: no host name",
				    sub);
				return;
			}
		} else if (strcmp(u.scheme, "file") == 0) {
			if (u.user || (u.host_len && !(u.host_len == 9 &&
			    strncmp(u.host, "localhost", 9) == 0)) ||
			    *u.rest != '/') {
				cfg_err(c, v[SRC_FEED], "%s: expected file:///"
				    "ABSOLUTE/PATH", sub);
				return;
			}
		} else {
			cfg_err(c, v[SRC_FEED], "%s: expected an http://, "
			    "https:// or file:// URL, got %s://", sub,
			    u.scheme);
			return;
		}
		src.location = xstrdup(s);
	} else {
		cfg_keypath(sub, sizeof(sub), path, "folder");
		src.kind = SOURCE_FOLDER;
		if (!cfg_path(c, v[SRC_FOLDER], sub, &src.location))
			return;
	}
	for (i = 0; i < nl->nsources; i++) {
		if (nl->sources[i].kind == src.kind &&
		    strcmp(nl->sources[i].location, src.location) == 0) {
			cfg_err(c, map, "%s: the same source is listed twice in "
			    "this newsletter", path);
			free(src.location);
			return;
		}
	}
	nl->sources = xrealloc(nl->sources,
	    (nl->nsources + 1) * sizeof(*nl->sources));
	nl->sources[nl->nsources++] = src;
}

static const struct key_def templates_keys[] = {
	{ "text", KT_PATH, offsetof(struct newsletter_conf, template_text), 0,
	  0, NULL, NULL, NULL },
	{ "html", KT_PATH, offsetof(struct newsletter_conf, template_html), 0,
	  0, NULL, NULL, NULL },
};

static void
check_templates(struct ctx *c, yaml_node_t *map, const char *path, void *obj)
{
	yaml_node_t *v[NKEYS(templates_keys)];

	keys_load(c, map, path, templates_keys, NKEYS(templates_keys), obj,
	    v);
}

/* ---- a newsletter ---- */

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
check_id(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct newsletter_conf *nl = obj;
	char q[QUOTE_MAX + 8];

	if (cfg_string(c, v, path, &nl->id) && !id_valid(nl->id))
		cfg_err(c, v, "%s: %s may hold only lowercase letters, digits, "
		    "- and _ (at most 64)", path, cfg_quote(nl->id, q));
}

static void
check_from(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct newsletter_conf *nl = obj;
	char q[QUOTE_MAX + 8];
	const char *s, *why;

	if ((s = cfg_scalar(c, v, path, "an address")) == NULL)
		return;
	if (email_mailbox_parse(s, &nl->from_name, &nl->from_addr, &why) == -1)
		cfg_err(c, v, "%s: %s is not a valid address: %s (expected "
		    "\"Name <user@example.org>\" or user@example.org)", path,
		    cfg_quote(s, q), why);
	else
		nl->from = xstrdup(s);
}

static void
check_reply_to(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct newsletter_conf *nl = obj;
	char q[QUOTE_MAX + 8], *n = NULL, *a = NULL;
	const char *s, *why;

	if ((s = cfg_scalar(c, v, path, "an address")) == NULL)
		return;
	if (email_mailbox_parse(s, &n, &a, &why) == -1)
		cfg_err(c, v, "%s: %s is not a valid address: %s", path,
		    cfg_quote(s, q), why);
	else
		nl->reply_to = xstrdup(s);
	free(n);
	free(a);
}

static void
check_bounce_address(struct ctx *c, yaml_node_t *v, const char *path,
    void *obj)
{
	struct newsletter_conf *nl = obj;
	char q[QUOTE_MAX + 8];
	const char *s, *why;

	if ((s = cfg_scalar(c, v, path, "an address")) == NULL)
		return;
	if (!email_addr_valid(s, &why))
		cfg_err(c, v, "%s: %s is not a valid address: %s (expected "
		    "user@example.org, without a name or <>)", path,
		    cfg_quote(s, q), why);
	else
		nl->bounce_address = xstrdup(s);
}

static void
check_subject(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct newsletter_conf *nl = obj;
	const char *s;

	if (cfg_string(c, v, path, &nl->subject) &&
	    (s = per_reader_name(nl->subject)) != NULL)
		cfg_err(c, v, "%s: {{%.*s}} differs from one reader to the next, "
		    "but an issue has one subject for everybody; use it in the "
		    "templates instead", path, (int)strcspn(s, " }"), s);
}

static void
check_schedule(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct newsletter_conf *nl = obj;
	char q[QUOTE_MAX + 8];
	const char *s, *why;

	if ((s = cfg_scalar(c, v, path, "a schedule")) == NULL)
		return;
	if (schedule_parse(s, &nl->schedule, &why) == -1)
		cfg_err(c, v, "%s: %s: %s (expected 5 cron fields such as "
		    "\"0 7 * * mon-fri\", or \"every 6h\")", path,
		    cfg_quote(s, q), why);
	else
		nl->schedule_text = xstrdup(s);
}

static void
check_timezone(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct newsletter_conf *nl = obj;
	char q[QUOTE_MAX + 8];
	const char *s;

	if ((s = cfg_scalar(c, v, path, "a time zone name")) == NULL)
		return;
	if (!config_tz_valid(s))
		cfg_err(c, v, "%s: %s is not a time zone of the system tz "
		    "database (expected a name such as Europe/London, "
		    "America/New_York or UTC)", path, cfg_quote(s, q));
	else {
		free(nl->timezone);
		nl->timezone = xstrdup(s);
	}
}

static void
check_feedback_id(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct newsletter_conf *nl = obj;
	size_t i;

	if (!cfg_string(c, v, path, &nl->feedback_id))
		return;
	for (i = 0; nl->feedback_id[i]; i++)
		if ((unsigned char)nl->feedback_id[i] > 0x7e)
			break;
	if (nl->feedback_id[i] || i > 200)
		cfg_err(c, v, "%s: expected printable ASCII of at most 200 "
		    "characters (such as daily:herald:example.org)", path);
}

#define NL_FIELD(f)	offsetof(struct newsletter_conf, f)
static const struct key_def newsletter_keys[] = {
	{ "id", KT_CUSTOM, 0, 0, 0, NULL, "id is missing (a short name such "
	  "as 'daily': lowercase letters, digits, - and _)", check_id },
	{ "title", KT_STRING, NL_FIELD(title), 0, 0, NULL, "title is missing",
	  NULL },
	{ "from", KT_CUSTOM, 0, 0, 0, NULL, "from is missing (\"Name "
	  "<address>\")", check_from },
	{ "reply_to", KT_CUSTOM, 0, 0, 0, NULL, NULL, check_reply_to },
	{ "bounce_address", KT_CUSTOM, 0, 0, 0, NULL, NULL,
	  check_bounce_address },
	{ "subject", KT_CUSTOM, NL_FIELD(subject), 0, 0,
	  CONFIG_DEFAULT_SUBJECT, NULL, check_subject },
	{ "schedule", KT_CUSTOM, 0, 0, 0, NULL, "schedule is missing (a cron "
	  "expression such as \"0 7 * * *\", or \"every 6h\")",
	  check_schedule },
	{ "timezone", KT_CUSTOM, NL_FIELD(timezone), 0, 0, "UTC", NULL,
	  check_timezone },
	{ "min_articles", KT_LONG, NL_FIELD(min_articles), 1, 1000, "1",
	  NULL, NULL },
	{ "max_articles", KT_LONG, NL_FIELD(max_articles), 1, 1000, "20",
	  NULL, NULL },
	{ "templates", KT_CUSTOM, 0, 0, 0, NULL, NULL, check_templates },
	{ "sources", KT_OWN, 0, 0, 0, NULL, "sources is missing (a list of "
	  "feed: URL or folder: PATH entries)", NULL },
	{ "feedback_id", KT_CUSTOM, 0, 0, 0, NULL, NULL, check_feedback_id },
};
enum { NL_ID = 0, NL_MIN = 8, NL_MAX = 9, NL_SOURCES = 11 };

static void
load_newsletter(struct ctx *c, struct config *cfg, yaml_node_t *map,
    size_t idx)
{
	yaml_node_t *v[NKEYS(newsletter_keys)], *list;
	struct newsletter_conf *nl;
	char path[64], sub[160];
	yaml_node_item_t *it;
	size_t i, nsrc;

	snprintf(path, sizeof(path), "newsletters[%zu]", idx);
	cfg->newsletters = xrealloc(cfg->newsletters,
	    (cfg->nnewsletters + 1) * sizeof(*cfg->newsletters));
	nl = &cfg->newsletters[cfg->nnewsletters];
	memset(nl, 0, sizeof(*nl));
	if (map->type != YAML_MAPPING_NODE) {
		keys_load(c, map, path, newsletter_keys, NKEYS(newsletter_keys),
		    nl, v);		/* says what it expected */
		return;
	}
	cfg->nnewsletters++;
	keys_default(newsletter_keys, NKEYS(newsletter_keys), nl, c->dir);
	if (!keys_load(c, map, path, newsletter_keys, NKEYS(newsletter_keys),
	    nl, v))
		return;
	if (nl->id && v[NL_ID] && id_valid(nl->id))
		for (i = 0; i + 1 < cfg->nnewsletters; i++)
			if (cfg->newsletters[i].id &&
			    strcmp(cfg->newsletters[i].id, nl->id) == 0)
				cfg_err(c, v[NL_ID], "%s.id: '%s' is already "
				    "used by another newsletter", path, nl->id);
	if (nl->bounce_address == NULL && nl->from_addr)
		nl->bounce_address = xstrdup(nl->from_addr);
	if (nl->min_articles > nl->max_articles)
		cfg_err(c, v[NL_MIN] ? v[NL_MIN] : v[NL_MAX], "%s: min_articles "
		    "(%ld) is larger than max_articles (%ld)", path,
		    nl->min_articles, nl->max_articles);
	if ((list = v[NL_SOURCES]) == NULL)
		return;		/* reported as missing */
	cfg_keypath(sub, sizeof(sub), path, "sources");
	if (list->type != YAML_SEQUENCE_NODE) {
		cfg_err(c, list, "%s: expected a list (lines starting with "
		    "'- feed:' or '- folder:'), got %s", sub, cfg_kind(list));
		return;
	}
	if (!cfg_visit(c, list, sub))
		return;
	nsrc = 0;
	for (it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++, nsrc++) {
		yaml_node_t *sn = cfg_node(c, *it);

		if (sn == NULL)
			continue;
		snprintf(sub, sizeof(sub), "%s.sources[%zu]", path, nsrc);
		load_source(c, nl, sn, sub);
	}
	if (nsrc == 0)
		cfg_err(c, list, "%s.sources: the list is empty; give at least "
		    "one feed: or folder:", path);
}

/* ---- database ---- */

/*
 * database: a SQLite file (a path) or a PostgreSQL URI; or, for a URI
 * whose password is not libpq's business (~/.pgpass), a mapping of url
 * and password_env or password_file, as for smtp (issue 14).
 */
static const struct key_def database_keys[] = {
	{ "url", KT_OWN, 0, 0, 0, NULL, "url is missing (postgresql://USER@HOST/DB)",
	  NULL },
	{ "password_env", KT_OWN, 0, 0, 0, NULL, NULL, NULL },
	{ "password_file", KT_OWN, 0, 0, 0, NULL, NULL, NULL },
};

static void
check_database(struct ctx *c, yaml_node_t *v, const char *path, void *obj)
{
	struct config *cfg = obj;
	yaml_node_t *vals[NKEYS(database_keys)];

	(void)path;
	if (v->type != YAML_MAPPING_NODE) {
		cfg_path(c, v, "database", &cfg->database);
		return;
	}
	if (!keys_load(c, v, "database", database_keys, NKEYS(database_keys),
	    cfg, vals) || vals[0] == NULL)
		return;
	if (!cfg_path(c, vals[0], "database", &cfg->database))
		return;
	if (strncmp(cfg->database, "postgresql://", 13) != 0 &&
	    strncmp(cfg->database, "postgres://", 11) != 0) {
		cfg_err(c, vals[0], "database.url: expected a postgresql:// URI "
		    "(a SQLite file has no password: write `database: PATH`)");
		return;
	}
	cfg_secret_ref(c, "database", vals[1], vals[2],
	    &cfg->database_password_env, &cfg->database_password_file);
}

/* ---- the top level ---- */

static const struct key_def root_keys[] = {
	{ "database", KT_CUSTOM, 0, 0, 0, NULL, NULL, check_database },
	{ "smtp", KT_CUSTOM, 0, 0, 0, NULL, NULL, check_smtp },
	{ "web", KT_CUSTOM, 0, 0, 0, NULL, NULL, check_web },
	{ "secret_file", KT_PATH, offsetof(struct config, secret_file), 0, 0,
	  "secret", NULL, NULL },
	{ "bounces", KT_CUSTOM, 0, 0, 0, NULL, NULL, check_bounces },
	{ "newsletters", KT_OWN, 0, 0, 0, NULL, "newsletters is missing (a "
	  "list with at least one newsletter: id, title, from, schedule, "
	  "sources)", NULL },
};
enum { ROOT_NL = 5 };

void
cfg_load_root(struct ctx *c, struct config *cfg, yaml_node_t *root)
{
	yaml_node_t *v[NKEYS(root_keys)], *list;
	yaml_node_item_t *it;
	size_t i;

	if (root->type != YAML_MAPPING_NODE) {
		cfg_err(c, root, "expected a mapping of settings (database:, "
		    "smtp:, newsletters: ...), got %s", cfg_kind(root));
		return;
	}
	if (!keys_load(c, root, NULL, root_keys, NKEYS(root_keys), cfg, v))
		return;
	if ((list = v[ROOT_NL]) == NULL)
		return;		/* reported as missing */
	if (list->type != YAML_SEQUENCE_NODE) {
		cfg_err(c, list, "newsletters: expected a list (lines starting "
		    "with '- id:'), got %s", cfg_kind(list));
		return;
	}
	if (!cfg_visit(c, list, "newsletters"))
		return;
	i = 0;
	for (it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++, i++) {
		yaml_node_t *n = cfg_node(c, *it);

		if (n != NULL)
			load_newsletter(c, cfg, n, i);
	}
	if (i == 0)
		cfg_err(c, list, "newsletters: the list is empty; give at least "
		    "one newsletter");
}

/* ---- defaults, homes ---- */

static const struct {
	const char		*section;
	const struct key_def	*keys;
	size_t			 n;
} sections[] = {
	{ "smtp", smtp_keys, NKEYS(smtp_keys) },
	{ "web", web_keys, NKEYS(web_keys) },
	{ "bounces", bounces_keys, NKEYS(bounces_keys) },
	{ "a newsletter (under newsletters:)", newsletter_keys,
	  NKEYS(newsletter_keys) },
	{ "a source (under sources:)", source_keys, NKEYS(source_keys) },
	{ "templates: (under a newsletter)", templates_keys,
	  NKEYS(templates_keys) },
};

const char *
cfg_key_home(const char *key)
{
	const char *home = NULL;
	size_t i, j;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		for (j = 0; j < sections[i].n; j++)
			if (strcmp(key, sections[i].keys[j].name) == 0) {
				if (home != NULL)
					return NULL;	/* several homes */
				home = sections[i].section;
			}
	return home;
}

struct config *
cfg_new(const char *dir)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->dir = xstrdup(dir);
	keys_default(root_keys, NKEYS(root_keys), cfg, cfg->dir);
	keys_default(smtp_keys, NKEYS(smtp_keys), cfg, cfg->dir);
	keys_default(web_keys, NKEYS(web_keys), cfg, cfg->dir);
	keys_default(bounces_keys, NKEYS(bounces_keys), cfg, cfg->dir);
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
	free(cfg->database_password_env);
	free(cfg->database_password_file);
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

