/*
 * A streaming RFC 4180 reader: a small state machine over a 64 KiB input
 * buffer.  One record's fields are kept in one growable buffer, each
 * followed by a NUL, so a record costs no allocation once the buffers have
 * grown to the size of the largest record.
 */
#include "sub_csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"
#include "xmalloc.h"

#define CSV_INBUF	65536

struct csv_reader {
	int			 fd;		/* -1: memory */
	const unsigned char	*in;		/* current input window */
	size_t			 pos, len;
	unsigned char		*inbuf;		/* fd: owned window */
	bool			 eof;		/* no more input after the window */
	bool			 started;	/* BOM check done */
	bool			 failed;
	unsigned long		 line;		/* current physical line */
	unsigned long long	 consumed;	/* bytes before the window */
	char			 errbuf[160];

	struct buf		 rec;		/* field bytes, NUL after each */
	size_t			*offs;		/* start of each field in rec */
	size_t			 nalloc;	/* offs/lens/fields capacity */
	struct csv_record	 out;
};

static struct csv_reader *
reader_new(void)
{
	struct csv_reader *r = xcalloc(1, sizeof(*r));

	r->line = 1;
	buf_init(&r->rec, CSV_MAX_RECORD + CSV_MAX_FIELDS);
	return r;
}

struct csv_reader *
csv_reader_fd(int fd)
{
	struct csv_reader *r = reader_new();

	r->fd = fd;
	r->inbuf = xmalloc(CSV_INBUF);
	r->in = r->inbuf;
	return r;
}

struct csv_reader *
csv_reader_mem(const void *data, size_t len)
{
	struct csv_reader *r = reader_new();

	r->fd = -1;
	r->in = data;
	r->len = len;
	r->eof = true;
	return r;
}

void
csv_reader_free(struct csv_reader *r)
{
	if (r == NULL)
		return;
	buf_free(&r->rec);
	free(r->offs);
	free(r->out.fields);
	free(r->out.lens);
	free(r->inbuf);
	free(r);
}

const char *
csv_reader_error(const struct csv_reader *r)
{
	return r->failed ? r->errbuf : NULL;
}

unsigned long long
csv_reader_offset(const struct csv_reader *r)
{
	return r->consumed + r->pos;
}

static int
fail(struct csv_reader *r, unsigned long line, const char *why)
{
	if (!r->failed)
		snprintf(r->errbuf, sizeof(r->errbuf), "line %lu: %s", line,
		    why);
	r->failed = true;
	return -1;
}

/* Refills the window; 1 more input, 0 end, -1 read error. */
static int
refill(struct csv_reader *r)
{
	ssize_t n;

	if (r->eof)
		return 0;
	r->consumed += r->len;
	r->pos = r->len = 0;
	for (;;) {
		n = read(r->fd, r->inbuf, CSV_INBUF);
		if (n > 0)
			break;
		if (n == 0) {
			r->eof = true;
			return 0;
		}
		if (errno != EINTR) {
			snprintf(r->errbuf, sizeof(r->errbuf), "line %lu: "
			    "read error: %s", r->line, strerror(errno));
			r->failed = true;
			return -1;
		}
	}
	r->len = (size_t)n;
	return 1;
}

/* The next byte, or -1 at the end, -2 on a read error. */
static inline int
next(struct csv_reader *r)
{
	if (r->pos == r->len) {
		int rc = refill(r);

		if (rc <= 0)
			return rc == 0 ? -1 : -2;
	}
	return r->in[r->pos++];
}

/* The next byte without consuming it (-1 end, -2 error). */
static inline int
peek(struct csv_reader *r)
{
	if (r->pos == r->len) {
		int rc = refill(r);

		if (rc <= 0)
			return rc == 0 ? -1 : -2;
	}
	return r->in[r->pos];
}

static int
start_field(struct csv_reader *r, unsigned long line)
{
	if (r->out.nfields == CSV_MAX_FIELDS)
		return fail(r, line, "more than 1024 fields in one record");
	if (r->out.nfields == r->nalloc) {
		r->nalloc = r->nalloc ? r->nalloc * 2 : 16;
		r->offs = xrealloc(r->offs, r->nalloc * sizeof(*r->offs));
		r->out.lens = xrealloc(r->out.lens,
		    r->nalloc * sizeof(*r->out.lens));
		r->out.fields = xrealloc(r->out.fields,
		    r->nalloc * sizeof(*r->out.fields));
	}
	r->offs[r->out.nfields++] = r->rec.len;
	return 0;
}

static int
end_field(struct csv_reader *r, unsigned long line)
{
	size_t i = r->out.nfields - 1;

	r->out.lens[i] = r->rec.len - r->offs[i];
	if (buf_addc(&r->rec, '\0') == -1)
		return fail(r, line, "record longer than 1 MiB "
		    "(is a quote left open?)");
	return 0;
}

static int
add(struct csv_reader *r, unsigned long line, const void *p, size_t n)
{
	if (r->rec.len + n > CSV_MAX_RECORD || buf_add(&r->rec, p, n) == -1)
		return fail(r, line, "record longer than 1 MiB "
		    "(is a quote left open?)");
	return 0;
}

static int
nul_error(struct csv_reader *r)
{
	return fail(r, r->line, "NUL byte: this is binary data, not CSV text");
}

/*
 * Reads one unquoted run of bytes into the current field, up to (not
 * including) a comma, CR, LF or the end.  Returns the byte that stopped it
 * (-1 at the end) or < -1 on error.
 */
static int
unquoted(struct csv_reader *r, unsigned long line)
{
	for (;;) {
		const unsigned char *p, *e;

		if (r->pos == r->len) {
			int rc = refill(r);

			if (rc < 0)
				return -2;
			if (rc == 0)
				return -1;
		}
		p = r->in + r->pos;
		e = r->in + r->len;
		while (p < e && *p != ',' && *p != '\n' && *p != '\r' &&
		    *p != '\0')
			p++;
		if (p > r->in + r->pos &&
		    add(r, line, r->in + r->pos, (size_t)(p - (r->in + r->pos))))
			return -3;
		r->pos = (size_t)(p - r->in);
		if (p < e) {
			if (*p == '\0')
				return nul_error(r), -3;
			r->pos++;
			return *p;
		}
	}
}

/*
 * Reads a quoted field's content after its opening quote, through the
 * closing quote.  Returns 0, or -1 on a fatal error.
 */
static int
quoted(struct csv_reader *r, unsigned long line)
{
	for (;;) {
		int c = next(r);

		switch (c) {
		case -1:
			return fail(r, line, "a quoted field starting on this "
			    "line is never closed");
		case -2:
			return -1;
		case '\0':
			return nul_error(r);
		case '"':
			if (peek(r) != '"')
				return 0;
			r->pos++;
			break;
		case '\n':
			r->line++;
			break;
		default:
			break;
		}
		{
			unsigned char ch = (unsigned char)c;

			if (add(r, line, &ch, 1))
				return -1;
		}
	}
}

/* After CR: swallow the LF of a CRLF. */
static void
end_line(struct csv_reader *r, int c)
{
	r->line++;
	if (c == '\r' && peek(r) == '\n')
		r->pos++;
}

int
csv_read(struct csv_reader *r, const struct csv_record **rec)
{
	unsigned long line;
	int c;
	size_t i;

	*rec = NULL;
	if (r->failed)
		return -1;
	if (!r->started) {
		r->started = true;
		if (r->fd != -1 && refill(r) < 0)
			return -1;
		if (r->len - r->pos >= 3 &&
		    memcmp(r->in + r->pos, "\xef\xbb\xbf", 3) == 0)
			r->pos += 3;
	}
	c = peek(r);
	if (c == -2)
		return -1;
	if (c == -1)
		return 0;

	line = r->line;
	buf_reset(&r->rec);
	r->out.nfields = 0;
	r->out.err = NULL;
	r->out.line = line;
	for (;;) {			/* one field per iteration */
		if (start_field(r, line))
			return -1;
		c = peek(r);
		if (c == '"') {
			r->pos++;
			if (quoted(r, line))
				return -1;
			c = next(r);
			if (c != ',' && c != '\n' && c != '\r' && c >= 0) {
				/* text after the closing quote: keep it */
				if (r->out.err == NULL)
					r->out.err = "text after a closing "
					    "quote (a quote inside a quoted "
					    "field must be doubled)";
				if (c == '\0')
					return nul_error(r);
				r->pos--;
				c = unquoted(r, line);
			}
		} else
			c = unquoted(r, line);
		if (c < -1)
			return -1;
		if (end_field(r, line))
			return -1;
		if (c == ',')
			continue;
		if (c == '\n' || c == '\r')
			end_line(r, c);
		break;			/* end of record (or of input) */
	}
	if (!utf8_valid(r->rec.data, r->rec.len))
		return fail(r, line, "not UTF-8 text (convert the file, "
		    "e.g. iconv -f latin1 -t utf-8)");
	for (i = 0; i < r->out.nfields; i++)
		r->out.fields[i] = r->rec.data + r->offs[i];
	*rec = &r->out;
	return 1;
}

/* ---- writing ---- */

static bool
formula_like(const char *s)
{
	while (*s == '\'')
		s++;
	return *s == '=' || *s == '+' || *s == '-' || *s == '@' ||
	    *s == '\t' || *s == '\r';
}

int
csv_cell(struct buf *b, const char *s)
{
	char *q;
	int r;

	if (s == NULL || !formula_like(s))
		return csv_field(b, s);
	q = xasprintf("'%s", s);
	r = csv_field(b, q);
	free(q);
	return r;
}

char *
csv_cell_unescape(char *s)
{
	return s[0] == '\'' && formula_like(s + 1) ? s + 1 : s;
}
