/*
 * CSV import: header mapping, row validation, and the writes, in batches.
 */
#include "sub_import.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "date.h"
#include "email.h"
#include "log.h"
#include "store_subs_bulk.h"
#include "sub_csv.h"
#include "util.h"
#include "xmalloc.h"

#define IMPORT_BATCH	50000
/* The page cache while importing (SQLite cache_size: negative is KiB). */
#define IMPORT_CACHE	(-24 * 1024L)
/*
 * The WAL's size while importing, in pages (64 Ki pages: 256 MiB at 4 KiB):
 * past it the writer waits for the checkpointer once, so that the WAL
 * starts over (or, without a checkpointer, checkpoints itself: a
 * checkpoint inside every batch's commit stopped the writer for the copy
 * and its fsync).
 */
#define IMPORT_CKPT	65536L

/*
 * The keys of known subscribers (there before the import) that the import
 * met in earlier batches, as 64-bit hashes in one sorted array: 8 bytes per
 * address, and nothing at all for addresses the import adds (their ids say
 * so).  A later row with such a key is a duplicate, not "already
 * subscribed".  A batch appends to the tail; batch end sorts the tail and
 * merges it in.
 */
struct keyset {
	uint64_t	*v;
	size_t		 n, cap;
	size_t		 nsorted;	/* v[0..nsorted) sorted */
};

/* What a pending row turned out to be, once its batch is written. */
enum outcome {
	OUT_NEW,		/* new subscriber and subscription */
	OUT_ATTACH,		/* known subscriber, new subscription */
	OUT_DUP,		/* same address earlier in the file */
	OUT_ALREADY,
	OUT_UNSUB,
	OUT_BOUNCED,
};

/* A valid row waiting for its batch; its strings are in imp.arena. */
struct pend {
	size_t		 off;		/* key NUL email NUL name NUL attrs NUL */
	unsigned long	 line;
	time_t		 created;
	int64_t		 id;
	uint64_t	 h;		/* hash64(key) */
	uint32_t	 elen, nlen, alen;	/* email, name, attrs */
	unsigned char	 status;	/* enum sub_status */
	unsigned char	 outcome;	/* enum outcome */
};

/* A message about one line, printed in line order when its batch ends. */
struct msg {
	unsigned long	 line;
	size_t		 off;		/* in imp.msgtext */
};

/* Ids this import gave out: [lo, hi] ranges, merged when adjacent. */
struct range {
	int64_t		 lo, hi;
};

/* A batch of valid rows and the messages about its lines. */
struct batch {
	struct buf		 arena;
	struct pend		*pend;
	size_t			 npend, cappend;
	size_t			*order;
	uint32_t		*slots;		/* hash set: pend index + 1 */
	size_t			 nslots;
	size_t			 caporder;
	struct msg		*msgs;
	size_t			 nmsgs, capmsgs;
	struct buf		 msgtext;
	long			 in_batch;	/* rows since the last commit */
};

struct imp {
	struct store		*st;
	const struct sub_import_opts *o;
	struct sub_import_report *rep;
	time_t			 now;
	size_t			 ncols;
	long			 email_col, name_col, status_col, created_col;
	char			**attr_json;	/* per column: JSON key, or NULL */
	struct buf		 detail;
	/*
	 * Two batches: the reading thread fills *pb while the writer thread
	 * writes *wb (sub_import), so the CSV and address checks of the next
	 * batch run beside SQLite's work on this one.
	 */
	struct batch		 bufs[2];
	struct batch		*pb, *wb;
	long			 batch_added;
	/* across batches */
	struct range		*ranges;
	size_t			 nranges, capranges;
	struct keyset		 known;
	int64_t			 base;		/* the batch's first id */
	struct store_ckpt	*ckpt;		/* checkpoints beside the writer */
	long			 wal_pages;	/* the WAL's size kept to */
};

static uint64_t
hash64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

static void
keyset_add(struct keyset *k, uint64_t h)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 1024;
		k->v = xrealloc(k->v, k->cap * sizeof(*k->v));
	}
	k->v[k->n++] = h;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts the tail and merges it into the sorted part. */
static void
keyset_merge(struct keyset *k)
{
	size_t nt = k->n - k->nsorted, i, j, o;
	uint64_t *tail;

	if (nt == 0)
		return;
	qsort(k->v + k->nsorted, nt, sizeof(*k->v), u64_cmp);
	if (k->nsorted && k->v[k->nsorted - 1] > k->v[k->nsorted]) {
		/* merge from the back; only the tail needs a copy */
		tail = xmalloc(nt * sizeof(*tail));
		memcpy(tail, k->v + k->nsorted, nt * sizeof(*tail));
		i = k->nsorted;
		j = nt;
		o = k->n;
		while (j > 0) {
			if (i > 0 && k->v[i - 1] > tail[j - 1])
				k->v[--o] = k->v[--i];
			else
				k->v[--o] = tail[--j];
		}
		free(tail);
	}
	k->nsorted = k->n;
}

/* True when h is in the sorted part (the earlier batches). */
static bool
keyset_has(const struct keyset *k, uint64_t h)
{
	size_t lo = 0, hi = k->nsorted;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->v[mid] < h)
			lo = mid + 1;
		else if (k->v[mid] > h)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* Trims ASCII blanks in place; returns the start. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	return s;
}

/* RFC 3339 ("2026-01-02T03:04:05Z") or a date ("2026-01-02"), 1970 on. */
static int
parse_time(const char *s, time_t *out)
{
	return date_parse_rfc3339(s, out) == -1 || *out < 0 ? -1 : 0;
}

static void __attribute__((format(printf, 4, 0)))
vnote(struct imp *im, struct batch *b, unsigned long line, const char *fmt,
    va_list ap)
{
	if (im->o->errors == NULL)
		return;
	if (b->nmsgs == b->capmsgs) {
		b->capmsgs = b->capmsgs ? b->capmsgs * 2 : 64;
		b->msgs = xrealloc(b->msgs,
		    b->capmsgs * sizeof(*b->msgs));
	}
	b->msgs[b->nmsgs].line = line;
	b->msgs[b->nmsgs].off = b->msgtext.len;
	b->nmsgs++;
	buf_vprintf(&b->msgtext, fmt, ap);
	buf_addc(&b->msgtext, '\0');
}

/* Queues a message about line of the batch being written (printed when it
 * ends). */
static void __attribute__((format(printf, 3, 4)))
note(struct imp *im, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(im, im->wb, line, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
bad(struct imp *im, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	im->rep->bad++;
	va_start(ap, fmt);
	vnote(im, im->pb, line, fmt, ap);
	va_end(ap);
}

static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

/* Prints the queued messages in line order and forgets them. */
static void
notes_flush(struct imp *im, struct batch *b)
{
	size_t i;

	if (b->nmsgs == 0)
		return;
	qsort(b->msgs, b->nmsgs, sizeof(*b->msgs), msg_cmp);
	for (i = 0; i < b->nmsgs; i++)
		fprintf(im->o->errors, "herald: subscribers import: %s:%lu: "
		    "%s\n", im->o->name, b->msgs[i].line,
		    b->msgtext.data + b->msgs[i].off);
	b->nmsgs = 0;
	buf_reset(&b->msgtext);
}

static enum store_rc
header(struct imp *im, const struct csv_record *rec, char **err)
{
	const char **names;
	size_t i, j;

	if (rec->err) {
		*err = xasprintf("%s:%lu: header row: %s", im->o->name,
		    rec->line, rec->err);
		return STORE_ERR;
	}
	im->ncols = rec->nfields;
	im->email_col = im->name_col = im->status_col = im->created_col = -1;
	im->attr_json = xcalloc(rec->nfields, sizeof(*im->attr_json));
	names = xcalloc(rec->nfields, sizeof(*names));
	for (i = 0; i < rec->nfields; i++) {
		char *h = csv_cell_unescape(trim(rec->fields[i]));

		names[i] = h;
		if (*h == '\0') {
			*err = xasprintf("%s:%lu: column %zu has no name in the "
			    "header row (every column needs one; the `email` "
			    "column is required)", im->o->name, rec->line,
			    i + 1);
			free(names);
			return STORE_ERR;
		}
		for (j = 0; j < i; j++) {
			if (ascii_casecmp(names[j], h) == 0) {
				*err = xasprintf("%s:%lu: column \"%s\" appears "
				    "twice in the header row", im->o->name,
				    rec->line, h);
				free(names);
				return STORE_ERR;
			}
		}
		if (ascii_casecmp(h, "email") == 0)
			im->email_col = (long)i;
		else if (ascii_casecmp(h, "name") == 0)
			im->name_col = (long)i;
		else if (ascii_casecmp(h, "status") == 0)
			im->status_col = (long)i;
		else if (ascii_casecmp(h, "created") == 0)
			im->created_col = (long)i;
		else {
			struct buf b = BUF_INIT;

			json_str(&b, h);
			im->attr_json[i] = buf_take(&b);
		}
	}
	free(names);
	if (im->email_col == -1) {
		struct buf cols = BUF_INIT;

		for (i = 0; i < rec->nfields; i++)
			buf_printf(&cols, "%s%s", i ? ", " : "",
			    rec->fields[i]);
		*err = xasprintf("%s:%lu: no `email` column in the header row "
		    "(it has: %s)%s", im->o->name, rec->line, buf_cstr(&cols),
		    strchr(buf_cstr(&cols), '@') ? "; the first row must name "
		    "the columns, e.g. email,name" : "");
		buf_free(&cols);
		return STORE_ERR;
	}
	return STORE_OK;
}

/* True when id was given out by this import. */
static bool
ours(const struct imp *im, int64_t id)
{
	size_t i;

	for (i = im->nranges; i-- > 0;)
		if (id >= im->ranges[i].lo && id <= im->ranges[i].hi)
			return true;
	return false;
}

static void
ours_add(struct imp *im, int64_t lo, int64_t hi)
{
	if (im->nranges && im->ranges[im->nranges - 1].hi + 1 >= lo) {
		im->ranges[im->nranges - 1].hi = hi;
		return;
	}
	if (im->nranges == im->capranges) {
		im->capranges = im->capranges ? im->capranges * 2 : 8;
		im->ranges = xrealloc(im->ranges,
		    im->capranges * sizeof(*im->ranges));
	}
	im->ranges[im->nranges].lo = lo;
	im->ranges[im->nranges].hi = hi;
	im->nranges++;
}

/*
 * True when pending row i has the key of an earlier row of the batch;
 * else remembers it.  An open-addressing set of row indexes (b->slots,
 * at most half full) on the keys' hashes.
 */
static bool
dup_of_earlier(struct imp *im, size_t i)
{
	const struct pend *p = &im->wb->pend[i];
	size_t mask = im->wb->nslots - 1, k = (size_t)p->h & mask;
	uint32_t j;

	while ((j = im->wb->slots[k]) != 0) {
		const struct pend *q = &im->wb->pend[j - 1];

		if (q->h == p->h && strcmp(im->wb->arena.data + q->off,
		    im->wb->arena.data + p->off) == 0)
			return true;
		k = (k + 1) & mask;
	}
	im->wb->slots[k] = (uint32_t)i + 1;
	return false;
}

/* The pending row order[i] of the batch, for the set-based writes. */
static void
bulk_row(void *arg, size_t i, struct sub_bulk_row *out)
{
	const struct imp *im = arg;
	const struct pend *p = &im->wb->pend[im->wb->order[i]];
	const char *key = im->wb->arena.data + p->off;

	out->id = p->id;
	out->key = key;
	out->email = key + p->elen + 1;
	out->name = out->email + p->elen + 1;
	out->attrs = out->name + p->nlen + 1;
	out->email_len = p->elen;
	out->name_len = p->nlen;
	out->attrs_len = p->alen;
	out->created = p->created;
	out->status = (enum sub_status)p->status;
	out->line = p->line;
}

/* A subscriber id the batch's INSERT added: row id - base of the batch. */
static void
bulk_added(int64_t id, void *arg)
{
	struct imp *im = arg;
	int64_t i = id - im->base;

	if (i >= 0 && (size_t)i < im->wb->npend)
		im->wb->pend[i].outcome = OUT_NEW;
}

/*
 * Writes the pending rows, with one statement per table (SQLite's cost per
 * statement was most of the time when each row had three), all in file
 * order: first the subscribers, the first row of each address, with ids
 * base + row (so listings keep the file's order, and the table takes
 * appends); rows whose address the database knew already are then looked
 * up one by one; last the subscriptions and their events.  (Writing the
 * subscribers in email_key order, for the UNIQUE index, measured slower
 * at a million rows: 9.7 s of CPU against 7.5 s, the table's random
 * inserts costing more than the index's.)
 */
static enum store_rc
batch_write(struct imp *im)
{
	enum store_rc rc;
	struct pend *p;
	struct sub_bulk b;
	const char *key;
	int64_t hi = 0;
	uint64_t h;
	size_t i, n, want;
	long added;
	bool found, has;
	enum sub_status have = SUB_ACTIVE;

	if (im->wb->npend == 0)
		return STORE_OK;
	if (im->wb->caporder < im->wb->npend) {
		im->wb->caporder = im->wb->cappend;
		im->wb->order = xrealloc(im->wb->order,
		    im->wb->caporder * sizeof(*im->wb->order));
	}
	for (want = 1024; want < 2 * im->wb->npend; want *= 2)
		;
	if (im->wb->nslots < want) {
		free(im->wb->slots);
		im->wb->nslots = want;
		im->wb->slots = xmalloc(want * sizeof(*im->wb->slots));
	}
	memset(im->wb->slots, 0, im->wb->nslots * sizeof(*im->wb->slots));
	if ((rc = store_subs_max_id(im->st, &im->base)) != STORE_OK)
		return rc;
	im->base++;

	/* order[0..n): the first row of each address, in file order */
	for (i = n = 0; i < im->wb->npend; i++) {
		p = &im->wb->pend[i];
		if (dup_of_earlier(im, i)) {
			p->outcome = OUT_DUP;
			continue;
		}
		p->id = im->base + (int64_t)i;
		p->outcome = OUT_ATTACH;	/* until known to be new */
		im->wb->order[n++] = i;
	}
	b.n = n;
	b.row = bulk_row;
	b.arg = im;
	b.prefix = NULL;
	if ((rc = store_subs_bulk_insert(im->st, &b, &added)) != STORE_OK)
		return rc;
	if ((size_t)added == n) {
		for (i = 0; i < n; i++)
			im->wb->pend[im->wb->order[i]].outcome = OUT_NEW;
	} else if (added > 0 && (rc = store_subs_ids_from(im->st, im->base,
	    bulk_added, im)) != STORE_OK)
		return rc;

	for (i = 0; i < n; i++) {
		p = &im->wb->pend[im->wb->order[i]];
		if (p->outcome == OUT_NEW) {
			if (p->id > hi)
				hi = p->id;
			continue;
		}
		key = im->wb->arena.data + p->off;
		if ((rc = store_subs_find_key(im->st, key,
		    im->o->newsletter, &p->id, &found, &has, &have))
		    != STORE_OK)
			return rc;
		if (!found)
			return STORE_ERR;	/* a conflict, yet no row */
		if (ours(im, p->id)) {
			p->outcome = OUT_DUP;	/* added by an earlier batch */
			continue;
		}
		h = p->h;
		if (keyset_has(&im->known, h)) {
			p->outcome = OUT_DUP;	/* met in an earlier batch */
			continue;
		}
		keyset_add(&im->known, h);
		if (!has)
			p->outcome = OUT_ATTACH;
		else if (have == SUB_UNSUBSCRIBED)
			p->outcome = OUT_UNSUB;
		else if (have == SUB_BOUNCED)
			p->outcome = OUT_BOUNCED;
		else
			p->outcome = OUT_ALREADY;
	}
	if (hi)
		ours_add(im, im->base, hi);
	keyset_merge(&im->known);

	/* order[0..n): the rows to subscribe, in file order */
	for (i = n = 0; i < im->wb->npend; i++) {
		p = &im->wb->pend[i];
		switch (p->outcome) {
		case OUT_DUP:
			im->rep->duplicates++;
			note(im, p->line, "\"%s\": duplicate of an earlier row "
			    "(the first one counts)", im->wb->arena.data + p->off +
			    strlen(im->wb->arena.data + p->off) + 1);
			continue;
		case OUT_ALREADY:
			im->rep->already++;
			continue;
		case OUT_UNSUB:
			im->rep->unsubscribed++;
			continue;
		case OUT_BOUNCED:
			im->rep->bounced++;
			continue;
		default:
			break;
		}
		im->wb->order[n++] = i;
	}
	buf_reset(&im->detail);
	buf_printf(&im->detail, "import %s:", im->o->name);
	b.n = n;
	b.prefix = buf_cstr(&im->detail);
	if ((rc = store_subs_bulk_subscribe(im->st, im->o->newsletter, &b,
	    im->now)) != STORE_OK)
		return rc;
	im->rep->added += (long)n;
	im->batch_added += (long)n;
	return STORE_OK;
}

/* Forgets the pending rows (written, or given up). */
static void
batch_clear(struct imp *im)
{
	im->wb->npend = 0;
	im->wb->in_batch = 0;
	buf_reset(&im->wb->arena);
}

/*
 * Writes the batch and, unless this is a dry run, commits it and opens the
 * next transaction (not after the last).
 */
static enum store_rc
batch_end(struct imp *im, bool last)
{
	enum store_rc rc;

	rc = batch_write(im);
	batch_clear(im);
	notes_flush(im, im->wb);
	if (rc != STORE_OK)
		return rc;
	if (last) {
		struct sub_import_report *rep = im->rep;

		buf_reset(&im->detail);
		buf_printf(&im->detail, "%s: %ld rows: %ld added, %ld already "
		    "subscribed, %ld unsubscribed and %ld bounced skipped, "
		    "%ld duplicates, %ld bad", im->o->name, rep->rows,
		    rep->added, rep->already, rep->unsubscribed, rep->bounced,
		    rep->duplicates, rep->bad);
		if ((rc = store_subs_event(im->st, 0, im->o->newsletter,
		    "import", im->detail.data, im->now)) != STORE_OK)
			return rc;
	}
	if (im->o->dry_run)
		return STORE_OK;
	if ((rc = store_commit(im->st)) != STORE_OK)
		return rc;
	store_subs_ckpt_kick(im->ckpt);
	if (!last)
		store_subs_ckpt_bound(im->ckpt, im->wal_pages);
	im->rep->committed += im->batch_added;
	im->batch_added = 0;
	return last ? STORE_OK : store_begin(im->st);
}

/* Validates one record and adds it to the batch (or reports it). */
static void
row(struct imp *im, const struct csv_record *rec)
{
	enum sub_status status = SUB_ACTIVE;
	const char *why = NULL, *name = "";
	char *email;
	time_t created = im->now;
	struct pend *p;
	size_t i, astart, len;

	if (rec->nfields == 1 && rec->lens[0] == 0)
		return;				/* blank line */
	im->rep->rows++;
	im->pb->in_batch++;
	if (rec->err) {
		bad(im, rec->line, "%s", rec->err);
		return;
	}
	if (rec->nfields != im->ncols) {
		bad(im, rec->line, "%zu fields, but the header row has %zu",
		    rec->nfields, im->ncols);
		return;
	}
	email = csv_cell_unescape(trim(rec->fields[im->email_col]));
	if (*email == '\0') {
		bad(im, rec->line, "no address in the email column");
		return;
	}
	if (!email_addr_valid(email, &why)) {
		bad(im, rec->line, "\"%s\": invalid address: %s", email, why);
		return;
	}
	if (im->status_col != -1) {
		char *s = trim(rec->fields[im->status_col]);

		if (*s && store_subs_status_parse(s, &status) == -1) {
			bad(im, rec->line, "\"%s\": unknown status \"%s\" "
			    "(pending, active, unsubscribed or bounced)",
			    email, s);
			return;
		}
	}
	if (im->created_col != -1) {
		char *s = trim(rec->fields[im->created_col]);

		if (*s && parse_time(s, &created) == -1) {
			bad(im, rec->line, "\"%s\": created \"%s\" is not a "
			    "time like 2026-01-31T08:00:00Z or 2026-01-31",
			    email, s);
			return;
		}
	}
	if (im->name_col != -1)
		name = csv_cell_unescape(rec->fields[im->name_col]);

	if (im->pb->npend == im->pb->cappend) {
		im->pb->cappend = im->pb->cappend ? im->pb->cappend * 2 : 1024;
		im->pb->pend = xrealloc(im->pb->pend, im->pb->cappend * sizeof(*im->pb->pend));
	}
	p = &im->pb->pend[im->pb->npend++];
	memset(p, 0, sizeof(*p));
	p->off = im->pb->arena.len;
	p->line = rec->line;
	p->created = created;
	p->status = (unsigned char)status;
	len = strlen(email) + 1;
	buf_add(&im->pb->arena, email, len);	/* the key: email_key() */
	ascii_lower(im->pb->arena.data + p->off);
	p->h = hash64(im->pb->arena.data + p->off);
	buf_add(&im->pb->arena, email, len);
	p->elen = (uint32_t)(len - 1);
	p->nlen = (uint32_t)strlen(name);
	buf_add(&im->pb->arena, name, p->nlen + 1);
	astart = im->pb->arena.len;
	for (i = 0; i < im->ncols; i++) {
		if (im->attr_json[i] == NULL || rec->lens[i] == 0)
			continue;
		buf_addc(&im->pb->arena, im->pb->arena.len == astart ? '{' : ',');
		buf_adds(&im->pb->arena, im->attr_json[i]);
		buf_addc(&im->pb->arena, ':');
		json_str(&im->pb->arena, csv_cell_unescape(rec->fields[i]));
	}
	if (im->pb->arena.len != astart)
		buf_addc(&im->pb->arena, '}');
	p->alen = (uint32_t)(im->pb->arena.len - astart);
	buf_addc(&im->pb->arena, '\0');
}

/*
 * The writer thread: batch_end() of each batch the reading thread hands
 * over, one at a time.  The store connection is used by one thread at a
 * time: the writer while a batch is handed over, the caller otherwise.
 */
struct writer {
	struct imp	*im;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 busy;		/* a batch is being written */
	bool		 quit;
	enum store_rc	 rc;		/* of the last batch */
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		enum store_rc rc;

		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->busy)
			break;
		pthread_mutex_unlock(&w->mu);
		rc = batch_end(w->im, false);
		pthread_mutex_lock(&w->mu);
		w->rc = rc;
		w->busy = false;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Waits until the writer is idle; the result of its last batch. */
static enum store_rc
writer_wait(struct writer *w)
{
	enum store_rc rc;

	pthread_mutex_lock(&w->mu);
	while (w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
	rc = w->rc;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/*
 * Hands the filled batch to the writer once it is idle (and its last
 * batch went well) and gives the reader the other, empty one.
 */
static enum store_rc
writer_hand(struct writer *w)
{
	struct imp *im = w->im;
	enum store_rc rc;

	pthread_mutex_lock(&w->mu);
	while (w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
	if ((rc = w->rc) == STORE_OK) {
		struct batch *b = im->wb;

		im->wb = im->pb;
		im->pb = b;
		w->busy = true;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static void
writer_start(struct writer *w, struct imp *im)
{
	int e;

	memset(w, 0, sizeof(*w));
	w->im = im;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((e = pthread_create(&w->thread, NULL, writer_main, w)) != 0)
		fatal("subscribers import: cannot start a thread: %s",
		    strerror(e));
}

static void
writer_stop(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

static void
batch_free(struct batch *b)
{
	free(b->pend);
	free(b->order);
	free(b->slots);
	free(b->msgs);
	buf_free(&b->arena);
	buf_free(&b->msgtext);
}

enum store_rc
sub_import(struct store *st, int fd, const struct sub_import_opts *o,
    struct sub_import_report *rep, char **err)
{
	struct imp im;
	struct csv_reader *r;
	const struct csv_record *rec;
	enum store_rc rc = STORE_OK;
	long batch = o->batch > 0 ? o->batch : IMPORT_BATCH;
	long old_cache = 0, old_ckpt = 1000;
	bool have_header = false, cache_set = false, writing = false;
	struct writer w;
	size_t i;
	int n;

	*err = NULL;
	memset(rep, 0, sizeof(*rep));
	memset(&im, 0, sizeof(im));
	im.st = st;
	im.o = o;
	im.rep = rep;
	im.now = time(NULL);
	im.wal_pages = o->wal_pages > 0 ? o->wal_pages : IMPORT_CKPT;
	im.pb = &im.bufs[0];
	im.wb = &im.bufs[1];
	r = csv_reader_fd(fd);

	while ((n = csv_read(r, &rec)) == 1) {
		if (!have_header) {
			if (rec->nfields == 1 && rec->lens[0] == 0)
				continue;	/* blank lines before it */
			if ((rc = header(&im, rec, err)) != STORE_OK)
				goto out;
			have_header = true;
			if ((rc = store_subs_cache_size(st, IMPORT_CACHE,
			    &old_cache)) != STORE_OK)
				goto dberr;
			cache_set = true;
			/*
			 * Every subscription and event written here refers
			 * to a subscriber inserted or found in the same
			 * transaction: the per-row parent lookups of the
			 * foreign keys cannot fail, and cost 15%.
			 */
			if ((rc = store_subs_foreign_keys(st, false))
			    != STORE_OK)
				goto dberr;
			/*
			 * The WAL is copied into the database by a thread of
			 * its own while the next batch is written (only this
			 * connection's commits stop checkpointing).  Its
			 * start replaces the auto-checkpoint: turned off
			 * first, set to the bound without one.
			 */
			if ((rc = store_subs_wal_autocheckpoint(st, 0,
			    &old_ckpt)) != STORE_OK)
				goto dberr;
			im.ckpt = o->dry_run ? NULL :
			    store_subs_ckpt_start(st, o->ckpt_lag_ms);
			if (im.ckpt == NULL && (rc =
			    store_subs_wal_autocheckpoint(st, im.wal_pages,
			    NULL)) != STORE_OK)
				goto dberr;
			if ((rc = store_begin(st)) != STORE_OK)
				goto dberr;
			writer_start(&w, &im);
			writing = true;
			continue;
		}
		row(&im, rec);
		if (im.pb->in_batch >= batch &&
		    (rc = writer_hand(&w)) != STORE_OK)
			goto dberr;
	}
	if (writing) {
		rc = writer_wait(&w);
		writer_stop(&w);
		writing = false;
		if (rc != STORE_OK)
			goto dberr;
	}
	if (n == -1) {
		*err = xasprintf("%s: %s", o->name, csv_reader_error(r));
		rc = STORE_ERR;
		goto out;
	}
	if (!have_header) {
		*err = xasprintf("%s: empty: expected a header row naming the "
		    "columns (email required), then one row per subscriber",
		    o->name);
		rc = STORE_ERR;
		goto out;
	}
	/* the last batch, on this thread */
	im.wb = im.pb;
	if ((rc = batch_end(&im, true)) != STORE_OK)
		goto dberr;
	goto out;
dberr:
	if (rc != STORE_BUSY && *err == NULL)
		*err = xasprintf("database: %s", store_errmsg(st));
out:
	if (writing) {
		(void)writer_wait(&w);	/* an error is being returned */
		writer_stop(&w);
	}
	store_rollback(st);		/* dry run, or an error: no-op if none */
	if (im.ckpt) {
		char *cerr;

		/*
		 * Every batch is committed (or rolled back) by now; a failed
		 * checkpoint leaves the rows in the WAL, where the next
		 * checkpoint finds them.
		 */
		if (store_subs_ckpt_stop(im.ckpt, &cerr) != STORE_OK)
			log_warn("subscribers import: database checkpoint: %s "
			    "(the imported rows are committed)", cerr ? cerr :
			    "failed");
		free(cerr);
	}
	/* bad rows read before an error, in line order */
	if (im.wb != im.pb)
		notes_flush(&im, im.wb);
	notes_flush(&im, im.pb);
	if (cache_set) {
		/* the connection's own settings back; each is tried */
		enum store_rc fk = store_subs_foreign_keys(st, true);
		enum store_rc cs = store_subs_cache_size(st, old_cache, NULL);
		enum store_rc ck = store_subs_wal_autocheckpoint(st, old_ckpt,
		    NULL);

		if (rc == STORE_OK && (fk != STORE_OK || cs != STORE_OK ||
		    ck != STORE_OK)) {
			rc = STORE_ERR;
			*err = xasprintf("database: restoring the connection's "
			    "settings after the import: %s", store_errmsg(st));
		}
	}
	for (i = 0; i < im.ncols && im.attr_json; i++)
		free(im.attr_json[i]);
	free(im.attr_json);
	free(im.known.v);
	batch_free(&im.bufs[0]);
	batch_free(&im.bufs[1]);
	free(im.ranges);
	buf_free(&im.detail);
	csv_reader_free(r);
	return rc;
}
