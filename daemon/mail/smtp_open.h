/*
 * smtp_open: the SMTP sender a config describes (smtp.url, starttls, AUTH
 * with the password from password_env / password_file, timeout, rate), for
 * every command that sends: `send`, `send-test` and the confirmation mail of
 * `subscribers add --pending`.
 */
#ifndef HERALD_SMTP_OPEN_H
#define HERALD_SMTP_OPEN_H

#include "config.h"
#include "smtp.h"

/*
 * A new sender for cfg with `connections` parallel transfers, saying EHLO
 * with the domain of nl's From address.  The password is read here and
 * wiped once libcurl has its copy; it never appears in *err.  Returns NULL
 * with *err (caller frees; "smtp password: ..." or "smtp: ...") and *rc
 * set to EXIT_USAGE (the password cannot be read: a configuration error)
 * or EXIT_FAIL (the sender could not be set up).
 */
struct smtp	*smtp_open_config(const struct config *cfg,
		    const struct newsletter_conf *nl, long connections,
		    int *rc, char **err);

#endif
