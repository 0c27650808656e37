/*
 * daemon_jobs: what the daemon does each turn, and when it is next due.
 */
#ifndef HERALD_DAEMON_JOBS_H
#define HERALD_DAEMON_JOBS_H

#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "cli.h"

struct daemon_state;

struct daemon_state	*daemon_state_new(const struct config *, time_t now);
/* After a reload: schedules recomputed from now, sources polled afresh. */
void			 daemon_state_reset(struct daemon_state *,
			    const struct config *, time_t now);
void			 daemon_state_free(struct daemon_state *);
/*
 * Runs everything due at `now`; returns when it wants to run next.  Checks
 * daemon_stopping() between steps.
 */
time_t			 daemon_tick(struct cli *, struct daemon_state *,
			    time_t now);
/* True once SIGTERM/SIGINT arrived (long steps poll this). */
bool			 daemon_stopping(void);
/* The flag itself, for the sender: 1 finish in flight, 2 abandon. */
volatile sig_atomic_t	*daemon_stop_flag(void);

#endif
