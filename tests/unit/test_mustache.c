/*
 * The official Mustache spec (every .yml file of ../shared/spec/mustache,
 * read with libyaml): every case of every file runs as its own cmocka test, reported
 * by name.  Lambdas are not in the folder; the optional inheritance and
 * dynamic-names modules are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <yaml.h>

#include "buf.h"
#include "mustache.h"
#include "xmalloc.h"

struct spec_case {
	char			*group;
	char			*name;
	char			*template;
	char			*expected;
	struct tmpl_value	*data;
	char			**pnames, **psrcs;
	size_t			 npartials;
};

static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static char *
scalar(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return xstrndup((char *)n->data.scalar.value, n->data.scalar.length);
}

static bool
is_number(const char *s)
{
	char *end;

	if (*s == '\0')
		return false;
	(void)strtod(s, &end);
	return *end == '\0';
}

static struct tmpl_value *
to_value(yaml_document_t *doc, yaml_node_t *n, int depth)
{
	struct tmpl_value *v;

	if (n == NULL || depth > 50)
		return tmpl_null();
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)n->data.scalar.value;

		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			if (strcmp(s, "true") == 0)
				return tmpl_bool(true);
			if (strcmp(s, "false") == 0)
				return tmpl_bool(false);
			if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || *s == '\0')
				return tmpl_null();
			if (is_number(s))
				return tmpl_num(strtod(s, NULL));
		}
		return tmpl_strn(s, n->data.scalar.length);
	}
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it;

		v = tmpl_list();
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
			tmpl_list_push(v, to_value(doc, yaml_document_get_node(doc, *it),
			    depth + 1));
		return v;
	}
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *p;

		v = tmpl_map();
		for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			char *k = scalar(yaml_document_get_node(doc, p->key));

			if (k == NULL)
				continue;
			tmpl_map_set(v, k, to_value(doc,
			    yaml_document_get_node(doc, p->value), depth + 1));
			free(k);
		}
		return v;
	}
	default:
		return tmpl_null();
	}
}

static const char *
find_partial(void *arg, const char *name, size_t *len, const char **filename)
{
	struct spec_case *c = arg;

	(void)filename;
	for (size_t i = 0; i < c->npartials; i++) {
		if (strcmp(c->pnames[i], name) == 0) {
			*len = strlen(c->psrcs[i]);
			return c->psrcs[i];
		}
	}
	return NULL;
}

static void
run_case(void **state)
{
	struct spec_case *c = *state;
	struct tmpl_options opt = { TMPL_ESCAPE_HTML, find_partial, c, false };
	char *err = NULL;
	struct tmpl *t = tmpl_compile(c->template, strlen(c->template), c->name,
	    &opt, &err);
	struct buf out = BUF_INIT;
	struct tmpl_doc *d;

	if (t == NULL)
		fail_msg("%s: does not compile: %s", c->name, err);
	assert_int_equal(tmpl_render(t, c->data, &out), 0);
	if (strcmp(buf_cstr(&out), c->expected) != 0)
		fail_msg("%s/%s:\n--- template\n%s\n--- expected\n%s\n--- got\n%s",
		    c->group, c->name, c->template, c->expected, buf_cstr(&out));
	/* the same through a document with no holes */
	d = tmpl_render_doc(t, c->data);
	buf_reset(&out);
	assert_int_equal(tmpl_doc_fill(d, NULL, 0, &out), 0);
	if (strcmp(buf_cstr(&out), c->expected) != 0)
		fail_msg("%s/%s through a document:\n--- expected\n%s\n--- got\n%s",
		    c->group, c->name, c->expected, buf_cstr(&out));
	tmpl_doc_free(d);
	buf_free(&out);
	tmpl_free(t);
}

static void
case_free(struct spec_case *c)
{
	free(c->group);
	free(c->name);
	free(c->template);
	free(c->expected);
	tmpl_value_free(c->data);
	for (size_t i = 0; i < c->npartials; i++) {
		free(c->pnames[i]);
		free(c->psrcs[i]);
	}
	free(c->pnames);
	free(c->psrcs);
}

/* Runs the cases of one file as a cmocka group; returns failures, adds to *ncases. */
static int
run_file(const char *path, const char *group, size_t *ncases)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *tests;
	yaml_node_item_t *it;
	struct spec_case *cases;
	struct CMUnitTest *ut;
	size_t n = 0;
	int failed;

	assert_non_null(f);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	assert_true(yaml_parser_load(&parser, &doc));
	root = yaml_document_get_root_node(&doc);
	tests = map_get(&doc, root, "tests");
	assert_non_null(tests);
	assert_int_equal(tests->type, YAML_SEQUENCE_NODE);
	cases = xcalloc((size_t)(tests->data.sequence.items.top -
	    tests->data.sequence.items.start) + 1, sizeof(*cases));
	ut = xcalloc((size_t)(tests->data.sequence.items.top -
	    tests->data.sequence.items.start) + 1, sizeof(*ut));
	for (it = tests->data.sequence.items.start; it < tests->data.sequence.items.top; it++) {
		yaml_node_t *tc = yaml_document_get_node(&doc, *it);
		yaml_node_t *parts = map_get(&doc, tc, "partials");
		struct spec_case *c = &cases[n];

		c->group = xstrdup(group);
		c->name = scalar(map_get(&doc, tc, "name"));
		c->template = scalar(map_get(&doc, tc, "template"));
		c->expected = scalar(map_get(&doc, tc, "expected"));
		c->data = to_value(&doc, map_get(&doc, tc, "data"), 0);
		if (parts && parts->type == YAML_MAPPING_NODE) {
			size_t np = (size_t)(parts->data.mapping.pairs.top -
			    parts->data.mapping.pairs.start);
			yaml_node_pair_t *p;

			c->pnames = xcalloc(np + 1, sizeof(char *));
			c->psrcs = xcalloc(np + 1, sizeof(char *));
			for (p = parts->data.mapping.pairs.start;
			    p < parts->data.mapping.pairs.top; p++) {
				c->pnames[c->npartials] = scalar(yaml_document_get_node(&doc, p->key));
				c->psrcs[c->npartials++] = scalar(yaml_document_get_node(&doc, p->value));
			}
		}
		assert_non_null(c->name);
		assert_non_null(c->template);
		assert_non_null(c->expected);
		ut[n].name = c->name;
		ut[n].test_func = run_case;
		ut[n].initial_state = c;
		n++;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	failed = _cmocka_run_group_tests(group, ut, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		case_free(&cases[i]);
	free(cases);
	free(ut);
	*ncases += n;
	return failed;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(void)
{
	const char *shared = getenv("HERALD_SHARED_DIR");
	char *dir, *names[64];
	size_t nnames = 0, ncases = 0;
	int failed = 0;
	DIR *d;
	struct dirent *e;

	if (shared == NULL) {
		fprintf(stderr, "HERALD_SHARED_DIR is not set (run through ctest)\n");
		return 1;
	}
	dir = xasprintf("%s/spec/mustache", shared);
	d = opendir(dir);
	if (d == NULL) {
		perror(dir);
		return 1;
	}
	while ((e = readdir(d)) != NULL && nnames < 64) {
		size_t l = strlen(e->d_name);

		if (l > 4 && strcmp(e->d_name + l - 4, ".yml") == 0)
			names[nnames++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, nnames, sizeof(names[0]), cmp);
	for (size_t i = 0; i < nnames; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);

		failed += run_file(path, names[i], &ncases);
		free(path);
		free(names[i]);
	}
	free(dir);
	printf("mustache spec: %zu cases, %d failed\n", ncases, failed);
	if (ncases != 184) {
		fprintf(stderr, "expected 184 spec cases, found %zu\n", ncases);
		return 1;
	}
	return failed ? 1 : 0;
}
