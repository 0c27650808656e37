#include "header.h"

#include <stdint.h>
#include <string.h>

#include "email.h"
#include "xmalloc.h"

#define HEADER_PLAIN_WORD_MAX	70	/* longer ASCII words get encoded */

/*
 * Decodes one UTF-8 character at s[0..n); returns its length and sets *cp,
 * or 0 when the sequence is invalid (overlong, surrogate, > U+10FFFF,
 * truncated).
 */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, k;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Length of the valid UTF-8 character at s (s is valid UTF-8). */
static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	return 4;
}

static bool
is_space_cp(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0x2028 || cp == 0x2029 || cp == ' ';
}

char *
header_clean(const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s), i = 0;
	struct buf b = BUF_INIT;
	bool pending_space = false;

	buf_grow(&b, n + 16);
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_next(s + i, n - i, &cp);
		const char *add;
		size_t addlen;

		if (len == 0) {		/* invalid byte: U+FFFD */
			add = "\xef\xbf\xbd";
			addlen = 3;
			len = 1;
		} else if (is_space_cp(cp)) {
			pending_space = b.len > 0;
			i += len;
			continue;
		} else {
			add = (const char *)s + i;
			addlen = len;
		}
		if (b.len + (pending_space ? 1 : 0) + addlen > max)
			break;
		if (pending_space)
			buf_addc(&b, ' ');
		pending_space = false;
		buf_add(&b, add, addlen);
		i += len;
	}
	buf_add(&b, "", 0);		/* NUL-terminated even when empty */
	return buf_take(&b);
}

bool
header_addr_ok(const char *addr, const char **why)
{
	const char *at, *p, *label;
	size_t n;

#define FAIL(msg) do { if (why) *why = (msg); return false; } while (0)
	if (addr == NULL || *addr == '\0')
		FAIL("empty address");
	n = strlen(addr);
	if (n > 254)
		FAIL("address longer than 254 octets");
	at = strrchr(addr, '@');
	if (at == NULL)
		FAIL("no @ in address");
	if (at == addr)
		FAIL("empty local part");
	if (at - addr > 64)
		FAIL("local part longer than 64 octets");
	for (p = addr; p < at; p++) {
		if (*p == '.') {
			if (p == addr || p + 1 == at || p[1] == '.')
				FAIL("misplaced dot in local part");
		} else if (!email_is_atext((unsigned char)*p))
			FAIL("character not allowed in local part");
	}
	label = at + 1;
	if (*label == '\0')
		FAIL("empty domain");
	for (p = label;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label)
				FAIL("empty label in domain");
			if (p - label > 63)
				FAIL("domain label longer than 63 octets");
			if (*label == '-' || p[-1] == '-')
				FAIL("domain label starts or ends with '-'");
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!((*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-'))
			FAIL("character not allowed in domain");
	}
#undef FAIL
	return true;
}

/* RFC 2047 5(3): characters that may stand for themselves in a Q word. */
static bool
q_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

static size_t
q_cost(unsigned char c)
{
	return (q_plain(c) || c == ' ') ? 1 : 3;
}

static const char hexd[] = "0123456789ABCDEF";
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_append(struct buf *out, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		char q[4] = { b64[s[i] >> 2],
		    b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)],
		    b64[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)],
		    b64[s[i + 2] & 63] };
		buf_add(out, q, 4);
	}
	if (n - i == 1) {
		char q[4] = { b64[s[i] >> 2], b64[(s[i] & 3) << 4], '=', '=' };
		buf_add(out, q, 4);
	} else if (n - i == 2) {
		char q[4] = { b64[s[i] >> 2],
		    b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)],
		    b64[(s[i + 1] & 15) << 2], '=' };
		buf_add(out, q, 4);
	}
}

size_t
header_ewords(struct buf *out, const char *str, size_t n, size_t word_max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t qtotal = 0, btotal, i, words = 0, payload_max;
	bool useq;

	if (word_max > HEADER_EWORD_MAX)
		word_max = HEADER_EWORD_MAX;
	if (word_max < 12 + 12)		/* room for at least 4 bytes */
		word_max = 24;
	payload_max = word_max - 12;	/* "=?UTF-8?Q?" + "?=" */
	for (i = 0; i < n; i++)
		qtotal += q_cost(s[i]);
	btotal = (n + 2) / 3 * 4;
	useq = qtotal <= btotal;

	i = 0;
	while (i < n) {
		size_t start = i, cost = 0;

		/* take whole characters while the word stays short enough */
		while (i < n) {
			size_t len = utf8_len(s[i]), c = 0, k;

			if (len > n - i)
				len = n - i;
			if (useq) {
				for (k = 0; k < len; k++)
					c += q_cost(s[i + k]);
				if (cost + c > payload_max)
					break;
			} else {
				if ((i - start + len + 2) / 3 * 4 > payload_max)
					break;
			}
			cost += c;
			i += len;
		}
		if (i == start)		/* cannot happen with word_max >= 24 */
			i += utf8_len(s[i]) > n - i ? n - i : utf8_len(s[i]);
		if (i < n) {
			/* end the word after a space when one is near: decoders
			 * that wrongly keep the whitespace between words (Python's
			 * phrase parser) then show a double space, not a new one */
			size_t sp;

			for (sp = i; sp > start + (i - start) / 2; sp--)
				if (s[sp - 1] == ' ') {
					i = sp;
					break;
				}
		}
		if (words++)
			buf_addc(out, ' ');
		buf_adds(out, useq ? "=?UTF-8?Q?" : "=?UTF-8?B?");
		if (useq) {
			size_t k;

			for (k = start; k < i; k++) {
				if (q_plain(s[k]))
					buf_addc(out, (char)s[k]);
				else if (s[k] == ' ')
					buf_addc(out, '_');
				else {
					char e[3] = { '=', hexd[s[k] >> 4],
					    hexd[s[k] & 15] };
					buf_add(out, e, 3);
				}
			}
		} else
			b64_append(out, s + start, i - start);
		buf_adds(out, "?=");
	}
	return words;
}

/* True when the ASCII-looking word w[0..n) must be encoded. */
static bool
word_needs_encoding(const char *w, size_t n)
{
	size_t i;

	if (n > HEADER_PLAIN_WORD_MAX)
		return true;
	for (i = 0; i < n; i++) {
		if ((unsigned char)w[i] >= 0x80)
			return true;
		if (w[i] == '=' && i + 1 < n && w[i + 1] == '?')
			return true;
	}
	return false;
}

char *
header_text(const char *clean, size_t first_max)
{
	struct buf b = BUF_INIT;
	const char *p, *first = NULL, *last_end = NULL;
	size_t n = strlen(clean);

	/* find the span of words that need encoding */
	for (p = clean; *p;) {
		const char *e = strchr(p, ' ');
		size_t wl = e ? (size_t)(e - p) : strlen(p);

		if (word_needs_encoding(p, wl)) {
			if (first == NULL)
				first = p;
			last_end = p + wl;
		}
		p += wl;
		if (*p == ' ')
			p++;
	}
	if (first == NULL)
		return xstrdup(clean);
	buf_grow(&b, n * 3 + 64);
	buf_add(&b, clean, (size_t)(first - clean));
	header_ewords(&b, first, (size_t)(last_end - first),
	    first == clean ? first_max : HEADER_EWORD_MAX);
	buf_adds(&b, last_end);
	return buf_take(&b);
}

bool
header_phrase_ascii(const char *clean)
{
	const unsigned char *p;

	for (p = (const unsigned char *)clean; *p; p++)
		if (*p >= 0x80 || (p[0] == '=' && p[1] == '?'))
			return false;
	return true;
}

char *
header_phrase(const char *clean, size_t *words)
{
	struct buf b = BUF_INIT;
	const unsigned char *p;
	bool atoms = true;
	size_t nw = 0;

	if (header_phrase_ascii(clean)) {
		for (p = (const unsigned char *)clean; *p; p++)
			if (*p != ' ' && !email_is_atext(*p))
				atoms = false;
		if (atoms)
			buf_adds(&b, clean);
		else {
			buf_addc(&b, '"');
			for (p = (const unsigned char *)clean; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_addc(&b, '\\');
				buf_addc(&b, (char)*p);
			}
			buf_addc(&b, '"');
		}
	} else
		nw = header_ewords(&b, clean, strlen(clean), HEADER_EWORD_MAX);
	if (words)
		*words = nw;
	return buf_take(&b);
}
