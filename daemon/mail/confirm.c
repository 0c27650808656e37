/*
 * confirm: builds and sends the double opt-in confirmation mail.
 */
#include "confirm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mime.h"
#include "mustache.h"
#include "smtp.h"
#include "smtp_open.h"
#include "templates_lookup.h"
#include "util.h"
#include "xmalloc.h"

#define CONFIRM_TEXT	"confirm.txt.mustache"
#define CONFIRM_HTML	"confirm.html.mustache"
#define WELCOME_TEXT	"welcome.txt.mustache"
#define WELCOME_HTML	"welcome.html.mustache"
#define CONFIRM_MAX	(1024 * 1024)
#define TEMPLATE_MAX	(1024 * 1024)	/* an override's source */	/* a rendered part; the templates are small */

const char *
confirm_unavailable(const struct config *cfg)
{
	if (!cfg->web.enabled || cfg->web.base_url == NULL ||
	    cfg->web.base_url[0] == '\0')
		return "web.base_url is not configured: the confirmation mail "
		    "needs it for its link (add a web: section with base_url, "
		    "see herald.yml(5))";
	return NULL;
}

char *
confirm_expiry_text(long s)
{
	long n;
	const char *unit;

	if (s >= 86400 && s % 86400 == 0) {
		n = s / 86400;
		unit = "day";
	} else if (s >= 3600 && s % 3600 == 0) {
		n = s / 3600;
		unit = "hour";
	} else {
		n = (s + 59) / 60;
		unit = "minute";
	}
	return xasprintf("%ld %s%s", n, unit, n == 1 ? "" : "s");
}

struct tmpl *
confirm_template(const struct config *cfg, const char *name,
    enum tmpl_escape esc, char **err)
{
	const struct builtin_template *bt;
	struct tmpl_options opt = { esc, NULL, NULL, true };
	struct buf src;
	struct tmpl *t;
	char *path;
	int fd, rc;

	*err = NULL;
	if (cfg && cfg->web.templates) {
		path = xasprintf("%s/%s", cfg->web.templates, name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd == -1 && errno != ENOENT) {
			*err = xasprintf("%s: %s", path, strerror(errno));
			free(path);
			return NULL;
		}
		if (fd != -1) {
			buf_init(&src, TEMPLATE_MAX);
			rc = buf_read_fd(&src, fd);
			close(fd);
			if (rc != 0) {
				*err = xasprintf("%s: %s", path, rc == -2 ?
				    "larger than 1 MiB" : strerror(errno));
				t = NULL;
			} else
				t = tmpl_compile(buf_cstr(&src), src.len, path,
				    &opt, err);
			buf_free(&src);
			free(path);
			return t;
		}
		free(path);
	}
	if ((bt = templates_builtin(name)) == NULL) {
		*err = xasprintf("shipped template %s is missing", name);
		return NULL;
	}
	return tmpl_compile(bt->data, bt->len, bt->name, &opt, err);
}

int
confirm_check_templates(const struct config *cfg, char **err)
{
	static const struct {
		const char		*name;
		enum tmpl_escape	 esc;
	} all[] = {
		{ CONFIRM_TEXT, TMPL_ESCAPE_NONE },
		{ CONFIRM_HTML, TMPL_ESCAPE_HTML },
		{ WELCOME_TEXT, TMPL_ESCAPE_NONE },
		{ WELCOME_HTML, TMPL_ESCAPE_HTML },
		{ "page.html.mustache", TMPL_ESCAPE_HTML },
	};
	struct tmpl *t;
	size_t i;

	*err = NULL;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if ((t = confirm_template(cfg, all[i].name, all[i].esc, err)) ==
		    NULL)
			return -1;
		tmpl_free(t);
	}
	return 0;
}

/* Renders the template name against ctx into out. */
static int
render(const struct config *cfg, const char *name, enum tmpl_escape esc,
    const struct tmpl_value *ctx, struct buf *out, char **err)
{
	struct tmpl *t = confirm_template(cfg, name, esc, err);
	int rc;

	if (t == NULL)
		return -1;
	rc = tmpl_render(t, ctx, out);
	tmpl_free(t);
	if (rc == -1)
		*err = xasprintf("%s: rendering failed (larger than %d bytes?)",
		    name, CONFIRM_MAX);
	return rc;
}

/* The two templates and the subject of each kind of mail. */
static const struct {
	const char	*text, *html, *subject;
} kinds[] = {
	[CONFIRM_MAIL_CONFIRM] = { CONFIRM_TEXT, CONFIRM_HTML,
	    "Confirm your subscription to " },
	[CONFIRM_MAIL_WELCOME] = { WELCOME_TEXT, WELCOME_HTML,
	    "Welcome to " },
};

int
confirm_build_mail(const struct config *cfg, const struct newsletter_conf *nl,
    const struct token_key *key, enum confirm_mail kind,
    const struct confirm_rcpt *r, time_t date, struct buf *out,
    char **link_url, char **err)
{
	const char *title = nl->title ? nl->title : nl->id;
	const char *at = strrchr(nl->from_addr, '@');
	struct tmpl_value *ctx = NULL, *m;
	struct buf text, html;
	struct mime_params p;
	char *tok = NULL, *base = NULL, *url = NULL, *subject = NULL;
	char *mid = NULL, *mailto = NULL, *list_id = NULL;
	size_t n;
	int ret = -1;

	*err = NULL;
	if (link_url)
		*link_url = NULL;
	buf_init(&text, CONFIRM_MAX);
	buf_init(&html, CONFIRM_MAX);
	if (confirm_unavailable(cfg) != NULL) {
		*err = xstrdup(confirm_unavailable(cfg));
		goto out;
	}
	base = xstrdup(cfg->web.base_url);
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	tok = token_make(key, r->subscriber_id, nl->id,
	    kind == CONFIRM_MAIL_CONFIRM ? "confirm" : "unsubscribe");
	url = xasprintf("%s/%s/%s", base, kind == CONFIRM_MAIL_CONFIRM ?
	    "confirm" : "unsubscribe", tok);

	ctx = tmpl_map();
	m = tmpl_map();
	tmpl_map_set(m, "title", tmpl_str(title));
	tmpl_map_set(m, "id", tmpl_str(nl->id));
	tmpl_map_set(ctx, "newsletter", m);
	m = tmpl_map();
	tmpl_map_set(m, "email", tmpl_str(r->email));
	tmpl_map_set(m, "name", tmpl_str(r->name && r->name[0] ? r->name :
	    NULL));
	tmpl_map_set(ctx, "subscriber", m);
	if (kind == CONFIRM_MAIL_CONFIRM) {
		tmpl_map_set(ctx, "confirm_url", tmpl_str(url));
		tmpl_map_set(ctx, "expiry", tmpl_str_take(confirm_expiry_text(
		    cfg->web.confirm_expiry > 0 ? cfg->web.confirm_expiry :
		    7 * 86400)));
	} else
		tmpl_map_set(ctx, "unsubscribe_url", tmpl_str(url));
	if (render(cfg, kinds[kind].text, TMPL_ESCAPE_NONE, ctx, &text, err)
	    == -1 || render(cfg, kinds[kind].html, TMPL_ESCAPE_HTML, ctx, &html,
	    err) == -1)
		goto out;

	subject = xasprintf("%s%s", kinds[kind].subject, title);
	mid = mime_message_id(at ? at + 1 : "localhost");
	memset(&p, 0, sizeof(p));
	p.from_name = nl->from_name;
	p.from_addr = nl->from_addr;
	p.to_name = r->name && r->name[0] ? r->name : NULL;
	p.to_addr = r->email;
	p.reply_to = nl->reply_to;
	p.subject = subject;
	p.date = date;
	p.message_id = mid;
	if (kind == CONFIRM_MAIL_WELCOME) {
		/* the first list message: it unsubscribes like the others */
		list_id = xasprintf("%s <%s.%s>", title, nl->id,
		    at ? at + 1 : "localhost");
		mailto = xasprintf("mailto:%s?subject=unsubscribe%%20%s",
		    nl->bounce_address, tok);
		p.list_id = list_id;
		p.list_unsubscribe_mailto = mailto;
		p.list_unsubscribe_https = url;
	}
	p.text = buf_cstr(&text);
	p.text_len = text.len;
	p.html = buf_cstr(&html);
	p.html_len = html.len;
	if (mime_build(&p, out, err) == -1)
		goto out;
	if (link_url) {
		*link_url = url;
		url = NULL;
	}
	ret = 0;
out:
	tmpl_value_free(ctx);
	buf_free(&text);
	buf_free(&html);
	free(tok);
	free(base);
	free(url);
	free(subject);
	free(mid);
	free(mailto);
	free(list_id);
	return ret;
}

int
confirm_build(const struct config *cfg, const struct newsletter_conf *nl,
    const struct token_key *key, const struct confirm_rcpt *r, time_t date,
    struct buf *out, char **confirm_url, char **err)
{
	return confirm_build_mail(cfg, nl, key, CONFIRM_MAIL_CONFIRM, r, date,
	    out, confirm_url, err);
}

enum confirm_result
confirm_send(const struct config *cfg, const struct newsletter_conf *nl,
    const struct confirm_rcpt *r, char **reply)
{
	return confirm_send_mail(cfg, nl, CONFIRM_MAIL_CONFIRM, r, reply);
}

enum confirm_result
confirm_send_mail(const struct config *cfg, const struct newsletter_conf *nl,
    enum confirm_mail kind, const struct confirm_rcpt *r, char **reply)
{
	enum confirm_result res = CONFIRM_ERROR;
	struct token_key *key = NULL;
	struct smtp *sm = NULL;
	struct buf msg = BUF_INIT;
	enum smtp_result sr;
	char *err = NULL;
	int rc;

	*reply = NULL;
	if (confirm_unavailable(cfg) != NULL) {
		*reply = xstrdup(confirm_unavailable(cfg));
		return CONFIRM_CONFIG;
	}
	if ((key = token_key_load(cfg->secret_file, &err)) == NULL) {
		*reply = xasprintf("%s: %s", cfg->secret_file, err);
		goto out;
	}
	if (confirm_build_mail(cfg, nl, key, kind, r, time(NULL), &msg, NULL,
	    &err) == -1) {
		*reply = xasprintf("building the message: %s", err);
		goto out;
	}
	if ((sm = smtp_open_config(cfg, nl, 1, &rc, &err)) == NULL) {
		*reply = err;
		err = NULL;
		res = rc == EXIT_USAGE ? CONFIRM_CONFIG : CONFIRM_ERROR;
		goto out;
	}
	sr = smtp_send_one(sm, nl->bounce_address, r->email, &msg,
	    cfg->smtp.timeout, reply);
	switch (sr) {
	case SMTP_SENT:
		res = CONFIRM_SENT;
		break;
	case SMTP_PERMFAIL:
		res = CONFIRM_REFUSED;
		break;
	case SMTP_TEMPFAIL:
		res = CONFIRM_DEFERRED;
		break;
	case SMTP_CONNFAIL:
		res = CONFIRM_UNREACHABLE;
		break;
	}
out:
	smtp_free(sm);
	token_key_free(key);
	buf_free(&msg);
	free(err);
	return res;
}
