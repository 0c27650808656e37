/*
 * feed_decode: the bytes of a feed into UTF-8 (feed_int.h).
 *
 * A BOM (UTF-8, UTF-16 LE/BE) wins; else the HTTP charset, then the XML
 * declaration's encoding, else UTF-8.  Latin-1 and its aliases are read as
 * Windows-1252, as browsers do; bytes that are not valid in a "UTF-8"
 * document are read as Windows-1252 one by one; other charsets go through
 * iconv.
 */
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "feed_int.h"
#include "util.h"

const uint16_t feed_cp1252_c1[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static void
put_cp1252(struct buf *b, unsigned char c)
{
	if (c < 0x80)
		buf_addc(b, (char)c);
	else if (c < 0xa0)
		buf_add_utf8(b, feed_cp1252_c1[c - 0x80]);
	else
		buf_add_utf8(b, c);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	return utf8_valid((const char *)p, len) ? len : 0;
}

/* UTF-8 kept, each invalid byte read as Windows-1252. */
static void
decode_utf8_lenient(const unsigned char *p, size_t n, struct buf *out)
{
	size_t i = 0;

	if (utf8_valid((const char *)p, n)) {
		buf_add(out, p, n);
		return;
	}
	buf_grow(out, n + n / 8 + 16);
	while (i < n) {
		size_t start = i, l;

		while (i < n && p[i] < 0x80)
			i++;
		buf_add(out, p + start, i - start);
		if (i >= n)
			break;
		if ((l = utf8_seq(p + i, n - i)) > 0) {
			buf_add(out, p + i, l);
			i += l;
		} else
			put_cp1252(out, p[i++]);
	}
}

static void
decode_cp1252(const unsigned char *p, size_t n, struct buf *out)
{
	buf_grow(out, n + n / 4 + 16);
	for (size_t i = 0; i < n; i++)
		put_cp1252(out, p[i]);
}

/* iconv into UTF-8, U+FFFD for what cannot be read; -1 if unknown charset. */
static int
decode_iconv(const char *charset, const char *p, size_t n, struct buf *out)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	char *in = (char *)(uintptr_t)p;
	size_t left = n;
	int guard = 0;

	if (cd == (iconv_t)-1)
		return -1;
	while (left > 0 && guard++ < INT_MAX) {
		char tmp[8192], *o = tmp;
		size_t olen = sizeof(tmp);
		size_t r = iconv(cd, &in, &left, &o, &olen);

		buf_add(out, tmp, (size_t)(o - tmp));
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (truncated at the end): skip a byte. */
		buf_adds(out, "\xef\xbf\xbd");
		in++;
		left--;
	}
	iconv_close(cd);
	return 0;
}

enum charset_class { CS_UTF8, CS_CP1252, CS_UTF16LE, CS_UTF16BE, CS_OTHER };

static enum charset_class
charset_class(const char *cs)
{
	static const char *const latin[] = {
		"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1",
		"l1", "windows-1252", "cp1252", "x-cp1252", "us-ascii", "ascii",
		"ansi_x3.4-1968", "iso-ir-100", "cp819", "ibm819", "csisolatin1",
	};

	if (ascii_casecmp(cs, "utf-8") == 0 || ascii_casecmp(cs, "utf8") == 0 ||
	    ascii_casecmp(cs, "unicode-1-1-utf-8") == 0)
		return CS_UTF8;
	for (size_t i = 0; i < sizeof(latin) / sizeof(latin[0]); i++)
		if (ascii_casecmp(cs, latin[i]) == 0)
			return CS_CP1252;
	if (ascii_casecmp(cs, "utf-16le") == 0)
		return CS_UTF16LE;
	if (ascii_casecmp(cs, "utf-16be") == 0 || ascii_casecmp(cs, "utf-16") == 0)
		return CS_UTF16BE;
	return CS_OTHER;
}

/* The encoding="..." of an XML declaration at the start of p, into out. */
static bool
decl_encoding(const char *p, size_t n, char *out, size_t outlen)
{
	size_t end, i;

	if (n < 6 || memcmp(p, "<?xml", 5) != 0)
		return false;
	for (end = 5; end + 1 < n && end < 512; end++)
		if (p[end] == '?' && p[end + 1] == '>')
			break;
	for (i = 5; i + 8 < end; i++) {
		char q;
		size_t j, k = 0;

		if (memcmp(p + i, "encoding", 8) != 0)
			continue;
		j = i + 8;
		while (j < end && (p[j] == ' ' || p[j] == '=' || p[j] == '\t'))
			j++;
		if (j >= end || (p[j] != '"' && p[j] != '\''))
			return false;
		q = p[j++];
		while (j < end && p[j] != q && k + 1 < outlen)
			out[k++] = p[j++];
		out[k] = '\0';
		return k > 0;
	}
	return false;
}

void
feed_decode(const char *data, size_t len, const char *charset, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)data;
	char declared[64];
	const char *cs = NULL;
	enum charset_class cls;

	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		decode_utf8_lenient(u + 3, len - 3, out);
		return;
	}
	if (len >= 2 && ((u[0] == 0xff && u[1] == 0xfe) ||
	    (u[0] == 0xfe && u[1] == 0xff))) {
		if (decode_iconv(u[0] == 0xff ? "UTF-16LE" : "UTF-16BE",
		    data + 2, len - 2, out) == 0)
			return;
	}
	if (len >= 4 && u[0] == '<' && u[1] == 0 && u[2] == '?' && u[3] == 0) {
		if (decode_iconv("UTF-16LE", data, len, out) == 0)
			return;
	}
	if (len >= 4 && u[0] == 0 && u[1] == '<' && u[2] == 0 && u[3] == '?') {
		if (decode_iconv("UTF-16BE", data, len, out) == 0)
			return;
	}
	if (charset != NULL && *charset != '\0') {
		cs = charset;
		/* A UTF-16 label on a document that is plainly 8-bit is wrong. */
		cls = charset_class(cs);
		if ((cls == CS_UTF16LE || cls == CS_UTF16BE) &&
		    len >= 2 && u[0] != 0 && u[1] != 0)
			cs = NULL;
	}
	if (cs == NULL && decl_encoding(data, len, declared, sizeof(declared)))
		cs = declared;
	if (cs == NULL) {
		decode_utf8_lenient(u, len, out);
		return;
	}
	switch (charset_class(cs)) {
	case CS_UTF8:
		decode_utf8_lenient(u, len, out);
		return;
	case CS_CP1252:
		decode_cp1252(u, len, out);
		return;
	case CS_UTF16LE:
	case CS_UTF16BE:
		if (len >= 2 && u[0] != 0 && u[1] != 0) {
			/* Declared UTF-16 but written in an 8-bit encoding. */
			decode_utf8_lenient(u, len, out);
			return;
		}
		break;
	case CS_OTHER:
		break;
	}
	if (decode_iconv(cs, data, len, out) < 0)
		decode_utf8_lenient(u, len, out);
}
