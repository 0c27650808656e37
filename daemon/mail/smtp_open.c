/*
 * smtp_open: a sender from the config (shared by send, send-test and the
 * confirmation mail).
 */
#include "smtp_open.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xmalloc.h"

struct smtp *
smtp_open_config(const struct config *cfg, const struct newsletter_conf *nl,
    long connections, int *rc, char **err)
{
	struct smtp_opts o;
	struct smtp *sm;
	char *pw = NULL, *why = NULL, *serr = NULL;
	const char *at = strrchr(nl->from_addr, '@');

	*err = NULL;
	memset(&o, 0, sizeof(o));
	o.url = cfg->smtp.url;
	o.helo = at ? at + 1 : NULL;
	o.starttls = cfg->smtp.starttls;
	o.connections = connections;
	o.rate = cfg->smtp.rate;
	o.timeout = cfg->smtp.timeout > 0 ? cfg->smtp.timeout : 30;
	if (cfg->smtp.username) {
		pw = config_secret(cfg->smtp.password_env,
		    cfg->smtp.password_file, &why);
		if (pw == NULL && why != NULL) {
			*err = xasprintf("smtp password: %s", why);
			free(why);
			*rc = EXIT_USAGE;
			return NULL;
		}
		o.username = cfg->smtp.username;
		o.password = pw;
	}
	sm = smtp_new(&o, &serr);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (sm == NULL) {
		*err = xasprintf("smtp: %s", serr);
		free(serr);
		*rc = EXIT_FAIL;
	}
	return sm;
}
