#include "email.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "util.h"
#include "xmalloc.h"

#define EMAIL_MAX	254
#define LOCAL_MAX	64
#define LABEL_MAX	63

bool
email_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* Length in bytes of the UTF-8 sequence at s, or 0 when not valid. */
static size_t
utf8_seq(const char *s, size_t avail)
{
	unsigned char c = (unsigned char)s[0];
	size_t len;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		len = 2;
	else if ((c & 0xf0) == 0xe0)
		len = 3;
	else if ((c & 0xf8) == 0xf0)
		len = 4;
	else
		return 0;
	if (len > avail || !utf8_valid(s, len))
		return 0;
	return len;
}

static bool
local_valid(const char *s, size_t n, const char **why)
{
	size_t i;

	if (n == 0) {
		*why = "the part before @ is empty";
		return false;
	}
	if (n > LOCAL_MAX) {
		*why = "the part before @ is longer than 64 characters";
		return false;
	}
	if (s[0] == '"') {
		/* quoted-string: qtext or quoted-pair, no CR/LF/controls */
		if (n < 2 || s[n - 1] != '"') {
			*why = "unterminated quoted local part";
			return false;
		}
		for (i = 1; i < n - 1; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '\\') {
				if (i + 1 >= n - 1) {
					*why = "backslash at the end of the quoted local part";
					return false;
				}
				c = (unsigned char)s[++i];
				if (c < 0x20 || c == 0x7f) {
					*why = "control character in the address";
					return false;
				}
				continue;
			}
			if (c == '"') {
				*why = "stray quote in the local part";
				return false;
			}
			if (c < 0x20 || c == 0x7f) {
				*why = "control character in the address";
				return false;
			}
			if (c >= 0x80) {
				size_t k = utf8_seq(s + i, n - 1 - i);

				if (k == 0) {
					*why = "the address is not valid UTF-8";
					return false;
				}
				i += k - 1;
			}
		}
		return true;
	}
	/* dot-atom (with UTF-8 allowed, RFC 6532) */
	if (s[0] == '.' || s[n - 1] == '.') {
		*why = "the part before @ starts or ends with a dot";
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (s[i + 1] == '.') {
				*why = "two dots in a row before @";
				return false;
			}
			continue;
		}
		if (c >= 0x80) {
			size_t k = utf8_seq(s + i, n - i);

			if (k == 0) {
				*why = "the address is not valid UTF-8";
				return false;
			}
			i += k - 1;
			continue;
		}
		if (c == ' ' || c == '\t') {
			*why = "space in the address";
			return false;
		}
		if (c < 0x20 || c == 0x7f) {
			*why = "control character in the address";
			return false;
		}
		if (!email_is_atext(c)) {
			*why = "character not allowed before @ (quote the local part)";
			return false;
		}
	}
	return true;
}

static bool
domain_valid(const char *s, size_t n, const char **why)
{
	size_t i = 0, labels = 0, last = 0, d;

	if (n == 0) {
		*why = "the domain after @ is empty";
		return false;
	}
	if (s[0] == '[') {
		*why = "address literals ([...]) are not accepted";
		return false;
	}
	while (i <= n) {
		size_t start = i, len;

		while (i < n && s[i] != '.') {
			unsigned char c = (unsigned char)s[i];

			if (c >= 0x80) {
				size_t k = utf8_seq(s + i, n - i);

				if (k == 0) {
					*why = "the domain is not valid UTF-8";
					return false;
				}
				i += k;
				continue;
			}
			if (c == ' ' || c == '\t') {
				*why = "space in the address";
				return false;
			}
			if (c < 0x20 || c == 0x7f) {
				*why = "control character in the address";
				return false;
			}
			if (!is_ldh(c)) {
				*why = "the domain may hold only letters, digits, hyphens and dots";
				return false;
			}
			i++;
		}
		len = i - start;
		if (len == 0) {
			*why = "empty label in the domain (two dots, or a dot at an end)";
			return false;
		}
		if (len > LABEL_MAX) {
			*why = "a domain label is longer than 63 characters";
			return false;
		}
		if (s[start] == '-' || s[i - 1] == '-') {
			*why = "a domain label starts or ends with a hyphen";
			return false;
		}
		labels++;
		last = start;
		i++;		/* past the dot (or past the end) */
	}
	if (labels < 2) {
		*why = "the domain has no dot";
		return false;
	}
	/* No top-level domain is all digits (RFC 3696): a@1.2.3.4 is an IP. */
	for (d = last; d < n && s[d] >= '0' && s[d] <= '9'; d++)
		;
	if (d == n) {
		*why = "the domain ends in a number (an IP address, or a typo)";
		return false;
	}
	return true;
}

bool
email_addr_valid(const char *addr, const char **why)
{
	const char *dummy, *at = NULL, *p;
	size_t n;
	bool inq = false;

	if (why == NULL)
		why = &dummy;
	if (addr == NULL || *addr == '\0') {
		*why = "empty address";
		return false;
	}
	n = strlen(addr);
	if (n > EMAIL_MAX) {
		*why = "longer than 254 characters";
		return false;
	}
	/* the @ that separates: the last one outside a quoted local part */
	for (p = addr; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			*why = "line break in the address";
			return false;
		}
		if (inq && *p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"' && (p == addr || inq))
			inq = !inq;
		else if (*p == '@' && !inq)
			at = p;
	}
	if (at == NULL) {
		*why = "no @";
		return false;
	}
	if (!local_valid(addr, (size_t)(at - addr), why))
		return false;
	if (!domain_valid(at + 1, strlen(at + 1), why))
		return false;
	*why = NULL;
	return true;
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Trimmed copy of [s, e), or NULL when empty. */
static char *
trimmed(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return e > s ? xstrndup(s, (size_t)(e - s)) : NULL;
}

/* Parses the display-name phrase in [s, e) into a new string (or NULL). */
static int
parse_name(const char *s, const char *e, char **out, const char **why)
{
	const char *p;
	char *w, *name;

	s = skip_ws(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*out = NULL;
	if (s == e)
		return 0;
	if (*s == '"') {
		name = w = xmalloc((size_t)(e - s) + 1);
		for (p = s + 1; p < e && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < e)
				p++;
			*w++ = *p;
		}
		*w = '\0';
		if (p >= e || p + 1 != e) {
			free(name);
			*why = p >= e ? "unterminated quoted display name" :
			    "text after the quoted display name (put the "
			    "address in <...>)";
			return -1;
		}
		if (*name == '\0') {
			free(name);
			return 0;
		}
		*out = name;
		return 0;
	}
	for (p = s; p < e; p++) {
		if (strchr(",;:@<>\"[]\\", *p) != NULL) {
			*why = "a display name with , ; : @ < > \" [ ] or \\ must "
			    "be quoted (\"Name, Inc\" <addr>)";
			return -1;
		}
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "control character in the display name";
			return -1;
		}
	}
	if (!utf8_valid(s, (size_t)(e - s))) {
		*why = "the display name is not valid UTF-8";
		return -1;
	}
	*out = trimmed(s, e);
	return 0;
}

int
email_mailbox_parse(const char *s, char **name, char **addr,
    const char **why)
{
	const char *dummy, *p, *lt = NULL, *gt = NULL;
	bool inq = false;
	char *n = NULL, *a = NULL;

	if (why == NULL)
		why = &dummy;
	*name = *addr = NULL;
	if (s == NULL) {
		*why = "empty address";
		return -1;
	}
	for (p = s; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			*why = "line break in the address";
			return -1;
		}
		if (inq && *p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"')
			inq = !inq;
		else if (!inq && *p == '<' && lt == NULL)
			lt = p;
		else if (!inq && *p == '>' && lt != NULL && gt == NULL)
			gt = p;
	}
	if (lt == NULL) {
		a = trimmed(s, s + strlen(s));
		if (a == NULL) {
			*why = "empty address";
			return -1;
		}
		if (strchr(a, '>') != NULL) {
			*why = "'>' without '<'";
			goto fail;
		}
		if (!email_addr_valid(a, why))
			goto fail;
		*addr = a;
		return 0;
	}
	if (gt == NULL) {
		*why = "'<' without a closing '>'";
		return -1;
	}
	if (*skip_ws(gt + 1) != '\0') {
		*why = "text after '>'";
		return -1;
	}
	if (parse_name(s, lt, &n, why) == -1)
		return -1;
	a = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	if (!email_addr_valid(a, why))
		goto fail;
	*name = n;
	*addr = a;
	return 0;
fail:
	free(n);
	free(a);
	return -1;
}

char *
email_key(const char *addr)
{
	char *k = xstrdup(addr ? addr : "");

	ascii_lower(k);
	return k;
}

char *
email_to_ascii(const char *addr, const char **why)
{
	const char *at = strrchr(addr, '@'), *p;
	char *dom = NULL, *out;
	int rc;

	for (p = addr; *p != '\0' && !((unsigned char)*p & 0x80); p++)
		;
	if (*p == '\0')
		return xstrdup(addr);		/* all ASCII already */
	if (at == NULL) {
		*why = "no @";
		return NULL;
	}
	for (p = addr; p < at; p++)
		if ((unsigned char)*p & 0x80) {
			*why = "a non-ASCII local part needs SMTPUTF8, which "
			    "herald does not use";
			return NULL;
		}
	rc = idn2_to_ascii_8z(at + 1, &dom, IDN2_NONTRANSITIONAL |
	    IDN2_NFC_INPUT);
	if (rc != IDN2_OK && rc != IDN2_DISALLOWED) {
		*why = "the domain has no IDNA form";
		return NULL;
	}
	if (rc == IDN2_DISALLOWED) {
		/* UTS #46 transitional mapping as the browsers' fallback */
		rc = idn2_to_ascii_8z(at + 1, &dom, IDN2_TRANSITIONAL |
		    IDN2_NFC_INPUT);
		if (rc != IDN2_OK) {
			*why = "the domain has no IDNA form";
			return NULL;
		}
	}
	out = xasprintf("%.*s@%s", (int)(at - addr), addr, dom);
	idn2_free(dom);
	return out;
}
