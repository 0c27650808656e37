/*
 * date: the dates herald reads, as UTC.
 *
 * date_parse_feed: what feeds carry.  RFC 822/2822 and their common
 * variants (two-digit years, RFC 850 dashes, asctime order, named, numeric
 * and military zones, no seconds, no weekday, a wrong weekday) and RFC 3339
 * / ISO 8601 / W3C-DTF (date only, no seconds, fractions, Z or offsets).
 * A time without a zone is taken as UTC.  Anything else is refused: no
 * guessing.
 *
 * date_parse_rfc3339: what herald's own inputs take (folder front matter,
 * subscriber imports): "YYYY-MM-DD", or a date, 'T' (or a space) and
 * hh:mm[:ss[.fraction]], then Z, a numeric offset or nothing (UTC).
 *
 * Both set *out and return 0, or return -1 (invalid dates such as 30
 * February or 25:00 included).
 */
#ifndef HERALD_DATE_H
#define HERALD_DATE_H

#include <time.h>

int	date_parse_feed(const char *s, time_t *out);
int	date_parse_rfc3339(const char *s, time_t *out);

#endif
