/*
 * date: reading dates into UTC time_t, the one place herald does it: the
 * feed reader's lenient RFC 822 and ISO 8601 family (date_parse_feed), and
 * the strict RFC 3339 that folder front matter and subscriber imports take
 * (date_parse_rfc3339), on the same code.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "util.h"

#define DATE_MAX_TOKENS	16

struct when {
	int	year, mon, day;		/* mon 1..12 */
	int	hour, min, sec;
	long	off;			/* seconds east of UTC */
};

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
days_in_month(int year, int mon)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : dm[mon - 1];
}

static int
when_finish(const struct when *w, time_t *out)
{
	struct tm tm;
	time_t t;

	if (w->year < 1 || w->year > 9999 || w->mon < 1 || w->mon > 12 ||
	    w->day < 1 || w->day > days_in_month(w->year, w->mon) ||
	    w->hour < 0 || w->hour > 24 || w->min < 0 || w->min > 59 ||
	    w->sec < 0 || w->sec > 60 ||
	    (w->hour == 24 && (w->min != 0 || w->sec != 0)) ||
	    w->off < -18 * 3600 || w->off > 18 * 3600)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = w->year - 1900;
	tm.tm_mon = w->mon - 1;
	tm.tm_mday = w->day;
	tm.tm_hour = w->hour;
	tm.tm_min = w->min;
	tm.tm_sec = w->sec == 60 ? 59 : w->sec;	/* leap second */
	t = timegm(&tm);
	*out = t - w->off;
	return 0;
}

/* Reads exactly n digits; -1 if they are not there. */
static int
digits(const char **pp, int n)
{
	const char *p = *pp;
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*pp = p + n;
	return v;
}

/* "+hh:mm", "+hhmm", "+hh"; sets *off; returns 0 or -1. */
static int
numeric_zone(const char **pp, long *off)
{
	const char *p = *pp;
	int sign, h, m = 0;

	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if ((h = digits(&p, 2)) < 0)
		return -1;
	if (*p == ':')
		p++;
	if (is_digit((unsigned char)*p) && (m = digits(&p, 2)) < 0)
		return -1;
	if (h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600L + m * 60L);
	*pp = p;
	return 0;
}

/*
 * ISO 8601 / RFC 3339 / W3C-DTF, also "YYYYMMDD[Thhmmss]" and a space for
 * T.  strict: RFC 3339 only, as a date ("YYYY-MM-DD") or a date and a time
 * with seconds optional, and Z or a numeric offset or nothing.
 */
static int
parse_iso(const char *s, time_t *out, bool strict)
{
	struct when w = { 0, 1, 1, 0, 0, 0, 0 };
	const char *p = s;
	bool basic;

	if ((w.year = digits(&p, 4)) < 0)
		return -1;
	basic = is_digit((unsigned char)*p);
	if (strict && (basic || p[0] != '-' || !is_digit((unsigned char)p[1]) ||
	    !is_digit((unsigned char)p[2]) || p[3] != '-'))
		return -1;	/* a whole date, extended format */
	if (basic) {
		if ((w.mon = digits(&p, 2)) < 0 || (w.day = digits(&p, 2)) < 0)
			return -1;
	} else if (*p == '-') {
		p++;
		if ((w.mon = digits(&p, 2)) < 0)
			return -1;
		if (*p == '-') {
			p++;
			if ((w.day = digits(&p, 2)) < 0)
				return -1;
		}
	}
	if ((*p == 'T' || *p == 't' || *p == ' ') && is_digit((unsigned char)p[1])) {
		p++;
		if ((w.hour = digits(&p, 2)) < 0)
			return -1;
		if (strict && *p != ':')
			return -1;
		if (*p == ':')
			p++;
		if ((w.min = digits(&p, 2)) < 0)
			return -1;
		if (*p == ':' || (basic && is_digit((unsigned char)*p))) {
			if (*p == ':')
				p++;
			if ((w.sec = digits(&p, 2)) < 0)
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				if (!is_digit((unsigned char)*p))
					return -1;
				while (is_digit((unsigned char)*p))
					p++;
			}
		}
		while (*p == ' ')
			p++;
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			if (numeric_zone(&p, &w.off) < 0)
				return -1;
		} else if (!strict && (ascii_ncasecmp(p, "UTC", 3) == 0 ||
		    ascii_ncasecmp(p, "GMT", 3) == 0))
			p += 3;
	}
	while (*p == ' ')
		p++;
	if (*p != '\0')
		return -1;
	return when_finish(&w, out);
}

struct zone {
	const char	*name;
	int		 hours;		/* east of UTC */
	int		 minutes;
};

static const struct zone zones[] = {
	{ "UT", 0, 0 }, { "UTC", 0, 0 }, { "GMT", 0, 0 }, { "Z", 0, 0 },
	{ "EST", -5, 0 }, { "EDT", -4, 0 }, { "CST", -6, 0 }, { "CDT", -5, 0 },
	{ "MST", -7, 0 }, { "MDT", -6, 0 }, { "PST", -8, 0 }, { "PDT", -7, 0 },
	{ "AST", -4, 0 }, { "ADT", -3, 0 }, { "AKST", -9, 0 }, { "AKDT", -8, 0 },
	{ "HST", -10, 0 }, { "NST", -3, -30 }, { "NDT", -2, -30 },
	{ "ET", -5, 0 }, { "CT", -6, 0 }, { "MT", -7, 0 }, { "PT", -8, 0 },
	{ "AT", -4, 0 },
	{ "WET", 0, 0 }, { "WEST", 1, 0 }, { "BST", 1, 0 }, { "IST", 1, 0 },
	{ "CET", 1, 0 }, { "CEST", 2, 0 }, { "MET", 1, 0 }, { "MEST", 2, 0 },
	{ "MEZ", 1, 0 }, { "MESZ", 2, 0 }, { "EET", 2, 0 }, { "EEST", 3, 0 },
	{ "MSK", 3, 0 }, { "JST", 9, 0 }, { "KST", 9, 0 }, { "HKT", 8, 0 },
	{ "SGT", 8, 0 }, { "AEST", 10, 0 }, { "AEDT", 11, 0 },
	{ "ACST", 9, 30 }, { "AWST", 8, 0 }, { "NZST", 12, 0 }, { "NZDT", 13, 0 },
};

static const char *const months[12] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
};

static const char *const wdays[7] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	"sunday",
};

/* Word w (n letters) is a prefix of full, at least 3 letters long. */
static bool
word_is(const char *w, size_t n, const char *full)
{
	return n >= 3 && n <= strlen(full) && ascii_ncasecmp(w, full, n) == 0;
}

static int
month_of(const char *w, size_t n)
{
	for (int i = 0; i < 12; i++)
		if (word_is(w, n, months[i]))
			return i + 1;
	if (n == 4 && ascii_ncasecmp(w, "sept", 4) == 0)
		return 9;
	return 0;
}

/* Named or military zone; sets *off and returns 0, or -1. */
static int
named_zone(const char *w, size_t n, long *off)
{
	if (n == 1) {
		int c = w[0] | 0x20;

		if (c == 'z')
			*off = 0;
		else if (c >= 'a' && c <= 'i')
			*off = -(c - 'a' + 1) * 3600L;
		else if (c >= 'k' && c <= 'm')
			*off = -(c - 'a') * 3600L;
		else if (c >= 'n' && c <= 'y')
			*off = (c - 'n' + 1) * 3600L;
		else
			return -1;
		return 0;
	}
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strlen(zones[i].name) == n &&
		    ascii_ncasecmp(w, zones[i].name, n) == 0) {
			*off = zones[i].hours * 3600L +
			    (zones[i].hours < 0 ? -1 : 1) * zones[i].minutes * 60L;
			if (zones[i].hours == 0)
				*off = zones[i].minutes * 60L;
			return 0;
		}
	return -1;
}

/*
 * RFC 822 family: a bag of tokens (weekday, day, month name, year, time,
 * zone) in the orders real feeds use them, separated by spaces, commas,
 * dashes or slashes; parenthesised comments are skipped.
 */
static int
parse_rfc822(const char *s, time_t *out)
{
	struct when w = { -1, 0, -1, 0, 0, 0, 0 };
	const char *p = s;
	bool have_time = false, have_zone = false, pm = false, am = false;
	int ntok = 0;

	while (*p != '\0') {
		const char *t;
		size_t n;

		if (++ntok > DATE_MAX_TOKENS)
			return -1;
		if (*p == ' ' || *p == ',' || *p == '\t' || *p == '/' ||
		    (*p == '-' && !have_time) || *p == '.') {
			p++;
			ntok--;
			continue;
		}
		if (*p == '(') {		/* comment: "(GMT)", "(Eastern)" */
			const char *q = strchr(p, ')');

			if (q == NULL)
				break;
			p = q + 1;
			continue;
		}
		t = p;
		if (is_alpha((unsigned char)*p)) {
			int m;
			long off;

			while (is_alpha((unsigned char)*p))
				p++;
			n = (size_t)(p - t);
			if ((m = month_of(t, n)) != 0 && w.mon == 0) {
				w.mon = m;
				continue;
			}
			if (!have_time && w.mon == 0) {
				bool wd = false;

				for (int i = 0; i < 7; i++)
					wd |= word_is(t, n, wdays[i]);
				if (wd)
					continue;
			}
			if (n == 2 && ascii_ncasecmp(t, "am", 2) == 0 && have_time) {
				am = true;
				continue;
			}
			if (n == 2 && ascii_ncasecmp(t, "pm", 2) == 0 && have_time) {
				pm = true;
				continue;
			}
			if (have_zone || named_zone(t, n, &off) < 0)
				return -1;
			have_zone = true;
			w.off = off;
			/* "GMT+0200", "UTC-5" */
			if (*p == '+' || *p == '-') {
				long extra;
				const char *q = p + 1;
				int h = 0, nd = 0;

				if (numeric_zone(&p, &extra) == 0) {
					w.off += extra;
					continue;
				}
				while (is_digit((unsigned char)*q) && nd < 2)
					h = h * 10 + (*q++ - '0'), nd++;
				if (nd == 0 || is_digit((unsigned char)*q) || h > 14)
					return -1;
				w.off += (*p == '-' ? -1 : 1) * h * 3600L;
				p = q;
			}
			continue;
		}
		if (*p == '+' || *p == '-') {
			long off;

			if (have_zone || numeric_zone(&p, &off) < 0)
				return -1;
			if (is_digit((unsigned char)*p))
				return -1;
			have_zone = true;
			w.off = off;
			continue;
		}
		if (!is_digit((unsigned char)*p))
			return -1;
		while (is_digit((unsigned char)*p))
			p++;
		n = (size_t)(p - t);
		if (*p == ':') {		/* hh:mm[:ss] */
			const char *q = t;

			if (have_time || n > 2)
				return -1;
			w.hour = (int)(n == 2 ? (t[0] - '0') * 10 + t[1] - '0' : t[0] - '0');
			q = p + 1;
			if ((w.min = digits(&q, 2)) < 0)
				return -1;
			if (*q == ':') {
				q++;
				if ((w.sec = digits(&q, 2)) < 0)
					return -1;
				if (*q == '.')
					for (q++; is_digit((unsigned char)*q); q++)
						;
			}
			p = q;
			have_time = true;
			continue;
		}
		if (n > 4)
			return -1;
		{
			int v = 0;

			for (size_t i = 0; i < n; i++)
				v = v * 10 + (t[i] - '0');
			if (n <= 2 && w.day < 0 && !(w.mon != 0 && w.year >= 0)) {
				w.day = v;
			} else if (w.year < 0) {
				if (n == 4)
					w.year = v;
				else if (n == 3)
					w.year = 1900 + v;
				else
					w.year = v < 50 ? 2000 + v : 1900 + v;
			} else
				return -1;
		}
	}
	if (w.year < 0 || w.mon == 0 || w.day < 0)
		return -1;
	if (pm || am) {
		if (w.hour < 1 || w.hour > 12)
			return -1;
		if (pm && w.hour != 12)
			w.hour += 12;
		if (am && w.hour == 12)
			w.hour = 0;
	}
	return when_finish(&w, out);
}

int
date_parse_rfc3339(const char *s, time_t *out)
{
	if (s == NULL)
		return -1;
	return parse_iso(s, out, true);
}

int
date_parse_feed(const char *s, time_t *out)
{
	char tmp[128];
	size_t n, i, j;

	if (s == NULL)
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	/* Inner runs of whitespace become one space. */
	for (i = 0, j = 0; i < n; i++) {
		char c = s[i];

		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && j > 0 && tmp[j - 1] == ' ')
			continue;
		tmp[j++] = c;
	}
	tmp[j] = '\0';
	if (j >= 4 && is_digit((unsigned char)tmp[0]) &&
	    is_digit((unsigned char)tmp[1]) && is_digit((unsigned char)tmp[2]) &&
	    is_digit((unsigned char)tmp[3]) && parse_iso(tmp, out, false) == 0)
		return 0;
	return parse_rfc822(tmp, out);
}
