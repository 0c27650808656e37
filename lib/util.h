/*
 * util: small shared helpers (UTF-8, JSON/CSV output, time, exit codes).
 */
#ifndef HERALD_UTIL_H
#define HERALD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

/* Exit codes: the contract of DESIGN §3. */
enum {
	EXIT_OK = 0,		/* success */
	EXIT_FAIL = 1,		/* the operation ran and failed */
	EXIT_USAGE = 2,		/* usage or configuration error */
	EXIT_TEMP = 3,		/* temporary condition worth retrying */
};

#ifndef HERALD_VERSION
#define HERALD_VERSION "0.1.0"
#endif

/* True when s[0..n) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool	utf8_valid(const char *s, size_t n);

/* Appends s as a JSON string literal (with quotes); NULL appends null. */
int	json_str(struct buf *b, const char *s);
/* Appends one RFC 4180 CSV field (quoted when needed); NULL is empty. */
int	csv_field(struct buf *b, const char *s);

/* RFC 3339 UTC ("2026-11-24T07:00:00Z") into out (at least 21 bytes). */
void	time_rfc3339(time_t t, char out[static 21]);
/* Parses a duration such as 30s, 15m, 6h, 1d, 2w (also "1h30m"); -1 on error. */
long	duration_parse(const char *s);
/* Formats seconds as "15m", "6h", "1d2h"... into out. */
void	duration_format(long secs, char *out, size_t outlen);

/* ASCII case-insensitive helpers (locale-independent). */
int	ascii_casecmp(const char *a, const char *b);
int	ascii_ncasecmp(const char *a, const char *b, size_t n);
void	ascii_lower(char *s);

/* strtol wrapper: whole string must be a base-10 number in [min,max]. */
int	parse_long(const char *s, long min, long max, long *out);

#endif
