/*
 * herald status: per newsletter, the last and next issue, the delivery queue
 * by state, and the health of every source.  Reads only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: herald status [-n ID] [--format text|json]\n"
	    "\n"
	    "For each newsletter (or the one given with -n): the last issue and\n"
	    "its delivery state, when the next issue is due, the delivery queue by\n"
	    "state (queued, deferred, sent, failed), and every source's health:\n"
	    "last fetch, last success, consecutive failures and the last error.\n");
}

static void
fmt_time(time_t t, char out[static 21])
{
	if (t <= 0)
		snprintf(out, 21, "never");
	else
		time_rfc3339(t, out);
}

/* Appends a JSON time or null. */
static void
json_time(struct buf *b, sqlite3_stmt *s, int col)
{
	char ts[21];

	if (sqlite3_column_type(s, col) == SQLITE_NULL) {
		buf_adds(b, "null");
		return;
	}
	time_rfc3339((time_t)sqlite3_column_int64(s, col), ts);
	json_str(b, ts);
}

static int
status_one(struct cli *cli, const struct newsletter_conf *nl, bool json,
    struct buf *out)
{
	static const char *const states[] = { "queued", "deferred", "sent", "failed" };
	sqlite3_stmt *s;
	long counts[4] = { 0 };
	char ts[21], ts2[21];
	time_t next;
	int rc, i;
	bool first;

	next = schedule_next(&nl->schedule, nl->timezone, time(NULL));
	if (json) {
		buf_adds(out, "{\"id\":");
		json_str(out, nl->id);
		buf_adds(out, ",\"title\":");
		json_str(out, nl->title);
		buf_adds(out, ",\"next_issue\":");
		if (next == (time_t)-1)
			buf_adds(out, "null");
		else {
			time_rfc3339(next, ts);
			json_str(out, ts);
		}
	} else {
		buf_printf(out, "%s (%s)\n", nl->id, nl->title);
		if (next == (time_t)-1)
			buf_printf(out, "  next issue:  never (schedule %s)\n",
			    nl->schedule_text);
		else {
			time_rfc3339(next, ts);
			buf_printf(out, "  next issue:  %s (schedule %s, %s)\n",
			    ts, nl->schedule_text, nl->timezone);
		}
	}

	/* The last issue. */
	s = store_stmt(cli->store,
	    "SELECT id, number, subject, created, state FROM issues"
	    " WHERE newsletter = ?1 ORDER BY number DESC LIMIT 1");
	sqlite3_bind_text(s, 1, nl->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		sqlite3_int64 issue_id = sqlite3_column_int64(s, 0);
		long number = sqlite3_column_int(s, 1);
		char *subject = xstrdup_or_empty(store_col_text(s, 2));
		time_t created = (time_t)sqlite3_column_int64(s, 3);
		char *state = xstrdup_or_empty(store_col_text(s, 4));

		sqlite3_reset(s);
		s = store_stmt(cli->store,
		    "SELECT state, count(*) FROM deliveries WHERE issue_id = ?1"
		    " GROUP BY state");
		sqlite3_bind_int64(s, 1, issue_id);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *st = store_col_text(s, 0);

			for (i = 0; i < 4; i++)
				if (st && strcmp(st, states[i]) == 0)
					counts[i] = sqlite3_column_int(s, 1);
		}
		fmt_time(created, ts);
		if (json) {
			buf_printf(out, ",\"last_issue\":{\"number\":%ld,\"subject\":",
			    number);
			json_str(out, subject);
			buf_printf(out, ",\"created\":\"%s\",\"state\":", ts);
			json_str(out, state);
			buf_adds(out, ",\"deliveries\":{");
			for (i = 0; i < 4; i++)
				buf_printf(out, "%s\"%s\":%ld", i ? "," : "",
				    states[i], counts[i]);
			buf_adds(out, "}}");
		} else {
			buf_printf(out, "  last issue:  #%ld \"%s\" created %s, %s\n",
			    number, subject, ts, state);
			buf_printf(out, "  deliveries:  %ld queued, %ld deferred, "
			    "%ld sent, %ld failed\n", counts[0], counts[1],
			    counts[2], counts[3]);
		}
		free(subject);
		free(state);
	} else if (json)
		buf_adds(out, ",\"last_issue\":null");
	else
		buf_adds(out, "  last issue:  none yet\n");
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		goto dberr;

	/* Sources: configured ones first, with what the store knows. */
	if (json)
		buf_adds(out, ",\"sources\":[");
	else
		buf_adds(out, "  sources:\n");
	first = true;
	for (size_t k = 0; k < nl->nsources; k++) {
		const struct source_conf *sc = &nl->sources[k];
		const char *kind = sc->kind == SOURCE_FEED ? "feed" : "folder";

		s = store_stmt(cli->store,
		    "SELECT last_fetch, last_success, failures, last_error,"
		    " (SELECT count(*) FROM articles a WHERE a.source_id = sources.id)"
		    " FROM sources WHERE newsletter = ?1 AND kind = ?2 AND location = ?3");
		sqlite3_bind_text(s, 1, nl->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, sc->location, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto dberr;
		if (json) {
			buf_adds(out, first ? "{" : ",{");
			buf_printf(out, "\"kind\":\"%s\",\"location\":", kind);
			json_str(out, sc->location);
			if (rc == SQLITE_ROW) {
				buf_adds(out, ",\"last_fetch\":");
				json_time(out, s, 0);
				buf_adds(out, ",\"last_success\":");
				json_time(out, s, 1);
				buf_printf(out, ",\"failures\":%d,\"last_error\":",
				    sqlite3_column_int(s, 2));
				json_str(out, sqlite3_column_int(s, 2) ?
				    store_col_text(s, 3) : NULL);
				buf_printf(out, ",\"articles\":%d}",
				    sqlite3_column_int(s, 4));
			} else
				buf_adds(out, ",\"last_fetch\":null,\"last_success\":null,"
				    "\"failures\":0,\"last_error\":null,\"articles\":0}");
		} else if (rc == SQLITE_ROW) {
			fmt_time(sqlite3_column_type(s, 1) == SQLITE_NULL ? 0 :
			    (time_t)sqlite3_column_int64(s, 1), ts2);
			buf_printf(out, "    %-6s %s\n           %d article%s, "
			    "last success %s", kind, sc->location,
			    sqlite3_column_int(s, 4),
			    sqlite3_column_int(s, 4) == 1 ? "" : "s", ts2);
			if (sqlite3_column_int(s, 2) > 0)
				buf_printf(out, ", FAILING (%d in a row): %s",
				    sqlite3_column_int(s, 2),
				    store_col_text(s, 3) ? store_col_text(s, 3) : "?");
			buf_addc(out, '\n');
		} else
			buf_printf(out, "    %-6s %s\n           not collected yet\n",
			    kind, sc->location);
		first = false;
	}
	if (json)
		buf_adds(out, "]}");
	return EXIT_OK;
dberr:
	log_error("status: %s", store_errmsg(cli->store));
	return store_rc(rc) == STORE_BUSY ? EXIT_TEMP : EXIT_FAIL;
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct buf out = BUF_INIT;
	bool json = false;
	int c, rc;
	size_t i;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage_error("status",
				    "--format must be text or json, not '%s'", optarg);
			break;
		default:
			return cli_usage_error("status", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'",
		    argv[optind]);
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if (json)
		buf_addc(&out, '[');
	for (i = 0; i < cli->cfg->nnewsletters; i++) {
		const struct newsletter_conf *nl = &cli->cfg->newsletters[i];

		if (cli->newsletter && strcmp(cli->newsletter, nl->id) != 0)
			continue;
		if (json && out.len > 1)
			buf_addc(&out, ',');
		if (!json && i > 0)
			buf_addc(&out, '\n');
		if ((rc = status_one(cli, nl, json, &out)) != EXIT_OK)
			goto out;
	}
	if (cli->newsletter && out.len <= 1) {
		log_error("status: no newsletter '%s' in %s", cli->newsletter,
		    cli->cfg->path);
		rc = EXIT_USAGE;
		goto out;
	}
	if (json)
		buf_adds(&out, "]\n");
	fwrite(out.data, 1, out.len, stdout);
	rc = EXIT_OK;
out:
	buf_free(&out);
	return rc;
}
