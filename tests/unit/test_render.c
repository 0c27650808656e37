/*
 * The digest renderer end to end: articles in a real SQLite store, the
 * shipped templates, personalisation, escaping, wrapping, template errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "html2text.h"
#include "render.h"
#include "store_digest.h"
#include "store_sqlite.h"
#include "xmalloc.h"

struct fx {
	char		 dir[256];
	struct store	*st;
	struct newsletter_conf nl;
	long long	 source;
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	const char *tmp = getenv("HERALD_TEST_TMP");
	char *path, *err = NULL;
	bool busy = false;

	if (tmp)
		mkdir(tmp, 0700);
	snprintf(f->dir, sizeof(f->dir), "%s/render.XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	path = xasprintf("%s/herald.db", f->dir);
	f->st = store_open(path, &err, &busy);
	free(path);
	if (f->st == NULL)
		fail_msg("store_open: %s", err);
	f->nl.id = "daily";
	f->nl.title = "Rangeinn Daily";
	f->nl.timezone = "Europe/London";
	f->nl.subject = "{{newsletter.title}} #{{issue.number}}: {{first_article.title}}";
	f->nl.max_articles = 20;
	assert_int_equal(store_exec(f->st, "INSERT INTO sources (newsletter, kind, "
	    "location, title) VALUES ('daily', 'folder', '/srv/a', 'Rangeinn')"), STORE_OK);
	f->source = sqlite3_last_insert_rowid(store_db(f->st));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	store_close(f->st);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(cmd);
	free(f);
	return 0;
}

static int64_t
add_article(struct fx *f, const char *guid, const char *title, const char *url,
    const char *author, long long published, const char *summary,
    const char *content, const char *text)
{
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_prepare_v2(store_db(f->st),
	    "INSERT INTO articles (source_id, guid, url, title, author, published,"
	    " summary, content, text, collected) VALUES (?,?,?,?,?,?,?,?,?,?)",
	    -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, f->source);
	sqlite3_bind_text(s, 2, guid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, url, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, published);
	sqlite3_bind_text(s, 7, summary, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, content, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, published);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	return sqlite3_last_insert_rowid(store_db(f->st));
}

static struct digest *
make(struct fx *f, long number)
{
	int64_t *ids = NULL;
	long n = store_pending_articles(f->st, "daily", 20, &ids);
	char *err = NULL;
	struct digest *d;

	assert_true(n > 0);
	d = digest_new(NULL, &f->nl, f->st, ids, (size_t)n, number,
	    1795510800 /* 2026-11-24 07:00 UTC */, &err);
	if (d == NULL)
		fail_msg("digest_new: %s", err);
	free(ids);
	return d;
}

/* text with every run of whitespace made one space (to find wrapped paragraphs) */
static char *
flat(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		if (*s == '\n' || *s == ' ') {
			if (b.len && b.data[b.len - 1] != ' ')
				buf_addc(&b, ' ');
		} else {
			buf_addc(&b, *s);
		}
	}
	return buf_take(&b);
}

static void
check_width(const char *text)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (memmem(p, len, "://", 3) == NULL && memmem(p, len, "@", 1) == NULL &&
		    html2text_width(p, len) > 72)
			fail_msg("line over 72 columns: %.*s", (int)len, p);
		p += len + (nl != NULL);
	}
}

static void
test_example_article(void **state)
{
	struct fx *f = *state;
	const char *shared = getenv("HERALD_SHARED_DIR");
	char *path, line[8192], *title = NULL, *ftext, *fhtml;
	struct buf content = BUF_INIT, text = BUF_INIT, out_t = BUF_INIT, out_h = BUF_INIT;
	char *paras[64];
	size_t np = 0;
	FILE *fp;
	struct digest *d;
	struct recipient r = { "ann@example.org", "Ann", "{}",
	    "https://news.example/u/tok", NULL, NULL };

	assert_non_null(shared);
	path = xasprintf("%s/examples/article.txt", shared);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) && np < 64) {
		line[strcspn(line, "\n")] = '\0';
		if (*line == '\0')
			continue;
		if (title == NULL) {
			title = xstrdup(line);
			continue;
		}
		paras[np++] = xstrdup(line);
		buf_adds(&content, "<p>");
		/* the folder reader escapes the text into HTML */
		for (const char *c = line; *c; c++) {
			if (*c == '&')
				buf_adds(&content, "&amp;");
			else if (*c == '<')
				buf_adds(&content, "&lt;");
			else
				buf_addc(&content, *c);
		}
		buf_adds(&content, "</p>\n");
		if (text.len)
			buf_adds(&text, "\n\n");
		buf_adds(&text, line);
	}
	fclose(fp);
	free(path);
	assert_true(np >= 10);
	add_article(f, "example", title, NULL, NULL, 1795510800, NULL,
	    buf_cstr(&content), buf_cstr(&text));
	d = make(f, 7);
	assert_int_equal(digest_article_count(d), 1);
	assert_int_equal(digest_render(d, &r, &out_t, &out_h), 0);

	/* the subject and both parts carry the title with its curly quotes */
	assert_non_null(strstr(digest_subject(d), "Rangeinn Daily #7: Russia buys \xe2\x80\x98millions\xe2\x80\x99"));
	assert_non_null(strstr(buf_cstr(&out_t), title));
	assert_non_null(strstr(buf_cstr(&out_h), title));
	assert_non_null(strstr(buf_cstr(&out_t), "24 November 2026"));
	/* every paragraph, the author note last */
	ftext = flat(buf_cstr(&out_t));
	fhtml = out_h.data;
	for (size_t i = 0; i < np; i++) {
		char *esc;

		if (strstr(ftext, paras[i]) == NULL)
			fail_msg("text part lacks paragraph %zu: %s", i, paras[i]);
		esc = flat(paras[i]);
		free(esc);
	}
	assert_non_null(strstr(fhtml, "<p>Hey! My name is Mahnoor and I joined Rangeinn as "
	    "the content &amp; News Writer."));
	assert_non_null(strstr(ftext, "Hey! My name is Mahnoor and I joined Rangeinn as "
	    "the content & News Writer."));
	assert_true(strstr(ftext, "Hey! My name") > strstr(ftext, "Why should other"));
	/* the footer, with the reader's own address and unsubscribe link */
	assert_non_null(strstr(ftext, "You receive this because you subscribed to "
	    "Rangeinn Daily with ann@example.org."));
	assert_non_null(strstr(buf_cstr(&out_t), "Unsubscribe: https://news.example/u/tok"));
	assert_non_null(strstr(fhtml, "href=\"https://news.example/u/tok\""));
	assert_non_null(strstr(fhtml, "with ann@example.org."));
	assert_non_null(strstr(fhtml, "Hello Ann,"));
	assert_non_null(strstr(fhtml, "name=\"color-scheme\""));
	check_width(buf_cstr(&out_t));
	free(ftext);
	for (size_t i = 0; i < np; i++)
		free(paras[i]);
	free(title);
	buf_free(&content);
	buf_free(&text);
	buf_free(&out_t);
	buf_free(&out_h);
	digest_free(d);
}

static void
test_escaping(void **state)
{
	struct fx *f = *state;
	struct buf t = BUF_INIT, h = BUF_INIT;
	struct recipient r = { "x@example.org", "<b>Bob</b> & \"Co\"", NULL,
	    "https://u.example/?a=1&b=2", NULL, NULL };
	struct digest *d;

	add_article(f, "esc", "<script>alert('x')</script> & \"quotes\"",
	    "https://example.org/?a=1&b=\"2\"", "O'Brien <o@b>", 1795510800,
	    "<p>Sum</p>", "<p>Body <a href=\"https://l.example/\">link</a></p>", NULL);
	d = make(f, 1);
	assert_int_equal(digest_render(d, &r, &t, &h), 0);
	assert_null(strstr(h.data, "<script>"));
	assert_non_null(strstr(h.data, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"));
	assert_non_null(strstr(h.data, "href=\"https://example.org/?a=1&amp;b=&quot;2&quot;\""));
	assert_non_null(strstr(h.data, "By O&#39;Brien &lt;o@b&gt;"));
	assert_non_null(strstr(h.data, "Hello &lt;b&gt;Bob&lt;/b&gt; &amp; &quot;Co&quot;,"));
	assert_non_null(strstr(h.data, "href=\"https://u.example/?a=1&amp;b=2\""));
	/* sanitised HTML passes through unescaped */
	assert_non_null(strstr(h.data, "<p>Body <a href=\"https://l.example/\">link</a></p>"));
	/* the text part never escapes; links become references */
	assert_non_null(strstr(t.data, "<script>alert('x')</script> & \"quotes\""));
	assert_non_null(strstr(t.data, "Hello <b>Bob</b> & \"Co\","));
	assert_non_null(strstr(t.data, "Body link [1]"));
	assert_non_null(strstr(t.data, "[1] https://l.example/"));
	assert_non_null(strstr(t.data, "By O'Brien <o@b>, 24 November 2026"));
	buf_free(&t);
	buf_free(&h);
	digest_free(d);
}

static void
test_personalised(void **state)
{
	struct fx *f = *state;
	char *tpath = xasprintf("%s/custom.txt.mustache", f->dir);
	FILE *fp = fopen(tpath, "w");
	struct recipient a = { "ann@example.org", "Ann", "{\"city\":\"Oslo\",\"n\":3}",
	    "https://u/a", NULL, NULL };
	struct recipient b = { "bo@example.org", NULL, "{}", "https://u/b", NULL, NULL };
	struct buf t = BUF_INIT;
	struct digest *d;

	assert_non_null(fp);
	fputs("{{#subscriber.name}}Hi {{subscriber.name}}!{{/subscriber.name}}"
	    "{{^subscriber.name}}Hi there!{{/subscriber.name}}\n"
	    "{{#articles}}* {{title}} ({{newsletter.title}})\n{{/articles}}"
	    "city={{subscriber.attributes.city}};"
	    "{{#subscriber.attributes}}n={{n}} {{title}}{{/subscriber.attributes}}\n"
	    "{{subscriber.email}} {{unsubscribe_url}}\n", fp);
	fclose(fp);
	f->nl.template_text = tpath;
	add_article(f, "p1", "First \xc3\xa9t\xc3\xa9 \xf0\x9f\x93\xb0", NULL, NULL, 2, NULL,
	    NULL, "Text.");
	d = make(f, 3);
	assert_int_equal(digest_render(d, &a, &t, NULL), 0);
	assert_string_equal(buf_cstr(&t), "Hi Ann!\n"
	    "* First \xc3\xa9t\xc3\xa9 \xf0\x9f\x93\xb0 (Rangeinn Daily)\n"
	    "city=Oslo;n=3 \n"
	    "ann@example.org https://u/a\n");
	buf_reset(&t);
	assert_int_equal(digest_render(d, &b, &t, NULL), 0);
	assert_string_equal(buf_cstr(&t), "Hi there!\n"
	    "* First \xc3\xa9t\xc3\xa9 \xf0\x9f\x93\xb0 (Rangeinn Daily)\n"
	    "city=;n= \n"
	    "bo@example.org https://u/b\n");
	/* and again: rendering does not change the digest */
	buf_reset(&t);
	assert_int_equal(digest_render(d, &a, &t, NULL), 0);
	assert_non_null(strstr(t.data, "Hi Ann!"));
	assert_null(strstr(t.data, "bo@example.org"));
	f->nl.template_text = NULL;
	buf_free(&t);
	digest_free(d);
	free(tpath);
}

/* The number store_issue_draft gives the next issue of "daily". */
static long
next_number(struct store *st)
{
	struct store_draft d;
	long n;

	assert_int_equal(store_issue_draft(st, "daily", 20, &d), STORE_OK);
	n = d.number;
	store_draft_clear(&d);
	return n;
}

static void
test_pending(void **state)
{
	struct fx *f = *state;
	int64_t a1 = add_article(f, "a1", "old", NULL, NULL, 100, NULL, NULL, "x");
	int64_t a2 = add_article(f, "a2", "new", NULL, NULL, 200, NULL, NULL, "y");
	int64_t *ids = NULL;
	char *sql;

	assert_int_equal(store_pending_articles(f->st, "daily", 20, &ids), 2);
	assert_int_equal(ids[0], a2);		/* newest first */
	assert_int_equal(ids[1], a1);
	free(ids);
	assert_int_equal(store_pending_articles(f->st, "daily", 1, &ids), 1);
	free(ids);
	assert_int_equal(next_number(f->st), 1);
	sql = xasprintf("INSERT INTO issues (newsletter, number, subject, created, state)"
	    " VALUES ('daily', 4, 's', 0, 'done');"
	    "INSERT INTO issue_articles VALUES (last_insert_rowid(), %lld, 0);",
	    (long long)a2);
	assert_int_equal(store_exec(f->st, sql), STORE_OK);
	free(sql);
	assert_int_equal(store_pending_articles(f->st, "daily", 20, &ids), 1);
	assert_int_equal(ids[0], a1);
	free(ids);
	assert_int_equal(store_pending_articles(f->st, "other", 20, &ids), 0);
	free(ids);
	assert_int_equal(next_number(f->st), 5);
}

static void
test_template_errors(void **state)
{
	struct fx *f = *state;
	char *tpath = xasprintf("%s/bad.html.mustache", f->dir);
	FILE *fp = fopen(tpath, "w");
	char *err = NULL, *want;
	struct diags dg = { NULL, 0, 0 };

	assert_non_null(fp);
	fputs("<p>\n  {{#articles}}\n  {{title}}\n{{/article}}\n", fp);
	fclose(fp);
	f->nl.template_html = tpath;
	assert_int_equal(digest_check_part(&f->nl, 1, &err), -1);
	want = xasprintf("%s:4:1: mismatched closing tag", tpath);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got %s", err);
	free(err);
	free(want);
	assert_int_equal(render_check_templates(NULL, &f->nl, &dg), -1);
	assert_int_equal(dg.n, 1);
	assert_string_equal(dg.v[0].file, tpath);
	assert_int_equal(dg.v[0].line, 4);
	assert_int_equal(dg.v[0].col, 1);
	free(dg.v[0].file);
	free(dg.v[0].msg);
	free(dg.v);

	fp = fopen(tpath, "w");
	fputs("ok {{> nosuch}}\n", fp);
	fclose(fp);
	assert_int_equal(digest_check_part(&f->nl, 1, &err), -1);
	assert_non_null(strstr(err, ":1:4: missing partial 'nosuch'"));
	free(err);
	f->nl.template_html = NULL;
	f->nl.subject = "{{#x}} unclosed";
	assert_int_equal(digest_check_part(&f->nl, 2, &err), -1);
	assert_non_null(strstr(err, "1:1: unclosed section 'x'"));
	free(err);
	/* the shipped templates compile */
	assert_int_equal(digest_check_part(&f->nl, 0, &err), 0);
	assert_int_equal(digest_check_part(&f->nl, 1, &err), 0);
	free(tpath);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_example_article, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_personalised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
