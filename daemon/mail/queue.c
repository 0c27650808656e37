/*
 * queue: streams due deliveries through the SMTP sender and commits their
 * outcomes as the server answers.  See queue.h for the contract and the
 * bound on what a crash can re-send.
 *
 * Three threads share a pass, so the I/O loop never waits on a message
 * being built or on a commit:
 *
 *   builder  reads the due rows a chunk at a time (on the caller's store
 *            connection, which nothing else uses during the pass) and
 *            builds their messages ahead into a ring of QUEUE_LOOKAHEAD
 *            slots; it waits when the ring is full.
 *   I/O      (the caller's thread) takes built messages from the ring,
 *            hands them to libcurl, and queues each outcome for the writer.
 *   writer   has its own store connection and commits whatever outcomes
 *            queued up while its previous commit ran: one commit per
 *            outcome at normal rates, a few per commit flat out.
 *
 * Ownership: a ring slot belongs to the builder from its release by the I/O
 * thread until it is published, then to the I/O thread until released.
 * The writer's queue is guarded by its mutex; a batch being committed is
 * the writer's alone.
 */
#include "queue.h"

#include <pthread.h>
#include <signal.h>
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

/* One outcome waiting for its commit (strings owned). */
struct pend {
	struct store_outcome o;
	char		*reply;
	char		*message_id;
};

/* ---- the builder ---- */

/* One due row with its message, built ahead. */
struct prep {
	struct store_delivery d;	/* owned */
	struct queue_msg m;
	int		 rc;		/* the build function's result */
	char		*err;		/* its error when rc == -1 */
};

struct builder {
	const struct queue_opts *op;
	time_t		 start;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 space;		/* the builder waits: a slot is free */
	struct prep	 ring[QUEUE_LOOKAHEAD];
	/* under mu */
	size_t		 head;		/* slots published */
	size_t		 tail;		/* slots released */
	bool		 eof;		/* no more rows (or a read error) */
	bool		 quit;
	bool		 waiting;	/* the I/O thread found the ring empty */
	bool		 sleeping;	/* the builder waits for space */
	int		 dberr;
};

/* ---- the writer ---- */

struct writer {
	struct store	*store;		/* the writer's own connection */
	struct smtp	*smtp;		/* to wake the I/O loop on an error */
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 work;		/* the writer waits: outcomes or quit */
	pthread_cond_t	 done;		/* the I/O thread waits: room */
	size_t		 limit;		/* queued + committing, at most */
	/* under mu */
	struct pend	*queue;
	size_t		 nqueue, capqueue;
	size_t		 committing;	/* outcomes in the commit running */
	bool		 quit;
	int		 dberr;		/* STORE_* of a failed commit */
};

struct q {
	const struct queue_opts *opts;
	struct queue_stats *stats;
	struct flight	*flights;
	size_t		 nflights;
	struct writer	*w;
	long		 connfails;	/* in a row, with nothing sent */
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

/*
 * Starts fn on a new thread with the process's asynchronous signals
 * blocked there, so that SIGTERM & co. reach the I/O thread (the handlers
 * only set flags, but its poll should be the one they interrupt).
 */
static void
thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
	    SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGPIPE };
	sigset_t set, old;
	size_t i;
	int rc;

	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		fatal("queue: cannot start a thread: %s", strerror(rc));
}

static void
msg_clear(struct queue_msg *m)
{
	buf_reset(&m->data);
	free(m->env_from);
	free(m->message_id);
	m->env_from = m->message_id = NULL;
}

/* ---- builder ---- */

static void
prep_clear(struct prep *p)
{
	store_delivery_clear(&p->d);
	msg_clear(&p->m);
	free(p->err);
	p->err = NULL;
	p->rc = 0;
}

/* Publishes slot head (or eof) and wakes the I/O loop if it waits. */
static void
builder_publish(struct builder *b, bool eof, int dberr)
{
	bool wake;

	pthread_mutex_lock(&b->mu);
	if (eof) {
		b->eof = true;
		b->dberr = dberr;
	} else
		b->head++;
	wake = b->waiting;
	b->waiting = false;
	pthread_mutex_unlock(&b->mu);
	if (wake)
		smtp_wakeup(b->op->smtp);
}

static void *
builder_main(void *arg)
{
	struct builder *b = arg;
	const struct queue_opts *op = b->op;
	struct store_delivery *rows;
	size_t nrows = 0, idx = 0, head, i;
	int64_t after = 0;
	bool last = false;
	int dberr = 0;

	rows = xcalloc(QUEUE_CHUNK, sizeof(*rows));
	for (;;) {
		struct prep *p;

		pthread_mutex_lock(&b->mu);
		if (b->head - b->tail == QUEUE_LOOKAHEAD) {
			/* full: sleep until half is taken, not for each slot */
			b->sleeping = true;
			while (!b->quit &&
			    b->head - b->tail > QUEUE_LOOKAHEAD / 2)
				pthread_cond_wait(&b->space, &b->mu);
			b->sleeping = false;
		}
		head = b->head;
		if (b->quit) {
			pthread_mutex_unlock(&b->mu);
			break;
		}
		pthread_mutex_unlock(&b->mu);

		if (idx == nrows) {
			long n;

			if (last)
				break;
			for (i = 0; i < nrows; i++)
				store_delivery_clear(&rows[i]);
			n = store_deliveries_due(op->store, op->issue_id,
			    b->start, after, QUEUE_CHUNK, rows);
			if (n < 0) {
				log_error("database: reading deliveries: %s",
				    store_errmsg(op->store));
				dberr = STORE_ERR;
				nrows = 0;
				break;
			}
			nrows = (size_t)n;
			idx = 0;
			last = nrows < QUEUE_CHUNK;
			if (nrows == 0)
				break;
			after = rows[nrows - 1].id;
		}
		p = &b->ring[head % QUEUE_LOOKAHEAD];
		p->d = rows[idx];
		memset(&rows[idx], 0, sizeof(rows[idx]));
		idx++;
		p->rc = 0;
		if (p->d.active) {
			p->rc = op->build(op->build_arg, &p->d, &p->m, &p->err);
			if (p->rc == -1 && p->err == NULL)
				p->err = xstrdup("error");
		}
		builder_publish(b, false, 0);
	}
	for (i = 0; i < nrows; i++)
		store_delivery_clear(&rows[i]);
	free(rows);
	builder_publish(b, true, dberr);
	return NULL;
}

static void
builder_start(struct builder *b, const struct queue_opts *op, time_t start)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->op = op;
	b->start = start;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->space, NULL);
	for (i = 0; i < QUEUE_LOOKAHEAD; i++)
		buf_init(&b->ring[i].m.data, 0);
	thread_start(&b->thread, builder_main, b);
}

/*
 * The next built row, or NULL: none ready yet (the builder wakes the
 * I/O loop when it publishes one) or none left (*eof).
 */
static struct prep *
builder_peek(struct builder *b, bool *eof)
{
	struct prep *p = NULL;

	pthread_mutex_lock(&b->mu);
	if (b->head != b->tail)
		p = &b->ring[b->tail % QUEUE_LOOKAHEAD];
	else if (b->eof)
		*eof = true;
	else
		b->waiting = true;
	pthread_mutex_unlock(&b->mu);
	return p;
}

/* Gives the slot peeked last back to the builder. */
static void
builder_release(struct builder *b, struct prep *p)
{
	prep_clear(p);
	pthread_mutex_lock(&b->mu);
	b->tail++;
	if (b->sleeping && b->head - b->tail <= QUEUE_LOOKAHEAD / 2)
		pthread_cond_signal(&b->space);
	pthread_mutex_unlock(&b->mu);
}

/* Stops and joins the builder; rows built and not taken stay due. */
static int
builder_stop(struct builder *b)
{
	size_t i;

	pthread_mutex_lock(&b->mu);
	b->quit = true;
	pthread_cond_signal(&b->space);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	for (i = 0; i < QUEUE_LOOKAHEAD; i++) {
		prep_clear(&b->ring[i]);
		buf_free(&b->ring[i].m.data);
	}
	pthread_cond_destroy(&b->space);
	pthread_mutex_destroy(&b->mu);
	return b->dberr;
}

/* ---- writer ---- */

/*
 * A commit waits up to QUEUE_GROUP_US for QUEUE_GROUP outcomes to share
 * it.  This never widens what a crash can re-send: the send loop still
 * stops at its limit of uncommitted outcomes.
 */
#ifndef QUEUE_GROUP
#define QUEUE_GROUP	8
#endif
#ifndef QUEUE_GROUP_US
#define QUEUE_GROUP_US	2000
#endif

static void
pend_free(struct pend *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].reply);
		free(p[i].message_id);
	}
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct pend *batch = NULL;
	struct store_outcome *o = NULL;
	size_t n, cap = 0, capo = 0, i;
	enum store_rc rc;

	for (;;) {
		struct pend *t;

		pthread_mutex_lock(&w->mu);
		while (w->nqueue == 0 && !w->quit)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->nqueue > 0 && w->nqueue < QUEUE_GROUP && !w->quit) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += QUEUE_GROUP_US * 1000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			while (w->nqueue < QUEUE_GROUP && !w->quit &&
			    pthread_cond_timedwait(&w->work, &w->mu,
			    &until) == 0)
				;
		}
		if (w->nqueue == 0) {		/* quit, and all committed */
			pthread_mutex_unlock(&w->mu);
			break;
		}
		/* take the queue whole; give it the empty array back */
		t = w->queue;
		w->queue = batch;
		batch = t;
		n = w->nqueue;
		i = w->capqueue;
		w->capqueue = cap;
		cap = i;
		w->nqueue = 0;
		w->committing = n;
		pthread_mutex_unlock(&w->mu);

		if (capo < n) {
			capo = cap;
			o = xrealloc(o, capo * sizeof(*o));
		}
		for (i = 0; i < n; i++)
			o[i] = batch[i].o;
		rc = store_deliveries_update(w->store, o, n);
		if (rc != STORE_OK)
			log_error("database: recording delivery outcomes: %s",
			    store_errmsg(w->store));
		pend_free(batch, n);

		pthread_mutex_lock(&w->mu);
		w->committing = 0;
		if (rc != STORE_OK && w->dberr == 0)
			w->dberr = rc;
		pthread_cond_broadcast(&w->done);
		pthread_mutex_unlock(&w->mu);
		if (rc != STORE_OK)
			smtp_wakeup(w->smtp);
	}
	free(batch);
	free(o);
	return NULL;
}

/* Opens the writer's connection and starts it; -1 (logged) on error. */
static int
writer_start(struct writer *w, const struct queue_opts *op, size_t limit)
{
	const char *path = sqlite3_db_filename(store_db(op->store), "main");
	char *err = NULL;
	bool busy = false;

	memset(w, 0, sizeof(*w));
	if (path == NULL || *path == '\0') {
		log_error("database: sending needs a database file, not an "
		    "in-memory one");
		return STORE_ERR;
	}
	w->store = store_open(path, &err, &busy);
	if (w->store == NULL) {
		log_error("database: a second connection for the sender: %s",
		    err);
		free(err);
		return busy ? STORE_BUSY : STORE_ERR;
	}
	w->smtp = op->smtp;
	w->limit = limit;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	thread_start(&w->thread, writer_main, w);
	return 0;
}

/* The first commit error, 0 when none. */
static int
writer_error(struct writer *w)
{
	int e;

	pthread_mutex_lock(&w->mu);
	e = w->dberr;
	pthread_mutex_unlock(&w->mu);
	return e;
}

/* Commits everything queued, joins the writer, closes its connection. */
static int
writer_stop(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	free(w->queue);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
	store_close(w->store);
	return w->dberr;
}

/*
 * Queues one outcome for the writer (takes reply and mid).  Waits while
 * the writer holds its limit of uncommitted outcomes: that wait is what
 * bounds what a crash can re-send.
 */
static void
record(struct q *q, int64_t id, const char *state, long attempts,
    time_t next, char *reply, time_t sent, char *mid)
{
	struct writer *w = q->w;
	struct pend *p;

	pthread_mutex_lock(&w->mu);
	while (w->nqueue + w->committing >= w->limit)
		pthread_cond_wait(&w->done, &w->mu);
	if (w->nqueue == w->capqueue) {
		w->capqueue = w->capqueue ? w->capqueue * 2 : 16;
		w->queue = xrealloc(w->queue, w->capqueue *
		    sizeof(*w->queue));
	}
	p = &w->queue[w->nqueue++];
	p->reply = reply;
	p->message_id = mid;
	p->o.id = id;
	p->o.state = state;
	p->o.attempts = attempts;
	p->o.next_attempt = next;
	p->o.reply = reply;
	p->o.sent = sent;
	p->o.message_id = mid;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

/* ---- the I/O loop ---- */

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

/* Submits one built row, or settles it here when it cannot be sent. */
static void
take_row(struct q *q, struct prep *p)
{
	const struct store_delivery *d = &p->d;
	struct flight *f;
	time_t now = time(NULL);

	if (!d->active) {
		q->stats->skipped++;
		record(q, d->id, "failed", d->attempts, now,
		    xstrdup("skipped: subscription no longer active "
		    "(unsubscribed before sending)"), 0, NULL);
		return;
	}
	if (p->rc == -1) {
		q->stats->failed++;
		record(q, d->id, "failed", d->attempts, now,
		    xasprintf("message not built: %s", p->err), 0, NULL);
		return;
	}
	f = flight_get(q);
	if (f == NULL)
		fatal("queue: no free flight slot");
	f->used = true;
	f->id = d->id;
	f->attempts = d->attempts;
	f->message_id = p->m.message_id;
	p->m.message_id = NULL;
	/* swaps the message into the sender: no copy */
	if (smtp_submit(q->opts->smtp, p->m.env_from, d->email, &p->m.data,
	    f) == -1)
		fatal("queue: sender not ready");
}

int
queue_run(const struct queue_opts *op, struct queue_stats *stats)
{
	struct q q;
	struct builder b;
	struct writer w;
	size_t i;
	bool eof = false;
	double last_progress = 0;
	long connfail_limit;
	int dberr = 0, e;

	memset(stats, 0, sizeof(*stats));
	memset(&q, 0, sizeof(q));
	q.opts = op;
	q.stats = stats;
	q.nflights = smtp_slots(op->smtp);
	connfail_limit = 2 * (long)q.nflights;
	if (connfail_limit < CONNFAIL_MIN)
		connfail_limit = CONNFAIL_MIN;
	if ((dberr = writer_start(&w, op, q.nflights + QUEUE_BACKLOG)) != 0)
		return dberr == STORE_BUSY ? STORE_BUSY : -1;
	q.w = &w;
	q.flights = xcalloc(q.nflights, sizeof(*q.flights));
	builder_start(&b, op, time(NULL));

	for (;;) {
		bool stopping = op->stop != NULL && *op->stop != 0;
		struct prep *p;

		if (writer_error(&w) != 0)
			break;
		if (!stopping && !stats->unreachable && !eof &&
		    smtp_ready(op->smtp) && (p = builder_peek(&b, &eof)) !=
		    NULL) {
			take_row(&q, p);
			builder_release(&b, p);
			continue;
		}
		if (smtp_inflight(op->smtp) == 0 &&
		    (stopping || stats->unreachable || eof))
			break;
		if (op->stop != NULL && *op->stop >= 2)
			break;		/* abandon what is in flight */
		/* returns early when the builder publishes a row */
		smtp_run(op->smtp, 100, on_done, &q);
		if (q.connfails >= connfail_limit)
			stats->unreachable = true;
		if (op->progress && mono() - last_progress >= 0.1) {
			last_progress = mono();
			stats->inflight = (long)smtp_inflight(op->smtp);
			op->progress(stats, op->progress_arg);
		}
	}
	stats->stopped = op->stop != NULL && *op->stop != 0;
	stats->inflight = (long)smtp_inflight(op->smtp);
	dberr = builder_stop(&b);
	if ((e = writer_stop(&w)) != 0)
		dberr = e;
	for (i = 0; i < q.nflights; i++)
		free(q.flights[i].message_id);	/* abandoned ones */
	free(q.flights);
	if (op->progress)
		op->progress(stats, op->progress_arg);
	if (dberr)
		return dberr == STORE_BUSY ? STORE_BUSY : -1;
	return 0;
}
