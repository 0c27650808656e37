/*
 * smtp: sends messages over SMTP, many connections at once, from one
 * thread.
 *
 * One struct smtp owns `connections` slots, each one SMTP connection kept
 * for the life of the sender and used for message after message.  libcurl
 * makes the connection (connect, greeting, EHLO, STARTTLS, AUTH); smtp.c
 * speaks the transaction over it, pipelined (RFC 2920) when the server
 * offers it, and never waits on one connection while another could move.
 * The sender enforces `rate` messages per second across all slots (token
 * bucket; 0 = unlimited).
 *
 * Use: while smtp_ready() submit a message with smtp_submit(); call
 * smtp_run() to move transfers along; it calls back with the outcome of
 * each finished message.  The outcome classifies the server's replies:
 *
 *   SMTP_SENT      the server's final 2xx after the message
 *   SMTP_TEMPFAIL  a 4xx, a timeout or a connection broken mid-transaction
 *   SMTP_PERMFAIL  a 5xx for this message
 *   SMTP_CONNFAIL  the server could not be reached or refused the session
 *                  (connect, DNS, TLS, AUTH): nothing about this message
 *
 * The reply parser (smtp_reply_*) is exposed for tests and fuzzing.
 */
#ifndef HERALD_SMTP_H
#define HERALD_SMTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"

enum smtp_result {
	SMTP_SENT = 0,
	SMTP_TEMPFAIL,
	SMTP_PERMFAIL,
	SMTP_CONNFAIL,
};

struct smtp_opts {
	const char	*url;		/* smtp://host:port or smtps://host:port */
	const char	*helo;		/* EHLO name, or NULL for libcurl's default */
	enum starttls_mode starttls;
	const char	*username;	/* NULL: no AUTH */
	const char	*password;
	long		 connections;	/* >= 1 */
	double		 rate;		/* messages/s across all slots; 0 unlimited */
	long		 timeout;	/* seconds per command (and connect) */
};

/* What happened to one message; pointers valid during the callback only. */
struct smtp_outcome {
	void		*cookie;	/* as given to smtp_submit() */
	enum smtp_result result;
	int		 code;		/* last SMTP reply code, 0 when none */
	const char	*reply;		/* the server's last reply, or why not */
};

typedef void (*smtp_done_fn)(const struct smtp_outcome *, void *arg);

/* A new sender (no connection is made yet).  NULL with *err (caller frees). */
struct smtp	*smtp_new(const struct smtp_opts *, char **err);
/* Abandons any transfer still in flight (no callback) and frees. */
void		 smtp_free(struct smtp *);

/* True when a slot is free and the rate allows one more message now. */
bool		 smtp_ready(struct smtp *);
/* The number of slots (parallel transfers). */
size_t		 smtp_slots(const struct smtp *);
/* Messages submitted and not yet reported. */
size_t		 smtp_inflight(const struct smtp *);

/*
 * Starts sending msg from envelope sender `from` to `rcpt`.  Needs
 * smtp_ready().  The message is taken by swapping *msg with the slot's
 * buffer: afterwards *msg holds the slot's previous (emptied) buffer, so a
 * caller can build the next message in it without allocating.  from and
 * rcpt are copied.  Returns 0, or -1 when no slot is free.
 */
int		 smtp_submit(struct smtp *, const char *from, const char *rcpt,
		    struct buf *msg, void *cookie);

/*
 * Drives transfers, waiting at most timeout_ms for activity (less when a
 * rate token is due); calls done() for every finished message.  Returns
 * the number of messages still in flight.
 */
size_t		 smtp_run(struct smtp *, int timeout_ms, smtp_done_fn done,
		    void *arg);
/*
 * Sends one message and waits for its outcome (send-test, confirmation
 * mail).  *reply (caller frees) is the server's reply or why there is none;
 * a transfer still unanswered after a generous multiple of timeout seconds
 * is SMTP_TEMPFAIL "no answer in time" (libcurl's own timeouts normally end
 * it first).
 */
enum smtp_result smtp_send_one(struct smtp *, const char *from,
		    const char *rcpt, struct buf *msg, long timeout,
		    char **reply);

/*
 * Lends the last n slots of sm (which must have none in flight) to a new
 * sender with its own multi handle and connections, so that another
 * thread can drive them: sm and the part may each be used by one thread
 * at a time, concurrently.  They share sm's rate limit (a token bucket
 * under a mutex; two threads may both take the last token, so a burst can
 * exceed it by one message).  NULL when sm cannot be split (n must leave
 * sm a slot; sm already split, a part, or busy).  smtp_merge() gives the
 * slots back (abandoning any transfer of the part still in flight, with
 * no callback) and frees the part: merge it before smtp_free(sm).
 */
struct smtp	*smtp_split(struct smtp *sm, size_t n);
void		 smtp_merge(struct smtp *part);

/*
 * Makes a smtp_run() waiting now (or the next one) return early.  The one
 * call that is safe from another thread.
 */
void		 smtp_wakeup(struct smtp *);

/*
 * SMTP reply parsing.  A reply is one or more lines "DDD-text" ending with
 * a line "DDD text" (or "DDD").  smtp_reply_feed() takes raw server bytes
 * (any split) and keeps the last complete reply: its code and its text
 * (the lines' texts joined by a space, control characters replaced, at
 * most SMTP_REPLY_MAX bytes).  Malformed lines count as code 0.  It also
 * keeps the first 4xx/5xx reply since smtp_reply_init() (libcurl sends
 * QUIT after a refusal, so the last reply is then "221 Bye").
 */
#define SMTP_REPLY_MAX	512

struct smtp_reply {
	int		 code;			/* last complete reply, 0 none */
	char		 text[SMTP_REPLY_MAX];	/* "250 2.0.0 Ok: queued as X" */
	int		 err_code;		/* first 4xx/5xx reply, 0 none */
	char		 err_text[SMTP_REPLY_MAX];
	/* in progress */
	char		 line[SMTP_REPLY_MAX];
	size_t		 linelen;
	char		 acc[SMTP_REPLY_MAX];
	size_t		 acclen;
	bool		 acc_open;
};

void		 smtp_reply_init(struct smtp_reply *);
void		 smtp_reply_feed(struct smtp_reply *, const char *data,
		    size_t len);
/*
 * The same, but stops after the first complete reply: returns the bytes
 * taken and sets *complete when a reply ended there (its code and text are
 * then r->code and r->text).  The sender reads replies one at a time.
 */
size_t		 smtp_reply_feed_one(struct smtp_reply *, const char *data,
		    size_t len, bool *complete);
/*
 * Classifies a finished transfer from its libcurl result code, the last
 * reply code and whether MAIL FROM had been sent (a 5xx before that is the
 * server refusing the session, not this message).
 */
enum smtp_result smtp_classify(int curl_code, int reply_code,
		    bool in_transaction);

#endif
