/*
 * bounces: the bounce stage.  Polls the bounce mailbox once: reads each
 * message (bounce.h), works out which delivery it is about, changes the
 * subscription through the subscription module, and takes the message out
 * of the way (mailbox.h).
 *
 * Which delivery: first a VERP address (bounces+ID-MAC@domain, checked
 * with the secret key) anywhere in the message; else the recipients the
 * bounce names, among the addresses herald has mailed in the last
 * BOUNCES_RECENT seconds (a delivery exists).  A bounce that matches no
 * delivery changes nothing.  What then:
 *   hard        the subscription becomes bounced
 *   soft        counted; bounces.soft_limit in a row makes it bounced
 *   complaint   unsubscribed (feedback loop)
 *   unsubscribe the sender is unsubscribed (mail to the mailto address:
 *               the link token in its subject, else its From address)
 *   auto-reply, notice: nothing changes
 * All of these are moved to the Processed folder (POP3: deleted); an
 * unknown message stays in the mailbox and is reported.
 */
#ifndef HERALD_BOUNCES_H
#define HERALD_BOUNCES_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "store.h"
#include "token.h"

#define BOUNCES_RECENT	(60L * 86400)	/* seconds: "mailed recently" */

struct bounces_opts {
	bool			 dry_run;	/* change nothing anywhere */
	FILE			*report;	/* one line per message, or NULL
						   (then the log, at info) */
	volatile sig_atomic_t	*stop;		/* stop between messages when
						   set, or NULL */
	void			(*alive)(void);	/* called after each message
						   (the systemd watchdog), or
						   NULL */
	bool			 verbose;	/* a second line per message:
						   how it was read */
};

struct bounces_stats {
	long	messages, hard, soft, complaints, unsubscribes, ignored;
	long	unknown;	/* left in the mailbox */
	long	unmatched;	/* recognised, but no delivery of ours */
	long	changed;	/* subscriptions changed */
	long	errors;		/* messages that could not be read or moved */
};

/*
 * Polls cfg's bounce mailbox once.  Returns 0 (every message handled or
 * left as it should be; *st says what happened), -1 with *err (caller
 * frees) on a failure that needs the operator (bad mailbox, login
 * refused, database error), -2 with *err on a temporary one (server
 * unreachable, database locked).
 */
int	bounces_check(struct store *, const struct config *,
	    const struct token_key *, const struct bounces_opts *,
	    struct bounces_stats *, char **err);

/*
 * One poll for the daemon: loads the key, runs bounces_check() with each
 * message's line and a summary in the log.  stop and alive as in
 * bounces_opts.  Returns 0, -1 or -2 as bounces_check() (already logged).
 */
int	bounces_poll(struct store *, const struct config *,
	    volatile sig_atomic_t *stop, void (*alive)(void));

#endif
