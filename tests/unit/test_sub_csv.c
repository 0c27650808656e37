/* The streaming CSV reader: RFC 4180 cases, line numbers and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "sub_csv.h"

/*
 * Reads all of s and renders each record as "line:[f1|f2|...]" (with "!"
 * after the line for a record error), records separated by newlines; a
 * fatal error ends the text with "ERR <message>".
 */
static char *
render_reader(struct csv_reader *r)
{
	struct buf b = BUF_INIT;
	const struct csv_record *rec;
	int rc, guard;
	size_t i;

	for (guard = 0; guard < 100000; guard++) {
		rc = csv_read(r, &rec);
		if (rc == 0)
			break;
		if (rc == -1) {
			buf_printf(&b, "ERR %s", csv_reader_error(r));
			break;
		}
		buf_printf(&b, "%lu%s:[", rec->line, rec->err ? "!" : "");
		for (i = 0; i < rec->nfields; i++) {
			if (i)
				buf_addc(&b, '|');
			assert_int_equal(strlen(rec->fields[i]), rec->lens[i]);
			buf_add(&b, rec->fields[i], rec->lens[i]);
		}
		buf_adds(&b, "]\n");
	}
	assert_true(guard < 100000);
	csv_reader_free(r);
	return buf_take(&b);
}

static char *
render(const char *s, size_t n)
{
	return render_reader(csv_reader_mem(s, n));
}

#define CHECK(in, want) do {						\
	char *got_ = render((in), sizeof(in) - 1);			\
	assert_string_equal(got_, (want));				\
	free(got_);							\
} while (0)

static void
test_simple(void **state)
{
	(void)state;
	CHECK("email,name\na@b.org,Ann\n", "1:[email|name]\n2:[a@b.org|Ann]\n");
	CHECK("a,b\r\nc,d\r\n", "1:[a|b]\n2:[c|d]\n");
	CHECK("a,b\rc,d", "1:[a|b]\n2:[c|d]\n");		/* lone CR */
	CHECK("a,b\nc,d", "1:[a|b]\n2:[c|d]\n");		/* no final LF */
	CHECK("", "");
	CHECK("a,,\n", "1:[a||]\n");
	CHECK("a,b\n\nc\n", "1:[a|b]\n2:[]\n3:[c]\n");	/* blank line */
}

static void
test_quotes(void **state)
{
	(void)state;
	CHECK("\"a,b\",c\n", "1:[a,b|c]\n");
	CHECK("\"say \"\"hi\"\"\",x\n", "1:[say \"hi\"|x]\n");
	CHECK("\"\",x\n", "1:[|x]\n");
	CHECK("\"\"\n", "1:[]\n");
	/* a quote inside an unquoted field is kept */
	CHECK("Bob \"B\" Smith,x\n", "1:[Bob \"B\" Smith|x]\n");
	/* text after a closing quote: record error, reader goes on */
	CHECK("\"ab\"c,d\ne,f\n", "1!:[abc|d]\n2:[e|f]\n");
	/* quoted last field without line break */
	CHECK("a,\"b\"", "1:[a|b]\n");
}

static void
test_newlines_in_quotes(void **state)
{
	(void)state;
	CHECK("h\n\"line1\nline2\",x\nnext,y\n",
	    "1:[h]\n2:[line1\nline2|x]\n4:[next|y]\n");
	CHECK("\"a\r\nb\"\r\nc\r\n", "1:[a\r\nb]\n3:[c]\n");
	CHECK("\"a\n\n\nb\",c\nd\n", "1:[a\n\n\nb|c]\n5:[d]\n");
}

static void
test_bom(void **state)
{
	(void)state;
	CHECK("\xef\xbb\xbf" "email\nx\n", "1:[email]\n2:[x]\n");
	CHECK("\xef\xbb\xbf", "");
	/* a BOM later is just text (valid UTF-8) */
	CHECK("a\n\xef\xbb\xbf" "b\n", "1:[a]\n2:[\xef\xbb\xbf" "b]\n");
}

static void
test_utf8(void **state)
{
	(void)state;
	CHECK("Zoë,日本\n", "1:[Zoë|日本]\n");
	CHECK("a\nZo\xeb,x\n", "1:[a]\nERR line 2: not UTF-8 text "
	    "(convert the file, e.g. iconv -f latin1 -t utf-8)");
}

static void
test_errors(void **state)
{
	(void)state;
	CHECK("a\nb\n\"open,\nmore\nmore\n",
	    "1:[a]\n2:[b]\nERR line 3: a quoted field starting on this line "
	    "is never closed");
	CHECK("a\nb\0c\n", "1:[a]\nERR line 2: NUL byte: this is binary "
	    "data, not CSV text");
	CHECK("a\n\"b\0\"\n", "1:[a]\nERR line 2: NUL byte: this is binary "
	    "data, not CSV text");
	CHECK("\"x\"\0\n", "ERR line 1: NUL byte: this is binary data, not "
	    "CSV text");
}

static void
test_limits(void **state)
{
	size_t n = CSV_MAX_RECORD + 10, i;
	char *big = malloc(n + 1), *got;

	(void)state;
	big[0] = '"';
	memset(big + 1, 'x', n - 1);
	got = render(big, n);
	assert_non_null(strstr(got, "ERR line 1: record longer than 1 MiB"));
	free(got);
	/* too many fields */
	for (i = 0; i < 3000; i++)
		big[i] = ',';
	big[3000] = '\n';
	got = render(big, 3001);
	assert_non_null(strstr(got, "more than 1024 fields"));
	free(got);
	free(big);
}

/* The fd reader: the same records across 64 KiB window boundaries. */
static void
test_fd_windows(void **state)
{
	char path[] = "/tmp/test_sub_csv.XXXXXX";
	struct buf in = BUF_INIT, want = BUF_INIT;
	int fd, i;
	char *got;
	FILE *f;

	(void)state;
	buf_adds(&in, "\xef\xbb\xbf" "email,name\r\n");
	buf_adds(&want, "1:[email|name]\n");
	for (i = 0; i < 20000; i++) {
		buf_printf(&in, "user%d@example.org,\"Name, %d\r\nsecond \"\"q\"\"\"\r\n",
		    i, i);
		buf_printf(&want, "%d:[user%d@example.org|Name, %d\r\nsecond \"q\"]\n",
		    2 + 2 * i, i, i);
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fwrite(in.data, 1, in.len, f);
	fclose(f);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	got = render_reader(csv_reader_fd(fd));
	close(fd);
	unlink(path);
	assert_string_equal(got, want.data);
	free(got);
	buf_free(&in);
	buf_free(&want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_newlines_in_quotes),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_fd_windows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
