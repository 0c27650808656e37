/*
 * token: HMAC-SHA256 link tokens and VERP addresses.
 *
 * Link token:  "<subscriber id>.<mac>", mac = the first 18 bytes of
 *              HMAC-SHA256(key, canonical(id, newsletter, action)) in
 *              URL-safe base64 without padding (24 characters).
 * VERP:        "local+<delivery id>-<vmac>@domain", vmac = the first 8 bytes
 *              of HMAC-SHA256(key, canonical(id, "", "verp")) in lowercase
 *              hex, so a mail system that lowercases local parts keeps it.
 *
 * canonical() is "herald1" NUL, the id as 8 big-endian bytes, then each
 * string as a 4-byte big-endian length and its bytes: no two different
 * triples have the same encoding.
 */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "buf.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"

#define KEY_MIN		32
#define KEY_MAX		1024
#define MAC_BYTES	18	/* link tokens: 144 bits */
#define VMAC_BYTES	8	/* VERP: 64 bits */

struct token_key {
	unsigned char	key[KEY_MAX];
	size_t		len;
};

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ------------------------------------------------------------------ */
/* key file */

static int
key_create(const char *path, char **err)
{
	unsigned char k[KEY_MIN];
	int rc = -1;

	if (gnutls_rnd(GNUTLS_RND_KEY, k, sizeof(k)) != 0) {
		*err = xasprintf("%s: cannot get random bytes", path);
		goto out;
	}
	/* never replace a key another process created meanwhile (its tokens
	 * are already out there): that one is read instead */
	if (file_write_atomic(path, k, sizeof(k), 0600, FILE_NOREPLACE) == -1) {
		if (errno != EEXIST) {
			*err = xasprintf("%s: cannot create: %s", path,
			    strerror(errno));
			goto out;
		}
	} else
		log_info("token: created a new secret in %s", path);
	rc = 0;
out:
	explicit_bzero(k, sizeof(k));
	return rc;
}

struct token_key *
token_key_load(const char *path, char **err)
{
	struct token_key *k = NULL;
	struct stat st;
	int fd;
	size_t len = 0;

	*err = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (key_create(path, err) == -1)
			return NULL;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd == -1) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*err = xasprintf("%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & 077)
		log_warn("token: %s is readable by group or others "
		    "(chmod 600 it)", path);
	k = xcalloc(1, sizeof(*k));
	while (len < sizeof(k->key)) {
		ssize_t r = read(fd, k->key + len, sizeof(k->key) - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = xasprintf("%s: read: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len < KEY_MIN) {
		*err = xasprintf("%s: secret is %zu bytes, at least %d needed "
		    "(delete it to have a new one made)", path, len, KEY_MIN);
		goto fail;
	}
	k->len = len;
	close(fd);
	return k;
fail:
	close(fd);
	token_key_free(k);
	return NULL;
}

void
token_key_free(struct token_key *k)
{
	if (k == NULL)
		return;
	explicit_bzero(k, sizeof(*k));
	free(k);
}

/* ------------------------------------------------------------------ */
/* MACs */

static void
put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };

	buf_add(b, x, 4);
}

static void
mac(const struct token_key *k, int64_t id, const char *newsletter,
    const char *action, unsigned char out[32])
{
	struct buf b = BUF_INIT;
	uint64_t u = (uint64_t)id;
	unsigned char be[8];
	int i;

	if (newsletter == NULL)
		newsletter = "";
	if (action == NULL)
		action = "";
	buf_add(&b, "herald1", 8);		/* with its NUL */
	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(u >> (56 - 8 * i));
	buf_add(&b, be, 8);
	put_u32(&b, (uint32_t)strlen(newsletter));
	buf_adds(&b, newsletter);
	put_u32(&b, (uint32_t)strlen(action));
	buf_adds(&b, action);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, k->key, k->len, b.data, b.len,
	    out) != 0)
		fatal("token: HMAC-SHA256 failed");
	buf_free(&b);
}

/* URL-safe base64 without padding of n bytes (n a multiple of 3). */
static void
b64url_encode(char *dst, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*dst++ = b64url[s[i] >> 2];
		*dst++ = b64url[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		*dst++ = b64url[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		*dst++ = b64url[s[i + 2] & 63];
	}
	*dst = '\0';
}

char *
token_make(const struct token_key *k, int64_t id, const char *newsletter,
    const char *action)
{
	unsigned char m[32];
	char enc[MAC_BYTES / 3 * 4 + 1];

	mac(k, id, newsletter, action, m);
	b64url_encode(enc, m, MAC_BYTES);
	return xasprintf("%" PRId64 ".%s", id, enc);
}

/* Parses a decimal int64 at s up to stop; -1 when not exactly that. */
static int
parse_id(const char *s, const char *stop, int64_t *id)
{
	char buf[24], *end;
	size_t n = (size_t)(stop - s);
	long long v;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end != '\0')
		return -1;
	/* canonical form only: no leading zeros, no "-0" */
	{
		char again[24];

		snprintf(again, sizeof(again), "%lld", v);
		if (strcmp(again, buf) != 0)
			return -1;
	}
	*id = (int64_t)v;
	return 0;
}

int
token_subscriber(const char *token, int64_t *id)
{
	const char *dot;

	if (token == NULL || (dot = strchr(token, '.')) == NULL)
		return -1;
	return parse_id(token, dot, id);
}

bool
token_check(const struct token_key *k, const char *token, int64_t id,
    const char *newsletter, const char *action)
{
	unsigned char m[32];
	char enc[MAC_BYTES / 3 * 4 + 1];
	const char *dot;
	int64_t tid;

	if (token == NULL || (dot = strchr(token, '.')) == NULL ||
	    parse_id(token, dot, &tid) == -1 || tid != id ||
	    strlen(dot + 1) != sizeof(enc) - 1)
		return false;
	mac(k, id, newsletter, action, m);
	b64url_encode(enc, m, MAC_BYTES);
	return gnutls_memcmp(enc, dot + 1, sizeof(enc) - 1) == 0;
}

static void
vmac(const struct token_key *k, int64_t id, char out[VMAC_BYTES * 2 + 1])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char m[32];
	int i;

	mac(k, id, "", "verp", m);
	for (i = 0; i < VMAC_BYTES; i++) {
		out[2 * i] = hx[m[i] >> 4];
		out[2 * i + 1] = hx[m[i] & 15];
	}
	out[2 * VMAC_BYTES] = '\0';
}

char *
token_verp(const struct token_key *k, const char *bounce, int64_t id)
{
	const char *at = bounce ? strrchr(bounce, '@') : NULL;
	char v[VMAC_BYTES * 2 + 1];

	if (at == NULL || at == bounce)
		return NULL;
	vmac(k, id, v);
	return xasprintf("%.*s+%" PRId64 "-%s%s", (int)(at - bounce), bounce,
	    id, v, at);
}

int
token_verp_parse(const struct token_key *k, const char *addr,
    int64_t *delivery_id)
{
	const char *at, *plus, *dash, *p;
	char v[VMAC_BYTES * 2 + 1], got[VMAC_BYTES * 2 + 1];
	int64_t id;
	size_t i;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return -1;
	plus = NULL;
	for (p = addr; p < at; p++)
		if (*p == '+')
			plus = p;
	if (plus == NULL)
		return -1;
	dash = NULL;
	for (p = at - 1; p > plus; p--)
		if (*p == '-') {
			dash = p;
			break;
		}
	if (dash == NULL || (size_t)(at - dash - 1) != sizeof(v) - 1 ||
	    parse_id(plus + 1, dash, &id) == -1)
		return -1;
	for (i = 0; i < sizeof(v) - 1; i++) {
		char c = dash[1 + i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		got[i] = c;
	}
	got[sizeof(v) - 1] = '\0';
	vmac(k, id, v);
	if (gnutls_memcmp(v, got, sizeof(v) - 1) != 0)
		return -1;
	*delivery_id = id;
	return 0;
}
