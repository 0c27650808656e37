/*
 * herald subscribers: add, remove, unsubscribe, list, show, import, export,
 * count.  Thin: parses the command line, calls store_subs / sub_import /
 * sub_list, prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "confirm.h"
#include "email.h"
#include "log.h"
#include "store_subs.h"
#include "sub_import.h"
#include "sub_list.h"
#include "subscription.h"
#include "util.h"
#include "xmalloc.h"

#define SHOW_EVENTS	20

static const char usage_main[] =
"usage: herald subscribers [-n ID] COMMAND [ARGS...]\n"
"\n"
"Manage the subscribers of a newsletter (-n ID; optional when the config\n"
"has one newsletter).  Addresses compare case-insensitively and are kept\n"
"and sent as given.\n"
"\n"
"Commands:\n"
"  add EMAIL [--name NAME] [--attr K=V]... [--pending] [--resubscribe]\n"
"                       subscribe one address (active, or pending confirmation)\n"
"  remove EMAIL         erase the person and all their history (GDPR)\n"
"  unsubscribe EMAIL    mark unsubscribed from this newsletter; keeps the record\n"
"  list [--status S] [--format table|csv|json]\n"
"                       list subscriptions (S: pending, active, unsubscribed,\n"
"                       bounced)\n"
"  show EMAIL           one subscriber, their subscriptions and recent events\n"
"  import FILE [--dry-run]\n"
"                       import a CSV file (`-` reads stdin)\n"
"  export [--format csv|json|table]\n"
"                       everything needed to import elsewhere\n"
"  count [--format text|json]\n"
"                       subscriptions by status\n"
"\n"
"'herald subscribers COMMAND --help' explains each.  Exit codes: 0 done,\n"
"1 failed (invalid address, bad rows, not found), 2 usage or configuration\n"
"error, 3 database locked (try again).\n";

static const char usage_add[] =
"usage: herald subscribers add EMAIL [--name NAME] [--attr K=V]... [--pending]\n"
"                              [--resubscribe]\n"
"\n"
"Subscribes EMAIL to the newsletter, as active (or, with --pending, waiting\n"
"for the subscriber to confirm through the link in a confirmation mail).\n"
"EMAIL may carry the name, as mail programs write it:\n"
"  herald subscribers add 'Ada Lovelace <ada@example.org>'\n"
"(--name, when given too, wins).\n"
"  --name NAME      the subscriber's name ({{subscriber.name}} in templates)\n"
"  --attr K=V       an attribute ({{subscriber.attributes.K}}); repeatable;\n"
"                   an empty V is ignored; K may not be email, name, status\n"
"                   or created\n"
"  --pending        subscribe pending confirmation (double opt-in)\n"
"  --resubscribe    subscribe again someone who unsubscribed or bounced;\n"
"                   without it herald refuses, so that nobody is re-added\n"
"                   by mistake.  Use it only when they asked.\n"
"\n"
"Someone already subscribed to another newsletter gets a subscription to\n"
"this one (--name and --attr then update their record).  Adding an address\n"
"that is already subscribed (in any letter case) changes nothing and exits 1;\n"
"adding a pending one without --pending confirms it, with --pending sends\n"
"its confirmation mail again.\n"
"\n"
"--pending sends the confirmation mail at once through the SMTP relay; its\n"
"link needs web.base_url in the config (without it nothing is recorded,\n"
"exit 2).  When the mail cannot be sent the subscription stays pending:\n"
"run the same command again to resend it (exit 1 refused by the server,\n"
"3 server unreachable).\n";

static const char usage_remove[] =
"usage: herald subscribers remove EMAIL\n"
"\n"
"Erases the subscriber and everything herald keeps about them: their\n"
"subscriptions to every newsletter, deliveries and events (the right to\n"
"erasure, GDPR art. 17).  An event without the address records that an\n"
"erasure happened.  To stop mail but keep the record (so that an import\n"
"cannot add them again), use `unsubscribe`.\n";

static const char usage_unsubscribe[] =
"usage: herald subscribers unsubscribe EMAIL\n"
"\n"
"Marks EMAIL unsubscribed from the newsletter and records an event.  The\n"
"record stays, so imports never subscribe them again.  Unsubscribing twice\n"
"is not an error.\n";

static const char usage_list[] =
"usage: herald subscribers list [--status S] [--format table|csv|json]\n"
"\n"
"Lists the newsletter's subscriptions, oldest first.\n"
"  --status S       only pending, active, unsubscribed or bounced\n"
"  --format F       table (default, for people), csv (RFC 4180, UTF-8,\n"
"                   header email,name,status,created) or json (an array of\n"
"                   objects with email, name, status, created, attributes)\n"
"Times are RFC 3339 UTC.  The csv and json forms are stable for scripts.\n";

static const char usage_show[] =
"usage: herald subscribers show EMAIL\n"
"\n"
"Prints one subscriber: address, name, attributes, each subscription (any\n"
"newsletter) with its status and times, and the latest events.\n";

static const char usage_import[] =
"usage: herald subscribers import FILE [--dry-run]\n"
"\n"
"Imports subscribers from a CSV file (RFC 4180, UTF-8; `-` reads stdin).\n"
"The first row names the columns: `email` (required, any case and\n"
"position), `name`, `status` (pending, active, unsubscribed or bounced;\n"
"default active) and `created` (2026-01-31T08:00:00Z or 2026-01-31); every\n"
"other column becomes an attribute.  Quoted fields may hold commas, quotes\n"
"(doubled) and line breaks; CRLF or LF; a UTF-8 BOM is skipped.\n"
"\n"
"Each bad row is reported with its line number and why; the valid rows are\n"
"imported, and the exit status is 1 if any row was bad.  The same address\n"
"twice in the file: the first row counts, the others are reported.\n"
"An import only adds: it never changes a subscriber who exists, and never\n"
"subscribes again anyone who unsubscribed or bounced (they are counted as\n"
"skipped).  Running the same import twice changes nothing the second time.\n"
"  --dry-run        do everything, report it, then change nothing\n"
"\n"
"Rows are committed in batches of 50,000.  A database error or an input\n"
"error (not UTF-8, binary data, a quote never closed) stops the import and\n"
"undoes the current batch; earlier batches stay, and running the import\n"
"again after fixing the file is safe.\n";

static const char usage_export[] =
"usage: herald subscribers export [--format csv|json|table]\n"
"\n"
"Writes every subscription of the newsletter with all herald needs to\n"
"import it elsewhere.  csv (default): the columns email,name,status,created\n"
"then one column per attribute key (sorted); `export`, then `import` into\n"
"an empty database, then `export` gives the same bytes.  json: an array of\n"
"objects with email, name, status, created and attributes.  table: the\n"
"same as `list`, for people.\n";

static const char usage_count[] =
"usage: herald subscribers count [--format text|json]\n"
"\n"
"Counts the newsletter's subscriptions by status: pending, active,\n"
"unsubscribed, bounced, and the total.\n";

static int
store_fail(const char *what, struct cli *cli, enum store_rc rc)
{
	if (rc == STORE_BUSY) {
		log_error("subscribers %s: database is locked by another "
		    "process; try again", what);
		return EXIT_TEMP;
	}
	log_error("subscribers %s: database: %s", what,
	    store_errmsg(cli->store));
	return EXIT_FAIL;
}

/* Opens config and store and picks the newsletter. */
static int
open_nl(struct cli *cli, const struct newsletter_conf **nl)
{
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((*nl = cli_newsletter(cli)) == NULL)
		return EXIT_USAGE;
	return EXIT_OK;
}

static int
flush_out(const char *what)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_error("subscribers %s: writing output: %s", what,
		    strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/*
 * Parses the command's options.  Returns -1 to go on, else an exit code
 * (help printed, or a usage error).  *optv gets the option values by index
 * of `opts`: the caller's handler.
 */
struct opt_ctx {
	const char	*cmd;
	const char	*usage;
	int		 npos_min, npos_max;
};

static int
parse_opts(struct cli *cli, const struct opt_ctx *oc, int argc, char **argv,
    const struct option *extra, size_t nextra,
    int (*handle)(int c, const char *arg, void *), void *arg)
{
	struct option longopts[16] = { CLI_LONGOPTS };
	size_t nbase = 5, i;
	char cmdname[64];
	int c, npos;

	for (i = 0; i < nextra && nbase + i < 15; i++)
		longopts[nbase + i] = extra[i];
	snprintf(cmdname, sizeof(cmdname), "subscribers %s", oc->cmd);
	optind = 0;
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			fputs(oc->usage, stdout);
			return EXIT_OK;
		}
		if (c == '?' || handle == NULL || handle(c, optarg, arg) == -1)
			return cli_usage_error(cmdname, "bad option "
			    "(see the usage)");
	}
	npos = argc - optind;
	if (npos < oc->npos_min)
		return cli_usage_error(cmdname, "missing argument");
	if (npos > oc->npos_max)
		return cli_usage_error(cmdname, "unexpected argument \"%s\"",
		    argv[optind + oc->npos_max]);
	return -1;
}

/* ---- add ---- */

struct add_opts {
	const char	*name;
	struct buf	 attrs;
	bool		 pending, resubscribe;
	const char	*bad_attr;
	char		*bad_value;	/* the key whose value is not UTF-8 */
};

static int
add_opt(int c, const char *arg, void *p)
{
	struct add_opts *ao = p;
	const char *eq;
	char *key;

	switch (c) {
	case 'N':
		ao->name = arg;
		return 0;
	case 'P':
		ao->pending = true;
		return 0;
	case 'R':
		ao->resubscribe = true;
		return 0;
	case 'A':
		eq = strchr(arg, '=');
		if (eq == NULL || eq == arg) {
			ao->bad_attr = arg;
			return 0;
		}
		key = xstrndup(arg, (size_t)(eq - arg));
		if (ascii_casecmp(key, "email") == 0 ||
		    ascii_casecmp(key, "name") == 0 ||
		    ascii_casecmp(key, "status") == 0 ||
		    ascii_casecmp(key, "created") == 0 ||
		    !utf8_valid(key, strlen(key))) {
			free(key);
			ao->bad_attr = arg;
			return 0;
		}
		if (!utf8_valid(eq + 1, strlen(eq + 1))) {
			free(ao->bad_value);
			ao->bad_value = key;
			return 0;
		}
		if (eq[1] != '\0') {
			buf_addc(&ao->attrs, ao->attrs.len ? ',' : '{');
			json_str(&ao->attrs, key);
			buf_addc(&ao->attrs, ':');
			json_str(&ao->attrs, eq + 1);
		}
		free(key);
		return 0;
	default:
		return -1;
	}
}

static void
date_of(time_t t, char out[static 21])
{
	time_rfc3339(t, out);
	out[10] = '\0';
}

/* Sends the confirmation mail of `add --pending` and prints the outcome. */
static int
send_confirm(struct cli *cli, const struct newsletter_conf *nl, int64_t id,
    const char *email, const char *name)
{
	struct confirm_rcpt r = { id, email, name };
	enum confirm_result cr;
	char *reply = NULL;
	int rc = EXIT_OK;

	fflush(stdout);
	cr = confirm_send(cli->cfg, nl, &r, &reply);
	if (cr == CONFIRM_SENT) {
		printf("confirmation mail sent to %s (%s)\n", email, reply);
	} else {
		log_error("subscribers add: %s: confirmation mail not sent: %s; "
		    "run the same command again to resend", email, reply);
		rc = cr == CONFIRM_CONFIG ? EXIT_USAGE : cr == CONFIRM_DEFERRED ||
		    cr == CONFIRM_UNREACHABLE ? EXIT_TEMP : EXIT_FAIL;
	}
	free(reply);
	return rc;
}

static int
cmd_add(struct cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "name", required_argument, NULL, 'N' },
		{ "attr", required_argument, NULL, 'A' },
		{ "pending", no_argument, NULL, 'P' },
		{ "resubscribe", no_argument, NULL, 'R' },
	};
	static const struct opt_ctx oc = { "add", usage_add, 1, 1 };
	const struct newsletter_conf *nl;
	struct add_opts ao = { .attrs = BUF_INIT };
	struct sub_request req = { 0 };
	struct sub_result res = { 0 };
	enum store_rc src;
	const char *email, *why = NULL;
	char since[21], *mbox_name = NULL, *mbox_addr = NULL;
	int rc;

	rc = parse_opts(cli, &oc, argc, argv, extra, 4, add_opt, &ao);
	if (rc != -1)
		goto out;
	if (ao.bad_attr) {
		rc = cli_usage_error("subscribers add", "--attr \"%s\": expected "
		    "KEY=VALUE with a KEY other than email, name, status or "
		    "created", ao.bad_attr);
		goto out;
	}
	if (ao.bad_value) {
		rc = cli_usage_error("subscribers add", "--attr %s=...: the "
		    "value is not valid UTF-8 text", ao.bad_value);
		goto out;
	}
	if (ao.attrs.len) {
		buf_addc(&ao.attrs, '}');
		req.attrs = ao.attrs.data;
	}
	email = argv[optind];
	if (strchr(email, '<') != NULL) {
		/* 'Ada <ada@example.org>': the name and the address */
		if (email_mailbox_parse(email, &mbox_name, &mbox_addr,
		    &why) == -1) {
			log_error("subscribers add: %s: invalid address: %s "
			    "(expected ada@example.org or 'Ada Lovelace "
			    "<ada@example.org>')", email, why);
			rc = EXIT_FAIL;
			goto out;
		}
		email = mbox_addr;
		if (ao.name == NULL)
			ao.name = mbox_name;
	}
	if (ao.name && !utf8_valid(ao.name, strlen(ao.name))) {
		rc = cli_usage_error("subscribers add", "--name is not UTF-8");
		goto out;
	}
	if (!email_addr_valid(email, &why)) {
		log_error("subscribers add: %s: invalid address: %s", email,
		    why);
		rc = EXIT_FAIL;
		goto out;
	}
	if ((rc = cli_create(cli)) != EXIT_OK ||
	    (rc = open_nl(cli, &nl)) != EXIT_OK)
		goto out;
	if (ao.pending && (why = confirm_unavailable(cli->cfg)) != NULL) {
		log_error("subscribers add: %s: --pending: %s; nothing recorded",
		    email, why);
		rc = EXIT_USAGE;
		goto out;
	}
	req.email = email;
	req.name = ao.name;
	req.pending = ao.pending;
	req.resubscribe = ao.resubscribe;
	req.via = "cli";
	if ((src = sub_subscribe(cli->store, nl->id, &req, time(NULL), &res))
	    != STORE_OK) {
		rc = store_fail("add", cli, src);
		goto out;
	}
	date_of(res.since, since);
	switch (res.outcome) {
	case SUB_UNCHANGED:
		if (res.before == SUB_PENDING) {
			/* the mail may have been lost: send it again */
			printf("%s: already pending confirmation in %s (since "
			    "%s); sending the confirmation mail again\n", email,
			    nl->id, since);
			break;
		}
		log_error("subscribers add: %s: already subscribed to %s (%s "
		    "since %s, as %s); nothing changed", email, nl->id,
		    store_subs_status_name(res.before), since, res.email);
		rc = EXIT_FAIL;
		goto out;
	case SUB_REFUSED:
		log_error("subscribers add: %s: %s from %s on %s; herald does not "
		    "subscribe them again unless you pass --resubscribe (do so "
		    "only if they asked)", email, res.before == SUB_BOUNCED ?
		    "bounced" : "unsubscribed", nl->id, since);
		rc = EXIT_FAIL;
		goto out;
	default:
		if (ao.pending)
			printf("%s: subscribed to %s, pending confirmation (they "
			    "get a confirmation mail with a link)\n", email,
			    nl->id);
		else if (res.had && res.before == SUB_PENDING)
			printf("%s: confirmed: now active in %s\n", email,
			    nl->id);
		else
			printf("%s: subscribed to %s (active)%s\n", email,
			    nl->id, res.had ? ", again" : "");
		break;
	}
	rc = flush_out("add");
	if (rc == EXIT_OK && ao.pending)
		rc = send_confirm(cli, nl, res.id, res.email, res.name);
out:
	sub_result_free(&res);
	free(ao.bad_value);
	free(mbox_name);
	free(mbox_addr);
	buf_free(&ao.attrs);
	return rc;
}

/* ---- remove, unsubscribe ---- */

static int
cmd_remove(struct cli *cli, int argc, char **argv)
{
	static const struct opt_ctx oc = { "remove", usage_remove, 1, 1 };
	struct sub_result res;
	struct sub_erased er;
	enum store_rc src;
	const char *email;
	int rc;

	if ((rc = parse_opts(cli, &oc, argc, argv, NULL, 0, NULL, NULL)) != -1)
		return rc;
	email = argv[optind];
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((src = sub_remove(cli->store, email, time(NULL), &res, &er)) !=
	    STORE_OK)
		return store_fail("remove", cli, src);
	if (res.outcome == SUB_NOT_FOUND) {
		log_error("subscribers remove: %s: no such subscriber", email);
		rc = EXIT_FAIL;
	} else {
		printf("%s: removed, with all history (%ld subscriptions, "
		    "%ld deliveries, %ld events)\n", res.email,
		    er.subscriptions, er.deliveries, er.events);
		rc = flush_out("remove");
	}
	sub_result_free(&res);
	return rc;
}

static int
cmd_unsubscribe(struct cli *cli, int argc, char **argv)
{
	static const struct opt_ctx oc = { "unsubscribe", usage_unsubscribe,
	    1, 1 };
	const struct newsletter_conf *nl;
	struct sub_result res;
	enum store_rc src;
	const char *email;
	char since[21];
	int rc;

	if ((rc = parse_opts(cli, &oc, argc, argv, NULL, 0, NULL, NULL)) != -1)
		return rc;
	email = argv[optind];
	if ((rc = open_nl(cli, &nl)) != EXIT_OK)
		return rc;
	if ((src = sub_unsubscribe_email(cli->store, email, nl->id, "cli",
	    NULL, time(NULL), &res)) != STORE_OK)
		return store_fail("unsubscribe", cli, src);
	switch (res.outcome) {
	case SUB_NOT_FOUND:
		log_error("subscribers unsubscribe: %s: not subscribed to %s",
		    email, nl->id);
		rc = EXIT_FAIL;
		break;
	case SUB_UNCHANGED:
		date_of(res.since, since);
		printf("%s: already %s from %s (since %s)\n", email,
		    res.before == SUB_BOUNCED ? "bounced" : "unsubscribed",
		    nl->id, since);
		rc = flush_out("unsubscribe");
		break;
	default:
		printf("%s: unsubscribed from %s (the record is kept)\n", email,
		    nl->id);
		rc = flush_out("unsubscribe");
		break;
	}
	sub_result_free(&res);
	return rc;
}

/* ---- list, export ---- */

struct fmt_opts {
	const char	*format;
	const char	*status;
	bool		 allow_table, allow_status;
};

static int
fmt_opt(int c, const char *arg, void *p)
{
	struct fmt_opts *fo = p;

	switch (c) {
	case 'F':
		fo->format = arg;
		return 0;
	case 'S':
		if (!fo->allow_status)
			return -1;
		fo->status = arg;
		return 0;
	default:
		return -1;
	}
}

static int
list_or_export(struct cli *cli, int argc, char **argv, bool export)
{
	static const struct option extra[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "status", required_argument, NULL, 'S' },
	};
	static const struct opt_ctx oc_list = { "list", usage_list, 0, 0 };
	static const struct opt_ctx oc_export = { "export", usage_export, 0, 0 };
	const char *cmd = export ? "export" : "list";
	char cmdname[32];
	struct fmt_opts fo = { .format = export ? "csv" : "table",
	    .allow_table = true, .allow_status = !export };
	const struct newsletter_conf *nl;
	enum sub_status status, *filter = NULL;
	enum sub_list_format fmt;
	enum store_rc src;
	int rc;

	snprintf(cmdname, sizeof(cmdname), "subscribers %s", cmd);
	rc = parse_opts(cli, export ? &oc_export : &oc_list, argc, argv, extra,
	    export ? 1 : 2, fmt_opt, &fo);
	if (rc != -1)
		return rc;
	if (strcmp(fo.format, "csv") == 0)
		fmt = SUB_LIST_CSV;
	else if (strcmp(fo.format, "json") == 0)
		fmt = SUB_LIST_JSON;
	else if (strcmp(fo.format, "table") == 0 && fo.allow_table)
		fmt = SUB_LIST_TABLE;
	else
		return cli_usage_error(cmdname, "--format %s: expected %s",
		    fo.format, "table, csv or json");
	if (fo.status) {
		if (store_subs_status_parse(fo.status, &status) == -1)
			return cli_usage_error(cmdname, "--status %s: expected "
			    "pending, active, unsubscribed or bounced",
			    fo.status);
		filter = &status;
	}
	if ((rc = open_nl(cli, &nl)) != EXIT_OK)
		return rc;
	src = sub_list(cli->store, nl->id, filter, fmt, export, stdout);
	if (src != STORE_OK)
		return store_fail(cmd, cli, src);
	return flush_out(cmd);
}

static int
cmd_list(struct cli *cli, int argc, char **argv)
{
	return list_or_export(cli, argc, argv, false);
}

static int
cmd_export(struct cli *cli, int argc, char **argv)
{
	return list_or_export(cli, argc, argv, true);
}

/* ---- show ---- */

static void
show_time(const char *label, time_t t)
{
	char ts[21];

	if (t == 0)
		return;
	time_rfc3339(t, ts);
	printf(" %s %s", label, ts);
}

static void
show_subscription(const struct sub_subscription *s, void *arg)
{
	(void)arg;
	printf("  %-16s %-12s", s->newsletter, store_subs_status_name(s->status));
	show_time("since", s->created);
	show_time("confirmed", s->confirmed);
	show_time("ended", s->unsubscribed);
	if (s->soft_bounces)
		printf(" soft-bounces %ld", s->soft_bounces);
	putchar('\n');
}

static void
show_event(const struct sub_event *e, void *arg)
{
	char ts[21];

	(void)arg;
	time_rfc3339(e->at, ts);
	printf("  %s  %-10s %-12s %s\n", ts, e->newsletter ? e->newsletter : "-",
	    e->kind, e->detail ? e->detail : "");
}

static int
cmd_show(struct cli *cli, int argc, char **argv)
{
	static const struct opt_ctx oc = { "show", usage_show, 1, 1 };
	struct sub_info si = { 0 };
	enum store_rc src;
	const char *email;
	char ts[21];
	bool found;
	int rc;

	if ((rc = parse_opts(cli, &oc, argc, argv, NULL, 0, NULL, NULL)) != -1)
		return rc;
	email = argv[optind];
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((src = store_subs_find(cli->store, email, &si, &found)) != STORE_OK)
		return store_fail("show", cli, src);
	if (!found) {
		log_error("subscribers show: %s: no such subscriber", email);
		return EXIT_FAIL;
	}
	time_rfc3339(si.created, ts);
	printf("email:       %s\n", si.email);
	printf("name:        %s\n", si.name ? si.name : "");
	printf("attributes:  %s\n", si.attributes ? si.attributes : "{}");
	printf("created:     %s\n", ts);
	printf("subscriptions:\n");
	src = store_subs_each_subscription(cli->store, si.id,
	    show_subscription, NULL);
	if (src == STORE_OK) {
		printf("events (latest %d):\n", SHOW_EVENTS);
		src = store_subs_each_event(cli->store, si.id, SHOW_EVENTS,
		    show_event, NULL);
	}
	store_subs_info_free(&si);
	if (src != STORE_OK)
		return store_fail("show", cli, src);
	return flush_out("show");
}

/* ---- import ---- */

static int
dry_opt(int c, const char *arg, void *p)
{
	(void)arg;
	if (c != 'D')
		return -1;
	*(bool *)p = true;
	return 0;
}

static int
cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "dry-run", no_argument, NULL, 'D' },
	};
	static const struct opt_ctx oc = { "import", usage_import, 1, 1 };
	const struct newsletter_conf *nl;
	struct sub_import_opts o = { 0 };
	struct sub_import_report rep;
	enum store_rc src;
	const char *path;
	char *err = NULL;
	bool dry = false;
	int rc, fd;

	if ((rc = parse_opts(cli, &oc, argc, argv, extra, 1, dry_opt, &dry))
	    != -1)
		return rc;
	path = argv[optind];
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("subscribers import: %s: %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	if ((rc = cli_create(cli)) != EXIT_OK ||
	    (rc = open_nl(cli, &nl)) != EXIT_OK)
		goto out;
	o.newsletter = nl->id;
	o.name = strcmp(path, "-") == 0 ? "stdin" : path;
	o.dry_run = dry;
	o.errors = stderr;
	src = sub_import(cli->store, fd, &o, &rep, &err);
	if (src != STORE_OK) {
		if (src == STORE_BUSY)
			log_error("subscribers import: database is locked by "
			    "another process; try again");
		else
			log_error("subscribers import: %s", err);
		if (rep.committed > 0)
			log_error("subscribers import: %ld rows added in "
			    "earlier batches were kept; fix the problem and "
			    "run the same import again (it skips them)",
			    rep.committed);
		else
			log_error("subscribers import: nothing was changed");
		rc = src == STORE_BUSY ? EXIT_TEMP : EXIT_FAIL;
		goto out;
	}
	printf("%s%s into %s: %ld rows: %ld added, %ld already subscribed, "
	    "%ld skipped as unsubscribed/bounced, %ld duplicates, %ld bad\n",
	    dry ? "dry run: " : "", o.name, nl->id, rep.rows, rep.added,
	    rep.already, rep.unsubscribed + rep.bounced, rep.duplicates,
	    rep.bad);
	if (rep.unsubscribed + rep.bounced > 0)
		printf("not re-activated: %ld unsubscribed, %ld bounced (an "
		    "import never subscribes them again)\n", rep.unsubscribed,
		    rep.bounced);
	if (dry)
		printf("dry run: nothing was changed\n");
	if (rep.bad > 0)
		log_error("subscribers import: %ld bad rows (listed above) were "
		    "not imported", rep.bad);
	rc = flush_out("import");
	if (rc == EXIT_OK && rep.bad > 0)
		rc = EXIT_FAIL;
out:
	free(err);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

/* ---- count ---- */

static int
cmd_count(struct cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "format", required_argument, NULL, 'F' },
	};
	static const struct opt_ctx oc = { "count", usage_count, 0, 0 };
	struct fmt_opts fo = { .format = "text" };
	const struct newsletter_conf *nl;
	long counts[SUB_NSTATUS], total = 0;
	enum store_rc src;
	int rc, i;
	bool json;

	if ((rc = parse_opts(cli, &oc, argc, argv, extra, 1, fmt_opt, &fo))
	    != -1)
		return rc;
	if (strcmp(fo.format, "json") != 0 && strcmp(fo.format, "text") != 0)
		return cli_usage_error("subscribers count", "--format %s: "
		    "expected text or json", fo.format);
	json = strcmp(fo.format, "json") == 0;
	if ((rc = open_nl(cli, &nl)) != EXIT_OK)
		return rc;
	if ((src = store_subs_count(cli->store, nl->id, counts)) != STORE_OK)
		return store_fail("count", cli, src);
	if (json) {
		struct buf b = BUF_INIT;

		buf_adds(&b, "{\"newsletter\":");
		json_str(&b, nl->id);
		for (i = 0; i < SUB_NSTATUS; i++) {
			buf_printf(&b, ",\"%s\":%ld",
			    store_subs_status_name((enum sub_status)i),
			    counts[i]);
			total += counts[i];
		}
		buf_printf(&b, ",\"total\":%ld}\n", total);
		fputs(buf_cstr(&b), stdout);
		buf_free(&b);
	} else {
		for (i = 0; i < SUB_NSTATUS; i++) {
			printf("%-13s %ld\n",
			    store_subs_status_name((enum sub_status)i),
			    counts[i]);
			total += counts[i];
		}
		printf("%-13s %ld\n", "total", total);
	}
	return flush_out("count");
}

static const struct subcmd {
	const char	*name;
	int		(*fn)(struct cli *, int, char **);
} subcmds[] = {
	{ "add",	 cmd_add },
	{ "remove",	 cmd_remove },
	{ "unsubscribe", cmd_unsubscribe },
	{ "list",	 cmd_list },
	{ "show",	 cmd_show },
	{ "import",	 cmd_import },
	{ "export",	 cmd_export },
	{ "count",	 cmd_count },
};

int
cmd_subscribers(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int c;

	/* global options between `subscribers` and the command */
	optind = 0;
	while ((c = getopt_long(argc, argv, "+" CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			fputs(usage_main, stdout);
			return EXIT_OK;
		}
		return cli_usage_error("subscribers", "bad option");
	}
	if (optind >= argc) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	for (i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		if (strcmp(argv[0], subcmds[i].name) == 0)
			return subcmds[i].fn(cli, argc, argv);
	if (strcmp(argv[0], "help") == 0) {
		fputs(usage_main, stdout);
		return EXIT_OK;
	}
	return cli_usage_error("subscribers", "unknown command \"%s\" (add, "
	    "remove, unsubscribe, list, show, import, export, count)", argv[0]);
}
