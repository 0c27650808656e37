/*
 * mailbox_imap: an IMAP folder through libetpan's mailimap.
 *
 * UID SEARCH UNDELETED lists the messages; UID FETCH BODY.PEEK[] reads one
 * without setting \Seen.  A processed message goes to the folder
 * "Processed" (created when missing): UID MOVE where the server has MOVE
 * (RFC 6851), else UID COPY, \Deleted on that UID, and UID EXPUNGE of that
 * UID only (UIDPLUS, RFC 4315); a server without UIDPLUS keeps the copy
 * flagged \Deleted (a plain EXPUNGE would remove other people's deleted
 * mail too), and UNDELETED keeps it out of the next list.
 */
#include "mailbox_impl.h"

#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "util.h"
#include "xmalloc.h"

static int
imap_err(struct mailbox *mb, const char *what, int r, char **err)
{
	mailimap *im = mb->conn;
	const char *resp = im && im->imap_response ? im->imap_response : "";

	*err = xasprintf("imap %s@%s: %s: %s%s%s", mb->user, mb->host, what,
	    r == MAILIMAP_ERROR_STREAM ? "connection lost" :
	    r == MAILIMAP_ERROR_CONNECTION_REFUSED ? "cannot connect" :
	    r == MAILIMAP_ERROR_LOGIN ? "login refused" : "refused",
	    *resp ? ": " : "", resp);
	/* a server that says its failure is temporary ([UNAVAILABLE],
	 * "Temporary authentication failure") is worth retrying */
	return r == MAILIMAP_ERROR_STREAM ||
	    r == MAILIMAP_ERROR_CONNECTION_REFUSED ||
	    strstr(resp, "UNAVAILABLE") || strstr(resp, "emporar") ? -2 : -1;
}

static int
im_open(struct mailbox *mb, const char *password, char **err)
{
	struct mailimap_capability_data *caps = NULL;
	mailimap *im;
	int r;

	if (password == NULL) {
		*err = xasprintf("imap %s@%s: no password (set "
		    "bounces.password_env or bounces.password_file)", mb->user,
		    mb->host);
		return -1;
	}
	im = mailimap_new(0, NULL);
	if (im == NULL) {
		*err = xstrdup("imap: out of memory");
		return -1;
	}
	mb->conn = im;
	mailimap_set_timeout(im, mb->timeout);
	r = mb->tls ? mailimap_ssl_connect_with_callback(im, mb->host,
	    mb->port, mailbox_tls_sni, mb->host) :
	    mailimap_socket_connect(im, mb->host, mb->port);
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		r = imap_err(mb, "connect", r == MAILIMAP_ERROR_STREAM ?
		    MAILIMAP_ERROR_CONNECTION_REFUSED : r, err);
		mailimap_free(im);	/* no session to log out of */
		mb->conn = NULL;
		return r;
	}
	if (mb->tls && mailbox_tls_verify(mb, im->imap_stream, err) == -1) {
		char *e = xasprintf("imap %s", *err);

		free(*err);
		*err = e;
		r = -1;
		goto fail;
	}
	if ((r = mailimap_login(im, mb->user, password)) != MAILIMAP_NO_ERROR) {
		r = imap_err(mb, "login", r == MAILIMAP_ERROR_STREAM ? r :
		    MAILIMAP_ERROR_LOGIN, err);
		goto fail;
	}
	if (mailimap_capability(im, &caps) == MAILIMAP_NO_ERROR) {
		mb->has_move = mailimap_has_extension(im, "MOVE") != 0;
		mb->has_uidplus = mailimap_has_extension(im, "UIDPLUS") != 0;
		mailimap_capability_data_free(caps);
	}
	if ((r = mailimap_select(im, mb->path)) != MAILIMAP_NO_ERROR) {
		char *sel = xasprintf("select %s", mb->path);

		r = imap_err(mb, sel, r, err);
		free(sel);
		goto fail;
	}
	return 0;
fail:
	mailimap_logout(im);
	mailimap_free(im);
	mb->conn = NULL;
	return r;
}

static int
im_list(struct mailbox *mb, char ***ids, size_t *n, char **err)
{
	struct mailimap_search_key *key;
	clist *res = NULL;
	clistiter *it;
	int r;

	key = mailimap_search_key_new(MAILIMAP_SEARCH_KEY_UNDELETED, NULL,
	    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,
	    NULL);
	r = mailimap_uid_search(mb->conn, NULL, key, &res);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return imap_err(mb, "uid search", r, err);
	for (it = clist_begin(res); it; it = clist_next(it)) {
		uint32_t *uid = clist_content(it);

		*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = xasprintf("%u", *uid);
	}
	mailimap_search_result_free(res);
	return 0;
}

static int
uid_of(const char *id, uint32_t *uid)
{
	long v;

	if (parse_long(id, 1, 4294967295L, &v) == -1)
		return -1;
	*uid = (uint32_t)v;
	return 0;
}

static int
im_fetch(struct mailbox *mb, const char *id, char **data, size_t *len,
    char **err)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	clist *res = NULL;
	clistiter *it, *ai;
	uint32_t uid;
	int r;

	if (uid_of(id, &uid) == -1) {
		*err = xasprintf("imap: bad UID %s", id);
		return -1;
	}
	set = mailimap_set_new_single(uid);
	/* at most one byte more than the limit: a huge message is not
	 * downloaded whole to find out */
	ft = mailimap_fetch_type_new_fetch_att(
	    mailimap_fetch_att_new_body_peek_section_partial(
	    mailimap_section_new(NULL), 0, MAILBOX_MSG_MAX + 1));
	r = mailimap_uid_fetch(mb->conn, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_err(mb, "uid fetch", r, err);
	for (it = clist_begin(res); it && *data == NULL; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);

		for (ai = clist_begin(ma->att_list); ai; ai = clist_next(ai)) {
			struct mailimap_msg_att_item *item = clist_content(ai);

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
			    item->att_data.att_static->att_type !=
			    MAILIMAP_MSG_ATT_BODY_SECTION)
				continue;
			{
				struct mailimap_msg_att_body_section *bs =
				    item->att_data.att_static->att_data.att_body_section;

				if (bs->sec_length > MAILBOX_MSG_MAX)
					break;
				*data = xmalloc(bs->sec_length + 1);
				memcpy(*data, bs->sec_body_part ? bs->sec_body_part :
				    "", bs->sec_length);
				(*data)[bs->sec_length] = '\0';
				*len = bs->sec_length;
			}
			break;
		}
	}
	mailimap_fetch_list_free(res);
	if (*data == NULL) {
		*err = xasprintf("imap: UID %s: no message (gone, or larger "
		    "than %u MiB)", id, MAILBOX_MSG_MAX >> 20);
		return -1;
	}
	return 0;
}

/* True when the server lists a folder of that exact name. */
static bool
folder_exists(mailimap *im, const char *name, char *delim)
{
	clist *res = NULL;
	bool yes = false;

	if (mailimap_list(im, "", name, &res) == MAILIMAP_NO_ERROR && res &&
	    clist_begin(res)) {
		struct mailimap_mailbox_list *l = clist_content(clist_begin(res));

		yes = true;
		if (delim)
			*delim = l->mb_delimiter;
	}
	if (res)
		mailimap_list_result_free(res);
	return yes;
}

/*
 * Finds or makes the folder processed messages go to: "Processed" at the
 * top, or, on servers whose folders all live under INBOX (Courier, Cyrus:
 * CREATE "Processed" is refused), "INBOX<delimiter>Processed".
 */
static void
find_processed(struct mailbox *mb)
{
	mailimap *im = mb->conn;
	char delim = '.';

	mb->processed_ok = true;
	if (folder_exists(im, MAILBOX_PROCESSED, NULL) ||
	    mailimap_create(im, MAILBOX_PROCESSED) == MAILIMAP_NO_ERROR) {
		mb->processed = xstrdup(MAILBOX_PROCESSED);
		return;
	}
	if (!folder_exists(im, "INBOX", &delim) || delim == '\0')
		delim = '.';
	mb->processed = xasprintf("INBOX%c%s", delim, MAILBOX_PROCESSED);
	if (!folder_exists(im, mb->processed, NULL))
		(void)mailimap_create(im, mb->processed);	/* the MOVE tells */
}

static int
im_done(struct mailbox *mb, const char *id, char **err)
{
	struct mailimap_set *set;
	uint32_t uid;
	int r;

	if (uid_of(id, &uid) == -1) {
		*err = xasprintf("imap: bad UID %s", id);
		return -1;
	}
	if (!mb->processed_ok)
		find_processed(mb);
	set = mailimap_set_new_single(uid);
	if (mb->has_move) {
		r = mailimap_uid_move(mb->conn, set, mb->processed);
		if (r != MAILIMAP_NO_ERROR) {
			r = imap_err(mb, "uid move to the Processed folder", r,
			    err);
			goto out;
		}
	} else {
		struct mailimap_flag_list *fl;
		struct mailimap_store_att_flags *sf;

		r = mailimap_uid_copy(mb->conn, set, mb->processed);
		if (r != MAILIMAP_NO_ERROR) {
			r = imap_err(mb, "uid copy to the Processed folder", r,
			    err);
			goto out;
		}
		fl = mailimap_flag_list_new_empty();
		mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
		sf = mailimap_store_att_flags_new_add_flags_silent(fl);
		r = mailimap_uid_store(mb->conn, set, sf);
		mailimap_store_att_flags_free(sf);
		if (r != MAILIMAP_NO_ERROR) {
			r = imap_err(mb, "uid store \\Deleted", r, err);
			goto out;
		}
		if (mb->has_uidplus &&
		    (r = mailimap_uid_expunge(mb->conn, set)) != MAILIMAP_NO_ERROR) {
			r = imap_err(mb, "uid expunge", r, err);
			goto out;
		}
	}
	r = 0;
out:
	mailimap_set_free(set);
	return r;
}

static int
im_close(struct mailbox *mb, char **err)
{
	(void)err;
	if (mb->conn) {
		mailimap_logout(mb->conn);
		mailimap_free(mb->conn);
		mb->conn = NULL;
	}
	return 0;
}

const struct mailbox_backend mailbox_imap_backend = {
	"imap", im_open, im_list, im_fetch, im_done, im_close,
};
