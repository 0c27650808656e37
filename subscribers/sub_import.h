/*
 * sub_import: CSV import of subscribers into one newsletter.
 *
 * The input streams through the CSV reader; memory holds one batch of
 * valid rows (about 180 bytes a row), the SQLite page cache (24 MiB while
 * importing) and 8 bytes per address that the database knew before (to
 * report later rows of it as duplicates), never the file.  Each batch goes
 * into each table with one INSERT ... SELECT, in file order, so ids follow
 * the file's order.
 *
 * Header row: the `email` column is found in any case and position; `name`,
 * `status` (pending|active|unsubscribed|bounced, default active) and
 * `created` (RFC 3339 or YYYY-MM-DD, default now) are read as such; every
 * other column becomes an attribute (header as key, empty values left out).
 *
 * Each valid row either adds a subscription (and the subscriber, when the
 * address is new) or is counted as already subscribed, or as skipped when
 * that address unsubscribed or bounced from this newsletter: an import never
 * re-activates anyone and never changes an existing subscriber.  A second
 * run of the same file therefore changes nothing.
 *
 * Writes happen in transactions of `batch` rows.  A database error rolls
 * back the current batch (earlier batches stay: they hold only valid rows,
 * and running the import again is safe).  A fatal input error (not UTF-8,
 * a NUL byte, a quote never closed) stops the import the same way.  A dry
 * run does all the work in one transaction and rolls it back, so its report
 * is exactly what a real run would say, and nothing changes.
 */
#ifndef HERALD_SUB_IMPORT_H
#define HERALD_SUB_IMPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "store.h"

struct sub_import_opts {
	const char	*newsletter;
	const char	*name;		/* input name for messages ("-": stdin) */
	bool		 dry_run;
	long		 batch;		/* rows per transaction; 0: 50000 */
	long		 wal_pages;	/* WAL size kept to; 0: 65536 */
	unsigned	 ckpt_lag_ms;	/* tests: checkpointer starts late */
	FILE		*errors;	/* bad rows reported here, or NULL */
};

struct sub_import_report {
	long		 rows;		/* data records read (blank lines not) */
	long		 added;
	long		 already;	/* active or pending already */
	long		 unsubscribed;	/* skipped: unsubscribed before */
	long		 bounced;	/* skipped: bounced before */
	long		 duplicates;	/* same address earlier in the file */
	long		 bad;		/* invalid rows (reported) */
	long		 committed;	/* rows added and committed */
};

/*
 * Imports from fd.  Returns STORE_OK when the whole input was read (bad
 * rows counted in the report), STORE_BUSY when the database stayed locked,
 * STORE_ERR on a database error or an input that cannot be imported (not
 * CSV text, no email column, empty); *err then says why (caller frees).
 */
enum store_rc	sub_import(struct store *, int fd,
		    const struct sub_import_opts *, struct sub_import_report *,
		    char **err);

#endif
