#include "sub_list.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sub_csv.h"
#include "util.h"
#include "xmalloc.h"

#define LIST_FLUSH	65536

struct lister {
	enum sub_list_format	 fmt;
	bool			 export;
	FILE			*out;
	struct buf		 b;
	char			**keys;		/* export: attribute columns */
	size_t			 nkeys;
	int			 wemail, wname;	/* table widths */
	long			 n;
};

/* A table cell: control characters shown as spaces, padded to w. */
static void
cell(struct buf *b, const char *s, int w)
{
	int n = 0;

	for (; s && *s; s++) {
		buf_addc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	for (; n < w; n++)
		buf_addc(b, ' ');
	buf_addc(b, ' ');
	buf_addc(b, ' ');
}

static const char *
attr(const struct sub_row *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nattrs; i++)
		if (strcmp(r->keys[i], key) == 0)
			return r->values[i];
	return NULL;
}

static int
one(const struct sub_row *r, void *arg)
{
	struct lister *l = arg;
	char ts[21];
	size_t i;

	time_rfc3339(r->created, ts);
	switch (l->fmt) {
	case SUB_LIST_TABLE:
		cell(&l->b, r->email, l->wemail);
		cell(&l->b, r->name, l->wname);
		cell(&l->b, store_subs_status_name(r->status), 12);
		ts[10] = '\0';
		buf_adds(&l->b, ts);
		buf_addc(&l->b, '\n');
		break;
	case SUB_LIST_CSV:
		csv_cell(&l->b, r->email);
		buf_addc(&l->b, ',');
		csv_cell(&l->b, r->name);
		buf_printf(&l->b, ",%s,%s", store_subs_status_name(r->status),
		    ts);
		for (i = 0; i < l->nkeys; i++) {
			buf_addc(&l->b, ',');
			csv_cell(&l->b, attr(r, l->keys[i]));
		}
		buf_addc(&l->b, '\n');
		break;
	case SUB_LIST_JSON:
		buf_adds(&l->b, l->n ? ",\n{\"email\":" : "\n{\"email\":");
		json_str(&l->b, r->email);
		buf_adds(&l->b, ",\"name\":");
		json_str(&l->b, r->name);
		buf_printf(&l->b, ",\"status\":\"%s\",\"created\":\"%s\","
		    "\"attributes\":{", store_subs_status_name(r->status), ts);
		for (i = 0; i < r->nattrs; i++) {
			if (i)
				buf_addc(&l->b, ',');
			json_str(&l->b, r->keys[i]);
			buf_addc(&l->b, ':');
			json_str(&l->b, r->values[i]);
		}
		buf_adds(&l->b, "}}");
		break;
	}
	l->n++;
	if (l->b.len >= LIST_FLUSH) {
		fwrite(l->b.data, 1, l->b.len, l->out);
		buf_reset(&l->b);
	}
	return 0;
}

enum store_rc
sub_list(struct store *st, const char *nl, const enum sub_status *filter,
    enum sub_list_format fmt, bool export, FILE *out)
{
	struct lister l;
	enum store_rc rc = STORE_OK;
	size_t i;
	int cbrc;

	memset(&l, 0, sizeof(l));
	l.fmt = fmt;
	l.export = export;
	l.out = out;
	buf_init(&l.b, 0);
	switch (fmt) {
	case SUB_LIST_TABLE:
		rc = store_subs_widths(st, nl, filter, &l.wemail, &l.wname);
		if (rc != STORE_OK)
			goto out;
		if (l.wemail < 5)
			l.wemail = 5;
		if (l.wname < 4)
			l.wname = 4;
		cell(&l.b, "EMAIL", l.wemail);
		cell(&l.b, "NAME", l.wname);
		cell(&l.b, "STATUS", 12);
		buf_adds(&l.b, "SUBSCRIBED\n");
		break;
	case SUB_LIST_CSV:
		buf_adds(&l.b, "email,name,status,created");
		if (export) {
			rc = store_subs_attr_keys(st, nl, filter, &l.keys,
			    &l.nkeys);
			if (rc != STORE_OK)
				goto out;
			for (i = 0; i < l.nkeys; i++) {
				buf_addc(&l.b, ',');
				csv_cell(&l.b, l.keys[i]);
			}
		}
		buf_addc(&l.b, '\n');
		break;
	case SUB_LIST_JSON:
		buf_addc(&l.b, '[');
		break;
	}
	rc = store_subs_each(st, nl, filter, one, &l, &cbrc);
	if (rc != STORE_OK)
		goto out;
	if (fmt == SUB_LIST_JSON)
		buf_adds(&l.b, l.n ? "\n]\n" : "]\n");
	if (fmt == SUB_LIST_TABLE)
		buf_printf(&l.b, "(%ld subscription%s)\n", l.n,
		    l.n == 1 ? "" : "s");
	fwrite(l.b.data, 1, l.b.len, out);
out:
	for (i = 0; i < l.nkeys; i++)
		free(l.keys[i]);
	free(l.keys);
	buf_free(&l.b);
	return rc;
}
