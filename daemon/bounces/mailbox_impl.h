/*
 * mailbox_impl: what the mailbox backends share (for mailbox*.c only).
 * Each backend is a table of functions, as OpenSMTPD's queue backends are.
 */
#ifndef HERALD_MAILBOX_IMPL_H
#define HERALD_MAILBOX_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox.h"

struct mailbox_backend {
	const char	*name;
	int		(*open)(struct mailbox *, const char *password,
			    char **err);
	int		(*list)(struct mailbox *, char ***ids, size_t *n,
			    char **err);
	int		(*fetch)(struct mailbox *, const char *id, char **data,
			    size_t *len, char **err);
	int		(*done)(struct mailbox *, const char *id, char **err);
	int		(*close)(struct mailbox *, char **err);
};

struct mailbox {
	const struct mailbox_backend *be;
	char		*path;		/* maildir path, or the IMAP folder */
	char		*user, *host;
	uint16_t	 port;
	bool		 tls;
	long		 timeout;
	void		*conn;		/* mailimap *, mailpop3 * */
	bool		 has_move, has_uidplus;
	bool		 processed_ok;	/* the Processed folder exists */
	char		*processed;	/* IMAP: its name ("Processed", or
					   "INBOX.Processed" where folders
					   live under INBOX) */
};

struct mailstream_ssl_context;
struct _mailstream;
/* For imaps/pop3s (mailbox_tls.c): sets SNI to host (a libetpan connect
 * callback); verifies the server's chain and name after the handshake: 0,
 * or -1 with *err. */
void	mailbox_tls_sni(struct mailstream_ssl_context *, void *host);
int	mailbox_tls_verify(struct mailbox *, struct _mailstream *, char **err);

extern const struct mailbox_backend mailbox_maildir_backend;
extern const struct mailbox_backend mailbox_imap_backend;
extern const struct mailbox_backend mailbox_pop3_backend;

#endif
