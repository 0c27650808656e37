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
 *   I/O      takes built messages from the ring, hands them to libcurl,
 *            and queues each outcome for the writer.  With two or more
 *            connections there are two I/O threads (the caller's and one
 *            more), each with its own share of the connections: a sender
 *            lent the other half with smtp_split(), its own libcurl multi
 *            handle and flights.  One thread alone was the bottleneck
 *            (libcurl, the kernel's loopback path: ~100% of a core).
 *   writer   has its own store connection and commits whatever outcomes
 *            queued up while its previous commit ran: one commit per
 *            outcome at normal rates, a few per commit flat out.
 *
 * Ownership: a ring slot belongs to the builder from its release until it
 * is published, then to the ring's mutex: an I/O thread takes a row by
 * swapping the slot's contents with its own (cleared) prep under the
 * mutex, which releases the slot at once.  The writer's queue is guarded
 * by its mutex; a batch being committed is the writer's alone.  The
 * pass's stats, the run of connection failures and each I/O thread's
 * in-flight count are under the run's mutex; the progress callback is
 * called from the caller's thread only, with a copy of the stats.
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
#include "retry.h"
#include "util.h"
#include "xmalloc.h"

#define CONNFAIL_MIN		4
#define IO_MAX			2	/* I/O threads */

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
	struct smtp	*wake[IO_MAX];	/* each I/O thread's sender */
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
	unsigned	 waiting;	/* bit i: I/O thread i found it empty */
	bool		 sleeping;	/* the builder waits for space */
	int		 dberr;
};

/* ---- the writer ---- */

struct writer {
	struct store	*store;		/* the writer's own connection */
	struct smtp	*wake[IO_MAX];	/* to wake the I/O loops on an error */
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

struct run;

/* One I/O thread: its sender (a share of the connections) and flights. */
struct io {
	struct run	*r;
	unsigned	 idx;
	struct smtp	*smtp;
	struct flight	*flights;
	size_t		 nflights;
	struct prep	 mine;		/* the row being submitted */
	bool		 eof;
	pthread_t	 thread;
	size_t		 inflight;	/* under r->mu: for progress */
};

struct run {
	const struct queue_opts *opts;
	struct builder	*b;
	struct writer	*w;
	struct io	 io[IO_MAX];
	size_t		 nio;
	long		 connfail_limit;
	pthread_mutex_t	 mu;
	/* under mu */
	struct queue_stats *stats;
	long		 connfails;	/* in a row, with nothing sent */
};

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/* Publishes slot head (or eof) and wakes the I/O loops that wait. */
static void
builder_publish(struct builder *b, bool eof, int dberr)
{
	unsigned wake, i;

	pthread_mutex_lock(&b->mu);
	if (eof) {
		b->eof = true;
		b->dberr = dberr;
	} else
		b->head++;
	wake = b->waiting;
	b->waiting = 0;
	pthread_mutex_unlock(&b->mu);
	for (i = 0; i < IO_MAX; i++)
		if (wake & (1u << i))
			smtp_wakeup(b->wake[i]);
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
	char *err = NULL;

	rows = xcalloc(QUEUE_CHUNK, sizeof(*rows));
	for (;;) {
		struct prep *p;
		int built;

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
			if (store_check(op->store, &err) == -1) {
				/* removed or replaced: no row more */
				log_error("database: %s", err);
				free(err);
				dberr = STORE_ERR;
				nrows = 0;
				break;
			}
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
			/* PostgreSQL: a claim may be short (store_queue.c) */
			last = nrows < QUEUE_CHUNK && !store_is_pg(op->store);
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
			if (p->rc != 0 && p->rc != QUEUE_BUILD_STOP)
				p->rc = QUEUE_BUILD_ROW;
			if (p->rc != 0 && p->err == NULL)
				p->err = xstrdup("error");
		}
		built = p->rc;	/* once published, p is the I/O thread's */
		builder_publish(b, false, 0);
		if (built == QUEUE_BUILD_STOP)
			break;		/* no row more: the pass stops */
	}
	for (i = 0; i < nrows; i++)
		store_delivery_clear(&rows[i]);
	free(rows);
	builder_publish(b, true, dberr);
	return NULL;
}

static void
builder_start(struct builder *b, const struct queue_opts *op, time_t start,
    struct smtp *const *wake, size_t nwake)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->op = op;
	for (i = 0; i < nwake; i++)
		b->wake[i] = wake[i];
	b->start = start;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->space, NULL);
	for (i = 0; i < QUEUE_LOOKAHEAD; i++)
		buf_init(&b->ring[i].m.data, 0);
	thread_start(&b->thread, builder_main, b);
}

/*
 * Takes the next built row for I/O thread idx by swapping it into *mine
 * (which must be cleared: its emptied buffer goes back to the ring), and
 * releases its slot.  false: none ready yet (the builder wakes that
 * thread when it publishes one) or none left (*eof).
 */
static bool
builder_take(struct builder *b, unsigned idx, struct prep *mine, bool *eof)
{
	bool got = false;

	pthread_mutex_lock(&b->mu);
	if (b->eof && b->dberr != 0)
		*eof = true;	/* the rows built stay due: nothing more goes */
	else if (b->head != b->tail) {
		struct prep *p = &b->ring[b->tail % QUEUE_LOOKAHEAD], t;

		t = *p;
		*p = *mine;
		*mine = t;
		b->tail++;
		if (b->sleeping && b->head - b->tail <= QUEUE_LOOKAHEAD / 2)
			pthread_cond_signal(&b->space);
		got = true;
	} else if (b->eof)
		*eof = true;
	else
		b->waiting |= 1u << idx;
	pthread_mutex_unlock(&b->mu);
	return got;
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
		for (i = 0; rc != STORE_OK && i < IO_MAX; i++)
			if (w->wake[i] != NULL)
				smtp_wakeup(w->wake[i]);
	}
	free(batch);
	free(o);
	return NULL;
}

/*
 * Opens the writer's connection to the very file the pass reads (never by
 * name with create: a database removed under a running herald must not
 * get an empty twin that swallows the outcomes) and starts it; -1 or
 * STORE_BUSY (logged) on error.
 */
static int
writer_start(struct writer *w, const struct queue_opts *op, size_t limit,
    struct smtp *const *wake, size_t nwake)
{
	char *err = NULL;
	bool busy = false;

	memset(w, 0, sizeof(*w));
	w->store = store_open_again(op->store, &err, &busy);
	if (w->store == NULL) {
		log_error("database: a second connection for the sender: %s",
		    err);
		free(err);
		return busy ? STORE_BUSY : STORE_ERR;
	}
	for (size_t i = 0; i < nwake; i++)
		w->wake[i] = wake[i];
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
record(struct run *r, int64_t id, const char *state, long attempts,
    time_t next, char *reply, time_t sent, char *mid)
{
	struct writer *w = r->w;
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

/* Wakes every I/O thread's poll (from any thread). */
static void
wake_all(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nio; i++)
		smtp_wakeup(r->io[i].smtp);
}

static void
on_done(const struct smtp_outcome *o, void *arg)
{
	struct io *io = arg;
	struct run *r = io->r;
	struct flight *f = o->cookie;
	struct queue_stats *st = r->stats;
	long attempts = f->attempts + 1;
	time_t now = time(NULL);
	enum retry_action act;
	bool unreachable = false;

	f->used = false;
	act = retry_decide(o->result, attempts, r->opts->max_attempts);
	pthread_mutex_lock(&r->mu);
	switch (act) {
	case RETRY_SENT:
		r->connfails = 0;
		st->sent++;
		break;
	case RETRY_FAIL:
	case RETRY_GIVE_UP:
		r->connfails = 0;
		st->failed++;
		break;
	case RETRY_DEFER:
		r->connfails = 0;
		st->deferred++;
		break;
	case RETRY_UNTOUCHED:
		/* Nothing about this message: the row stays as it was. */
		r->connfails++;
		st->unreached++;
		snprintf(st->last_error, sizeof(st->last_error), "%s",
		    o->reply);
		if (r->connfails >= r->connfail_limit && !st->unreachable)
			st->unreachable = unreachable = true;
		break;
	}
	pthread_mutex_unlock(&r->mu);

	switch (act) {
	case RETRY_UNTOUCHED:
		free(f->message_id);
		break;
	case RETRY_SENT:
		record(r, f->id, "sent", attempts, now, xstrdup(o->reply), now,
		    f->message_id);
		break;
	case RETRY_FAIL:
		record(r, f->id, "failed", attempts, now, xstrdup(o->reply), 0,
		    f->message_id);
		break;
	case RETRY_GIVE_UP:
		record(r, f->id, "failed", attempts, now,
		    xasprintf("%s (gave up after %ld attempts)",
		    o->reply, attempts), 0, f->message_id);
		break;
	case RETRY_DEFER:
		record(r, f->id, "deferred", attempts,
		    now + retry_delay(attempts), xstrdup(o->reply), 0,
		    f->message_id);
		break;
	}
	f->message_id = NULL;
	if (unreachable)
		wake_all(r);	/* the other I/O thread stops too */
}

static struct flight *
flight_get(struct io *io)
{
	size_t i;

	for (i = 0; i < io->nflights; i++)
		if (!io->flights[i].used)
			return &io->flights[i];
	return NULL;
}

/* Submits one built row, or settles it here when it cannot be sent. */
static void
take_row(struct io *io, struct prep *p)
{
	struct run *r = io->r;
	const struct store_delivery *d = &p->d;
	struct flight *f;
	time_t now = time(NULL);

	if (!d->active) {
		pthread_mutex_lock(&r->mu);
		r->stats->skipped++;
		pthread_mutex_unlock(&r->mu);
		record(r, d->id, "failed", d->attempts, now,
		    xstrdup("skipped: subscription no longer active "
		    "(unsubscribed before sending)"), 0, NULL);
		return;
	}
	if (p->rc == QUEUE_BUILD_STOP) {
		/* not this row's fault: it stays due, the pass stops */
		pthread_mutex_lock(&r->mu);
		if (!r->stats->build_failed) {
			r->stats->build_failed = true;
			snprintf(r->stats->last_error,
			    sizeof(r->stats->last_error), "%s", p->err);
		}
		pthread_mutex_unlock(&r->mu);
		wake_all(r);
		return;
	}
	if (p->rc == QUEUE_BUILD_ROW) {
		pthread_mutex_lock(&r->mu);
		r->stats->failed++;
		pthread_mutex_unlock(&r->mu);
		record(r, d->id, "failed", d->attempts, now,
		    xasprintf("message not built: %s", p->err), 0, NULL);
		return;
	}
	f = flight_get(io);
	if (f == NULL)
		fatal("queue: no free flight slot");
	f->used = true;
	f->id = d->id;
	f->attempts = d->attempts;
	f->message_id = p->m.message_id;
	p->m.message_id = NULL;
	/* swaps the message into the sender: no copy */
	if (smtp_submit(io->smtp, p->m.env_from, d->email, &p->m.data,
	    f) == -1)
		fatal("queue: sender not ready");
}

/* The caller's copy of the stats, with the transfers in flight. */
static void
progress(struct run *r)
{
	struct queue_stats snap;
	size_t i;

	pthread_mutex_lock(&r->mu);
	snap = *r->stats;
	snap.inflight = 0;
	for (i = 0; i < r->nio; i++)
		snap.inflight += (long)r->io[i].inflight;
	pthread_mutex_unlock(&r->mu);
	r->opts->progress(&snap, r->opts->progress_arg);
}

/*
 * One I/O thread's loop.  io->idx 0 runs on the caller's thread: it alone
 * receives signals (the other threads block them), passes a change of
 * *stop on to the other's poll, and reports progress.
 */
/*
 * *op->stop, read atomically: the signal handler writes it on thread 0 and
 * every I/O thread reads it.
 */
static sig_atomic_t
stop_level(const struct queue_opts *op)
{
	return op->stop != NULL ? __atomic_load_n(op->stop, __ATOMIC_RELAXED) :
	    0;
}

static void
io_loop(struct io *io)
{
	struct run *r = io->r;
	const struct queue_opts *op = r->opts;
	bool first = io->idx == 0;
	double last_progress = 0;
	sig_atomic_t seen_stop = 0;

	for (;;) {
		sig_atomic_t stop = stop_level(op);
		bool stopping = stop != 0;
		bool unreachable;

		pthread_mutex_lock(&r->mu);
		unreachable = r->stats->unreachable || r->stats->build_failed;
		io->inflight = smtp_inflight(io->smtp);
		pthread_mutex_unlock(&r->mu);
		if (first && stop != seen_stop) {
			seen_stop = stop;
			wake_all(r);
		}
		if (writer_error(r->w) != 0)
			break;
		if (!stopping && !unreachable && !io->eof &&
		    smtp_ready(io->smtp) &&
		    builder_take(r->b, io->idx, &io->mine, &io->eof)) {
			take_row(io, &io->mine);
			prep_clear(&io->mine);
			continue;
		}
		if (smtp_inflight(io->smtp) == 0 &&
		    (stopping || unreachable || io->eof))
			break;
		if (stop_level(op) >= 2)
			break;		/* abandon what is in flight */
		/* returns early when the builder publishes a row */
		smtp_run(io->smtp, 100, on_done, io);
		if (first && op->progress && mono() - last_progress >= 0.1) {
			last_progress = mono();
			progress(r);
		}
	}
	pthread_mutex_lock(&r->mu);
	io->inflight = smtp_inflight(io->smtp);
	pthread_mutex_unlock(&r->mu);
}

static void *
io_main(void *arg)
{
	io_loop(arg);
	return NULL;
}

int
queue_run(const struct queue_opts *op, struct queue_stats *stats)
{
	struct run r;
	struct builder b;
	struct writer w;
	struct smtp *part = NULL, *wake[IO_MAX];
	size_t total, i, j;
	int dberr = 0, e;

	memset(stats, 0, sizeof(*stats));
	memset(&r, 0, sizeof(r));
	r.opts = op;
	r.stats = stats;
	total = smtp_slots(op->smtp);
	r.connfail_limit = 2 * (long)total;
	if (r.connfail_limit < CONNFAIL_MIN)
		r.connfail_limit = CONNFAIL_MIN;
	r.nio = 1;
	r.io[0].smtp = op->smtp;
	if (total >= 2 && (part = smtp_split(op->smtp, total / 2)) != NULL) {
		r.io[1].smtp = part;
		r.nio = 2;
	}
	for (i = 0; i < r.nio; i++)
		wake[i] = r.io[i].smtp;
	/* the bound on uncommitted outcomes counts all the connections */
	if ((dberr = writer_start(&w, op, total + (store_is_pg(op->store) ?
	    QUEUE_BACKLOG_PG : QUEUE_BACKLOG), wake, r.nio)) != 0) {
		smtp_merge(part);
		return dberr == STORE_BUSY ? STORE_BUSY : -1;
	}
	pthread_mutex_init(&r.mu, NULL);
	r.w = &w;
	r.b = &b;
	for (i = 0; i < r.nio; i++) {
		struct io *io = &r.io[i];

		io->r = &r;
		io->idx = (unsigned)i;
		io->nflights = smtp_slots(io->smtp);
		io->flights = xcalloc(io->nflights, sizeof(*io->flights));
		buf_init(&io->mine.m.data, 0);
	}
	builder_start(&b, op, time(NULL), wake, r.nio);
	for (i = 1; i < r.nio; i++)
		thread_start(&r.io[i].thread, io_main, &r.io[i]);
	io_loop(&r.io[0]);
	for (i = 1; i < r.nio; i++)
		pthread_join(r.io[i].thread, NULL);

	stats->stopped = stop_level(op) != 0;
	stats->inflight = 0;
	for (i = 0; i < r.nio; i++)
		stats->inflight += (long)smtp_inflight(r.io[i].smtp);
	dberr = builder_stop(&b);
	if ((e = writer_stop(&w)) != 0)
		dberr = e;
	for (i = 0; i < r.nio; i++) {
		struct io *io = &r.io[i];

		for (j = 0; j < io->nflights; j++)
			free(io->flights[j].message_id);  /* abandoned ones */
		free(io->flights);
		prep_clear(&io->mine);
		buf_free(&io->mine.m.data);
	}
	/* abandons the part's transfers still in flight (stop >= 2) */
	smtp_merge(part);
	pthread_mutex_destroy(&r.mu);
	if (op->progress)
		op->progress(stats, op->progress_arg);
	if (dberr)
		return dberr == STORE_BUSY ? STORE_BUSY : -1;
	return 0;
}
