/*
 * feed_bench: parses feed files with herald's feed parser.
 *
 *   feed_bench [-n ROUNDS] FILE...        times parsing, prints MB/s
 *   feed_bench -j [-b BASE] [-c CHARSET] FILE   prints the inspect JSON
 *
 * Built by run.sh against the build's layer libraries (libherald_*.a); not part of herald.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "feed.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		exit(1);
	}
	p = malloc((size_t)n + 1);
	if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

int
main(int argc, char **argv)
{
	const char *base = NULL, *charset = NULL;
	int c, json = 0, rounds = 1;
	struct timespec t0, t1;
	size_t total = 0, entries = 0, failed = 0;
	char **data;
	size_t *lens;

	while ((c = getopt(argc, argv, "jb:c:n:")) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'b': base = optarg; break;
		case 'c': charset = optarg; break;
		case 'n': rounds = (int)strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: feed_bench [-j] [-b base] [-c charset] [-n rounds] file...\n");
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	data = calloc((size_t)argc + 1, sizeof(*data));
	lens = calloc((size_t)argc + 1, sizeof(*lens));
	for (int i = 0; i < argc; i++)
		data[i] = slurp(argv[i], &lens[i]);
	if (json) {
		for (int i = 0; i < argc; i++) {
			char *err = NULL;
			struct feed *f = feed_parse(data[i], lens[i], base, charset, &err);
			struct buf b = BUF_INIT;

			if (f == NULL) {
				printf("{\"error\": \"%s\"}\n", err);
				free(err);
				continue;
			}
			feed_json(f, &b);
			fputs(buf_cstr(&b), stdout);
			buf_free(&b);
			feed_free(f);
		}
		return 0;
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < argc; i++) {
			char *err = NULL;
			struct feed *f = feed_parse(data[i], lens[i], base, charset, &err);

			total += lens[i];
			if (f == NULL) {
				failed++;
				free(err);
				continue;
			}
			entries += f->nentries;
			feed_free(f);
		}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	{
		double s = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

		printf("herald: %zu bytes, %zu entries, %zu failed, %.3f s CPU, %.1f MB/s\n",
		    total, entries, failed, s, (double)total / 1e6 / s);
	}
	return 0;
}
