/*
 * `herald preview`: collects, then renders the next issue (the articles no
 * issue has carried) for a sample or given subscriber.  Records nothing and
 * sends nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "cli.h"
#include "collect.h"
#include "fileio.h"
#include "log.h"
#include "message.h"
#include "token.h"
#include "render.h"
#include "store_digest.h"
#include "store_subs.h"
#include "xmalloc.h"

#define GMAIL_CLIP	(102u * 1024)	/* Gmail clips HTML parts larger than this */

enum format { FMT_TEXT, FMT_HTML, FMT_EML };

static void
preview_usage(FILE *f)
{
	fprintf(f,
	    "usage: herald preview [-n ID] [--format text|html|eml] [--output FILE]\n"
	    "                      [--subscriber EMAIL] [--no-collect]\n"
	    "\n"
	    "Collects (folders always, feeds whose interval has passed), then\n"
	    "renders the next issue (the articles no issue has carried yet) as one\n"
	    "subscriber would get it.  Records no issue and sends nothing.\n"
	    "\n"
	    "  -f, --format F       text (default), html, or eml (the whole message)\n"
	    "  -o, --output FILE    write there (atomically) instead of stdout\n"
	    "  -s, --subscriber E   render for this subscriber (default: a sample\n"
	    "                       reader, reader@example.org)\n"
	    "      --no-collect     render what the store holds now\n"
	    "\n"
	    "Warns when the HTML part is over 102 KB (Gmail clips it) and when an\n"
	    "image has no alt text.  Exit codes: 0 rendered (or nothing to\n"
	    "preview), 1 failed, 2 usage or configuration error, 3 database locked.\n");
}

/* Warns about each <img> without alt text in the HTML part. */
static void
check_images(const char *html, size_t len)
{
	htmlDocPtr doc;
	xmlNode *n, *next;
	int count = 0;

	if (len == 0 || len > INT32_MAX)
		return;
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8", HTML_PARSE_RECOVER |
	    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	if (doc == NULL)
		return;
	/* iterative walk of the tree, bounded by its size */
	for (n = xmlDocGetRootElement(doc); n; n = next) {
		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, "img") == 0) {
			xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");
			xmlChar *src = xmlGetProp(n, (const xmlChar *)"src");

			if (alt == NULL || *alt == '\0') {
				if (count++ < 20)
					log_warn("preview: image without alt text: %s",
					    src ? (const char *)src : "(no src)");
			}
			xmlFree(alt);
			xmlFree(src);
		}
		if (n->children && n->type == XML_ELEMENT_NODE) {
			next = n->children;
			continue;
		}
		next = n->next;
		while (next == NULL && n->parent && n->parent->type != XML_HTML_DOCUMENT_NODE &&
		    n->parent->type != XML_DOCUMENT_NODE) {
			n = n->parent;
			next = n->next;
		}
	}
	if (count > 20)
		log_warn("preview: %d more images without alt text", count - 20);
	xmlFreeDoc(doc);
}

/* Writes data to path, whole or not at all. */
static int
write_output(const char *path, const char *data, size_t len)
{
	if (file_write_atomic(path, data, len, 0666, 0) == -1) {
		log_error("preview: %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The subscriber's name and attributes, when the store knows the address
 * (*si stays empty when not).  EXIT_OK, or the exit code of a store error.
 */
static int
find_subscriber(struct store *st, const char *email, struct sub_info *si)
{
	enum store_rc rc;
	bool found;

	rc = store_subs_find(st, email, si, &found);
	if (rc != STORE_OK) {
		log_error("preview: looking up %s: %s", email, store_errmsg(st));
		return rc == STORE_BUSY ? EXIT_TEMP : EXIT_FAIL;
	}
	if (!found)
		log_warn("preview: %s is not a subscriber; rendering for it anyway",
		    email);
	return EXIT_OK;
}

/*
 * --format eml: the exact message the subscriber would get, built by the
 * send stage's composer (real link tokens, headers, MIME), so a preview
 * cannot drift from what `send` produces.
 */
static int
build_eml(const struct config *cfg, const struct newsletter_conf *nl,
    const struct digest *d, const struct recipient *r, int64_t subscriber_id,
    struct buf *out, char **err)
{
	struct message_rcpt mr;
	struct message_ctx *mc;
	struct token_key *key;
	int rc;

	if ((key = token_key_load(cfg->secret_file, err)) == NULL)
		return -1;
	mc = message_ctx_new(cfg, nl, d, key);
	memset(&mr, 0, sizeof(mr));
	mr.subscriber_id = subscriber_id;
	mr.email = r->email;
	mr.name = r->name;
	mr.attributes = r->attributes_json;
	rc = message_build(mc, &mr, time(NULL), out, NULL, err) == 0 ? 0 : -1;
	message_ctx_free(mc);
	token_key_free(key);
	return rc;
}

int
cmd_preview(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "format",	required_argument, NULL, 'f' },
		{ "output",	required_argument, NULL, 'o' },
		{ "subscriber",	required_argument, NULL, 's' },
		{ "no-collect",	no_argument,	   NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	const struct newsletter_conf *nl;
	enum format fmt = FMT_TEXT;
	const char *output = NULL, *email = NULL;
	bool collect = true;
	struct store_draft dr;
	struct sub_info si = { 0 };
	struct digest *d = NULL;
	struct recipient r;
	struct buf text = BUF_INIT, html = BUF_INIT, out = BUF_INIT;
	char *err = NULL, *unsub = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "f:o:s:", longopts,
	    NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'f':
			if (strcmp(optarg, "text") == 0)
				fmt = FMT_TEXT;
			else if (strcmp(optarg, "html") == 0)
				fmt = FMT_HTML;
			else if (strcmp(optarg, "eml") == 0)
				fmt = FMT_EML;
			else
				return cli_usage_error(argv[0], "--format must be text, "
				    "html or eml, not \"%s\"", optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 's':
			email = optarg;
			break;
		case 'N':
			collect = false;
			break;
		case 'h':
			preview_usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error(argv[0], "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument \"%s\"",
		    argv[optind]);
	/* collecting writes (and may make the database); --no-collect reads */
	if ((rc = collect ? cli_create(cli) : cli_open(cli)) != EXIT_OK)
		return rc;
	if ((nl = cli_newsletter(cli)) == NULL)
		return EXIT_USAGE;
	if (collect) {
		/* a failing source is reported and the rest still previews */
		rc = collect_run(cli->store, nl, false, NULL);
		if (rc == EXIT_TEMP)
			return rc;
	}
	if (store_issue_draft(cli->store, nl->id, nl->max_articles, &dr) !=
	    STORE_OK) {
		log_error("preview: reading articles: %s", store_errmsg(cli->store));
		return EXIT_FAIL;
	}
	if (dr.n == 0) {
		printf("Nothing to preview: no article of %s is waiting for an issue.\n",
		    nl->id);
		store_draft_clear(&dr);
		return EXIT_OK;
	}
	d = digest_new(cli->cfg, nl, cli->store, dr.ids, dr.n, dr.number,
	    time(NULL), &err);
	store_draft_clear(&dr);
	if (d == NULL) {
		log_error("preview: %s", err ? err : "rendering failed");
		free(err);
		return EXIT_USAGE;
	}
	memset(&r, 0, sizeof(r));
	if (email) {
		if ((rc = find_subscriber(cli->store, email, &si)) != EXIT_OK)
			goto out;
		r.email = email;
		r.name = si.name;
		r.attributes_json = si.attributes;
	} else {
		r.email = "reader@example.org";
		r.name = "Sample Reader";
		r.attributes_json = "{}";
	}
	/* the real links carry a token (send stage); the preview shows their shape */
	if (cli->cfg->web.enabled && cli->cfg->web.base_url)
		unsub = xasprintf("%s/unsubscribe?t=preview", cli->cfg->web.base_url);
	else
		unsub = xasprintf("mailto:%s?subject=unsubscribe",
		    nl->bounce_address ? nl->bounce_address : nl->from_addr);
	r.unsubscribe_url = unsub;
	if (digest_render(d, &r, &text, &html) == -1) {
		log_error("preview: rendering failed (output too large)");
		rc = EXIT_FAIL;
		goto out;
	}
	if (html.len > GMAIL_CLIP)
		log_warn("preview: the HTML part is %zu KB; Gmail clips messages "
		    "over 102 KB (fewer articles: max_articles, or summaries)",
		    html.len / 1024);
	check_images(html.data, html.len);
	switch (fmt) {
	case FMT_TEXT:
		buf_add(&out, text.data, text.len);
		break;
	case FMT_HTML:
		buf_add(&out, html.data, html.len);
		break;
	case FMT_EML:
		if (build_eml(cli->cfg, nl, d, &r, si.id, &out, &err) == -1) {
			log_error("preview: building the message: %s", err);
			free(err);
			rc = EXIT_FAIL;
			goto out;
		}
		break;
	}
	if (output) {
		rc = write_output(output, out.data ? out.data : "", out.len) == 0 ?
		    EXIT_OK : EXIT_FAIL;
	} else {
		rc = fwrite(out.data ? out.data : "", 1, out.len, stdout) == out.len &&
		    fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	}
out:
	buf_free(&text);
	buf_free(&html);
	buf_free(&out);
	free(unsub);
	store_subs_info_free(&si);
	digest_free(d);
	return rc;
}
