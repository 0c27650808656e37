#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "header.h"
#include "mime.h"
#include "xmalloc.h"

/* Decodes QP with libetpan; returns a new string (LF line ends). */
static char *
qp_decode(const char *qp, size_t n)
{
	size_t idx = 0, len = 0, i;
	char *res = NULL;
	struct buf b = BUF_INIT;

	assert_int_equal(mailmime_part_parse(qp, n, &idx,
	    MAILMIME_MECHANISM_QUOTED_PRINTABLE, &res, &len), MAILIMF_NO_ERROR);
	for (i = 0; i < len; i++)
		if (!(res[i] == '\r' && i + 1 < len && res[i + 1] == '\n'))
			buf_addc(&b, res[i]);
	mailmime_decoded_part_free(res);
	return buf_take(&b);
}

static void
check_qp_lines(const char *qp, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (qp[i] == '\r') {
			assert_true(i + 1 < n && qp[i + 1] == '\n');
			/* no whitespace before a line end */
			if (i > 0)
				assert_true(qp[i - 1] != ' ' && qp[i - 1] != '\t');
			col = 0;
			i++;
			continue;
		}
		assert_true(qp[i] != '\n');
		assert_true((unsigned char)qp[i] < 0x80);
		col++;
		assert_true(col <= 76);
	}
}

static void
qp_roundtrip(const char *in)
{
	struct buf b = BUF_INIT;
	char *dec, *want;
	size_t i, j;

	assert_int_equal(mime_qp_encode(&b, in, strlen(in)), 0);
	check_qp_lines(b.data ? b.data : "", b.len);
	dec = qp_decode(b.data ? b.data : "", b.len);
	want = xstrdup(in);
	for (i = j = 0; in[i]; i++)		/* CRLF in the input -> LF */
		if (!(in[i] == '\r' && in[i + 1] == '\n'))
			want[j++] = in[i];
	want[j] = '\0';
	assert_string_equal(dec, want);
	free(want);
	free(dec);
	buf_free(&b);
}

static void
test_qp(void **state)
{
	struct buf b = BUF_INIT, big = BUF_INIT;
	int i;

	(void)state;
	qp_roundtrip("");
	qp_roundtrip("hello\n");
	qp_roundtrip("a = b\n=\n==3D");
	qp_roundtrip("trailing  \nspace \ttab\t\nend ");
	qp_roundtrip(".dot\nFrom me\nFrom\n.\n");
	qp_roundtrip("Russia buys \xe2\x80\x98millions\xe2\x80\x99 of rockets");
	qp_roundtrip("crlf\r\nline\r\nlone\rcr\n");
	for (i = 0; i < 3000; i++)
		buf_addc(&big, "ab=\xc3\xa9 ."[i % 7]);
	qp_roundtrip(big.data);
	buf_reset(&big);
	for (i = 0; i < 5000; i++)
		buf_addc(&big, 'x');
	qp_roundtrip(big.data);
	buf_free(&big);

	/* exact output for a known input */
	assert_int_equal(mime_qp_encode(&b, "caf\xc3\xa9 = ok \n.x", 14), 0);
	assert_string_equal(b.data, "caf=C3=A9 =3D ok=20\r\n=2Ex");
	buf_free(&b);
}

/* Decodes encoded-words with libetpan. */
static char *
ew_decode(const char *s)
{
	size_t idx = 0;
	char *res = NULL, *out;

	assert_int_equal(mailmime_encoded_phrase_parse("us-ascii", s,
	    strlen(s), &idx, "utf-8", &res), MAILIMF_NO_ERROR);
	out = xstrdup(res);
	free(res);
	return out;
}

static void
check_words(const char *enc)
{
	const char *p = enc;

	while ((p = strstr(p, "=?")) != NULL) {
		const char *e = strstr(p + 2, "?=");
		const char *q;

		assert_non_null(e);
		/* "=?UTF-8?Q?" then the text: skip the inner "?Q?" */
		q = strstr(p + 2, "?");
		q = strstr(q + 1, "?");
		e = strstr(q + 1, "?=");
		assert_true(e + 2 - p <= HEADER_EWORD_MAX);
		p = e + 2;
	}
}

static void
subject_roundtrip(const char *in)
{
	char *c = header_clean(in, 2000), *t = header_text(c, 62), *d;

	check_words(t);
	assert_null(strchr(t, '\r'));
	assert_null(strchr(t, '\n'));
	d = ew_decode(t);
	assert_string_equal(d, c);
	free(d);
	free(t);
	free(c);
}

static void
test_subject(void **state)
{
	(void)state;
	subject_roundtrip("Russia buys \xe2\x80\x98millions\xe2\x80\x99 of "
	    "rockets and shells from North Korea");
	subject_roundtrip("\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xae\xe3\x83\x8b"
	    "\xe3\x83\xa5\xe3\x83\xbc\xe3\x82\xb9 \xf0\x9f\x8e\x89 \xe7\xb5\xb5"
	    "\xe6\x96\x87\xe5\xad\x97\xe3\x81\x8c\xe3\x81\x9f\xe3\x81\x8f\xe3"
	    "\x81\x95\xe3\x82\x93\xe5\x85\xa5\xe3\x81\xa3\xe3\x81\x9f\xe9\x95"
	    "\xb7\xe3\x81\x84\xe4\xbb\xb6\xe5\x90\x8d\xf0\x9f\x91\xa9\xe2\x80"
	    "\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7");
	subject_roundtrip("plain ascii subject");
	subject_roundtrip("\xc3\xa9");
}

static void
test_clean(void **state)
{
	char *c;

	(void)state;
	c = header_clean("  a\r\nBcc: x\x01\x7f\tb  \xc2\x85 c ", 100);
	assert_string_equal(c, "a Bcc: x b c");
	free(c);
	c = header_clean("bad \xff utf8 \xc0\xaf", 100);
	assert_string_equal(c, "bad \xef\xbf\xbd utf8 \xef\xbf\xbd\xef\xbf\xbd");
	free(c);
	c = header_clean("\xc3\xa9\xc3\xa9\xc3\xa9", 5);	/* never split */
	assert_string_equal(c, "\xc3\xa9\xc3\xa9");
	free(c);
	c = header_clean(NULL, 10);
	assert_string_equal(c, "");
	free(c);
}

static void
test_addr(void **state)
{
	const char *why;

	(void)state;
	assert_true(header_addr_ok("ada@example.org", NULL));
	assert_true(header_addr_ok("a.b+c-d_e@sub.example-x.org", NULL));
	assert_false(header_addr_ok("ada@example.org\r\nBcc: x@y.z", &why));
	assert_false(header_addr_ok("a da@example.org", &why));
	assert_false(header_addr_ok("<ada@example.org>", &why));
	assert_false(header_addr_ok("ada@-example.org", &why));
	assert_false(header_addr_ok(".ada@example.org", &why));
	assert_false(header_addr_ok("ada@example..org", &why));
	assert_false(header_addr_ok("\"a\"@example.org", &why));
	assert_false(header_addr_ok("", &why));
	assert_false(header_addr_ok(NULL, &why));
}

static void
test_build_minimal(void **state)
{
	struct mime_params p;
	struct buf out = BUF_INIT;
	char *err = NULL;
	struct mailmime *mime = NULL;
	size_t idx = 0;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.from_addr = "news@rangeinn.example";
	p.to_addr = "ada@example.org";
	p.subject = "Hi";
	p.date = 1795503600;
	p.text = "text\n";
	p.text_len = 5;
	p.html = "<p>html</p>";
	p.html_len = 11;
	assert_int_equal(mime_build(&p, &out, &err), 0);
	assert_non_null(strstr(out.data, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(out.data,
	    "Date: Tue, 24 Nov 2026 07:00:00 +0000\r\n"));
	assert_null(strstr(out.data, "List-Unsubscribe"));
	/* libetpan reads it back as two parts */
	assert_int_equal(mailmime_parse(out.data, out.len, &idx, &mime),
	    MAILIMF_NO_ERROR);
	assert_int_equal(mime->mm_type, MAILMIME_MESSAGE);
	assert_int_equal(mime->mm_data.mm_message.mm_msg_mime->mm_type,
	    MAILMIME_MULTIPLE);
	assert_int_equal(clist_count(mime->mm_data.mm_message.mm_msg_mime->
	    mm_data.mm_multipart.mm_mp_list), 2);
	mailmime_free(mime);

	/* errors leave out as it was */
	buf_reset(&out);
	p.to_addr = "ada@example.org\r\nBcc: x@y.z";
	assert_int_equal(mime_build(&p, &out, &err), -1);
	assert_non_null(err);
	assert_int_equal(out.len, 0);
	free(err);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_build_minimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
