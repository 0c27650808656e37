/*
 * mailbox_maildir: a maildir (new/, cur/, tmp/).  Processed messages are
 * renamed into the Maildir++ folder ".Processed" beside cur/ (created with
 * its cur/, new/ and tmp/ when missing), which Dovecot and Courier show as
 * the folder "Processed".  rename(2) within one file system: a message is
 * in one place or the other, never both or neither.
 */
#include "mailbox_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "xmalloc.h"

static int
md_open(struct mailbox *mb, const char *password, char **err)
{
	struct stat st;
	char *cur = xasprintf("%s/cur", mb->path);
	char *nw = xasprintf("%s/new", mb->path);
	int rc = 0;

	(void)password;
	if (stat(cur, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    stat(nw, &st) == -1 || !S_ISDIR(st.st_mode)) {
		*err = xasprintf("maildir %s: not a maildir (no cur/ and new/): "
		    "%s", mb->path, strerror(errno ? errno : ENOTDIR));
		rc = -1;
	}
	free(cur);
	free(nw);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
md_list(struct mailbox *mb, char ***ids, size_t *n, char **err)
{
	static const char *const subs[] = { "new", "cur" };
	size_t i, cap = 0;

	for (i = 0; i < 2; i++) {
		char *dir = xasprintf("%s/%s", mb->path, subs[i]);
		DIR *d = opendir(dir);
		struct dirent *de;

		if (d == NULL) {
			*err = xasprintf("maildir %s: %s", dir, strerror(errno));
			free(dir);
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*ids = xrealloc(*ids, cap * sizeof(**ids));
			}
			(*ids)[(*n)++] = xasprintf("%s/%s", subs[i], de->d_name);
		}
		closedir(d);
		free(dir);
	}
	/* file names start with the delivery time: oldest first */
	if (*n > 1)
		qsort(*ids, *n, sizeof(**ids), cmp_str);
	return 0;
}

static bool
safe_id(const char *id)
{
	return (strncmp(id, "new/", 4) == 0 || strncmp(id, "cur/", 4) == 0) &&
	    id[4] != '\0' && id[4] != '.' && strchr(id + 4, '/') == NULL;
}

/*
 * Where message id is now: a mail client (or Dovecot serving the same
 * maildir) may have moved new/NAME to cur/NAME:2,FLAGS since the list.
 * Returns a new path, or NULL when it is gone.
 */
static char *
locate(struct mailbox *mb, const char *id)
{
	char *path = xasprintf("%s/%s", mb->path, id), *dir;
	size_t n = strlen(id + 4);
	struct dirent *de;
	DIR *d;

	if (access(path, F_OK) == 0 || strncmp(id, "new/", 4) != 0)
		return path;
	free(path);
	path = NULL;
	dir = xasprintf("%s/cur", mb->path);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, id + 4, n) == 0 &&
			    (de->d_name[n] == '\0' || de->d_name[n] == ':')) {
				path = xasprintf("%s/%s", dir, de->d_name);
				break;
			}
		closedir(d);
	}
	free(dir);
	return path;
}

static int
md_fetch(struct mailbox *mb, const char *id, char **data, size_t *len,
    char **err)
{
	struct buf b;
	char *path;
	int fd, r;

	if (!safe_id(id)) {
		*err = xasprintf("maildir: bad message name %s", id);
		return -1;
	}
	if ((path = locate(mb, id)) == NULL) {
		*err = xasprintf("maildir %s/%s: gone (taken by another "
		    "program)", mb->path, id);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		*err = xasprintf("maildir %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	buf_init(&b, MAILBOX_MSG_MAX);
	r = buf_read_fd(&b, fd);
	close(fd);
	if (r != 0) {
		*err = r == -2 ? xasprintf("maildir %s: larger than %u MiB, "
		    "skipped", path, MAILBOX_MSG_MAX >> 20) :
		    xasprintf("maildir %s: %s", path, strerror(errno));
		buf_free(&b);
		free(path);
		return -1;
	}
	*len = b.len;
	*data = buf_take(&b);
	free(path);
	return 0;
}

static int
mkdir_p(const char *path, char **err)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		*err = xasprintf("maildir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
md_done(struct mailbox *mb, const char *id, char **err)
{
	char *folder = NULL, *from = NULL, *to = NULL, *sub = NULL;
	const char *name;
	int rc = -1, fd;

	if (!safe_id(id)) {
		*err = xasprintf("maildir: bad message name %s", id);
		return -1;
	}
	folder = xasprintf("%s/.%s", mb->path, MAILBOX_PROCESSED);
	if (!mb->processed_ok) {
		static const char *const parts[] = { "cur", "new", "tmp" };
		size_t i;

		if (mkdir_p(folder, err) == -1)
			goto out;
		for (i = 0; i < 3; i++) {
			sub = xasprintf("%s/%s", folder, parts[i]);
			if (mkdir_p(sub, err) == -1)
				goto out;
			free(sub);
			sub = NULL;
		}
		sub = xasprintf("%s/maildirfolder", folder);
		if ((fd = open(sub, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) != -1)
			close(fd);
		mb->processed_ok = true;
	}
	if ((from = locate(mb, id)) == NULL) {
		*err = xasprintf("maildir %s/%s: gone (taken by another "
		    "program)", mb->path, id);
		goto out;
	}
	name = strrchr(from, '/') + 1;
	/* into cur/, marked seen (":2,S") as a mail client would leave it */
	to = strstr(name, ":2,") ? xasprintf("%s/cur/%s", folder, name) :
	    xasprintf("%s/cur/%s:2,S", folder, name);
	if (rename(from, to) == -1) {
		*err = xasprintf("maildir: moving %s to %s: %s", from, to,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(folder);
	free(from);
	free(to);
	free(sub);
	return rc;
}

static int
md_close(struct mailbox *mb, char **err)
{
	(void)mb;
	(void)err;
	return 0;
}

const struct mailbox_backend mailbox_maildir_backend = {
	"maildir", md_open, md_list, md_fetch, md_done, md_close,
};
