/* Durations, cron parsing, schedule_next (UTC and across DST), describe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "config.h"
#include "util.h"

static void
test_durations(void **state)
{
	(void)state;
	assert_int_equal(duration_parse("30s"), 30);
	assert_int_equal(duration_parse("15m"), 900);
	assert_int_equal(duration_parse("6h"), 21600);
	assert_int_equal(duration_parse("1d"), 86400);
	assert_int_equal(duration_parse("1h30m"), 5400);
	assert_int_equal(duration_parse(""), -1);
	assert_int_equal(duration_parse("15"), -1);
	assert_int_equal(duration_parse("m"), -1);
	assert_int_equal(duration_parse("5x"), -1);
	assert_int_equal(duration_parse("-5m"), -1);
	assert_int_equal(duration_parse("99999999999d"), -1);
}

static struct schedule
parse_ok(const char *text)
{
	struct schedule s;
	const char *why = NULL;

	if (schedule_parse(text, &s, &why) != 0)
		fail_msg("'%s' rejected: %s", text, why);
	return s;
}

static void
test_cron_parse(void **state)
{
	struct schedule s;
	const char *why;
	static const char *bad[] = {
		"", "0 7 * *", "0 7 * * * *", "60 7 * * *", "0 24 * * *",
		"0 7 0 * *", "0 7 32 * *", "0 7 * 13 *", "0 7 * * 8",
		"0 7 * foo *", "0 7 * * funday", "5-1 * * * *", "*/0 * * * *",
		"1,,2 * * * *", "a * * * *", "0 7 * * mon-", "every", "every 5",
		"every 10s", "every 1x", "@sometimes", "*5 * * * *",
		"0 7 * * * extra",
	};
	size_t i;

	(void)state;
	s = parse_ok("0 7 * * *");
	assert_false(s.every);
	assert_true(s.minute == 1);
	assert_true(s.hour == 1u << 7);
	assert_true(s.dom_star && s.dow_star);
	s = parse_ok("*/15 9-17 * * MON-FRI");
	assert_true(s.minute == ((1ull << 0) | (1ull << 15) | (1ull << 30) |
	    (1ull << 45)));
	assert_true(s.hour == 0x3fe00);
	assert_true(s.dow == 0x3e);
	assert_false(s.dow_star);
	s = parse_ok("0 0 1,15 jan,Jul *");
	assert_true(s.dom == ((1u << 1) | (1u << 15)));
	assert_true(s.month == ((1u << 1) | (1u << 7)));
	s = parse_ok("0 0 * * 7");		/* 7 is Sunday */
	assert_true(s.dow == 1);
	s = parse_ok("0 0 * * 5-7");
	assert_true(s.dow == ((1u << 5) | (1u << 6) | 1u));
	s = parse_ok("0 0 * * sun,sat");
	assert_true(s.dow == ((1u << 6) | 1u));
	s = parse_ok("10-50/20 * * * *");
	assert_true(s.minute == ((1ull << 10) | (1ull << 30) | (1ull << 50)));
	s = parse_ok("5/20 * * * *");
	assert_true(s.minute == ((1ull << 5) | (1ull << 25) | (1ull << 45)));
	s = parse_ok("  0   7 * * *  ");
	assert_true(s.hour == 1u << 7);
	s = parse_ok("every 6h");
	assert_true(s.every);
	assert_int_equal(s.period, 6 * 3600);
	s = parse_ok("EVERY 1d");
	assert_int_equal(s.period, 86400);
	s = parse_ok("@daily");
	assert_true(s.minute == 1 && s.hour == 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (schedule_parse(bad[i], &s, &why) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(why);
	}
	schedule_parse("0 7 * 13 *", &s, &why);
	assert_non_null(strstr(why, "month"));
	schedule_parse("0 7 * * *  *", &s, &why);
	assert_non_null(strstr(why, "5 fields"));
}

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

static void
expect_next(const char *expr, const char *tz, time_t after, time_t want)
{
	struct schedule s = parse_ok(expr);
	time_t got = schedule_next(&s, tz, after);
	char a[21], b[21];

	if (got != want) {
		time_rfc3339(got, a);
		time_rfc3339(want, b);
		fail_msg("%s in %s: got %s, want %s", expr, tz, a, b);
	}
}

static void
test_next_utc(void **state)
{
	struct schedule s;
	const char *why = NULL;

	(void)state;
	/* strictly after */
	expect_next("0 7 * * *", "UTC", utc(2026, 11, 24, 6, 59),
	    utc(2026, 11, 24, 7, 0));
	expect_next("0 7 * * *", "UTC", utc(2026, 11, 24, 7, 0),
	    utc(2026, 11, 25, 7, 0));
	/* weekdays: 2026-11-27 is a Friday */
	expect_next("30 8 * * mon-fri", "UTC", utc(2026, 11, 27, 9, 0),
	    utc(2026, 11, 30, 8, 30));
	/* month end and leap day */
	expect_next("0 0 29 2 *", "UTC", utc(2026, 1, 1, 0, 0),
	    utc(2028, 2, 29, 0, 0));
	expect_next("0 12 31 * *", "UTC", utc(2026, 4, 1, 0, 0),
	    utc(2026, 5, 31, 12, 0));
	/* DOM and DOW both restricted: either matches (1st or a Monday) */
	expect_next("0 0 1 * mon", "UTC", utc(2026, 11, 24, 0, 0),
	    utc(2026, 11, 30, 0, 0));
	expect_next("0 0 1 * mon", "UTC", utc(2026, 11, 30, 0, 0),
	    utc(2026, 12, 1, 0, 0));
	/* year wrap */
	expect_next("0 0 1 1 *", "UTC", utc(2026, 6, 1, 0, 0),
	    utc(2027, 1, 1, 0, 0));
	/* every */
	expect_next("every 6h", "UTC", utc(2026, 11, 24, 7, 0),
	    utc(2026, 11, 24, 12, 0));
	expect_next("every 6h", "UTC", utc(2026, 11, 24, 12, 0),
	    utc(2026, 11, 24, 18, 0));
	/* impossible: refused when parsed, and never found by next */
	assert_int_equal(schedule_parse("0 0 31 2 *", &s, &why), -1);
	assert_non_null(strstr(why, "never run"));
	assert_int_equal(schedule_parse("0 0 30,31 2 */1", &s, &why), -1);
	s = parse_ok("0 0 29 2 *");		/* leap years */
	s = parse_ok("0 0 31 2 mon");		/* either day field */
	s = parse_ok("0 0 31 1 *");
	s.month = 1u << 2;
	assert_true(schedule_next(&s, "UTC", utc(2026, 1, 1, 0, 0)) ==
	    (time_t)-1);
}

static void
test_next_zone_dst(void **state)
{
	const char *before = getenv("TZ");
	char *saved = before ? strdup(before) : NULL;

	(void)state;
	/* London is UTC+1 in summer (BST), UTC in winter */
	expect_next("0 7 * * *", "Europe/London", utc(2026, 7, 1, 0, 0),
	    utc(2026, 7, 1, 6, 0));
	expect_next("0 7 * * *", "Europe/London", utc(2026, 12, 1, 0, 0),
	    utc(2026, 12, 1, 7, 0));
	/* across the spring change (2026-03-29 01:00 UTC) */
	expect_next("0 7 * * *", "Europe/London", utc(2026, 3, 28, 8, 0),
	    utc(2026, 3, 29, 6, 0));
	/* across the autumn change (2026-10-25 01:00 UTC) */
	expect_next("0 7 * * *", "Europe/London", utc(2026, 10, 24, 8, 0),
	    utc(2026, 10, 25, 7, 0));
	/* 01:30 happens twice on 2026-10-25: runs once, at the first */
	expect_next("30 1 * * *", "Europe/London", utc(2026, 10, 24, 23, 0),
	    utc(2026, 10, 25, 0, 30));
	expect_next("30 1 * * *", "Europe/London", utc(2026, 10, 25, 0, 30),
	    utc(2026, 10, 26, 1, 30));
	/* 01:30 does not exist on 2026-03-29: runs at the shifted time */
	expect_next("30 1 * * *", "Europe/London", utc(2026, 3, 28, 12, 0),
	    utc(2026, 3, 29, 1, 30));
	/* New York */
	expect_next("0 7 * * *", "America/New_York", utc(2026, 1, 10, 0, 0),
	    utc(2026, 1, 10, 12, 0));
	/* TZ is restored */
	if (saved)
		assert_string_equal(getenv("TZ"), saved);
	else
		assert_null(getenv("TZ"));
	free(saved);
}

/*
 * Issue 12: more zones across their changes, leap days and `every`.
 * 2026: London springs forward 03-29 01:00 UTC and falls back 10-25 01:00
 * UTC; New York 03-08 07:00 UTC and 11-01 06:00 UTC; Lord Howe (+10:30,
 * +11:00 in summer, a 30-minute change) falls back 04-05 02:00 -> 01:30
 * local and springs forward 10-04 02:00 -> 02:30; Kathmandu is +05:45 all
 * year.
 */
static void
test_next_zones_more(void **state)
{
	(void)state;
	/* New York: 02:30 does not exist on 03-08 (runs 03:30 EDT) ... */
	expect_next("30 2 * * *", "America/New_York", utc(2026, 3, 7, 12, 0),
	    utc(2026, 3, 8, 7, 30));
	expect_next("30 2 * * *", "America/New_York", utc(2026, 3, 8, 7, 30),
	    utc(2026, 3, 9, 6, 30));
	/* ... and 01:30 happens twice on 11-01: once, at the first (EDT) */
	expect_next("30 1 * * *", "America/New_York", utc(2026, 10, 31, 12, 0),
	    utc(2026, 11, 1, 5, 30));
	expect_next("30 1 * * *", "America/New_York", utc(2026, 11, 1, 5, 30),
	    utc(2026, 11, 2, 6, 30));
	expect_next("0 7 * * *", "America/New_York", utc(2026, 7, 10, 0, 0),
	    utc(2026, 7, 10, 11, 0));
	/* Lord Howe, 30-minute DST: 01:45 twice on 04-05, 30 minutes apart */
	expect_next("45 1 * * *", "Australia/Lord_Howe", utc(2026, 4, 4, 12, 0),
	    utc(2026, 4, 4, 14, 45));
	expect_next("45 1 * * *", "Australia/Lord_Howe", utc(2026, 4, 4, 14, 45),
	    utc(2026, 4, 5, 15, 15));
	/* 02:15 does not exist on 10-04: the shifted time, 02:45 (+11) */
	expect_next("15 2 * * *", "Australia/Lord_Howe", utc(2026, 10, 3, 12, 0),
	    utc(2026, 10, 3, 15, 45));
	expect_next("0 7 * * *", "Australia/Lord_Howe", utc(2026, 7, 1, 0, 0),
	    utc(2026, 7, 1, 20, 30));
	expect_next("0 7 * * *", "Australia/Lord_Howe", utc(2026, 12, 1, 0, 0),
	    utc(2026, 12, 1, 20, 0));
	/* Kathmandu, +05:45 */
	expect_next("0 7 * * *", "Asia/Kathmandu", utc(2026, 1, 10, 0, 0),
	    utc(2026, 1, 10, 1, 15));
	expect_next("0 0 * * *", "Asia/Kathmandu", utc(2026, 1, 10, 0, 0),
	    utc(2026, 1, 10, 18, 15));
	/* leap days: 2028 and 2032 are leap years, 2100 is not */
	expect_next("0 0 29 2 *", "UTC", utc(2028, 3, 1, 0, 0),
	    utc(2032, 2, 29, 0, 0));
	expect_next("0 0 29 2 *", "UTC", utc(2099, 3, 1, 0, 0),
	    utc(2104, 2, 29, 0, 0));
	expect_next("0 9 29 2 *", "Europe/London", utc(2028, 1, 1, 0, 0),
	    utc(2028, 2, 29, 9, 0));
	expect_next("0 0 * * *", "UTC", utc(2028, 2, 28, 12, 0),
	    utc(2028, 2, 29, 0, 0));
	expect_next("0 0 1 3 *", "Asia/Kathmandu", utc(2028, 2, 1, 0, 0),
	    utc(2028, 2, 29, 18, 15));
	/* every: aligned to local midnight, in local wall time */
	expect_next("every 6h", "Asia/Kathmandu", utc(2026, 1, 10, 0, 0),
	    utc(2026, 1, 10, 0, 15));
	expect_next("every 6h", "Australia/Lord_Howe", utc(2026, 7, 1, 0, 0),
	    utc(2026, 7, 1, 1, 30));
	/* across London's spring change: 06:00 is BST (05:00 UTC) */
	expect_next("every 6h", "Europe/London", utc(2026, 3, 29, 0, 30),
	    utc(2026, 3, 29, 5, 0));
	/* and its autumn one: 06:00 is GMT again */
	expect_next("every 6h", "Europe/London", utc(2026, 10, 25, 0, 30),
	    utc(2026, 10, 25, 6, 0));
	expect_next("every 1d", "America/New_York", utc(2026, 3, 8, 4, 0),
	    utc(2026, 3, 8, 5, 0));
	expect_next("every 1d", "America/New_York", utc(2026, 3, 8, 5, 0),
	    utc(2026, 3, 9, 4, 0));
	expect_next("every 15m", "Asia/Kathmandu", utc(2026, 1, 10, 0, 1),
	    utc(2026, 1, 10, 0, 15));
	expect_next("every 1m", "UTC", utc(2026, 1, 10, 0, 0),
	    utc(2026, 1, 10, 0, 1));
}

static void
expect_describe(const char *expr, const char *want)
{
	struct schedule s = parse_ok(expr);
	char *d = schedule_describe(&s, expr);

	if (strcmp(d, want) != 0)
		fail_msg("%s: '%s', want '%s'", expr, d, want);
	free(d);
}

static void
test_describe(void **state)
{
	(void)state;
	expect_describe("0 7 * * *", "every day at 07:00");
	expect_describe("every 6h", "every 6h");
	expect_describe("0 7 * * 1-5", "at 07:00 on Mon-Fri");
	expect_describe("30 18 * * sat,sun", "at 18:30 on Sat, Sun");
	expect_describe("0 9 * * mon,wed,fri", "at 09:00 on Mon, Wed, Fri");
	expect_describe("0 7,19 * * *", "every day at 07:00 and 19:00");
	expect_describe("0 6 1 * *", "at 06:00 on day 1 of every month");
	expect_describe("15 * * * *", "every hour at minute 15");
	expect_describe("*/5 * * * *", "cron: */5 * * * *");
	/* a step in a day field is not every day */
	expect_describe("0 7 */2 * *", "cron: 0 7 */2 * *");
	expect_describe("0 7 */2 * mon", "cron: 0 7 */2 * mon");
	expect_describe("0 * */3 * *", "cron: 0 * */3 * *");
	expect_describe("0 7 * * 0-6", "every day at 07:00");
}

static void
test_tz_valid(void **state)
{
	(void)state;
	assert_true(config_tz_valid("UTC"));
	assert_true(config_tz_valid("Europe/London"));
	assert_true(config_tz_valid("America/New_York"));
	assert_false(config_tz_valid("Europe/Londn"));
	assert_false(config_tz_valid("../../etc/passwd"));
	assert_false(config_tz_valid("/etc/localtime"));
	assert_false(config_tz_valid("Europe"));	/* a directory */
	assert_false(config_tz_valid("zone.tab"));
	assert_false(config_tz_valid(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_cron_parse),
		cmocka_unit_test(test_next_utc),
		cmocka_unit_test(test_next_zone_dst),
		cmocka_unit_test(test_next_zones_more),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_tz_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
