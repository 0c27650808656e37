/*
 * config: loads herald.yml (DESIGN §4) with libyaml's document API, which
 * keeps the position of every node, and validates every key.
 *
 * Each mapping is checked against its section's table of keys first
 * (unknown keys get the closest known one suggested, duplicates are
 * refused, an inline password is refused without echoing it); then each
 * known key is converted and checked.  Problems are collected, not
 * returned at the first one, and sorted into file order at the end.
 * The pieces: config_yaml.h.
 */
#include "config_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "email.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

struct config *
config_load_mem(const char *name, const char *dir, const char *data,
    size_t len, struct diags *d)
{
	yaml_parser_t parser;
	yaml_document_t doc, doc2;
	yaml_node_t *root;
	struct config *cfg = NULL;
	struct ctx c = { 0 };
	size_t nerr0 = d->nerrors;
	char *hint;

	c.file = name;
	c.d = d;
	c.first = d->n;
	if (len > CONFIG_MAX_SIZE) {
		diags_add(d, name, 0, 0, false, "the file is larger than "
		    "1 MiB; is this really a herald configuration?");
		return NULL;
	}
	{
		size_t line, col;

		if (cfg_flow_depth_check(data, len, &line, &col) == -1) {
			diags_add(d, name, (int)line, (int)col, false, "nested "
			    "more than %d levels deep; a herald configuration "
			    "needs a few (remove the extra [ and {)",
			    CONFIG_MAX_DEPTH);
			return NULL;
		}
	}
	if (!yaml_parser_initialize(&parser))
		fatal("yaml: out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)data,
	    len);
	if (!yaml_parser_load(&parser, &doc)) {
		size_t at = parser.problem_mark.index;

		if (parser.error == YAML_READER_ERROR)
			cfg_reader_error(d, name, data, len, &parser);
		else if (at < len && data[at] == '\t')
			diags_add(d, name, (int)parser.problem_mark.line + 1,
			    (int)parser.problem_mark.column + 1, false,
			    "a tab character: YAML indents with spaces only "
			    "(replace the tab with spaces)");
		else if ((hint = cfg_indent_hint(data, len,
		    parser.problem_mark.line + 1)) != NULL) {
			size_t col = 0, k = 0, ln = 0;

			/* the misaligned key's column on that line */
			while (k < len && ln < parser.problem_mark.line)
				if (data[k++] == '\n')
					ln++;
			while (k + col < len && data[k + col] == ' ')
				col++;
			diags_add(d, name, (int)parser.problem_mark.line + 1,
			    (int)col + 1, false, "indentation: %s", hint);
			free(hint);
		} else
			diags_add(d, name, (int)parser.problem_mark.line + 1,
			    (int)parser.problem_mark.column + 1, false,
			    "YAML syntax error: %s%s%s", parser.problem ?
			    parser.problem : "cannot parse",
			    parser.context ? " " : "",
			    parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		diags_add(d, name, 0, 0, false, "the file is empty (expected "
		    "a mapping with database:, smtp:, newsletters: ...; "
		    "`herald init` writes a starter)");
		goto out;
	}
	{
		yaml_node_t *deep = cfg_tree_depth_check(&doc);

		if (deep) {
			diags_add(d, name, (int)deep->start_mark.line + 1,
			    (int)deep->start_mark.column + 1, false, "nested "
			    "more than %d levels deep; a herald configuration "
			    "needs a few", CONFIG_MAX_DEPTH);
			goto out;
		}
	}
	if (yaml_parser_load(&parser, &doc2)) {
		yaml_node_t *r2 = yaml_document_get_root_node(&doc2);

		if (r2)
			diags_add(d, name, (int)r2->start_mark.line + 1,
			    (int)r2->start_mark.column + 1, false,
			    "only one YAML document is allowed (remove the "
			    "second '---')");
		yaml_document_delete(&doc2);
	}
	{
		char *adir = cfg_absolute_dir(dir);	/* NULL or relative: from cwd */

		cfg = cfg_new(adir);
		free(adir);
	}
	c.dir = cfg->dir;
	c.doc = &doc;
	c.nnodes = (size_t)(doc.nodes.top - doc.nodes.start);
	c.visited = xcalloc(c.nnodes ? c.nnodes : 1, 1);
	cfg_load_root(&c, cfg, root);
	free(c.visited);
	if (cfg->database == NULL)
		cfg->database = cfg_resolve_path(cfg->dir, "herald.db");
	if (cfg->secret_file == NULL)
		cfg->secret_file = cfg_resolve_path(cfg->dir, "secret");
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	cfg_diags_sort(d, c.first);
	if (d->nerrors > nerr0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct config *
config_load(const char *path, struct diags *d)
{
	struct config *cfg = NULL;
	struct buf b = BUF_INIT;
	char *abs = NULL, *dir = NULL, *slash;
	struct stat sb;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		diags_add(d, path, 0, 0, false, "cannot open: %s",
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		diags_add(d, path, 0, 0, false, "not a regular file");
		goto out;
	}
	buf_init(&b, CONFIG_MAX_SIZE + 1);
	switch (buf_read_fd(&b, fd)) {
	case -1:
		diags_add(d, path, 0, 0, false, "cannot read: %s",
		    strerror(errno));
		goto out;
	case -2:
		diags_add(d, path, 0, 0, false, "the file is larger than 1 MiB; "
		    "is this really a herald configuration?");
		goto out;
	}
	if (path[0] == '/')
		abs = xstrdup(path);
	else {
		char *cwd = cfg_absolute_dir(".");

		abs = xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd,
		    path[0] == '.' && path[1] == '/' ? path + 2 : path);
		free(cwd);
	}
	dir = xstrdup(abs);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	cfg = config_load_mem(path, dir, b.data ? b.data : "", b.len, d);
	if (cfg) {
		cfg->path = abs;
		abs = NULL;
	}
out:
	close(fd);
	buf_free(&b);
	free(abs);
	free(dir);
	return cfg;
}

const char *
config_default_path(const char *explicit_path)
{
	const char *env;

	/* -c "" (an unset variable in a script) must not mean "any file" */
	if (explicit_path)
		return explicit_path;
	env = getenv("HERALD_CONFIG");
	if (env && *env)
		return env;
	if (access("herald.yml", F_OK) == 0)
		return "herald.yml";
	return "/etc/herald/herald.yml";
}

const struct newsletter_conf *
config_newsletter(const struct config *cfg, const char *id, const char **why)
{
	size_t i;

	*why = NULL;
	if (cfg == NULL || cfg->nnewsletters == 0) {
		*why = "no newsletter is configured";
		return NULL;
	}
	if (id == NULL) {
		if (cfg->nnewsletters == 1)
			return &cfg->newsletters[0];
		*why = "several newsletters are configured; choose one with "
		    "-n ID (`herald config check` lists them)";
		return NULL;
	}
	for (i = 0; i < cfg->nnewsletters; i++)
		if (strcmp(cfg->newsletters[i].id, id) == 0)
			return &cfg->newsletters[i];
	*why = "no newsletter has this id (`herald config check` lists them)";
	return NULL;
}

char *
config_secret(const char *env_name, const char *file, char **why)
{
	struct buf b = BUF_INIT;
	const char *v;
	int fd, rc;

	*why = NULL;
	if (env_name) {
		v = getenv(env_name);
		if (v == NULL || *v == '\0') {
			*why = xasprintf("the environment variable %s is not "
			    "set", env_name);
			return NULL;
		}
		return xstrdup(v);
	}
	if (file == NULL)
		return NULL;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		*why = xasprintf("%s: %s", file, strerror(errno));
		return NULL;
	}
	buf_init(&b, 64 * 1024);
	rc = buf_read_fd(&b, fd);
	if (rc == -1)
		*why = xasprintf("%s: %s", file, strerror(errno));
	close(fd);
	if (rc != 0) {
		if (rc == -2)
			*why = xasprintf("%s: larger than 64 KiB", file);
		if (b.data)
			explicit_bzero(b.data, b.cap);
		buf_free(&b);
		return NULL;
	}
	while (b.len > 0 && (b.data[b.len - 1] == '\n' ||
	    b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	if (b.len == 0 || memchr(b.data, '\0', b.len) != NULL) {
		*why = xasprintf("%s: %s", file, b.len ? "holds a NUL byte" :
		    "is empty");
		if (b.data)
			explicit_bzero(b.data, b.cap);
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}
