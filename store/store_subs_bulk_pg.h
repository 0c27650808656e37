/*
 * store_subs_bulk_pg: the writes of store_subs_bulk.h on PostgreSQL, for
 * store_subs_bulk.c only (same contracts as store_subs_bulk_insert() and
 * store_subs_bulk_subscribe()).
 */
#ifndef HERALD_STORE_SUBS_BULK_PG_H
#define HERALD_STORE_SUBS_BULK_PG_H

#include "store_subs_bulk.h"

/*
 * What follows b->prefix in a row's event detail, for both backends: the
 * line number and, unless the status is active, " as STATUS"; written to
 * out (not terminated), its length returned.
 */
#define SUB_BULK_TAIL	48
size_t		 store_subs_bulk_tail(const struct sub_bulk_row *,
		    char out[SUB_BULK_TAIL]);
enum store_rc	 store_subs_bulk_pg_insert(struct store *,
		    const struct sub_bulk *b, long *added) STORE_WUR;
enum store_rc	 store_subs_bulk_pg_subscribe(struct store *, const char *nl,
		    const struct sub_bulk *b, time_t at) STORE_WUR;
#endif
