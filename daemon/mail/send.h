/*
 * send: the send stage, one pass of the sender over a newsletter's issue,
 * shared by `herald send` and the daemon.  It takes the store and the
 * configuration; the command line stays in daemon/commands/cmd_send.c.
 */
#ifndef HERALD_SEND_H
#define HERALD_SEND_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "store.h"

struct send_pass_opts {
	bool			 create;	/* may assemble a new issue */
	bool			 progress;	/* live progress on stderr */
	FILE			*report;	/* summary lines; NULL: log them */
	volatile sig_atomic_t	*stop;		/* 1: finish in flight; 2: abandon */
	/* called during the pass, at most 10 times/s (the daemon's status and
	   watchdog); may be NULL */
	void			(*tick)(long done, long total, void *arg);
	void			*tick_arg;
};

/*
 * Resumes the newsletter's unfinished issue or (when po->create) assembles
 * a new one, and makes one pass over its due deliveries.  Only one process
 * sends a newsletter at a time (a lock beside the database; EXIT_TEMP when
 * another holds it).  *next_due (may be NULL) is set to when the next
 * deferred delivery falls due, or 0 when nothing waits.  Returns an exit
 * code: EXIT_OK, EXIT_FAIL (a delivery failed in this pass, or an error),
 * EXIT_TEMP (server unreachable, interrupted, database locked).
 */
int	send_pass(struct store *, const struct config *,
	    const struct newsletter_conf *, const struct send_pass_opts *,
	    time_t *next_due);

#endif
