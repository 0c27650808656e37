/*
 * Fuzzes the SMTP reply parser and classifier (smtp.h): server bytes in any
 * split, as libcurl's debug callback hands them over.  The first byte picks
 * the split size; the reply kept must stay a bounded C string.
 */
#include <stdint.h>
#include <string.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	size_t step, off;

	if (size == 0)
		return 0;
	step = (size_t)(data[0] % 16) + 1;
	data++;
	size--;
	smtp_reply_init(&r);
	for (off = 0; off < size; off += step)
		smtp_reply_feed(&r, (const char *)data + off,
		    size - off < step ? size - off : step);
	if (strlen(r.text) >= sizeof(r.text) ||
	    strlen(r.err_text) >= sizeof(r.err_text))
		__builtin_trap();
	if (r.code != 0 && (r.code < 200 || r.code > 599))
		__builtin_trap();
	(void)smtp_classify(r.code ? 56 : 0, r.code, size % 2 == 0);
	return 0;
}
