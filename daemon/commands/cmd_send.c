/*
 * herald send-test --to EMAIL [--issue N] [--no-collect]
 * herald send [--progress] [--no-collect]
 *
 * Both collect first (unless --no-collect), build messages through
 * message.c and send them through smtp.c.  `send` assembles (or resumes)
 * an issue and makes one pass over its due deliveries (queue.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>

#include "assemble.h"
#include "cli.h"
#include "collect.h"
#include "email.h"
#include "log.h"
#include "message.h"
#include "queue.h"
#include "render.h"
#include "send.h"
#include "smtp.h"
#include "smtp_open.h"
#include "store_queue.h"
#include "token.h"
#include "xmalloc.h"

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	sig_atomic_t n = __atomic_load_n(&stop_flag, __ATOMIC_RELAXED);

	(void)sig;
	/* atomic: the sender's other threads read it */
	if (n < 2)
		__atomic_store_n(&stop_flag, n + 1, __ATOMIC_RELAXED);
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static void
collect_first(struct cli *cli, const struct newsletter_conf *nl, bool skip)
{
	if (skip)
		return;
	/* A failing source is reported and does not stop the send. */
	(void)collect_run(cli->store, nl, false, NULL);
}

/* ------------------------------------------------------------------ */
/* send-test */

static void
usage_send_test(FILE *f)
{
	fprintf(f,
	    "usage: herald send-test --to EMAIL [--issue N] [--no-collect]\n"
	    "\n"
	    "Sends one digest to EMAIL now, by hand, through the configured SMTP\n"
	    "relay: the next issue (the articles no issue has carried yet, after\n"
	    "collecting) or, with --issue N, issue N as it was sent.  Records no\n"
	    "issue and no delivery; prints the server's final reply.\n"
	    "\n"
	    "  --to EMAIL      the address to send to (need not be a subscriber)\n"
	    "  --issue N       send issue N instead of the next one\n"
	    "  --no-collect    do not poll the sources first\n"
	    "\n"
	    "Exit: 0 accepted, 1 refused by the server (5xx), 2 usage or config\n"
	    "error, 3 server unreachable or a temporary refusal (4xx).\n");
}

int
cmd_send_test(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to",		required_argument, NULL, 't' },
		{ "issue",	required_argument, NULL, 'i' },
		{ "no-collect",	no_argument,	   NULL, 'N' },
		CLI_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct newsletter_conf *nl;
	const char *to = NULL, *why = NULL;
	long issue_no = 0;
	bool no_collect = false;
	struct store_issue is;
	struct digest *d = NULL;
	struct token_key *key = NULL;
	struct message_ctx *mc = NULL;
	struct smtp *sm = NULL;
	struct buf msg = BUF_INIT;
	struct message_rcpt r;
	struct store_draft dr = { 0 };
	char *err = NULL, *from = NULL, *reply = NULL;
	int c, rc;

	memset(&is, 0, sizeof(is));
	optind = 1;
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts, NULL)) !=
	    -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'i':
			if (parse_long(optarg, 1, 1000000000L, &issue_no) == -1)
				return cli_usage_error(argv[0],
				    "--issue: not an issue number: %s", optarg);
			break;
		case 'N':
			no_collect = true;
			break;
		case 'h':
			usage_send_test(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error(argv[0], "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument: %s",
		    argv[optind]);
	if (to == NULL)
		return cli_usage_error(argv[0], "--to EMAIL is required");
	if (!email_addr_valid(to, &why))
		return cli_usage_error(argv[0], "--to %s: %s", to, why);
	if ((rc = cli_create(cli)) != EXIT_OK)
		return rc;
	if ((nl = cli_newsletter(cli)) == NULL)
		return EXIT_USAGE;
	rc = EXIT_FAIL;
	if (issue_no > 0) {
		int f = store_issue_by_number(cli->store, nl->id, issue_no, &is);

		if (f != 1) {
			log_error("send-test: %s has no issue #%ld", nl->id,
			    issue_no);
			goto out;
		}
		d = assemble_digest(cli->store, cli->cfg, nl, &is, &err);
	} else {
		collect_first(cli, nl, no_collect);
		if (store_issue_draft(cli->store, nl->id, nl->max_articles,
		    &dr) != STORE_OK) {
			log_error("send-test: reading articles: %s",
			    store_errmsg(cli->store));
			goto out;
		}
		if (dr.n == 0) {
			log_error("send-test: %s: no new articles for the next "
			    "issue (give --issue N to resend one)", nl->id);
			goto out;
		}
		is.number = dr.number;
		is.created = time(NULL);
		d = digest_new(cli->cfg, nl, cli->store, dr.ids, dr.n,
		    is.number, is.created, &err);
	}
	if (d == NULL) {
		log_error("send-test: rendering: %s", err ? err : "error");
		goto out;
	}
	key = token_key_load(cli->cfg->secret_file, &err);
	if (key == NULL) {
		log_error("send-test: %s: %s", cli->cfg->secret_file, err);
		goto out;
	}
	mc = message_ctx_new(cli->cfg, nl, d, key);
	memset(&r, 0, sizeof(r));
	r.email = to;
	if (message_build(mc, &r, time(NULL), &msg, NULL, &err) != 0) {
		log_error("send-test: building the message: %s", err);
		goto out;
	}
	if ((sm = smtp_open_config(cli->cfg, nl, 1, &rc, &err)) == NULL) {
		log_error("%s", err);
		goto out;
	}
	from = message_env_from(mc, 0);
	switch (smtp_send_one(sm, from, to, &msg, cli->cfg->smtp.timeout,
	    &reply)) {
	case SMTP_SENT:
		printf("%s\n", reply);
		log_info("send-test: issue #%ld sent to %s", is.number, to);
		rc = EXIT_OK;
		break;
	case SMTP_PERMFAIL:
		log_error("send-test: %s refused %s: %s", cli->cfg->smtp.url,
		    to, reply);
		rc = EXIT_FAIL;
		break;
	case SMTP_TEMPFAIL:
		log_error("send-test: %s deferred %s (temporary): %s",
		    cli->cfg->smtp.url, to, reply);
		rc = EXIT_TEMP;
		break;
	case SMTP_CONNFAIL:
		log_error("send-test: %s: cannot send (unreachable or "
		    "session refused): %s", cli->cfg->smtp.url, reply);
		rc = EXIT_TEMP;
		break;
	}
out:
	smtp_free(sm);
	free(from);
	free(reply);
	buf_free(&msg);
	message_ctx_free(mc);
	token_key_free(key);
	if (d)
		digest_free(d);
	store_draft_clear(&dr);
	free(err);
	store_issue_clear(&is);
	return rc;
}

/* ------------------------------------------------------------------ */
/* send */

static void
usage_send(FILE *f)
{
	fprintf(f,
	    "usage: herald send [--progress] [--no-collect]\n"
	    "\n"
	    "Collects, then assembles an issue from the new articles (or resumes\n"
	    "the unfinished issue) and makes one pass over its due deliveries:\n"
	    "each active subscriber gets the issue once.  Temporarily refused\n"
	    "messages (4xx, dropped connections) are deferred with backoff and\n"
	    "wait for the daemon or the next `herald send`; permanently refused\n"
	    "ones (5xx) are failed with the server's reply.  SIGTERM or Ctrl-C\n"
	    "stops cleanly: run `herald send` again to resume.\n"
	    "\n"
	    "  --progress      a live progress bar (a line every few seconds when\n"
	    "                  stderr is not a terminal)\n"
	    "  --no-collect    do not poll the sources first\n"
	    "\n"
	    "Exit: 0 done (or nothing new), 1 some delivery failed in this pass,\n"
	    "2 usage or config error, 3 server unreachable, interrupted, or\n"
	    "another herald is sending this newsletter.\n");
}

/*
 * PostgreSQL: after its pass, a sender stays while other senders hold rows
 * of the issue, and takes over those whose lease runs out (their sender
 * died), so the issue is finished by whoever is left.  Deferred rows
 * still wait for the daemon or the next send, as on SQLite.
 */
static int
send_takeover(struct cli *cli, const struct newsletter_conf *nl,
    struct send_pass_opts *po, int rc)
{
	struct store_issue is;
	long claimable, held;
	int found;

	po->create = false;
	while (rc == EXIT_OK && stop_flag == 0) {
		memset(&is, 0, sizeof(is));
		found = store_issue_unfinished(cli->store, nl->id, &is);
		if (found != 1 || store_issue_waiting(cli->store, is.id,
		    time(NULL), &claimable, &held) != STORE_OK) {
			store_issue_clear(&is);
			break;
		}
		store_issue_clear(&is);
		if (claimable > 0)
			rc = send_pass(cli->store, cli->cfg, nl, po, NULL);
		else if (held > 0)
			store_issue_wait(cli->store, 1000);
		else
			break;
	}
	return rc;
}

int
cmd_send(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "progress",	no_argument,	   NULL, 'P' },
		{ "no-collect",	no_argument,	   NULL, 'N' },
		CLI_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct newsletter_conf *nl;
	struct send_pass_opts po;
	bool no_collect = false, want_progress = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts, NULL)) !=
	    -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'P':
			want_progress = true;
			break;
		case 'N':
			no_collect = true;
			break;
		case 'h':
			usage_send(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error(argv[0], "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument: %s",
		    argv[optind]);
	if ((rc = cli_create(cli)) != EXIT_OK)
		return rc;
	if ((nl = cli_newsletter(cli)) == NULL)
		return EXIT_USAGE;
	catch_signals();
	collect_first(cli, nl, no_collect);
	memset(&po, 0, sizeof(po));
	po.create = true;
	po.progress = want_progress;
	po.report = stdout;
	po.stop = &stop_flag;
	rc = send_pass(cli->store, cli->cfg, nl, &po, NULL);
	if (store_is_pg(cli->store))
		rc = send_takeover(cli, nl, &po, rc);
	return rc;
}
