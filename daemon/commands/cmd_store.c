/*
 * herald store migrate | copy --to DATABASE (issue 14): bring a database's
 * schema up to date, or move every row into another database (SQLite to
 * PostgreSQL and back).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "store_copy.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: herald store migrate\n"
	    "       herald store copy --to DATABASE\n"
	    "\n"
	    "migrate   creates the database named by database: if needed and brings\n"
	    "          its schema to this herald's version (every command that\n"
	    "          writes does this too; run it once before starting several\n"
	    "          daemons on a new PostgreSQL database).\n"
	    "copy      copies every row of the configured database into DATABASE,\n"
	    "          a file path (SQLite) or a postgresql:// URI, which must be\n"
	    "          empty; one transaction: all or nothing.  Stop the daemon\n"
	    "          first, then point database: at the copy.  Check it with\n"
	    "          `herald subscribers export` and `herald status` on both.\n"
	    "\n"
	    "A PostgreSQL password comes from ~/.pgpass, PGPASSFILE or\n"
	    "HERALD_DB_PASSWORD, never from the URI.\n");
}

int
cmd_store(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	long counts[STORE_NTABLES];
	struct store *to;
	const char *target = NULL, *sub;
	char *err = NULL;
	bool busy;
	size_t i;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 't':
			target = optarg;
			break;
		default:
			return cli_usage_error("store", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("store", "missing subcommand (migrate "
		    "or copy)");
	sub = argv[optind];
	if (optind + 1 < argc)
		return cli_usage_error("store", "unexpected argument '%s'",
		    argv[optind + 1]);
	if (strcmp(sub, "migrate") == 0) {
		if (target)
			return cli_usage_error("store", "migrate takes no --to");
		if ((rc = cli_create(cli)) != EXIT_OK)
			return rc;
		if (cli->verbosity >= 0)
			printf("%s: schema version %d\n", cli->cfg->database,
			    store_schema_version());
		return EXIT_OK;
	}
	if (strcmp(sub, "copy") != 0)
		return cli_usage_error("store", "unknown subcommand '%s' "
		    "(migrate or copy)", sub);
	if (target == NULL)
		return cli_usage_error("store", "copy needs --to DATABASE");
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((to = store_open(target, &err, &busy)) == NULL) {
		log_error("store copy: %s: %s", target, err);
		free(err);
		return busy ? EXIT_TEMP : EXIT_FAIL;
	}
	if (store_copy(cli->store, to, counts, &err) != STORE_OK) {
		log_error("store copy: %s", err);
		free(err);
		store_close(to);
		return EXIT_FAIL;
	}
	store_close(to);
	if (cli->verbosity >= 0) {
		printf("copied into %s:", target);
		for (i = 0; i < STORE_NTABLES; i++)
			printf("%s %ld %s", i ? "," : "", counts[i],
			    store_copy_table(i));
		printf("\n");
	}
	return EXIT_OK;
}
