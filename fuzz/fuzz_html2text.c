/* Fuzz target: html2text (libxml2's HTML parser, wrapping, link references). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html2text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct html2text_links links = { .max = 64 };	/* the cap too */
	struct buf b = BUF_INIT;
	char *s;

	if (size > 1 << 18)
		return 0;
	s = html2text((const char *)data, size, size ? 20 + data[0] % 80 : 72, &links);
	html2text_wrap(&b, s, strlen(s), 30);
	html2text_wrap(&b, (const char *)data, size, 72);
	free(s);
	buf_free(&b);
	html2text_links_free(&links);
	return 0;
}
