/*
 * herald daemon: the service loop.
 *
 * One thread runs the jobs (the table below): each turn every job does
 * what is due and says when it wants to run next; then the loop sleeps in
 * poll() until the earliest of those times, or until a signal.
 *
 * Signals only set flags and write a byte to a pipe (the self-pipe trick),
 * so a signal that arrives at any moment, even between the last look at
 * the flags and the poll(), wakes the loop at once.  SIGTERM/SIGINT: the
 * sender stops taking rows and finishes those in flight, a collect stops
 * its transfers, then the daemon exits (a second signal abandons what is
 * in flight).  SIGHUP: the sender finishes its rows in flight (the current
 * batch), then the config is loaded and validated again and swapped in
 * only when valid; the interrupted send resumes on the next turn.
 *
 * One daemon per database: daemon_lock.h, taken before --detach so that a
 * refusal is seen on the terminal (exit 3).
 *
 * Under systemd (Type=notify, libsystemd's sd_notify): READY=1 once the
 * lock is held, STATUS= with what the daemon is doing, RELOADING=1 and
 * READY=1 around a reload, STOPPING=1, and WATCHDOG=1 at half of
 * WatchdogSec= when it is set (during a send too).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "cli.h"
#include "fetch.h"
#include "daemon_jobs.h"
#include "daemon_lock.h"
#include "log.h"
#include "web.h"
#include "util.h"
#include "xmalloc.h"

#define DAEMON_MAX_SLEEP	60	/* seconds: re-check at least this often */

static volatile sig_atomic_t want_stop;
static volatile sig_atomic_t want_reload;
/* what the sender and the fetcher look at: 1 on SIGTERM or SIGHUP (finish
   what is in flight), 2 on a second SIGTERM (abandon it) */
static volatile sig_atomic_t want_yield;
static int sigpipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int saved = errno;
	sig_atomic_t n;

	/* want_yield atomically: the sender's threads read it */
	if (sig == SIGHUP) {
		want_reload = 1;
		if (__atomic_load_n(&want_yield, __ATOMIC_RELAXED) == 0)
			__atomic_store_n(&want_yield, 1, __ATOMIC_RELAXED);
	} else {
		n = want_stop < 2 ? want_stop + 1 : 2;
		want_stop = n;	/* a second signal abandons in flight */
		__atomic_store_n(&want_yield, n, __ATOMIC_RELAXED);
	}
	if (sigpipe[1] != -1)
		(void)!write(sigpipe[1], "", 1);
	errno = saved;
}

static bool
interrupted(void)
{
	return want_stop != 0 || want_reload != 0;
}

/* ---- what the daemon is doing: the lock file and systemd ---- */

static struct daemon_lock *lock;
static uint64_t watchdog_usec;		/* 0: no watchdog */
static struct timespec watchdog_last;

static double
since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void
alive(void)
{
	if (watchdog_usec == 0 ||
	    since(&watchdog_last) < (double)watchdog_usec / 2e6)
		return;
	sd_notify(0, "WATCHDOG=1");
	clock_gettime(CLOCK_MONOTONIC, &watchdog_last);
}

static void __attribute__((format(printf, 1, 2)))
doing(const char *fmt, ...)
{
	static char last[200];
	char now[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(now, sizeof(now), fmt, ap);
	va_end(ap);
	if (strcmp(now, last) == 0)
		return;
	memcpy(last, now, sizeof(last));
	daemon_lock_write(lock, now);
	sd_notifyf(0, "STATUS=%s", now);
}

static const struct daemon_hooks hooks = { &want_yield, interrupted, doing,
    alive };

/* ---- the jobs ---- */

struct daemon_ctx {
	struct cli		*cli;
	struct daemon_state	*nl;	/* the newsletters' schedules */
	struct web		*web;	/* the HTTP endpoint, or NULL */
};

/*
 * The daemon's jobs, run in this order each turn.  start() runs once the
 * lock is held (a job that needs threads of its own, such as an HTTP
 * endpoint, starts them here; -1 stops the daemon, exit 1); run() does
 * what is due and returns when it wants to run next (0: no wish); reload()
 * runs after a new config was swapped in; stop() before the daemon exits.
 * Any of them may be NULL.  To add a job, add a row.
 */
struct daemon_job {
	const char	*name;
	int		(*start)(struct daemon_ctx *);
	time_t		(*run)(struct daemon_ctx *, time_t now);
	void		(*reload)(struct daemon_ctx *);
	void		(*stop)(struct daemon_ctx *);
};

static int
newsletters_start(struct daemon_ctx *dc)
{
	dc->nl = daemon_state_new(dc->cli->cfg, time(NULL));
	return 0;
}

static time_t
newsletters_run(struct daemon_ctx *dc, time_t now)
{
	return daemon_tick(dc->cli, dc->nl, &hooks, now);
}

static void
newsletters_reload(struct daemon_ctx *dc)
{
	daemon_state_reset(dc->nl, dc->cli->cfg, time(NULL));
}

static void
newsletters_stop(struct daemon_ctx *dc)
{
	daemon_state_free(dc->nl);
	dc->nl = NULL;
}

/* The HTTP endpoint (web.h) runs in its own threads when web: is set. */
static int
web_job_start(struct daemon_ctx *dc)
{
	char *err = NULL;

	if (!dc->cli->cfg->web.enabled)
		return 0;
	if ((dc->web = web_start(dc->cli->cfg, &err)) == NULL) {
		log_error("daemon: web: %s", err);
		free(err);
		return -1;
	}
	log_info("daemon: web: listening on %s", dc->cli->cfg->web.listen);
	return 0;
}

static void
web_job_stop(struct daemon_ctx *dc)
{
	web_stop(dc->web);
	dc->web = NULL;
}

static void
web_job_reload(struct daemon_ctx *dc)
{
	web_job_stop(dc);
	if (web_job_start(dc) == -1)
		log_warn("daemon: web: the endpoint stays off until the next "
		    "reload");
}

static const struct daemon_job jobs[] = {
	{ "newsletters", newsletters_start, newsletters_run,
	    newsletters_reload, newsletters_stop },
	{ "web", web_job_start, NULL, web_job_reload, web_job_stop },
};
#define NJOBS	(sizeof(jobs) / sizeof(jobs[0]))

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: herald daemon [--detach] [--pidfile FILE]\n"
	    "\n"
	    "Runs the scheduler until SIGTERM: collects each source on its interval,\n"
	    "assembles and sends an issue when a newsletter's schedule fires (and it\n"
	    "has at least min_articles new articles), and retries deferred deliveries\n"
	    "when they are due.  An interrupted send is resumed at start.  With a\n"
	    "web: section it also serves the HTTP endpoint on web.listen (one-click\n"
	    "unsubscribe, confirmation, signup; see `herald web --help`).\n"
	    "\n"
	    "  --detach         fork into the background and log to syslog\n"
	    "  --pidfile FILE   write the process id to FILE (and refuse to start\n"
	    "                   when another daemon holds it)\n"
	    "\n"
	    "One daemon per database: the daemon locks DATABASE.lock (beside the\n"
	    "database); a second one, with --detach or not, is refused here with\n"
	    "the running one's pid, exit 3.  `herald status` shows whether a daemon\n"
	    "runs, since when and what it is doing.\n"
	    "\n"
	    "Signals, acted on within a second whatever the daemon is doing:\n"
	    "SIGTERM/SIGINT stop (the sender finishes the messages in flight,\n"
	    "losing nothing; a second signal abandons them); SIGHUP reloads the\n"
	    "configuration after the send's current batch (kept unchanged if the\n"
	    "new one is invalid).  Under systemd use Type=notify: see herald(1)\n"
	    "and the herald.service unit installed with herald.\n");
}

/*
 * Takes the pidfile: opens (creating) it and locks it (another daemon
 * holding it is an error).  The fd stays open to keep the lock (a flock,
 * which the forks of --detach inherit); pidfile_write() writes our pid.
 */
static int
pidfile_take(const char *path)
{
	char pid[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_error("daemon: pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = (int)read(fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		log_error("daemon: pidfile %s: another herald daemon is running "
		    "(pid %s)", path, pid[0] ? pid : "?");
		close(fd);
		return -1;
	}
	return fd;
}

static int
pidfile_write(int fd, const char *path)
{
	char pid[32];
	int n;

	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		log_error("daemon: pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
detach(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1) {
		log_error("daemon: fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	log_to_syslog();
	return 0;
}

/* Loads the config again; swaps it in only when valid. */
static void
reload(struct daemon_ctx *dc)
{
	struct cli *cli = dc->cli;
	struct diags d = { 0 };
	struct config *fresh;
	size_t i;

	sd_notify(0, "RELOADING=1");
	doing("reloading %s", cli->cfg->path);
	fresh = config_load(cli->cfg->path, &d);
	for (i = 0; i < d.n; i++)
		log_warn("reload: %s:%d:%d: %s", d.v[i].file, d.v[i].line,
		    d.v[i].col, d.v[i].msg);
	diags_free(&d);
	if (fresh == NULL) {
		log_warn("reload: %s is not valid; keeping the running "
		    "configuration", cli->cfg->path);
	} else if (strcmp(fresh->database, cli->cfg->database) != 0) {
		log_warn("reload: changing `database` needs a restart; keeping "
		    "the running configuration");
		config_free(fresh);
	} else {
		config_free(cli->cfg);
		cli->cfg = fresh;
		for (i = 0; i < NJOBS; i++)
			if (jobs[i].reload)
				jobs[i].reload(dc);
		log_info("reload: configuration reloaded from %s",
		    cli->cfg->path);
	}
	sd_notify(0, "READY=1");
}

/* Takes the database's lock; a holder is reported here, on the terminal. */
static int
lock_take(struct cli *cli)
{
	enum daemon_lock_rc lr;
	char *err = NULL;
	long holder = 0;

	lr = daemon_lock_take(cli->cfg->database, &lock, &holder, &err);
	if (lr == DAEMON_LOCK_HELD) {
		char *path = daemon_lock_path(cli->cfg->database);

		if (holder > 0)
			log_error("daemon: another herald daemon (pid %ld) is "
			    "running on %s (it holds %s); one daemon per "
			    "database", holder, cli->cfg->database, path);
		else
			log_error("daemon: another herald daemon is running on "
			    "%s (it holds %s); one daemon per database",
			    cli->cfg->database, path);
		free(path);
		return EXIT_TEMP;
	}
	if (lr == DAEMON_LOCK_ERR) {
		log_error("daemon: %s", err);
		free(err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static void
signals_setup(void)
{
	struct sigaction sa;

	if (pipe2(sigpipe, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("daemon: pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Sleeps until wake (a monotonic deadline in seconds) or a signal. */
static void
sleep_until(time_t wake)
{
	time_t now = time(NULL);
	long ms;
	struct pollfd pfd;
	char drain[64];

	if (wake <= now)
		ms = 0;
	else if (wake - now > DAEMON_MAX_SLEEP)
		ms = DAEMON_MAX_SLEEP * 1000L;
	else
		ms = (long)(wake - now) * 1000L;
	if (watchdog_usec && ms > (long)(watchdog_usec / 2000))
		ms = (long)(watchdog_usec / 2000);
	pfd.fd = sigpipe[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, (int)ms) > 0)
		while (read(sigpipe[0], drain, sizeof(drain)) > 0)
			;
}

int
cmd_daemon(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "detach",  no_argument,	NULL, 'D' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_ctx dc = { .cli = cli };
	const char *pidfile = NULL;
	bool background = false;
	size_t started = 0, i;
	int c, rc, pidfd = -1;

	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'D':
			background = true;
			break;
		case 'p':
			pidfile = optarg;
			break;
		default:
			return cli_usage_error("daemon", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("daemon", "unexpected argument '%s'",
		    argv[optind]);
	if ((rc = cli_create(cli)) != EXIT_OK)
		return rc;
	/* before --detach: a refusal must reach the terminal, exit 3 */
	if ((rc = lock_take(cli)) != EXIT_OK)
		return rc;
	if (pidfile && (pidfd = pidfile_take(pidfile)) == -1) {
		rc = EXIT_TEMP;
		goto out;
	}
	if (background && detach() == -1) {
		rc = EXIT_FAIL;
		goto out;
	}
	daemon_lock_write(lock, "starting");	/* our pid after the forks */
	if (pidfd != -1 && pidfile_write(pidfd, pidfile) == -1) {
		rc = EXIT_FAIL;
		goto out;
	}
	signals_setup();
	if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
		watchdog_usec = 0;
	clock_gettime(CLOCK_MONOTONIC, &watchdog_last);
	fetch_set_stop(&want_yield);

	for (started = 0; started < NJOBS; started++) {
		if (jobs[started].start && jobs[started].start(&dc) == -1) {
			log_error("daemon: %s: cannot start", jobs[started].name);
			rc = EXIT_FAIL;
			goto stop;
		}
	}
	log_info("daemon: started (pid %ld), %zu newsletter(s), database %s",
	    (long)getpid(), cli->cfg->nnewsletters, cli->cfg->database);
	doing("started");
	sd_notify(0, "READY=1");
	while (!want_stop) {
		time_t now = time(NULL), wake = now + DAEMON_MAX_SLEEP;

		if (want_reload) {
			want_reload = 0;
			reload(&dc);
			if (!want_stop)
				want_yield = want_stop;	/* the sender may go on */
			continue;	/* a second SIGHUP may have come */
		}
		for (i = 0; i < NJOBS && !interrupted(); i++) {
			time_t w;

			if (jobs[i].run == NULL)
				continue;
			w = jobs[i].run(&dc, now);
			if (w > 0 && w < wake)
				wake = w;
		}
		alive();
		/* a signal that came during the turn is acted on now */
		if (interrupted())
			continue;
		if (wake > time(NULL)) {
			char at[21];

			time_rfc3339(wake, at);
			doing("idle until %s", at);
		}
		sleep_until(wake);
		alive();
	}
	sd_notify(0, "STOPPING=1");
	doing("stopping");
	log_info("daemon: stopping on signal");
	rc = EXIT_OK;
stop:
	while (started-- > 0)
		if (jobs[started].stop)
			jobs[started].stop(&dc);
	fetch_set_stop(NULL);
out:
	if (pidfd != -1) {
		unlink(pidfile);
		close(pidfd);
	}
	daemon_lock_release(lock);
	lock = NULL;
	return rc;
}
