/*
 * message: composes one subscriber's message of an issue.
 *
 * A message_ctx is made once per issue (the digest is rendered once); then
 * message_build() fills the subscriber fields (digest_render), the link
 * tokens (unsubscribe, preferences) and the headers, and builds the MIME
 * message (mime_build).  `send`, `send-test` and `preview --format eml` all
 * go through here, so what a preview shows is what a subscriber gets.
 *
 * Links: with web.base_url set, the unsubscribe URL is
 * <base_url>/unsubscribe/<token> (one-click POST target too) and the
 * preferences URL <base_url>/preferences/<token>; the List-Unsubscribe
 * mailto is always mailto:<bounce_address>?subject=unsubscribe%20<token>.
 */
#ifndef HERALD_MESSAGE_H
#define HERALD_MESSAGE_H

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "render.h"
#include "token.h"

struct message_ctx;

/* One recipient; subscriber_id 0 for an address that is not subscribed. */
struct message_rcpt {
	int64_t		 subscriber_id;
	const char	*email;
	const char	*name;		/* may be NULL */
	const char	*attributes;	/* JSON object text, may be NULL */
};

/*
 * A context for one issue.  Borrows cfg, nl, digest and key (key may be
 * NULL: links then carry no valid token, for samples); they must outlive
 * the context.
 */
struct message_ctx *message_ctx_new(const struct config *,
		    const struct newsletter_conf *, const struct digest *,
		    const struct token_key *);
void		 message_ctx_free(struct message_ctx *);

/*
 * Appends the whole message for r, dated date, to out.  Sets *message_id
 * (new string, caller frees) when message_id is not NULL.  0, or with *err
 * (caller frees) MESSAGE_ERR_RCPT when the recipient's address cannot be
 * written (that subscriber's row fails), or MESSAGE_ERR_ISSUE when the
 * message cannot be built for a reason that is not the subscriber's (the
 * configuration, the digest): no row may be failed for that, the send stops.
 */
#define MESSAGE_ERR_RCPT	(-1)
#define MESSAGE_ERR_ISSUE	(-2)
int		 message_build(struct message_ctx *, const struct message_rcpt *r,
		    time_t date, struct buf *out, char **message_id, char **err);

/*
 * The envelope sender for a delivery: bounce_address with VERP naming the
 * delivery, or bounce_address itself for delivery_id 0 or no key.  New
 * string (caller frees).
 */
char		*message_env_from(const struct message_ctx *, int64_t delivery_id);

#endif
