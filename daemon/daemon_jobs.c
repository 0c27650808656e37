#include "daemon_jobs.h"

#include <stdlib.h>
#include <string.h>

#include "bounces.h"
#include "collect.h"
#include "log.h"
#include "send.h"
#include "store_queue.h"
#include "xmalloc.h"

struct nl_state {
	char	*id;
	time_t	 next_issue;	/* when the schedule fires next */
	time_t	 next_collect;	/* earliest source poll */
	time_t	 next_retry;	/* earliest deferred delivery (0: none) */
	bool	 fire_pending;	/* the schedule fired but the send could
				   not start (locked, unreachable): the
				   retry may still assemble the issue */
	bool	 caught_up;	/* the missed-slot check was made */
};

struct daemon_state {
	struct nl_state	*v;
	size_t		 n;
	time_t		 next_bounces;	/* the bounce mailbox's next poll */
};

static void
fill(struct daemon_state *ds, const struct config *cfg, time_t now)
{
	size_t i;

	ds->n = cfg->nnewsletters;
	ds->next_bounces = now;
	ds->v = xcalloc(ds->n ? ds->n : 1, sizeof(*ds->v));
	for (i = 0; i < ds->n; i++) {
		const struct newsletter_conf *nl = &cfg->newsletters[i];

		ds->v[i].id = xstrdup(nl->id);
		ds->v[i].next_issue = schedule_next(&nl->schedule,
		    nl->timezone, now);
		ds->v[i].next_collect = now;
		ds->v[i].next_retry = now;	/* resume unfinished work */
	}
}

static void
clear(struct daemon_state *ds)
{
	size_t i;

	for (i = 0; i < ds->n; i++)
		free(ds->v[i].id);
	free(ds->v);
	ds->v = NULL;
	ds->n = 0;
}

struct daemon_state *
daemon_state_new(const struct config *cfg, time_t now)
{
	struct daemon_state *ds = xcalloc(1, sizeof(*ds));

	fill(ds, cfg, now);
	return ds;
}

void
daemon_state_reset(struct daemon_state *ds, const struct config *cfg,
    time_t now)
{
	size_t i;

	clear(ds);
	fill(ds, cfg, now);
	for (i = 0; i < ds->n; i++)
		ds->v[i].caught_up = true;	/* only at start */
}

void
daemon_state_free(struct daemon_state *ds)
{
	if (ds == NULL)
		return;
	clear(ds);
	free(ds);
}

static long
min_interval(const struct newsletter_conf *nl)
{
	long m = 0;
	size_t i;

	for (i = 0; i < nl->nsources; i++)
		if (m == 0 || nl->sources[i].interval < m)
			m = nl->sources[i].interval;
	return m > 0 ? m : 900;
}

/* ---- the steps; each returns an exit-code-like status ---- */

static int
step_collect(struct cli *cli, const struct newsletter_conf *nl,
    const struct daemon_hooks *h)
{
	log_debug("daemon: %s: collecting", nl->id);
	h->doing("collecting %s (%zu source%s)", nl->id, nl->nsources,
	    nl->nsources == 1 ? "" : "s");
	/* Folders always; feeds whose interval has passed.  Failures are
	 * logged and recorded per source (herald status). */
	return collect_run(cli->store, nl, false, NULL);
}

/*
 * Assembles a new issue (only when the schedule fired) or resumes the
 * unfinished one, and sends what is due; *next_retry is when the next
 * deferred delivery falls due (0: nothing waits).
 */
struct send_tick {
	const struct daemon_hooks	*h;
	const char			*id;
};

static void
send_tick(long done, long total, void *arg)
{
	struct send_tick *t = arg;

	t->h->doing("sending %s: %ld of %ld", t->id, done, total);
	t->h->alive();
}

static int
step_send(struct cli *cli, const struct newsletter_conf *nl, bool fire,
    const struct daemon_hooks *h, time_t *next_retry)
{
	struct send_pass_opts po;
	struct send_tick t = { h, nl->id };
	int rc;

	memset(&po, 0, sizeof(po));
	po.create = fire;
	po.report = NULL;		/* summary lines go to the log */
	po.stop = h->yield;
	po.tick = send_tick;
	po.tick_arg = &t;
	h->doing("sending %s", nl->id);
	rc = send_pass(cli->store, cli->cfg, nl, &po, next_retry);
	if (h->interrupted()) {
		/* a reload (or a stop): the next turn resumes the issue */
		if (*next_retry == 0)
			*next_retry = time(NULL);
	} else if (rc == EXIT_TEMP && *next_retry == 0)
		*next_retry = time(NULL) + 60;	/* unreachable or locked: retry */
	return rc;
}

/*
 * After downtime: when a slot of the schedule fell between the last issue
 * and now, the daemon missed it; it fires once now, however many slots it
 * missed (one catch-up issue, never one per slot).  A newsletter that never
 * had an issue has nothing to catch up.  Made once, at start.
 */
static void
catch_up(struct cli *cli, struct nl_state *ns, const struct newsletter_conf *nl,
    time_t now)
{
	struct store_issue is;
	char at[64];
	time_t slot;

	ns->caught_up = true;
	memset(&is, 0, sizeof(is));
	if (store_issue_last(cli->store, nl->id, &is) != 1)
		return;
	slot = schedule_next(&nl->schedule, nl->timezone, is.created);
	if (slot != (time_t)-1 && slot <= now && (ns->next_issue == (time_t)-1 ||
	    ns->next_issue > now)) {
		schedule_time_local(slot, nl->timezone, at, sizeof(at));
		log_info("daemon: %s: the issue due at %s was missed while no "
		    "daemon ran; catching up with one issue now", nl->id, at);
		ns->next_issue = now;
	}
	store_issue_clear(&is);
}

time_t
daemon_tick(struct cli *cli, struct daemon_state *ds,
    const struct daemon_hooks *h, time_t now)
{
	time_t wake = now + 60;
	size_t i;

	for (i = 0; i < ds->n && !h->interrupted(); i++) {
		struct nl_state *ns = &ds->v[i];
		const struct newsletter_conf *nl = NULL;
		const char *why;
		bool fire;

		nl = config_newsletter(cli->cfg, ns->id, &why);
		if (nl == NULL)
			continue;
		if (!ns->caught_up)
			catch_up(cli, ns, nl, now);
		if (ns->next_collect <= now) {
			step_collect(cli, nl, h);
			ns->next_collect = now + min_interval(nl);
			h->alive();
			if (h->interrupted())
				break;
		}
		fire = ns->next_issue != (time_t)-1 && ns->next_issue <= now;
		if (fire || (ns->next_retry && ns->next_retry <= now)) {
			time_t retry = 0;
			int rc;

			if (fire)
				log_info("daemon: %s: schedule fired", nl->id);
			rc = step_send(cli, nl, fire || ns->fire_pending, h,
			    &retry);
			ns->fire_pending = (fire || ns->fire_pending) &&
			    rc == EXIT_TEMP;
			h->alive();
			ns->next_retry = retry;
			if (fire)
				ns->next_issue = schedule_next(&nl->schedule,
				    nl->timezone, now);
		}
		if (ns->next_collect < wake)
			wake = ns->next_collect;
		if (ns->next_issue != (time_t)-1 && ns->next_issue < wake)
			wake = ns->next_issue;
		if (ns->next_retry && ns->next_retry < wake)
			wake = ns->next_retry;
	}
	/* the bounce mailbox, every bounces.interval (daemon/bounces/) */
	if (cli->cfg->bounces.enabled && !h->interrupted()) {
		if (ds->next_bounces <= now) {
			h->doing("polling the bounce mailbox");
			(void)bounces_poll(cli->store, cli->cfg, h->yield,
			    h->alive);
			ds->next_bounces = now + cli->cfg->bounces.interval;
			h->alive();
		}
		if (ds->next_bounces < wake)
			wake = ds->next_bounces;
	}
	return wake;
}
