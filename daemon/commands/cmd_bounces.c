/*
 * herald bounces check: the bounce processor is not built yet (DESIGN §1,
 * Bounces).  The command exists so scripts get a clear answer.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

int
cmd_bounces(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		puts("usage: herald bounces check [--dry-run]\n\n"
		    "Polls the bounce mailbox once.  Not available in this version:\n"
		    "bounce processing is planned (see docs/architecture.md).");
		return EXIT_OK;
	}
	log_error("%s: bounce processing is not available in this version", argv[0]);
	return EXIT_USAGE;
}
