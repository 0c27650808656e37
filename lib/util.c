#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t len, k;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else
			return false;
		if (n - i < len)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

int
json_str(struct buf *b, const char *s)
{
	const unsigned char *p;
	int r = 0;

	if (s == NULL)
		return buf_adds(b, "null");
	r |= buf_addc(b, '"');
	for (p = (const unsigned char *)s; *p; p++) {
		const unsigned char *start = p;

		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p > start)
			r |= buf_add(b, start, (size_t)(p - start));
		if (*p == '\0')
			break;
		switch (*p) {
		case '"':  r |= buf_adds(b, "\\\""); break;
		case '\\': r |= buf_adds(b, "\\\\"); break;
		case '\n': r |= buf_adds(b, "\\n"); break;
		case '\r': r |= buf_adds(b, "\\r"); break;
		case '\t': r |= buf_adds(b, "\\t"); break;
		default:   r |= buf_printf(b, "\\u%04x", *p); break;
		}
	}
	r |= buf_addc(b, '"');
	return r ? -1 : 0;
}

int
csv_field(struct buf *b, const char *s)
{
	int r = 0;

	if (s == NULL)
		return 0;
	if (strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ' &&
	    (s[0] == '\0' || s[strlen(s) - 1] != ' '))
		return buf_adds(b, s);
	r |= buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			r |= buf_addc(b, '"');
		r |= buf_addc(b, *s);
	}
	r |= buf_addc(b, '"');
	return r ? -1 : 0;
}

void
time_rfc3339(time_t t, char out[static 21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

long
duration_parse(const char *s)
{
	long total = 0;
	int parts = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s) {
		long v = 0, mul;
		int digits = 0;

		while (*s >= '0' && *s <= '9') {
			if (v > 100000000)
				return -1;
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (digits == 0)
			return -1;
		switch (*s) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 7 * 86400; break;
		default: return -1;
		}
		s++;
		if (v > ((10L * 366 * 86400) - total) / mul)
			return -1;
		total += v * mul;
		parts++;
	}
	return parts ? total : -1;
}

void
duration_format(long secs, char *out, size_t outlen)
{
	static const struct { long n; char u; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t used = 0, i;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (secs <= 0) {
		snprintf(out, outlen, "0s");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]) && used < outlen; i++) {
		if (secs >= units[i].n) {
			int w = snprintf(out + used, outlen - used, "%ld%c",
			    secs / units[i].n, units[i].u);
			if (w < 0)
				return;
			used += (size_t)w;
			secs %= units[i].n;
		}
	}
}

int
ascii_ncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int ca = (unsigned char)*a, cb = (unsigned char)*b;

		if (ca >= 'A' && ca <= 'Z')
			ca += 32;
		if (cb >= 'A' && cb <= 'Z')
			cb += 32;
		if (ca != cb)
			return ca - cb;
		if (ca == 0)
			return 0;
	}
	return 0;
}

int
ascii_casecmp(const char *a, const char *b)
{
	return ascii_ncasecmp(a, b, SIZE_MAX);
}

void
ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 32;
}

int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
