/*
 * config_keys: the sections of herald.yml and their keys (DESIGN §4).
 * See config_yaml.h.
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

const char *
cfg_key_home(const char *key)
{
	size_t j;

	for (j = 0; j < sizeof(key_homes) / sizeof(key_homes[0]); j++)
		if (strcmp(key, key_homes[j].key) == 0)
			return key_homes[j].section;
	return NULL;
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

	if (!cfg_map_keys(c, map, "smtp", names, K_N, v, k))
		return;
	if (v[K_URL] && !cfg_is_null(v[K_URL]) &&
	    (s = cfg_scalar(c, v[K_URL], "smtp.url", "a URL"))) {
		if (url_parse(s, &u, &why) == -1)
			cfg_err(c, v[K_URL], "smtp.url: %s (smtp://HOST[:PORT] "
			    "or smtps://HOST[:PORT])", why);
		else if (strcmp(u.scheme, "smtp") != 0 &&
		    strcmp(u.scheme, "smtps") != 0)
			cfg_err(c, v[K_URL], "smtp.url: expected smtp:// or "
			    "smtps://, got %s://", u.scheme);
		else if (u.user)
			/* never echo it: it may hold a password */
			cfg_err(c, v[K_URL], "smtp.url: do not put a user name "
			    "or password in the URL; use smtp.username and "
			    "smtp.password_env or smtp.password_file");
		else if (u.host_len == 0)
			cfg_err(c, v[K_URL], "smtp.url: no host name (expected "
			    "smtp://HOST[:PORT])");
		else {
			free(cfg->smtp.url);
			cfg->smtp.url = xstrdup(s);
		}
	}
	if (v[K_STARTTLS] && !cfg_is_null(v[K_STARTTLS]) &&
	    (s = cfg_scalar(c, v[K_STARTTLS], "smtp.starttls", "auto, required "
	    "or off"))) {
		if (strcmp(s, "auto") == 0)
			cfg->smtp.starttls = STARTTLS_AUTO;
		else if (strcmp(s, "required") == 0)
			cfg->smtp.starttls = STARTTLS_REQUIRED;
		else if (strcmp(s, "off") == 0 || strcmp(s, "false") == 0 ||
		    strcmp(s, "no") == 0)
			cfg->smtp.starttls = STARTTLS_OFF;
		else
			cfg_err(c, v[K_STARTTLS], "smtp.starttls: expected auto, "
			    "required or off, got %s", cfg_quote(s, q));
	}
	if (v[K_USER] && !cfg_is_null(v[K_USER]))
		cfg_string(c, v[K_USER], "smtp.username", &cfg->smtp.username);
	cfg_secret_ref(c, "smtp", v[K_PENV], v[K_PFILE],
	    &cfg->smtp.password_env, &cfg->smtp.password_file);
	if (v[K_CONN] && !cfg_is_null(v[K_CONN]))
		cfg_long(c, v[K_CONN], "smtp.connections", 1, 64,
		    &cfg->smtp.connections);
	if (v[K_RATE] && !cfg_is_null(v[K_RATE]))
		cfg_double(c, v[K_RATE], "smtp.rate", 0, 1000000,
		    &cfg->smtp.rate);
	if (v[K_TIMEOUT] && !cfg_is_null(v[K_TIMEOUT]))
		cfg_long(c, v[K_TIMEOUT], "smtp.timeout", 1, 3600,
		    &cfg->smtp.timeout);
	if (v[K_ATTEMPTS] && !cfg_is_null(v[K_ATTEMPTS]))
		cfg_long(c, v[K_ATTEMPTS], "smtp.max_attempts", 1, 100,
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

	if (!cfg_map_keys(c, map, "web", names, K_N, v, k))
		return;
	cfg->web.enabled = true;
	if (v[K_LISTEN] && !cfg_is_null(v[K_LISTEN]) &&
	    (s = cfg_scalar(c, v[K_LISTEN], "web.listen", "HOST:PORT"))) {
		char *tmp = xasprintf("http://%s", s);

		if (url_parse(tmp, &u, &why) == -1 || u.user ||
		    u.host_len == 0 || u.port == -1 || *u.rest != '\0')
			cfg_err(c, v[K_LISTEN], "web.listen: expected HOST:PORT "
			    "(such as 127.0.0.1:8080 or [::1]:8080)");
		else {
			free(cfg->web.listen);
			cfg->web.listen = xstrdup(s);
		}
		free(tmp);
	}
	if (v[K_BASE] == NULL || cfg_is_null(v[K_BASE]))
		cfg_err(c, map, "web: base_url is missing (the https:// address "
		    "that links in messages point at)");
	else if ((s = cfg_scalar(c, v[K_BASE], "web.base_url", "a URL"))) {
		if (url_parse(s, &u, &why) == -1)
			cfg_err(c, v[K_BASE], "web.base_url: %s", why);
		else if (strcmp(u.scheme, "https") != 0 &&
		    strcmp(u.scheme, "http") != 0)
			cfg_err(c, v[K_BASE], "web.base_url: expected https:// "
			    "(or http:// for testing), got %s://", u.scheme);
		else if (u.host_len == 0 || u.user)
			cfg_err(c, v[K_BASE], "web.base_url: expected "
			    "https://HOST[/PATH] without a user name");
		else if (strpbrk(u.rest, "?#") != NULL)
			cfg_err(c, v[K_BASE], "web.base_url: no query or "
			    "fragment allowed");
		else {
			if (strcmp(u.scheme, "http") == 0)
				cfg_warn(c, v[K_BASE], "web.base_url: http:// "
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
	if (v[K_SIGNUP] && !cfg_is_null(v[K_SIGNUP]))
		cfg_bool(c, v[K_SIGNUP], "web.signup", &cfg->web.signup);
	if (v[K_EXPIRY] && !cfg_is_null(v[K_EXPIRY]))
		cfg_duration(c, v[K_EXPIRY], "web.confirm_expiry", 60,
		    &cfg->web.confirm_expiry);
	if (v[K_WELCOME] && !cfg_is_null(v[K_WELCOME]))
		cfg_bool(c, v[K_WELCOME], "web.welcome", &cfg->web.welcome);
	if (v[K_TEMPLATES] && !cfg_is_null(v[K_TEMPLATES]))
		cfg_path(c, v[K_TEMPLATES], "web.templates",
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

	if (!cfg_map_keys(c, map, "bounces", names, K_N, v, k))
		return;
	cfg->bounces.enabled = true;
	if (v[K_MAILBOX] == NULL || cfg_is_null(v[K_MAILBOX]))
		cfg_err(c, map, "bounces: mailbox is missing (imaps://USER@HOST/"
		    "FOLDER, pop3s://USER@HOST or maildir:PATH)");
	else if ((s = cfg_scalar(c, v[K_MAILBOX], "bounces.mailbox",
	    "a mailbox URL"))) {
		if (strncmp(s, "maildir:", 8) == 0) {
			if (s[8] == '\0' || strpbrk(s, "\r\n") != NULL)
				cfg_err(c, v[K_MAILBOX], "bounces.mailbox: "
				    "expected maildir:PATH");
			else {
				char *p = cfg_resolve_path(c->dir,
				    s[8] == '/' && s[9] == '/' && s[10] == '/' ?
				    s + 10 : s + 8);

				free(cfg->bounces.mailbox);
				cfg->bounces.mailbox = xasprintf("maildir:%s",
				    p);
				free(p);
			}
		} else if (url_parse(s, &u, &why) == -1)
			cfg_err(c, v[K_MAILBOX], "bounces.mailbox: %s "
			    "(imaps://USER@HOST/FOLDER, pop3s://USER@HOST or "
			    "maildir:PATH)", why);
		else if (strcmp(u.scheme, "imap") != 0 &&
		    strcmp(u.scheme, "imaps") != 0 &&
		    strcmp(u.scheme, "pop3") != 0 &&
		    strcmp(u.scheme, "pop3s") != 0)
			cfg_err(c, v[K_MAILBOX], "bounces.mailbox: expected "
			    "imap://, imaps://, pop3://, pop3s:// or maildir:, "
			    "got %s://", u.scheme);
		else if (u.has_password)
			cfg_err(c, v[K_MAILBOX], "bounces.mailbox: do not put a "
			    "password in the URL; use bounces.password_env or "
			    "bounces.password_file");
		else if (u.host_len == 0)
			cfg_err(c, v[K_MAILBOX], "bounces.mailbox: no host name");
		else {
			free(cfg->bounces.mailbox);
			cfg->bounces.mailbox = xstrdup(s);
		}
	}
	cfg_secret_ref(c, "bounces", v[K_PENV], v[K_PFILE],
	    &cfg->bounces.password_env, &cfg->bounces.password_file);
	if (v[K_INTERVAL] && !cfg_is_null(v[K_INTERVAL]))
		cfg_duration(c, v[K_INTERVAL], "bounces.interval", 10,
		    &cfg->bounces.interval);
	if (v[K_SOFT] && !cfg_is_null(v[K_SOFT]))
		cfg_long(c, v[K_SOFT], "bounces.soft_limit", 1, 1000,
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

	if (!cfg_map_keys(c, map, path, names, K_N, v, k))
		return;
	src.interval = 15 * 60;
	if (v[K_INTERVAL] && !cfg_is_null(v[K_INTERVAL])) {
		cfg_keypath(sub, sizeof(sub), path, "interval");
		cfg_duration(c, v[K_INTERVAL], sub, 10, &src.interval);
	}
	if ((v[K_FEED] != NULL) == (v[K_FOLDER] != NULL)) {
		cfg_err(c, map, "%s: give exactly one of feed: (a URL) or "
		    "folder: (a directory)", path);
		return;
	}
	if (v[K_FEED]) {
		cfg_keypath(sub, sizeof(sub), path, "feed");
		src.kind = SOURCE_FEED;
		if ((s = cfg_scalar(c, v[K_FEED], sub, "a URL")) == NULL)
			return;
		if (url_parse(s, &u, &why) == -1) {
			cfg_err(c, v[K_FEED], "%s: %s (http://, https:// or "
			    "file:///PATH)", sub, why);
			return;
		}
		if (strcmp(u.scheme, "http") == 0 ||
		    strcmp(u.scheme, "https") == 0) {
			if (u.host_len == 0) {
				cfg_err(c, v[K_FEED], "%s: no host name", sub);
				return;
			}
		} else if (strcmp(u.scheme, "file") == 0) {
			if (u.user || (u.host_len && !(u.host_len == 9 &&
			    strncmp(u.host, "localhost", 9) == 0)) ||
			    *u.rest != '/') {
				cfg_err(c, v[K_FEED], "%s: expected file:///"
				    "ABSOLUTE/PATH", sub);
				return;
			}
		} else {
			cfg_err(c, v[K_FEED], "%s: expected an http://, https:// "
			    "or file:// URL, got %s://", sub, u.scheme);
			return;
		}
		src.location = xstrdup(s);
	} else {
		cfg_keypath(sub, sizeof(sub), path, "folder");
		src.kind = SOURCE_FOLDER;
		if (!cfg_path(c, v[K_FOLDER], sub, &src.location))
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

	if (!cfg_map_keys(c, map, path, names, 2, v, k))
		return;
	if (v[0] && !cfg_is_null(v[0])) {
		cfg_keypath(sub, sizeof(sub), path, "text");
		cfg_path(c, v[0], sub, &nl->template_text);
	}
	if (v[1] && !cfg_is_null(v[1])) {
		cfg_keypath(sub, sizeof(sub), path, "html");
		cfg_path(c, v[1], sub, &nl->template_html);
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
	if (!cfg_map_keys(c, map, path, names, K_N, v, k))
		return;
	cfg->nnewsletters++;
	nl->min_articles = 1;
	nl->max_articles = 20;

	if (v[K_ID] == NULL || cfg_is_null(v[K_ID]))
		cfg_err(c, map, "%s: id is missing (a short name such as "
		    "'daily': lowercase letters, digits, - and _)", path);
	else if ((cfg_keypath(sub, sizeof(sub), path, "id"), cfg_string(c, v[K_ID], sub, &nl->id))) {
		if (!id_valid(nl->id)) {
			cfg_err(c, v[K_ID], "%s.id: %s may hold only lowercase "
			    "letters, digits, - and _ (at most 64)", path,
			    cfg_quote(nl->id, q));
		} else {
			for (i = 0; i + 1 < cfg->nnewsletters; i++) {
				if (cfg->newsletters[i].id &&
				    strcmp(cfg->newsletters[i].id, nl->id) == 0)
					cfg_err(c, v[K_ID], "%s.id: '%s' is "
					    "already used by another "
					    "newsletter", path, nl->id);
			}
		}
	}
	if (v[K_TITLE] == NULL || cfg_is_null(v[K_TITLE]))
		cfg_err(c, map, "%s: title is missing", path);
	else {
		cfg_keypath(sub, sizeof(sub), path, "title");
		cfg_string(c, v[K_TITLE], sub, &nl->title);
	}
	if (v[K_FROM] == NULL || cfg_is_null(v[K_FROM]))
		cfg_err(c, map, "%s: from is missing (\"Name <address>\")",
		    path);
	else if ((s = cfg_scalar(c, v[K_FROM], (cfg_keypath(sub, sizeof(sub), path, "from"), sub), "an address"))) {
		if (email_mailbox_parse(s, &nl->from_name, &nl->from_addr,
		    &why) == -1)
			cfg_err(c, v[K_FROM], "%s.from: %s is not a valid "
			    "address: %s (expected \"Name <user@example.org>\" "
			    "or user@example.org)", path, cfg_quote(s, q), why);
		else
			nl->from = xstrdup(s);
	}
	if (v[K_REPLY] && !cfg_is_null(v[K_REPLY]) &&
	    (s = cfg_scalar(c, v[K_REPLY], (cfg_keypath(sub, sizeof(sub), path, "reply_to"), sub), "an address"))) {
		char *n = NULL, *a = NULL;

		if (email_mailbox_parse(s, &n, &a, &why) == -1)
			cfg_err(c, v[K_REPLY], "%s.reply_to: %s is not a valid "
			    "address: %s", path, cfg_quote(s, q), why);
		else
			nl->reply_to = xstrdup(s);
		free(n);
		free(a);
	}
	if (v[K_BOUNCE] && !cfg_is_null(v[K_BOUNCE]) &&
	    (s = cfg_scalar(c, v[K_BOUNCE], (cfg_keypath(sub, sizeof(sub), path, "bounce_address"), sub), "an address"))) {
		if (!email_addr_valid(s, &why))
			cfg_err(c, v[K_BOUNCE], "%s.bounce_address: %s is not a "
			    "valid address: %s (expected user@example.org, "
			    "without a name or <>)", path, cfg_quote(s, q), why);
		else
			nl->bounce_address = xstrdup(s);
	} else if (nl->from_addr && (v[K_BOUNCE] == NULL ||
	    cfg_is_null(v[K_BOUNCE])))
		nl->bounce_address = xstrdup(nl->from_addr);
	if (v[K_SUBJECT] && !cfg_is_null(v[K_SUBJECT])) {
		cfg_keypath(sub, sizeof(sub), path, "subject");
		if (cfg_string(c, v[K_SUBJECT], sub, &nl->subject) &&
		    (s = per_reader_name(nl->subject)) != NULL)
			cfg_err(c, v[K_SUBJECT], "%s: {{%.*s}} differs from one "
			    "reader to the next, but an issue has one subject "
			    "for everybody; use it in the templates instead",
			    sub, (int)strcspn(s, " }"), s);
	} else
		nl->subject = xstrdup(CONFIG_DEFAULT_SUBJECT);
	if (v[K_TZ] && !cfg_is_null(v[K_TZ]) &&
	    (s = cfg_scalar(c, v[K_TZ], (cfg_keypath(sub, sizeof(sub), path, "timezone"), sub), "a time zone name"))) {
		if (!config_tz_valid(s))
			cfg_err(c, v[K_TZ], "%s.timezone: %s is not a time zone "
			    "of the system tz database (expected a name such "
			    "as Europe/London, America/New_York or UTC)", path,
			    cfg_quote(s, q));
		else
			nl->timezone = xstrdup(s);
	} else
		nl->timezone = xstrdup("UTC");
	if (v[K_SCHED] == NULL || cfg_is_null(v[K_SCHED]))
		cfg_err(c, map, "%s: schedule is missing (a cron expression "
		    "such as \"0 7 * * *\", or \"every 6h\")", path);
	else if ((s = cfg_scalar(c, v[K_SCHED], (cfg_keypath(sub, sizeof(sub), path, "schedule"), sub), "a schedule"))) {
		if (schedule_parse(s, &nl->schedule, &why) == -1)
			cfg_err(c, v[K_SCHED], "%s.schedule: %s: %s (expected "
			    "5 cron fields such as \"0 7 * * mon-fri\", or "
			    "\"every 6h\")", path, cfg_quote(s, q), why);
		else
			nl->schedule_text = xstrdup(s);
	}
	if (v[K_MIN] && !cfg_is_null(v[K_MIN])) {
		cfg_keypath(sub, sizeof(sub), path, "min_articles");
		cfg_long(c, v[K_MIN], sub, 1, 1000, &nl->min_articles);
	}
	if (v[K_MAX] && !cfg_is_null(v[K_MAX])) {
		cfg_keypath(sub, sizeof(sub), path, "max_articles");
		cfg_long(c, v[K_MAX], sub, 1, 1000, &nl->max_articles);
	}
	if (nl->min_articles > nl->max_articles)
		cfg_err(c, v[K_MIN] ? v[K_MIN] : v[K_MAX], "%s: min_articles "
		    "(%ld) is larger than max_articles (%ld)", path,
		    nl->min_articles, nl->max_articles);
	if (v[K_TMPL] && !cfg_is_null(v[K_TMPL])) {
		cfg_keypath(sub, sizeof(sub), path, "templates");
		load_templates(c, nl, v[K_TMPL], sub);
	}
	if (v[K_FBID] && !cfg_is_null(v[K_FBID])) {
		cfg_keypath(sub, sizeof(sub), path, "feedback_id");
		if (cfg_string(c, v[K_FBID], sub, &nl->feedback_id)) {
			for (i = 0; nl->feedback_id[i]; i++)
				if ((unsigned char)nl->feedback_id[i] > 0x7e)
					break;
			if (nl->feedback_id[i] || i > 200)
				cfg_err(c, v[K_FBID], "%s: expected printable "
				    "ASCII of at most 200 characters (such as "
				    "daily:herald:example.org)", sub);
		}
	}
	if (v[K_SOURCES] == NULL || cfg_is_null(v[K_SOURCES])) {
		cfg_err(c, map, "%s: sources is missing (a list of feed: URL "
		    "or folder: PATH entries)", path);
		return;
	}
	cfg_keypath(sub, sizeof(sub), path, "sources");
	if (v[K_SOURCES]->type != YAML_SEQUENCE_NODE) {
		cfg_err(c, v[K_SOURCES], "%s: expected a list (lines starting "
		    "with '- feed:' or '- folder:'), got %s", sub,
		    cfg_kind(v[K_SOURCES]));
		return;
	}
	if (!cfg_visit(c, v[K_SOURCES], sub))
		return;
	nsrc = 0;
	for (it = v[K_SOURCES]->data.sequence.items.start;
	    it < v[K_SOURCES]->data.sequence.items.top; it++, nsrc++) {
		yaml_node_t *sn = cfg_node(c, *it);

		if (sn == NULL)
			continue;
		snprintf(sub, sizeof(sub), "%s.sources[%zu]", path, nsrc);
		load_source(c, nl, sn, sub);
	}
	if (nsrc == 0)
		cfg_err(c, v[K_SOURCES], "%s.sources: the list is empty; give "
		    "at least one feed: or folder:", path);
}

void
cfg_load_root(struct ctx *c, struct config *cfg, yaml_node_t *root)
{
	static const char *const names[] = { "database", "smtp", "web",
	    "secret_file", "bounces", "newsletters" };
	enum { K_DB, K_SMTP, K_WEB, K_SECRET, K_BOUNCES, K_NL, K_N };
	yaml_node_t *v[K_N], *k[K_N];
	yaml_node_item_t *it;
	size_t i;

	if (root->type != YAML_MAPPING_NODE) {
		cfg_err(c, root, "expected a mapping of settings (database:, "
		    "smtp:, newsletters: ...), got %s", cfg_kind(root));
		return;
	}
	if (!cfg_map_keys(c, root, "config", names, K_N, v, k))
		return;
	if (v[K_DB] && !cfg_is_null(v[K_DB]))
		cfg_path(c, v[K_DB], "database", &cfg->database);
	if (v[K_SMTP] && !cfg_is_null(v[K_SMTP]))
		load_smtp(c, cfg, v[K_SMTP]);
	if (v[K_WEB] && !cfg_is_null(v[K_WEB]))
		load_web(c, cfg, v[K_WEB]);
	if (v[K_SECRET] && !cfg_is_null(v[K_SECRET]))
		cfg_path(c, v[K_SECRET], "secret_file", &cfg->secret_file);
	if (v[K_BOUNCES] && !cfg_is_null(v[K_BOUNCES]))
		load_bounces(c, cfg, v[K_BOUNCES]);
	if (v[K_NL] == NULL || cfg_is_null(v[K_NL])) {
		cfg_err(c, root, "newsletters is missing (a list with at least "
		    "one newsletter: id, title, from, schedule, sources)");
		return;
	}
	if (v[K_NL]->type != YAML_SEQUENCE_NODE) {
		cfg_err(c, v[K_NL], "newsletters: expected a list (lines "
		    "starting with '- id:'), got %s", cfg_kind(v[K_NL]));
		return;
	}
	if (!cfg_visit(c, v[K_NL], "newsletters"))
		return;
	i = 0;
	for (it = v[K_NL]->data.sequence.items.start;
	    it < v[K_NL]->data.sequence.items.top; it++, i++) {
		yaml_node_t *n = cfg_node(c, *it);

		if (n != NULL)
			load_newsletter(c, cfg, n, i);
	}
	if (i == 0)
		cfg_err(c, v[K_NL], "newsletters: the list is empty; give at "
		    "least one newsletter");
}

/* ---- loading ---- */

struct config *
cfg_new(const char *dir)
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

