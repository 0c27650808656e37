/*
 * feed_date: the dates feeds carry, as UTC.
 *
 * RFC 822/2822 and their common variants (two-digit years, RFC 850 dashes,
 * asctime order, named, numeric and military zones, no seconds, no
 * weekday, a wrong weekday) and RFC 3339 / ISO 8601 / W3C-DTF (date only,
 * no seconds, fractions, Z or offsets).  A time without a zone is taken as
 * UTC.  Anything else is refused: no guessing.
 */
#ifndef HERALD_FEED_DATE_H
#define HERALD_FEED_DATE_H

#include <time.h>

/* Sets *out and returns 0, or returns -1 when s is not a date we know. */
int	feed_date_parse(const char *s, time_t *out);

#endif
