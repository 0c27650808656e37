/*
 * collect: poll sources, store new articles (see collect.h).
 */
#include "collect.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "feed.h"
#include "fetch.h"
#include "folder.h"
#include "log.h"
#include "store_articles.h"
#include "util.h"
#include "xmalloc.h"

struct job {
	const struct newsletter_conf *nl;
	const struct source_conf *src;
	struct source_row row;
	struct fetch_req *req;		/* feeds that are due, else NULL */
};

struct run {
	struct store	*st;
	FILE		*report;
	time_t		 now;
	size_t		 failed;	/* sources */
	size_t		 sources;
	bool		 busy;		/* database locked: stop */
	const char	*indent;	/* before each report line */
};

/* Stores one parsed entry (the store has its own row type). */
static enum store_rc
article_add(struct run *r, const struct job *j, const struct entry *e,
    bool *added)
{
	const struct store_article_new a = {
		.guid = e->guid, .url = e->url, .title = e->title,
		.author = e->author, .summary = e->summary,
		.content = e->content, .text = e->text,
		.published = e->published, .updated = e->updated,
		.has_published = e->has_published,
		.has_updated = e->has_updated,
	};

	return store_article_add(r->st, j->row.id, &a, r->now, added);
}

static const char *
kind_name(const struct source_conf *src)
{
	return src->kind == SOURCE_FOLDER ? "folder" : "feed";
}

/* One report line: "<kind> <location>: <text>". */
static void
say(struct run *r, const struct source_conf *src, bool error,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
say(struct run *r, const struct source_conf *src, bool error,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("collect: out of memory");
	if (r->report)
		fprintf(r->report, "%s%s %s: %s\n", r->indent ? r->indent :
		    "", kind_name(src), src->location, msg);
	else if (error)
		log_warn("collect: %s %s: %s", kind_name(src), src->location,
		    msg);
	else
		log_debug("collect: %s %s: %s", kind_name(src), src->location,
		    msg);
	free(msg);
}

static void
note_busy(struct run *r, enum store_rc rc)
{
	if (rc == STORE_BUSY)
		r->busy = true;
}

/* Records a failure of the source; returns the failures in a row. */
static long
record_failure(struct run *r, struct job *j, const char *why)
{
	enum store_rc rc;
	long failures = j->row.failures + 1;

	r->failed++;
	rc = store_source_fail(r->st, j->row.id, r->now, why, &failures);
	if (rc != STORE_OK) {
		note_busy(r, rc);
		log_error("database: recording the failure of %s: %s",
		    j->src->location, store_errmsg(r->st));
	}
	return failures;
}

/* Records a failure of the source and reports it. */
static void
source_failed(struct run *r, struct job *j, const char *why)
{
	long failures = record_failure(r, j, why);

	say(r, j->src, true, "error: %s (%ld failure%s in a row)", why,
	    failures, failures == 1 ? "" : "s");
}

static void
collect_feed(struct run *r, struct job *j)
{
	struct fetch_req *q = j->req;
	struct feed *f = NULL;
	enum store_rc rc;
	char *err = NULL;
	size_t i, added = 0;
	bool new;

	if (q->interrupted)
		return;		/* a signal, not the source: nothing to record */
	if (!q->ok) {
		source_failed(r, j, q->error ? q->error : "fetch failed");
		return;
	}
	if (!q->not_modified) {
		f = feed_parse(q->body, q->len, q->effective_url ?
		    q->effective_url : q->url, q->charset, &err);
		if (f == NULL) {
			/* The parser's reason may already say "not a feed". */
			char *why = err && strncmp(err, "not a feed", 10) == 0 ?
			    xstrdup(err) : xasprintf("not a feed: %s",
			    err ? err : "unknown reason");

			source_failed(r, j, why);
			free(why);
			free(err);
			return;
		}
	}
	if ((rc = store_begin(r->st)) != STORE_OK)
		goto dberr;
	for (i = 0; f && i < f->nentries; i++) {
		if (f->entries[i].guid == NULL)
			continue;
		rc = article_add(r, j, &f->entries[i], &new);
		if (rc != STORE_OK)
			goto dberr;
		added += new;
	}
	rc = store_source_ok(r->st, j->row.id, r->now, q->etag_out,
	    q->last_modified_out, f ? f->title : NULL);
	if (rc == STORE_OK && f)
		rc = store_source_validators(r->st, j->row.id, q->etag_out,
		    q->last_modified_out);
	if (rc == STORE_OK && q->permanent_url)
		rc = store_source_moved(r->st, j->row.id, q->permanent_url);
	if (rc != STORE_OK || (rc = store_commit(r->st)) != STORE_OK)
		goto dberr;
	if (q->permanent_url)
		say(r, j->src, false, "moved permanently to %s",
		    q->permanent_url);
	if (f)
		say(r, j->src, false, "%zu new (%zu seen)", added, f->nentries);
	else
		say(r, j->src, false, "not modified");
	feed_free(f);
	return;
dberr:
	note_busy(r, rc);
	log_error("database: storing %s: %s", j->src->location,
	    store_errmsg(r->st));
	store_rollback(r->st);
	r->failed++;
	feed_free(f);
}

static void
collect_folder(struct run *r, struct job *j)
{
	const char *dir = j->src->location;
	struct buf errs;
	char **names = NULL, *err = NULL;
	size_t n = 0, i, added = 0, bad = 0;
	enum store_rc rc;
	bool found, new;

	if (folder_list(dir, &names, &n, &err) == -1) {
		source_failed(r, j, err);
		free(err);
		return;
	}
	buf_init(&errs, 4096);
	if ((rc = store_begin(r->st)) != STORE_OK)
		goto dberr;
	for (i = 0; i < n; i++) {
		struct feed *f;
		char *path;

		rc = store_article_exists(r->st, j->row.id,
		    /* the guid folder.c gives: "file:" + name */
		    (path = xasprintf("file:%s", names[i])), &found);
		free(path);
		if (rc != STORE_OK)
			goto dberr;
		if (found)
			continue;
		path = xasprintf("%s/%s", dir, names[i]);
		f = folder_read(path, &err);
		free(path);
		if (f == NULL) {
			say(r, j->src, true, "error: %s: %s", names[i], err);
			if (bad++ == 0)
				buf_printf(&errs, "%s: %s", names[i], err);
			free(err);
			err = NULL;
			continue;
		}
		rc = article_add(r, j, &f->entries[0], &new);
		feed_free(f);
		if (rc != STORE_OK)
			goto dberr;
		added += new;
	}
	if (bad == 0)
		rc = store_source_ok(r->st, j->row.id, r->now, NULL, NULL,
		    NULL);
	if (rc != STORE_OK || (rc = store_commit(r->st)) != STORE_OK)
		goto dberr;
	if (bad == 0) {
		say(r, j->src, false, "%zu new", added);
		goto out;
	}
	/* Each bad file was reported above: one summary line, not two. */
	if (bad > 1)
		buf_printf(&errs, " (and %zu more file%s)", bad - 1,
		    bad == 2 ? "" : "s");
	{
		long failures = record_failure(r, j, buf_cstr(&errs));

		say(r, j->src, true, "%zu new, %zu file%s failed (%ld failure%s "
		    "in a row)", added, bad, bad == 1 ? "" : "s", failures,
		    failures == 1 ? "" : "s");
	}
	goto out;
dberr:
	note_busy(r, rc);
	log_error("database: storing %s: %s", dir, store_errmsg(r->st));
	store_rollback(r->st);
	r->failed++;
out:
	buf_free(&errs);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
collect_many(struct store *st, const struct newsletter_conf *nls, size_t n,
    bool force, FILE *report)
{
	struct run r = { .st = st, .report = report, .now = time(NULL) };
	struct fetch_req *reqs = NULL;
	struct job *jobs = NULL;
	size_t njobs = 0, nreqs = 0, i, k;
	enum store_rc rc;
	int ret;

	for (i = 0; i < n; i++)
		njobs += nls[i].nsources;
	jobs = xcalloc(njobs ? njobs : 1, sizeof(*jobs));
	reqs = xcalloc(njobs ? njobs : 1, sizeof(*reqs));
	njobs = 0;
	for (i = 0; i < n; i++) {
		for (k = 0; k < nls[i].nsources; k++) {
			struct job *j = &jobs[njobs];
			const struct source_conf *src = &nls[i].sources[k];

			rc = store_source_get(st, nls[i].id, kind_name(src),
			    src->location, &j->row);
			if (rc != STORE_OK) {
				note_busy(&r, rc);
				log_error("database: reading source %s: %s",
				    src->location, store_errmsg(st));
				r.failed++;
				goto out;
			}
			j->nl = &nls[i];
			j->src = src;
			njobs++;
			if (src->kind != SOURCE_FEED)
				continue;
			if (!force && j->row.last_fetch != 0 &&
			    r.now - j->row.last_fetch < src->interval) {
				log_debug("collect: feed %s: not due for %lds",
				    src->location, (long)(src->interval -
				    (r.now - j->row.last_fetch)));
				continue;
			}
			j->req = &reqs[nreqs++];
			j->req->url = j->row.fetch_url ? j->row.fetch_url :
			    src->location;
			j->req->etag = j->row.etag;
			j->req->last_modified = j->row.last_modified;
		}
	}
	fetch_all(reqs, nreqs);
	for (i = 0; i < njobs && !r.busy; i++) {
		/* Several newsletters: say whose sources these are. */
		if (n > 1 && report && (i == 0 || jobs[i].nl != jobs[i - 1].nl)) {
			fprintf(report, "newsletter %s:\n", jobs[i].nl->id);
			r.indent = "  ";
		}
		if (jobs[i].src->kind == SOURCE_FOLDER)
			collect_folder(&r, &jobs[i]);
		else if (jobs[i].req)
			collect_feed(&r, &jobs[i]);
		else
			continue;
		r.sources++;
	}
out:
	for (i = 0; i < njobs; i++)
		source_row_clear(&jobs[i].row);
	for (i = 0; i < nreqs; i++)
		fetch_req_clear(&reqs[i]);
	free(jobs);
	free(reqs);
	if (r.busy) {
		log_error("collect: the database is locked by another herald; "
		    "try again");
		return EXIT_TEMP;
	}
	ret = r.failed ? EXIT_FAIL : EXIT_OK;
	if (r.failed && report)
		log_error("collect: %zu of %zu source%s failed", r.failed,
		    r.sources, r.sources == 1 ? "" : "s");
	return ret;
}

int
collect_run(struct store *st, const struct newsletter_conf *nl, bool force,
    FILE *report)
{
	return collect_many(st, nl, 1, force, report);
}
