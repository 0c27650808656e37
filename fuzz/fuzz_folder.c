/*
 * Fuzz target: the folder article reader (.txt and .md) from memory.
 * The first byte picks the format, the rest is the file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "feed.h"
#include "folder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed *f;
	char *err = NULL;
	const char *name;

	if (size == 0)
		return 0;
	name = (data[0] & 1) ? "fuzz.md" : "fuzz.txt";
	f = folder_parse(name, (const char *)data + 1, size - 1, 0, &err);
	if (f == NULL && err == NULL)
		abort();	/* an error always says why */
	if (f && (f->nentries != 1 || f->entries[0].title == NULL ||
	    f->entries[0].guid == NULL))
		abort();
	feed_free(f);
	free(err);
	return 0;
}
