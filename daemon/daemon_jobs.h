/*
 * daemon_jobs: the newsletters' work in the daemon: what is due each turn
 * (collect, assemble and send, retry), and when it is next due.
 *
 * It knows nothing of signals or systemd: daemon.c passes the hooks.
 */
#ifndef HERALD_DAEMON_JOBS_H
#define HERALD_DAEMON_JOBS_H

#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "cli.h"

struct daemon_hooks {
	/* 1: stop taking rows, finish in flight (SIGTERM, SIGHUP);
	   2: abandon in flight (a second SIGTERM) */
	volatile sig_atomic_t	*yield;
	/* true when the turn should end now (a signal arrived) */
	bool			(*interrupted)(void);
	/* says what the daemon is doing (status, systemd STATUS=) */
	void			(*doing)(const char *fmt, ...)
				    __attribute__((format(printf, 1, 2)));
	/* called often during long steps (the systemd watchdog) */
	void			(*alive)(void);
};

struct daemon_state;

struct daemon_state	*daemon_state_new(const struct config *, time_t now);
/*
 * After a reload: schedules recomputed from now, sources polled afresh.
 * A send that a reload interrupted is resumed at the next turn.
 */
void			 daemon_state_reset(struct daemon_state *,
			    const struct config *, time_t now);
void			 daemon_state_free(struct daemon_state *);
/*
 * Runs everything due at `now`; returns when it wants to run next.  Checks
 * hooks->interrupted() between steps and returns early when it is true.
 */
time_t			 daemon_tick(struct cli *, struct daemon_state *,
			    const struct daemon_hooks *, time_t now);

#endif
