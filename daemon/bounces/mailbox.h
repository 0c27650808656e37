/*
 * mailbox: the bounce mailbox, read through libetpan: a maildir, an IMAP
 * folder (imap://, imaps://) or a POP3 box (pop3://, pop3s://).
 *
 * Messages are named by an id (maildir: "new/NAME" or "cur/NAME"; IMAP: the
 * UID; POP3: the message number).  mailbox_done() takes one processed
 * message out of the way and touches nothing else: a maildir moves it to
 * its ".Processed" folder (Maildir++), IMAP moves it to the "Processed"
 * folder (MOVE, or COPY then \Deleted and UID EXPUNGE of that UID only),
 * POP3 deletes it (DELE; the server removes it at QUIT).  Messages never
 * passed to mailbox_done() stay where they are, unread: IMAP fetches with
 * BODY.PEEK.
 *
 * Calls return 0, -1 with *err (caller frees) on a failure that will not go
 * away by itself (bad URL, login refused), or -2 with *err on one worth
 * retrying (server unreachable, connection lost).
 */
#ifndef HERALD_MAILBOX_H
#define HERALD_MAILBOX_H

#include <stddef.h>

struct mailbox;

#define MAILBOX_PROCESSED	"Processed"	/* the folder done messages go */
#define MAILBOX_MSG_MAX		(32u << 20)	/* larger messages are skipped */

/*
 * Connects (logs in) to url: "maildir:/path", "imap[s]://USER@HOST[:PORT]
 * [/FOLDER]" (default INBOX), "pop3[s]://USER@HOST[:PORT]".  password is
 * needed for IMAP and POP3.  timeout in seconds for network calls.
 */
int	 mailbox_open(const char *url, const char *password, long timeout,
	    struct mailbox **out, char **err);
/* The ids of the messages there now; *ids a new array of new strings. */
int	 mailbox_list(struct mailbox *, char ***ids, size_t *n, char **err);
/* One message's bytes; *data is new (caller frees). */
int	 mailbox_fetch(struct mailbox *, const char *id, char **data,
	    size_t *len, char **err);
/* Moves (or, for POP3, deletes) a processed message. */
int	 mailbox_done(struct mailbox *, const char *id, char **err);
/* "maildir", "imap", "pop3" (static). */
const char *mailbox_kind(const struct mailbox *);
/* Logs out (POP3: QUIT, which makes the deletions happen) and frees. */
int	 mailbox_close(struct mailbox *, char **err);
void	 mailbox_ids_free(char **ids, size_t n);

#endif
