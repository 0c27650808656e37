/*
 * web: the HTTP endpoint (DESIGN §1 Listen): RFC 8058 one-click
 * unsubscribe, the unsubscribe and confirmation pages, and the signup form,
 * served with libmicrohttpd in its own threads (one per connection, at
 * most WEB_CONNECTIONS), so that a long send never stalls a click.
 *
 * Routes (under the path of web.base_url, or at the root):
 *   GET  /unsubscribe/TOKEN   a page with a button that POSTs; changes nothing
 *   POST /unsubscribe/TOKEN   List-Unsubscribe=One-Click: unsubscribes (200,
 *                             idempotent)
 *   GET  /confirm/TOKEN       a page with a button that POSTs; changes nothing
 *   POST /confirm/TOKEN       confirms a pending subscription (and sends the
 *                             welcome mail when web.welcome is on)
 *   GET  /signup[/ID]         the signup form (web.signup: true)
 *   POST /signup[/ID]         email, name: a pending subscription and its
 *                             confirmation mail; the same answer whatever
 *                             the address's state; rate-limited per client
 * A forged, altered or truncated token gets 403 and changes nothing.
 *
 * The server keeps its own store connection and a thread that ends pending
 * subscriptions older than web.confirm_expiry (sub_expire), once a minute.
 */
#ifndef HERALD_WEB_H
#define HERALD_WEB_H

#include "config.h"

#define WEB_BODY_MAX		8192	/* a form POST's body */
#define WEB_HEADERS_MAX		16384	/* request line and headers */
#define WEB_TIMEOUT		10	/* seconds a connection may idle */
#define WEB_CONNECTIONS		64	/* at once */
#define WEB_SIGNUP_WINDOW	600	/* seconds */
#define WEB_SIGNUP_PER_CLIENT	5	/* signups per client per window */
#define WEB_SIGNUP_ALL		200	/* signups per window, all clients */

struct web;

/*
 * Starts serving cfg->web.listen ("host:port").  The server loads its own
 * copy of the configuration from cfg->path (the caller may free cfg at any
 * time: a reload is web_stop() then web_start() with the new one), and
 * its threads block every asynchronous signal.  NULL with *err (caller
 * frees) when the address cannot be bound, the database or the secret
 * cannot be opened, or a page template does not compile.
 */
struct web	*web_start(const struct config *cfg, char **err);
/* Stops accepting, waits for the requests in progress, frees. */
void		 web_stop(struct web *);
/* The port it listens on. */
int		 web_port(const struct web *);

#endif
