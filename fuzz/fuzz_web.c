/*
 * Fuzzes the web endpoint's request handling without a server
 * (daemon/web/web_http.c): routing, percent decoding, urlencoded and
 * multipart form fields, and the client address behind a proxy.
 *
 * Input: "METHOD PATH\nCONTENT-TYPE\nBODY" (any of them may be missing or
 * hold anything).  Invariants: a route's token and id fit their bounds; a
 * decoded value is never longer than its input; a field found in a body is
 * no longer than the body; nothing reads past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "web_http.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line1, *line2, *sp, addr[64];
	const char *body, *p = (const char *)data, *end = p + size, *nl;
	size_t blen;
	struct web_route rt;
	struct buf out;
	int rc;

	if (size > 65536)
		return 0;
	/* the body, as bytes (no terminator), from a copy of its own */
	nl = memchr(p, '\n', size);
	line1 = xstrndup(p, nl ? (size_t)(nl - p) : size);
	line2 = xstrdup("");
	body = end;
	if (nl) {
		const char *nl2 = memchr(nl + 1, '\n', (size_t)(end - nl - 1));

		free(line2);
		line2 = xstrndup(nl + 1, nl2 ? (size_t)(nl2 - nl - 1) :
		    (size_t)(end - nl - 1));
		body = nl2 ? nl2 + 1 : end;
	}
	blen = (size_t)(end - body);

	/* routing: "METHOD PATH" */
	sp = strchr(line1, ' ');
	if (sp) {
		*sp = '\0';
		web_route(line1, sp + 1, "/news", &rt);
		if (strlen(rt.token) > WEB_TOKEN_MAX ||
		    strlen(rt.newsletter) > WEB_ID_MAX)
			abort();
		web_route(line1, sp + 1, "", &rt);
		*sp = ' ';
	}

	/* decoding the whole input */
	buf_init(&out, 0);
	if (web_url_decode(p, size, true, &out) == 0 && out.len > size)
		abort();
	buf_reset(&out);
	if (web_url_decode(p, size, false, &out) == 0 && out.len > size)
		abort();

	/* form fields: the body under the given content type */
	{
		char *b = xmalloc(blen ? blen : 1);	/* exact size: ASan */

		memcpy(b, body, blen);
		rc = web_post_field(line2, b, blen, "List-Unsubscribe", &out);
		if (rc == 1 && out.len > blen)
			abort();
		rc = web_form_field(b, blen, "email", &out);
		if (rc == 1 && out.len > blen)
			abort();
		rc = web_post_field("multipart/form-data; boundary=xyz", b,
		    blen, "email", &out);
		if (rc == 1 && out.len > blen)
			abort();
		free(b);
	}
	{
		char boundary[71];

		if (web_multipart_boundary(line2, boundary) == 0 &&
		    (strlen(boundary) == 0 || strlen(boundary) > 70))
			abort();
	}

	/* the client address: peer then X-Forwarded-For */
	web_client_address(line1, line2, addr, sizeof(addr));
	if (strlen(addr) >= sizeof(addr))
		abort();
	web_client_address("127.0.0.1", line2, addr, sizeof(addr));

	buf_free(&out);
	free(line1);
	free(line2);
	return 0;
}
