/*
 * confirm: the double opt-in confirmation mail (DESIGN §3 `subscribers add
 * --pending`, §5 `confirm_url`).
 *
 * The message is multipart/alternative (text, HTML) rendered from the
 * shipped templates confirm.txt.mustache and confirm.html.mustache, built
 * with mime_build: From the newsletter's from, To the subscriber, Subject
 * "Confirm your subscription to <title>", a Message-ID on the From domain,
 * Reply-To when configured.  It carries no List-Id or List-Unsubscribe: it
 * is not a list message (the reader is not subscribed yet; ignoring it is
 * the way out).  The envelope sender is bounce_address, without VERP (no
 * delivery row names it).
 *
 * The link is <web.base_url>/confirm/<token_make(key, subscriber, newsletter,
 * "confirm")>, so it needs web.base_url; confirm_unavailable() says so
 * before anything is recorded.
 */
#ifndef HERALD_CONFIRM_H
#define HERALD_CONFIRM_H

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "token.h"

struct confirm_rcpt {
	int64_t		 subscriber_id;
	const char	*email;
	const char	*name;		/* may be NULL */
};

enum confirm_result {
	CONFIRM_SENT = 0,	/* the server accepted it (its final 250) */
	CONFIRM_REFUSED,	/* a 5xx for this message */
	CONFIRM_DEFERRED,	/* a 4xx, a timeout, a broken connection */
	CONFIRM_UNREACHABLE,	/* no session: connect, DNS, TLS, AUTH */
	CONFIRM_CONFIG,		/* no web.base_url, an unreadable SMTP password */
	CONFIRM_ERROR,		/* the key or the message could not be made */
};

/*
 * NULL when cfg can make confirmation links; else why not, naming the
 * missing key (a static string).
 */
const char	*confirm_unavailable(const struct config *);

/* "7 days", "12 hours", "90 minutes": a duration for people.  New string. */
char		*confirm_expiry_text(long seconds);

/*
 * Compiles both shipped confirmation templates.  0, or -1 with *err
 * (caller frees) as "file:line:col: message".
 */
int		 confirm_check_templates(char **err);

/*
 * Appends the confirmation message for r, dated date, to out; the link's
 * token is made with key.  Sets *confirm_url (new string, caller frees)
 * when confirm_url is not NULL.  Needs web.base_url.  0, or -1 with *err
 * (caller frees).
 */
int		 confirm_build(const struct config *, const struct newsletter_conf *,
		    const struct token_key *key, const struct confirm_rcpt *r,
		    time_t date, struct buf *out, char **confirm_url, char **err);

/*
 * Builds the confirmation mail for r and sends it now through the
 * configured SMTP relay (one connection, the configured timeouts).
 * Borrows everything.  *reply (always set, caller frees) is the server's
 * final reply, or why the mail was not sent.
 */
enum confirm_result confirm_send(const struct config *,
		    const struct newsletter_conf *, const struct confirm_rcpt *r,
		    char **reply);

#endif
