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
#include "daemon_lock.h"
#include "store_digest.h"
#include "store_subs.h"
#include "log.h"
#include "store_articles.h"
#include "store_bounces.h"
#include "store_subs_state.h"
#include "store_queue.h"
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
	    "last fetch, last success, consecutive failures and the last error.\n"
	    "First, whether a herald daemon runs on this database: its pid, since\n"
	    "when and what it is doing (read from DATABASE.lock).  On PostgreSQL,\n"
	    "the senders seen in the last 10 minutes: host, pid, last heartbeat\n"
	    "and rows claimed.  When articles\n"
	    "wait but no subscriber is active, it says so: no issue is assembled\n"
	    "for nobody.\n");
}

static void
fmt_time(time_t t, char out[static 21])
{
	if (t <= 0)
		snprintf(out, 21, "never");
	else
		time_rfc3339(t, out);
}

/* Appends a JSON time, or null for 0 (never). */
static void
json_time(struct buf *b, time_t t)
{
	char ts[21];

	if (t == 0) {
		buf_adds(b, "null");
		return;
	}
	time_rfc3339(t, ts);
	json_str(b, ts);
}

static int
status_one(struct cli *cli, const struct newsletter_conf *nl, bool json,
    struct buf *out)
{
	struct store_queue_counts qc;
	struct store_issue is;
	enum store_rc rc = STORE_OK;
	char ts[21], ts2[21];
	time_t next;
	int found;
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

	/* Articles that wait for a reader. */
	{
		long subs[SUB_NSTATUS] = { 0 }, npend;
		int64_t *ids = NULL;
		enum store_rc src;

		npend = store_pending_articles(cli->store, nl->id,
		    nl->max_articles, &ids);
		free(ids);
		if (npend < 0) {
			log_error("status: %s", store_errmsg(cli->store));
			return EXIT_FAIL;
		}
		if ((src = store_subs_count(cli->store, nl->id, subs)) !=
		    STORE_OK) {
			log_error("status: %s", store_errmsg(cli->store));
			return src == STORE_BUSY ? EXIT_TEMP : EXIT_FAIL;
		}
		if (json) {
			buf_printf(out, ",\"active_subscribers\":%ld,"
			    "\"waiting\":", subs[SUB_ACTIVE]);
			json_str(out, npend > 0 && subs[SUB_ACTIVE] == 0 ?
			    "no active subscriber" : NULL);
		} else if (npend > 0 && subs[SUB_ACTIVE] == 0)
			buf_printf(out, "  waiting:     %ld%s new article%s, but no "
			    "active subscriber: no issue is assembled until "
			    "someone subscribes\n", npend,
			    npend >= nl->max_articles ? "+" : "",
			    npend == 1 ? "" : "s");
	}

	/* The last issue. */
	found = store_issue_last(cli->store, nl->id, &is);
	if (found == 1 && (rc = store_issue_counts(cli->store, is.id, &qc)) !=
	    STORE_OK) {
		store_issue_clear(&is);
		goto dberr;
	}
	if (found == 1) {
		const char *state = is.done ? "done" : "sending";

		fmt_time(is.created, ts);
		if (json) {
			buf_printf(out, ",\"last_issue\":{\"number\":%ld,\"subject\":",
			    is.number);
			json_str(out, is.subject);
			buf_printf(out, ",\"created\":\"%s\",\"state\":", ts);
			json_str(out, state);
			buf_printf(out, ",\"deliveries\":{\"queued\":%ld,"
			    "\"deferred\":%ld,\"sent\":%ld,\"failed\":%ld}}",
			    qc.queued, qc.deferred, qc.sent, qc.failed);
		} else {
			buf_printf(out, "  last issue:  #%ld \"%s\" created %s, %s\n",
			    is.number, is.subject, ts, state);
			buf_printf(out, "  deliveries:  %ld queued, %ld deferred, "
			    "%ld sent, %ld failed\n", qc.queued, qc.deferred,
			    qc.sent, qc.failed);
		}
		store_issue_clear(&is);
	} else if (found == 0 && json)
		buf_adds(out, ",\"last_issue\":null");
	else if (found == 0)
		buf_adds(out, "  last issue:  none yet\n");
	else {
		rc = STORE_ERR;
		goto dberr;
	}

	/* Sources: configured ones first, with what the store knows. */
	if (json)
		buf_adds(out, ",\"sources\":[");
	else
		buf_adds(out, "  sources:\n");
	first = true;
	for (size_t k = 0; k < nl->nsources; k++) {
		const struct source_conf *sc = &nl->sources[k];
		const char *kind = sc->kind == SOURCE_FEED ? "feed" : "folder";
		struct source_health h;
		bool known;

		rc = store_source_health(cli->store, nl->id, kind, sc->location,
		    &h, &known);
		if (rc != STORE_OK)
			goto dberr;
		if (json) {
			buf_adds(out, first ? "{" : ",{");
			buf_printf(out, "\"kind\":\"%s\",\"location\":", kind);
			json_str(out, sc->location);
			if (known) {
				buf_adds(out, ",\"last_fetch\":");
				json_time(out, h.last_fetch);
				buf_adds(out, ",\"last_success\":");
				json_time(out, h.last_success);
				buf_printf(out, ",\"failures\":%ld,\"last_error\":",
				    h.failures);
				json_str(out, h.failures ? h.last_error : NULL);
				buf_printf(out, ",\"articles\":%ld}", h.articles);
			} else
				buf_adds(out, ",\"last_fetch\":null,\"last_success\":null,"
				    "\"failures\":0,\"last_error\":null,\"articles\":0}");
		} else if (known) {
			fmt_time(h.last_success, ts2);
			buf_printf(out, "    %-6s %s\n           %ld article%s, "
			    "last success %s", kind, sc->location, h.articles,
			    h.articles == 1 ? "" : "s", ts2);
			if (h.failures > 0)
				buf_printf(out, ", FAILING (%ld in a row): %s",
				    h.failures, h.last_error ? h.last_error : "?");
			buf_addc(out, '\n');
		} else
			buf_printf(out, "    %-6s %s\n           not collected yet\n",
			    kind, sc->location);
		source_health_clear(&h);
		first = false;
	}
	if (json)
		buf_adds(out, "]");
	if (cli->cfg->bounces.enabled) {
		struct bounce_counts bc;

		/* the bounce mailbox's effect over the last 30 days */
		if ((rc = store_bounces_counts(cli->store, nl->id,
		    time(NULL) - 30 * 86400, &bc)) != STORE_OK)
			goto dberr;
		if (json)
			buf_printf(out, ",\"bounces\":{\"bounced\":%ld,"
			    "\"soft_counting\":%ld,\"hard_30d\":%ld,"
			    "\"soft_30d\":%ld,\"complaints_30d\":%ld,"
			    "\"mailto_unsubscribes_30d\":%ld}", bc.bounced,
			    bc.soft, bc.hard_events, bc.soft_events,
			    bc.complaints, bc.mailto);
		else
			buf_printf(out, "  bounces:     %ld bounced, %ld with soft "
			    "bounces counting; last 30 days: %ld hard, %ld soft, "
			    "%ld complaint%s, %ld unsubscribed by mail\n",
			    bc.bounced, bc.soft, bc.hard_events, bc.soft_events,
			    bc.complaints, bc.complaints == 1 ? "" : "s",
			    bc.mailto);
	}
	if (cli->cfg->web.enabled) {
		struct sub_web_counts wc;

		/* what the web endpoint did over the last 30 days */
		if ((rc = store_subs_web_counts(cli->store, nl->id,
		    time(NULL) - 30 * 86400, &wc)) != STORE_OK)
			goto dberr;
		if (json)
			buf_printf(out, ",\"web\":{\"pending\":%ld,"
			    "\"one_click_unsubscribes_30d\":%ld,"
			    "\"page_unsubscribes_30d\":%ld,\"signups_30d\":%ld,"
			    "\"confirmed_30d\":%ld,\"expired_30d\":%ld}",
			    wc.pending, wc.one_click, wc.page, wc.signups,
			    wc.confirmed, wc.expired);
		else
			buf_printf(out, "  web:         %ld pending confirmation; "
			    "last 30 days: %ld one-click and %ld page "
			    "unsubscribes, %ld sign-ups, %ld confirmed, %ld "
			    "expired\n", wc.pending, wc.one_click, wc.page,
			    wc.signups, wc.confirmed, wc.expired);
	}
	if (json)
		buf_adds(out, "}");
	return EXIT_OK;
dberr:
	log_error("status: %s", store_errmsg(cli->store));
	return rc == STORE_BUSY ? EXIT_TEMP : EXIT_FAIL;
}

/* The daemon: a text line, or a JSON member ",\"daemon\":{...}". */
static void
daemon_line(struct buf *out, const struct daemon_info *di, bool json)
{
	char ts[21];

	if (json) {
		if (!di->running) {
			buf_adds(out, ",\"daemon\":{\"running\":false}");
			return;
		}
		time_rfc3339(di->since, ts);
		buf_printf(out, ",\"daemon\":{\"running\":true,\"pid\":%ld,"
		    "\"since\":\"%s\",\"doing\":", di->pid, ts);
		json_str(out, di->doing);
		buf_addc(out, '}');
		return;
	}
	if (!di->running) {
		buf_adds(out, "daemon: not running\n\n");
		return;
	}
	time_rfc3339(di->since, ts);
	buf_printf(out, "daemon: running, pid %ld, since %s; %s\n\n", di->pid,
	    ts, di->doing[0] ? di->doing : "starting");
}

struct senders_out {
	struct buf	*out;
	bool		 json;
	int		 n;
};

static void
sender_one(const struct store_sender *s, void *arg)
{
	struct senders_out *so = arg;
	char beat[21], since[21];

	time_rfc3339(s->heartbeat, beat);
	time_rfc3339(s->started, since);
	if (so->json) {
		buf_adds(so->out, so->n ? "," : "");
		buf_adds(so->out, "{\"host\":");
		json_str(so->out, s->host);
		buf_printf(so->out, ",\"pid\":%ld,\"started\":\"%s\","
		    "\"heartbeat\":\"%s\",\"claimed\":%ld}", s->pid, since,
		    beat, s->claimed);
	} else {
		if (so->n == 0)
			buf_adds(so->out, "senders seen in the last 10 minutes:\n");
		buf_printf(so->out, "  %s pid %ld: heartbeat %s, %ld rows "
		    "claimed since %s\n", s->host, s->pid, beat, s->claimed,
		    since);
	}
	so->n++;
}

/*
 * PostgreSQL: the senders (herald send and daemons, on any host) seen in
 * the last 10 minutes; text lines, or a JSON member ",\"senders\":[...]".
 */
static void
senders_part(struct cli *cli, struct buf *out, bool json)
{
	struct senders_out so = { out, json, 0 };

	if (!store_is_pg(cli->store))
		return;
	if (json)
		buf_adds(out, ",\"senders\":[");
	if (store_senders_recent(cli->store, time(NULL) - 600, sender_one,
	    &so) != STORE_OK)
		log_warn("status: reading senders: %s", store_errmsg(cli->store));
	if (json)
		buf_addc(out, ']');
	else if (so.n == 0)
		buf_adds(out, "senders: none in the last 10 minutes\n\n");
	else
		buf_addc(out, '\n');
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
	struct daemon_info di;
	char *err = NULL;
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
	if (daemon_lock_probe(cli->cfg->database, &di, &err) == -1) {
		log_warn("status: %s", err);
		free(err);
	}
	if (json)
		buf_addc(&out, '[');
	else {
		daemon_line(&out, &di, false);
		senders_part(cli, &out, false);
	}
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
		if (json) {
			out.len--;	/* the newsletter's closing brace */
			daemon_line(&out, &di, true);
			senders_part(cli, &out, true);
			buf_addc(&out, '}');
		}
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
