/*
 * herald: command dispatch.  Parses the global options, then hands the rest
 * of the command line to the command's module.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "util.h"

static const struct command {
	const char	*name;
	int		(*fn)(struct cli *, int, char **);
	const char	*summary;
} commands[] = {
	{ "init",	 cmd_init,	  "write a starter herald.yml and templates (--system: /etc/herald)" },
	{ "config",	 cmd_config,	  "check the configuration and templates (config check)" },
	{ "subscribers", cmd_subscribers, "add, remove, list, import and export subscribers" },
	{ "collect",	 cmd_collect,	  "poll every source now" },
	{ "inspect",	 cmd_inspect,	  "show how herald reads one feed or article file" },
	{ "preview",	 cmd_preview,	  "render the next issue without sending it" },
	{ "send-test",	 cmd_send_test,	  "send the next issue to one address by hand" },
	{ "send",	 cmd_send,	  "assemble an issue and send it to subscribers" },
	{ "daemon",	 cmd_daemon,	  "run the scheduler until SIGTERM" },
	{ "status",	 cmd_status,	  "show issues, queue and source health" },
	{ "bounces",	 cmd_bounces,	  "poll the bounce mailbox once (bounces check)" },
	{ "web",	 cmd_web,	  "serve only the HTTP endpoint (unsubscribe, confirm, signup)" },
	{ "store",	 cmd_store,	  "migrate the database, or copy it to another (PostgreSQL)" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: herald [-c FILE] [-n ID] [-q|-v] COMMAND [ARGS...]\n"
	    "\n"
	    "herald collects articles from feeds and folders, renders them into a\n"
	    "digest and sends it to every subscriber over SMTP.\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
	    "\n"
	    "Global options (also accepted after the command):\n"
	    "  -c, --config FILE      configuration file (default: $HERALD_CONFIG,\n"
	    "                         then ./herald.yml, then /etc/herald/herald.yml)\n"
	    "  -n, --newsletter ID    which newsletter (optional when there is one)\n"
	    "  -q, --quiet            only errors\n"
	    "  -v, --verbose          more detail\n"
	    "  -h, --help             this help; 'herald COMMAND --help' for a command\n"
	    "      --version          print the version\n"
	    "\n"
	    "Exit codes: 0 success, 1 the operation failed, 2 usage or configuration\n"
	    "error, 3 temporary condition (database locked, server unreachable).\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { 0 };
	size_t i;
	int c, rc;

	setlocale(LC_CTYPE, "C.UTF-8");
	log_init(0);
	opterr = 0;	/* commands report bad options as "herald: CMD: ..." */
	/* "+": stop at the command name; the command parses the rest. */
	while ((c = getopt_long(argc, argv, "+" CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (cli_common_opt(&cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("herald %s\n", HERALD_VERSION);
			return EXIT_OK;
		default:
			cli_cmd_argv = argv;
			fprintf(stderr, "herald: unknown option '%s' (or a "
			    "missing argument)\nTry 'herald --help'.\n",
			    cli_bad_option());
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			optind = 0;	/* glibc: full reset for the next getopt */
			cli_cmd_argv = argv;
			rc = commands[i].fn(&cli, argc, argv);
			cli_close(&cli);
			return rc;
		}
	}
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "herald: %s: unknown command\nTry 'herald --help'.\n",
	    argv[0]);
	return EXIT_USAGE;
}
