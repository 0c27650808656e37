/*
 * bounce_text: see bounce_text.h.
 */
#include "bounce_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"
#include "xmalloc.h"

bool
btext_has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (hay == NULL)
		return false;
	for (; *hay; hay++)
		if (ascii_ncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

bool
btext_prefix(const char *s, const char *p)
{
	return s && ascii_ncasecmp(s, p, strlen(p)) == 0;
}

const char *
btext_find_any(const char *s, const char *const *list)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (btext_has(s, list[i]))
			return list[i];
	return NULL;
}

/* A copy with control characters as spaces, runs of white space squeezed,
 * trimmed, invalid UTF-8 as '?', at most max bytes (at a boundary). */
char *
btext_clean(const char *s, size_t n, size_t max)
{
	struct buf b = BUF_INIT;
	size_t i = 0;

	while (i < n && b.len < max) {
		unsigned char c = (unsigned char)s[i];
		size_t k = 1;

		if (c >= 0x80) {
			k = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
			    (c & 0xf8) == 0xf0 ? 4 : 0;
			if (k == 0 || i + k > n || !utf8_valid(s + i, k)) {
				buf_addc(&b, '?');
				i++;
				continue;
			}
			if (b.len + k > max)
				break;
			buf_add(&b, s + i, k);
			i += k;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && (b.len == 0 || b.data[b.len - 1] == ' ')) {
			i++;
			continue;
		}
		buf_addc(&b, (char)c);
		i++;
	}
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.len--;
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	b.data[b.len] = '\0';
	return buf_take(&b);
}

void
btext_list_add(char ***v, size_t *n, const char *s, size_t len)
{
	size_t i;

	if (len == 0 || *n >= BTEXT_LIST_MAX)
		return;
	for (i = 0; i < *n; i++)
		if (strlen((*v)[i]) == len && ascii_ncasecmp((*v)[i], s, len) == 0)
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrndup(s, len);
}

void
btext_list_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool
local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

static bool
domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c >= 0x80;
}

/*
 * The address around the '@' at s[at], as [*start, *end); false when what
 * is there does not look like local@domain.tld.
 */
bool
btext_addr_at(const char *s, size_t len, size_t at, size_t *start, size_t *end)
{
	size_t a = at, e = at + 1;
	bool dot = false;

	while (a > 0 && local_char((unsigned char)s[a - 1]) && at - a < 64)
		a--;
	while (a < at && (s[a] == '.' || s[a] == '\'' || s[a] == '='))
		a++;	/* not a leading dot, quote, or QP soft-break debris */
	while (e < len && domain_char((unsigned char)s[e]) && e - at < 255) {
		if (s[e] == '.')
			dot = true;
		e++;
	}
	while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
		e--;
	if (a == at || e <= at + 1 || !dot || s[e - 1] == '.')
		return false;
	/* the domain must have a dot after its first character */
	if (memchr(s + at + 2, '.', e - at - 2) == NULL)
		return false;
	*start = a;
	*end = e;
	return true;
}

bool
btext_is_robot(const char *a, size_t n)
{
	static const char *const robots[] = { "mailer-daemon@", "postmaster@",
	    "mail-daemon@", "mailerdaemon@", "maildaemon@", "noreply@",
	    "no-reply@", "abuse@", "bounce@", "bounces@", NULL };
	size_t i;

	for (i = 0; robots[i]; i++)
		if (n > strlen(robots[i]) &&
		    ascii_ncasecmp(a, robots[i], strlen(robots[i])) == 0)
			return true;
	return false;
}

/* Appends every address in s[0..len) to the list, in order. */
void
btext_addrs(const char *s, size_t len, char ***v, size_t *n)
{
	size_t i, a, e;

	for (i = 0; i < len && *n < BTEXT_LIST_MAX; i++) {
		if (s[i] != '@')
			continue;
		if (!btext_addr_at(s, len, i, &a, &e))
			continue;
		if (!btext_is_robot(s + a, e - a))
			btext_list_add(v, n, s + a, e - a);
		i = e;
	}
}

static bool
hexc(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Addresses shaped like herald's VERP: local+DIGITS-16HEX@domain. */
void
btext_verp(const char *s, size_t len, char ***v, size_t *n)
{
	size_t i, a, e, k;

	for (i = 0; i + 18 < len && *n < BTEXT_LIST_MAX; i++) {
		if (s[i] != '@' || i < 19)
			continue;
		for (k = 1; k <= 16; k++)
			if (!hexc(s[i - k]))
				break;
		if (k <= 16 || s[i - 17] != '-' ||
		    !(s[i - 18] >= '0' && s[i - 18] <= '9'))
			continue;
		for (k = i - 18; k > 0 && s[k - 1] >= '0' && s[k - 1] <= '9'; k--)
			;
		if (k == 0 || s[k - 1] != '+')
			continue;
		if (btext_addr_at(s, len, i, &a, &e) && a < k - 1)
			btext_list_add(v, n, s + a, e - a);
	}
}

/*
 * The first RFC 3463 code (4.x.x or 5.x.x, subject 0-7) in s, copied into
 * out; NULL when none.  Returns where it was.
 */
const char *
btext_status(const char *s, char out[16])
{
	const char *p;

	if (s == NULL)
		return NULL;
	for (p = s; *p; p++) {
		size_t n;

		if ((*p != '4' && *p != '5') || p[1] != '.' ||
		    !(p[2] >= '0' && p[2] <= '7') || p[3] != '.')
			continue;
		if (p > s && (p[-1] == '.' || (p[-1] >= '0' && p[-1] <= '9') ||
		    (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z')))
			continue;
		for (n = 4; n < 7 && p[n] >= '0' && p[n] <= '9'; n++)
			;
		if (n == 4 || (p[n] >= '0' && p[n] <= '9') ||
		    (p[n] == '.' && p[n + 1] >= '0' && p[n + 1] <= '9'))
			continue;
		memcpy(out, p, n);
		out[n] = '\0';
		return p;
	}
	return NULL;
}

/* True when the line has an SMTP reply code (4xx/5xx) as a word. */
bool
btext_reply_code(const char *l, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++) {
		if ((l[i] != '4' && l[i] != '5') ||
		    !(l[i + 1] >= '0' && l[i + 1] <= '5') ||
		    !(l[i + 2] >= '0' && l[i + 2] <= '9'))
			continue;
		if (i > 0 && !strchr(" \t:'\"(<[#=", l[i - 1]))
			continue;
		if (i + 3 < n && !strchr(" -.,;)'\"]", l[i + 3]))
			continue;
		return true;
	}
	return false;
}

void
btext_fields(const char *s, size_t n, const struct btext_field_cb *cb)
{
	struct buf line = BUF_INIT;
	size_t i = 0;

	while (i <= n) {
		size_t e = i;

		while (e < n && s[e] != '\n')
			e++;
		{
			size_t le = e;
			bool cont;

			if (le > i && s[le - 1] == '\r')
				le--;
			cont = le > i && (s[i] == ' ' || s[i] == '\t');
			if (!cont && line.len) {
				char *colon = memchr(line.data, ':', line.len);

				line.data[line.len] = '\0';
				if (colon) {
					char *v = colon + 1;

					*colon = '\0';
					while (*v == ' ' || *v == '\t')
						v++;
					cb->field(cb->arg, line.data, v);
				}
				buf_reset(&line);
			}
			if (le == i) {
				if (cb->blank)
					cb->blank(cb->arg);
			} else if (line.len < 4096) {
				if (cont)
					buf_addc(&line, ' ');
				buf_add(&line, s + i, le - i);
			}
		}
		i = e + 1;
	}
	if (line.len) {
		char *colon;

		line.data[line.len] = '\0';
		if ((colon = strchr(line.data, ':')) != NULL) {
			char *v = colon + 1;

			*colon = '\0';
			while (*v == ' ' || *v == '\t')
				v++;
			cb->field(cb->arg, line.data, v);
		}
	}
	buf_free(&line);
}

/*
 * True when the line s[a..e) introduces the server's reply: it ends with
 * ':' ("SMTP error from remote mail server after MAIL FROM:<...>:", "The
 * response from the remote server was:") or is the command of a transcript
 * (">>> RCPT To:<...>").  Which command failed matters: a reply to MAIL
 * FROM is about the sender, not the recipient.
 */
static bool
introduces_reply(const char *s, size_t a, size_t e)
{
	while (a < e && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (e > a && (s[e - 1] == '\r' || s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	if (e == a)
		return false;
	return s[e - 1] == ':' || (e - a > 3 && strncmp(s + a, ">>>", 3) == 0);
}

/* The first line with a status or reply code, with the line that
 * introduces it (see introduces_reply) and the one or two lines that
 * continue it, as one line. */
char *
btext_diag(const char *s, size_t n)
{
	size_t i = 0, prev = 0, prev_end = 0;
	bool have_prev = false;

	while (i < n) {
		size_t e = i;
		char st[16];
		char *line, *r;

		while (e < n && s[e] != '\n')
			e++;
		line = xstrndup(s + i, e - i);	/* stops at a NUL */
		if (btext_status(line, st) || btext_reply_code(line, strlen(line))) {
			size_t end = e, k;

			/* up to two continuation lines: indented, or starting
			 * with the same status code (Gmail) */
			for (k = 0; k < 2 && end < n; k++) {
				size_t ne = end + 1;
				char nst[16];

				while (ne < n && s[ne] != '\n')
					ne++;
				if (ne == end + 1)
					break;
				if (!(s[end + 1] == ' ' || s[end + 1] == '\t')) {
					char *nl = xstrndup(s + end + 1,
					    ne - end - 1);
					bool same = (btext_status(nl, nst) == nl &&
					    btext_status(line, st) &&
					    strcmp(nst, st) == 0) ||
					    (strlen(nl) > 4 &&
					    btext_reply_code(nl, 4) &&
					    strncmp(nl, line, 3) == 0);

					free(nl);
					if (!same)
						break;
				}
				end = ne;
			}
			free(line);
			if (have_prev && introduces_reply(s, prev, prev_end))
				i = prev;
			r = btext_clean(s + i, end - i, BTEXT_DIAG_MAX);
			return r;
		}
		free(line);
		if (e > i && !(e == i + 1 && s[i] == '\r')) {
			prev = i;
			prev_end = e;
			have_prev = true;
		}
		i = e + 1;
	}
	return NULL;
}
