/*
 * daemon_lock: one daemon per database (issue 12).
 *
 * The daemon holds an open-file-description lock (fcntl F_OFD_SETLK) on
 * DATABASE.lock for as long as it runs.  An OFD lock belongs to the open
 * file, not to the process: it survives the forks of --detach, and it goes
 * away by itself when the daemon dies, however it dies.  The file holds a
 * few lines that `herald status` reads (when the lock is held):
 *
 *	pid 4242
 *	since 1765012345
 *	doing sending issue #12 of daily: 1200 of 5000
 *
 * daemon_lock_probe() tests the lock without taking it (F_OFD_GETLK), so
 * `status` never keeps a daemon from starting.
 */
#ifndef HERALD_DAEMON_LOCK_H
#define HERALD_DAEMON_LOCK_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

struct daemon_lock;

enum daemon_lock_rc {
	DAEMON_LOCK_OK = 0,
	DAEMON_LOCK_HELD,	/* another daemon holds it: *holder is its pid */
	DAEMON_LOCK_ERR,	/* *err (caller frees) says why */
};

/* The lock file's path for a database (caller frees). */
char		*daemon_lock_path(const char *database);

/*
 * Takes the lock of database.  On DAEMON_LOCK_HELD, *holder is the pid
 * the holder wrote (0 when unknown).  The file is created 0644.
 */
enum daemon_lock_rc daemon_lock_take(const char *database,
		    struct daemon_lock **out, long *holder, char **err);

/*
 * Writes the state lines: our pid (call again after a fork), the start
 * time, and what the daemon is doing now (one line; may be NULL).
 */
void		 daemon_lock_write(struct daemon_lock *, const char *doing);

/* Empties the file and releases the lock; NULL is a no-op. */
void		 daemon_lock_release(struct daemon_lock *);

struct daemon_info {
	bool	 running;
	long	 pid;
	time_t	 since;
	char	 doing[200];
};

/*
 * Whether a daemon holds the lock of database, and what its file says.
 * Returns 0 (info filled; running false when no lock file or no lock), -1
 * when the file cannot be read (*err, caller frees).
 */
int		 daemon_lock_probe(const char *database, struct daemon_info *,
		    char **err);

#endif
