/*
 * message: one subscriber's digest message (render + tokens + MIME).
 */
#include "message.h"

#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "header.h"
#include "mime.h"
#include "xmalloc.h"

struct message_ctx {
	const struct config		*cfg;
	const struct newsletter_conf	*nl;
	const struct digest		*digest;
	const struct token_key		*key;
	char				*domain;	/* of From */
	char				*list_id;
	char				*base_url;	/* without trailing '/', or NULL */
	struct buf			 text, html;	/* scratch, reused */
};

struct message_ctx *
message_ctx_new(const struct config *cfg, const struct newsletter_conf *nl,
    const struct digest *d, const struct token_key *key)
{
	struct message_ctx *c = xcalloc(1, sizeof(*c));
	const char *at = strrchr(nl->from_addr, '@');
	size_t n;

	c->cfg = cfg;
	c->nl = nl;
	c->digest = d;
	c->key = key;
	c->domain = xstrdup(at ? at + 1 : "localhost");
	c->list_id = xasprintf("%s <%s.%s>", nl->title ? nl->title : nl->id,
	    nl->id, c->domain);
	if (cfg->web.enabled && cfg->web.base_url != NULL) {
		c->base_url = xstrdup(cfg->web.base_url);
		n = strlen(c->base_url);
		while (n > 0 && c->base_url[n - 1] == '/')
			c->base_url[--n] = '\0';
	}
	buf_init(&c->text, 0);
	buf_init(&c->html, 0);
	return c;
}

void
message_ctx_free(struct message_ctx *c)
{
	if (c == NULL)
		return;
	free(c->domain);
	free(c->list_id);
	free(c->base_url);
	buf_free(&c->text);
	buf_free(&c->html);
	free(c);
}

char *
message_env_from(const struct message_ctx *c, int64_t delivery_id)
{
	if (delivery_id == 0 || c->key == NULL)
		return xstrdup(c->nl->bounce_address);
	return token_verp(c->key, c->nl->bounce_address, delivery_id);
}

int
message_build(struct message_ctx *c, const struct message_rcpt *r,
    time_t date, struct buf *out, char **message_id, char **err)
{
	struct mime_params p;
	struct recipient rc;
	char *tok = NULL, *unsub_https = NULL, *prefs = NULL, *mailto = NULL;
	char *mid = NULL, *to = NULL;
	const char *why = NULL;
	int ret;

	*err = NULL;
	if (message_id)
		*message_id = NULL;
	/* the one thing here that is the subscriber's: the address */
	if ((to = email_to_ascii(r->email, &why)) == NULL ||
	    !header_addr_ok(to, &why)) {
		*err = xasprintf("To address \"%s\": %s", r->email, why);
		free(to);
		return MESSAGE_ERR_RCPT;
	}
	ret = MESSAGE_ERR_ISSUE;
	tok = c->key ? token_make(c->key, r->subscriber_id, c->nl->id,
	    "unsubscribe") : xstrdup("sample");
	mailto = xasprintf("mailto:%s?subject=unsubscribe%%20%s",
	    c->nl->bounce_address, tok);
	if (c->base_url) {
		char *ptok = c->key ? token_make(c->key, r->subscriber_id,
		    c->nl->id, "preferences") : xstrdup("sample");

		unsub_https = xasprintf("%s/unsubscribe/%s", c->base_url, tok);
		prefs = xasprintf("%s/preferences/%s", c->base_url, ptok);
		free(ptok);
	}
	memset(&rc, 0, sizeof(rc));
	rc.email = r->email;
	rc.name = r->name;
	rc.attributes_json = r->attributes;
	rc.unsubscribe_url = unsub_https ? unsub_https : mailto;
	rc.preferences_url = prefs;
	buf_reset(&c->text);
	buf_reset(&c->html);
	if (digest_render(c->digest, &rc, &c->text, &c->html) == -1) {
		*err = xstrdup("rendering the digest failed");
		goto out;
	}
	mid = mime_message_id(c->domain);
	memset(&p, 0, sizeof(p));
	p.from_name = c->nl->from_name;
	p.from_addr = c->nl->from_addr;
	p.to_name = r->name;
	p.to_addr = to;
	p.reply_to = c->nl->reply_to;
	p.subject = digest_subject(c->digest);
	p.date = date;
	p.message_id = mid;
	p.list_id = c->list_id;
	p.list_unsubscribe_mailto = mailto;
	p.list_unsubscribe_https = unsub_https;
	p.feedback_id = c->nl->feedback_id;
	p.text = c->text.data ? c->text.data : "";
	p.text_len = c->text.len;
	p.html = c->html.data ? c->html.data : "";
	p.html_len = c->html.len;
	if (mime_build(&p, out, err) == -1)
		goto out;
	if (message_id) {
		*message_id = mid;
		mid = NULL;
	}
	ret = 0;
out:
	free(to);
	free(tok);
	free(unsub_https);
	free(prefs);
	free(mailto);
	free(mid);
	return ret;
}
