/*
 * Fuzz target: the HTML sanitiser and title text extraction.  Checks that
 * no event attribute or script element survives sanitising, and that the
 * fast path (no parser) writes exactly what libxml2's parser and the tree
 * walk write.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = sanitize_html((const char *)data, size, "https://fuzz.example/a/");
	char *t = sanitize_text((const char *)data, size);
	struct sanitize_ctx *sc = sanitize_ctx_new();
	char *slow;

	sanitize_ctx_fast(sc, 0);
	slow = sanitize_html_in(sc, (const char *)data, size, "https://fuzz.example/a/");
	sanitize_ctx_free(sc);
	if (strcmp(h, slow) != 0)
		abort();
	free(slow);

	/* Every '<' the sanitiser writes starts one of its own tags. */
	for (const char *p = h; (p = strchr(p, '<')) != NULL; p++) {
		if (strncmp(p, "<script", 7) == 0 || strncmp(p, "<style", 6) == 0 ||
		    strncmp(p, "<iframe", 7) == 0)
			abort();
	}
	if (strstr(h, " on") != NULL) {
		/* Only inside text or attribute values, never as an attribute name. */
		for (const char *p = h; (p = strstr(p, " on")) != NULL; p++) {
			const char *lt = p, *gt;

			while (lt > h && *lt != '<' && *lt != '>')
				lt--;
			if (*lt != '<')
				continue;	/* in text */
			gt = strchr(p, '>');
			/* inside a tag: must be inside a quoted value */
			{
				int quotes = 0;

				for (const char *q = lt; q < p; q++)
					quotes += *q == '"';
				if (quotes % 2 == 0 && gt != NULL)
					abort();
			}
		}
	}
	free(h);
	free(t);
	return 0;
}
