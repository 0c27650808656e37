/*
 * Fuzzes mime_build() with hostile header data: the input is split at NUL
 * bytes into subject, from name, to name, list title, feedback id, to
 * address, text, html.  Whatever the data, the message must have exactly
 * the expected header fields (parsed back with libetpan), CRLF line ends
 * only, and no line over 998 octets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "mime.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NF 8

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[NF] = { 0 };
	size_t flen[NF] = { 0 }, i, start = 0, k = 0, col = 0, idx = 0;
	struct mime_params p;
	struct buf out = BUF_INIT;
	struct mailimf_fields *fields = NULL;
	char *err = NULL, *title;
	int nfields = 0;
	clistiter *it;

	for (i = 0; i <= size && k < NF; i++)
		if (i == size || data[i] == 0) {
			f[k] = xstrndup((const char *)data + start, i - start);
			flen[k] = i - start;
			k++;
			start = i + 1;
		}
	for (; k < NF; k++)
		f[k] = xstrdup("");
	memset(&p, 0, sizeof(p));
	p.subject = f[0];
	p.from_name = f[1];
	p.from_addr = "news@rangeinn.example";
	p.to_name = f[2];
	p.to_addr = *f[5] ? f[5] : "ada@example.org";
	title = xasprintf("%s <daily.rangeinn.example>", f[3]);
	p.list_id = title;
	p.feedback_id = f[4];
	p.list_unsubscribe_mailto = "mailto:u@rangeinn.example";
	p.list_unsubscribe_https = "https://rangeinn.example/u/1.x";
	p.date = 1795503600;
	p.text = f[6];
	p.text_len = flen[6];
	p.html = f[7];
	p.html_len = flen[7];

	if (mime_build(&p, &out, &err) == -1) {
		/* only a bad To address may be refused */
		if (*f[5] == '\0')
			abort();
		free(err);
		goto done;
	}
	for (i = 0; i < out.len; i++) {
		if (out.data[i] == '\n' && (i == 0 || out.data[i - 1] != '\r'))
			abort();
		if (out.data[i] == '\r' && out.data[i + 1] != '\n')
			abort();
		if (out.data[i] == '\0')
			abort();
		if (out.data[i] == '\n')
			col = 0;
		else if (++col > 998)
			abort();
	}
	if (mailimf_fields_parse(out.data, out.len, &idx, &fields) !=
	    MAILIMF_NO_ERROR)
		abort();
	for (it = clist_begin(fields->fld_list); it; it = clist_next(it))
		nfields++;
	/* From To Subject Date Message-ID List-Id List-Unsubscribe
	 * List-Unsubscribe-Post [Feedback-ID] MIME-Version Content-Type */
	if (nfields != 10 && nfields != 11)
		abort();
	mailimf_fields_free(fields);
	/* the header block ends where libetpan's parser stopped */
	if (idx + 2 > out.len || memcmp(out.data + idx, "\r\n", 2) != 0)
		abort();
done:
	buf_free(&out);
	free(title);
	for (k = 0; k < NF; k++)
		free(f[k]);
	return 0;
}
