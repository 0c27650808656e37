/*
 * herald bounces check [--dry-run]: polls the bounce mailbox once and
 * prints, for each message, what it is and what it changed (the bounce
 * stage, daemon/bounces/bounces.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounces.h"
#include "cli.h"
#include "log.h"
#include "token.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: herald bounces check [--dry-run]\n"
	    "\n"
	    "Polls the bounce mailbox (bounces.mailbox: maildir, IMAP or POP3)\n"
	    "once and prints one line per message: what it is and what it\n"
	    "changed.\n"
	    "\n"
	    "  hard         permanent failure (unknown user or domain, disabled\n"
	    "               mailbox): the subscription becomes bounced\n"
	    "  soft         temporary failure, full mailbox, policy or spam block:\n"
	    "               counted; bounces.soft_limit in a row make it bounced\n"
	    "  complaint    a feedback-loop report (ARF): unsubscribed\n"
	    "  unsubscribe  mail to the List-Unsubscribe address: unsubscribed\n"
	    "  auto-reply, notice   ignored\n"
	    "  unknown      left in the mailbox\n"
	    "\n"
	    "A bounce is matched to its delivery by the VERP envelope address,\n"
	    "else by the recipient it names among the addresses herald mailed in\n"
	    "the last 60 days; one for an address herald never mailed changes\n"
	    "nothing.  Processed messages move to the Processed folder (POP3:\n"
	    "deleted); unknown ones stay.  See herald.yml(5), BOUNCES.\n"
	    "\n"
	    "  --dry-run   change nothing: no subscription, no message moved\n"
	    "  -v          also say how each message was read (format, sender,\n"
	    "              subject, the recipients and VERP addresses it names,\n"
	    "              the server's words)\n");
}

int
cmd_bounces(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "dry-run", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct bounces_opts o = { 0 };
	struct bounces_stats s;
	struct token_key *key = NULL;
	char *err = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'd':
			o.dry_run = true;
			break;
		default:
			return cli_usage_error("bounces", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("bounces", "missing subcommand (check)");
	if (strcmp(argv[optind], "check") != 0)
		return cli_usage_error("bounces", "unknown subcommand '%s' "
		    "(only check)", argv[optind]);
	if (optind + 1 < argc)
		return cli_usage_error("bounces", "unexpected argument '%s'",
		    argv[optind + 1]);
	if ((rc = cli_load(cli)) != EXIT_OK)
		return rc;
	if (!cli->cfg->bounces.enabled) {
		log_error("bounces check: no bounces: section in %s (add "
		    "bounces.mailbox; see herald.yml(5))", cli->cfg->path);
		return EXIT_USAGE;
	}
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((key = token_key_load(cli->cfg->secret_file, &err)) == NULL) {
		log_error("bounces check: %s", err);
		free(err);
		return EXIT_FAIL;
	}
	o.report = stdout;
	o.verbose = cli->verbosity > 0;
	rc = bounces_check(cli->store, cli->cfg, key, &o, &s, &err);
	token_key_free(key);
	if (rc != 0) {
		log_error("bounces check: %s", err);
		free(err);
		return rc == -2 ? EXIT_TEMP : EXIT_FAIL;
	}
	if (cli->verbosity >= 0)
		printf("%ld message%s: %ld hard, %ld soft, %ld complaint%s, "
		    "%ld unsubscribe%s, %ld ignored, %ld unknown (left in the "
		    "mailbox); %ld matched no delivery; %ld subscription%s "
		    "changed%s\n", s.messages, s.messages == 1 ? "" : "s",
		    s.hard, s.soft, s.complaints, s.complaints == 1 ? "" : "s",
		    s.unsubscribes, s.unsubscribes == 1 ? "" : "s", s.ignored,
		    s.unknown, s.unmatched, s.changed, s.changed == 1 ? "" : "s",
		    o.dry_run ? " (dry run: nothing changed)" : "");
	return s.errors ? EXIT_FAIL : EXIT_OK;
}
