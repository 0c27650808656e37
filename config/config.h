/*
 * config: the YAML configuration of DESIGN §4, loaded and fully validated.
 *
 * config_load() reads the file with libyaml, checks every key (unknown keys,
 * types, durations, cron, time zones, URLs, addresses) and reports every
 * problem it finds, each as "file:line:col: message", through the diag list.
 * Only a config with no errors is returned.  Relative paths in the file are
 * resolved against the directory of the file, so every path field below is
 * absolute (or as given when already absolute).
 *
 * Secrets are never stored in the struct: only where to find them
 * (password_env / password_file); config_secret() reads one when needed.
 */
#ifndef HERALD_CONFIG_H
#define HERALD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum starttls_mode {
	STARTTLS_AUTO = 0,
	STARTTLS_REQUIRED,
	STARTTLS_OFF,
};

enum source_kind {
	SOURCE_FEED = 0,
	SOURCE_FOLDER,
};

struct source_conf {
	enum source_kind kind;
	char		*location;	/* feed URL, or absolute folder path */
	long		 interval;	/* seconds between polls (default 15m) */
};

/* A parsed schedule: a 5-field cron expression or "every <duration>". */
struct schedule {
	bool		 every;		/* true: every `period` seconds */
	long		 period;
	/* cron fields as bit sets */
	uint64_t	 minute;	/* bits 0..59 */
	uint32_t	 hour;		/* bits 0..23 */
	uint32_t	 dom;		/* bits 1..31 */
	uint16_t	 month;		/* bits 1..12 */
	uint8_t		 dow;		/* bits 0..6, Sunday = 0 */
	bool		 dom_star;	/* day-of-month field was "*" */
	bool		 dow_star;	/* day-of-week field was "*" */
};

struct newsletter_conf {
	char		*id;
	char		*title;
	char		*from;		/* RFC 5322 mailbox, as written */
	char		*from_name;	/* display name or NULL */
	char		*from_addr;	/* addr-spec */
	char		*reply_to;	/* optional addr-spec or mailbox */
	char		*bounce_address;/* addr-spec; VERP base */
	char		*subject;	/* Mustache template of the subject */
	char		*schedule_text;	/* as written */
	struct schedule	 schedule;
	char		*timezone;	/* IANA name, default "UTC" */
	long		 min_articles;	/* default 1 */
	long		 max_articles;	/* default 20 */
	char		*template_text;	/* path, or NULL for the shipped one */
	char		*template_html;	/* path, or NULL for the shipped one */
	char		*feedback_id;	/* optional Feedback-ID header value */
	struct source_conf *sources;
	size_t		 nsources;
};

struct config {
	char		*path;		/* the file loaded (absolute) */
	char		*dir;		/* its directory */
	char		*database;	/* absolute path, or a PostgreSQL URI */
	char		*database_password_env;	/* database.password_env */
	char		*database_password_file;	/* database.password_file */
	struct {
		char	*url;		/* smtp://host:port or smtps://host:port */
		enum starttls_mode starttls;
		char	*username;	/* optional */
		char	*password_env;	/* optional, name of env var */
		char	*password_file;	/* optional, absolute path */
		long	 connections;	/* default 4 */
		double	 rate;		/* messages/s, all connections; default 50; 0 = unlimited */
		long	 timeout;	/* seconds per command; default 30 */
		long	 max_attempts;	/* default 8 */
	} smtp;
	struct {
		bool	 enabled;	/* the web: section is present */
		char	*listen;	/* host:port */
		char	*base_url;
		bool	 signup;
		long	 confirm_expiry;/* seconds; default 7d */
		bool	 welcome;	/* a welcome mail after confirming */
		char	*templates;	/* folder overriding the shipped page,
					   confirm and welcome templates; NULL */
	} web;
	char		*secret_file;	/* absolute; default <dir>/secret */
	struct {
		bool	 enabled;
		char	*mailbox;	/* imap(s)://, pop3(s)://, maildir:/path */
		char	*password_env;
		char	*password_file;
		long	 interval;	/* seconds; default 5m */
		long	 soft_limit;	/* default 3 */
	} bounces;
	struct newsletter_conf *newsletters;
	size_t		 nnewsletters;
};

/* One problem found while loading; a list is filled in file order. */
struct diag {
	char		*file;
	int		 line;		/* 1-based, 0 when unknown */
	int		 col;		/* 1-based */
	bool		 warning;	/* false: error */
	char		*msg;
};

struct diags {
	struct diag	*v;
	size_t		 n;
	size_t		 nerrors;
};

void	diags_free(struct diags *);
/*
 * Prints each as "file:line:col: [warning: ]msg" to stderr; warnings are
 * left out under -q (log_verbosity() < 0).
 */
void	diags_print(const struct diags *);
/*
 * Appends one diagnostic (file is copied; line/col 1-based, 0 when
 * unknown); counts it in nerrors unless warning.
 */
void	diags_add(struct diags *, const char *file, int line, int col,
	    bool warning, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

/*
 * Loads and validates path.  Returns NULL when the file cannot be read or
 * has any error; diagnostics (errors and warnings) are appended to d.
 */
struct config	*config_load(const char *path, struct diags *d);
/* Same, from memory (for tests and fuzzing); name is used in messages. */
struct config	*config_load_mem(const char *name, const char *dir,
		    const char *data, size_t len, struct diags *d);
void		 config_free(struct config *);

/*
 * Which config file to use: explicit (-c), else $HERALD_CONFIG, else
 * ./herald.yml, else /etc/herald/herald.yml.  Returns a pointer to a static
 * or to explicit; never NULL (the last candidate when none exists).  An
 * empty explicit path is returned as it is (then fails to open): -c "" is a
 * mistake, not a request for the defaults.
 */
const char	*config_default_path(const char *explicit_path);

/*
 * The newsletter named id, or the only one when id is NULL.  Returns NULL
 * and sets *why (static string) when there is none, several and no id, or
 * no such id.
 */
const struct newsletter_conf *config_newsletter(const struct config *,
		    const char *id, const char **why);

/*
 * Reads a secret from an env var name or a file (trailing newline removed).
 * Returns a new string (caller frees, and should wipe) or NULL with *why
 * (a new string the caller frees; it never contains the secret).
 * Both NULL: returns NULL and *why = NULL (no secret configured).
 */
char		*config_secret(const char *env_name, const char *file,
		    char **why);

/*
 * Schedule: next fire time strictly after `after`, in time zone tz.
 * Returns (time_t)-1 if none within ~5 years (e.g. "0 0 31 2 *").
 */
time_t		 schedule_next(const struct schedule *, const char *tz,
		    time_t after);
/* Parses "every 6h" or a 5-field cron expression; -1 with *why (static). */
int		 schedule_parse(const char *text, struct schedule *out,
		    const char **why);
/*
 * A short English description ("every day at 07:00", "every 6h"); text is
 * the expression as written, used in the "cron: <text>" fallback.
 * Returns a new string (caller frees).
 */
char		*schedule_describe(const struct schedule *, const char *text);

/*
 * Formats t as local time in zone tz ("2026-11-25 07:00 GMT") into out.
 * Like schedule_next it sets TZ for the call and restores it.
 */
void		 schedule_time_local(time_t t, const char *tz, char *out,
		    size_t outlen);

/*
 * Runs code in another time zone: tz_use() sets TZ (to ":" tz, "UTC" when
 * NULL or empty) and calls tzset(), keeping the old value in *t;
 * tz_restore() puts it back.  The one TZ swap of herald (schedules, dates
 * in messages); not thread-safe, like localtime itself with TZ changes.
 */
struct tz_saved {
	char	*old;
	bool	 had;
};
void		 tz_use(struct tz_saved *t, const char *tz);
void		 tz_restore(struct tz_saved *t);

/* The subject used when a newsletter sets none. */
#define CONFIG_DEFAULT_SUBJECT \
	"{{newsletter.title}} #{{issue.number}}: {{first_article.title}}"

/*
 * True when name is a time zone of the system tz database ($TZDIR or
 * /usr/share/zoneinfo); names with "..", a leading "/" or odd characters
 * are refused.  "UTC" is always accepted.
 */
bool		 config_tz_valid(const char *name);

#endif
