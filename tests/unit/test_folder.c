/*
 * The folder article reader: .txt and .md files into a one-entry feed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "feed.h"
#include "folder.h"
#include "xmalloc.h"

static struct feed *
parse(const char *name, const char *text, char **err)
{
	*err = NULL;
	return folder_parse(name, text, strlen(text), 1000, err);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
test_example_article(void **state)
{
	const char *shared = getenv("HERALD_SHARED_DIR");
	char *path, *err = NULL, *last;
	struct feed *f;
	struct entry *e;

	(void)state;
	assert_non_null(shared);
	path = xasprintf("%s/examples/article.txt", shared);
	f = folder_read(path, &err);
	free(path);
	assert_null(err);
	assert_non_null(f);
	assert_int_equal(f->kind, FEED_FOLDER);
	assert_int_equal(f->nentries, 1);
	e = &f->entries[0];
	/* The curly quotes come out byte for byte. */
	assert_string_equal(e->title, "Russia buys \xe2\x80\x98millions\xe2\x80\x99"
	    " of rockets and shells from North Korea");
	assert_string_equal(e->guid, "file:article.txt");
	assert_true(e->has_published);
	/* No blank line in the body: one paragraph per line, 13 of them. */
	assert_int_equal(count(e->text, "\n\n"), 12);
	assert_int_equal(count(e->content, "<p>"), 13);
	assert_true(strncmp(e->text, "Russia is purchasing millions", 29) == 0);
	last = strrchr(e->text, '\n');
	assert_non_null(last);
	assert_true(strncmp(last + 1, "Hey! My name is Mahnoor", 23) == 0);
	assert_non_null(strstr(e->content, "<p>Hey! My name is Mahnoor"));
	/* Curly quotes in the body are kept as they are. */
	assert_non_null(strstr(e->text, "\xe2\x80\x9cThis purchase"));
	feed_free(f);
}

static void
test_txt_paragraphs(void **state)
{
	char *err;
	struct feed *f;

	(void)state;
	f = parse("note.txt", "\n\n  A <title> & more  \r\n\r\nFirst line\r\n"
	    "second line\r\n\r\n\r\nPara two\nends here\n\n", &err);
	assert_non_null(f);
	assert_string_equal(f->entries[0].title, "A <title> & more");
	assert_string_equal(f->entries[0].text,
	    "First line second line\n\nPara two ends here");
	assert_string_equal(f->entries[0].content,
	    "<p>First line second line</p>\n<p>Para two ends here</p>\n");
	assert_string_equal(f->entries[0].guid, "file:note.txt");
	assert_int_equal(f->entries[0].published, 1000);	/* mtime */
	assert_null(f->entries[0].url);
	feed_free(f);

	/* Blank line only after the title: one paragraph per line. */
	f = parse("b.txt", "T\n\none <b>\ntwo & three\n", &err);
	assert_non_null(f);
	assert_string_equal(f->entries[0].text, "one <b>\n\ntwo & three");
	assert_string_equal(f->entries[0].content,
	    "<p>one &lt;b&gt;</p>\n<p>two &amp; three</p>\n");
	feed_free(f);

	/* Only a title. */
	f = parse("c.txt", "\xef\xbb\xbfJust a title\n", &err);
	assert_non_null(f);
	assert_string_equal(f->entries[0].title, "Just a title");
	assert_null(f->entries[0].text);
	feed_free(f);
}

static void
test_txt_errors(void **state)
{
	char *err = NULL;
	struct feed *f;

	(void)state;
	f = parse("bad.txt", "Title\nok\nbad \xff here\n", &err);
	assert_null(f);
	assert_non_null(strstr(err, "UTF-8"));
	assert_non_null(strstr(err, "line 3"));
	free(err);
	f = folder_parse("nul.txt", "Ti\0tle\n", 7, 0, &err);
	assert_null(f);
	assert_non_null(strstr(err, "NUL"));
	free(err);
	f = parse("empty.txt", " \n\t\n", &err);
	assert_null(f);
	assert_non_null(strstr(err, "title"));
	free(err);
	/* Overlong encodings and surrogates are not UTF-8 either. */
	f = parse("o.txt", "T\n\xc0\xaf\n", &err);
	assert_null(f);
	free(err);
	f = parse("s.txt", "T\n\xed\xa0\x80\n", &err);
	assert_null(f);
	free(err);
}

static void
test_md_front_matter(void **state)
{
	char *err = NULL;
	struct feed *f;
	struct entry *e;

	(void)state;
	f = parse("post.md",
	    "---\n"
	    "title: \"Front \xe2\x80\x98matter\xe2\x80\x99\"\n"
	    "date: 2026-11-24T07:00:00+01:00\n"
	    "author: Mahnoor\n"
	    "url: https://example.org/post\n"
	    "summary: Short & sweet\n"
	    "tags: [a, b]\n"
	    "---\n"
	    "Hello *world*, \"quotes\" -- kept.\n"
	    "\n"
	    "<script>alert(1)</script>\n"
	    "\n"
	    "<div onclick=\"x()\">raw</div>\n"
	    "\n"
	    "[link](javascript:alert(1)) and [ok](https://example.org/)\n",
	    &err);
	assert_null(err);
	assert_non_null(f);
	e = &f->entries[0];
	assert_string_equal(e->title, "Front \xe2\x80\x98matter\xe2\x80\x99");
	assert_string_equal(e->author, "Mahnoor");
	assert_string_equal(e->url, "https://example.org/post");
	assert_string_equal(e->summary, "Short &amp; sweet");
	assert_true(e->has_published);
	assert_int_equal(e->published, 1795500000);	/* 06:00Z */
	assert_null(e->text);
	assert_non_null(strstr(e->content, "<em>world</em>"));
	/* The author's characters stay: no smart punctuation. */
	assert_non_null(strstr(e->content, "-- kept."));
	assert_null(strstr(e->content, "<script"));
	assert_null(strstr(e->content, "alert(1)</"));
	assert_null(strstr(e->content, "onclick"));
	assert_null(strstr(e->content, "javascript:"));
	assert_non_null(strstr(e->content, "https://example.org/"));
	feed_free(f);
}

static void
test_md_titles_and_dates(void **state)
{
	char *err = NULL;
	struct feed *f;

	(void)state;
	f = parse("h.md", "\n# The *heading* #\n\nBody text.\n", &err);
	assert_non_null(f);
	assert_string_equal(f->entries[0].title, "The *heading*");
	assert_null(strstr(f->entries[0].content, "heading"));
	assert_non_null(strstr(f->entries[0].content, "Body text."));
	assert_int_equal(f->entries[0].published, 1000);
	feed_free(f);

	f = parse("s.md", "Setext title\n============\nBody\n", &err);
	assert_non_null(f);
	assert_string_equal(f->entries[0].title, "Setext title");
	assert_null(strstr(f->entries[0].content, "==="));
	feed_free(f);

	f = parse("d.md", "---\ndate: 2026-11-24\n---\n# C#\n", &err);
	assert_non_null(f);
	assert_string_equal(f->entries[0].title, "C#");
	assert_int_equal(f->entries[0].published, 1795478400);
	assert_null(f->entries[0].content);
	feed_free(f);

	f = parse("bad.md", "---\ntitle: x\ndate: yesterday\n---\nbody\n", &err);
	assert_null(f);
	assert_non_null(strstr(err, "date"));
	assert_non_null(strstr(err, "line 3"));
	free(err);

	f = parse("bad2.md", "---\ntitle: [unclosed\n---\nbody\n", &err);
	assert_null(f);
	assert_non_null(strstr(err, "front matter"));
	free(err);

	f = parse("bad3.md", "---\nurl: javascript:alert(1)\n---\nT\n", &err);
	assert_null(f);
	assert_non_null(strstr(err, "url"));
	free(err);

	/* Unclosed front matter: an error, not the title "---". */
	f = parse("open.md", "---\ntitle: Open\nBody\n", &err);
	assert_null(f);
	assert_non_null(strstr(err, "not closed"));
	free(err);

	/* "key:" with no value is the same as leaving the key out. */
	f = parse("e.md", "---\ntitle:\ndate:\nauthor: ~\nurl:\n---\n"
	    "# First line\nbody\n", &err);
	assert_null(err);
	assert_non_null(f);
	assert_string_equal(f->entries[0].title, "First line");
	assert_int_equal(f->entries[0].published, 1000);
	assert_null(f->entries[0].author);
	assert_null(f->entries[0].url);
	feed_free(f);
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(folder_name_wanted("a.txt"));
	assert_true(folder_name_wanted("b.md"));
	assert_true(folder_name_wanted("C.TXT"));
	assert_false(folder_name_wanted(".hidden.txt"));
	assert_false(folder_name_wanted(".#lock.txt"));
	assert_false(folder_name_wanted("#autosave.txt#"));
	assert_false(folder_name_wanted("backup.txt~"));
	assert_false(folder_name_wanted("x.txt.tmp"));
	assert_false(folder_name_wanted("x.txt.part"));
	assert_false(folder_name_wanted(".x.txt.swp"));
	assert_false(folder_name_wanted("x.html"));
	assert_false(folder_name_wanted(".txt"));
	assert_false(folder_name_wanted("txt"));
}

static void
put(const char *dir, const char *name, const char *data, size_t n)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	free(p);
}

static void
test_list_and_read(void **state)
{
	const char *tmp = getenv("HERALD_TEST_TMP");
	char dir[512], **names = NULL, *err = NULL, *p, *big;
	const char *files[] = { "a.txt", "b.md", ".hidden.txt", "c.txt~",
	    "#d.txt#", "e.txt.tmp", ".f.md.swp", "g.part", "h.TXT", "i.html" };
	size_t n, i;
	struct feed *f;

	(void)state;
	mkdir(tmp ? tmp : "/tmp", 0700);
	snprintf(dir, sizeof(dir), "%s/folder.XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(dir, files[i], "Title\nbody\n", 11);
	/* An empty file is one still being created: not listed yet. */
	put(dir, "new.txt", "", 0);
	p = xasprintf("%s/sub.txt", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_null(folder_read(p, &err));	/* a directory */
	free(err);
	assert_int_equal(rmdir(p), 0);
	free(p);
	p = xasprintf("%s/sub.txt", dir);
	mkdir(p, 0700);
	free(p);
	assert_int_equal(folder_list(dir, &names, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "a.txt");
	assert_string_equal(names[1], "b.md");
	assert_string_equal(names[2], "h.TXT");
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);

	/* Larger than the cap: refused without reading it all. */
	big = xmalloc(FOLDER_MAX_FILE + 10);
	memset(big, 'x', FOLDER_MAX_FILE + 10);
	put(dir, "big.txt", big, FOLDER_MAX_FILE + 10);
	free(big);
	p = xasprintf("%s/big.txt", dir);
	f = folder_read(p, &err);
	assert_null(f);
	assert_non_null(strstr(err, "limit"));
	free(err);
	unlink(p);
	free(p);

	p = xasprintf("%s/missing.txt", dir);
	assert_null(folder_read(p, &err));
	assert_non_null(strstr(err, "No such file"));
	free(err);
	free(p);

	assert_int_equal(folder_list("/nonexistent/dir", &names, &n, &err), -1);
	free(err);

	/* Clean up. */
	p = xasprintf("%s/new.txt", dir);
	unlink(p);
	free(p);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	p = xasprintf("%s/sub.txt", dir);
	rmdir(p);
	free(p);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_article),
		cmocka_unit_test(test_txt_paragraphs),
		cmocka_unit_test(test_txt_errors),
		cmocka_unit_test(test_md_front_matter),
		cmocka_unit_test(test_md_titles_and_dates),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_list_and_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
