/*
 * render (digest_): the text and HTML digest of an issue.
 *
 * digest_new() loads the articles, builds one context per part (the HTML
 * part gets sanitised HTML, the text part plain text from html2text) and
 * renders both templates once into documents whose only holes are the
 * subscriber fields (slots).  digest_render() fills the holes: static bytes
 * are copied, subscriber values escaped (HTML part) and sections that test
 * a subscriber field rendered from their compiled subtree.
 */
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "html.h"
#include "html2text.h"
#include "log.h"
#include "mustache.h"
#include "templates_lookup.h"
#include "util.h"
#include "xmalloc.h"

#define TEMPLATE_MAX	(1u << 20)	/* a template file larger than this is refused */
#define RENDER_MAX_LINKS 500		/* link references listed per article */

enum {
	SLOT_EMAIL,
	SLOT_NAME,
	SLOT_ATTRS,
	SLOT_UNSUB,
	SLOT_PREFS,
	SLOT_CONFIRM,
	NSLOTS
};

/* Template sources (and their partials), kept as long as the templates. */
struct loader {
	char		*dir;		/* directory of the template file, or NULL */
	char		**names, **srcs, **files;
	size_t		 n, cap;
};

struct digest {
	struct loader	 ltext, lhtml;
	struct tmpl	*ttext, *thtml;
	struct tmpl_value *ctext, *chtml;
	struct tmpl_doc	*dtext, *dhtml;
	char		*subject;
	size_t		 narticles;
	bool		 uses_attrs;
};

static const char *const months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};

void
render_date(time_t t, const char *tz, char *out, size_t outlen)
{
	struct tz_saved saved;
	struct tm tm;

	tz_use(&saved, tz);
	if (localtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	tz_restore(&saved);
	snprintf(out, outlen, "%d %s %d", tm.tm_mday,
	    months[tm.tm_mon >= 0 && tm.tm_mon < 12 ? tm.tm_mon : 0],
	    tm.tm_year + 1900);
}

/* ---- templates ------------------------------------------------------- */

static char *
read_file(const char *path, size_t *len, char **err)
{
	struct buf b = BUF_INIT;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b, TEMPLATE_MAX);
	rc = buf_read_fd(&b, fd);
	if (rc == -1)
		*err = xasprintf("%s: %s", path, strerror(errno));
	else if (rc == -2)
		*err = xasprintf("%s: larger than %u bytes", path, TEMPLATE_MAX);
	close(fd);
	if (rc != 0) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return buf_take(&b);
}

static void
loader_keep(struct loader *l, const char *name, char *src, const char *file)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->names = xrealloc(l->names, l->cap * sizeof(char *));
		l->srcs = xrealloc(l->srcs, l->cap * sizeof(char *));
		l->files = xrealloc(l->files, l->cap * sizeof(char *));
	}
	l->names[l->n] = xstrdup(name);
	l->srcs[l->n] = src;
	l->files[l->n] = xstrdup(file);
	l->n++;
}

static void
loader_free(struct loader *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->names[i]);
		free(l->srcs[i]);
		free(l->files[i]);
	}
	free(l->names);
	free(l->srcs);
	free(l->files);
	free(l->dir);
	memset(l, 0, sizeof(*l));
}

/* True when some loaded template source contains word. */
static bool
loader_mentions(const struct loader *l, const char *word)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->srcs[i], word))
			return true;
	return false;
}

/*
 * Partials: {{> name}} is name.mustache next to the template file, else
 * the shipped template of that name.
 */
static const char *
load_partial(void *arg, const char *name, size_t *len, const char **filename)
{
	struct loader *l = arg;
	const struct builtin_template *bt;
	char *path, *src, *err = NULL, *bname;

	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->names[i], name) == 0) {
			*len = strlen(l->srcs[i]);
			*filename = l->files[i];
			return l->srcs[i];
		}
	}
	if (strchr(name, '/') || name[0] == '.' || strlen(name) > 200)
		return NULL;
	if (l->dir) {
		path = xasprintf("%s/%s.mustache", l->dir, name);
		src = read_file(path, len, &err);
		free(err);
		if (src) {
			loader_keep(l, name, src, path);
			free(path);
			*filename = l->files[l->n - 1];
			return src;
		}
		free(path);
	}
	bname = xasprintf("%s.mustache", name);
	bt = templates_builtin(bname);
	free(bname);
	if (bt == NULL)
		return NULL;
	loader_keep(l, name, xstrndup(bt->data, bt->len), bt->name);
	*len = bt->len;
	*filename = l->files[l->n - 1];
	return l->srcs[l->n - 1];
}

/* Compiles the template at path (NULL: the shipped one called builtin). */
static struct tmpl *
template_load(struct loader *l, const char *path, const char *builtin,
    enum tmpl_escape esc, char **err)
{
	struct tmpl_options opt = { esc, load_partial, l, true };
	const char *file;
	char *src;
	size_t len = 0;

	if (path) {
		const char *slash = strrchr(path, '/');

		src = read_file(path, &len, err);
		if (src == NULL)
			return NULL;
		l->dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
		file = path;
	} else {
		const struct builtin_template *bt = templates_builtin(builtin);

		if (bt == NULL) {
			*err = xasprintf("shipped template %s is missing", builtin);
			return NULL;
		}
		src = xstrndup(bt->data, bt->len);
		len = bt->len;
		file = builtin;
	}
	loader_keep(l, "", src, file);
	return tmpl_compile(src, len, l->files[l->n - 1], &opt, err);
}

/* ---- context --------------------------------------------------------- */

static void
set_str(struct tmpl_value *m, const char *key, const char *v)
{
	tmpl_map_set(m, key, tmpl_str(v));
}

static bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* Paragraphs of plain text as HTML (for articles that only have text). */
static char *
text_to_html(const char *text)
{
	struct buf b = BUF_INIT;
	const char *p = text;

	while (*p) {
		const char *end = strstr(p, "\n\n");
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n && (p[n - 1] == '\n' || p[n - 1] == ' '))
			n--;
		if (n) {
			buf_adds(&b, "<p>");
			html_escape(&b, p, n, HTML_ESC_ALL);
			buf_adds(&b, "</p>\n");
		}
		if (end == NULL)
			break;
		p = end + 2;
		while (*p == '\n')
			p++;
	}
	return buf_take(&b);
}

static char *
wrap_text(const char *text)
{
	struct buf b = BUF_INIT;

	html2text_wrap(&b, text, strlen(text), HTML2TEXT_WIDTH);
	return buf_take(&b);
}

static struct tmpl_value *
article_value(const struct store_article *a, size_t pos, size_t total,
    bool html, const char *tz, bool warn)
{
	struct tmpl_value *m = tmpl_map(), *src = tmpl_map();
	char date[64];

	set_str(m, "title", empty(a->title) ? "(untitled)" : a->title);
	set_str(m, "url", empty(a->url) ? NULL : a->url);
	set_str(m, "author", empty(a->author) ? NULL : a->author);
	if (a->has_published) {
		render_date(a->published, tz, date, sizeof(date));
		set_str(m, "published", date);
	} else {
		tmpl_map_set(m, "published", tmpl_null());
	}
	tmpl_map_set(m, "position", tmpl_num((double)pos + 1));
	tmpl_map_set(m, "first", tmpl_bool(pos == 0));
	tmpl_map_set(m, "last", tmpl_bool(pos + 1 == total));
	set_str(src, "title", empty(a->source_title) ? NULL : a->source_title);
	tmpl_map_set(m, "source", src);
	if (html) {
		set_str(m, "summary", empty(a->summary) ? NULL : a->summary);
		set_str(m, "content", empty(a->content) ? NULL : a->content);
		set_str(m, "text", empty(a->text) ? NULL : a->text);
		/* body: the fullest form there is, as HTML */
		if (!empty(a->content))
			set_str(m, "body", a->content);
		else if (!empty(a->summary))
			set_str(m, "body", a->summary);
		else if (!empty(a->text))
			tmpl_map_set(m, "body", tmpl_str_take(text_to_html(a->text)));
		else
			tmpl_map_set(m, "body", tmpl_null());
	} else {
		struct html2text_links links = { .max = RENDER_MAX_LINKS };
		struct tmpl_value *lv = tmpl_list();
		const char *h = !empty(a->content) ? a->content : a->summary;
		size_t tlen;

		tmpl_map_set(m, "summary", empty(a->summary) ? tmpl_null() :
		    tmpl_str_take(html2text(a->summary, strlen(a->summary),
		    HTML2TEXT_WIDTH, NULL)));
		tmpl_map_set(m, "content", empty(a->content) ? tmpl_null() :
		    tmpl_str_take(html2text(a->content, strlen(a->content),
		    HTML2TEXT_WIDTH, NULL)));
		if (!empty(a->text))
			tmpl_map_set(m, "text", tmpl_str_take(wrap_text(a->text)));
		else if (!empty(h)) {
			char *t = html2text(h, strlen(h), HTML2TEXT_WIDTH,
			    &links);

			if (links.dropped > 0) {
				/* a limit hit is said, never a silent cut */
				char *n = xasprintf("%s\n\n[%zu more links "
				    "in this article are not listed here: "
				    "too many for an e-mail; the article "
				    "online has them all]", t, links.dropped);

				if (warn)
					log_warn("render: article \"%s\": "
					    "%zu links; the text part lists "
					    "the first %d", a->title ?
					    a->title : "", links.n +
					    links.dropped, RENDER_MAX_LINKS);
				free(t);
				t = n;
			}
			tmpl_map_set(m, "text", tmpl_str_take(t));
		}
		else
			tmpl_map_set(m, "text", tmpl_null());
		tmpl_map_set(m, "body", tmpl_str(tmpl_map_get(m, "text", 4)->str));
		for (size_t i = 0; i < links.n; i++) {
			struct tmpl_value *l = tmpl_map();

			tmpl_map_set(l, "number", tmpl_num((double)i + 1));
			set_str(l, "url", links.v[i]);
			tmpl_list_push(lv, l);
		}
		tmpl_map_set(m, "has_links", tmpl_bool(links.n > 0));
		tmpl_map_set(m, "links", lv);
		html2text_links_free(&links);
		/* a rule as wide as the title (at most the line) */
		tlen = html2text_width(tmpl_map_get(m, "title", 5)->str,
		    tmpl_map_get(m, "title", 5)->len);
		if (tlen > HTML2TEXT_WIDTH)
			tlen = HTML2TEXT_WIDTH;
		{
			char rule[HTML2TEXT_WIDTH + 1];

			memset(rule, '-', tlen);
			rule[tlen] = '\0';
			set_str(m, "title_underline", rule);
		}
	}
	return m;
}

static struct tmpl_value *
context(const struct newsletter_conf *nl, const struct store_article *rows,
    size_t n, long number, time_t date, bool html, bool slots)
{
	struct tmpl_value *root = tmpl_map(), *v, *list = tmpl_list();
	const char *tz = nl->timezone ? nl->timezone : "UTC";
	char d[64];

	v = tmpl_map();
	set_str(v, "title", nl->title ? nl->title : nl->id);
	set_str(v, "id", nl->id);
	tmpl_map_set(root, "newsletter", v);
	v = tmpl_map();
	tmpl_map_set(v, "number", tmpl_num((double)number));
	render_date(date, tz, d, sizeof(d));
	set_str(v, "date", d);
	tmpl_map_set(root, "issue", v);
	tmpl_map_set(root, "article_count", tmpl_num((double)n));
	/* for "and 3 more" lines: null when there is no other article */
	tmpl_map_set(root, "more_count", n > 1 ? tmpl_num((double)n - 1) : tmpl_null());
	tmpl_map_set(root, "several", tmpl_bool(n > 1));
	/*
	 * A digest builds the text model three times (subject, first_article,
	 * the per-reader one): only the per-reader list says what a limit
	 * dropped, so an operator reads each warning once.
	 */
	for (size_t i = 0; i < n; i++)
		tmpl_list_push(list, article_value(&rows[i], i, n, html, tz,
		    slots));
	tmpl_map_set(root, "articles", list);
	tmpl_map_set(root, "first_article", n ? article_value(&rows[0], 0, n,
	    html, tz, false) : tmpl_null());
	if (slots) {
		v = tmpl_map();
		tmpl_map_set(v, "email", tmpl_slot(SLOT_EMAIL));
		tmpl_map_set(v, "name", tmpl_slot(SLOT_NAME));
		tmpl_map_set(v, "attributes", tmpl_slot(SLOT_ATTRS));
		tmpl_map_set(root, "subscriber", v);
		tmpl_map_set(root, "unsubscribe_url", tmpl_slot(SLOT_UNSUB));
		tmpl_map_set(root, "preferences_url", tmpl_slot(SLOT_PREFS));
		tmpl_map_set(root, "confirm_url", tmpl_slot(SLOT_CONFIRM));
	}
	return root;
}

/* ---- attributes JSON ------------------------------------------------- */

struct jp {
	const char	*p, *end;
	int		 depth;
};

static void
jws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	    *j->p == '\r'))
		j->p++;
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *
jstring(struct jp *j)
{
	struct buf b = BUF_INIT;

	j->p++;		/* the opening quote */
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\' && j->p + 1 < j->end) {
			char c = j->p[1];
			unsigned cp, lo;

			j->p += 2;
			switch (c) {
			case 'n': buf_addc(&b, '\n'); break;
			case 't': buf_addc(&b, '\t'); break;
			case 'r': buf_addc(&b, '\r'); break;
			case 'b': buf_addc(&b, '\b'); break;
			case 'f': buf_addc(&b, '\f'); break;
			case 'u':
				if (j->end - j->p < 4 || hex4(j->p, &cp) == -1)
					goto bad;
				j->p += 4;
				if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 &&
				    j->p[0] == '\\' && j->p[1] == 'u' &&
				    hex4(j->p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					j->p += 6;
				} else if (cp >= 0xd800 && cp < 0xe000) {
					cp = 0xfffd;
				}
				buf_add_utf8(&b, cp);
				break;
			default: buf_addc(&b, c); break;
			}
			continue;
		}
		buf_addc(&b, *j->p++);
	}
	if (j->p >= j->end)
		goto bad;
	j->p++;
	return buf_take(&b);
bad:
	buf_free(&b);
	return NULL;
}

static struct tmpl_value *
jvalue(struct jp *j)
{
	struct tmpl_value *v;

	jws(j);
	if (j->p >= j->end || ++j->depth > 20)
		return NULL;
	if (*j->p == '"') {
		char *s = jstring(j);

		v = s ? tmpl_str_take(s) : NULL;
	} else if (*j->p == '{' || *j->p == '[') {
		bool obj = *j->p == '{';

		v = obj ? tmpl_map() : tmpl_list();
		j->p++;
		jws(j);
		if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
			j->p++;
			j->depth--;
			return v;
		}
		for (;;) {
			char *key = NULL;
			struct tmpl_value *item;

			jws(j);
			if (obj) {
				if (j->p >= j->end || *j->p != '"' || (key = jstring(j)) == NULL)
					goto bad;
				jws(j);
				if (j->p >= j->end || *j->p != ':') {
					free(key);
					goto bad;
				}
				j->p++;
			}
			item = jvalue(j);
			if (item == NULL) {
				free(key);
				goto bad;
			}
			if (obj)
				tmpl_map_set(v, key, item);
			else
				tmpl_list_push(v, item);
			free(key);
			jws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
				j->p++;
				break;
			}
			goto bad;
		}
	} else if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
		j->p += 4;
		v = tmpl_bool(true);
	} else if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
		j->p += 5;
		v = tmpl_bool(false);
	} else if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
		j->p += 4;
		v = tmpl_null();
	} else {
		char tmp[64], *e;
		size_t n = 0;

		while (j->p + n < j->end && n < sizeof(tmp) - 1 &&
		    strchr("+-0123456789.eE", j->p[n]))
			n++;
		memcpy(tmp, j->p, n);
		tmp[n] = '\0';
		if (n == 0)
			return NULL;
		v = tmpl_num(strtod(tmp, &e));
		if (*e) {
			tmpl_value_free(v);
			return NULL;
		}
		j->p += n;
	}
	j->depth--;
	return v;
bad:
	tmpl_value_free(v);
	return NULL;
}

/* The subscriber's attributes as a map (NULL when absent or not an object). */
static struct tmpl_value *
attributes(const char *json)
{
	struct jp j;
	struct tmpl_value *v;

	if (json == NULL)
		return NULL;
	j.p = json;
	j.end = json + strlen(json);
	j.depth = 0;
	v = jvalue(&j);
	if (v && v->type != TMPL_MAP) {
		tmpl_value_free(v);
		return NULL;
	}
	return v;
}

/* ---- the digest ------------------------------------------------------ */

static void
wrap_line(void *arg, const char *line, size_t len, struct buf *out)
{
	(void)arg;
	html2text_wrap(out, line, len, HTML2TEXT_WIDTH);
}

/* The subject as one line: whitespace runs (line ends too) become one space. */
static char *
one_line(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t' || *s == ' ') {
			if (b.len && b.data[b.len - 1] != ' ')
				buf_addc(&b, ' ');
			continue;
		}
		buf_addc(&b, *s);
	}
	while (b.len && b.data[b.len - 1] == ' ')
		b.len--;
	if (b.data)
		b.data[b.len] = '\0';
	return buf_take(&b);
}

static char *
render_subject(const struct newsletter_conf *nl, const struct tmpl_value *ctx,
    char **err)
{
	const char *src = nl->subject ? nl->subject :
	    "{{newsletter.title}} #{{issue.number}}: {{first_article.title}}";
	struct tmpl_options opt = { TMPL_ESCAPE_NONE, NULL, NULL, true };
	struct tmpl *t = tmpl_compile(src, strlen(src), "subject", &opt, err);
	struct buf b = BUF_INIT;
	char *s;

	if (t == NULL)
		return NULL;
	tmpl_render(t, ctx, &b);
	tmpl_free(t);
	s = one_line(buf_cstr(&b));
	buf_free(&b);
	return s;
}

struct digest *
digest_new_rows(const struct config *cfg, const struct newsletter_conf *nl,
    const struct store_article *rows, size_t n, long number, time_t date,
    char **err)
{
	struct digest *d = xcalloc(1, sizeof(*d));
	struct tmpl_value *plain;

	(void)cfg;
	*err = NULL;
	d->narticles = n;
	d->ttext = template_load(&d->ltext, nl->template_text, "digest.txt.mustache",
	    TMPL_ESCAPE_NONE, err);
	if (d->ttext == NULL)
		goto fail;
	d->thtml = template_load(&d->lhtml, nl->template_html, "digest.html.mustache",
	    TMPL_ESCAPE_HTML, err);
	if (d->thtml == NULL)
		goto fail;
	plain = context(nl, rows, n, number, date, false, false);
	d->subject = render_subject(nl, plain, err);
	tmpl_value_free(plain);
	if (d->subject == NULL)
		goto fail;
	d->ctext = context(nl, rows, n, number, date, false, true);
	d->chtml = context(nl, rows, n, number, date, true, true);
	d->dtext = tmpl_render_doc(d->ttext, d->ctext);
	d->dhtml = tmpl_render_doc(d->thtml, d->chtml);
	if (tmpl_doc_failed(d->dtext) || tmpl_doc_failed(d->dhtml)) {
		/* a cut digest would lack its footer and unsubscribe link */
		*err = xasprintf("the %s part of issue #%ld is past the "
		    "render limits (64 MB, or 4 million template steps): "
		    "fewer articles (max_articles) or a simpler template",
		    tmpl_doc_failed(d->dtext) ? "text" : "HTML", number);
		goto fail;
	}
	tmpl_doc_rewrite_lines(d->dtext, wrap_line, NULL);
	/*
	 * Parse the attributes JSON per reader only when a template can reach
	 * them: a hole on that slot, or a kept section in a template (or one
	 * of its partials) that mentions "attributes" at all.
	 */
	d->uses_attrs = (tmpl_doc_uses_slot(d->dtext, SLOT_ATTRS) &&
	    loader_mentions(&d->ltext, "attributes")) ||
	    (tmpl_doc_uses_slot(d->dhtml, SLOT_ATTRS) &&
	    loader_mentions(&d->lhtml, "attributes"));
	return d;
fail:
	digest_free(d);
	return NULL;
}

struct digest *
digest_new(const struct config *cfg, const struct newsletter_conf *nl,
    struct store *st, const int64_t *ids, size_t n, long number, time_t date,
    char **err)
{
	struct store_article *rows = NULL;
	long k = store_article_rows(st, ids, n, &rows, err);
	struct digest *d;

	if (k < 0)
		return NULL;
	d = digest_new_rows(cfg, nl, rows, (size_t)k, number, date, err);
	store_article_rows_free(rows, (size_t)k);
	return d;
}

int
digest_check_part(const struct newsletter_conf *nl, int part, char **err)
{
	struct loader l;
	struct tmpl *t;
	int rc;

	*err = NULL;
	memset(&l, 0, sizeof(l));
	if (part == 2) {
		struct tmpl_options opt = { TMPL_ESCAPE_NONE, NULL, NULL, true };
		const char *src = nl->subject ? nl->subject : "";
		char *e = NULL;

		t = tmpl_compile(src, strlen(src), "", &opt, &e);
		if (e) {
			*err = xstrdup(e + 1);	/* drop the empty file name's ':' */
			free(e);
		}
	} else if (part == 0) {
		t = template_load(&l, nl->template_text, "digest.txt.mustache",
		    TMPL_ESCAPE_NONE, err);
	} else {
		t = template_load(&l, nl->template_html, "digest.html.mustache",
		    TMPL_ESCAPE_HTML, err);
	}
	rc = t ? 0 : -1;
	tmpl_free(t);
	loader_free(&l);
	return rc;
}

/* ---- names herald never sets (config check) --------------------------- */

#define NAMES_MAX_FRAMES	34

struct namecheck {
	const struct tmpl_value	*root;
	struct diags		*d;
	const char		*id;
	const char		*subject_file;	/* for the subject (no file) */
	int			 warned;
};

/* The value of a dotted name in frames (innermost last), or NULL. */
static const struct tmpl_value *
name_lookup(const struct tmpl_value *const *frames, size_t nframes,
    const char *name, bool *dynamic)
{
	const struct tmpl_value *v = NULL;
	const char *p = name, *dot;
	size_t i, n;

	*dynamic = false;
	dot = strchr(p, '.');
	n = dot ? (size_t)(dot - p) : strlen(p);
	for (i = nframes; i-- > 0 && v == NULL;)
		if (frames[i]->type == TMPL_MAP)
			v = tmpl_map_get(frames[i], p, n);
	while (v != NULL && dot != NULL) {
		if (v->type == TMPL_SLOT) {
			*dynamic = true;	/* resolved per reader */
			return v;
		}
		p = dot + 1;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		v = v->type == TMPL_MAP ? tmpl_map_get(v, p, n) : NULL;
	}
	if (v != NULL && v->type == TMPL_SLOT)
		*dynamic = true;
	return v;
}

static size_t
name_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, row[81];

	if (la > 80 || lb > 80)
		return 80;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* Every dotted name reachable in v (two levels down), into *best. */
static void
name_candidates(const struct tmpl_value *v, const char *prefix,
    const char *name, int depth, char **best, size_t *bestd)
{
	for (size_t i = 0; v->type == TMPL_MAP && i < v->n; i++) {
		char *full = prefix ? xasprintf("%s.%s", prefix, v->keys[i]) :
		    xstrdup(v->keys[i]);
		size_t dd = name_distance(name, full);

		if (dd < *bestd) {
			*bestd = dd;
			free(*best);
			*best = xstrdup(full);
		}
		if (depth < 2 && v->items[i]->type == TMPL_MAP)
			name_candidates(v->items[i], full, name, depth + 1,
			    best, bestd);
		free(full);
	}
}

static void
name_check(void *arg, const char *name, const char *const *scopes,
    size_t nscopes, const char *file, int line, int col)
{
	struct namecheck *nc = arg;
	const struct tmpl_value *frames[NAMES_MAX_FRAMES], *v;
	char *best = NULL;
	size_t nframes = 0, i, bestd = SIZE_MAX, limit;
	bool dynamic;

	if (strcmp(name, ".") == 0)
		return;
	frames[nframes++] = nc->root;
	for (i = 0; i < nscopes && nframes < NAMES_MAX_FRAMES; i++) {
		if (strcmp(scopes[i], ".") == 0)
			continue;
		v = name_lookup(frames, nframes, scopes[i], &dynamic);
		if (v == NULL || dynamic)
			return;	/* an unknown section is reported itself */
		if (v->type == TMPL_LIST) {
			if (v->n == 0)
				return;	/* nothing to check against */
			v = v->items[0];
		}
		if (v->type == TMPL_MAP)
			frames[nframes++] = v;
	}
	if (name_lookup(frames, nframes, name, &dynamic) != NULL)
		return;
	if (strncmp(name, "subscriber.attributes.", 22) == 0)
		return;
	for (i = nframes; i-- > 0;)
		name_candidates(frames[i], NULL, name, 0, &best, &bestd);
	limit = strlen(name) <= 4 ? 1 : strlen(name) / 3 + 1;
	if (limit > 3)
		limit = 3;
	if (file == NULL || *file == '\0') {	/* the subject, in the config */
		file = nc->subject_file;
		line = col = 0;
	}
	if (best != NULL && bestd <= limit)
		diags_add(nc->d, file, line, col, true, "newsletter '%s': "
		    "{{%s}}: herald never sets %s (did you mean %s?)", nc->id,
		    name, name, best);
	else
		diags_add(nc->d, file, line, col, true, "newsletter '%s': "
		    "{{%s}}: herald never sets %s, so it is always empty",
		    nc->id, name, name);
	nc->warned++;
	free(best);
}

int
digest_check_names(const struct newsletter_conf *nl, const char *cfile,
    struct diags *d)
{
	struct store_article a;
	struct namecheck nc;
	int part;

	memset(&a, 0, sizeof(a));
	a.title = "Title";
	a.url = "https://example.org/a";
	a.author = "Author";
	a.summary = "<p>Summary <a href=\"https://example.org/l\">l</a></p>";
	a.content = a.summary;
	a.text = "Text";
	a.source_title = "Source";
	a.published = 0;
	a.has_published = true;
	memset(&nc, 0, sizeof(nc));
	nc.d = d;
	nc.id = nl->id;
	nc.subject_file = cfile;
	for (part = 0; part < 3; part++) {
		struct tmpl_value *ctx = context(nl, &a, 1, 1, 0, part == 1,
		    true);
		struct loader l;
		struct tmpl *t;
		char *err = NULL;

		memset(&l, 0, sizeof(l));
		if (part == 2) {
			struct tmpl_options opt = { TMPL_ESCAPE_NONE, NULL,
			    NULL, true };
			const char *src = nl->subject ? nl->subject : "";

			t = tmpl_compile(src, strlen(src), "", &opt, &err);
		} else
			t = template_load(&l, part == 0 ? nl->template_text :
			    nl->template_html, part == 0 ?
			    "digest.txt.mustache" : "digest.html.mustache",
			    part == 0 ? TMPL_ESCAPE_NONE : TMPL_ESCAPE_HTML,
			    &err);
		if (t != NULL) {
			nc.root = ctx;
			tmpl_each_name(t, name_check, &nc);
		}
		free(err);
		tmpl_free(t);
		loader_free(&l);
		tmpl_value_free(ctx);
	}
	return nc.warned;
}

int
digest_render(const struct digest *d, const struct recipient *r,
    struct buf *text, struct buf *html)
{
	struct tmpl_value email = tmpl_str_ref(r->email);
	struct tmpl_value name = tmpl_str_ref(r->name);
	struct tmpl_value unsub = tmpl_str_ref(r->unsubscribe_url);
	struct tmpl_value prefs = tmpl_str_ref(r->preferences_url);
	struct tmpl_value confirm = tmpl_str_ref(r->confirm_url);
	struct tmpl_value *attrs = d->uses_attrs ? attributes(r->attributes_json) : NULL;
	const struct tmpl_value *slots[NSLOTS];
	int rc = 0;

	slots[SLOT_EMAIL] = &email;
	slots[SLOT_NAME] = &name;
	slots[SLOT_ATTRS] = attrs;
	slots[SLOT_UNSUB] = &unsub;
	slots[SLOT_PREFS] = &prefs;
	slots[SLOT_CONFIRM] = &confirm;
	if (text && tmpl_doc_fill(d->dtext, slots, NSLOTS, text) == -1)
		rc = -1;
	if (html && tmpl_doc_fill(d->dhtml, slots, NSLOTS, html) == -1)
		rc = -1;
	tmpl_value_free(attrs);
	return rc;
}

const char *
digest_subject(const struct digest *d)
{
	return d->subject;
}

size_t
digest_article_count(const struct digest *d)
{
	return d->narticles;
}

void
digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	tmpl_doc_free(d->dtext);
	tmpl_doc_free(d->dhtml);
	tmpl_value_free(d->ctext);
	tmpl_value_free(d->chtml);
	tmpl_free(d->ttext);
	tmpl_free(d->thtml);
	loader_free(&d->ltext);
	loader_free(&d->lhtml);
	free(d->subject);
	free(d);
}
