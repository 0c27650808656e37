#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

bool
cli_common_opt(struct cli *cli, int c, const char *arg)
{
	switch (c) {
	case 'c':
		cli->config_path = arg;
		return true;
	case 'n':
		cli->newsletter = arg;
		return true;
	case 'q':
		cli->verbosity = -1;
		log_init(cli->verbosity);
		return true;
	case 'v':
		cli->verbosity = 1;
		log_init(cli->verbosity);
		return true;
	default:
		return false;
	}
}

int
cli_load(struct cli *cli)
{
	struct diags d = { 0 };
	const char *path;

	if (cli->cfg)
		return EXIT_OK;
	path = config_default_path(cli->config_path);
	if (path[0] == '\0') {
		log_error("config: -c was given an empty file name");
		return EXIT_USAGE;
	}
	if (access(path, R_OK) == -1) {
		log_error("%s: %s (give one with -c FILE, set HERALD_CONFIG, "
		    "or create one with `herald init`)", path, strerror(errno));
		return EXIT_USAGE;
	}
	cli->cfg = config_load(path, &d);
	diags_print(&d);
	diags_free(&d);
	if (cli->cfg == NULL) {
		log_error("%s: configuration is not valid", path);
		return EXIT_USAGE;
	}
	if (cli->cfg->database_password_env || cli->cfg->database_password_file) {
		char *why = NULL, *pw = config_secret(
		    cli->cfg->database_password_env,
		    cli->cfg->database_password_file, &why);

		if (pw == NULL) {
			log_error("database: password: %s", why);
			free(why);
			return EXIT_USAGE;
		}
		store_pg_password(pw);
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	return EXIT_OK;
}

static int
open_store(struct cli *cli, bool create)
{
	char *err = NULL;
	bool busy = false, missing = false;
	int rc;

	if ((rc = cli_load(cli)) != EXIT_OK)
		return rc;
	if (cli->store)
		return EXIT_OK;
	if (create)
		cli->store = store_open(cli->cfg->database, &err, &busy);
	else
		cli->store = store_open_existing(cli->cfg->database, &err,
		    &busy, &missing);
	if (cli->store == NULL) {
		if (missing)
			log_error("database: %s: no database yet (this command "
			    "only reads and does not create one; the first "
			    "`herald subscribers add` or `herald send` does)",
			    cli->cfg->database);
		else
			log_error("database: %s", err);
		free(err);
		return busy ? EXIT_TEMP : EXIT_FAIL;
	}
	return EXIT_OK;
}

int
cli_open(struct cli *cli)
{
	return open_store(cli, false);
}

int
cli_create(struct cli *cli)
{
	return open_store(cli, true);
}

const struct newsletter_conf *
cli_newsletter(struct cli *cli)
{
	const struct newsletter_conf *nl;
	const char *why = NULL;

	if (cli->cfg == NULL && cli_load(cli) != EXIT_OK)
		return NULL;
	nl = config_newsletter(cli->cfg, cli->newsletter, &why);
	if (nl == NULL)
		log_error("newsletter %s: %s", cli->newsletter ?
		    cli->newsletter : "(none given)", why ? why : "not found");
	return nl;
}

void
cli_close(struct cli *cli)
{
	store_close(cli->store);
	cli->store = NULL;
	config_free(cli->cfg);
	cli->cfg = NULL;
}

char **cli_cmd_argv;

const char *
cli_bad_option(void)
{
	static char shortopt[3];

	if (optopt > 0 && optopt < 128) {
		shortopt[0] = '-';
		shortopt[1] = (char)optopt;
		shortopt[2] = '\0';
		return shortopt;
	}
	if (cli_cmd_argv != NULL && optind > 0)
		return cli_cmd_argv[optind - 1];
	return "?";
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "herald: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* getopt's own messages are off (opterr = 0): name the option here. */
	if (strcmp(fmt, "unknown option") == 0)
		fprintf(stderr, " '%s' (or a missing argument)", cli_bad_option());
	fprintf(stderr, "\nTry 'herald %s --help'.\n", cmd);
	return EXIT_USAGE;
}
