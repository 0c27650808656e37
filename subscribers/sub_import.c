/*
 * CSV import: header mapping, row validation, and the writes, in batches.
 */
#include "sub_import.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "email.h"
#include "store_subs.h"
#include "sub_csv.h"
#include "util.h"
#include "xmalloc.h"

#define IMPORT_BATCH	100000

/*
 * The addresses seen so far, as 64-bit hashes in an open-addressing table
 * (8 bytes per address at most half full).  A hit is only a candidate: the
 * database decides whether the address really came before.
 */
struct seen {
	uint64_t	*slot;
	size_t		 cap, n;	/* cap a power of two */
};

struct imp {
	struct store		*st;
	const struct sub_import_opts *o;
	struct sub_import_report *rep;
	time_t			 now;
	size_t			 ncols;
	long			 email_col, name_col, status_col, created_col;
	char			**attr_json;	/* per column: JSON key, or NULL */
	struct buf		 attrs;		/* this row's attributes */
	struct buf		 detail;
	struct seen		 seen;
	long			 in_batch;	/* rows since the last commit */
	long			 batch_added;
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

/* Adds h; true when it was there already. */
static bool
seen_add(struct seen *t, uint64_t h)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		struct seen nt;
		size_t j;

		nt.cap = t->cap ? t->cap * 2 : 4096;
		nt.n = t->n;
		nt.slot = xcalloc(nt.cap, sizeof(*nt.slot));
		for (j = 0; j < t->cap; j++) {
			if (t->slot[j] == 0)
				continue;
			for (i = t->slot[j] & (nt.cap - 1); nt.slot[i];
			    i = (i + 1) & (nt.cap - 1))
				;
			nt.slot[i] = t->slot[j];
		}
		free(t->slot);
		*t = nt;
	}
	for (i = h & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (t->slot[i] == h)
			return true;
	t->slot[i] = h;
	t->n++;
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

/* RFC 3339 UTC ("2026-01-02T03:04:05Z") or a date ("2026-01-02"). */
static int
parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	e = strptime(s, "%Y-%m-%d", &tm);
	if (e == NULL)
		return -1;
	if (*e == 'T' || *e == 't' || *e == ' ') {
		e = strptime(e + 1, "%H:%M:%S", &tm);
		if (e == NULL || (*e != 'Z' && *e != 'z'))
			return -1;
		e++;
	}
	if (*e != '\0' || tm.tm_year < 70)
		return -1;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

static void __attribute__((format(printf, 3, 4)))
bad(struct imp *im, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	im->rep->bad++;
	if (im->o->errors == NULL)
		return;
	fprintf(im->o->errors, "herald: subscribers import: %s:%lu: ",
	    im->o->name, line);
	va_start(ap, fmt);
	vfprintf(im->o->errors, fmt, ap);
	va_end(ap);
	fputc('\n', im->o->errors);
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
		char *h = trim(rec->fields[i]);

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

/* Commits the batch and opens the next one (not in a dry run). */
static enum store_rc
batch_end(struct imp *im, bool last)
{
	enum store_rc rc;

	if (im->o->dry_run)
		return STORE_OK;
	if ((rc = store_commit(im->st)) != STORE_OK)
		return rc;
	im->rep->committed += im->batch_added;
	im->batch_added = 0;
	im->in_batch = 0;
	return last ? STORE_OK : store_begin(im->st);
}

static enum store_rc
row(struct imp *im, const struct csv_record *rec)
{
	enum sub_status status = SUB_ACTIVE, have;
	const char *why = NULL, *name = NULL;
	char *email, *key = NULL;
	time_t created = im->now;
	struct sub_info si;
	enum store_rc rc = STORE_OK;
	bool found, has, inserted;
	int64_t id;
	size_t i;

	if (rec->nfields == 1 && rec->lens[0] == 0)
		return STORE_OK;		/* blank line */
	im->rep->rows++;
	if (rec->err) {
		bad(im, rec->line, "%s", rec->err);
		return STORE_OK;
	}
	if (rec->nfields != im->ncols) {
		bad(im, rec->line, "%zu fields, but the header row has %zu",
		    rec->nfields, im->ncols);
		return STORE_OK;
	}
	email = trim(rec->fields[im->email_col]);
	if (*email == '\0') {
		bad(im, rec->line, "no address in the email column");
		return STORE_OK;
	}
	if (!email_addr_valid(email, &why)) {
		bad(im, rec->line, "\"%s\": invalid address: %s", email, why);
		return STORE_OK;
	}
	if (im->status_col != -1) {
		char *s = trim(rec->fields[im->status_col]);

		if (*s && store_subs_status_parse(s, &status) == -1) {
			bad(im, rec->line, "\"%s\": unknown status \"%s\" "
			    "(pending, active, unsubscribed or bounced)",
			    email, s);
			return STORE_OK;
		}
	}
	if (im->created_col != -1) {
		char *s = trim(rec->fields[im->created_col]);

		if (*s && parse_time(s, &created) == -1) {
			bad(im, rec->line, "\"%s\": created \"%s\" is not a "
			    "time like 2026-01-31T08:00:00Z or 2026-01-31",
			    email, s);
			return STORE_OK;
		}
	}
	if (im->name_col != -1 && rec->lens[im->name_col] > 0)
		name = rec->fields[im->name_col];
	buf_reset(&im->attrs);
	for (i = 0; i < im->ncols; i++) {
		if (im->attr_json[i] == NULL || rec->lens[i] == 0)
			continue;
		buf_addc(&im->attrs, im->attrs.len ? ',' : '{');
		buf_adds(&im->attrs, im->attr_json[i]);
		buf_addc(&im->attrs, ':');
		json_str(&im->attrs, rec->fields[i]);
	}
	if (im->attrs.len)
		buf_addc(&im->attrs, '}');

	key = email_key(email);
	if (seen_add(&im->seen, hash64(key))) {
		/* earlier in this file, unless two keys share a hash */
		if ((rc = store_subs_find(im->st, email, &si, &found)) != STORE_OK)
			goto out;
		has = false;
		if (found && (rc = store_subs_status(im->st, si.id,
		    im->o->newsletter, &have, NULL, &has)) != STORE_OK) {
			store_subs_info_free(&si);
			goto out;
		}
		store_subs_info_free(&si);
		if (has) {
			im->rep->duplicates++;
			if (im->o->errors)
				fprintf(im->o->errors, "herald: subscribers "
				    "import: %s:%lu: \"%s\": duplicate of an "
				    "earlier row (the first one counts)\n",
				    im->o->name, rec->line, email);
			goto out;
		}
	}
	rc = store_subs_insert(im->st, email, key, name,
	    im->attrs.len ? im->attrs.data : NULL, created, &id, &inserted);
	if (rc != STORE_OK)
		goto out;
	if (!inserted) {
		if ((rc = store_subs_find(im->st, email, &si, &found)) != STORE_OK)
			goto out;
		id = si.id;
		store_subs_info_free(&si);
		if ((rc = store_subs_status(im->st, id, im->o->newsletter,
		    &have, NULL, &has)) != STORE_OK)
			goto out;
		if (has) {
			if (have == SUB_UNSUBSCRIBED)
				im->rep->unsubscribed++;
			else if (have == SUB_BOUNCED)
				im->rep->bounced++;
			else
				im->rep->already++;
			goto out;
		}
	}
	if ((rc = store_subs_subscribe(im->st, id, im->o->newsletter, status,
	    created)) != STORE_OK)
		goto out;
	buf_reset(&im->detail);
	buf_printf(&im->detail, "import %s:%lu%s%s", im->o->name, rec->line,
	    status == SUB_ACTIVE ? "" : " as ",
	    status == SUB_ACTIVE ? "" : store_subs_status_name(status));
	if ((rc = store_subs_event(im->st, id, im->o->newsletter, "subscribe",
	    im->detail.data, im->now)) != STORE_OK)
		goto out;
	im->rep->added++;
	im->batch_added++;
out:
	free(key);
	return rc;
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
	bool have_header = false;
	size_t i;
	int n;

	*err = NULL;
	memset(rep, 0, sizeof(*rep));
	memset(&im, 0, sizeof(im));
	im.st = st;
	im.o = o;
	im.rep = rep;
	im.now = time(NULL);
	r = csv_reader_fd(fd);

	while ((n = csv_read(r, &rec)) == 1) {
		if (!have_header) {
			if (rec->nfields == 1 && rec->lens[0] == 0)
				continue;	/* blank lines before it */
			if ((rc = header(&im, rec, err)) != STORE_OK)
				goto out;
			have_header = true;
			if ((rc = store_begin(st)) != STORE_OK)
				goto dberr;
			continue;
		}
		if ((rc = row(&im, rec)) != STORE_OK)
			goto dberr;
		if (++im.in_batch >= batch &&
		    (rc = batch_end(&im, false)) != STORE_OK)
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
	if (o->dry_run)
		goto out;		/* rolled back below */
	buf_reset(&im.detail);
	buf_printf(&im.detail, "%s: %ld rows: %ld added, %ld already "
	    "subscribed, %ld unsubscribed and %ld bounced skipped, "
	    "%ld duplicates, %ld bad", o->name, rep->rows, rep->added,
	    rep->already, rep->unsubscribed, rep->bounced, rep->duplicates,
	    rep->bad);
	if ((rc = store_subs_event(st, 0, o->newsletter, "import",
	    im.detail.data, im.now)) != STORE_OK)
		goto dberr;
	if ((rc = batch_end(&im, true)) != STORE_OK)
		goto dberr;
	goto out;
dberr:
	if (rc != STORE_BUSY && *err == NULL)
		*err = xasprintf("database: %s", store_errmsg(st));
out:
	store_rollback(st);		/* dry run, or an error: no-op if none */
	for (i = 0; i < im.ncols && im.attr_json; i++)
		free(im.attr_json[i]);
	free(im.attr_json);
	free(im.seen.slot);
	buf_free(&im.attrs);
	buf_free(&im.detail);
	csv_reader_free(r);
	return rc;
}
