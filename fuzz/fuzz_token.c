/*
 * Fuzzes the link token and VERP checkers (subscribers/token.c) with a
 * fixed key: no input is accepted unless it is exactly what token_make()
 * (or token_verp()) gives for the id it names; a token made for an id
 * taken from the input is accepted, and changing any one of its characters
 * makes it invalid.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "token.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct token_key *
key(void)
{
	static struct token_key *k;
	char path[] = "/tmp/herald-fuzz-token-XXXXXX", *err = NULL;
	int fd;

	if (k)
		return k;
	if ((fd = mkstemp(path)) == -1)
		abort();
	if (write(fd, "0123456789abcdef0123456789abcdef", 32) != 32)
		abort();
	close(fd);
	k = token_key_load(path, &err);
	unlink(path);
	if (k == NULL)
		abort();
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const actions[] = { "unsubscribe", "confirm",
	    "preferences" };
	struct token_key *k = key();
	char *s, *t, *v;
	int64_t id, did;
	size_t i, j, n;

	if (size > 4096)
		return 0;
	s = xstrndup((const char *)data, size);

	/* an arbitrary string is valid only as the token of its own id */
	if (token_subscriber(s, &id) == 0) {
		for (i = 0; i < 3; i++) {
			if (!token_check(k, s, id, "daily", actions[i]))
				continue;
			t = token_make(k, id, "daily", actions[i]);
			if (strcmp(t, s) != 0)
				abort();
			free(t);
		}
	}
	if (token_verp_parse(k, s, &did) == 0) {
		/* the same local part, minted again, parses to the same id */
		v = token_verp(k, "bounces@example.org", did);
		if (v == NULL || token_verp_parse(k, v, &id) != 0 || id != did)
			abort();
		free(v);
	}

	/* a real token for an id from the input: valid, and no longer
	 * valid with any one character changed or cut */
	id = 0;
	for (i = 0; i < size && i < 8; i++)
		id = id << 8 | data[i];
	if (id < 0)
		id = -id;
	t = token_make(k, id, "daily", "unsubscribe");
	if (!token_check(k, t, id, "daily", "unsubscribe") ||
	    token_check(k, t, id, "daily", "confirm") ||
	    token_check(k, t, id, "weekly", "unsubscribe"))
		abort();
	n = strlen(t);
	for (j = 0; j < n; j++) {
		char c = t[j];

		t[j] = (char)(size ? data[j % size] : 'x');
		if (t[j] != c && t[j] != '\0' &&
		    token_check(k, t, id, "daily", "unsubscribe"))
			abort();
		t[j] = c;
	}
	t[n - 1] = '\0';
	if (token_check(k, t, id, "daily", "unsubscribe"))
		abort();
	free(t);
	free(s);
	return 0;
}
