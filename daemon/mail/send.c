/*
 * send: the send stage: one pass of the sender over a newsletter's issue
 * (assemble or resume it, build each subscriber's message, hand them to
 * the queue).  `herald send` and the daemon call it; it knows the store
 * and the configuration, not the command line.
 */
#include "send.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>

#include "assemble.h"
#include "log.h"
#include "message.h"
#include "queue.h"
#include "render.h"
#include "smtp.h"
#include "smtp_open.h"
#include "store_queue.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

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
send_pass(struct store *st, const struct config *cfg,
    const struct newsletter_conf *nl, const struct send_pass_opts *po,
    time_t *next_due)
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
	/* On PostgreSQL several senders share the queue (claims, issue 14). */
	lockfd = -1;
	if (!store_is_pg(st) &&
	    (lockfd = send_lock(cfg, nl->id, &busy)) == -1)
		return busy ? EXIT_TEMP : EXIT_FAIL;
	if (store_check(st, &err) == -1) {
		log_error("send: %s", err);
		goto out;
	}
	if (po->create) {
		/* PostgreSQL: one process at a time decides resume or new */
		if (store_issue_lock(st, nl->id, true) != STORE_OK) {
			log_error("send: %s: %s", nl->id, store_errmsg(st));
			rc = EXIT_TEMP;
			goto out;
		}
		ar = assemble_issue(st, cfg, nl, time(NULL), &is,
		    &nd, &npending, &err);
		if (store_issue_lock(st, nl->id, false) != STORE_OK)
			log_warn("send: %s: %s", nl->id, store_errmsg(st));
	} else {
		int found = store_issue_unfinished(st, nl->id, &is);

		ar = found == 1 ? ASSEMBLE_RESUMED : found == 0 ?
		    ASSEMBLE_NOTHING : ASSEMBLE_ERR;
		if (found == -1)
			err = xasprintf("reading issues: %s",
			    store_errmsg(st));
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
	d = assemble_digest(st, cfg, nl, &is, &err);
	if (d == NULL) {
		log_error("send: issue #%ld: %s", is.number, err);
		goto out;
	}
	key = token_key_load(cfg->secret_file, &err);
	if (key == NULL) {
		log_error("send: %s: %s", cfg->secret_file, err);
		goto out;
	}
	if ((sm = open_smtp(cfg, nl, cfg->smtp.connections,
	    &rc)) == NULL)
		goto out;
	snd.mc = message_ctx_new(cfg, nl, d, key);
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
	if ((src = store_issue_counts(st, is.id, &before)) !=
	    STORE_OK) {
		log_error("send: issue #%ld: reading its deliveries: %s",
		    is.number, store_errmsg(st));
		rc = src == STORE_BUSY ? EXIT_TEMP : EXIT_FAIL;
		goto out;
	}
	memset(&prog, 0, sizeof(prog));
	prog.tty = isatty(STDERR_FILENO);
	prog.total = before.queued + before.deferred;
	prog.start = prog.last = mono();
	memset(&qo, 0, sizeof(qo));
	qo.store = st;
	qo.issue_id = is.id;
	qo.smtp = sm;
	qo.max_attempts = cfg->smtp.max_attempts > 0 ?
	    cfg->smtp.max_attempts : 8;
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
	/*
	 * PostgreSQL: the rows this pass claimed and did not finish go back
	 * now (else the next `herald send` or the daemon waits for their
	 * lease); a sender that dies leaves them to the lease.
	 */
	if (store_deliveries_release(st) != STORE_OK)
		log_warn("send: giving back the rows not sent: %s",
		    store_errmsg(st));
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
	if ((src = store_issue_finish_if_done(st, is.id, &done)) !=
	    STORE_OK || (src = store_issue_counts(st, is.id,
	    &after)) != STORE_OK) {
		log_error("send: issue #%ld: recording the end of the pass: %s",
		    is.number, store_errmsg(st));
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
		    "refused): %s", cfg->smtp.url, qs.last_error);
		if (qs.sent == 0 && qs.deferred == 0 && qs.failed == 0)
			rc = EXIT_TEMP;
	}
	if (qs.stopped && po->report == NULL)
		/* the daemon (a reload or a stop): it resumes the issue */
		log_info("send: %s: paused, %ld in flight %s; the daemon "
		    "resumes the issue", nl->id, qs.inflight,
		    *po->stop >= 2 ? "abandoned" : "finished");
	else if (qs.stopped)
		log_error("send: interrupted: %ld in flight %s; run `herald "
		    "send` again to resume", qs.inflight,
		    *po->stop >= 2 ? "abandoned" : "finished");
	if (qs.stopped) {
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
	if (lockfd != -1)
		close(lockfd);
	return rc;
}

