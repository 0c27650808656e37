/*
 * csv: a streaming RFC 4180 reader.
 *
 * Reads one record at a time from a file descriptor or from memory, never
 * holding more than one record (at most CSV_MAX_RECORD bytes) and a 64 KiB
 * input buffer.  It accepts:
 *   - fields separated by commas, records by CRLF, LF or a lone CR;
 *   - quoted fields holding commas, doubled quotes ("") and line breaks;
 *   - a UTF-8 byte order mark at the very start (skipped);
 *   - a last record without a trailing line break.
 * A quote inside an unquoted field is kept as a character (what spreadsheets
 * write for  Bob "The Builder" Smith).
 *
 * Errors come in two kinds:
 *   - a record error (rec->err set, static string): the record is malformed
 *     (text after a closing quote) but the reader can go on with the next;
 *   - a fatal error (csv_read() returns -1, csv_reader_error()): a NUL byte
 *     (binary input), bytes that are not UTF-8, a quoted field never closed,
 *     a record over the size or field limits, a read error.  Reading stops.
 * Every message names the physical line where the record starts (1-based).
 */
#ifndef HERALD_SUB_CSV_H
#define HERALD_SUB_CSV_H

#include <stddef.h>

#define CSV_MAX_RECORD	(1024 * 1024)	/* bytes in one record */
#define CSV_MAX_FIELDS	1024

struct csv_reader;

struct csv_record {
	size_t		 nfields;
	char		**fields;	/* each NUL-terminated (may hold no NUL) */
	size_t		*lens;		/* their lengths */
	unsigned long	 line;		/* physical line where it starts */
	const char	*err;		/* non-NULL: malformed record (static) */
};

/* Reads fd (not closed by the reader). */
struct csv_reader	*csv_reader_fd(int fd);
/* Reads data[0..len) (not copied: must outlive the reader). */
struct csv_reader	*csv_reader_mem(const void *data, size_t len);
void			 csv_reader_free(struct csv_reader *);

/*
 * Returns 1 with *rec set (owned by the reader, valid until the next call),
 * 0 at the end of the input, -1 on a fatal error.  After -1 every later
 * call returns -1 again.
 */
int			 csv_read(struct csv_reader *, const struct csv_record **rec);
/* The fatal error, as "line N: why" (owned by the reader), or NULL. */
const char		*csv_reader_error(const struct csv_reader *);
/* Bytes consumed so far (after the BOM). */
unsigned long long	 csv_reader_offset(const struct csv_reader *);

struct buf;

/*
 * Spreadsheet formula injection (OWASP "CSV Injection"): a cell beginning
 * with =, +, -, @, a tab or a carriage return is read as a formula by
 * spreadsheets.  csv_cell() writes s as one RFC 4180 field with a single
 * quote in front of such a value; a value that already begins with a quote
 * followed by one of those gets one more, so the escape is reversible:
 * csv_cell_unescape() (used by import) removes exactly the quote csv_cell()
 * added.  Returns what buf_add returns (0, or -1 when the buffer is full).
 */
int			 csv_cell(struct buf *b, const char *s);
/* s without the quote csv_cell() put in front (a pointer into s). */
char			*csv_cell_unescape(char *s);

#endif
