/*
 * Fuzzes the streaming CSV reader: every input must end in a record list,
 * the end, or a fatal error, with each field NUL-terminated at its length,
 * line numbers never going down, and no more records than input bytes + 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sub_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader *r = csv_reader_mem(data, size);
	const struct csv_record *rec;
	unsigned long last = 0;
	size_t n = 0, i;
	int rc;

	while ((rc = csv_read(r, &rec)) == 1) {
		if (rec->line < last || ++n > size + 1)
			abort();
		last = rec->line;
		for (i = 0; i < rec->nfields; i++)
			if (strlen(rec->fields[i]) != rec->lens[i])
				abort();	/* NUL is a fatal error */
	}
	if (rc == -1 && csv_reader_error(r) == NULL)
		abort();
	if (csv_read(r, &rec) != rc)	/* stays at the end or failed */
		abort();
	csv_reader_free(r);
	return 0;
}
