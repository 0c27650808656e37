#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "buf.h"
#include "feed.h"
#include "util.h"

#define BASE	"https://base.example/dir/feed.xml"

static char *
slurp(const char *name, size_t *len)
{
	const char *src = getenv("HERALD_SOURCE_DIR");
	char path[1024];
	FILE *f;
	char *p;
	long n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/feeds/%s",
	    src != NULL ? src : "../..", name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static struct feed *
parse(const char *name, const char *charset)
{
	size_t len;
	char *data = slurp(name, &len), *err = NULL;
	struct feed *f = feed_parse(data, len, BASE, charset, &err);

	free(data);
	if (f == NULL)
		fail_msg("%s: %s", name, err);
	assert_null(err);
	return f;
}

static char *
parse_error(const char *name)
{
	size_t len;
	char *data = slurp(name, &len), *err = NULL;
	struct feed *f = feed_parse(data, len, BASE, NULL, &err);

	free(data);
	if (f != NULL)
		fail_msg("%s parsed as a feed", name);
	assert_non_null(err);
	return err;
}

static void
assert_time(bool has, time_t t, const char *want)
{
	char s[21];

	if (want == NULL) {
		assert_false(has);
		return;
	}
	assert_true(has);
	time_rfc3339(t, s);
	assert_string_equal(s, want);
}

static void
test_rss2(void **state)
{
	struct feed *f = parse("rss2.xml", NULL);
	struct entry *e;

	(void)state;
	assert_int_equal(f->kind, FEED_RSS);
	assert_string_equal(f->title, "Rangeinn Daily");	/* whitespace collapsed */
	assert_string_equal(f->link, "https://rangeinn.example/");	/* not atom:link self */
	assert_int_equal(f->nentries, 3);
	e = &f->entries[0];
	assert_string_equal(e->title, "First & foremost");
	assert_string_equal(e->url, "https://rangeinn.example/posts/1");
	assert_string_equal(e->guid, "post-1@rangeinn");
	assert_time(e->has_published, e->published, "2026-11-24T07:00:00Z");
	assert_time(e->has_updated, e->updated, NULL);
	assert_string_equal(e->author, "Ed Itor");
	/* CDATA description: HTML, relative href resolved against the document */
	assert_string_equal(e->summary, "<p>Short <b>summary</b> with "
	    "<a href=\"https://base.example/about\">a relative link</a>.</p>");
	/* content:encoded: relative img src resolved, onerror gone */
	assert_string_equal(e->content, "<p>Full text.</p>"
	    "<img src=\"https://base.example/img/a.png\" alt=\"A\">"
	    "<img src=\"https://cdn.example/b.png\" alt=\"B\" width=\"10\">");
	e = &f->entries[1];
	assert_string_equal(e->url, "https://base.example/dir/posts/2");
	assert_string_equal(e->guid, e->url);		/* no guid: the link */
	assert_string_equal(e->author, "Jane Doe");	/* dc:creator */
	assert_time(e->has_published, e->published, "2026-11-25T07:30:00Z");
	/* escaped HTML with an escaped entity inside: &amp;eacute; → é */
	assert_string_equal(e->summary, "Plain <i>escaped</i> HTML été");
	assert_null(e->content);
	e = &f->entries[2];
	/* guid isPermaLink (default true) serves as the link */
	assert_string_equal(e->url, "https://rangeinn.example/posts/3");
	assert_time(e->has_published, e->published, "2026-11-26T15:00:00Z");
	assert_null(e->summary);
	feed_free(f);
}

static void
test_rss091_entities(void **state)
{
	struct feed *f = parse("rss091.xml", NULL);

	(void)state;
	assert_int_equal(f->kind, FEED_RSS);
	assert_string_equal(f->title, "Old School");	/* &nbsp; without a DTD */
	assert_int_equal(f->nentries, 1);
	assert_string_equal(f->entries[0].title, "Café — opening");
	assert_string_equal(f->entries[0].url, "http://old.example/cafe?a=1&b=2");
	assert_string_equal(f->entries[0].summary, "Come &amp; see © 1999…");
	feed_free(f);
}

static void
test_undeclared_entities(void **state)
{
	struct feed *f = parse("undeclared.xml", NULL);

	(void)state;
	assert_string_equal(f->title, "Entities & friends");
	assert_int_equal(f->nentries, 2);	/* nothing lost after the bad one */
	assert_string_equal(f->entries[0].title,
	    "Café — “quoted” &unknownentity; “num”");
	assert_string_equal(f->entries[0].url, "https://ent.example/?a=1&b=2&c=3");
	assert_string_equal(f->entries[0].summary, "AT&amp;T &lt; 3 and 1 &lt; 2 ©");
	assert_string_equal(f->entries[1].title, "Still here");
	feed_free(f);
}

static void
test_rdf(void **state)
{
	struct feed *f = parse("rdf.xml", NULL);
	struct entry *e;

	(void)state;
	assert_int_equal(f->kind, FEED_RDF);
	assert_string_equal(f->title, "RDF Site");
	assert_string_equal(f->link, "https://rdf.example/");
	assert_int_equal(f->nentries, 2);
	e = &f->entries[0];
	assert_string_equal(e->title, "RDF item A");
	assert_string_equal(e->guid, "https://rdf.example/a");	/* rdf:about */
	assert_string_equal(e->author, "Ada Lovelace");
	/* dc:date: published (herald) and updated (as feedparser) */
	assert_time(e->has_published, e->published, "2026-11-20T08:15:30Z");
	assert_time(e->has_updated, e->updated, "2026-11-20T08:15:30Z");
	assert_string_equal(e->summary, "Item <em>A</em>");
	assert_string_equal(e->content, "<p>Body of A</p>");
	assert_time(f->entries[1].has_published, f->entries[1].published,
	    "2026-11-21T00:00:00Z");
	feed_free(f);
}

static void
test_atom(void **state)
{
	struct feed *f = parse("atom.xml", NULL);
	struct entry *e;

	(void)state;
	assert_int_equal(f->kind, FEED_ATOM);
	assert_string_equal(f->title, "Atom Blog");	/* type="html" title */
	assert_string_equal(f->link, "https://atom.example/blog/");	/* xml:base */
	assert_int_equal(f->nentries, 3);
	e = &f->entries[0];
	/* nested xml:base; rel=alternate type=text/html preferred over the pdf */
	assert_string_equal(e->url, "https://atom.example/blog/2026/one.html");
	assert_string_equal(e->guid, "tag:atom.example,2026:1");
	assert_time(e->has_published, e->published, "2026-11-23T09:00:00Z");
	assert_time(e->has_updated, e->updated, "2026-11-24T07:00:00Z");
	assert_string_equal(e->author, "Grace Hopper");
	assert_string_equal(e->summary, "Less &lt; more &amp; text");	/* type text */
	/* xhtml: the div's children, xml:base="/assets/" on <content>, no script */
	assert_string_equal(e->content, "<p>XHTML <a href=\"https://atom.example/assets/x.html\">"
	    "link</a> and <img src=\"https://img.example/p.png\" alt=\"p\"><br></p>");
	e = &f->entries[1];
	assert_string_equal(e->title, "An XHTML title");
	assert_string_equal(e->url, "https://atom.example/blog/two");	/* no rel */
	assert_string_equal(e->guid, e->url);
	assert_time(e->has_published, e->published, NULL);	/* only updated */
	assert_time(e->has_updated, e->updated, "2026-11-22T11:00:00Z");
	assert_string_equal(e->content, "<p>HTML bad content</p>");
	e = &f->entries[2];
	assert_null(e->url);
	assert_string_equal(e->content, "1 &lt; 2 &amp; 3 &gt; 2");	/* text escaped */
	feed_free(f);
}

static void
test_atom03(void **state)
{
	struct feed *f = parse("atom03.xml", NULL);
	struct entry *e = &f->entries[0];

	(void)state;
	assert_int_equal(f->kind, FEED_ATOM);
	assert_string_equal(f->link, "http://a03.example/");
	assert_int_equal(f->nentries, 1);
	assert_string_equal(e->url, "http://a03.example/1");
	assert_time(e->has_published, e->published, "2003-12-13T12:29:29Z");	/* issued */
	assert_time(e->has_updated, e->updated, "2003-12-13T18:30:02Z");	/* modified */
	assert_string_equal(e->author, "Mark");
	assert_string_equal(e->content, "<p>Escaped <b>HTML</b></p>");	/* mode=escaped */
	feed_free(f);
}

static void
test_charsets(void **state)
{
	struct feed *f;

	(void)state;
	/* ISO-8859-1 declared, 0x80-0x9F read as Windows-1252 */
	f = parse("latin1.xml", NULL);
	assert_string_equal(f->title, "Café Latin");
	assert_string_equal(f->entries[0].title, "“Quoted” € price – naïve");
	assert_string_equal(f->entries[0].summary, "Résumé …");
	feed_free(f);
	f = parse("cp1252.xml", NULL);
	assert_string_equal(f->entries[0].title, "“Smart” — €5 ’tis");
	feed_free(f);
	f = parse("utf16le_bom.xml", NULL);
	assert_string_equal(f->title, "UTF-16 über");
	assert_string_equal(f->entries[0].title, "日本語 ☃");
	feed_free(f);
	f = parse("utf16be_bom.xml", NULL);
	assert_string_equal(f->entries[0].title, "日本語 ☃");
	feed_free(f);
	/* declared UTF-8 with stray Latin-1 bytes: valid UTF-8 kept */
	f = parse("mixed_utf8.xml", NULL);
	assert_string_equal(f->entries[0].title, "café naïve");
	feed_free(f);
	/* the HTTP charset overrides the declaration */
	f = parse("charset_http.xml", "ISO-8859-1");
	assert_string_equal(f->title, "Café HTTP");
	assert_string_equal(f->entries[0].title, "¿Qué?");
	feed_free(f);
	/* ...and a BOM overrides the HTTP charset */
	f = parse("utf16le_bom.xml", "iso-8859-1");
	assert_string_equal(f->entries[0].title, "日本語 ☃");
	feed_free(f);
}

static void
test_inline_charsets(void **state)
{
	static const char koi8[] = "<?xml version=\"1.0\" encoding=\"KOI8-R\"?>"
	    "<rss><channel><title>\xf0\xd2\xc9\xd7\xc5\xd4</title></channel></rss>";
	static const char bom8[] = "\xef\xbb\xbf<rss><channel><title>BOM \xc3\xa9</title></channel></rss>";
	static const char ctl[] = "<rss><channel><title>a\x01\x0b" "b\x1f</title>"
	    "<item><title>ok</title></item></channel></rss>";
	char *err = NULL;
	struct feed *f;

	(void)state;
	f = feed_parse(koi8, sizeof(koi8) - 1, NULL, NULL, &err);
	assert_non_null(f);
	assert_string_equal(f->title, "Привет");
	feed_free(f);
	f = feed_parse(bom8, sizeof(bom8) - 1, NULL, NULL, &err);
	assert_non_null(f);
	assert_string_equal(f->title, "BOM é");
	feed_free(f);
	/* control characters XML forbids are dropped, not fatal */
	f = feed_parse(ctl, sizeof(ctl) - 1, NULL, NULL, &err);
	assert_non_null(f);
	assert_string_equal(f->title, "ab");
	assert_int_equal(f->nentries, 1);
	feed_free(f);
}

static void
test_double_escaped(void **state)
{
	struct feed *f = parse("double_escaped.xml", NULL);

	(void)state;
	/* a title with escaped HTML: tags stripped, entities decoded */
	assert_string_equal(f->entries[0].title, "Bold été & more");
	/* twice-escaped text stays visible text */
	assert_string_equal(f->entries[0].summary, "<p>Café &amp;lt;not a tag&amp;gt;</p>");
	/* no end tag and no entity: plain text, as feedparser reads it */
	assert_string_equal(f->entries[1].title, "Use <b> for bold");
	feed_free(f);
}

static void
test_identity(void **state)
{
	struct feed *f = parse("noguid.xml", NULL), *g;
	struct entry *e = f->entries;

	(void)state;
	assert_int_equal(f->nentries, 4);
	assert_null(e[0].url);
	assert_memory_equal(e[0].guid, "sha256:", 7);
	assert_int_equal(strlen(e[0].guid), 7 + 64);
	assert_string_not_equal(e[0].guid, e[1].guid);	/* same title, other body */
	assert_string_equal(e[2].guid, "https://noguid.example/x");
	/* isPermaLink="false": an id, not a link */
	assert_null(e[3].url);
	assert_string_equal(e[3].guid, "https://noguid.example/y");
	/* the hash is stable */
	g = parse("noguid.xml", NULL);
	assert_string_equal(g->entries[0].guid, e[0].guid);
	feed_free(g);
	feed_free(f);
}

static void
test_hostile_content(void **state)
{
	struct feed *f = parse("scripts.xml", NULL);
	const char *s;

	(void)state;
	assert_string_equal(f->entries[0].title, "Payload");
	s = f->entries[0].summary;
	assert_null(strcasestr(s, "script"));
	assert_null(strcasestr(s, "onclick"));
	assert_null(strcasestr(s, "onmouseover"));
	assert_null(strcasestr(s, "style"));
	assert_null(strcasestr(s, "iframe"));
	assert_null(strcasestr(s, "<object"));
	assert_null(strcasestr(s, "<embed"));
	assert_null(strcasestr(s, "<form"));
	assert_null(strcasestr(s, "<input"));
	assert_null(strcasestr(s, "<button"));
	assert_null(strcasestr(s, "data:"));
	assert_null(strcasestr(s, "vbscript"));
	assert_null(strcasestr(s, "http://plain.example"));
	assert_null(strcasestr(s, "<!--"));
	assert_non_null(strstr(s, "<a href=\"https://ok.example/?q=&quot;x&quot;\" "
	    "title=\"say &quot;hi&quot;\">ok</a>"));
	assert_non_null(strstr(s, "<img src=\"https://ok.example/i.png\" alt=\"ok\" height=\"20\">"));
	assert_non_null(strstr(s, "<td colspan=\"2\">cell</td>"));
	assert_non_null(strstr(s, "kept text"));
	feed_free(f);
}

static void
test_namespaces(void **state)
{
	struct feed *f = parse("nons.xml", NULL);
	struct entry *e = &f->entries[0];

	(void)state;
	/* dc bound to a wrong URI, content: not bound at all */
	assert_string_equal(e->author, "Wrong NS Writer");
	assert_time(e->has_published, e->published, "2026-01-02T03:04:05Z");
	assert_string_equal(e->content, "<p>unbound content prefix</p>");
	feed_free(f);
}

static void
test_truncated(void **state)
{
	struct feed *f = parse("truncated.xml", NULL);

	(void)state;
	assert_string_equal(f->title, "Cut");
	assert_int_equal(f->nentries, 2);	/* as much as could be read */
	assert_string_equal(f->entries[0].title, "Whole item");
	assert_string_equal(f->entries[1].url, "https://cut.example/2");
	feed_free(f);
}

static void
test_not_feeds(void **state)
{
	char *err;

	(void)state;
	err = parse_error("html_page.html");
	assert_string_equal(err, "not a feed: line 2: root element is <html>, expected <rss>, <rdf:RDF> or <feed>");
	free(err);
	err = parse_error("json.json");
	assert_string_equal(err, "not a feed: not XML: line 1 col 1: Start tag expected, '<' not found");
	free(err);
	err = parse_error("empty.xml");
	assert_string_equal(err, "not a feed: document is empty");
	free(err);
	{
		char *e2 = NULL;

		assert_null(feed_parse("  \n\t ", 5, NULL, NULL, &e2));
		assert_string_equal(e2, "not a feed: document is empty");
		free(e2);
		/* truncated inside the root's name: what is left is no feed */
		assert_null(feed_parse("<?xml version=\"1.0\"?>\n<rs", 26, NULL, NULL, &e2));
		assert_string_equal(e2, "not a feed: line 2: root element is <rs>, expected <rss>, <rdf:RDF> or <feed>");
		free(e2);
		assert_null(feed_parse("<?xml version=\"1.0\"?>\n<", 24, NULL, NULL, &e2));
		assert_non_null(strstr(e2, "not XML: line 2"));
		free(e2);
		assert_null(feed_parse("<svg xmlns=\"http://www.w3.org/2000/svg\"/>", 41,
		    NULL, NULL, &e2));
		assert_string_equal(e2, "not a feed: line 1: root element is <svg>, expected <rss>, <rdf:RDF> or <feed>");
		free(e2);
	}
}

static void
test_billion_laughs(void **state)
{
	clock_t t0 = clock();
	char *err = parse_error("billion_laughs.xml");

	(void)state;
	assert_non_null(strstr(err, "entity expansion refused"));
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
	free(err);
}

/*
 * A document that is small but whose entity references expand to far more
 * (issue 9 item 2: one 100 KB internal entity referenced 200 times in each
 * item) is refused as a whole, quickly and without the memory, whatever
 * field the references are in; a document whose entities stay within the
 * limit still reads.
 */
static char *
amplified(size_t entity, size_t refs, size_t items, const char *where)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY e \"");
	for (size_t i = 0; i < entity; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\">]>\n<rss version=\"2.0\"><channel><title>amp</title>\n");
	for (size_t i = 0; i < items; i++) {
		buf_printf(&b, "<item><title>t%zu</title><guid>g%zu</guid>", i, i);
		if (strcmp(where, "attr") == 0) {
			buf_adds(&b, "<link href=\"");
			for (size_t k = 0; k < refs; k++)
				buf_adds(&b, "&e;");
			buf_adds(&b, "\"/>");
		} else {
			buf_printf(&b, "<%s>", where);
			for (size_t k = 0; k < refs; k++)
				buf_adds(&b, "&e;");
			buf_printf(&b, "</%s>", where);
		}
		buf_adds(&b, "</item>\n");
	}
	buf_adds(&b, "</channel></rss>\n");
	return buf_take(&b);
}

static void
test_entity_amplification(void **state)
{
	static const char *const where[] = { "description", "title", "attr" };
	char *doc, *err = NULL;
	struct feed *f;
	clock_t t0;

	(void)state;
	for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		/* 113 KB that would expand to 400 MB */
		doc = amplified(100000, 200, 20, where[w]);
		t0 = clock();
		f = feed_parse(doc, strlen(doc), NULL, NULL, &err);
		if (f != NULL)
			fail_msg("%s: amplified document accepted", where[w]);
		assert_non_null(err);
		assert_non_null(strstr(err, "entity expansion refused: line "));
		assert_non_null(strstr(err, "limit of 16777216 bytes"));
		assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
		free(err);
		err = NULL;
		free(doc);
	}
	/* The whole case of the issue: 1.4 MB that would expand to 40 GB. */
	doc = amplified(100000, 200, 2000, "description");
	t0 = clock();
	assert_null(feed_parse(doc, strlen(doc), NULL, NULL, &err));
	assert_non_null(strstr(err, "entity expansion refused"));
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	free(err);
	err = NULL;
	free(doc);
	/* Entities used as intended still read: 1 KB x 8 x 100 = 800 KB. */
	doc = amplified(1000, 8, 100, "description");
	f = feed_parse(doc, strlen(doc), NULL, NULL, &err);
	assert_non_null(f);
	assert_int_equal(f->nentries, 100);
	assert_non_null(f->entries[99].summary);
	assert_int_equal(strlen(f->entries[99].summary), 8000);
	feed_free(f);
	free(doc);
}

/*
 * Only http(s) links reach a template (issue 9 item 5): an entry or feed
 * link with another scheme is dropped (the next candidate, such as a
 * permalink guid, may serve) and the feed carries a warning saying so;
 * links inside content are dropped by the sanitiser and reported too.
 */
static void
test_link_schemes(void **state)
{
	static const char rss[] =
	    "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
	    "<title>s</title><link>javascript:alert('feed')</link>\n"
	    "<item><title>1</title><link>javascript:alert(1)</link></item>\n"
	    "<item><title>2</title><link> JaVaScRiPt:alert(2)</link></item>\n"
	    "<item><title>3</title><link>&#106;avascript:alert(3)</link></item>\n"
	    "<item><title>4</title><link>java&#x09;script:alert(4)</link></item>\n"
	    "<item><title>5</title><link>data:text/html;base64,PHNjcmlwdD4=</link></item>\n"
	    "<item><title>6</title><link>vbscript:msgbox(6)</link></item>\n"
	    "<item><title>7</title><link>https:javascript:alert(7)</link></item>\n"
	    "<item><title>8</title><link>javascript:alert(8)</link>"
	    "<guid>https://ok.example/8</guid></item>\n"
	    "<item><title>9</title><link>https://ok.example/9</link>"
	    "<description>&lt;a href=\"javascript:alert(9)\"&gt;x&lt;/a&gt; "
	    "&lt;a href=\"https://ok.example/\"&gt;y&lt;/a&gt;</description></item>\n"
	    "<item><title>10</title><link>ftp://f.example/10</link></item>\n"
	    "<item><title>11</title><link>/relative/11</link></item>\n"
	    "</channel></rss>\n";
	static const char atom[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>a</title>"
	    "<link href=\"vbscript:x\"/>"
	    "<entry><title>1</title><link href=\"javascript:alert(1)\"/>"
	    "<link rel=\"alternate\" type=\"text/html\" href=\"data:text/html,x\"/>"
	    "<id>urn:x:1</id></entry>"
	    "<entry xml:base=\"javascript:alert(2)//\"><title>2</title>"
	    "<link href=\"x\"/><id>urn:x:2</id></entry>"
	    "<entry><title>3</title><link href=\"javascript:a\"/>"
	    "<link href=\"https://ok.example/3\"/><id>urn:x:3</id></entry>"
	    "</feed>";
	char *err = NULL;
	struct feed *f;

	(void)state;
	f = feed_parse(rss, sizeof(rss) - 1, NULL, NULL, &err);
	assert_non_null(f);
	assert_int_equal(f->nentries, 11);
	assert_null(f->link);
	for (size_t i = 0; i < 7; i++)
		if (f->entries[i].url != NULL)
			fail_msg("entry %zu: url %s kept", i + 1, f->entries[i].url);
	assert_string_equal(f->entries[7].url, "https://ok.example/8");
	assert_string_equal(f->entries[8].url, "https://ok.example/9");
	assert_string_equal(f->entries[8].summary,
	    "x <a href=\"https://ok.example/\">y</a>");
	assert_null(f->entries[9].url);
	assert_null(f->entries[10].url);	/* no base to resolve it */
	assert_string_equal(f->warnings[0],
	    "feed: link \"javascript:alert('feed')\" dropped: not an http or https URL");
	assert_string_equal(f->warnings[1],
	    "entry 1: link \"javascript:alert(1)\" dropped: not an http or https URL");
	assert_string_equal(f->warnings[4],
	    "entry 4: link \"javascript:alert(4)\" dropped: not an http or https URL");
	assert_string_equal(f->warnings[9],
	    "entry 9: summary: link \"javascript:alert(9)\" dropped: not an http, https or mailto URL");
	assert_string_equal(f->warnings[11],
	    "entry 11: link \"/relative/11\" dropped: relative, and no base URL to resolve it");
	assert_int_equal(f->nwarnings, 12);
	feed_free(f);

	f = feed_parse(rss, sizeof(rss) - 1, "https://base.example/f.xml", NULL, &err);
	assert_non_null(f);
	assert_string_equal(f->entries[10].url, "https://base.example/relative/11");
	feed_free(f);

	f = feed_parse(atom, sizeof(atom) - 1, "https://base.example/", NULL, &err);
	assert_non_null(f);
	assert_null(f->link);
	assert_int_equal(f->nentries, 3);
	assert_null(f->entries[0].url);
	assert_null(f->entries[1].url);
	assert_string_equal(f->entries[2].url, "https://ok.example/3");
	assert_int_equal(f->nwarnings, 4);
	assert_non_null(strstr(f->warnings[3], "entry 3: link \"javascript:a\" dropped"));
	feed_free(f);

	f = parse("rss2.xml", NULL);
	assert_int_equal(f->nwarnings, 0);
	feed_free(f);
}

/*
 * Nesting: content nested 100 deep is read whole; past libxml2's limit of
 * 256 levels the rest of the document is not read, and the feed says so.
 */
static void
test_nesting(void **state)
{
	struct buf b = BUF_INIT;
	char *err = NULL;
	struct feed *f;

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		int depth = pass == 0 ? 100 : 300;

		buf_reset(&b);
		buf_adds(&b, "<rss version=\"2.0\"><channel><title>t</title>"
		    "<item><title>a</title><description>");
		for (int i = 0; i < depth; i++)
			buf_adds(&b, "<span>");
		buf_adds(&b, "deep");
		for (int i = 0; i < depth; i++)
			buf_adds(&b, "</span>");
		buf_adds(&b, "</description></item><item><title>after</title>"
		    "</item></channel></rss>");
		f = feed_parse(b.data, b.len, NULL, NULL, &err);
		assert_non_null(f);
		if (pass == 0) {
			assert_int_equal(f->nentries, 2);
			assert_non_null(strstr(f->entries[0].summary, "deep"));
			assert_int_equal(f->nwarnings, 0);
		} else {
			assert_int_equal(f->nentries, 1);
			assert_int_equal(f->nwarnings, 1);
			assert_string_equal(f->warnings[0], "line 1: elements "
			    "nested deeper than 256 levels: the rest of the "
			    "document was not read");
		}
		feed_free(f);
	}
	buf_free(&b);
}

/*
 * The classes of issue 13 where herald read feeds differently from
 * feedparser, each in a feed written for it (tests/fixtures/feeds/class_*).
 */
static void
test_class_links(void **state)
{
	static const char *const want[] = {
		"https://ex.example/posts/1",	/* no <link>: the http id */
		NULL,				/* a tag: id is no link */
		"https://ex.example/3",		/* a link after the id wins */
		"https://ex.example/id4",	/* the id before a PDF alternate */
		"https://ex.example/5",		/* alternate, not the enclosure */
		NULL,				/* only an enclosure, urn: id */
		"https://ex.example/7",		/* <link> text, no href */
		"https://ex.example/8",		/* the same with rel="alternate" */
		"https://ex.example/id9",	/* empty <link/>: the id */
		"https://ex.example/id10",	/* only rel="self": the id */
	};
	struct feed *f = parse("class_links.xml", NULL);

	(void)state;
	assert_string_equal(f->link, "https://feed.example/");	/* feed id */
	assert_int_equal(f->nentries, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < f->nentries; i++) {
		if (want[i] == NULL && f->entries[i].url == NULL)
			continue;
		if (want[i] == NULL || f->entries[i].url == NULL ||
		    strcmp(want[i], f->entries[i].url) != 0)
			fail_msg("#%zu: url %s, want %s", i, f->entries[i].url,
			    want[i]);
	}
	feed_free(f);
}

static void
test_class_base64(void **state)
{
	struct feed *f = parse("class_base64_atom03.xml", NULL);

	(void)state;
	assert_string_equal(f->title, "Base64 feed title");
	assert_string_equal(f->entries[0].title, "Café & crème");
	assert_string_equal(f->entries[0].content,
	    "<p>Decoded <b>HTML</b> body &amp; more</p>");
	assert_string_equal(f->entries[0].summary, f->entries[0].content);
	assert_string_equal(f->entries[1].title, "Escaped title");
	assert_string_equal(f->entries[1].summary, "Plain summary: a &lt; b");
	feed_free(f);

	f = parse("class_base64_atom10.xml", NULL);
	/* application/octet-stream: base64 (RFC 4287 4.1.3.3), HTML inside */
	assert_string_equal(f->entries[0].content,
	    "<p>Encoded <em>content</em></p>");
	assert_null(f->entries[0].summary);	/* not text: no summary copy */
	/* text/markdown: text as it is */
	assert_string_equal(f->entries[1].content, "Some *markdown* text");
	/* an image is no text: nothing to show, never the base64 */
	assert_null(f->entries[3].content);
	feed_free(f);
}

static void
test_class_bodies(void **state)
{
	static const char *const want[][2] = {
		{ "desc a", "<p>enc a</p>" },	/* description, content:encoded */
		{ "desc b", "<p>enc b</p>" },	/* the other order */
		{ "it c", "desc c" },		/* two summaries: the second is content */
		{ "desc d", "it d" },
		{ "<p>body e <b>bold</b></p>", "<p>body e <b>bold</b></p>" },	/* xhtml:body */
		{ "desc f", "<p>plain body f</p>" },	/* <body> */
		{ "<p>full g</p>", "<p>full g</p>" },	/* <fullitem> */
	};
	struct feed *f = parse("class_bodies.xml", NULL);

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_non_null(f->entries[i].summary);
		assert_non_null(f->entries[i].content);
		assert_string_equal(f->entries[i].summary, want[i][0]);
		assert_string_equal(f->entries[i].content, want[i][1]);
	}
	feed_free(f);
}

static void
test_class_markup(void **state)
{
	struct feed *f = parse("class_markup.xml", NULL);

	(void)state;
	/* type="html" and "xhtml" titles: every element's text, no markup */
	assert_string_equal(f->entries[0].title, "Sum a+b done");
	assert_string_equal(f->entries[1].title, "X bold x=2");
	assert_string_equal(f->entries[2].title, "Bold it");
	/* SVG's title and desc, MathML's tokens: text kept */
	assert_non_null(strstr(f->entries[0].content, "Sales"));
	assert_non_null(strstr(f->entries[0].content, "Up 5%"));
	assert_null(strstr(f->entries[0].content, "<svg"));
	assert_non_null(strstr(f->entries[1].content, "Logo"));
	assert_non_null(strstr(f->entries[1].content, "A red dot"));
	assert_non_null(strstr(f->entries[1].content, "and a+b</p>"));
	/* a script inside SVG is still dropped whole */
	assert_string_equal(f->entries[2].summary, "T ok");
	feed_free(f);
}

static void
test_limits(void **state)
{
	char *big = malloc(FEED_MAX_SIZE + 1), *err = NULL;

	(void)state;
	memset(big, ' ', FEED_MAX_SIZE + 1);
	assert_null(feed_parse(big, FEED_MAX_SIZE + 1, NULL, NULL, &err));
	assert_non_null(strstr(err, "too large"));
	free(err);
	free(big);
	/* external entities are never fetched or substituted */
	{
		static const char xxe[] = "<?xml version=\"1.0\"?>"
		    "<!DOCTYPE rss [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		    "<rss><channel><title>t&x;</title><item><title>i</title></item></channel></rss>";
		struct feed *f = feed_parse(xxe, sizeof(xxe) - 1, NULL, NULL, &err);

		assert_non_null(f);
		assert_null(strstr(f->title, "root:"));
		assert_string_equal(f->title, "t");
		feed_free(f);
	}
}

static void
test_json(void **state)
{
	struct feed *f = parse("rdf.xml", NULL);
	struct buf b = BUF_INIT;

	(void)state;
	feed_json(f, &b);
	assert_non_null(strstr(buf_cstr(&b), "{\"kind\": \"rdf\", \"title\": \"RDF Site\", "
	    "\"link\": \"https://rdf.example/\", \"entries\": ["));
	assert_non_null(strstr(buf_cstr(&b), "{\"title\": \"RDF item B\", "
	    "\"url\": \"https://rdf.example/b\", \"guid\": \"https://rdf.example/b\", "
	    "\"published\": \"2026-11-21T00:00:00Z\", \"updated\": \"2026-11-21T00:00:00Z\", "
	    "\"author\": null, \"summary\": null, \"content\": null}"));
	buf_reset(&b);
	feed_text(f, &b);
	assert_non_null(strstr(buf_cstr(&b), "rdf feed: RDF Site\n"));
	assert_non_null(strstr(buf_cstr(&b), "2. RDF item B\n"));
	buf_free(&b);
	assert_string_equal(feed_kind_name(FEED_ATOM), "atom");
	assert_string_equal(feed_kind_name(FEED_FOLDER), "folder");
	feed_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rss2),
		cmocka_unit_test(test_rss091_entities),
		cmocka_unit_test(test_undeclared_entities),
		cmocka_unit_test(test_rdf),
		cmocka_unit_test(test_atom),
		cmocka_unit_test(test_atom03),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_inline_charsets),
		cmocka_unit_test(test_double_escaped),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_hostile_content),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_not_feeds),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_entity_amplification),
		cmocka_unit_test(test_link_schemes),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_class_links),
		cmocka_unit_test(test_class_base64),
		cmocka_unit_test(test_class_bodies),
		cmocka_unit_test(test_class_markup),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
