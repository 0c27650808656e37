/*
 * retry: the retry policy of the sender, apart from the threads that apply
 * it (queue.c).  What an SMTP outcome does to a delivery row, and when a
 * deferred row is tried again.
 *
 *   SMTP_SENT      -> RETRY_SENT
 *   SMTP_PERMFAIL  -> RETRY_FAIL       (the server's reply is kept)
 *   SMTP_TEMPFAIL  -> RETRY_DEFER, or RETRY_GIVE_UP once attempts (this
 *                     one included) reach max_attempts
 *   SMTP_CONNFAIL  -> RETRY_UNTOUCHED  (nothing is known about the message)
 *
 * A deferred row waits base * 2^(attempts-1) seconds, +-25% jitter, at most
 * a day; base is 60 s, or $HERALD_RETRY_BASE seconds (for tests).
 */
#ifndef HERALD_RETRY_H
#define HERALD_RETRY_H

#include "smtp.h"

enum retry_action {
	RETRY_SENT,
	RETRY_FAIL,
	RETRY_DEFER,
	RETRY_GIVE_UP,
	RETRY_UNTOUCHED,
};

enum retry_action retry_decide(enum smtp_result, long attempts,
		    long max_attempts);
/* Seconds until the next attempt after `attempts` attempts (jittered). */
long		 retry_delay(long attempts);

#endif
