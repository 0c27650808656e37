/*
 * retry: see retry.h.  Safe from any thread (the jitter's generator is
 * per thread).
 */
#include "retry.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define RETRY_BASE_DEFAULT	60
#define RETRY_MAX		86400

enum retry_action
retry_decide(enum smtp_result r, long attempts, long max_attempts)
{
	switch (r) {
	case SMTP_SENT:
		return RETRY_SENT;
	case SMTP_PERMFAIL:
		return RETRY_FAIL;
	case SMTP_TEMPFAIL:
		return attempts >= max_attempts ? RETRY_GIVE_UP : RETRY_DEFER;
	case SMTP_CONNFAIL:
		break;
	}
	return RETRY_UNTOUCHED;
}

static long
retry_base(void)
{
	const char *e = getenv("HERALD_RETRY_BASE");
	long v;

	if (e != NULL && parse_long(e, 0, RETRY_MAX, &v) == 0)
		return v;
	return RETRY_BASE_DEFAULT;
}

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

long
retry_delay(long attempts)
{
	static _Thread_local uint64_t seed;
	long base = retry_base(), d;
	double j;

	if (seed == 0)
		seed = ((uint64_t)time(NULL) * 2654435761u ^
		    (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&seed) | 1;
	if (attempts < 1)
		attempts = 1;
	d = base;
	while (--attempts > 0 && d < RETRY_MAX)
		d *= 2;
	if (d > RETRY_MAX)
		d = RETRY_MAX;
	j = 0.75 + (double)(rng_next(&seed) % 1000) / 2000.0;	/* 0.75..1.25 */
	return (long)((double)d * j);
}
