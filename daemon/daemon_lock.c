/*
 * daemon_lock: one daemon per database.  See daemon_lock.h.
 */
#include "daemon_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "xmalloc.h"

struct daemon_lock {
	int	 fd;
	time_t	 since;
};

char *
daemon_lock_path(const char *database)
{
	const char *run = getenv("RUNTIME_DIRECTORY");
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	if (strncmp(database, "postgresql://", 13) != 0 &&
	    strncmp(database, "postgres://", 11) != 0)
		return xasprintf("%s.lock", database);
	/*
	 * PostgreSQL (issue 14): one daemon per database per host, so the
	 * lock is a file of this host named after the URI (FNV-1a), in
	 * systemd's RuntimeDirectory when there is one, else /tmp.
	 */
	for (p = database; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	if (run == NULL || *run == '\0' || strchr(run, ':') != NULL)
		run = "/tmp";
	return xasprintf("%s/herald-pg-%016llx.lock", run,
	    (unsigned long long)h);
}

/* Parses the file's lines into info (fields it lacks stay zero). */
static void
parse(const char *s, struct daemon_info *info)
{
	const char *line = s;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		long long v;

		if (strncmp(line, "pid ", 4) == 0 &&
		    sscanf(line + 4, "%lld", &v) == 1)
			info->pid = (long)v;
		else if (strncmp(line, "since ", 6) == 0 &&
		    sscanf(line + 6, "%lld", &v) == 1)
			info->since = (time_t)v;
		else if (strncmp(line, "doing ", 6) == 0) {
			n -= 6;
			if (n >= sizeof(info->doing))
				n = sizeof(info->doing) - 1;
			memcpy(info->doing, line + 6, n);
			info->doing[n] = '\0';
		}
		line = end ? end + 1 : NULL;
	}
}

static void
read_info(int fd, struct daemon_info *info)
{
	char b[512];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);

	b[n > 0 ? n : 0] = '\0';
	parse(b, info);
}

enum daemon_lock_rc
daemon_lock_take(const char *database, struct daemon_lock **out,
    long *holder, char **err)
{
	struct flock fl;
	char *path = daemon_lock_path(database);
	int fd;

	*out = NULL;
	*holder = 0;
	*err = NULL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		free(path);
		return DAEMON_LOCK_ERR;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;	/* l_start = l_len = 0: the whole file */
	if (fcntl(fd, F_OFD_SETLK, &fl) == -1) {
		struct daemon_info info = { 0 };

		if (errno != EAGAIN && errno != EACCES) {
			*err = xasprintf("%s: cannot lock: %s", path,
			    strerror(errno));
			goto fail;
		}
		read_info(fd, &info);
		*holder = info.pid;
		close(fd);
		free(path);
		return DAEMON_LOCK_HELD;
	}
	free(path);
	*out = xcalloc(1, sizeof(**out));
	(*out)->fd = fd;
	(*out)->since = time(NULL);
	daemon_lock_write(*out, "starting");
	return DAEMON_LOCK_OK;
fail:
	close(fd);
	free(path);
	return DAEMON_LOCK_ERR;
}

void
daemon_lock_write(struct daemon_lock *l, const char *doing)
{
	char b[400];
	int n;

	if (l == NULL)
		return;
	n = snprintf(b, sizeof(b), "pid %ld\nsince %lld\ndoing %.200s\n",
	    (long)getpid(), (long long)l->since, doing ? doing : "");
	if (n < 0 || (size_t)n >= sizeof(b))
		n = (int)sizeof(b) - 1;
	/* best effort: status reads it, nothing depends on it */
	if (pwrite(l->fd, b, (size_t)n, 0) == n)
		(void)!ftruncate(l->fd, n);
}

void
daemon_lock_release(struct daemon_lock *l)
{
	if (l == NULL)
		return;
	(void)!ftruncate(l->fd, 0);
	close(l->fd);	/* the last close of the description unlocks */
	free(l);
}

int
daemon_lock_probe(const char *database, struct daemon_info *info,
    char **err)
{
	struct flock fl;
	char *path = daemon_lock_path(database);
	int fd;

	memset(info, 0, sizeof(*info));
	*err = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT) {
			free(path);
			return 0;
		}
		*err = xasprintf("%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;	/* would a write lock conflict? */
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_GETLK, &fl) == -1) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	if (fl.l_type != F_UNLCK) {
		info->running = true;
		read_info(fd, info);
	}
	close(fd);
	free(path);
	return 0;
}
