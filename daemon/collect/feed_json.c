/*
 * feed_json: what `herald inspect` prints for a parsed feed, as the JSON
 * object of DESIGN §3 or as a listing for people.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "feed.h"
#include "util.h"
#include "xmalloc.h"

const char *
feed_kind_name(enum feed_kind k)
{
	switch (k) {
	case FEED_RSS: return "rss";
	case FEED_ATOM: return "atom";
	case FEED_RDF: return "rdf";
	case FEED_FOLDER: return "folder";
	}
	return "unknown";
}

static void
json_time(struct buf *b, bool has, time_t t)
{
	char s[21];

	if (!has) {
		buf_adds(b, "null");
		return;
	}
	time_rfc3339(t, s);
	json_str(b, s);
}

void
feed_json(const struct feed *f, struct buf *b)
{
	buf_adds(b, "{\"kind\": ");
	json_str(b, feed_kind_name(f->kind));
	buf_adds(b, ", \"title\": ");
	json_str(b, f->title);
	buf_adds(b, ", \"link\": ");
	json_str(b, f->link);
	buf_adds(b, ", \"entries\": [");
	for (size_t i = 0; i < f->nentries; i++) {
		const struct entry *e = &f->entries[i];

		buf_adds(b, i ? ",\n  {" : "\n  {");
		buf_adds(b, "\"title\": ");
		json_str(b, e->title);
		buf_adds(b, ", \"url\": ");
		json_str(b, e->url);
		buf_adds(b, ", \"guid\": ");
		json_str(b, e->guid);
		buf_adds(b, ", \"published\": ");
		json_time(b, e->has_published, e->published);
		buf_adds(b, ", \"updated\": ");
		json_time(b, e->has_updated, e->updated);
		buf_adds(b, ", \"author\": ");
		json_str(b, e->author);
		buf_adds(b, ", \"summary\": ");
		json_str(b, e->summary);
		buf_adds(b, ", \"content\": ");
		json_str(b, e->content);
		buf_addc(b, '}');
	}
	buf_adds(b, f->nentries ? "\n]}\n" : "]}\n");
}

static void
text_field(struct buf *b, const char *label, const char *v)
{
	if (v != NULL && *v != '\0')
		buf_printf(b, "  %-10s %s\n", label, v);
}

static void
text_time(struct buf *b, const char *label, bool has, time_t t)
{
	char s[21];

	if (!has)
		return;
	time_rfc3339(t, s);
	buf_printf(b, "  %-10s %s\n", label, s);
}

/* The first n bytes of s without cutting a UTF-8 sequence. */
static size_t
utf8_prefix(const char *s, size_t n)
{
	size_t l = strlen(s);

	if (l <= n)
		return l;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

void
feed_text(const struct feed *f, struct buf *b)
{
	buf_printf(b, "%s feed: %s\n", feed_kind_name(f->kind),
	    f->title != NULL ? f->title : "(untitled)");
	if (f->link != NULL)
		buf_printf(b, "link: %s\n", f->link);
	buf_printf(b, "%zu %s\n", f->nentries, f->nentries == 1 ? "entry" : "entries");
	for (size_t i = 0; i < f->nentries; i++) {
		const struct entry *e = &f->entries[i];
		const char *body = e->content != NULL ? e->content : e->summary;

		buf_printf(b, "\n%zu. %s\n", i + 1,
		    e->title != NULL ? e->title : "(untitled)");
		text_field(b, "url:", e->url);
		text_field(b, "guid:", e->guid);
		text_time(b, "published:", e->has_published, e->published);
		text_time(b, "updated:", e->has_updated, e->updated);
		text_field(b, "author:", e->author);
		if (body != NULL) {
			size_t n = utf8_prefix(body, 200);

			buf_printf(b, "  %-10s %.*s%s (%zu bytes)\n",
			    e->content != NULL ? "content:" : "summary:", (int)n,
			    body, n < strlen(body) ? "..." : "", strlen(body));
		}
	}
}

void
feed_warn(struct feed *f, const char *fmt, ...)
{
	va_list ap;
	char *w;

	if (f->nwarnings > FEED_MAX_WARNINGS)
		return;
	if (f->nwarnings == FEED_MAX_WARNINGS) {
		w = xstrdup("more warnings left out");
	} else {
		struct buf b = BUF_INIT;

		va_start(ap, fmt);
		buf_vprintf(&b, fmt, ap);
		va_end(ap);
		w = buf_take(&b);
		for (char *p = w; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	f->warnings = xrealloc(f->warnings, (f->nwarnings + 1) *
	    sizeof(*f->warnings));
	f->warnings[f->nwarnings++] = w;
}

void
feed_warn_dropped(struct feed *f, const char *where, size_t n, char *first,
    bool image)
{
	char more[48] = "";

	if (n == 0) {
		free(first);
		return;
	}
	if (n > 1)
		snprintf(more, sizeof(more), " (and %zu more)", n - 1);
	feed_warn(f, "%s: %s \"%.100s\" dropped: %s%s", where,
	    image ? "image" : "link", first != NULL ? first : "",
	    image ? "not an https URL" : "not an http, https or mailto URL",
	    more);
	free(first);
}
