/*
 * fileio: durable whole-file writes (see fileio.h).
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmalloc.h"

/* fsync of the directory path is in, so the rename itself is durable. */
static void
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") : slash == path ?
	    xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Moves tmp to path without replacing an existing path. */
static int
rename_noreplace(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* a file system without RENAME_NOREPLACE: link refuses to replace */
	if (link(tmp, path) == -1)
		return -1;
	unlink(tmp);
	return 0;
}

int
file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int flags)
{
	const char *p = data, *slash = strrchr(path, '/');
	char *tmp;
	size_t off = 0;
	mode_t um = umask(0);
	int fd, saved;

	umask(um);

	tmp = slash ? xasprintf("%.*s/.%s.XXXXXX", (int)(slash - path), path,
	    slash + 1) : xasprintf(".%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		saved = errno;
		free(tmp);
		errno = saved;
		return -1;
	}
	if (fchmod(fd, mode & ~um) == -1)	/* as open(2) would */
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if ((flags & FILE_NOREPLACE) ? rename_noreplace(tmp, path) == -1 :
	    rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	sync_dir(path);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}
