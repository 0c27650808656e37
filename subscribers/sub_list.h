/*
 * sub_list: writes a newsletter's subscriptions as a table, CSV or JSON.
 *
 * CSV is RFC 4180, UTF-8, CRLF-free (LF line ends), with a header row:
 *   list:   email,name,status,created
 *   export: email,name,status,created,<attribute keys, sorted>
 * `created` is RFC 3339 UTC.  The export form is what sub_import reads, so
 * export -> import into an empty database -> export gives the same bytes.
 * JSON is an array of objects {email, name, status, created, attributes},
 * one per line.  Rows are streamed, oldest subscriber first.
 */
#ifndef HERALD_SUB_LIST_H
#define HERALD_SUB_LIST_H

#include <stdbool.h>
#include <stdio.h>

#include "store_subs.h"

enum sub_list_format {
	SUB_LIST_TABLE,
	SUB_LIST_CSV,
	SUB_LIST_JSON,
};

/*
 * Writes the subscriptions of nl (only those with *filter when not NULL) to
 * out; `export` adds the attribute columns to CSV.  Write errors show in
 * ferror(out).
 */
enum store_rc	sub_list(struct store *, const char *nl,
		    const enum sub_status *filter, enum sub_list_format,
		    bool export, FILE *out);

#endif
