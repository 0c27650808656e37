/*
 * `herald init [DIR]` and `herald config check`.
 *
 * init writes a starter herald.yml (config/herald.example.yml, compiled
 * in), the example article into articles/ and the shipped templates into
 * templates/; it refuses to touch any file that exists, and writes each file
 * temp + fsync + rename-without-replace.
 *
 * config check loads the config, checks each newsletter's templates, prints
 * every problem as file:line:col and, when there is none, a summary.  It
 * never prints a secret, and never creates the database.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "confirm.h"
#include "fileio.h"
#include "init_files.h"
#include "log.h"
#include "render.h"
#include "store_subs.h"
#include "templates_builtin.h"
#include "util.h"
#include "xmalloc.h"

/* ---- init ---- */

static void
init_usage(FILE *f)
{
	fprintf(f,
	    "usage: herald init [DIR]\n"
	    "       herald init --system [--root ROOT]\n"
	    "\n"
	    "Writes a commented starter configuration into DIR (default: the\n"
	    "current directory):\n"
	    "  DIR/herald.yml                  the configuration; it passes\n"
	    "                                  `herald config check` as it is\n"
	    "  DIR/articles/example-article.txt  an article for the folder source\n"
	    "  DIR/templates/*.mustache        the shipped templates, to customise\n"
	    "\n"
	    "--system writes the service layout instead: the same files in\n"
	    "/etc/herald, with database and secret_file under /var/lib/herald\n"
	    "(the unit's StateDirectory, writable by the herald user).  --root ROOT\n"
	    "writes them under ROOT (ROOT/etc/herald), as DESTDIR does for make\n"
	    "install; the paths inside herald.yml stay /var/lib/herald/...\n"
	    "\n"
	    "Nothing is overwritten: when any of these files exists, init writes\n"
	    "nothing and exits 2.\n"
	    "\n"
	    "Then: cd DIR && herald config check\n");
}

#define SYSTEM_CONFIG_DIR	"/etc/herald"
#define SYSTEM_STATE_DIR	"/var/lib/herald"

/*
 * The starter config with database and secret_file in the state directory
 * (for --system).  Returns a new string, or NULL when the starter no longer
 * has the lines this replaces (a test keeps them in step).
 */
static char *
system_config(size_t *len)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
		{ "\ndatabase: herald.db\n",
		  "\ndatabase: " SYSTEM_STATE_DIR "/herald.db\n" },
		{ "\nsecret_file: secret\n",
		  "\nsecret_file: " SYSTEM_STATE_DIR "/secret\n" },
	};
	struct buf b = BUF_INIT;
	const char *src = init_config_yml, *at;
	size_t i;

	buf_add(&b, src, init_config_yml_len);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char *cur = buf_take(&b);

		at = strstr(cur, edits[i].from);
		if (at == NULL) {
			free(cur);
			return NULL;
		}
		buf_init(&b, 0);
		buf_add(&b, cur, (size_t)(at - cur));
		buf_adds(&b, edits[i].to);
		buf_adds(&b, at + strlen(edits[i].from));
		free(cur);
	}
	*len = b.len;
	return buf_take(&b);
}

struct init_file {
	char		*path;
	const char	*data;
	size_t		 len;
};

static int
mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0777) == -1 && errno != EEXIST) {
				rc = -1;
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	if (rc == 0) {
		struct stat sb;

		if (stat(path, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
			errno = ENOTDIR;
			rc = -1;
		}
	}
	free(p);
	return rc;
}

/* Writes a new file (never replacing one); *why says why not. */
static int
write_new_file(const char *path, const char *data, size_t len,
    const char **why)
{
	if (file_write_atomic(path, data, len, 0644, FILE_NOREPLACE) == -1) {
		*why = errno == EEXIST ? "it exists already" : strerror(errno);
		return -1;
	}
	return 0;
}

static char *
join(const char *dir, const char *name)
{
	if (strcmp(dir, ".") == 0)
		return xstrdup(name);
	return xasprintf("%s%s%s", dir,
	    dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

int
cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "system", no_argument, NULL, 'S' },
		{ "root", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct init_file *files = NULL;
	const char *root = NULL;
	char *sysdir = NULL, *syscfg = NULL;
	size_t syscfg_len = 0;
	bool sys = false;
	const struct builtin_template *t;
	const char *dir = ".", *why = NULL;
	char *sub = NULL;
	size_t nfiles = 0, i, nexist = 0;
	struct stat sb;
	int c, rc = EXIT_USAGE;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			init_usage(stdout);
			return EXIT_OK;
		}
		if (c == 'S') {
			sys = true;
			continue;
		}
		if (c == 'R') {
			root = optarg;
			continue;
		}
		return cli_usage_error("init", "unknown option");
	}
	if (argc - optind > 1)
		return cli_usage_error("init", "expected at most one DIR");
	if (sys && argc - optind == 1)
		return cli_usage_error("init", "--system writes to %s; give no "
		    "DIR (--root ROOT writes under ROOT)", SYSTEM_CONFIG_DIR);
	if (root && !sys)
		return cli_usage_error("init", "--root goes with --system");
	if (argc - optind == 1)
		dir = argv[optind];
	if (sys) {
		if (root && *root == '\0')
			return cli_usage_error("init", "--root is empty");
		syscfg = system_config(&syscfg_len);
		if (syscfg == NULL) {
			log_error("init: --system: the starter configuration has "
			    "no `database: herald.db` line to move to %s",
			    SYSTEM_STATE_DIR);
			return EXIT_FAIL;
		}
		sysdir = xasprintf("%s%s", root && strcmp(root, "/") != 0 ?
		    root : "", SYSTEM_CONFIG_DIR);
		dir = sysdir;
	}
	if (*dir == '\0')
		return cli_usage_error("init", "DIR is empty");

	files = xcalloc(3 + 64, sizeof(*files));
	files[nfiles++] = (struct init_file){ join(dir, "herald.yml"),
	    sys ? syscfg : init_config_yml, sys ? syscfg_len :
	    init_config_yml_len };
	files[nfiles++] = (struct init_file){
	    join(dir, "articles/example-article.txt"), init_example_article,
	    init_example_article_len };
	for (t = herald_builtin_templates; t->name && nfiles < 3 + 64; t++) {
		char *rel = xasprintf("templates/%s", t->name);

		files[nfiles++] = (struct init_file){ join(dir, rel), t->data,
		    t->len };
		free(rel);
	}

	/* all or nothing: refuse before writing anything */
	for (i = 0; i < nfiles; i++) {
		if (lstat(files[i].path, &sb) == 0) {
			log_error("init: %s already exists; not overwriting "
			    "it", files[i].path);
			nexist++;
		}
	}
	if (nexist) {
		log_error("init: nothing written (move the existing files "
		    "away, or choose another DIR)");
		goto out;
	}
	rc = EXIT_FAIL;
	if (mkdir_p(dir) == -1) {
		log_error("init: %s: cannot create the directory: %s", dir,
		    strerror(errno));
		goto out;
	}
	sub = join(dir, "articles");
	if (mkdir_p(sub) == -1) {
		log_error("init: %s: cannot create the directory: %s", sub,
		    strerror(errno));
		goto out;
	}
	free(sub);
	sub = join(dir, "templates");
	if (mkdir_p(sub) == -1) {
		log_error("init: %s: cannot create the directory: %s", sub,
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		if (write_new_file(files[i].path, files[i].data, files[i].len,
		    &why) == -1) {
			log_error("init: %s: cannot write: %s", files[i].path,
			    why);
			rc = strcmp(why, "it exists already") == 0 ?
			    EXIT_USAGE : EXIT_FAIL;
			/* all or nothing: a retry must not find half a set */
			while (i-- > 0)
				unlink(files[i].path);
			log_error("init: nothing written");
			goto out;
		}
	}
	for (i = 0; i < nfiles; i++)
		printf("created %s\n", files[i].path);
	if (sys) {
		printf("\nThe database and the secret go in %s (created by the "
		    "unit's StateDirectory=,\nowned by the herald user).  "
		    "Next:\n", SYSTEM_STATE_DIR);
		printf("  systemd-sysusers             # the herald user "
		    "(sysusers.d/herald.conf)\n"
		    "  edit %s/herald.yml     # from, the SMTP relay, the "
		    "schedule\n"
		    "  herald config check\n"
		    "  systemctl enable --now herald\n"
		    "  sudo -u herald herald subscribers add you@example.org\n"
		    "See herald(1), section SERVICE.\n", SYSTEM_CONFIG_DIR);
		rc = EXIT_OK;
		goto out;
	}
	printf("\nNext:\n");
	if (strcmp(dir, ".") != 0)
		printf("  cd %s\n", dir);
	printf("  herald config check      # validate and summarise\n"
	    "  herald subscribers add you@example.org\n"
	    "  herald preview            # render the next issue\n"
	    "Edit herald.yml first: from, the SMTP relay and the schedule.\n");
	rc = EXIT_OK;
out:
	free(sub);
	for (i = 0; i < nfiles; i++)
		free(files[i].path);
	free(files);
	free(sysdir);
	free(syscfg);
	return rc;
}

/* ---- config check ---- */

static void
config_usage(FILE *f)
{
	fprintf(f,
	    "usage: herald [-c FILE] [-n ID] config check\n"
	    "\n"
	    "Validates the configuration and each newsletter's templates, then\n"
	    "prints a summary: each newsletter, its schedule in words, the next\n"
	    "run, its sources and its subscribers by status.  With -n ID, the\n"
	    "summary shows that newsletter only.\n"
	    "\n"
	    "Every problem is printed to stderr as FILE:LINE:COL: MESSAGE; then\n"
	    "the exit status is 2.  Warnings alone do not fail the check.\n"
	    "With -q, nothing is printed but errors (for ExecStartPre=).\n"
	    "Secrets are never printed, only where they come from.\n"
	    "\n"
	    "The file is -c FILE, else $HERALD_CONFIG, else ./herald.yml, else\n"
	    "/etc/herald/herald.yml.\n");
}

static const char *
starttls_name(enum starttls_mode m)
{
	switch (m) {
	case STARTTLS_REQUIRED:
		return "required";
	case STARTTLS_OFF:
		return "off";
	default:
		return "auto";
	}
}

/* "from $VAR (set)", "from file PATH (readable)": never the value. */
static void
print_secret_ref(const char *label, const char *env, const char *file)
{
	if (env)
		printf("  %s: from $%s (%s)\n", label, env,
		    getenv(env) && *getenv(env) ? "set" : "not set now");
	else if (file)
		printf("  %s: from file %s (%s)\n", label, file,
		    access(file, R_OK) == 0 ? "readable" : strerror(errno));
	else
		printf("  %s: none\n", label);
}

/* A PostgreSQL URI, not a file (issue 14). */
static bool
db_uri(const char *database)
{
	return strncmp(database, "postgresql://", 13) == 0 ||
	    strncmp(database, "postgres://", 11) == 0;
}

/* Subscriber counts by status, without creating the database. */
static void
print_subscribers(const struct config *cfg, const char *id)
{
	long counts[SUB_NSTATUS] = { 0 };
	struct store *st;
	char *err = NULL;

	if (!db_uri(cfg->database) && access(cfg->database, F_OK) == -1) {
		printf("  subscribers: 0 (no database yet)\n");
		return;
	}
	if ((st = store_open_ro(cfg->database, &err)) == NULL) {
		printf("  subscribers: unknown (%s)\n", err);
		free(err);
		return;
	}
	if (store_subs_count(st, id, counts) != STORE_OK)
		printf("  subscribers: unknown (%s)\n", store_errmsg(st));
	else
		printf("  subscribers: %ld active, %ld pending, %ld unsubscribed, "
		    "%ld bounced\n", counts[SUB_ACTIVE], counts[SUB_PENDING],
		    counts[SUB_UNSUBSCRIBED], counts[SUB_BOUNCED]);
	store_close(st);
}

static void
print_summary(const struct config *cfg, const char *path, const char *only)
{
	char dur[32], local[64], utc[21];
	struct stat sb;
	size_t i, j;
	time_t now = time(NULL);

	printf("%s: OK\n", path);
	printf("database: %s%s\n", cfg->database, db_uri(cfg->database) ||
	    access(cfg->database, F_OK) == 0 ? "" : " (not created yet)");
	printf("smtp: %s, starttls %s, %ld connection%s, ", cfg->smtp.url,
	    starttls_name(cfg->smtp.starttls), cfg->smtp.connections,
	    cfg->smtp.connections == 1 ? "" : "s");
	if (cfg->smtp.rate > 0)
		printf("at most %g messages/s\n", cfg->smtp.rate);
	else
		printf("no rate limit\n");
	printf("  timeout %lds, %ld attempts\n", cfg->smtp.timeout,
	    cfg->smtp.max_attempts);
	if (cfg->smtp.username) {
		printf("  username: %s\n", cfg->smtp.username);
		print_secret_ref("password", cfg->smtp.password_env,
		    cfg->smtp.password_file);
	} else if (cfg->smtp.password_env || cfg->smtp.password_file)
		print_secret_ref("password", cfg->smtp.password_env,
		    cfg->smtp.password_file);
	if (cfg->web.enabled) {
		duration_format(cfg->web.confirm_expiry, dur, sizeof(dur));
		printf("web: %s, listening on %s, signup %s, confirmations "
		    "expire after %s, welcome mail %s\n", cfg->web.base_url,
		    cfg->web.listen, cfg->web.signup ? "on" : "off", dur,
		    cfg->web.welcome ? "on" : "off");
		if (cfg->web.templates)
			printf("web: templates from %s (else the shipped ones)\n",
			    cfg->web.templates);
	} else
		printf("web: off (no HTTP endpoint; unsubscribe by mail only)\n");
	printf("secret_file: %s%s\n", cfg->secret_file,
	    access(cfg->secret_file, F_OK) == 0 ? "" :
	    " (created when first needed)");
	if (cfg->bounces.enabled) {
		duration_format(cfg->bounces.interval, dur, sizeof(dur));
		printf("bounces: %s, every %s, bounced after %ld soft bounces\n",
		    cfg->bounces.mailbox, dur, cfg->bounces.soft_limit);
		if (cfg->bounces.password_env || cfg->bounces.password_file)
			print_secret_ref("password", cfg->bounces.password_env,
			    cfg->bounces.password_file);
	} else
		printf("bounces: off\n");

	for (i = 0; i < cfg->nnewsletters; i++) {
		const struct newsletter_conf *nl = &cfg->newsletters[i];
		char *words = schedule_describe(&nl->schedule,
		    nl->schedule_text);
		time_t next;

		if (only && strcmp(only, nl->id) != 0) {
			free(words);
			continue;
		}
		next = schedule_next(&nl->schedule, nl->timezone, now);
		printf("\nnewsletter %s: %s\n", nl->id, nl->title);
		printf("  from: %s\n", nl->from);
		if (nl->reply_to)
			printf("  reply-to: %s\n", nl->reply_to);
		printf("  bounces to: %s\n", nl->bounce_address);
		printf("  schedule: %s (%s), %ld to %ld articles an issue\n",
		    words, nl->timezone, nl->min_articles, nl->max_articles);
		if (next == (time_t)-1)
			printf("  next run: never (the schedule matches no "
			    "date in the next 5 years)\n");
		else {
			schedule_time_local(next, nl->timezone, local,
			    sizeof(local));
			time_rfc3339(next, utc);
			printf("  next run: %s (%s)\n", local, utc);
		}
		free(words);
		printf("  templates: text %s, html %s\n",
		    nl->template_text ? nl->template_text : "(shipped)",
		    nl->template_html ? nl->template_html : "(shipped)");
		printf("  sources:\n");
		for (j = 0; j < nl->nsources; j++) {
			const struct source_conf *s = &nl->sources[j];
			bool missing = s->kind == SOURCE_FOLDER &&
			    (stat(s->location, &sb) == -1 ||
			    !S_ISDIR(sb.st_mode));

			duration_format(s->interval, dur, sizeof(dur));
			printf("    %s %s, every %s%s\n",
			    s->kind == SOURCE_FEED ? "feed" : "folder",
			    s->location, dur, missing ?
			    " (the folder does not exist)" : "");
		}
		print_subscribers(cfg, nl->id);
	}
}

/* -n ID must name a newsletter of cfg; else an error (-1). */
static int
cli_newsletter_in(const struct config *cfg, const char *id)
{
	const char *why = NULL;

	if (config_newsletter(cfg, id, &why) != NULL)
		return 0;
	log_error("newsletter %s: %s", id, why ? why : "not found");
	return -1;
}

static int
config_check(struct cli *cli)
{
	struct diags d = { 0 };
	struct config *cfg;
	const char *path;
	char *err = NULL;
	size_t i;
	int rc = EXIT_USAGE;

	path = config_default_path(cli->config_path);
	if (access(path, R_OK) == -1) {
		log_error("%s: %s (give one with -c FILE, set HERALD_CONFIG, "
		    "or create one with `herald init`)", path, strerror(errno));
		return EXIT_USAGE;
	}
	cfg = config_load(path, &d);
	if (cfg) {
		for (i = 0; i < cfg->nnewsletters; i++)
			render_check_templates(cfg, &cfg->newsletters[i], &d);
		if (cfg->web.enabled && confirm_check_templates(cfg, &err) ==
		    -1) {
			diags_add(&d, cfg->path, 0, 0, false, "web.templates: "
			    "%s", err);
			free(err);
		}
	}
	diags_print(&d);
	if (cfg == NULL || d.nerrors > 0) {
		log_error("%s: configuration is not valid (%zu error%s)", path,
		    d.nerrors, d.nerrors == 1 ? "" : "s");
		goto out;
	}
	if (cli->newsletter && cli_newsletter_in(cfg, cli->newsletter) == -1)
		goto out;
	if (log_verbosity() >= 0)	/* -q: nothing but errors */
		print_summary(cfg, path, cli->newsletter);
	rc = EXIT_OK;
out:
	diags_free(&d);
	config_free(cfg);
	return rc;
}

int
cmd_config(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* "+": stop at the subcommand, whose options are parsed after */
	while ((c = getopt_long(argc, argv, "+" CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			config_usage(stdout);
			return EXIT_OK;
		}
		return cli_usage_error("config", "unknown option");
	}
	if (optind >= argc)
		return cli_usage_error("config", "expected a subcommand: check");
	if (strcmp(argv[optind], "check") != 0)
		return cli_usage_error("config", "%s: unknown subcommand "
		    "(expected: check)", argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0;
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			config_usage(stdout);
			return EXIT_OK;
		}
		return cli_usage_error("config check", "unknown option");
	}
	if (optind < argc)
		return cli_usage_error("config check", "%s: unexpected "
		    "argument", argv[optind]);
	return config_check(cli);
}
