/*
 * bounce: reads one message from the bounce mailbox and says what it is.
 *
 * bounce_parse() takes the raw message (RFC 5322, CRLF or LF) and finds,
 * through libetpan's MIME parser: RFC 3464 delivery status notifications
 * (multipart/report; report-type=delivery-status, also RFC 6533's
 * message/global-delivery-status), RFC 5965 feedback reports (ARF), the
 * plain-text bounces of MTAs that send no DSN (Exim, qmail, Sendmail,
 * Exchange / Office 365, Gmail, Yahoo and the generic "host said: 550 ..."
 * forms), auto-replies (RFC 3834 Auto-Submitted, X-Autoreply, Precedence,
 * vacation and out-of-office subjects) and unsubscribe requests sent to the
 * List-Unsubscribe mailto address.  It needs no database and no key: which
 * delivery the message is about is for the caller to work out from the VERP
 * addresses and the recipients it lists (bounces.c).
 *
 * Everything in struct bounce is owned by it; bounce_free() frees it.
 */
#ifndef HERALD_BOUNCE_H
#define HERALD_BOUNCE_H

#include <stddef.h>

enum bounce_kind {
	BOUNCE_UNKNOWN = 0,	/* not recognised: stays in the mailbox */
	BOUNCE_HARD,		/* permanent: the address is dead */
	BOUNCE_SOFT,		/* temporary, full mailbox, policy block */
	BOUNCE_AUTOREPLY,	/* vacation, out of office: ignored */
	BOUNCE_COMPLAINT,	/* feedback loop (ARF): unsubscribe */
	BOUNCE_UNSUBSCRIBE,	/* mail to the List-Unsubscribe mailto */
	BOUNCE_NOTICE,		/* a DSN reporting delivery or relay: ignored */
};

/* "unknown", "hard", "soft", "auto-reply", "complaint", "unsubscribe",
 * "notice" (static). */
const char	*bounce_kind_name(enum bounce_kind);

/* One recipient a bounce names, with what happened to it. */
struct bounce_rcpt {
	char		*addr;		/* addr-spec as the bounce gives it */
	enum bounce_kind kind;
	const char	*reason;	/* static: "user unknown", ... or NULL */
	char		*status;	/* RFC 3463 code "5.1.1", or NULL */
	char		*diag;		/* the server's words, one line, or NULL */
};

struct bounce {
	enum bounce_kind kind;		/* of the message as a whole */
	const char	*reason;	/* static, or NULL */
	const char	*format;	/* static: how it was read: "dsn", "arf",
					   "exim", "qmail", "text", ... */
	char		*status;	/* of the first failed recipient */
	char		*diag;
	/* Recipients it names, most specific first (DSN Final-Recipient,
	 * X-Failed-Recipients, addresses in the report's text, the To of the
	 * returned message).  kind/reason/status/diag per recipient. */
	struct bounce_rcpt *rcpt;
	size_t		 nrcpt;
	/* Every address of the form local+ID-MAC@domain anywhere in the
	 * message (headers first): VERP candidates, not yet verified. */
	char		**verp;
	size_t		 nverp;
	/* The message's own addressees: To, Cc, Delivered-To, X-Original-To,
	 * Envelope-To. */
	char		**to;
	size_t		 nto;
	char		*from;		/* From addr-spec, or NULL */
	char		*subject;	/* decoded to UTF-8, one line, or NULL */
	char		*message_id;	/* without <>, or NULL */
	char		*token;		/* unsubscribe request: the link token
					   in its subject or body, or NULL */
};

/* Messages larger than this are read only this far. */
#define BOUNCE_MAX_BYTES	(4u << 20)

/*
 * Parses msg[0..len) into *b (which it clears first).  Never fails: a
 * message it cannot read is BOUNCE_UNKNOWN.  Free with bounce_free().
 */
void	 bounce_parse(const char *msg, size_t len, struct bounce *b);
void	 bounce_free(struct bounce *);

/*
 * Classifies one failure from its RFC 3463 status (or NULL), the server's
 * diagnostic (or NULL) and the report's text (or NULL); hint is '5' or '4'
 * when the report says the failure is permanent or temporary, else 0.
 * Returns the kind (HARD, SOFT or UNKNOWN) and sets *reason (static).
 */
enum bounce_kind bounce_classify(const char *status, const char *diag,
		    const char *text, char hint, const char **reason);

#endif
