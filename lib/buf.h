/*
 * buf: one growable, size-limited byte buffer for building output.
 *
 * The struct is public so hot paths (template rendering, MIME encoding) can
 * append without a call per byte; treat the fields as read-only outside
 * buf.c.  data is always NUL-terminated (when non-NULL) so it can be used as
 * a C string when the content has no NUL.
 *
 * A buffer created with buf_init(&b, max) refuses to grow past max bytes
 * (max == 0 means no limit): the append returns -1 and the buffer keeps what
 * it had.  buf_take() hands the bytes to the caller (caller frees) and
 * resets the buffer.
 */
#ifndef HERALD_BUF_H
#define HERALD_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};

#define BUF_INIT { NULL, 0, 0, 0 }

void	 buf_init(struct buf *b, size_t max);
void	 buf_free(struct buf *b);
void	 buf_reset(struct buf *b);		/* len = 0, keeps memory */
int	 buf_grow(struct buf *b, size_t extra);	/* room for extra more bytes */
int	 buf_add(struct buf *b, const void *p, size_t n);
int	 buf_adds(struct buf *b, const char *s);
int	 buf_addc(struct buf *b, char c);
/* Appends code point cp (<= 0x10FFFF) encoded as UTF-8. */
int	 buf_add_utf8(struct buf *b, unsigned cp);
int	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/*
 * Appends everything fd has until end of file.  Returns 0 at end of file;
 * -1 on a read error (errno says why); -2 when the data would grow the
 * buffer past its max (the buffer keeps what fit).  The bounce buffer is
 * wiped, so secrets read this way leave no copy on the stack.
 */
int	 buf_read_fd(struct buf *b, int fd);
/* Caller owns the returned string (never NULL: "" for an empty buffer). */
char	*buf_take(struct buf *b);
/* The contents as a C string; valid until the next change ("" if empty). */
const char *buf_cstr(const struct buf *b);

#endif
