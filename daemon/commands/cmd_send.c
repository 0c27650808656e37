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

/* The sender for cfg; NULL (error printed) with *rc set. */
static struct smtp *
open_smtp(const struct config *cfg, const struct newsletter_conf *nl,
    long connections, int *rc)
{
	struct smtp *sm;
	char *err = NULL;

	if ((sm = smtp_open_config(cfg, nl, connections, rc, &err)) == NULL) {
		log_error("%s", err);
		free(err);
	}
	return sm;
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
	if ((sm = open_smtp(cli->cfg, nl, 1, &rc)) == NULL)
		goto out;
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

struct sender {
	struct message_ctx *mc;
	time_t		 date;
};

static int
build_one(void *arg, const struct store_delivery *d, struct queue_msg *m,
    char **err)
{
	struct sender *s = arg;
	struct message_rcpt r;

	r.subscriber_id = d->subscriber_id;
	r.email = d->email;
	r.name = d->name;
	r.attributes = d->attributes;
	switch (message_build(s->mc, &r, s->date, &m->data, &m->message_id,
	    err)) {
	case 0:
		break;
	case MESSAGE_ERR_RCPT:
		return QUEUE_BUILD_ROW;
	default:
		return QUEUE_BUILD_STOP;
	}
	m->env_from = message_env_from(s->mc, d->id);
	return 0;
}

/*
 * Builds the issue's message once for a sample recipient before any row is
 * touched: what fails here (the configuration, the digest) would fail for
 * every subscriber, and is no subscriber's fault.  0, or -1 with *err.
 */
static int
probe_build(struct sender *s, char **err)
{
	struct message_rcpt r;
	struct buf out = BUF_INIT;
	char *mid = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	r.email = "sample.reader@example.org";
	r.name = "Sample Reader";
	rc = message_build(s->mc, &r, s->date, &out, &mid, err);
	buf_free(&out);
	free(mid);
	return rc == 0 ? 0 : -1;
}

struct progress {
	bool	 draw;		/* --progress */
	void	(*tick)(long, long, void *);
	void	*tick_arg;
	bool	 tty;
	long	 total;
	double	 start;
	double	 last;
	bool	 drawn;
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
show_progress(const struct queue_stats *st, void *arg)
{
	struct progress *p = arg;
	double t = mono(), el = t - p->start, rate;
	long done = st->sent + st->deferred + st->failed + st->skipped +
	    st->unreached;
	long eta;
	char bar[31];
	int i, fill;

	if (p->tick)
		p->tick(done, p->total, p->tick_arg);
	if (!p->draw)
		return;
	if (p->tty ? t - p->last < 0.1 : t - p->last < 3.0)
		return;
	p->last = t;
	rate = el > 0 ? (double)st->sent / el : 0;
	eta = rate > 0 && p->total > done ?
	    (long)((double)(p->total - done) / rate) : 0;
	if (p->tty) {
		fill = p->total > 0 ? (int)(30.0 * (double)done /
		    (double)p->total) : 30;
		if (fill > 30)
			fill = 30;
		for (i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %ld/%ld  sent %ld  deferred %ld  "
		    "failed %ld  %.0f/s  ETA %ld:%02ld \033[K", bar, done,
		    p->total, st->sent, st->deferred, st->failed + st->skipped,
		    rate, eta / 60, eta % 60);
		p->drawn = true;
	} else {
		fprintf(stderr, "herald: send: %ld/%ld: sent %ld, deferred "
		    "%ld, failed %ld, %.0f/s, ETA %lds\n", done, p->total,
		    st->sent, st->deferred, st->failed + st->skipped, rate,
		    eta);
	}
}

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

static void
when(time_t t, char *out, size_t n)
{
	long in = (long)(t - time(NULL));
	char ts[21], dur[32];

	time_rfc3339(t, ts);
	if (in <= 0)
		snprintf(out, n, "%s, now", ts);
	else {
		duration_format(in, dur, sizeof(dur));
		snprintf(out, n, "%s, in %s", ts, dur);
	}
}

/*
 * Text for the operator: to `report` (the CLI's stdout), or to the log when
 * report is NULL (the daemon).
 */
static void __attribute__((format(printf, 2, 3)))
say(FILE *report, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (report) {
		fputs(buf_cstr(&b), report);
		fputc('\n', report);
		fflush(report);
	} else
		log_info("send: %s", buf_cstr(&b));
	buf_free(&b);
}

/*
 * Only one herald sends a newsletter at a time: an advisory lock on a file
 * beside the database.  Returns the fd (kept open while sending), or -1
 * when another process holds it (*busy) or on error.
 */
static int
send_lock(const struct config *cfg, const char *newsletter, bool *busy)
{
	char *path = xasprintf("%s.send-%s.lock", cfg->database, newsletter);
	int fd;

	*busy = false;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		log_error("send: %s: %s", path, strerror(errno));
	else if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		*busy = errno == EWOULDBLOCK;
		if (*busy)
			log_error("send: %s: another herald is sending this "
			    "newsletter now (lock %s); try again when it is done",
			    newsletter, path);
		else
			log_error("send: %s: %s", path, strerror(errno));
		close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

int
send_pass(struct cli *cli, const struct newsletter_conf *nl,
    const struct send_pass_opts *po, time_t *next_due)
{
	bool done = false, busy;
	struct store_issue is;
	struct store_queue_counts before, after;
	struct queue_stats qs;
	struct queue_opts qo;
	struct progress prog;
	struct sender snd;
	struct digest *d = NULL;
	struct token_key *key = NULL;
	struct smtp *sm = NULL;
	struct buf line = BUF_INIT;
	enum assemble_rc ar;
	enum store_rc src;
	long nd = 0, npending = 0;
	char *err = NULL, due[64];
	int rc = EXIT_FAIL, qrc, lockfd;

	memset(&is, 0, sizeof(is));
	memset(&snd, 0, sizeof(snd));
	if (next_due)
		*next_due = 0;
	if ((lockfd = send_lock(cli->cfg, nl->id, &busy)) == -1)
		return busy ? EXIT_TEMP : EXIT_FAIL;
	if (store_check(cli->store, &err) == -1) {
		log_error("send: %s", err);
		goto out;
	}
	if (po->create)
		ar = assemble_issue(cli->store, cli->cfg, nl, time(NULL), &is,
		    &nd, &npending, &err);
	else {
		int found = store_issue_unfinished(cli->store, nl->id, &is);

		ar = found == 1 ? ASSEMBLE_RESUMED : found == 0 ?
		    ASSEMBLE_NOTHING : ASSEMBLE_ERR;
		if (found == -1)
			err = xasprintf("reading issues: %s",
			    store_errmsg(cli->store));
		if (found == 0) {
			rc = EXIT_OK;
			goto out;
		}
	}
	switch (ar) {
	case ASSEMBLE_NOTHING:
		say(po->report, "%s: nothing new to send (%ld new article%s, "
		    "min_articles %ld)", nl->id, npending,
		    npending == 1 ? "" : "s", nl->min_articles);
		rc = EXIT_OK;
		goto out;
	case ASSEMBLE_NO_READERS:
		say(po->report, "%s: no issue: no active subscriber (%ld new "
		    "article%s wait for the first; add one with `herald "
		    "subscribers add`)", nl->id, npending,
		    npending == 1 ? "" : "s");
		rc = EXIT_OK;
		goto out;
	case ASSEMBLE_ERR:
	case ASSEMBLE_BUSY:
		log_error("send: %s", err);
		rc = ar == ASSEMBLE_BUSY ? EXIT_TEMP : EXIT_FAIL;
		goto out;
	case ASSEMBLE_NEW:
		say(po->report, "%s: issue #%ld \"%s\" created for %ld subscriber%s",
		    nl->id, is.number, is.subject, nd, nd == 1 ? "" : "s");
		break;
	case ASSEMBLE_RESUMED:
		say(po->report, "%s: resuming issue #%ld \"%s\"", nl->id, is.number,
		    is.subject);
		break;
	}
	d = assemble_digest(cli->store, cli->cfg, nl, &is, &err);
	if (d == NULL) {
		log_error("send: issue #%ld: %s", is.number, err);
		goto out;
	}
	key = token_key_load(cli->cfg->secret_file, &err);
	if (key == NULL) {
		log_error("send: %s: %s", cli->cfg->secret_file, err);
		goto out;
	}
	if ((sm = open_smtp(cli->cfg, nl, cli->cfg->smtp.connections,
	    &rc)) == NULL)
		goto out;
	snd.mc = message_ctx_new(cli->cfg, nl, d, key);
	snd.date = time(NULL);
	if (probe_build(&snd, &err) == -1) {
		log_error("send: issue #%ld: cannot build its messages: %s; "
		    "nothing was sent and the issue waits: fix the "
		    "configuration (`herald config check`, `herald preview "
		    "--format eml`) and run `herald send` again", is.number,
		    err);
		rc = EXIT_USAGE;
		goto out;
	}
	if ((src = store_issue_counts(cli->store, is.id, &before)) !=
	    STORE_OK) {
		log_error("send: issue #%ld: reading its deliveries: %s",
		    is.number, store_errmsg(cli->store));
		rc = src == STORE_BUSY ? EXIT_TEMP : EXIT_FAIL;
		goto out;
	}
	memset(&prog, 0, sizeof(prog));
	prog.tty = isatty(STDERR_FILENO);
	prog.total = before.queued + before.deferred;
	prog.start = prog.last = mono();
	memset(&qo, 0, sizeof(qo));
	qo.store = cli->store;
	qo.issue_id = is.id;
	qo.smtp = sm;
	qo.max_attempts = cli->cfg->smtp.max_attempts > 0 ?
	    cli->cfg->smtp.max_attempts : 8;
	qo.build = build_one;
	qo.build_arg = &snd;
	qo.stop = po->stop;
	prog.draw = po->progress;
	prog.tick = po->tick;
	prog.tick_arg = po->tick_arg;
	if (po->progress || po->tick) {
		qo.progress = show_progress;
		qo.progress_arg = &prog;
	}
	qrc = queue_run(&qo, &qs);
	if (prog.drawn)
		fputc('\n', stderr);
	if (qrc != 0) {
		rc = qrc == STORE_BUSY ? EXIT_TEMP : EXIT_FAIL;
		goto out;
	}
	if (qs.build_failed) {
		log_error("send: issue #%ld: cannot build a message: %s; the "
		    "pass stopped and the rows not sent wait: fix the "
		    "configuration and run `herald send` again", is.number,
		    qs.last_error);
		rc = EXIT_FAIL;
		goto out;
	}
	if ((src = store_issue_finish_if_done(cli->store, is.id, &done)) !=
	    STORE_OK || (src = store_issue_counts(cli->store, is.id,
	    &after)) != STORE_OK) {
		log_error("send: issue #%ld: recording the end of the pass: %s",
		    is.number, store_errmsg(cli->store));
		rc = src == STORE_BUSY ? EXIT_TEMP : EXIT_FAIL;
		goto out;
	}
	buf_printf(&line, "%s: issue #%ld: %ld sent, %ld deferred, %ld failed",
	    nl->id, is.number, qs.sent, qs.deferred, qs.failed);
	if (qs.skipped)
		buf_printf(&line, ", %ld skipped (unsubscribed)", qs.skipped);
	if (qs.unreached)
		buf_printf(&line, ", %ld not attempted (server unreachable)",
		    qs.unreached);
	say(po->report, "%s in this pass", buf_cstr(&line));
	if (done)
		say(po->report, "%s: issue #%ld is done: %ld sent, %ld failed in all",
		    nl->id, is.number, after.sent, after.failed);
	else {
		when(after.next_due, due, sizeof(due));
		if (next_due)
			*next_due = after.next_due;
		say(po->report, "%s: issue #%ld: %ld waiting (%ld deferred); next due "
		    "%s; run `herald send` again or let the daemon resume",
		    nl->id, is.number, after.queued + after.deferred,
		    after.deferred, due);
	}
	rc = EXIT_OK;
	if (qs.failed > 0)
		rc = EXIT_FAIL;
	if (qs.unreachable || qs.unreached > 0) {
		log_error("send: %s: cannot send (unreachable or session "
		    "refused): %s", cli->cfg->smtp.url, qs.last_error);
		if (qs.sent == 0 && qs.deferred == 0 && qs.failed == 0)
			rc = EXIT_TEMP;
	}
	if (qs.stopped) {
		log_error("send: interrupted: %ld in flight %s; run `herald "
		    "send` again to resume", qs.inflight,
		    *po->stop >= 2 ? "abandoned" : "finished");
		if (rc == EXIT_OK)
			rc = EXIT_TEMP;
	}
out:
	/* Abandoned transfers (a second signal) go with the sender. */
	smtp_free(sm);
	message_ctx_free(snd.mc);
	token_key_free(key);
	if (d)
		digest_free(d);
	free(err);
	store_issue_clear(&is);
	buf_free(&line);
	close(lockfd);
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
	return send_pass(cli, nl, &po, NULL);
}
