/*
 * queue: streams due deliveries through the SMTP sender and commits their
 * outcomes in small batches.  See queue.h for the contract and the bound
 * on what a crash can re-send.
 */
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define RETRY_BASE_DEFAULT	60
#define RETRY_MAX		86400
#define CONNFAIL_MIN		4

/* One message in flight: the cookie handed to smtp_submit(). */
struct flight {
	bool		 used;
	int64_t		 id;
	long		 attempts;	/* before this one */
	char		*message_id;
};

/* One outcome waiting for the next commit (strings owned). */
struct pend {
	struct store_outcome o;
	char		*reply;
	char		*message_id;
};

struct q {
	const struct queue_opts *opts;
	struct queue_stats *stats;
	struct flight	*flights;
	size_t		 nflights;
	struct pend	 pend[QUEUE_BATCH];
	size_t		 npend;
	double		 first_pend;	/* monotonic time of the oldest */
	long		 connfails;	/* in a row, with nothing sent */
	int		 dberr;		/* STORE_* of a failed commit */
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static long
retry_base(void)
{
	const char *e = getenv("HERALD_RETRY_BASE");
	long v;

	if (e != NULL && parse_long(e, 0, RETRY_MAX, &v) == 0)
		return v;
	return RETRY_BASE_DEFAULT;
}

long
queue_retry_delay(long attempts)
{
	static uint64_t seed;
	long base = retry_base(), d;
	double j;

	if (seed == 0)
		seed = ((uint64_t)time(NULL) * 2654435761u ^
		    (uint64_t)getpid()) | 1;
	if (attempts < 1)
		attempts = 1;
	d = base;
	while (--attempts > 0 && d < RETRY_MAX)
		d *= 2;
	if (d > RETRY_MAX)
		d = RETRY_MAX;
	j = 0.75 + (double)(rng_next(&seed) % 1000) / 2000.0;	/* 0.75..1.25 */
	return (long)((double)d * j);
}

static int
flush(struct q *q)
{
	enum store_rc rc;
	struct store_outcome o[QUEUE_BATCH];
	size_t i;

	if (q->npend == 0)
		return 0;
	for (i = 0; i < q->npend; i++)
		o[i] = q->pend[i].o;
	rc = store_deliveries_update(q->opts->store, o, q->npend);
	for (i = 0; i < q->npend; i++) {
		free(q->pend[i].reply);
		free(q->pend[i].message_id);
	}
	q->npend = 0;
	if (rc != STORE_OK) {
		log_error("database: recording delivery outcomes: %s",
		    store_errmsg(q->opts->store));
		q->dberr = rc;
		return -1;
	}
	return 0;
}

/* Queues one outcome for the next commit (takes reply and mid). */
static void
record(struct q *q, int64_t id, const char *state, long attempts,
    time_t next, char *reply, time_t sent, char *mid)
{
	struct pend *p;

	if (q->npend == QUEUE_BATCH)
		flush(q);
	if (q->npend == 0)
		q->first_pend = mono();
	p = &q->pend[q->npend++];
	p->reply = reply;
	p->message_id = mid;
	p->o.id = id;
	p->o.state = state;
	p->o.attempts = attempts;
	p->o.next_attempt = next;
	p->o.reply = reply;
	p->o.sent = sent;
	p->o.message_id = mid;
}

static void
on_done(const struct smtp_outcome *o, void *arg)
{
	struct q *q = arg;
	struct flight *f = o->cookie;
	struct queue_stats *st = q->stats;
	long attempts = f->attempts + 1;
	time_t now = time(NULL);

	f->used = false;
	switch (o->result) {
	case SMTP_SENT:
		q->connfails = 0;
		st->sent++;
		record(q, f->id, "sent", attempts, now, xstrdup(o->reply), now,
		    f->message_id);
		break;
	case SMTP_PERMFAIL:
		q->connfails = 0;
		st->failed++;
		record(q, f->id, "failed", attempts, now, xstrdup(o->reply), 0,
		    f->message_id);
		break;
	case SMTP_TEMPFAIL:
		q->connfails = 0;
		if (attempts >= q->opts->max_attempts) {
			st->failed++;
			record(q, f->id, "failed", attempts, now,
			    xasprintf("%s (gave up after %ld attempts)",
			    o->reply, attempts), 0, f->message_id);
		} else {
			st->deferred++;
			record(q, f->id, "deferred", attempts,
			    now + queue_retry_delay(attempts),
			    xstrdup(o->reply), 0, f->message_id);
		}
		break;
	case SMTP_CONNFAIL:
		/* Nothing about this message: the row stays as it was. */
		q->connfails++;
		st->unreached++;
		snprintf(st->last_error, sizeof(st->last_error), "%s",
		    o->reply);
		free(f->message_id);
		break;
	}
	f->message_id = NULL;
}

static struct flight *
flight_get(struct q *q)
{
	size_t i;

	for (i = 0; i < q->nflights; i++)
		if (!q->flights[i].used)
			return &q->flights[i];
	return NULL;
}

static void
msg_clear(struct queue_msg *m)
{
	buf_reset(&m->data);
	free(m->env_from);
	free(m->message_id);
	m->env_from = m->message_id = NULL;
}

/* Builds and submits one row, or settles it here when it cannot be sent. */
static void
take_row(struct q *q, const struct store_delivery *d, struct queue_msg *m)
{
	const struct queue_opts *op = q->opts;
	struct flight *f;
	char *err = NULL;
	time_t now = time(NULL);

	if (!d->active) {
		q->stats->skipped++;
		record(q, d->id, "failed", d->attempts, now,
		    xstrdup("skipped: subscription no longer active "
		    "(unsubscribed before sending)"), 0, NULL);
		return;
	}
	msg_clear(m);
	if (op->build(op->build_arg, d, m, &err) == -1) {
		q->stats->failed++;
		record(q, d->id, "failed", d->attempts, now,
		    xasprintf("message not built: %s", err ? err : "error"),
		    0, NULL);
		free(err);
		return;
	}
	f = flight_get(q);
	if (f == NULL)
		fatal("queue: no free flight slot");
	f->used = true;
	f->id = d->id;
	f->attempts = d->attempts;
	f->message_id = m->message_id;
	m->message_id = NULL;
	if (smtp_submit(op->smtp, m->env_from, d->email, &m->data, f) == -1)
		fatal("queue: sender not ready");
}

int
queue_run(const struct queue_opts *op, struct queue_stats *stats)
{
	struct q q;
	struct store_delivery rows[QUEUE_CHUNK];
	struct queue_msg m;
	size_t nrows = 0, idx = 0, i;
	int64_t after = 0;
	bool eof = false;
	time_t start = time(NULL);
	double last_progress = 0;
	long connfail_limit;

	memset(stats, 0, sizeof(*stats));
	memset(&q, 0, sizeof(q));
	memset(rows, 0, sizeof(rows));
	memset(&m, 0, sizeof(m));
	buf_init(&m.data, 0);
	q.opts = op;
	q.stats = stats;
	q.nflights = smtp_slots(op->smtp);
	q.flights = xcalloc(q.nflights, sizeof(*q.flights));
	connfail_limit = 2 * (long)q.nflights;
	if (connfail_limit < CONNFAIL_MIN)
		connfail_limit = CONNFAIL_MIN;

	for (;;) {
		bool stopping = op->stop != NULL && *op->stop != 0;

		if (q.dberr)
			break;
		if (!stopping && !stats->unreachable && idx == nrows &&
		    !eof) {
			for (i = 0; i < nrows; i++)
				store_delivery_clear(&rows[i]);
			/* Commit first: a chunk read sees our own outcomes. */
			if (flush(&q) == -1)
				break;
			long n = store_deliveries_due(op->store, op->issue_id,
			    start, after, QUEUE_CHUNK, rows);
			if (n < 0) {
				log_error("database: reading deliveries: %s",
				    store_errmsg(op->store));
				q.dberr = STORE_ERR;
				nrows = 0;
				break;
			}
			nrows = (size_t)n;
			idx = 0;
			if (nrows < QUEUE_CHUNK)
				eof = true;
			if (nrows > 0)
				after = rows[nrows - 1].id;
		}
		if (!stopping && !stats->unreachable && idx < nrows &&
		    smtp_ready(op->smtp)) {
			take_row(&q, &rows[idx++], &m);
			continue;
		}
		if (smtp_inflight(op->smtp) == 0 &&
		    (stopping || stats->unreachable || (idx == nrows && eof)))
			break;
		if (op->stop != NULL && *op->stop >= 2)
			break;		/* abandon what is in flight */
		smtp_run(op->smtp, 100, on_done, &q);
		if (q.connfails >= connfail_limit)
			stats->unreachable = true;
		/*
		 * Commit what the server answered as soon as the oldest
		 * uncommitted outcome is QUEUE_COMMIT_MS old: at the usual
		 * rates every outcome gets its own commit; flat out, the
		 * outcomes of a few milliseconds share one (a commit per
		 * outcome costs ~40% of the throughput).  A crash re-sends
		 * only what was in flight or answered in that window.
		 */
		if (q.npend > 0 && mono() - q.first_pend >=
		    QUEUE_COMMIT_MS / 1000.0)
			flush(&q);
		if (op->progress && mono() - last_progress >= 0.1) {
			last_progress = mono();
			stats->inflight = (long)smtp_inflight(op->smtp);
			op->progress(stats, op->progress_arg);
		}
	}
	stats->stopped = op->stop != NULL && *op->stop != 0;
	stats->inflight = (long)smtp_inflight(op->smtp);
	flush(&q);
	for (i = 0; i < nrows; i++)
		store_delivery_clear(&rows[i]);
	for (i = 0; i < q.nflights; i++)
		free(q.flights[i].message_id);	/* abandoned ones */
	free(q.flights);
	msg_clear(&m);
	buf_free(&m.data);
	if (op->progress) {
		op->progress(stats, op->progress_arg);
	}
	if (q.dberr)
		return q.dberr == STORE_BUSY ? STORE_BUSY : -1;
	return 0;
}
