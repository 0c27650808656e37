/*
 * mailbox_pop3: a POP3 box through libetpan's mailpop3.  POP3 has no
 * folders: a processed message is deleted (DELE), and the server removes
 * it only at QUIT (mailbox_close); everything else stays untouched.  A
 * connection lost before QUIT deletes nothing (RFC 1939), so the next poll
 * sees those messages again: the bounce module changes nothing twice.
 */
#include "mailbox_impl.h"

#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "util.h"
#include "xmalloc.h"

static int
pop_err(struct mailbox *mb, const char *what, int r, char **err)
{
	mailpop3 *p = mb->conn;
	const char *resp = p && p->pop3_response ? p->pop3_response : "";

	*err = xasprintf("pop3 %s@%s: %s: %s%s%s", mb->user, mb->host, what,
	    r == MAILPOP3_ERROR_STREAM ? "connection lost" :
	    r == MAILPOP3_ERROR_CONNECTION_REFUSED ? "cannot connect" :
	    r == MAILPOP3_ERROR_BAD_PASSWORD ? "login refused" : "refused",
	    *resp ? ": " : "", resp);
	/* RFC 3206: [SYS/TEMP] and [IN-USE] are worth retrying */
	return r == MAILPOP3_ERROR_STREAM ||
	    r == MAILPOP3_ERROR_CONNECTION_REFUSED ||
	    strstr(resp, "SYS/TEMP") || strstr(resp, "IN-USE") ? -2 : -1;
}

static int
pop_open(struct mailbox *mb, const char *password, char **err)
{
	mailpop3 *p;
	int r;

	if (password == NULL) {
		*err = xasprintf("pop3 %s@%s: no password (set "
		    "bounces.password_env or bounces.password_file)", mb->user,
		    mb->host);
		return -1;
	}
	if ((p = mailpop3_new(0, NULL)) == NULL) {
		*err = xstrdup("pop3: out of memory");
		return -1;
	}
	mb->conn = p;
	mailpop3_set_timeout(p, mb->timeout);
	r = mb->tls ? mailpop3_ssl_connect_with_callback(p, mb->host,
	    mb->port, mailbox_tls_sni, mb->host) :
	    mailpop3_socket_connect(p, mb->host, mb->port);
	if (r != MAILPOP3_NO_ERROR) {
		r = pop_err(mb, "connect", r == MAILPOP3_ERROR_STREAM ?
		    MAILPOP3_ERROR_CONNECTION_REFUSED : r, err);
		goto fail;
	}
	if (mb->tls && mailbox_tls_verify(mb, p->pop3_stream, err) == -1) {
		char *e = xasprintf("pop3 %s", *err);

		free(*err);
		*err = e;
		r = -1;
		goto fail;
	}
	if ((r = mailpop3_user(p, mb->user)) != MAILPOP3_NO_ERROR ||
	    (r = mailpop3_pass(p, password)) != MAILPOP3_NO_ERROR) {
		r = pop_err(mb, "login", r == MAILPOP3_ERROR_STREAM ? r :
		    MAILPOP3_ERROR_BAD_PASSWORD, err);
		goto fail;
	}
	return 0;
fail:
	mailpop3_free(p);
	mb->conn = NULL;
	return r;
}

static int
pop_list(struct mailbox *mb, char ***ids, size_t *n, char **err)
{
	carray *msgs = NULL;
	unsigned i;
	int r;

	if ((r = mailpop3_list(mb->conn, &msgs)) != MAILPOP3_NO_ERROR)
		return pop_err(mb, "list", r, err);
	for (i = 0; msgs && i < carray_count(msgs); i++) {
		struct mailpop3_msg_info *mi = carray_get(msgs, i);

		if (mi == NULL || mi->msg_deleted)
			continue;
		*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = xasprintf("%u", mi->msg_index);
	}
	return 0;
}

static int
index_of(const char *id, unsigned *idx)
{
	long v;

	if (parse_long(id, 1, 1000000000L, &v) == -1)
		return -1;
	*idx = (unsigned)v;
	return 0;
}

static int
pop_fetch(struct mailbox *mb, const char *id, char **data, size_t *len,
    char **err)
{
	struct mailpop3_msg_info *mi = NULL;
	char *res = NULL;
	size_t rlen = 0;
	unsigned idx;
	int r;

	if (index_of(id, &idx) == -1) {
		*err = xasprintf("pop3: bad message number %s", id);
		return -1;
	}
	/* the size LIST gave: a huge message is not downloaded at all */
	if (mailpop3_get_msg_info(mb->conn, idx, &mi) == MAILPOP3_NO_ERROR &&
	    mi && mi->msg_size > MAILBOX_MSG_MAX) {
		*err = xasprintf("pop3: message %s is larger than %u MiB, "
		    "skipped", id, MAILBOX_MSG_MAX >> 20);
		return -1;
	}
	if ((r = mailpop3_retr(mb->conn, idx, &res, &rlen)) != MAILPOP3_NO_ERROR)
		return pop_err(mb, "retr", r, err);
	if (rlen > MAILBOX_MSG_MAX) {
		mailpop3_retr_free(res);
		*err = xasprintf("pop3: message %s is larger than %u MiB, "
		    "skipped", id, MAILBOX_MSG_MAX >> 20);
		return -1;
	}
	*data = xmalloc(rlen + 1);
	memcpy(*data, res, rlen);
	(*data)[rlen] = '\0';
	*len = rlen;
	mailpop3_retr_free(res);
	return 0;
}

static int
pop_done(struct mailbox *mb, const char *id, char **err)
{
	unsigned idx;
	int r;

	if (index_of(id, &idx) == -1) {
		*err = xasprintf("pop3: bad message number %s", id);
		return -1;
	}
	if ((r = mailpop3_dele(mb->conn, idx)) != MAILPOP3_NO_ERROR)
		return pop_err(mb, "dele", r, err);
	return 0;
}

static int
pop_close(struct mailbox *mb, char **err)
{
	int r = 0;

	if (mb->conn) {
		if (mailpop3_quit(mb->conn) != MAILPOP3_NO_ERROR) {
			*err = xasprintf("pop3 %s@%s: quit failed: the messages "
			    "marked processed stay and will be seen again",
			    mb->user, mb->host);
			r = -2;
		}
		mailpop3_free(mb->conn);
		mb->conn = NULL;
	}
	return r;
}

const struct mailbox_backend mailbox_pop3_backend = {
	"pop3", pop_open, pop_list, pop_fetch, pop_done, pop_close,
};
