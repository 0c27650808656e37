/*
 * mailbox: the URL, and the calls handed to the backend it names.
 */
#include "mailbox.h"
#include "mailbox_impl.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xmalloc.h"

/* %XX decoding, for a user name such as bounces%40example.org */
static char *
pct_decode(const char *s, size_t n)
{
	char *d = xmalloc(n + 1), *w = d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			char *end;
			long v = strtol(hex, &end, 16);

			if (*end == '\0' && v > 0) {
				*w++ = (char)v;
				i += 2;
				continue;
			}
		}
		*w++ = s[i];
	}
	*w = '\0';
	return d;
}

static int
parse_url(struct mailbox *mb, const char *url, char **err)
{
	const char *p, *at, *slash, *colon;
	const char *hostpart;
	size_t schemelen;
	long port;

	if (strncmp(url, "maildir:", 8) == 0) {
		p = url + 8;
		if (strncmp(p, "//", 2) == 0)
			p += 2;
		if (*p == '\0') {
			*err = xstrdup("maildir: needs a path");
			return -1;
		}
		mb->be = &mailbox_maildir_backend;
		mb->path = xstrdup(p);
		return 0;
	}
	if (strncmp(url, "imaps://", 8) == 0) {
		mb->be = &mailbox_imap_backend;
		mb->tls = true;
		mb->port = 993;
		schemelen = 8;
	} else if (strncmp(url, "imap://", 7) == 0) {
		mb->be = &mailbox_imap_backend;
		mb->port = 143;
		schemelen = 7;
	} else if (strncmp(url, "pop3s://", 8) == 0) {
		mb->be = &mailbox_pop3_backend;
		mb->tls = true;
		mb->port = 995;
		schemelen = 8;
	} else if (strncmp(url, "pop3://", 7) == 0) {
		mb->be = &mailbox_pop3_backend;
		mb->port = 110;
		schemelen = 7;
	} else {
		*err = xasprintf("%s: expected imap://, imaps://, pop3://, "
		    "pop3s:// or maildir:", url);
		return -1;
	}
	p = url + schemelen;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	/* the user may contain '@': the host follows the last one */
	at = NULL;
	for (const char *q = p; q < slash; q++)
		if (*q == '@')
			at = q;
	if (at == NULL || at == p) {
		*err = xasprintf("%s: no user name (USER@HOST)", url);
		return -1;
	}
	mb->user = pct_decode(p, (size_t)(at - p));
	hostpart = at + 1;
	colon = memchr(hostpart, ':', (size_t)(slash - hostpart));
	if (colon) {
		char *ps = xstrndup(colon + 1, (size_t)(slash - colon - 1));

		if (parse_long(ps, 1, 65535, &port) == -1) {
			*err = xasprintf("%s: bad port '%s'", url, ps);
			free(ps);
			return -1;
		}
		free(ps);
		mb->port = (uint16_t)port;
		mb->host = xstrndup(hostpart, (size_t)(colon - hostpart));
	} else
		mb->host = xstrndup(hostpart, (size_t)(slash - hostpart));
	if (*mb->host == '\0') {
		*err = xasprintf("%s: no host name", url);
		return -1;
	}
	if (*slash == '/' && slash[1])
		mb->path = pct_decode(slash + 1, strlen(slash + 1));
	else
		mb->path = xstrdup("INBOX");
	return 0;
}

static void
mailbox_free(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	free(mb->path);
	free(mb->user);
	free(mb->host);
	free(mb->processed);
	free(mb);
}

int
mailbox_open(const char *url, const char *password, long timeout,
    struct mailbox **out, char **err)
{
	struct mailbox *mb = xcalloc(1, sizeof(*mb));
	int rc;

	*out = NULL;
	*err = NULL;
	mb->timeout = timeout > 0 ? timeout : 60;
	if (parse_url(mb, url, err) == -1) {
		mailbox_free(mb);
		return -1;
	}
	if ((rc = mb->be->open(mb, password, err)) != 0) {
		mailbox_free(mb);
		return rc;
	}
	*out = mb;
	return 0;
}

int
mailbox_list(struct mailbox *mb, char ***ids, size_t *n, char **err)
{
	*ids = NULL;
	*n = 0;
	*err = NULL;
	return mb->be->list(mb, ids, n, err);
}

int
mailbox_fetch(struct mailbox *mb, const char *id, char **data, size_t *len,
    char **err)
{
	*data = NULL;
	*len = 0;
	*err = NULL;
	return mb->be->fetch(mb, id, data, len, err);
}

int
mailbox_done(struct mailbox *mb, const char *id, char **err)
{
	*err = NULL;
	return mb->be->done(mb, id, err);
}

const char *
mailbox_kind(const struct mailbox *mb)
{
	return mb->be->name;
}

int
mailbox_close(struct mailbox *mb, char **err)
{
	int rc;

	*err = NULL;
	if (mb == NULL)
		return 0;
	rc = mb->be->close(mb, err);
	mailbox_free(mb);
	return rc;
}

void
mailbox_ids_free(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}
