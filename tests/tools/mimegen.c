/*
 * mimegen: builds one message with mime_build() for the Python tests.
 *
 * stdin holds 14 fields separated by NUL bytes, in this order:
 *   from_name from_addr to_name to_addr reply_to subject date message_id
 *   list_id unsubscribe_mailto unsubscribe_https feedback_id text html
 * An empty optional field means "not given".  The message goes to stdout;
 * on error, "mimegen: <why>" to stderr and exit 1.
 *
 *   mimegen --bench N   builds the message N times and prints timings
 *   mimegen --msgid DOMAIN   prints one mime_message_id(DOMAIN)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "mime.h"
#include "xmalloc.h"

#define NFIELDS 14

static const char *
opt(const char *s)
{
	return s && *s ? s : NULL;
}

int
main(int argc, char **argv)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct mime_params p;
	const char *f[NFIELDS] = { 0 };
	size_t flen[NFIELDS] = { 0 }, i, start = 0, k = 0;
	char chunk[65536], *err = NULL;
	size_t n;
	long bench = 0;

	if (argc == 3 && strcmp(argv[1], "--msgid") == 0) {
		char *id = mime_message_id(argv[2]);

		puts(id);
		free(id);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--bench") == 0)
		bench = strtol(argv[2], NULL, 10);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		buf_add(&in, chunk, n);
	for (i = 0; i <= in.len && k < NFIELDS; i++) {
		if (i == in.len || in.data[i] == '\0') {
			f[k] = in.data ? in.data + start : "";
			flen[k] = i - start;
			k++;
			start = i + 1;
		}
	}
	memset(&p, 0, sizeof(p));
	p.from_name = opt(f[0]);
	p.from_addr = f[1];
	p.to_name = opt(f[2]);
	p.to_addr = f[3];
	p.reply_to = opt(f[4]);
	p.subject = f[5] ? f[5] : "";
	p.date = f[6] && *f[6] ? (time_t)strtoll(f[6], NULL, 10) : 0;
	p.message_id = opt(f[7]);
	p.list_id = opt(f[8]);
	p.list_unsubscribe_mailto = opt(f[9]);
	p.list_unsubscribe_https = opt(f[10]);
	p.feedback_id = opt(f[11]);
	p.text = f[12] ? f[12] : "";
	p.text_len = flen[12];
	p.html = f[13] ? f[13] : "";
	p.html_len = flen[13];

	if (bench > 0) {
		struct timespec a, b, ca, cb;
		double secs, cpu;
		size_t size = 0;

		clock_gettime(CLOCK_MONOTONIC, &a);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
		for (long r = 0; r < bench; r++) {
			buf_reset(&out);
			if (mime_build(&p, &out, &err) == -1) {
				fprintf(stderr, "mimegen: %s\n", err);
				return 1;
			}
			size = out.len;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
		secs = (double)(b.tv_sec - a.tv_sec) +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		cpu = (double)(cb.tv_sec - ca.tv_sec) +
		    (double)(cb.tv_nsec - ca.tv_nsec) / 1e9;
		printf("%ld messages of %zu bytes in %.3f s: %.0f messages/s, "
		    "%.1f us each (CPU %.1f us each, %.0f messages/CPU-s)\n",
		    bench, size, secs, (double)bench / secs,
		    secs / (double)bench * 1e6, cpu / (double)bench * 1e6,
		    (double)bench / cpu);
		buf_free(&out);
		buf_free(&in);
		return 0;
	}
	if (mime_build(&p, &out, &err) == -1) {
		fprintf(stderr, "mimegen: %s\n", err);
		free(err);
		buf_free(&in);
		return 1;
	}
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	buf_free(&in);
	return 0;
}
