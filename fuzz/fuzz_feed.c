/*
 * Fuzz target: the feed parser (decoding, repair, libxml2, the walk) and
 * both output forms.  The first byte picks an HTTP charset to pass.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = { NULL, "utf-8", "iso-8859-1",
	    "utf-16", "koi8-r", "bogus-charset" };
	const char *cs = NULL;
	struct feed *f;
	char *err = NULL;

	if (size > 0) {
		cs = charsets[data[0] % 6];
		if (data[0] >= 6 && data[0] != '<' && data[0] != 0xef &&
		    data[0] != 0xff && data[0] != 0xfe)
			cs = NULL;
	}
	f = feed_parse((const char *)data, size, "https://fuzz.example/a/b.xml",
	    cs, &err);
	if (f != NULL) {
		struct buf b = BUF_INIT;

		feed_json(f, &b);
		feed_text(f, &b);
		buf_free(&b);
		feed_free(f);
	} else if (err == NULL) {
		abort();	/* NULL must come with a reason */
	}
	free(err);
	return 0;
}
