/*
 * bounce_classify: hard or soft, from an RFC 3463 status code and the words
 * mail servers use.
 *
 * The order of the checks is the policy (DESIGN §1, Bounces):
 *   1. a full mailbox is soft whatever the code says (Gmail and others send
 *      5.2.2 for it);
 *   2. anything temporary (4.x.x, a 4xx reply, a report that says it will
 *      retry) is soft;
 *   3. the server's own diagnostic, read for what it says: a rejected
 *      sender (or a reply to MAIL FROM) is soft; words that say it is
 *      temporary ("try again later", greylisting, a DNS lookup that
 *      failed) are soft unless they come with an unknown user or a
 *      disabled mailbox; an unknown user or domain and a disabled mailbox
 *      are hard; a policy, spam, size or rate block is soft;
 *   4. the status code alone: 5.1.x (but 5.1.7/5.1.8, the sender) and
 *      5.2.1 are hard, 5.4.4 (unroutable) hard, the other permanent codes
 *      soft (5.3 system, 5.4 network, 5.5 protocol, 5.6 content, 5.7
 *      policy);
 *   5. the text of the report for a generic code (5.0.0) or none;
 *   6. a permanent failure whose reason nothing above recognised is soft
 *      ("not recognised"): soft_limit in a row still retires the address,
 *      and a reader is never dropped on a guess.
 * Nothing recognisable at all is UNKNOWN (the message stays in the
 * mailbox and is reported).
 */
#include "bounce.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define TEXT_MAX	(64u << 10)	/* of the report's text, read */

static const char *const full[] = {
	"mailbox full", "mailbox is full", "mailbox has exceeded",
	"mailbox size limit", "mailbox would exceed", "mailbox exceeds",
	"mailbox is over", "mailbox over", "maildir over", "over quota",
	"overquota", "over the quota", "quota exceeded", "exceeded quota",
	"quotaexceeded",
	"exceeds quota", "quota violation", "disk quota", "mailbox quota",
	"quota limit", "full mailbox", "inbox is full", "mailfolder is full",
	"out of storage", "insufficient storage", "insufficient disk space",
	"not enough space", "not enough storage", "exceeded storage",
	"storage allocation", "storage space", "space has been used up",
	"no space left", "too many messages", "exceeding receiving limits",
	"mailbox is at capacity", "has exceeded its", "user is over",
	"boite du destinataire pleine", "postfach voll", "casella piena",
	NULL
};
static const char *const sender[] = {
	"sender address", "sender rejected", "sender denied",
	"sender verify failed", "sender verification", "sender is not",
	"sender domain", "sender not", "in reply to mail from",
	"bad sender", "invalid sender", "from address", "after mail from",
	">>> mail from", "domain of sender", NULL
};
static const char *const user[] = {
	"user unknown", "unknown user", "no such user", "user not found",
	"user does not exist", "user doesn't exist", "user not exist",
	"user is unknown", "user not known", "user invalid", "invalid user",
	"unknown recipient", "recipient unknown", "recipient not found",
	"recipient does not exist", "recipient not exist", "no such recipient",
	"invalid recipient", "invalid-recipient", "not a valid recipient",
	"recipient address rejected: access denied",
	"recipient address rejected: unknown", "unknown mailbox",
	"no such mailbox", "mailbox not found", "mailbox does not exist",
	"mailbox doesn't exist", "mailbox unavailable", "mailbox is unavailable",
	"mailbox not available", "mailbox is not available",
	"invalid mailbox", "mailbox invalid",
	"not a valid mailbox", "no mailbox here", "no mailbox by that name",
	"no mailbox found", "mailbox not present", "address not found",
	"address does not exist", "address doesn't exist", "address unknown",
	"unknown address", "invalid address", "address is invalid",
	"address couldn't be found", "address could not be found",
	"address you entered couldn't be found", "account does not exist",
	"account doesn't exist", "account that you tried to reach does not",
	"doesn't have a", "does not have a", "is not a known user",
	"unrouteable address", "unroutable address", "no longer valid",
	"no longer accepts mail", "no one at this address",
	"no such person", "addressee unknown", "bad destination mailbox",
	"recipnotfound", "recipientnotfound", "recipient not found by",
	"badrcptto", "validrcptto", "unknown local part", "unknown local-part",
	"non-existent user", "nonexistent user", "non existent user",
	"not listed in domino directory", "not listed in public name",
	"unknown or illegal alias", "invalid or unknown virtual user",
	"no account by that name", "not our customer", "user_unknown",
	"destination addresses were unknown", "not a local address",
	"recipient name is not recognized", "not listed in the directory",
	"utilisateur inconnu", "unbekannter benutzer", "unbekannt",
	"utente inesistente", "usuario desconocido", "no existe",
	"does not exist", "doesn't exist", NULL
};
static const char *const host[] = {
	"host unknown", "unknown host", "domain not found", "unknown domain",
	"no such domain", "host not found", "host or domain name not found",
	"name or service not known", "nxdomain", "unrouteable mail domain",
	"unroutable mail domain", "domain name not found", "no mx record",
	"no mx ", "couldn't find any host", "could not find any host",
	"invalid domain", "domain is not valid", "non-existent hosts",
	"non-existent domain", "nonexistent domain", "dns error: domain",
	"domain must exist", "mail domain mentioned in email address is unknown",
	"does not accept mail", "null mx", "nullmx", "accepts no mail",
	NULL
};
static const char *const disabled[] = {
	"account disabled", "account has been disabled", "account is disabled",
	"mailbox disabled", "mailbox is disabled", "mailbox has been disabled",
	"tried to reach is disabled", "account has been suspended",
	"account suspended", "is currently suspended", "mailbox suspended",
	"mailbox currently suspended", "user suspended", "has been suspended",
	"deactivated", "inactive account", "account inactive",
	"account is inactive", "mailbox is inactive", "tried to reach is inactive",
	"user not active", "inactive email address", "inactive address",
	"account closed", "account has been closed",
	"account is closed", "no longer active", "no longer in use",
	"discontinued", "user is terminated", "account has expired",
	"account expired", "mailbox is frozen", "account is locked",
	"archived recipient", "mailbox has been removed",
	"account has been deleted", "address has been disabled",
	"mail receiving disabled", "has been moved", "no longer exists", NULL
};
/* Words that make a failure temporary (see by_words). */
static const char *const transient[] = {
	"try again later", "try again", "please retry", "retry later",
	"temporarily deferred", "temporarily rejected", "temporarily unavailable",
	"temporary failure", "temporary error", "temporarily blocked",
	"greylist", "graylist", "receiving mail at a rate",
	"rate that prevents", NULL
};
static const char *const size[] = {
	"too large", "too big", "size limit", "exceeds the maximum size",
	"message size exceeds", "size exceeds", "message length exceeds",
	"exceeds maximum", "maximum message size", NULL
};
static const char *const rate[] = {
	"too many", "rate limit", "rate-limit", "ratelimit", "throttl",
	"try again later", "try later", "greylist", "graylist",
	"receiving mail at a rate", "rate that prevents",
	"temporarily deferred", "deferred", "exceeded the rate", NULL
};
static const char *const expired[] = {
	"retry timeout exceeded", "queue too long", "too long in queue",
	"delivery time expired", "message expired", "expired",
	"could not be delivered within", "has been in the queue too long",
	"in the queue too long", NULL
};
static const char *const network[] = {
	"connection timed out", "timed out", "connection refused",
	"no route to host", "network is unreachable", "host unreachable",
	"lost connection", "connection reset", "conversation with",
	"tls", "ssl", NULL
};
static const char *const policy[] = {
	"spam", "blocked", "block list", "blocklist", "blacklist",
	"black list", "denylist", "dnsbl", "rbl", "spamhaus", "spamcop",
	"barracuda", "sorbs", "reputation", "policy", "not authorized",
	"unauthorized", "not permitted", "prohibited", "prohibition",
	"denied", "refused", "restricted",
	"dmarc", "spf", "dkim", "not accepted", "rejected", "junk",
	"bulk mail", "abuse", "virus", "malware", "phish", "suspicious",
	"banned", "filter", "unsolicited", "relay", "ptr", "reverse dns",
	"helo", "authentication", "content", NULL
};

static const char *
find_any(const char *s, const char *const *list)
{
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; list[i]; i++)
		if (strstr(s, list[i]))
			return list[i];
	return NULL;
}

static char *
lower_dup(const char *s, size_t max)
{
	size_t n, i;
	char *d;

	if (s == NULL)
		return NULL;
	n = strnlen(s, max);
	d = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* one space for any run of white space: phrases wrap */
		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		d[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	d[n] = '\0';
	/* squeeze runs of spaces */
	{
		char *w = d, *r = d;

		for (; *r; r++)
			if (!(*r == ' ' && w > d && w[-1] == ' '))
				*w++ = *r;
		*w = '\0';
	}
	return d;
}

/* What the server's or the report's words say; UNKNOWN when nothing. */
static enum bounce_kind
by_words(const char *s, char cls, const char **reason)
{
	if (s == NULL || *s == '\0')
		return BOUNCE_UNKNOWN;
	if (find_any(s, full)) {
		*reason = "mailbox full";
		return BOUNCE_SOFT;
	}
	if (find_any(s, sender)) {
		*reason = "sender rejected";
		return BOUNCE_SOFT;
	}
	/*
	 * Temporary words win over a domain "not found" (a DNS lookup that
	 * failed, "try again") and over everything but an unknown user or a
	 * disabled mailbox ("user unknown, check the address and try again"
	 * stays hard).
	 */
	if (find_any(s, transient) && (find_any(s, host) ||
	    !(find_any(s, user) || find_any(s, disabled)))) {
		*reason = find_any(s, host) ? "DNS lookup failed" :
		    find_any(s, rate) ? "rate limited" : "temporary failure";
		return BOUNCE_SOFT;
	}
	if (cls != '4') {
		if (find_any(s, disabled)) {
			*reason = "mailbox disabled";
			return BOUNCE_HARD;
		}
		if (find_any(s, host)) {
			*reason = "unknown domain";
			return BOUNCE_HARD;
		}
		if (find_any(s, user)) {
			*reason = "user unknown";
			return BOUNCE_HARD;
		}
	}
	if (find_any(s, size)) {
		*reason = "message too large";
		return BOUNCE_SOFT;
	}
	if (find_any(s, expired)) {
		*reason = "delivery expired";
		return BOUNCE_SOFT;
	}
	if (find_any(s, rate)) {
		*reason = "rate limited";
		return BOUNCE_SOFT;
	}
	if (find_any(s, policy)) {
		*reason = "policy or spam block";
		return BOUNCE_SOFT;
	}
	if (find_any(s, network)) {
		*reason = "network error";
		return BOUNCE_SOFT;
	}
	return BOUNCE_UNKNOWN;
}

/* What the status code alone says (class 5 only); UNKNOWN for x.0.0. */
static enum bounce_kind
by_code(const char *st, const char **reason)
{
	long sub, det;
	char *end;

	sub = strtol(st + 2, &end, 10);
	if (*end != '.')
		return BOUNCE_UNKNOWN;
	det = strtol(end + 1, NULL, 10);
	switch (sub) {
	case 1:
		if (det == 7 || det == 8) {
			*reason = "sender rejected";
			return BOUNCE_SOFT;
		}
		if (det == 2) {
			*reason = "unknown domain";
			return BOUNCE_HARD;
		}
		if (det == 6) {
			*reason = "mailbox has moved";
			return BOUNCE_HARD;
		}
		*reason = "user unknown";
		return BOUNCE_HARD;
	case 2:
		if (det == 1) {
			*reason = "mailbox disabled";
			return BOUNCE_HARD;
		}
		if (det == 2) {
			*reason = "mailbox full";
			return BOUNCE_SOFT;
		}
		if (det == 3) {
			*reason = "message too large";
			return BOUNCE_SOFT;
		}
		return BOUNCE_UNKNOWN;
	case 3:
		*reason = det == 4 ? "message too large" : "mail system error";
		return BOUNCE_SOFT;
	case 4:
		if (det == 4) {
			*reason = "unknown domain";
			return BOUNCE_HARD;
		}
		*reason = det == 7 ? "delivery expired" : "network error";
		return BOUNCE_SOFT;
	case 5:
		*reason = "protocol error";
		return BOUNCE_SOFT;
	case 6:
		*reason = "content rejected";
		return BOUNCE_SOFT;
	case 7:
		*reason = "policy or spam block";
		return BOUNCE_SOFT;
	default:
		return BOUNCE_UNKNOWN;
	}
}

enum bounce_kind
bounce_classify(const char *status, const char *diag, const char *text,
    char hint, const char **reason)
{
	enum bounce_kind k = BOUNCE_UNKNOWN;
	char *d = lower_dup(diag, TEXT_MAX), *t = NULL;
	const char *st = status;
	char cls = 0;

	*reason = NULL;
	if (st && !((st[0] == '4' || st[0] == '5') && st[1] == '.'))
		st = NULL;
	if (st)
		cls = st[0];
	else if (d) {
		/* a reply code at the start of the diagnostic ("smtp; 550 ...") */
		const char *p = d + strspn(d, " ");

		if (strncmp(p, "smtp;", 5) == 0)
			p += 5 + strspn(p + 5, " ");
		if ((p[0] == '4' || p[0] == '5') && p[1] >= '0' && p[1] <= '9' &&
		    p[2] >= '0' && p[2] <= '9' && (p[3] == ' ' || p[3] == '-' ||
		    p[3] == '\0'))
			cls = p[0];
	}
	if (cls == 0)
		cls = hint;

	/* 1. a full mailbox, whatever the code */
	if ((st && strncmp(st + 1, ".2.2", 4) == 0 &&
	    (st[5] == '\0' || st[5] == ' ')) || find_any(d, full)) {
		*reason = "mailbox full";
		k = BOUNCE_SOFT;
		goto out;
	}
	/* 2.-3. the diagnostic's words */
	if ((k = by_words(d, cls, reason)) != BOUNCE_UNKNOWN) {
		if (cls == '4' && k == BOUNCE_HARD)
			k = BOUNCE_SOFT;
		goto out;
	}
	if (cls == '4') {
		t = lower_dup(text, TEXT_MAX);
		if (by_words(t, '4', reason) == BOUNCE_UNKNOWN)
			*reason = "temporary failure";
		k = BOUNCE_SOFT;
		goto out;
	}
	/* 4. the code */
	if (st && (k = by_code(st, reason)) != BOUNCE_UNKNOWN)
		goto out;
	/* 5. the report's text */
	t = lower_dup(text, TEXT_MAX);
	if ((k = by_words(t, cls, reason)) != BOUNCE_UNKNOWN)
		goto out;
	/* 6. permanent, reason not recognised */
	if (cls == '5') {
		*reason = "permanent failure, reason not recognised";
		k = BOUNCE_SOFT;
	}
out:
	free(d);
	free(t);
	return k;
}

const char *
bounce_kind_name(enum bounce_kind k)
{
	switch (k) {
	case BOUNCE_HARD:	return "hard";
	case BOUNCE_SOFT:	return "soft";
	case BOUNCE_AUTOREPLY:	return "auto-reply";
	case BOUNCE_COMPLAINT:	return "complaint";
	case BOUNCE_UNSUBSCRIBE: return "unsubscribe";
	case BOUNCE_NOTICE:	return "notice";
	case BOUNCE_UNKNOWN:	break;
	}
	return "unknown";
}
