/*
 * herald web: the HTTP endpoint alone, in the foreground, until SIGTERM or
 * SIGINT (for a deployment that sends from cron, and for tests).  The
 * daemon serves the same endpoint itself when web.listen is set.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "web.h"

static const char usage[] =
"usage: herald web\n"
"\n"
"Serves the HTTP endpoint of the config's web: section in the foreground\n"
"until SIGTERM or SIGINT: one-click unsubscribe (RFC 8058) and the\n"
"unsubscribe page at /unsubscribe/TOKEN, the double opt-in confirmation\n"
"at /confirm/TOKEN, and, with web.signup: true, the signup form at\n"
"/signup.  It listens on web.listen (put a TLS proxy in front of it:\n"
"docs/web.md) and ends pending subscriptions older than\n"
"web.confirm_expiry.  `herald daemon` serves the same endpoint itself;\n"
"run `herald web` only where no daemon runs (sending from cron).\n"
"\n"
"SIGHUP loads the configuration again (kept unchanged if the new one is not\n"
"valid).\n"
"\n"
"Exit codes: 0 stopped by a signal, 1 cannot listen or open the\n"
"database, 2 usage or configuration error (no web: section).\n";

/*
 * SIGHUP: loads the config again and, when it is valid, serves with it
 * (the old server stops first, it holds the port); else keeps the running
 * one.  NULL when neither could listen.
 */
static struct web *
reload(struct cli *cli, struct web *w)
{
	struct diags d = { 0 };
	struct config *fresh;
	char *err = NULL;
	size_t i;

	fresh = config_load(cli->cfg->path, &d);
	for (i = 0; i < d.n; i++)
		log_warn("reload: %s:%d:%d: %s", d.v[i].file, d.v[i].line,
		    d.v[i].col, d.v[i].msg);
	diags_free(&d);
	if (fresh == NULL || !fresh->web.enabled) {
		log_warn("reload: %s is not valid (or has no web: section); "
		    "keeping the running configuration", cli->cfg->path);
		config_free(fresh);
		return w;
	}
	web_stop(w);
	if ((w = web_start(fresh, &err)) != NULL) {
		config_free(cli->cfg);
		cli->cfg = fresh;
		log_info("reload: configuration reloaded from %s; listening on "
		    "%s", cli->cfg->path, cli->cfg->web.listen);
		return w;
	}
	log_warn("reload: web: %s; keeping the running configuration", err);
	free(err);
	config_free(fresh);
	if ((w = web_start(cli->cfg, &err)) == NULL) {
		log_error("web: %s", err);
		free(err);
	}
	return w;
}

int
cmd_web(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct web *w;
	sigset_t set;
	char *err = NULL;
	int c, rc, sig;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts, NULL)) !=
	    -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			fputs(usage, stdout);
			return EXIT_OK;
		}
		return cli_usage_error("web", "unknown option");
	}
	if (optind < argc)
		return cli_usage_error("web", "unexpected argument '%s'",
		    argv[optind]);
	if ((rc = cli_load(cli)) != EXIT_OK)
		return rc;
	if (!cli->cfg->web.enabled) {
		log_error("web: the config has no web: section (listen, "
		    "base_url); see docs/web.md");
		return EXIT_USAGE;
	}
	/* signals are taken synchronously below; the server's threads
	 * inherit the mask and never see them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((w = web_start(cli->cfg, &err)) == NULL) {
		log_error("web: %s", err);
		free(err);
		return EXIT_FAIL;
	}
	log_info("web: listening on %s (port %d), links under %s",
	    cli->cfg->web.listen, web_port(w), cli->cfg->web.base_url);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		if ((w = reload(cli, w)) == NULL)
			return EXIT_FAIL;
	}
	log_info("web: stopping on signal");
	web_stop(w);
	return EXIT_OK;
}
