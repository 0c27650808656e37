/*
 * mailbox: URLs it refuses, and a maildir: the list (new/ and cur/, dot
 * files skipped, oldest first), reading a message, moving processed ones
 * to .Processed/cur (Maildir++, made when missing), names that would leave
 * the maildir, and a message a mail client moved from new/ to cur/ between
 * the list and the read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mailbox.h"
#include "xmalloc.h"

static char *
tmpdir(void)
{
	const char *base = getenv("HERALD_TEST_TMP");
	char *d;

	if (base == NULL)
		base = "/tmp";
	mkdir(base, 0700);
	d = xasprintf("%s/mailbox-XXXXXX", base);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static int
exists(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	int yes = access(p, F_OK) == 0;

	free(p);
	return yes;
}

static void
test_urls(void **state)
{
	static const char *const bad[] = {
		"ftp://u@host/", "imap://host/INBOX", "imap://@host",
		"pop3://u@host:99999", "imaps://u@:993", "maildir:",
		"maildir:/nonexistent/herald-test",
	};
	struct mailbox *mb;
	char *err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mailbox_open(bad[i], "pw", 5, &mb, &err), -1);
		assert_null(mb);
		assert_non_null(err);
		free(err);
	}
	/* no password: refused before connecting */
	assert_int_equal(mailbox_open("imap://bounces@example.org@127.0.0.1:1/INBOX",
	    NULL, 5, &mb, &err), -1);
	assert_non_null(strstr(err, "no password"));
	assert_non_null(strstr(err, "bounces@example.org@127.0.0.1"));
	free(err);
}

static void
test_maildir(void **state)
{
	char *d = tmpdir(), *cur, *nw, *url, *err = NULL, **ids, *data;
	struct mailbox *mb;
	size_t n, len;

	(void)state;
	cur = xasprintf("%s/cur", d);
	nw = xasprintf("%s/new", d);
	assert_int_equal(mkdir(cur, 0700), 0);
	assert_int_equal(mkdir(nw, 0700), 0);
	put(nw, "1700000002.M1.x", "Subject: two\n\nbody two\n");
	put(nw, "1700000003.M1.x", "Subject: three\n\n");
	put(cur, "1700000001.M1.x:2,S", "Subject: one\n\n");
	put(nw, ".hidden", "x");
	url = xasprintf("maildir:%s", d);
	assert_int_equal(mailbox_open(url, NULL, 5, &mb, &err), 0);
	assert_string_equal(mailbox_kind(mb), "maildir");
	assert_int_equal(mailbox_list(mb, &ids, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], "cur/1700000001.M1.x:2,S");
	assert_string_equal(ids[1], "new/1700000002.M1.x");
	assert_string_equal(ids[2], "new/1700000003.M1.x");

	assert_int_equal(mailbox_fetch(mb, ids[1], &data, &len, &err), 0);
	assert_int_equal(len, strlen("Subject: two\n\nbody two\n"));
	assert_memory_equal(data, "Subject: two\n", 13);
	free(data);

	/* processed: into .Processed/cur, seen; the others stay */
	assert_int_equal(mailbox_done(mb, ids[1], &err), 0);
	assert_true(exists(d, ".Processed/cur/1700000002.M1.x:2,S"));
	assert_true(exists(d, ".Processed/maildirfolder"));
	assert_false(exists(d, "new/1700000002.M1.x"));
	assert_int_equal(mailbox_done(mb, ids[0], &err), 0);
	assert_true(exists(d, ".Processed/cur/1700000001.M1.x:2,S"));
	assert_true(exists(d, "new/1700000003.M1.x"));

	/* a client moved it to cur/ after the list: still found */
	{
		char *a = xasprintf("%s/new/1700000003.M1.x", d);
		char *b = xasprintf("%s/cur/1700000003.M1.x:2,", d);

		assert_int_equal(rename(a, b), 0);
		free(a);
		free(b);
	}
	assert_int_equal(mailbox_fetch(mb, ids[2], &data, &len, &err), 0);
	free(data);
	assert_int_equal(mailbox_done(mb, ids[2], &err), 0);
	assert_true(exists(d, ".Processed/cur/1700000003.M1.x:2,"));
	/* and gone: an error, nothing else touched */
	assert_int_equal(mailbox_fetch(mb, ids[2], &data, &len, &err), -1);
	assert_non_null(strstr(err, "gone"));
	free(err);

	/* names that would leave the maildir */
	assert_int_equal(mailbox_fetch(mb, "new/../../etc/passwd", &data, &len,
	    &err), -1);
	free(err);
	assert_int_equal(mailbox_done(mb, "../x", &err), -1);
	free(err);
	assert_int_equal(mailbox_fetch(mb, "tmp/x", &data, &len, &err), -1);
	free(err);

	mailbox_ids_free(ids, n);
	assert_int_equal(mailbox_close(mb, &err), 0);
	free(url);
	free(cur);
	free(nw);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_maildir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
