#include "cli.h"
#include "log.h"

int
cmd_preview(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	log_error("%s: not implemented yet", argv[0]);
	return EXIT_USAGE;
}

