/*
 * Fuzz target: the Mustache compiler and renderer.  The input is a
 * template; it is rendered against a small context (strings with markup,
 * a list, nested maps, subscriber slots), through a document with holes
 * filled twice, with partials "p" (a fixed template) and "self" (the input).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mustache.h"

static const char *self_src;
static size_t self_len;

static const char *
partial(void *arg, const char *name, size_t *len, const char **filename)
{
	(void)arg;
	(void)filename;
	static const char p[] = "[{{title}}{{$b}}d{{/b}}{{.}}]";

	if (strcmp(name, "p") == 0) {
		*len = sizeof(p) - 1;
		return p;
	}
	if (strcmp(name, "self") == 0) {
		*len = self_len;
		return self_src;
	}
	return NULL;
}

static struct tmpl_value *
context(void)
{
	struct tmpl_value *root = tmpl_map(), *list = tmpl_list(), *sub = tmpl_map();

	tmpl_map_set(root, "title", tmpl_str("<b>&\"'</b>"));
	tmpl_map_set(root, "n", tmpl_num(3.5));
	tmpl_map_set(root, "yes", tmpl_bool(true));
	tmpl_map_set(root, "no", tmpl_bool(false));
	tmpl_map_set(root, "nothing", tmpl_null());
	tmpl_map_set(root, "dyn", tmpl_str("p"));
	for (int i = 0; i < 3; i++) {
		struct tmpl_value *a = tmpl_map();

		tmpl_map_set(a, "title", tmpl_str("item\n line"));
		tmpl_map_set(a, "i", tmpl_num(i));
		tmpl_list_push(list, a);
	}
	tmpl_map_set(root, "list", list);
	tmpl_map_set(sub, "name", tmpl_slot(0));
	tmpl_map_set(sub, "attributes", tmpl_slot(1));
	tmpl_map_set(root, "subscriber", sub);
	tmpl_map_set(root, "url", tmpl_slot(2));
	return root;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl_options opt = { TMPL_ESCAPE_HTML, partial, NULL, false };
	struct tmpl_value *ctx, *attrs;
	struct tmpl_value name, url;
	const struct tmpl_value *slots[3];
	struct buf out;
	struct tmpl *t;
	struct tmpl_doc *d;
	char *err = NULL;

	if (size > 1 << 16)
		return 0;
	self_src = (const char *)data;
	self_len = size;
	opt.strict = size && (data[0] & 1);
	t = tmpl_compile((const char *)data, size, "fuzz", &opt, &err);
	free(err);
	if (t == NULL)
		return 0;
	ctx = context();
	buf_init(&out, 1 << 20);
	(void)tmpl_render(t, ctx, &out);
	d = tmpl_render_doc(t, ctx);
	name = tmpl_str_ref("Ann <a>");
	url = tmpl_str_ref("https://u/?a&b");
	attrs = tmpl_map();
	tmpl_map_set(attrs, "city", tmpl_str("Oslo"));
	slots[0] = &name;
	slots[1] = attrs;
	slots[2] = &url;
	buf_reset(&out);
	(void)tmpl_doc_fill(d, slots, 3, &out);
	buf_reset(&out);
	(void)tmpl_doc_fill(d, NULL, 0, &out);
	tmpl_doc_free(d);
	tmpl_value_free(attrs);
	buf_free(&out);
	tmpl_value_free(ctx);
	tmpl_free(t);
	return 0;
}
