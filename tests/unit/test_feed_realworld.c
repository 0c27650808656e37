/*
 * Feeds as real publishers write them (tests/fixtures/feeds/, one file per
 * publisher or quirk): each row is one field of one entry, with the value
 * herald must read.  The same files are compared with feedparser by
 * bench/feed_parse/compare_feedparser.py; docs/feeds.md lists where herald
 * differs on purpose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

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

/* Field names: the keys of `inspect --format json`; idx -1 is the feed. */
struct want {
	const char	*file;
	int		 idx;
	const char	*field;
	const char	*value;		/* NULL: must be absent */
};

static const struct want wants[] = {
	/* WordPress: CDATA dc:creator, &#038;, content:encoded over description */
	{ "wordpress.xml", -1, "title", "Garden & Kitchen" },
	{ "wordpress.xml", -1, "link", "https://garden.example" },
	{ "wordpress.xml", 0, "title", "Leeks, mulch & the first frost" },
	{ "wordpress.xml", 0, "guid", "https://garden.example/?p=1412" },
	{ "wordpress.xml", 0, "url", "https://garden.example/2026/11/23/leeks-mulch/" },
	{ "wordpress.xml", 0, "author", "Margaret Oduya" },
	{ "wordpress.xml", 0, "published", "2026-11-23T18:04:07Z" },
	{ "wordpress.xml", 0, "updated", NULL },
	{ "wordpress.xml", 0, "summary", "The first frost came early this year. "
	    "Here\u2019s what I did with the leeks [\u2026]" },
	{ "wordpress.xml", 1, "content", "<p>No-dig, two years in. </p>\n"
	    "<p><a href=\"https://base.example/2026/10/01/compost/\">Compost notes</a></p>" },
	/* Blogger: escaped HTML content, rel=alternate among many links */
	{ "blogger.xml", -1, "title", "Purl & Plain" },
	{ "blogger.xml", -1, "link", "https://purlplain.blogspot.com/" },
	{ "blogger.xml", 0, "url", "https://purlplain.blogspot.com/2026/11/heel.html" },
	{ "blogger.xml", 0, "guid", "tag:blogger.com,1999:blog-1234567890.post-111" },
	{ "blogger.xml", 0, "published", "2026-11-24T17:00:00Z" },
	{ "blogger.xml", 0, "updated", "2026-11-24T17:12:33Z" },
	{ "blogger.xml", 0, "author", "Ada K." },
	{ "blogger.xml", 1, "title", NULL },
	{ "blogger.xml", 1, "content", "Untitled post body<br>second line" },
	/* Medium: CDATA title, content only (summary is a copy), tracking pixel */
	{ "medium.xml", 0, "title", "Rust lifetimes, explained with trains" },
	{ "medium.xml", 0, "guid", "https://medium.com/p/5f3a2b" },
	{ "medium.xml", 0, "author", "Lin Q" },
	{ "medium.xml", 0, "published", "2026-11-24T10:58:12Z" },
	/* YouTube: media:group/media:description, plain text kept as text */
	{ "youtube.xml", 0, "title", "Cutting dovetails by hand & other lies" },
	{ "youtube.xml", 0, "url", "https://www.youtube.com/watch?v=dQw4w9WgXcQ" },
	{ "youtube.xml", 0, "guid", "yt:video:dQw4w9WgXcQ" },
	{ "youtube.xml", 0, "author", "Bench Woodwork" },
	{ "youtube.xml", 0, "summary", "In this video: - marking out - sawing "
	    "&lt;to the line&gt; Tools: https://bench.example/tools" },
	{ "youtube.xml", 0, "content", NULL },
	/* GitHub releases: relative href resolved against the document */
	{ "github_releases.xml", 0, "title", "v2.3.0" },
	{ "github_releases.xml", 0, "published", NULL },
	{ "github_releases.xml", 0, "updated", "2026-11-21T14:03:44Z" },
	{ "github_releases.xml", 1, "url", "https://base.example/acme/widget/releases/tag/v2.2.0" },
	{ "github_releases.xml", 1, "content", "<p>No content.</p>" },
	/* Reddit: an id that is not a URL stays as written */
	{ "reddit.xml", 0, "title", "28mm on gravel > 32mm on road?" },
	{ "reddit.xml", 0, "guid", "t3_1abc" },
	{ "reddit.xml", 0, "author", "/u/spokesperson" },
	{ "reddit.xml", 0, "url", "https://www.reddit.com/r/cycling/comments/1abc/tyres/" },
	/* Substack and Ghost */
	{ "substack.xml", 0, "title", "Why rates won\u2019t fall (yet)" },
	{ "substack.xml", 0, "summary", "Three charts and a caveat" },
	{ "substack.xml", 0, "author", "R. Amadi" },
	{ "ghost.xml", 0, "guid", "6560a1b2c3d4e5f600112233" },
	{ "ghost.xml", 0, "summary", "<p>Small, loud, brown.</p>" },
	{ "ghost.xml", 0, "content", "<img src=\"https://fieldnotes.example/content/"
	    "images/2026/11/wren.jpg\" alt=\"A wren in the hedge\"><p>Small, loud, "
	    "brown. <em>Troglodytes troglodytes</em>.</p><div><p>Embedded <b>card</b>"
	    "</p></div><hr><p>Tail cocked.</p>" },
	/* Jekyll: type="html" titles, content xml:base */
	{ "jekyll.xml", -1, "title", "J. Doe's notes" },
	{ "jekyll.xml", 0, "published", "2026-11-19T23:00:00Z" },
	{ "jekyll.xml", 0, "summary", "Make has rules." },
	{ "jekyll.xml", 1, "title", "Untitled & unloved" },
	{ "jekyll.xml", 1, "updated", "2026-11-02T09:00:00Z" },
	/* Hugo: relative links everywhere, guid kept as written */
	{ "hugo.xml", -1, "link", "https://base.example/posts/" },
	{ "hugo.xml", 0, "url", "https://base.example/posts/static-sites/" },
	{ "hugo.xml", 0, "guid", "/posts/static-sites/" },
	{ "hugo.xml", 0, "summary", "<p>See <a href=\"https://base.example/posts/other/\">"
	    "the other post</a> and <img src=\"https://base.example/images/a.png\" "
	    "alt=\"a\">.</p>" },
	{ "hugo.xml", 1, "url", "https://base.example/posts/second/" },
	/* Podcast: itunes:summary and itunes:author; enclosure is not the link */
	{ "podcast.xml", 0, "title", "Ep. 42 \u2013 Lighthouse keepers" },
	{ "podcast.xml", 0, "url", NULL },
	{ "podcast.xml", 0, "guid", "nightshift-ep42" },
	{ "podcast.xml", 0, "author", "Sam Reyes" },
	{ "podcast.xml", 0, "published", "2026-11-23T13:00:00Z" },
	{ "podcast.xml", 0, "summary", "We talk to the last lighthouse keepers &amp; their cats." },
	{ "podcast.xml", 1, "url", "https://nightshift.example/41" },
	{ "podcast.xml", 1, "published", "2026-11-16T13:00:00Z" },
	{ "podcast.xml", 2, "published", "2026-11-01T00:00:00Z" },
	/* News-site dates */
	{ "news_dates.xml", 0, "published", "2003-06-10T04:00:00Z" },
	{ "news_dates.xml", 0, "guid", "courier-a-8812" },
	{ "news_dates.xml", 1, "published", "2003-06-10T04:00:00Z" },
	{ "news_dates.xml", 2, "published", "2003-06-10T09:00:00Z" },
	{ "news_dates.xml", 3, "published", "2003-06-10T04:00:00Z" },
	{ "news_dates.xml", 4, "published", "2003-06-10T00:00:00Z" },
	{ "news_dates.xml", 5, "published", NULL },
	{ "news_dates.xml", 6, "published", NULL },
	{ "news_dates.xml", 7, "published", NULL },
	{ "news_dates.xml", 8, "published", "2003-06-10T04:00:00Z" },
	{ "news_dates.xml", 9, "published", "2003-06-10T04:00:00Z" },
	{ "news_dates.xml", 10, "published", "2003-06-03T04:05:06Z" },
	{ "news_dates.xml", 11, "updated", "2003-06-10T04:00:00Z" },
	{ "news_dates.xml", 12, "published", "2003-06-10T04:00:00Z" },
	{ "news_dates.xml", 13, "published", "2003-06-10T04:00:00Z" },
	/* RSS 0.91 with a Netscape DOCTYPE, &apos;, no guid */
	{ "rss091_noguid.xml", 0, "title", "stuff & nonsense" },
	{ "rss091_noguid.xml", 0, "guid", "http://scripting.example/2000/01/01/stuff" },
	{ "rss091_noguid.xml", 0, "summary", "It's a new year." },
	{ "rss091_noguid.xml", 1, "title", NULL },
	{ "rss091_noguid.xml", 1, "url", NULL },
	/* RDF with dc:date */
	{ "rdf_dcdate.xml", 0, "guid", "http://slash.example/story/1" },
	{ "rdf_dcdate.xml", 0, "published", "2026-11-24T10:00:00Z" },
	{ "rdf_dcdate.xml", 0, "author", "timothy" },
	{ "rdf_dcdate.xml", 0, "summary", "Linus said <i>hello</i>." },
	{ "rdf_dcdate.xml", 1, "published", NULL },
	/* External DTD (never fetched) and HTML named entities */
	{ "doctype_entities.xml", -1, "title", "Entit\u00e9s & Co \u2014 news" },
	{ "doctype_entities.xml", 0, "title", "\u00abBonjour\u00bb \u2026 \u00a9 2026" },
	{ "doctype_entities.xml", 0, "summary", "Caf\u00e9 <b>cr\u00e8me</b> \u20ac3 \u2122" },
	/* An unclosed tag in the middle: every entry kept */
	{ "unclosed_middle.xml", 1, "summary", "Second has <b>an unclosed tag</b>" },
	{ "unclosed_middle.xml", 2, "title", "Three" },
	{ "unclosed_middle.xml", 2, "url", "https://broken.example/3" },
	/* Atom links: alternate wins over enclosure/related/self; none: absent */
	{ "atom_links.xml", 0, "url", "https://links.example/1" },
	{ "atom_links.xml", 1, "url", "https://links.example/2" },
	{ "atom_links.xml", 2, "url", NULL },
	{ "atom_links.xml", 3, "url", "https://links.example/4" },
	{ "atom_links.xml", 3, "title", "Summary HTML" },
	{ "atom_links.xml", 3, "summary", "<p>Caf\u00e9 &amp; bar &lt;tag&gt; \u2014 done</p>" },
	/* Entries do not inherit the feed's author (as in feedparser) */
	{ "feed_author.xml", 0, "author", NULL },
	{ "feed_author.xml", 1, "author", "Entry Author" },
	{ "feed_author.xml", 2, "author", "only@auth.example" },
	/* RSS summary/content precedence, CDATA and entities in titles */
	{ "rss_precedence.xml", -1, "title", "Titles & CDATA" },
	{ "rss_precedence.xml", 0, "title", "Tom & Jerry" },
	{ "rss_precedence.xml", 0, "summary", "Short description." },
	{ "rss_precedence.xml", 0, "content", "<p>Long <em>content</em>.</p>" },
	{ "rss_precedence.xml", 0, "author", "writer@prec.example" },
	{ "rss_precedence.xml", 1, "title", "Caf\u00e9 \u2014 \"quoted\"" },
	{ "rss_precedence.xml", 1, "summary", "<p>Only content.</p>" },
	{ "rss_precedence.xml", 2, "title", "AT&T <3 you" },
	{ "rss_precedence.xml", 2, "summary", "Text with a &lt; sign &amp; an ampersand" },
	/* Character sets */
	{ "iso8859.xml", 0, "title", "Fa\u00e7ade \u00fcber" },
	{ "iso8859.xml", 0, "summary", "Gr\u00fc\u00dfe" },
	{ "win1252.xml", 0, "title", "\u201cSmart\u201d quotes \u2013 and \u20ac5" },
	{ "win1252.xml", 0, "summary", "Na\u00efve r\u00e9sum\u00e9 \u2019tis" },
	{ "utf16le_decl.xml", 0, "title", "\u201cSmart\u201d quotes \u2013 and \u20ac5" },
	{ "utf16_nobom.xml", 0, "title", "\u201cSmart\u201d quotes \u2013 and \u20ac5" },
	{ "utf16_nobom.xml", -1, "title", "Caf\u00e9 cr\u00e8me" },
	{ "bom_latin1_decl.xml", 0, "title", "\u201cSmart\u201d quotes \u2013 and \u20ac5" },
	{ "bom_latin1_decl.xml", 0, "summary", "Na\u00efve r\u00e9sum\u00e9 \u2019tis" },
	/* Blank lines before the declaration, PHP warnings after the root */
	{ "php_whitespace.xml", 0, "title", "PHP & whitespace" },
	{ "php_whitespace.xml", 0, "published", "2026-11-24T10:00:00Z" },
	/* Unescaped HTML in a description, <br> unclosed, a tag in the wrong case */
	{ "unescaped_html.xml", 0, "title", "Mixed case tag" },
	{ "unescaped_html.xml", 0, "summary", "<p>First line<br>second line<br>third "
	    "&amp; last</p><img src=\"https://hand.example/a.png\" alt=\"a\">" },
	{ "unescaped_html.xml", 1, "title", "AT&T < Verizon" },
	{ "unescaped_html.xml", 1, "url", "https://hand.example/2?a=1&b=2" },
	/* Atom: type="text" keeps '<', nested xml:base, out-of-line content */
	{ "atom_xhtml_base.xml", -1, "title", "Less <than> more" },
	{ "atom_xhtml_base.xml", 0, "title", "Literal <b> in a text title" },
	{ "atom_xhtml_base.xml", 0, "url", "https://xb.example/blog/posts/one.html" },
	{ "atom_xhtml_base.xml", 0, "published", "2026-11-24T00:00:00Z" },
	{ "atom_xhtml_base.xml", 0, "content", "<p>See <a href=\"https://xb.example/blog/"
	    "two.html\">two</a>, <a href=\"https://xb.example/root\">root</a> and "
	    "<img src=\"https://xb.example/blog/posts/img/x.png\" alt=\"x\">.</p>" },
	{ "atom_xhtml_base.xml", 1, "content", NULL },
	{ "atom_xhtml_base.xml", 1, "summary", "Summary only, content elsewhere." },
};

static const char *
field(const struct feed *f, int idx, const char *name, char tbuf[21])
{
	const struct entry *e;

	if (idx < 0) {
		if (strcmp(name, "title") == 0)
			return f->title;
		if (strcmp(name, "link") == 0)
			return f->link;
		fail_msg("no feed field %s", name);
	}
	assert_true((size_t)idx < f->nentries);
	e = &f->entries[idx];
	if (strcmp(name, "title") == 0) return e->title;
	if (strcmp(name, "url") == 0) return e->url;
	if (strcmp(name, "guid") == 0) return e->guid;
	if (strcmp(name, "author") == 0) return e->author;
	if (strcmp(name, "summary") == 0) return e->summary;
	if (strcmp(name, "content") == 0) return e->content;
	if (strcmp(name, "published") == 0 || strcmp(name, "updated") == 0) {
		bool pub = name[0] == 'p';

		if (!(pub ? e->has_published : e->has_updated))
			return NULL;
		time_rfc3339(pub ? e->published : e->updated, tbuf);
		return tbuf;
	}
	fail_msg("no entry field %s", name);
	return NULL;
}

static void
test_publishers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const struct want *w = &wants[i];
		size_t len;
		char *data = slurp(w->file, &len), *err = NULL, tbuf[21];
		struct feed *f = feed_parse(data, len, BASE, NULL, &err);
		const char *got;

		free(data);
		if (f == NULL)
			fail_msg("%s: %s", w->file, err);
		got = field(f, w->idx, w->field, tbuf);
		if (w->value == NULL ? got != NULL :
		    (got == NULL || strcmp(got, w->value) != 0))
			fail_msg("%s #%d %s: got \"%s\", want \"%s\"", w->file,
			    w->idx, w->field, got ? got : "(null)",
			    w->value ? w->value : "(null)");
		feed_free(f);
	}
}

/* Entry counts: nothing lost, nothing invented. */
static void
test_counts(void **state)
{
	static const struct { const char *file; size_t n; } counts[] = {
		{ "wordpress.xml", 2 }, { "blogger.xml", 2 }, { "medium.xml", 1 },
		{ "youtube.xml", 1 }, { "github_releases.xml", 2 },
		{ "reddit.xml", 1 }, { "substack.xml", 1 }, { "ghost.xml", 1 },
		{ "jekyll.xml", 2 }, { "hugo.xml", 2 }, { "podcast.xml", 3 },
		{ "news_dates.xml", 14 }, { "rss091_noguid.xml", 2 },
		{ "rdf_dcdate.xml", 2 }, { "doctype_entities.xml", 1 },
		{ "unclosed_middle.xml", 3 }, { "atom_links.xml", 4 },
		{ "feed_author.xml", 3 }, { "rss_precedence.xml", 3 },
		{ "iso8859.xml", 1 }, { "win1252.xml", 1 },
		{ "utf16le_decl.xml", 1 }, { "utf16_nobom.xml", 1 },
		{ "bom_latin1_decl.xml", 1 }, { "php_whitespace.xml", 1 },
		{ "unescaped_html.xml", 2 }, { "atom_xhtml_base.xml", 2 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		size_t len;
		char *data = slurp(counts[i].file, &len), *err = NULL;
		struct feed *f = feed_parse(data, len, BASE, NULL, &err);

		free(data);
		if (f == NULL)
			fail_msg("%s: %s", counts[i].file, err);
		if (f->nentries != counts[i].n)
			fail_msg("%s: %zu entries, want %zu", counts[i].file,
			    f->nentries, counts[i].n);
		feed_free(f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publishers),
		cmocka_unit_test(test_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
