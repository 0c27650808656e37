/*
 * `herald collect` and `herald inspect`.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "collect.h"
#include "feed.h"
#include "fetch.h"
#include "folder.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

static void
collect_usage(FILE *f)
{
	fprintf(f,
	    "usage: herald collect [-n ID]\n"
	    "\n"
	    "Polls every source of the newsletter (or of every newsletter when\n"
	    "there are several and no -n) now, and stores the new articles.\n"
	    "Prints one line per source: how many entries were new, or its error.\n"
	    "\n"
	    "Exit codes: 0 every source collected, 1 some source failed (the\n"
	    "others were collected), 2 usage or configuration error, 3 the\n"
	    "database was locked.\n");
}

int
cmd_collect(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const struct newsletter_conf *nl;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts,
	    NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'h') {
			collect_usage(stdout);
			return EXIT_OK;
		}
		return cli_usage_error(argv[0], "unknown option");
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument \"%s\"",
		    argv[optind]);
	if ((rc = cli_create(cli)) != EXIT_OK)
		return rc;
	if (cli->newsletter) {
		if ((nl = cli_newsletter(cli)) == NULL)
			return EXIT_USAGE;
		rc = collect_many(cli->store, nl, 1, true, stdout);
	} else
		rc = collect_many(cli->store, cli->cfg->newsletters,
		    cli->cfg->nnewsletters, true, stdout);
	fflush(stdout);
	return rc;
}

static void
inspect_usage(FILE *f)
{
	fprintf(f,
	    "usage: herald inspect URL|FILE [--format text|json]\n"
	    "\n"
	    "Fetches (http, https or file URL) or reads (a path) one feed or\n"
	    "article file and prints what herald sees in it, storing nothing.\n"
	    "Article files (*.txt, *.md) are read as a folder source reads them;\n"
	    "anything else must be an RSS, RDF or Atom feed.  No configuration\n"
	    "or database is needed.\n"
	    "\n"
	    "  -f, --format F   text (default) or json (DESIGN §3)\n"
	    "\n"
	    "Exit codes: 0 read, 1 not a feed or not readable, 2 usage error,\n"
	    "3 the server was unreachable (worth retrying).\n");
}

static bool
is_article_name(const char *s)
{
	size_t n = strcspn(s, "?#");
	char *name = xstrndup(s, n);
	const char *slash = strrchr(name, '/');
	bool yes = folder_name_wanted(slash ? slash + 1 : name);

	free(name);
	return yes;
}

/* Reads a whole local file of at most max bytes (caller frees). */
static char *
read_file(const char *path, size_t max, size_t *len, char **err)
{
	struct buf b;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*err = xstrdup(strerror(errno));
		return NULL;
	}
	buf_init(&b, max);
	switch (buf_read_fd(&b, fd)) {
	case 0:
		close(fd);
		*len = b.len;
		return buf_take(&b);
	case -1:
		*err = xstrdup(strerror(errno));
		break;
	default:
		*err = xasprintf("larger than the %zu MB limit", max >> 20);
		break;
	}
	close(fd);
	buf_free(&b);
	return NULL;
}

/* The file:// URL of a local path (caller frees), or NULL. */
static char *
path_file_url(const char *path)
{
	char *abs = realpath(path, NULL), *out = NULL, *res = NULL;
	CURLU *u = curl_url();

	if (abs && u &&
	    curl_url_set(u, CURLUPART_SCHEME, "file", 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PATH, abs, CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
		res = xstrdup(out);
	curl_free(out);
	curl_url_cleanup(u);
	free(abs);
	return res;
}

/* A file:// URL's path, decoded (caller frees), or NULL. */
static char *
file_url_path(const char *url)
{
	CURLU *u = curl_url();
	char *p = NULL, *res = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &p, CURLU_URLDECODE) == CURLUE_OK)
		res = xstrdup(p);
	curl_free(p);
	curl_url_cleanup(u);
	return res;
}

static int
inspect_target(const char *target, struct feed **out)
{
	struct fetch_req q = { 0 };
	struct feed *f = NULL;
	char *err = NULL, *path = NULL, *data = NULL, *base = NULL;
	size_t len = 0;
	int rc = EXIT_FAIL;

	if (ascii_ncasecmp(target, "file://", 7) == 0) {
		if ((path = file_url_path(target)) == NULL) {
			log_error("inspect: %s: not a valid file URL", target);
			return EXIT_USAGE;
		}
		target = path;
	} else if (strstr(target, "://") != NULL) {
		if (ascii_ncasecmp(target, "http://", 7) != 0 &&
		    ascii_ncasecmp(target, "https://", 8) != 0) {
			log_error("inspect: %s: only http, https and file URLs "
			    "are supported", target);
			return EXIT_USAGE;
		}
		q.url = target;
		fetch_all(&q, 1);
		if (!q.ok) {
			log_error("inspect: %s: %s", target, q.error);
			rc = q.temporary ? EXIT_TEMP : EXIT_FAIL;
			goto out;
		}
		if (is_article_name(q.effective_url ? q.effective_url :
		    target)) {
			const char *e = q.effective_url ? q.effective_url :
			    target, *slash = strrchr(e, '/');
			char *name = xstrndup(slash ? slash + 1 : e,
			    strcspn(slash ? slash + 1 : e, "?#"));

			f = folder_parse(name, q.body, q.len, time(NULL), &err);
			free(name);
		} else
			f = feed_parse(q.body, q.len, q.effective_url ?
			    q.effective_url : target, q.charset, &err);
		goto parsed;
	}
	/* A local path. */
	if (is_article_name(target))
		f = folder_read(target, &err);
	else if ((data = read_file(target, FEED_MAX_SIZE, &len, &err)) !=
	    NULL) {
		/* The document's own URL, for resolving relative links. */
		base = path_file_url(target);
		f = feed_parse(data, len, base, NULL, &err);
	}
parsed:
	if (f == NULL) {
		log_error("inspect: %s: %s", target, err ? err :
		    "not a feed");
		goto out;
	}
	*out = f;
	rc = EXIT_OK;
out:
	free(err);
	free(data);
	free(path);
	free(base);
	fetch_req_clear(&q);
	return rc;
}

int
cmd_inspect(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct feed *f = NULL;
	struct buf b;
	bool json = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "f:", longopts,
	    NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			inspect_usage(stdout);
			return EXIT_OK;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") == 0)
				json = false;
			else
				return cli_usage_error(argv[0], "--format: "
				    "\"%s\" is not text or json", optarg);
			break;
		default:
			return cli_usage_error(argv[0], "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(argv[0], argc == optind ?
		    "give one URL or FILE" : "give only one URL or FILE");
	if ((rc = inspect_target(argv[optind], &f)) != EXIT_OK)
		return rc;
	/* What was left out (links that are not http(s), ...): on stderr, so
	 * the JSON on stdout keeps the shape of DESIGN §3. */
	for (size_t i = 0; i < f->nwarnings; i++)
		log_warn("inspect: %s", f->warnings[i]);
	buf_init(&b, 0);
	if (json) {
		feed_json(f, &b);
		buf_addc(&b, '\n');
	} else
		feed_text(f, &b);
	fwrite(b.data ? b.data : "", 1, b.len, stdout);
	buf_free(&b);
	feed_free(f);
	if (fflush(stdout) == EOF) {
		log_error("inspect: writing output: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
