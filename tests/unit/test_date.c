#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "date.h"
#include "util.h"

static void
check(const char *in, const char *want)
{
	time_t t = 0;
	char got[21];

	if (date_parse_feed(in, &t) != 0)
		fail_msg("date_parse_feed(\"%s\") failed, want %s", in, want);
	time_rfc3339(t, got);
	if (strcmp(got, want) != 0)
		fail_msg("date_parse_feed(\"%s\") = %s, want %s", in, got, want);
}

static void
refuse(const char *in)
{
	time_t t = 12345;

	if (date_parse_feed(in, &t) == 0)
		fail_msg("date_parse_feed(\"%s\") accepted: %lld",
		    in != NULL ? in : "(null)", (long long)t);
}

static void
test_rfc822(void **state)
{
	(void)state;
	check("Tue, 24 Nov 2026 07:00:00 GMT", "2026-11-24T07:00:00Z");
	check("Tue, 24 Nov 2026 07:00:00 +0000", "2026-11-24T07:00:00Z");
	check("Tue, 24 Nov 2026 07:00:00 -0500", "2026-11-24T12:00:00Z");
	check("Tue, 24 Nov 2026 07:00:00 +05:30", "2026-11-24T01:30:00Z");
	check("Tue, 24 Nov 2026 07:00 GMT", "2026-11-24T07:00:00Z");	/* no seconds */
	check("24 Nov 2026 07:00:00 GMT", "2026-11-24T07:00:00Z");	/* no weekday */
	check("Fri, 24 Nov 2026 07:00:00 GMT", "2026-11-24T07:00:00Z");	/* wrong weekday */
	check("Tue,24 Nov 2026 07:00:00 UT", "2026-11-24T07:00:00Z");
	check("  Tue,   24  Nov\t2026  07:00:00   GMT  ", "2026-11-24T07:00:00Z");
	check("Tue, 24 Nov 26 07:00:00 GMT", "2026-11-24T07:00:00Z");	/* 2-digit year */
	check("Sun, 06 Nov 94 08:49:37 GMT", "1994-11-06T08:49:37Z");
	check("Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z");	/* RFC 850 */
	check("Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z");	/* asctime */
	check("Sun Jan  4 16:29:06 PST 2004", "2004-01-05T00:29:06Z");
	check("Wed, 02 Oct 2002 08:00:00 EST", "2002-10-02T13:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 EDT", "2002-10-02T12:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 CST", "2002-10-02T14:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 CDT", "2002-10-02T13:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 MST", "2002-10-02T15:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 PDT", "2002-10-02T15:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 Z", "2002-10-02T08:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 A", "2002-10-02T09:00:00Z");	/* military -1 */
	check("Wed, 02 Oct 2002 08:00:00 N", "2002-10-02T07:00:00Z");	/* military +1 */
	check("Wed, 02 Oct 2002 08:00:00 M", "2002-10-02T20:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 Y", "2002-10-01T20:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 GMT+2", "2002-10-02T06:00:00Z");
	check("Wed, 02 Oct 2002 08:00:00 +0000 (GMT)", "2002-10-02T08:00:00Z");
	check("Wed, 02 October 2002 08:00:00 GMT", "2002-10-02T08:00:00Z");
	check("Wed, 2 Sept 2002 8:05:09 GMT", "2002-09-02T08:05:09Z");
	check("wed, 02 oct 2002 08:00:00 gmt", "2002-10-02T08:00:00Z");
	check("02 Oct 2002", "2002-10-02T00:00:00Z");
	check("Oct 2, 2002 8:00 PM", "2002-10-02T20:00:00Z");
	check("Thu, 29 Feb 2024 23:59:60 GMT", "2024-02-29T23:59:59Z");	/* leap second */
	check("Mon, 10 Jun 2013 10:00:00 CEST", "2013-06-10T08:00:00Z");
	check("Tue, 24 Nov 2026 07:00:00", "2026-11-24T07:00:00Z");	/* no zone: UTC */
}

static void
test_iso8601(void **state)
{
	(void)state;
	check("2026-11-24T07:00:00Z", "2026-11-24T07:00:00Z");
	check("2026-11-24t07:00:00z", "2026-11-24T07:00:00Z");
	check("2026-11-24T07:00:00+01:00", "2026-11-24T06:00:00Z");
	check("2026-11-24T07:00:00-0800", "2026-11-24T15:00:00Z");
	check("2026-11-24T07:00:00.123456Z", "2026-11-24T07:00:00Z");
	check("2026-11-24T07:00Z", "2026-11-24T07:00:00Z");	/* no seconds */
	check("2026-11-24T07:00:00", "2026-11-24T07:00:00Z");
	check("2026-11-24 07:00:00", "2026-11-24T07:00:00Z");
	check("2026-11-24", "2026-11-24T00:00:00Z");
	check("2026-11", "2026-11-01T00:00:00Z");
	check("2026", "2026-01-01T00:00:00Z");
	check("20261124T070000Z", "2026-11-24T07:00:00Z");
	check("20261124", "2026-11-24T00:00:00Z");
	check("2026-11-24T07:00:00+05", "2026-11-24T02:00:00Z");
	check("  2026-11-24T07:00:00Z\n", "2026-11-24T07:00:00Z");
	check("2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00Z");
	check("1969-07-20T20:17:40Z", "1969-07-20T20:17:40Z");
}

static void
test_refused(void **state)
{
	(void)state;
	refuse(NULL);
	refuse("");
	refuse("   ");
	refuse("yesterday");
	refuse("Tue, 32 Nov 2026 07:00:00 GMT");
	refuse("Tue, 29 Feb 2025 07:00:00 GMT");		/* not a leap year */
	refuse("Tue, 24 Foo 2026 07:00:00 GMT");
	refuse("Tue, 24 Nov 2026 25:00:00 GMT");
	refuse("Tue, 24 Nov 2026 07:61:00 GMT");
	refuse("Tue, 24 Nov 2026 07:00:00 XYZ");
	refuse("2026-13-01");
	refuse("2026-02-30T00:00:00Z");
	refuse("2026-11-24T07:00:00+99:00");
	refuse("2026-11-24Tgarbage");
	refuse("24 Nov");
	refuse("Nov 2026");
	refuse("1234567890");
	refuse("2026-11-24T07:00:00Z trailing");
	refuse("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((");
}

/* The strict reader of herald's own inputs (front matter, imports). */
static void
test_rfc3339(void **state)
{
	static const char *const ok[][2] = {
		{ "2026-11-24", "2026-11-24T00:00:00Z" },
		{ "2026-11-24T07:00:00Z", "2026-11-24T07:00:00Z" },
		{ "2026-11-24t07:00:00z", "2026-11-24T07:00:00Z" },
		{ "2026-11-24 07:00", "2026-11-24T07:00:00Z" },
		{ "2026-11-24T07:00:00.123+01:00", "2026-11-24T06:00:00Z" },
		{ "2026-11-24T07:00:00-0530", "2026-11-24T12:30:00Z" },
		{ "2024-02-29", "2024-02-29T00:00:00Z" },
	};
	static const char *const bad[] = {
		"", "2026", "2026-11", "20261124", "2026-1", "2026-11-2",
		"2026-02-30", "2026-11-24T25:00:00Z", "2026-11-24T0700",
		"2026-11-24T07:00:00 GMT", "Tue, 24 Nov 2026 07:00:00 GMT",
		"2026-11-24x", "2026-11-24T07:00:00Zjunk",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		time_t t;
		char got[21];

		if (date_parse_rfc3339(ok[i][0], &t) != 0)
			fail_msg("date_parse_rfc3339(\"%s\") failed", ok[i][0]);
		time_rfc3339(t, got);
		assert_string_equal(got, ok[i][1]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t;

		if (date_parse_rfc3339(bad[i], &t) == 0)
			fail_msg("date_parse_rfc3339(\"%s\") accepted", bad[i]);
	}
	assert_int_equal(date_parse_rfc3339(NULL, &(time_t){ 0 }), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc822),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
