/*
 * store_copy: moves a whole database from one store to another, SQLite to
 * PostgreSQL or back (herald store copy, issue 14).
 */
#ifndef HERALD_STORE_COPY_H
#define HERALD_STORE_COPY_H

#include <stddef.h>

#include "store.h"

#define STORE_NTABLES	8

/*
 * Copies every row of every table of `from` into `to`, which must be
 * empty (both at this binary's schema version: open them with
 * store_open), in one transaction on `to`: all or nothing.  Which sender
 * held a delivery is not copied.  counts[i] gets the rows of table i
 * (store_copy_table(i) names it).  *err (caller frees) on failure.
 */
enum store_rc	 store_copy(struct store *from, struct store *to,
		    long counts[STORE_NTABLES], char **err) STORE_WUR;
const char	*store_copy_table(size_t i);

#endif
