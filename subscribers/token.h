/*
 * token: HMAC-SHA256 link tokens (GnuTLS) and VERP addresses.
 *
 * A token authenticates (subscriber, newsletter, action) with the key in
 * secret_file (created 0600 with 32 random bytes if missing).  Tokens are
 * URL-safe base64 and fit in an email local part.
 */
#ifndef HERALD_TOKEN_H
#define HERALD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct token_key;

/* Loads (or creates) the key file.  NULL with *err (caller frees). */
struct token_key *token_key_load(const char *secret_file, char **err);
void	 token_key_free(struct token_key *);

/* "unsubscribe", "confirm", "preferences" ... Returns a new string. */
char	*token_make(const struct token_key *, int64_t subscriber_id,
	    const char *newsletter, const char *action);
/*
 * The subscriber id a token names ("<id>.<mac>"), without checking the MAC:
 * use it to look the subscriber up, then token_check().  0, or -1 when the
 * token is malformed.
 */
int	 token_subscriber(const char *token, int64_t *subscriber_id);
/* True when token is valid for these values (constant-time compare). */
bool	 token_check(const struct token_key *, const char *token,
	    int64_t subscriber_id, const char *newsletter, const char *action);

/*
 * VERP envelope sender for one delivery: bounce_address "local@domain"
 * becomes "local+TOKEN@domain" naming the delivery.  Returns a new string.
 */
char	*token_verp(const struct token_key *, const char *bounce_address,
	    int64_t delivery_id);
/*
 * The delivery a VERP address names: 0 with *delivery_id when addr is
 * "anything+ID-MAC@anywhere" with a MAC made by this key (hex compared
 * case-insensitively, constant time); -1 otherwise (forged, damaged, not
 * VERP).
 */
int	 token_verp_parse(const struct token_key *, const char *addr,
	    int64_t *delivery_id);

#endif
