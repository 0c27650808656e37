/*
 * Personalised digest renders per second: a 20-article issue rendered once
 * (digest_new_rows), then filled for N distinct subscribers (digest_render,
 * text and HTML parts), on one core.  Prints renders/s, bytes per render and
 * peak RSS, so runs at 10,000 and 100,000 subscribers show memory is flat.
 *
 *   bench_render N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "render.h"
#include "xmalloc.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	struct newsletter_conf nl;
	struct store_article rows[20];
	struct digest *d;
	struct buf text = BUF_INIT, html = BUF_INIT;
	struct rusage ru;
	char *err = NULL, email[64], name[64], unsub[128];
	double t0, t1;
	size_t bytes = 0;

	memset(&nl, 0, sizeof(nl));
	nl.id = "daily";
	nl.title = "Rangeinn Daily";
	nl.timezone = "Europe/London";
	nl.subject = "{{newsletter.title}} #{{issue.number}}: {{first_article.title}}";
	memset(rows, 0, sizeof(rows));
	for (int i = 0; i < 20; i++) {
		struct buf c = BUF_INIT;

		for (int p = 0; p < 4; p++)
			buf_printf(&c, "<p>Paragraph %d of article %d: the harbour "
			    "lights are coming back, one lamp at a time, says the "
			    "<a href=\"https://example.org/%d/%d\">council</a>; "
			    "\xe2\x80\x9cpeople kept asking\xe2\x80\x9d.</p>\n", p, i, i, p);
		rows[i].id = i + 1;
		rows[i].title = xasprintf("Article %d: \xe2\x80\x98millions\xe2\x80\x99 "
		    "of rockets & shells", i + 1);
		rows[i].url = xasprintf("https://example.org/articles/%d", i + 1);
		rows[i].author = xstrdup("Mahnoor");
		rows[i].summary = xstrdup("<p>A short summary.</p>");
		rows[i].content = buf_take(&c);
		rows[i].source_title = xstrdup("Rangeinn");
		rows[i].published = 1795510800 - i * 3600;
		rows[i].has_published = true;
	}
	t0 = now();
	d = digest_new_rows(NULL, &nl, rows, 20, 42, 1795510800, &err);
	if (d == NULL) {
		fprintf(stderr, "digest_new_rows: %s\n", err);
		return 1;
	}
	t1 = now();
	printf("digest_new (once per issue): %.2f ms\n", (t1 - t0) * 1e3);
	t0 = now();
	for (long i = 0; i < n; i++) {
		struct recipient r;

		snprintf(email, sizeof(email), "reader%ld@example.org", i);
		snprintf(name, sizeof(name), "Reader %ld", i);
		snprintf(unsub, sizeof(unsub), "https://news.example/u/%ld.abcdef0123456789", i);
		r.email = email;
		r.name = name;
		r.attributes_json = "{\"city\":\"Oslo\"}";
		r.unsubscribe_url = unsub;
		r.preferences_url = NULL;
		r.confirm_url = NULL;
		buf_reset(&text);
		buf_reset(&html);
		if (digest_render(d, &r, &text, &html) == -1)
			return 1;
		bytes += text.len + html.len;
	}
	t1 = now();
	getrusage(RUSAGE_SELF, &ru);
	/* the floor: copying the same bytes with memcpy, in the same run */
	{
		size_t per = bytes / (size_t)(n ? n : 1);
		char *src = xmalloc(per + 1), *dst = xmalloc(per + 1);
		double c0, c1;

		memset(src, 'x', per);
		c0 = now();
		for (long i = 0; i < n; i++) {
			memcpy(dst, src, per);
			src[i % (long)per] ^= dst[(i * 7) % (long)per];
		}
		c1 = now();
		printf("memcpy of the same bytes: %.0f copies/s (renders take %.2fx a plain copy)\n",
		    (double)n / (c1 - c0), (t1 - t0) / (c1 - c0));
		free(src);
		free(dst);
	}
	printf("subscribers: %ld\nrenders/s: %.0f\nbytes per render: %zu (text %zu, html %zu)\n"
	    "throughput: %.0f MB/s\npeak RSS: %.1f MB\n", n, (double)n / (t1 - t0),
	    bytes / (size_t)(n ? n : 1), text.len, html.len,
	    (double)bytes / (t1 - t0) / 1e6, (double)ru.ru_maxrss / 1024.0);
	buf_free(&text);
	buf_free(&html);
	digest_free(d);
	store_article_rows_free(NULL, 0);
	for (int i = 0; i < 20; i++) {
		free(rows[i].title);
		free(rows[i].url);
		free(rows[i].author);
		free(rows[i].summary);
		free(rows[i].content);
		free(rows[i].source_title);
	}
	return 0;
}
