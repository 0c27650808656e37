/*
 * fileio: durable whole-file writes, the one place herald writes a file
 * that must be either all there or not there at all (the secret key,
 * `herald init`'s files, `preview --output`).
 */
#ifndef HERALD_FILEIO_H
#define HERALD_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#define FILE_NOREPLACE	0x1	/* never replace an existing file (EEXIST) */

/*
 * Writes data[0..len) to path: a temporary file beside it with the given
 * mode (less the umask, as open(2) does), written, fsync'ed, then renamed to path (with FILE_NOREPLACE: only
 * when path does not exist yet), then the directory fsync'ed.  A reader
 * sees the old file or the whole new one, never a part.  Returns 0, or -1
 * with errno set (EEXIST: FILE_NOREPLACE and path exists); the temporary
 * file is removed on failure.
 */
int	file_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, int flags) __attribute__((warn_unused_result));

#endif
