/*
 * bounce_parse() against tests/fixtures/bounces/: every message listed in
 * expected.tsv must get the kind, first recipient, status, reason and
 * first VERP candidate given there ("-": none / not checked for reason).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounce.h"
#include "buf.h"
#include "xmalloc.h"

#define FIXTURES "../fixtures/bounces/"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char tmp[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	*len = b.len;
	return buf_take(&b);
}

static int
same(const char *want, const char *got)
{
	if (strcmp(want, "-") == 0)
		return got == NULL;
	return got != NULL && strcmp(want, got) == 0;
}

static void
test_fixtures(void **state)
{
	FILE *f = fopen(FIXTURES "expected.tsv", "r");
	char line[1024];
	int n = 0, bad = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *col[6], *p = line, *path, *msg;
		struct bounce b;
		size_t len = 0;
		int i, mis = 0;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (i = 0; i < 6; i++) {
			col[i] = p;
			p = p ? strchr(p, '\t') : NULL;
			if (p)
				*p++ = '\0';
		}
		assert_non_null(col[5]);
		path = xasprintf(FIXTURES "%s", col[0]);
		msg = slurp(path, &len);
		assert_non_null(msg);
		bounce_parse(msg, len, &b);
		if (strcmp(col[1], bounce_kind_name(b.kind)) != 0 ||
		    !same(col[2], b.nrcpt ? b.rcpt[0].addr : NULL) ||
		    !same(col[3], b.status) ||
		    (strcmp(col[4], "-") != 0 && !same(col[4], b.reason)) ||
		    !same(col[5], b.nverp ? b.verp[0] : NULL)) {
			mis = 1;
			bad++;
			fprintf(stderr, "MISMATCH ");
		}
		if (mis || getenv("BOUNCE_VERBOSE")) {
			fprintf(stderr, "%s: got %s (%s) rcpt %s status %s "
			    "verp %s format %s diag %s\n", col[0],
			    bounce_kind_name(b.kind), b.reason ? b.reason : "-",
			    b.nrcpt ? b.rcpt[0].addr : "-",
			    b.status ? b.status : "-",
			    b.nverp ? b.verp[0] : "-", b.format,
			    b.diag ? b.diag : "-");
		}
		n++;
		bounce_free(&b);
		free(msg);
		free(path);
	}
	fclose(f);
	assert_true(n >= 30);
	assert_int_equal(bad, 0);
}

/* The classifier alone: the policy of DESIGN §1 on codes and words. */
static void
test_classify(void **state)
{
	static const struct {
		const char *status, *diag, *text;
		char hint;
		enum bounce_kind want;
	} c[] = {
		{ "5.1.1", "550 5.1.1 user unknown", NULL, 0, BOUNCE_HARD },
		{ "5.2.2", "552 5.2.2 mailbox full", NULL, 0, BOUNCE_SOFT },
		{ "5.0.0", "550 mailbox full", NULL, 0, BOUNCE_SOFT },
		{ "4.2.2", NULL, NULL, 0, BOUNCE_SOFT },
		{ "4.1.1", "450 4.1.1 user unknown (lookup failed, try later)",
		  NULL, 0, BOUNCE_SOFT },
		{ "5.7.1", "554 5.7.1 rejected as spam", NULL, 0, BOUNCE_SOFT },
		{ "5.7.1", "550 5.7.1 unknown user", NULL, 0, BOUNCE_HARD },
		{ "5.0.0", "550 user unknown", NULL, 0, BOUNCE_HARD },
		{ "5.0.0", "550 sorry", NULL, 0, BOUNCE_SOFT },
		{ NULL, "550 5.1.1 no such user", NULL, 0, BOUNCE_HARD },
		{ NULL, "smtp; 452 too many recipients", NULL, 0, BOUNCE_SOFT },
		{ "5.2.1", NULL, NULL, 0, BOUNCE_HARD },
		{ "5.1.8", "553 5.1.8 sender address domain does not exist",
		  NULL, 0, BOUNCE_SOFT },
		{ NULL, NULL, "the account has been disabled", '5', BOUNCE_HARD },
		{ NULL, NULL, "hello there", 0, BOUNCE_UNKNOWN },
		{ NULL, NULL, "will retry for 3 days", '4', BOUNCE_SOFT },
		{ "5.4.7", "delivery time expired", NULL, 0, BOUNCE_SOFT },
		/* DNS trouble that says so is not a dead domain */
		{ "5.4.4", "Host or domain name not found. Name service error "
		  "for name=x.example type=MX: Host not found, try again", NULL,
		  0, BOUNCE_SOFT },
		{ "5.2.1", "550 5.2.1 The user you are trying to contact is "
		  "receiving mail at a rate that prevents additional messages "
		  "from being delivered", NULL, 0, BOUNCE_SOFT },
		{ "5.7.1", "550 5.7.1 Email quota exceeded", NULL, 0, BOUNCE_SOFT },
		{ "5.1.1", "550 5.1.1 User unknown; check the address and try "
		  "again", NULL, 0, BOUNCE_HARD },
		{ "5.1.10", "556 5.1.10 Recipient address has null MX", NULL, 0,
		  BOUNCE_HARD },
		{ NULL, "554 delivery error: dd Requested mailbox is not "
		  "available", NULL, 0, BOUNCE_HARD },
		{ "5.1.1", "550 5.1.1 <a@icloud.example>: inactive email "
		  "address", NULL, 0, BOUNCE_HARD },
		{ NULL, "550 Administrative prohibition", NULL, 0, BOUNCE_SOFT },
		{ "5.5.0", "550 5.5.0 Requested action not taken: mailbox "
		  "unavailable", NULL, 0, BOUNCE_HARD },
		{ "5.2.0", "554 5.2.0 STOREDRV.Deliver.Exception:"
		  "QuotaExceededException", NULL, 0, BOUNCE_SOFT },
		{ "5.7.1", "550 5.7.1 Unfortunately, messages from [192.0.2.1] "
		  "weren't sent. Please contact your Internet service provider "
		  "since part of their network is on our block list (S3150)",
		  NULL, 0, BOUNCE_SOFT },
		{ NULL, "Sorry, I couldn't find any host named example.invalid. "
		  "(#5.1.2)", NULL, 0, BOUNCE_HARD },
		{ NULL, "550 5.1.0 neko.example does not exist (in reply to "
		  "MAIL FROM command)", NULL, 0, BOUNCE_SOFT },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *reason;
		enum bounce_kind k = bounce_classify(c[i].status, c[i].diag,
		    c[i].text, c[i].hint, &reason);

		if (k != c[i].want)
			fprintf(stderr, "case %zu: got %s (%s)\n", i,
			    bounce_kind_name(k), reason ? reason : "-");
		assert_int_equal(k, c[i].want);
	}
}

/* Hostile input: empty, garbage, no body, NULs, a truncated MIME tree. */
static void
test_hostile(void **state)
{
	static const char *const m[] = {
		"", "\n\n", "From: a\n", "garbage without headers",
		"Content-Type: multipart/report; boundary=x\n\n--x\n",
		("Content-Type: message/delivery-status\n\nFinal-Recipient: ;\n"
		"Action: failed\nStatus: 5.\n"),	/* one string (clang) */
		"To: bounces+1-@x.example\n\n+9-0123456789abcdef@\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct bounce b;

		bounce_parse(m[i], strlen(m[i]), &b);
		bounce_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
