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
#include "mustache.h"
#include "token.h"

struct confirm_rcpt {
	int64_t		 subscriber_id;
	const char	*email;
	const char	*name;		/* may be NULL */
};

/* Which mail. */
enum confirm_mail {
	CONFIRM_MAIL_CONFIRM = 0,	/* confirm.*.mustache: the link to confirm */
	CONFIRM_MAIL_WELCOME,		/* welcome.*.mustache: after confirming,
					   with unsubscribe_url and List-* headers */
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
 * Compiles the template called name ("confirm.txt.mustache",
 * "page.html.mustache" ...): the file of that name in web.templates when
 * cfg has that folder and the file exists, else the shipped one.  NULL
 * with *err (caller frees) as "file:line:col: message".
 */
struct tmpl	*confirm_template(const struct config *cfg, const char *name,
		    enum tmpl_escape, char **err);

/*
 * Compiles every template of the subscription mails and pages (confirm,
 * welcome, page), overrides included; cfg may be NULL (the shipped ones).
 * 0, or -1 with *err (caller frees) as "file:line:col: message".
 */
int		 confirm_check_templates(const struct config *cfg, char **err);

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
 * confirm_build() for either kind of mail; *link_url gets the link it
 * carries (confirm_url, or unsubscribe_url for the welcome mail).
 */
int		 confirm_build_mail(const struct config *,
		    const struct newsletter_conf *, const struct token_key *key,
		    enum confirm_mail, const struct confirm_rcpt *r, time_t date,
		    struct buf *out, char **link_url, char **err);

/* confirm_send() for either kind of mail. */
enum confirm_result confirm_send_mail(const struct config *,
		    const struct newsletter_conf *, enum confirm_mail,
		    const struct confirm_rcpt *r, char **reply);

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
