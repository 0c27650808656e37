/*
 * schedule: the `schedule:` of a newsletter, a 5-field cron expression
 * (minute hour day-of-month month day-of-week, with lists, ranges, steps,
 * JAN-DEC and SUN-SAT names, 7 = Sunday, and @daily-style shorthands) or
 * "every <duration>".
 *
 * Next times are found in wall-clock time of the newsletter's zone: a wall
 * time that a DST change skips runs at the shifted time (mktime's
 * normalisation), one that happens twice runs once.  The zone is applied
 * with TZ + tzset() and restored afterwards, so this is not thread-safe.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "xmalloc.h"

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may",
    "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat" };

struct field {
	const char	*name;
	int		 min, max;
	const char *const *names;	/* names for min.. or NULL */
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day of week", 0, 7, dow_names },
};

static char why_buf[160];	/* for messages naming a field */

/* One number or name at *p; advances *p. */
static int
field_value(const struct field *f, const char **p, int *out)
{
	const char *s = *p;
	int v = 0, digits = 0, i;

	if (f->names && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) {
		for (i = 0; i < (f->max == 7 ? 7 : 12); i++) {
			if (ascii_ncasecmp(s, f->names[i], 3) == 0 &&
			    !((s[3] >= 'a' && s[3] <= 'z') ||
			    (s[3] >= 'A' && s[3] <= 'Z'))) {
				*out = i + f->min;
				*p = s + 3;
				return 0;
			}
		}
		return -1;
	}
	while (*s >= '0' && *s <= '9' && digits < 3) {
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || (*s >= '0' && *s <= '9'))
		return -1;
	*out = v;
	*p = s;
	return 0;
}

/* Parses one field (text [s, e)) into a bit set. */
static int
field_parse(const struct field *f, const char *s, const char *e,
    uint64_t *bits, bool *star, const char **why)
{
	char tmp[64];
	const char *p;
	size_t n = (size_t)(e - s);

	*bits = 0;
	*star = (*s == '*');
	if (n >= sizeof(tmp)) {
		snprintf(why_buf, sizeof(why_buf), "the %s field is too long",
		    f->name);
		*why = why_buf;
		return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	p = tmp;
	for (;;) {
		int lo, hi, step = 1, v;
		bool range = false;

		if (*p == '*') {
			lo = f->min;
			hi = f->max == 7 ? 6 : f->max;
			range = true;
			p++;
		} else {
			if (field_value(f, &p, &lo) == -1)
				goto bad;
			hi = lo;
			if (*p == '-') {
				p++;
				if (field_value(f, &p, &hi) == -1)
					goto bad;
				range = true;
			}
		}
		if (*p == '/') {
			p++;
			if (field_value(&fields[0], &p, &step) == -1 ||
			    step < 1) {
				snprintf(why_buf, sizeof(why_buf), "the step in "
				    "the %s field must be a number from 1",
				    f->name);
				*why = why_buf;
				return -1;
			}
			if (!range)
				hi = f->max == 7 ? 6 : f->max;
		}
		if (lo < f->min || lo > f->max || hi < f->min || hi > f->max) {
			snprintf(why_buf, sizeof(why_buf), "the %s field allows "
			    "%d to %d", f->name, f->min, f->max);
			*why = why_buf;
			return -1;
		}
		if (lo > hi) {
			snprintf(why_buf, sizeof(why_buf), "the range %d-%d in "
			    "the %s field goes backwards", lo, hi, f->name);
			*why = why_buf;
			return -1;
		}
		for (v = lo; v <= hi; v += step)
			*bits |= (uint64_t)1 << (f->max == 7 && v == 7 ? 0 : v);
		if (*p == '\0')
			break;
		if (*p != ',')
			goto bad;
		p++;
	}
	return 0;
bad:
	snprintf(why_buf, sizeof(why_buf), "cannot read the %s field%s",
	    f->name, f->names ? (f->max == 7 ? " (0-7 or sun-sat)" :
	    " (1-12 or jan-dec)") : "");
	*why = why_buf;
	return -1;
}

/*
 * False when the day-of-month and month fields never meet (0 0 31 2 *).
 * With either day field "*" a day must match both, else either (and a
 * weekday always comes round).
 */
static bool
cron_can_fire(const struct schedule *s)
{
	static const int maxd[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int m, d;

	if (!s->dom_star && !s->dow_star)
		return true;
	for (m = 1; m <= 12; m++)
		for (d = 1; (s->month >> m) & 1 && d <= maxd[m - 1]; d++)
			if ((s->dom >> d) & 1)
				return true;
	return false;
}

int
schedule_parse(const char *text, struct schedule *out, const char **why)
{
	static const struct {
		const char *name, *expr;
	} macros[] = {
		{ "@hourly", "0 * * * *" },
		{ "@daily", "0 0 * * *" },
		{ "@midnight", "0 0 * * *" },
		{ "@weekly", "0 0 * * 0" },
		{ "@monthly", "0 0 1 * *" },
		{ "@yearly", "0 0 1 1 *" },
		{ "@annually", "0 0 1 1 *" },
	};
	const char *s, *start[6], *end[6];
	uint64_t bits[5];
	bool star[5];
	size_t i, n;

	memset(out, 0, sizeof(*out));
	s = text;
	while (*s == ' ' || *s == '\t')
		s++;
	if (ascii_ncasecmp(s, "every", 5) == 0 &&
	    (s[5] == ' ' || s[5] == '\t' || s[5] == '\0')) {
		char tmp[64];
		size_t len;
		long secs;

		s += 5;
		while (*s == ' ' || *s == '\t')
			s++;
		len = strlen(s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(tmp)) {
			*why = "expected a duration after 'every', such as "
			    "'every 6h'";
			return -1;
		}
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if ((secs = duration_parse(tmp)) == -1) {
			*why = "expected a duration after 'every', such as "
			    "30m, 6h or 1d";
			return -1;
		}
		if (secs < 60) {
			*why = "the shortest schedule is 'every 1m'";
			return -1;
		}
		out->every = true;
		out->period = secs;
		return 0;
	}
	if (*s == '@') {
		for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
			size_t l = strlen(macros[i].name);

			if (ascii_ncasecmp(s, macros[i].name, l) == 0 &&
			    s[l + strspn(s + l, " \t")] == '\0')
				return schedule_parse(macros[i].expr, out, why);
		}
		*why = "unknown shorthand (@hourly, @daily, @weekly, @monthly "
		    "or @yearly)";
		return -1;
	}
	for (n = 0; *s; n++) {
		if (n == 5) {
			n++;
			break;
		}
		start[n] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		end[n] = s;
		while (*s == ' ' || *s == '\t')
			s++;
	}
	if (n != 5) {
		*why = n > 5 ? "more than 5 fields (minute hour day-of-month "
		    "month day-of-week)" : "expected 5 fields (minute hour "
		    "day-of-month month day-of-week)";
		return -1;
	}
	for (i = 0; i < 5; i++)
		if (field_parse(&fields[i], start[i], end[i], &bits[i],
		    &star[i], why) == -1)
			return -1;
	out->minute = bits[0];
	out->hour = (uint32_t)bits[1];
	out->dom = (uint32_t)bits[2];
	out->month = (uint16_t)bits[3];
	out->dow = (uint8_t)bits[4];
	out->dom_star = star[2];
	out->dow_star = star[4];
	if (!cron_can_fire(out)) {
		*why = "no month it names has such a day (like 31 February), "
		    "so it would never run";
		return -1;
	}
	return 0;
}

/* ---- next run ---- */

void
tz_use(struct tz_saved *t, const char *tz)
{
	const char *old = getenv("TZ");
	char *v;

	t->had = old != NULL;
	t->old = old ? xstrdup(old) : NULL;
	v = xasprintf(":%s", tz && *tz ? tz : "UTC");
	setenv("TZ", v, 1);
	free(v);
	tzset();
}

void
tz_restore(struct tz_saved *t)
{
	if (t->had)
		setenv("TZ", t->old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(t->old);
	t->old = NULL;
}

static int
days_in_month(int y, int m)	/* m 1..12 */
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int
weekday(int y, int m, int d)	/* 0 = Sunday */
{
	static const int t[] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };

	if (m < 3)
		y -= 1;
	return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static bool
day_matches(const struct schedule *s, int y, int m, int d)
{
	bool dom = (s->dom >> d) & 1, dow = (s->dow >> weekday(y, m, d)) & 1;

	if (s->dom_star || s->dow_star)
		return dom && dow;
	return dom || dow;
}

/*
 * The earliest instant after `after` whose local wall time is y-m-d h:mi.
 * A wall time that happens twice (autumn) has two instants, as far apart
 * as the change (an hour; 30 minutes on Lord Howe Island; two hours at
 * Troll): every instant within two hours of mktime's answer, in 15-minute
 * steps, is tried.  One that does not happen (spring gap) gives mktime's
 * shifted instant.  Returns -1 when none is after `after`.
 */
static time_t
wall_to_time(int y, int m, int d, int h, int mi, time_t after)
{
	struct tm tm = { 0 };
	time_t t, best = -1;
	bool exists = false;
	int k;

	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -1;
	for (k = -8; k <= 8; k++) {
		time_t c = t + (time_t)k * 900;
		struct tm lt;

		if (localtime_r(&c, &lt) == NULL)
			continue;
		if (lt.tm_year != y - 1900 || lt.tm_mon != m - 1 ||
		    lt.tm_mday != d || lt.tm_hour != h || lt.tm_min != mi)
			continue;
		exists = true;
		if (c > after && (best == -1 || c < best))
			best = c;
	}
	if (!exists && t > after)
		best = t;
	return best;
}

/*
 * `every P`: the local wall times that are multiples of P counted from
 * local midnight of 1970-01-01 (every 6h: 00:00, 06:00, 12:00, 18:00 in the
 * newsletter's zone, summer and winter alike).  Each candidate wall time is
 * turned into an instant by wall_to_time(); one that happened already (the
 * second pass through an autumn hour) is skipped.
 */
static time_t
next_every(const struct schedule *s, time_t after)
{
	struct tm tm;
	time_t local, t;
	int i;

	localtime_r(&after, &tm);
	local = after + tm.tm_gmtoff;
	local = local - (local % s->period) + s->period;
	for (i = 0; i < 16; i++, local += s->period) {
		struct tm w;

		gmtime_r(&local, &w);
		t = wall_to_time(w.tm_year + 1900, w.tm_mon + 1, w.tm_mday,
		    w.tm_hour, w.tm_min, after);
		if (t != -1)
			return t;
	}
	return after + s->period;	/* not reached */
}

time_t
schedule_next(const struct schedule *s, const char *tz, time_t after)
{
	struct tz_saved save;
	struct tm now;
	time_t result = (time_t)-1;
	int y, m, d, h, mi, days;
	bool first = true;

	tz_use(&save, tz);
	if (s->every) {
		result = next_every(s, after);
		goto out;
	}
	localtime_r(&after, &now);
	y = now.tm_year + 1900;
	m = now.tm_mon + 1;
	d = now.tm_mday;
	/* bounded: about 5 years of days */
	for (days = 0; days < 5 * 366 + 2; days++) {
		if (((s->month >> m) & 1) && day_matches(s, y, m, d)) {
			for (h = first ? now.tm_hour : 0; h < 24; h++) {
				if (!((s->hour >> h) & 1))
					continue;
				for (mi = (first && h == now.tm_hour) ?
				    now.tm_min + 1 : 0; mi < 60; mi++) {
					time_t t;

					if (!((s->minute >> mi) & 1))
						continue;
					t = wall_to_time(y, m, d, h, mi, after);
					if (t != -1) {
						result = t;
						goto out;
					}
				}
			}
		}
		first = false;
		if (++d > days_in_month(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
out:
	tz_restore(&save);
	return result;
}

void
schedule_time_local(time_t t, const char *tz, char *out, size_t outlen)
{
	struct tz_saved save;
	struct tm tm;

	tz_use(&save, tz);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M %Z", &tm) == 0)
		snprintf(out, outlen, "?");
	tz_restore(&save);
}

/* ---- description ---- */

static int
popcount64(uint64_t v)
{
	int n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

static int
lowest(uint64_t v)
{
	int i;

	for (i = 0; i < 64; i++)
		if ((v >> i) & 1)
			return i;
	return -1;
}

/* "Mon-Fri", "Sat, Sun", "Mon, Wed, Fri" in Monday-first order. */
static void
describe_dow(struct buf *b, uint8_t dow)
{
	static const char *const nm[] = { "Mon", "Tue", "Wed", "Thu", "Fri",
	    "Sat", "Sun" };
	int i = 0, j, first = 1;

	while (i < 7) {
		if (!((dow >> ((i + 1) % 7)) & 1)) {
			i++;
			continue;
		}
		for (j = i; j + 1 < 7 && ((dow >> ((j + 2) % 7)) & 1); j++)
			;
		if (!first)
			buf_adds(b, ", ");
		first = 0;
		if (j - i >= 2)
			buf_printf(b, "%s-%s", nm[i], nm[j]);
		else if (j == i)
			buf_adds(b, nm[i]);
		else
			buf_printf(b, "%s, %s", nm[i], nm[j]);
		i = j + 1;
	}
}

char *
schedule_describe(const struct schedule *s, const char *text)
{
	struct buf b = BUF_INIT;
	char dur[32];
	int nh, nmin, h, mi, i;
	bool all_months = (s->month & 0x1ffe) == 0x1ffe;
	/* a "*" with a step ("*" "/2") is not every day */
	bool all_dom = (s->dom & 0xfffffffeu) == 0xfffffffeu;
	bool all_dow = (s->dow & 0x7f) == 0x7f;

	if (s->every) {
		duration_format(s->period, dur, sizeof(dur));
		buf_printf(&b, "every %s", dur);
		return buf_take(&b);
	}
	nh = popcount64(s->hour);
	nmin = popcount64(s->minute);
	if (nmin == 1 && nh >= 1 && nh <= 4 && all_months) {
		mi = lowest(s->minute);
		if (all_dom && all_dow)
			buf_adds(&b, "every day at ");
		else
			buf_adds(&b, "at ");
		for (i = 0, h = 0; h < 24; h++) {
			if (!((s->hour >> h) & 1))
				continue;
			if (i++)
				buf_adds(&b, i == nh ? " and " : ", ");
			buf_printf(&b, "%02d:%02d", h, mi);
		}
		if (all_dom && all_dow)
			return buf_take(&b);
		if (all_dom && s->dom_star) {
			buf_adds(&b, " on ");
			describe_dow(&b, s->dow);
			return buf_take(&b);
		}
		if (all_dow && s->dow_star && popcount64(s->dom) == 1) {
			buf_printf(&b, " on day %d of every month",
			    lowest(s->dom));
			return buf_take(&b);
		}
		buf_reset(&b);
	}
	if (nmin == 1 && nh == 24 && all_months && all_dom && all_dow) {
		buf_printf(&b, "every hour at minute %d", lowest(s->minute));
		return buf_take(&b);
	}
	buf_printf(&b, "cron: %s", text ? text : "?");
	return buf_take(&b);
}
