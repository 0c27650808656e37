/*
 * folder: reading article files (see folder.h).
 */
#include "folder.h"

#include <cmark.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "date.h"
#include "html.h"
#include "sanitize.h"
#include "util.h"
#include "xmalloc.h"

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && ascii_casecmp(s + n - k, suffix) == 0;
}

bool
folder_name_wanted(const char *name)
{
	if (name[0] == '.' || name[0] == '#' || name[0] == '~')
		return false;
	return has_suffix(name, ".txt") || has_suffix(name, ".md");
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* Trims blanks (and a stray CR) on both sides of p[0..*n); returns start. */
static const char *
trim(const char *p, size_t *n)
{
	while (*n > 0 && (blank(*p) || *p == '\r')) {
		p++;
		(*n)--;
	}
	while (*n > 0 && (blank(p[*n - 1]) || p[*n - 1] == '\r'))
		(*n)--;
	return p;
}

static char *
normalize(const char *data, size_t len, size_t *outlen, char **err)
{
	struct buf b;
	size_t i;

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	if (memchr(data, '\0', len) != NULL) {
		*err = xasprintf("contains a NUL byte at offset %zu (binary "
		    "file?)", (size_t)((const char *)memchr(data, '\0', len) -
		    data));
		return NULL;
	}
	if (!utf8_valid(data, len)) {
		const char *p = data, *end = data + len, *nl;
		size_t line = 1;

		/* A sequence never spans a LF, so the first bad line is exact. */
		for (; p < end; p = nl + 1, line++) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL)
				nl = end;
			if (!utf8_valid(p, (size_t)(nl - p)))
				break;
		}
		*err = xasprintf("not valid UTF-8 (line %zu); save the file as "
		    "UTF-8", line);
		return NULL;
	}
	buf_init(&b, 0);
	buf_grow(&b, len + 1);
	for (i = 0; i < len; i++) {
		if (data[i] == '\r') {
			buf_addc(&b, '\n');
			if (i + 1 < len && data[i + 1] == '\n')
				i++;
		} else
			buf_addc(&b, data[i]);
	}
	*outlen = b.len;
	return buf_take(&b);
}

/* The next line of s[*pos..len): start and length without the LF. */
static bool
next_line(const char *s, size_t len, size_t *pos, const char **line,
    size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return false;
	*line = s + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*n = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + (nl ? 1 : 0);
	return true;
}

static bool
line_blank(const char *p, size_t n)
{
	trim(p, &n);
	return n == 0;
}

static struct feed *
feed_one(const char *name)
{
	struct feed *f = xcalloc(1, sizeof(*f));

	f->kind = FEED_FOLDER;
	f->entries = xcalloc(1, sizeof(*f->entries));
	f->nentries = 1;
	f->entries[0].guid = xasprintf("file:%s", name);
	return f;
}

/* Adds the paragraph p to text (blank-line separated) and html. */
static void
add_para(struct buf *text, struct buf *html, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (text->len)
		buf_adds(text, "\n\n");
	buf_add(text, p, n);
	buf_adds(html, "<p>");
	html_escape(html, p, n, HTML_ESC_ALL);
	buf_adds(html, "</p>\n");
}

static int
parse_txt(struct entry *e, const char *s, size_t len, char **err)
{
	struct buf text, html, para;
	const char *line;
	size_t pos = 0, n, body, scan;
	bool has_blank = false, seen = false, gap = false;

	/* Title: the first non-empty line. */
	while (next_line(s, len, &pos, &line, &n)) {
		line = trim(line, &n);
		if (n > 0) {
			e->title = xstrndup(line, n);
			break;
		}
	}
	if (e->title == NULL) {
		*err = xstrdup(len ? "no title: the file has only blank "
		    "lines" : "no title: the file is empty");
		return -1;
	}
	/* Does the body have a blank line between two non-blank ones? */
	body = scan = pos;
	while (!has_blank && next_line(s, len, &scan, &line, &n)) {
		if (line_blank(line, n))
			gap = seen;
		else {
			if (gap)
				has_blank = true;
			seen = true;
		}
	}
	buf_init(&text, 0);
	buf_init(&html, 0);
	buf_init(&para, 0);
	pos = body;
	while (next_line(s, len, &pos, &line, &n)) {
		line = trim(line, &n);
		if (n == 0 || !has_blank) {
			add_para(&text, &html, para.data, para.len);
			buf_reset(&para);
			if (n == 0)
				continue;
		}
		if (para.len)
			buf_addc(&para, ' ');
		buf_add(&para, line, n);
	}
	add_para(&text, &html, para.data, para.len);
	buf_free(&para);
	if (text.len) {
		e->text = buf_take(&text);
		e->content = buf_take(&html);
	}
	buf_free(&text);
	buf_free(&html);
	return 0;
}

static int
parse_front(struct entry *e, const char *s, size_t n, int line0, char **err)
{
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *pair;
	int rc = -1;

	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)s, n);
	if (!yaml_parser_load(&p, &doc)) {
		*err = xasprintf("front matter line %d: %s",
		    (int)p.problem_mark.line + line0,
		    p.problem ? p.problem : "not valid YAML");
		yaml_parser_delete(&p);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		rc = 0;		/* empty front matter */
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		*err = xasprintf("front matter line %d: expected keys such as "
		    "\"title: ...\"", (int)root->start_mark.line + line0);
		goto out;
	}
	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pair->value);
		const char *key, *val;
		char **slot = NULL;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			continue;
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "title") == 0)
			slot = &e->title;
		else if (strcmp(key, "author") == 0)
			slot = &e->author;
		else if (strcmp(key, "url") == 0)
			slot = &e->url;
		else if (strcmp(key, "summary") == 0)
			slot = &e->summary;
		else if (strcmp(key, "date") != 0)
			continue;	/* tags, draft, ...: not ours */
		if (v->type != YAML_SCALAR_NODE) {
			*err = xasprintf("front matter line %d: %s: expected "
			    "a single value", (int)v->start_mark.line + line0,
			    key);
			goto out;
		}
		val = (const char *)v->data.scalar.value;
		/* "date:" or "date: ~" is the same as leaving it out. */
		if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (*val == '\0' || strcmp(val, "~") == 0 ||
		    strcmp(val, "null") == 0))
			continue;
		if (slot == NULL) {
			if (date_parse_rfc3339(val, &e->published) == -1) {
				*err = xasprintf("front matter line %d: date: "
				    "\"%s\" is not RFC 3339 "
				    "(2026-11-24T07:00:00Z) or YYYY-MM-DD",
				    (int)v->start_mark.line + line0, val);
				goto out;
			}
			e->has_published = true;
			continue;
		}
		if (slot == &e->url && ascii_ncasecmp(val, "http://", 7) != 0 &&
		    ascii_ncasecmp(val, "https://", 8) != 0) {
			*err = xasprintf("front matter line %d: url: \"%s\" is "
			    "not an http or https URL",
			    (int)v->start_mark.line + line0, val);
			goto out;
		}
		free(*slot);
		if (slot == &e->summary) {
			struct buf b;

			buf_init(&b, 0);
			html_escape_str(&b, val, HTML_ESC_ALL);
			*slot = buf_take(&b);
		} else
			*slot = xstrdup(val);
	}
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return rc;
}

static bool
fence_line(const char *p, size_t n, bool closing)
{
	p = trim(p, &n);
	return (n == 3 && memcmp(p, "---", 3) == 0) ||
	    (closing && n == 3 && memcmp(p, "...", 3) == 0);
}

/* "## Title ##" -> "Title"; returns false when the line is no ATX heading. */
static bool
atx_heading(const char *p, size_t n, const char **t, size_t *tn)
{
	size_t h = 0;

	while (h < n && p[h] == '#')
		h++;
	if (h == 0 || h > 6 || (h < n && !blank(p[h])))
		return false;
	p += h;
	n -= h;
	p = trim(p, &n);
	/* A closing run of '#' counts only after a blank ("C#" stays). */
	h = n;
	while (h > 0 && p[h - 1] == '#')
		h--;
	if (h == 0 || blank(p[h - 1]))
		n = h;
	*t = trim(p, &n);
	*tn = n;
	return true;
}

static bool
setext_line(const char *p, size_t n)
{
	size_t i;

	p = trim(p, &n);
	if (n == 0 || (p[0] != '=' && p[0] != '-'))
		return false;
	for (i = 0; i < n; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

static int
parse_md(struct feed *f, const char *s, size_t len, char **err)
{
	struct entry *e = &f->entries[0];
	struct sanitize_ctx *sc;
	char *first;
	bool image;
	size_t dropped;
	const char *line, *body = s, *t;
	size_t pos = 0, n, tn, bodylen = len, after;
	char *html, *clean;

	/* Front matter: "---" on the first line, up to "---" or "...". */
	if (next_line(s, len, &pos, &line, &n) && fence_line(line, n, false)) {
		size_t start = pos;
		bool closed = false;

		while (!closed && next_line(s, len, &pos, &line, &n)) {
			if (!fence_line(line, n, true))
				continue;
			if (parse_front(e, s + start, (size_t)(line - s) - start,
			    2, err) == -1)
				return -1;
			body = s + pos;
			bodylen = len - pos;
			closed = true;
		}
		/* Else the title would be "---" and the keys the body. */
		if (!closed) {
			*err = xstrdup("front matter opened with --- on line 1 "
			    "is not closed (end it with a --- line)");
			return -1;
		}
	}
	/* No title in front matter: the first non-empty line is the title. */
	if (e->title == NULL || *e->title == '\0') {
		free(e->title);
		e->title = NULL;
		pos = 0;
		while (next_line(body, bodylen, &pos, &line, &n)) {
			line = trim(line, &n);
			if (n == 0)
				continue;
			after = pos;
			if (atx_heading(line, n, &t, &tn))
				e->title = xstrndup(t, tn);
			else {
				const char *l2;
				size_t n2;

				e->title = xstrndup(line, n);
				if (next_line(body, bodylen, &after, &l2, &n2) &&
				    setext_line(l2, n2))
					pos = after;
			}
			body += pos;
			bodylen -= pos;
			break;
		}
		if (e->title == NULL || *e->title == '\0') {
			*err = xstrdup("no title: give one in front matter "
			    "(title: ...) or on the first line");
			return -1;
		}
	}
	html = cmark_markdown_to_html(body, bodylen, CMARK_OPT_DEFAULT);
	sc = sanitize_ctx_new();
	clean = sanitize_html_in(sc, html, strlen(html), e->url);
	dropped = sanitize_ctx_dropped(sc, &first, &image);
	feed_warn_dropped(f, "content", dropped, first, image);
	sanitize_ctx_free(sc);
	free(html);
	n = strlen(clean);
	trim(clean, &n);
	if (n == 0)
		free(clean);
	else
		e->content = clean;
	return 0;
}

struct feed *
folder_parse(const char *name, const char *data, size_t len, time_t mtime,
    char **err)
{
	struct feed *f;
	char *text;
	size_t n = 0;
	int rc;

	*err = NULL;
	if (len > FOLDER_MAX_FILE) {
		*err = xasprintf("larger than the %u MB limit for an article",
		    FOLDER_MAX_FILE >> 20);
		return NULL;
	}
	if ((text = normalize(data, len, &n, err)) == NULL)
		return NULL;
	f = feed_one(name);
	if (has_suffix(name, ".md"))
		rc = parse_md(f, text, n, err);
	else
		rc = parse_txt(&f->entries[0], text, n, err);
	free(text);
	if (rc == -1) {
		feed_free(f);
		return NULL;
	}
	if (!f->entries[0].has_published) {
		f->entries[0].published = mtime;
		f->entries[0].has_published = true;
	}
	return f;
}

struct feed *
folder_read(const char *path, char **err)
{
	struct feed *f = NULL;
	struct buf b = BUF_INIT;
	struct stat sb;
	const char *name;
	const char *data = NULL;
	size_t got = 0;
	int fd;

	*err = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*err = xstrdup(strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		*err = xstrdup(S_ISDIR(sb.st_mode) ? "is a directory" :
		    "not a regular file");
		goto out;
	}
	if ((unsigned long long)sb.st_size > FOLDER_MAX_FILE) {
		*err = xasprintf("%lld bytes: larger than the %u MB limit for "
		    "an article", (long long)sb.st_size, FOLDER_MAX_FILE >> 20);
		goto out;
	}
	/* One byte more than the limit tells a file that grew meanwhile. */
	buf_init(&b, FOLDER_MAX_FILE + 1);
	if (buf_read_fd(&b, fd) == -1) {
		*err = xstrdup(strerror(errno));
		goto out;
	}
	data = b.data ? b.data : "";
	got = b.len;
	name = strrchr(path, '/');
	name = name ? name + 1 : path;
	f = folder_parse(name, data, got, sb.st_mtime, err);
out:
	buf_free(&b);
	close(fd);
	return f;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
folder_list(const char *dir, char ***names, size_t *n, char **err)
{
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0, len = 0;
	DIR *d;

	*names = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		*err = xasprintf("cannot read the folder: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (!folder_name_wanted(de->d_name))
			continue;
		/* An empty file is one still being created: not yet. */
		if (fstatat(dirfd(d), de->d_name, &sb, 0) == -1 ||
		    !S_ISREG(sb.st_mode) || sb.st_size == 0)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[len++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (len)
		qsort(v, len, sizeof(*v), cmp_names);
	*names = v;
	*n = len;
	return 0;
}
