/*
 * cli: what every command shares: global options, loading the config and
 * opening the store with the right exit codes, and per-command option
 * parsing that also accepts the global options after the command name.
 *
 * Each command is `int cmd_x(struct cli *, int argc, char **argv)` where
 * argv[0] is the command name (e.g. "collect"); it returns an exit code
 * (EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_TEMP from util.h).
 */
#ifndef HERALD_CLI_H
#define HERALD_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "config.h"
#include "store.h"
#include "util.h"

struct cli {
	const char	*config_path;	/* -c, or NULL for the default search */
	const char	*newsletter;	/* -n, or NULL */
	int		 verbosity;	/* -1 quiet, 0, 1 verbose */

	/* filled by cli_load / cli_open */
	struct config	*cfg;
	struct store	*store;
};

/* Global options accepted by every command, after its name too. */
#define CLI_SHORTOPTS	"c:n:qvh"
#define CLI_LONGOPTS \
	{ "config",	required_argument, NULL, 'c' }, \
	{ "newsletter",	required_argument, NULL, 'n' }, \
	{ "quiet",	no_argument,	   NULL, 'q' }, \
	{ "verbose",	no_argument,	   NULL, 'v' }, \
	{ "help",	no_argument,	   NULL, 'h' }

/*
 * Handles a global option returned by getopt_long (c, n, q, v).  Returns
 * true when it was one.  'h' and '?' are left to the command, which prints
 * its usage (EXIT_OK for -h, EXIT_USAGE for '?').
 */
bool	cli_common_opt(struct cli *, int c, const char *optarg);

/*
 * Loads the config into cli->cfg (printing diagnostics).  Returns EXIT_OK,
 * or EXIT_USAGE when the config is missing or invalid.
 */
int	cli_load(struct cli *);
/*
 * cli_load, then opens the database into cli->store.  Returns EXIT_OK, or
 * EXIT_USAGE (bad config), EXIT_TEMP (database locked), EXIT_FAIL.
 * cli_open never creates the database (a missing one is an error that
 * says how to make it): the commands that only read use it.  cli_create
 * creates it when missing: the commands that write (subscribers add and
 * import, collect, send, send-test, the daemon).
 */
int	cli_open(struct cli *);
int	cli_create(struct cli *);
/*
 * The newsletter chosen with -n (or the only one).  Prints an error and
 * returns NULL when that does not name exactly one.
 */
const struct newsletter_conf *cli_newsletter(struct cli *);
/* Frees what cli_load/cli_open made. */
void	cli_close(struct cli *);

/* The command's argv (set by main), for naming a bad option. */
extern char **cli_cmd_argv;
/* The option getopt_long just refused ("-x" or "--bogus"). */
const char *cli_bad_option(void);

/* Prints "herald: <cmd>: <msg>" and a hint to use --help; returns EXIT_USAGE.
 * "unknown option" as msg also names the option getopt refused. */
int	cli_usage_error(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The commands (one file each owns its implementation). */
int	cmd_init(struct cli *, int, char **);
int	cmd_config(struct cli *, int, char **);
int	cmd_subscribers(struct cli *, int, char **);
int	cmd_collect(struct cli *, int, char **);
int	cmd_inspect(struct cli *, int, char **);
int	cmd_preview(struct cli *, int, char **);
int	cmd_send_test(struct cli *, int, char **);
int	cmd_send(struct cli *, int, char **);
int	cmd_daemon(struct cli *, int, char **);
int	cmd_status(struct cli *, int, char **);
int	cmd_bounces(struct cli *, int, char **);
int	cmd_web(struct cli *, int, char **);
int	cmd_store(struct cli *, int, char **);

#endif
