/*
 * herald daemon: the scheduler.
 *
 * One loop, no threads.  Each turn it works out, per newsletter, what is
 * due: sources whose interval has passed are collected; when the schedule
 * fires an issue is assembled and sent; deferred deliveries whose time has
 * come are retried.  Then it sleeps until the next thing is due (at most a
 * minute), waking early on a signal.
 *
 * Signals only set flags (STYLE: Redis/OpenSMTPD).  SIGTERM/SIGINT: finish
 * the current step (the sender stops taking rows and commits what it has),
 * then exit.  SIGHUP: load and validate the config again and swap it in only
 * when it is valid; a bad config is logged and the old one kept.
 *
 * Under systemd (Type=notify) READY=1, RELOADING=1 and STOPPING=1 go to
 * $NOTIFY_SOCKET.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "daemon_jobs.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define DAEMON_MAX_SLEEP	60	/* seconds: re-check at least this often */

static volatile sig_atomic_t want_stop;
static volatile sig_atomic_t want_reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		want_reload = 1;
	else if (want_stop < 2)
		want_stop++;	/* a second signal abandons what is in flight */
}

bool
daemon_stopping(void)
{
	return want_stop != 0;
}

volatile sig_atomic_t *
daemon_stop_flag(void)
{
	return &want_stop;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: herald daemon [--detach] [--pidfile FILE]\n"
	    "\n"
	    "Runs the scheduler until SIGTERM: collects each source on its interval,\n"
	    "assembles and sends an issue when a newsletter's schedule fires (and it\n"
	    "has at least min_articles new articles), and retries deferred deliveries\n"
	    "when they are due.  An interrupted send is resumed at start.\n"
	    "\n"
	    "  --detach         fork into the background and log to syslog\n"
	    "  --pidfile FILE   write the process id to FILE (and refuse to start\n"
	    "                   when another daemon holds it)\n"
	    "\n"
	    "Signals: SIGTERM/SIGINT stop after the current step, losing nothing;\n"
	    "SIGHUP reloads the configuration (kept unchanged if the new one is\n"
	    "invalid).  Under systemd use Type=notify (see docs/running.md).\n");
}

/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void
notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
}

/*
 * Takes the pidfile: opens (creating) it, locks it (another daemon holding
 * it is an error) and writes our pid.  The fd stays open to keep the lock.
 */
static int
pidfile_take(const char *path)
{
	char pid[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_error("pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = (int)read(fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		log_error("pidfile %s: another herald daemon is running (pid %s)",
		    path, pid[0] ? pid : "?");
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, pid, (size_t)n) != n) {
		log_error("pidfile %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
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
reload(struct cli *cli, struct daemon_state *ds)
{
	struct diags d = { 0 };
	struct config *fresh;
	size_t i;

	notify("RELOADING=1");
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
		daemon_state_reset(ds, cli->cfg, time(NULL));
		log_info("reload: configuration reloaded from %s", cli->cfg->path);
	}
	notify("READY=1");
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
	struct daemon_state *ds = NULL;
	struct sigaction sa;
	const char *pidfile = NULL;
	bool background = false;
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
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if (background && detach() == -1)
		return EXIT_FAIL;
	if (pidfile && (pidfd = pidfile_take(pidfile)) == -1)
		return EXIT_FAIL;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ds = daemon_state_new(cli->cfg, time(NULL));
	log_info("daemon: started (pid %ld), %zu newsletter(s), database %s",
	    (long)getpid(), cli->cfg->nnewsletters, cli->cfg->database);
	notify("READY=1");
	while (!want_stop) {
		time_t now = time(NULL), wake;
		struct timespec ts;

		if (want_reload) {
			want_reload = 0;
			reload(cli, ds);
		}
		wake = daemon_tick(cli, ds, now);
		if (want_stop)
			break;
		now = time(NULL);
		if (wake <= now)
			continue;
		if (wake - now > DAEMON_MAX_SLEEP)
			wake = now + DAEMON_MAX_SLEEP;
		/* nanosleep returns early (EINTR) on a signal. */
		ts.tv_sec = wake - now;
		ts.tv_nsec = 0;
		nanosleep(&ts, NULL);
	}
	notify("STOPPING=1");
	log_info("daemon: stopping on signal");
	daemon_state_free(ds);
	if (pidfd != -1) {
		unlink(pidfile);
		close(pidfd);
	}
	return EXIT_OK;
}
