/*
 * Fuzzes bounce_parse(): any bytes, as a message from the bounce mailbox.
 * Whatever the input, the result must be consistent: a kind it names,
 * recipients and VERP candidates that contain an '@', strings without
 * CR/LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_line(const char *s)
{
	if (s && strpbrk(s, "\r\n"))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce b;
	size_t i;
	const char *reason = NULL;

	bounce_parse((const char *)data, size, &b);
	if (strcmp(bounce_kind_name(b.kind), "unknown") == 0 &&
	    b.kind != BOUNCE_UNKNOWN)
		abort();
	for (i = 0; i < b.nrcpt; i++) {
		if (strchr(b.rcpt[i].addr, '@') == NULL)
			abort();
		check_line(b.rcpt[i].diag);
	}
	for (i = 0; i < b.nverp; i++)
		if (strchr(b.verp[i], '+') == NULL || strchr(b.verp[i], '@') == NULL)
			abort();
	check_line(b.subject);
	check_line(b.diag);
	bounce_free(&b);
	/* the classifier alone, on the same bytes as text */
	if (size < 4096) {
		char *t = malloc(size + 1);

		if (t == NULL)
			return 0;
		memcpy(t, data, size);
		t[size] = '\0';
		(void)bounce_classify(size > 5 ? t : NULL, t, t, 0, &reason);
		free(t);
	}
	return 0;
}
