/*
 * mustache: compile a Mustache template into a node tree; render it into a
 * buffer, or into a document with holes for per-reader fields.
 *
 * Compiling is two passes: a tokeniser that follows set-delimiter tags and
 * splits text at line ends, then a standalone pass (a line holding only
 * whitespace and non-interpolating tags loses that whitespace and its line
 * end), then a tree builder that checks section nesting.
 *
 * Indentation (standalone partials and parents, reindented blocks of the
 * inheritance module) is applied while rendering: a render state carries
 * the indentation to add at each line start of template text and the
 * indentation to strip from it.
 */
#include "mustache.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "xmalloc.h"

#define MAX_DEPTH	100	/* nested sections, partials and blocks */
#define MAX_STEPS	(1L << 22)	/* nodes visited in one render: stops runaway
					   recursion (a digest of 1,000 articles
					   with 500 links each takes ~3.5M) */
#define MAX_DOC		(64u << 20)	/* static bytes of one document */
#define MAX_SLOTS	64

/* ---- values ---------------------------------------------------------- */

/* A NUL-terminated copy of s[0..n), which may itself hold NUL bytes. */
static char *
memdup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static struct tmpl_value *
value_new(enum tmpl_vtype type)
{
	struct tmpl_value *v = xcalloc(1, sizeof(*v));

	v->type = type;
	return v;
}

struct tmpl_value *
tmpl_null(void)
{
	return value_new(TMPL_NULL);
}

struct tmpl_value *
tmpl_bool(bool b)
{
	struct tmpl_value *v = value_new(TMPL_BOOL);

	v->b = b;
	return v;
}

struct tmpl_value *
tmpl_num(double d)
{
	struct tmpl_value *v = value_new(TMPL_NUM);

	v->num = d;
	return v;
}

struct tmpl_value *
tmpl_strn(const char *s, size_t n)
{
	struct tmpl_value *v = value_new(TMPL_STR);

	v->str = memdup(s, n);
	v->len = n;
	return v;
}

struct tmpl_value *
tmpl_str(const char *s)
{
	if (s == NULL)
		return tmpl_null();
	return tmpl_strn(s, strlen(s));
}

struct tmpl_value *
tmpl_str_take(char *s)
{
	struct tmpl_value *v;

	if (s == NULL)
		return tmpl_null();
	v = value_new(TMPL_STR);
	v->str = s;
	v->len = strlen(s);
	return v;
}

struct tmpl_value
tmpl_str_ref(const char *s)
{
	struct tmpl_value v;

	memset(&v, 0, sizeof(v));
	if (s == NULL)
		return v;
	v.type = TMPL_STR;
	v.str = s;
	v.len = strlen(s);
	v.borrowed = true;
	return v;
}

struct tmpl_value *
tmpl_list(void)
{
	return value_new(TMPL_LIST);
}

struct tmpl_value *
tmpl_map(void)
{
	return value_new(TMPL_MAP);
}

struct tmpl_value *
tmpl_slot(int id)
{
	struct tmpl_value *v = value_new(TMPL_SLOT);

	v->slot = id;
	return v;
}

static void
value_grow(struct tmpl_value *v)
{
	if (v->n < v->cap)
		return;
	v->cap = v->cap ? v->cap * 2 : 4;
	v->items = xrealloc(v->items, v->cap * sizeof(*v->items));
	if (v->type == TMPL_MAP) {
		v->keys = xrealloc(v->keys, v->cap * sizeof(*v->keys));
		v->klens = xrealloc(v->klens, v->cap * sizeof(*v->klens));
	}
}

void
tmpl_list_push(struct tmpl_value *list, struct tmpl_value *v)
{
	value_grow(list);
	list->items[list->n++] = v;
}

void
tmpl_map_set(struct tmpl_value *map, const char *key, struct tmpl_value *v)
{
	for (size_t i = 0; i < map->n; i++) {
		if (strcmp(map->keys[i], key) == 0) {
			tmpl_value_free(map->items[i]);
			map->items[i] = v;
			return;
		}
	}
	value_grow(map);
	map->klens[map->n] = strlen(key);
	map->keys[map->n] = xstrdup(key);
	map->items[map->n++] = v;
}

const struct tmpl_value *
tmpl_map_get(const struct tmpl_value *map, const char *key, size_t keylen)
{
	if (map == NULL || map->type != TMPL_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (map->keys[i][0] == key[0] && map->klens[i] == keylen &&
		    memcmp(map->keys[i], key, keylen) == 0)
			return map->items[i];
	return NULL;
}

void
tmpl_value_free(struct tmpl_value *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		tmpl_value_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->klens);
	if (!v->borrowed)
		free((char *)v->str);
	free(v);
}

/* ---- the compiled form ----------------------------------------------- */

enum nkind {
	N_TEXT,
	N_VAR,
	N_SECTION,
	N_INVERTED,
	N_PARTIAL,
	N_PARENT,
	N_BLOCK,
};

struct name {
	char		*full;		/* as written (trimmed) */
	char		**parts;	/* dotted parts; n == 0 means "." */
	size_t		*lens;		/* their lengths */
	size_t		 n;
};

struct node {
	enum nkind	 kind;
	bool		 escape;	/* N_VAR: {{x}} rather than {{{x}}} / {{&x}} */
	bool		 dynamic;	/* N_PARTIAL / N_PARENT: {{>*x}} */
	bool		 standalone;	/* the tag stood alone on its line */
	bool		 indent_first;	/* N_BLOCK: indent the first line too */
	char		*text;		/* N_TEXT */
	size_t		 len;
	struct name	 name;
	char		*indent;	/* partial/parent: line indentation; block: site indentation */
	char		*def_indent;	/* N_BLOCK: indentation of its content */
	struct node	*kids;
	size_t		 nkids, capkids;
	int		 line, col;
};

struct pcache {
	char		*name;
	struct tmpl	*t;		/* NULL: missing, failed, or being compiled */
	bool		 missing;
};

struct tmpl {
	struct node	 root;
	char		*filename;
	struct tmpl_options opt;
	struct tmpl	*owner;		/* the root template (self for a root) */
	struct pcache	*cache;		/* partials, in the root only */
	size_t		 ncache, capcache;
};

/* ---- tokeniser ------------------------------------------------------- */

enum tkind {
	T_TEXT,
	T_VAR,
	T_RAW,
	T_SECTION,
	T_INVERTED,
	T_CLOSE,
	T_COMMENT,
	T_PARTIAL,
	T_PARENT,
	T_BLOCK,
	T_DELIM,
};

struct token {
	enum tkind	 kind;
	const char	*s;		/* text, or the tag's name (trimmed) */
	size_t		 len;
	bool		 dynamic;
	bool		 standalone;
	const char	*ws;		/* whitespace before the tag on its line */
	size_t		 wslen;
	bool		 ws_only_before;
	int		 line, col;
};

struct lexer {
	const char	*src;
	size_t		 len, pos;
	const char	*file;
	int		 line, col;	/* of src[pos] */
	size_t		 posmark;	/* position line/col refer to */
	struct token	*t;
	size_t		 n, cap;
	char		 otag[16], ctag[16];
	size_t		 olen, clen;
	char		*err;
};

static void
lex_advance_to(struct lexer *lx, size_t pos)
{
	for (size_t i = lx->posmark; i < pos; i++) {
		unsigned char c = (unsigned char)lx->src[i];

		if (c == '\n') {
			lx->line++;
			lx->col = 1;
		} else if ((c & 0xc0) != 0x80) {
			lx->col++;
		}
	}
	lx->posmark = pos;
}

static struct token *
lex_push(struct lexer *lx, enum tkind kind, size_t at)
{
	struct token *t;

	if (lx->n == lx->cap) {
		lx->cap = lx->cap ? lx->cap * 2 : 64;
		lx->t = xrealloc(lx->t, lx->cap * sizeof(*lx->t));
	}
	t = &lx->t[lx->n++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	lex_advance_to(lx, at);
	t->line = lx->line;
	t->col = lx->col;
	return t;
}

/* Sets the error at byte offset at; consumes msg. */
static void
lex_error(struct lexer *lx, size_t at, char *msg)
{
	if (lx->err == NULL) {
		lex_advance_to(lx, at);
		lx->err = xasprintf("%s:%d:%d: %s", lx->file, lx->line, lx->col, msg);
	}
	free(msg);
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static void
trim(const char **s, size_t *n)
{
	while (*n && is_ws(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_ws((*s)[*n - 1]))
		(*n)--;
}

/* Text from pos to end, split after each '\n'. */
static void
lex_text(struct lexer *lx, size_t pos, size_t end)
{
	while (pos < end) {
		const char *nl = memchr(lx->src + pos, '\n', end - pos);
		size_t stop = nl ? (size_t)(nl - lx->src) + 1 : end;
		struct token *t = lex_push(lx, T_TEXT, pos);

		t->s = lx->src + pos;
		t->len = stop - pos;
		pos = stop;
	}
}

static int
lex_delims(struct lexer *lx, const char *s, size_t n, size_t at)
{
	size_t i = 0, a, b;

	trim(&s, &n);
	while (i < n && !is_ws(s[i]))
		i++;
	a = i;
	while (i < n && is_ws(s[i]))
		i++;
	b = i;
	if (a == 0 || b == n || a >= sizeof(lx->otag) || n - b >= sizeof(lx->ctag) ||
	    memchr(s, '=', a) || memchr(s + b, '=', n - b)) {
		lex_error(lx, at, xstrdup("bad delimiter: expected {{=OPEN CLOSE=}} "
		    "with two delimiters without spaces or '='"));
		return -1;
	}
	for (size_t k = b; k < n; k++)
		if (is_ws(s[k])) {
			lex_error(lx, at, xstrdup("bad delimiter: more than two delimiters"));
			return -1;
		}
	memcpy(lx->otag, s, a);
	lx->olen = a;
	lx->otag[a] = '\0';
	memcpy(lx->ctag, s + b, n - b);
	lx->clen = n - b;
	lx->ctag[n - b] = '\0';
	return 0;
}

static const char *
find(const char *hay, size_t haylen, const char *needle, size_t nlen)
{
	if (nlen == 0 || haylen < nlen)
		return NULL;
	return memmem(hay, haylen, needle, nlen);
}

static int
lex_run(struct lexer *lx)
{
	while (lx->pos < lx->len) {
		const char *o = find(lx->src + lx->pos, lx->len - lx->pos,
		    lx->otag, lx->olen);
		size_t at, p, cstart, cend;
		const char *c;
		struct token *t;
		enum tkind kind = T_VAR;
		const char *s;
		size_t n;

		if (o == NULL) {
			lex_text(lx, lx->pos, lx->len);
			lx->pos = lx->len;
			break;
		}
		at = (size_t)(o - lx->src);
		lex_text(lx, lx->pos, at);
		p = at + lx->olen;
		if (p < lx->len && lx->src[p] == '{') {
			/* {{{name}}}: closed by "}" + ctag */
			char close[20];

			close[0] = '}';
			memcpy(close + 1, lx->ctag, lx->clen);
			c = find(lx->src + p + 1, lx->len - p - 1, close, lx->clen + 1);
			if (c == NULL) {
				lex_error(lx, at, xasprintf("unclosed tag: no '}%s' "
				    "after '%s{'", lx->ctag, lx->otag));
				return -1;
			}
			cstart = p + 1;
			cend = (size_t)(c - lx->src);
			lx->pos = cend + 1 + lx->clen;
			kind = T_RAW;
			s = lx->src + cstart;
			n = cend - cstart;
		} else {
			c = find(lx->src + p, lx->len - p, lx->ctag, lx->clen);
			if (c == NULL) {
				lex_error(lx, at, xasprintf("unclosed tag: no closing '%s'",
				    lx->ctag));
				return -1;
			}
			cstart = p;
			cend = (size_t)(c - lx->src);
			lx->pos = cend + lx->clen;
			s = lx->src + cstart;
			n = cend - cstart;
			while (n && is_ws(*s)) {
				s++;
				n--;
			}
			if (n) {
				switch (*s) {
				case '#': kind = T_SECTION; break;
				case '^': kind = T_INVERTED; break;
				case '/': kind = T_CLOSE; break;
				case '!': kind = T_COMMENT; break;
				case '>': kind = T_PARTIAL; break;
				case '<': kind = T_PARENT; break;
				case '$': kind = T_BLOCK; break;
				case '=': kind = T_DELIM; break;
				case '&': kind = T_RAW; break;
				default: break;
				}
				if (kind != T_VAR) {
					s++;
					n--;
				}
			}
		}
		if (kind == T_DELIM) {
			trim(&s, &n);
			if (n == 0 || s[n - 1] != '=') {
				lex_error(lx, at, xstrdup("bad delimiter: a set-delimiter "
				    "tag must end with '='"));
				return -1;
			}
			t = lex_push(lx, T_DELIM, at);
			if (lex_delims(lx, s, n - 1, at) == -1)
				return -1;
			continue;
		}
		if (kind == T_COMMENT) {
			lex_push(lx, T_COMMENT, at);
			continue;
		}
		trim(&s, &n);
		t = lex_push(lx, kind, at);
		if ((kind == T_PARTIAL || kind == T_PARENT) && n && *s == '*') {
			t->dynamic = true;
			s++;
			n--;
			trim(&s, &n);
		}
		if (n == 0) {
			lex_error(lx, at, xasprintf("empty tag: a name is needed "
			    "between '%s' and '%s'", lx->otag, lx->ctag));
			return -1;
		}
		t->s = s;
		t->len = n;
	}
	return 0;
}

static bool
tag_can_stand(enum tkind k)
{
	return k != T_TEXT && k != T_VAR && k != T_RAW;
}

static bool
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/*
 * Standalone lines: a line made only of whitespace and tags that output
 * nothing themselves (sections, comments, partials, delimiters...) loses
 * the whitespace and its line end; the whitespace before the first tag is
 * the indentation of a partial, parent or block on it.
 */
static void
lex_standalone(struct lexer *lx)
{
	size_t i = 0;

	while (i < lx->n) {
		size_t j = i, tags = 0;
		bool ok = true, ws_only = true;
		const char *ws = NULL;
		size_t wslen = 0;
		const struct token *open_block = NULL;

		/* the line is t[i..j): ends after a text token ending in '\n' */
		for (; j < lx->n; j++) {
			struct token *t = &lx->t[j];

			if (t->kind == T_TEXT) {
				size_t body = t->len;
				bool eol = body && t->s[body - 1] == '\n';

				if (eol) {
					body--;
					if (body && t->s[body - 1] == '\r')
						body--;
				}
				if (!blank(t->s, body)) {
					ok = false;
					ws_only = false;
				} else if (tags == 0 && ws == NULL) {
					ws = t->s;
					wslen = body;
				}
				if (eol) {
					j++;
					break;
				}
			} else {
				if (ws_only) {
					t->ws_only_before = true;
					t->ws = ws;
					t->wslen = ws ? wslen : 0;
				}
				if (!tag_can_stand(t->kind)) {
					ok = false;
					ws_only = false;
				}
				/* a block opened and closed on one line renders in
				 * place, like a variable: its line is not standalone */
				if (t->kind == T_CLOSE && open_block &&
				    open_block->len == t->len &&
				    memcmp(open_block->s, t->s, t->len) == 0)
					ok = false;
				if (t->kind == T_BLOCK)
					open_block = t;
				tags++;
			}
		}
		if (ok && tags > 0) {
			for (size_t k = i; k < j; k++) {
				struct token *t = &lx->t[k];

				if (t->kind == T_TEXT) {
					t->len = 0;
				} else {
					t->standalone = true;
					t->ws = ws;
					t->wslen = ws ? wslen : 0;
				}
			}
		}
		i = j;
	}
}

/* ---- tree ------------------------------------------------------------ */

static void
name_parse(struct name *nm, const char *s, size_t n)
{
	size_t i, start;

	nm->full = memdup(s, n);
	nm->parts = NULL;
	nm->lens = NULL;
	nm->n = 0;
	if (n == 1 && s[0] == '.')
		return;
	for (i = 0; i <= n; i++)
		if (i == n || s[i] == '.')
			nm->n++;
	nm->parts = xcalloc(nm->n, sizeof(char *));
	nm->lens = xcalloc(nm->n, sizeof(size_t));
	nm->n = 0;
	for (i = 0, start = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			nm->lens[nm->n] = i - start;
			nm->parts[nm->n++] = memdup(s + start, i - start);
			start = i + 1;
		}
	}
}

static void
node_free(struct node *nd)
{
	for (size_t i = 0; i < nd->nkids; i++)
		node_free(&nd->kids[i]);
	free(nd->kids);
	free(nd->text);
	free(nd->name.full);
	for (size_t i = 0; i < nd->name.n; i++)
		free(nd->name.parts[i]);
	free(nd->name.parts);
	free(nd->name.lens);
	free(nd->indent);
	free(nd->def_indent);
}

static struct node *
node_add(struct node *parent, enum nkind kind, const struct token *t)
{
	struct node *nd;

	if (parent->nkids == parent->capkids) {
		parent->capkids = parent->capkids ? parent->capkids * 2 : 4;
		parent->kids = xrealloc(parent->kids,
		    parent->capkids * sizeof(*parent->kids));
	}
	nd = &parent->kids[parent->nkids++];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	nd->line = t->line;
	nd->col = t->col;
	return nd;
}

static size_t
lead_ws(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* Indentation of a block: where it is expanded and what its content has. */
static void
block_indents(struct node *b, const struct token *open)
{
	if (open->standalone) {
		bool content = b->nkids > 0 && !(b->kids[0].kind == N_TEXT &&
		    b->kids[0].len == 0);
		size_t n = 0;

		if (content && b->kids[0].kind == N_TEXT)
			n = lead_ws(b->kids[0].text, b->kids[0].len);
		b->def_indent = content ? xstrndup(b->kids[0].kind == N_TEXT ?
		    b->kids[0].text : "", n) : xstrdup("");
		b->indent = content ? xstrdup(b->def_indent) :
		    xstrndup(open->ws ? open->ws : "", open->wslen);
		b->indent_first = true;
	} else if (open->ws_only_before) {
		b->indent = xstrndup(open->ws ? open->ws : "", open->wslen);
		b->def_indent = xstrdup("");
	} else {
		b->indent = xstrdup("");
		b->def_indent = xstrdup("");
	}
}

static struct tmpl *partial_get(struct tmpl *root, const char *name,
    char **err, bool *missing);

static int
build(struct tmpl *t, struct lexer *lx)
{
	struct node *stack[MAX_DEPTH + 1];
	const struct token *opens[MAX_DEPTH + 1];
	size_t depth = 0;

	stack[0] = &t->root;
	opens[0] = NULL;
	for (size_t i = 0; i < lx->n; i++) {
		const struct token *tk = &lx->t[i];
		struct node *top = stack[depth], *nd;

		switch (tk->kind) {
		case T_TEXT:
			if (tk->len == 0)
				break;
			if (top->nkids && top->kids[top->nkids - 1].kind == N_TEXT) {
				nd = &top->kids[top->nkids - 1];
				nd->text = xrealloc(nd->text, nd->len + tk->len + 1);
				memcpy(nd->text + nd->len, tk->s, tk->len);
				nd->len += tk->len;
				nd->text[nd->len] = '\0';
				break;
			}
			nd = node_add(top, N_TEXT, tk);
			nd->text = memdup(tk->s, tk->len);
			nd->len = tk->len;
			break;
		case T_VAR:
		case T_RAW:
			nd = node_add(top, N_VAR, tk);
			nd->escape = tk->kind == T_VAR;
			name_parse(&nd->name, tk->s, tk->len);
			break;
		case T_PARTIAL:
			nd = node_add(top, N_PARTIAL, tk);
			goto partial;
		case T_PARENT:
		case T_SECTION:
		case T_INVERTED:
		case T_BLOCK:
			if (depth == MAX_DEPTH) {
				lx->err = xasprintf("%s:%d:%d: sections nested more than "
				    "%d deep", lx->file, tk->line, tk->col, MAX_DEPTH);
				return -1;
			}
			nd = node_add(top, tk->kind == T_PARENT ? N_PARENT :
			    tk->kind == T_SECTION ? N_SECTION :
			    tk->kind == T_INVERTED ? N_INVERTED : N_BLOCK, tk);
			stack[++depth] = nd;
			opens[depth] = tk;
			if (tk->kind != T_PARENT) {
				name_parse(&nd->name, tk->s, tk->len);
				break;
			}
		partial:
			nd->dynamic = tk->dynamic;
			nd->standalone = tk->standalone;
			nd->indent = tk->standalone ?
			    xstrndup(tk->ws ? tk->ws : "", tk->wslen) : xstrdup("");
			nd->name.full = xstrndup(tk->s, tk->len);
			if (!tk->dynamic && t->owner->opt.strict) {
				char *perr = NULL;
				bool missing = false;

				(void)partial_get(t->owner, nd->name.full, &perr, &missing);
				if (perr) {
					lx->err = perr;
					return -1;
				}
				if (missing) {
					lx->err = xasprintf("%s:%d:%d: missing partial '%s'",
					    lx->file, tk->line, tk->col, nd->name.full);
					return -1;
				}
			}
			break;
		case T_CLOSE: {
			const struct token *o = opens[depth];
			const char *cs = tk->s;
			size_t cl = tk->len;

			if (depth > 0 && o->dynamic && cl > 1 && *cs == '*') {
				cs++;
				cl--;
				trim(&cs, &cl);
			}
			if (depth == 0) {
				lx->err = xasprintf("%s:%d:%d: closing tag {{/%.*s}} has no "
				    "opening section", lx->file, tk->line, tk->col,
				    (int)tk->len, tk->s);
				return -1;
			}
			if (o->len != cl || memcmp(o->s, cs, cl) != 0) {
				lx->err = xasprintf("%s:%d:%d: mismatched closing tag {{/%.*s}}: "
				    "the open section is '%.*s' (opened at %d:%d)",
				    lx->file, tk->line, tk->col, (int)tk->len, tk->s,
				    (int)o->len, o->s, o->line, o->col);
				return -1;
			}
			if (top->kind == N_BLOCK)
				block_indents(top, o);
			depth--;
			break;
		}
		case T_COMMENT:
		case T_DELIM:
			break;
		}
	}
	if (depth > 0) {
		const struct token *o = opens[depth];

		lx->err = xasprintf("%s:%d:%d: unclosed section '%.*s': no {{/%.*s}} "
		    "before the end of the template", lx->file, o->line, o->col,
		    (int)o->len, o->s, (int)o->len, o->s);
		return -1;
	}
	return 0;
}

static struct tmpl *
compile(const char *src, size_t len, const char *filename, struct tmpl *owner,
    const struct tmpl_options *opt, char **err)
{
	struct lexer lx;
	struct tmpl *t = xcalloc(1, sizeof(*t));

	memset(&lx, 0, sizeof(lx));
	lx.src = src;
	lx.len = len;
	lx.file = filename ? filename : "template";
	lx.line = lx.col = 1;
	memcpy(lx.otag, "{{", 3);
	memcpy(lx.ctag, "}}", 3);
	lx.olen = lx.clen = 2;
	t->filename = xstrdup(lx.file);
	t->owner = owner ? owner : t;
	if (opt)
		t->opt = *opt;
	if (lex_run(&lx) == 0) {
		lex_standalone(&lx);
		(void)build(t, &lx);
	}
	free(lx.t);
	if (lx.err) {
		if (err)
			*err = lx.err;
		else
			free(lx.err);
		tmpl_free(t);
		return NULL;
	}
	return t;
}

struct tmpl *
tmpl_compile(const char *src, size_t len, const char *filename,
    const struct tmpl_options *opt, char **err)
{
	if (err)
		*err = NULL;
	return compile(src, len, filename, NULL, opt, err);
}

/*
 * The compiled partial called name, compiled on first use and cached in
 * the root template.  NULL when it is missing (*missing set) or does not
 * compile (*err set, caller frees), or while it is being compiled (a
 * partial that refers to itself).
 */
static struct tmpl *
partial_get(struct tmpl *root, const char *name, char **err, bool *missing)
{
	const char *src, *fname = NULL;
	size_t len = 0, idx;
	struct tmpl *p;
	char *perr = NULL;

	for (size_t i = 0; i < root->ncache; i++) {
		if (strcmp(root->cache[i].name, name) == 0) {
			if (missing && root->cache[i].missing)
				*missing = true;
			return root->cache[i].t;
		}
	}
	if (root->opt.partial == NULL) {
		if (missing)
			*missing = true;
		return NULL;
	}
	src = root->opt.partial(root->opt.partial_arg, name, &len, &fname);
	if (root->ncache == root->capcache) {
		root->capcache = root->capcache ? root->capcache * 2 : 8;
		root->cache = xrealloc(root->cache, root->capcache * sizeof(*root->cache));
	}
	idx = root->ncache++;
	root->cache[idx].name = xstrdup(name);
	root->cache[idx].t = NULL;
	root->cache[idx].missing = src == NULL;
	if (src == NULL) {
		if (missing)
			*missing = true;
		return NULL;
	}
	p = compile(src, len, fname ? fname : name, root, &root->opt, &perr);
	if (perr && err)
		*err = perr;
	else
		free(perr);
	root->cache[idx].t = p;
	return p;
}

/* ---- the names a template uses (config check) ---------------------- */

#define EACH_MAX_SCOPES	32
#define EACH_MAX_DEPTH	16	/* partials within partials */

struct each {
	tmpl_name_fn	 fn;
	void		*arg;
	const char	*scopes[EACH_MAX_SCOPES];
	size_t		 nscopes;
};

static void each_node(struct each *, struct tmpl *, const struct node *,
    int depth);

static void
each_kids(struct each *e, struct tmpl *t, const struct node *n, int depth)
{
	for (size_t i = 0; i < n->nkids; i++)
		each_node(e, t, &n->kids[i], depth);
}

static void
each_node(struct each *e, struct tmpl *t, const struct node *n, int depth)
{
	struct tmpl *p;

	switch (n->kind) {
	case N_VAR:
		e->fn(e->arg, n->name.n ? n->name.full : ".", e->scopes,
		    e->nscopes, t->filename, n->line, n->col);
		break;
	case N_SECTION:
	case N_INVERTED:
		e->fn(e->arg, n->name.n ? n->name.full : ".", e->scopes,
		    e->nscopes, t->filename, n->line, n->col);
		if (n->kind == N_SECTION && e->nscopes < EACH_MAX_SCOPES) {
			e->scopes[e->nscopes++] = n->name.n ? n->name.full :
			    ".";
			each_kids(e, t, n, depth);
			e->nscopes--;
		} else
			each_kids(e, t, n, depth);
		break;
	case N_PARTIAL:
	case N_PARENT:
		if (!n->dynamic && depth < EACH_MAX_DEPTH &&
		    (p = partial_get(t->owner, n->name.full, NULL, NULL)) != NULL)
			each_kids(e, p, &p->root, depth + 1);
		each_kids(e, t, n, depth);
		break;
	case N_BLOCK:
		each_kids(e, t, n, depth);
		break;
	case N_TEXT:
		break;
	}
}

void
tmpl_each_name(struct tmpl *t, tmpl_name_fn fn, void *arg)
{
	struct each e;

	memset(&e, 0, sizeof(e));
	e.fn = fn;
	e.arg = arg;
	each_kids(&e, t, &t->root, 0);
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	node_free(&t->root);
	for (size_t i = 0; i < t->ncache; i++) {
		free(t->cache[i].name);
		tmpl_free(t->cache[i].t);
	}
	free(t->cache);
	free(t->filename);
	free(t);
}

/* ---- rendering ------------------------------------------------------- */

enum segkind {
	SEG_TEXT,
	SEG_HOLE,	/* a slot value, walked along path */
	SEG_KEEP,	/* a section rendered per fill */
};

struct state {
	const char	*indent;	/* added at each template line start */
	size_t		 indent_len;
	const char	*strip;		/* removed from each template line start */
	size_t		 strip_len;
	bool		 add_pending;
	bool		 strip_pending;
};

struct keep {
	const struct node	 *node;
	const struct tmpl_value	**stack;
	size_t			  nstack;
	const struct node	**blocks;
	size_t			  nblocks;
	struct state		  st;
	char			 *indent, *strip;
	uint64_t		  slots;	/* slots it may refer to: all */
};

struct seg {
	enum segkind	 kind;
	bool		 escape;
	int		 slot;
	size_t		 off, len;	/* SEG_TEXT */
	char *const	*path;		/* SEG_HOLE: the rest of the name */
	const size_t	*plens;
	size_t		 npath;
	struct keep	*keep;
};

struct tmpl_doc {
	struct buf	 text;
	struct seg	*segs;
	size_t		 n, cap, mark;
	struct tmpl	*root;
	uint64_t	 slots;		/* slots used (bit per id) */
	bool		 keeps_all;	/* a kept section may use any slot */
	bool		 failed;	/* the render stopped at a limit */
};

struct rctx {
	struct tmpl		 *root;
	struct buf		 *out;
	struct tmpl_doc		 *doc;		/* recording holes */
	const struct tmpl_value *const *slots;	/* filling: slot values */
	size_t			  nslots;
	const struct tmpl_value	**stack;
	size_t			  nstack, capstack;
	const struct node	**blocks;	/* parents whose blocks override, outermost first */
	size_t			  nblocks, capblocks;
	bool			  stack_on_c;	/* stack/blocks live on fill_keep's C stack */
	bool			  blocks_on_c;
	int			  depth;
	long			  steps;
	int			  err;
};

struct res {
	const struct tmpl_value	*v;	/* NULL: not found */
	bool			 deferred;
	int			 slot;
	char *const		*rest;
	const size_t		*rlens;
	size_t			 nrest;
};

static void
out_add(struct rctx *r, const char *s, size_t n)
{
	if (n && buf_add(r->out, s, n) == -1)
		r->err = -1;
}

static const struct tmpl_value *
fill_slot(const struct rctx *r, const struct tmpl_value *v)
{
	if (v == NULL || v->type != TMPL_SLOT)
		return v;
	if (r->slots && v->slot >= 0 && (size_t)v->slot < r->nslots)
		return r->slots[v->slot];
	return NULL;
}

static struct res
resolve(const struct rctx *r, const struct name *nm)
{
	struct res res = { NULL, false, 0, NULL, NULL, 0 };
	const struct tmpl_value *v = NULL;
	size_t i;

	if (nm->n == 0) {
		res.v = r->nstack ? r->stack[r->nstack - 1] : NULL;
		return res;
	}
	for (i = r->nstack; i-- > 0;) {
		v = tmpl_map_get(r->stack[i], nm->parts[0], nm->lens[0]);
		if (v)
			break;
	}
	if (v == NULL)
		return res;
	for (i = 1; i <= nm->n; i++) {
		if (v->type == TMPL_SLOT) {
			if (r->doc) {
				res.deferred = true;
				res.slot = v->slot;
				res.rest = nm->parts + i;
				res.rlens = nm->lens + i;
				res.nrest = nm->n - i;
				return res;
			}
			v = fill_slot(r, v);
			if (v == NULL)
				return res;
		}
		if (i == nm->n)
			break;
		v = tmpl_map_get(v, nm->parts[i], nm->lens[i]);
		if (v == NULL)
			return res;
	}
	res.v = v;
	return res;
}

static bool
truthy(const struct tmpl_value *v)
{
	if (v == NULL)
		return false;
	switch (v->type) {
	case TMPL_NULL: return false;
	case TMPL_BOOL: return v->b;
	case TMPL_STR: return v->len > 0;
	case TMPL_LIST: return v->n > 0;
	case TMPL_SLOT: return false;
	default: return true;
	}
}

static int
interpolate(struct buf *out, const struct tmpl_value *v, bool escape)
{
	char num[64];
	const char *s;
	size_t n;

	if (v == NULL)
		return 0;
	switch (v->type) {
	case TMPL_STR:
		s = v->str;
		n = v->len;
		break;
	case TMPL_NUM:
		if (isfinite(v->num) && v->num == floor(v->num) &&
		    fabs(v->num) < 1e15)
			n = (size_t)snprintf(num, sizeof(num), "%lld", (long long)v->num);
		else
			n = (size_t)snprintf(num, sizeof(num), "%.15g", v->num);
		s = num;
		break;
	case TMPL_BOOL:
		s = v->b ? "true" : "false";
		n = strlen(s);
		break;
	default:
		return 0;
	}
	if (escape)
		return html_escape(out, s, n, HTML_ESC_ALL);
	return buf_add(out, s, n);
}

static void
flush_indent(struct rctx *r, struct state *st)
{
	if (st->add_pending && st->indent_len)
		out_add(r, st->indent, st->indent_len);
	st->add_pending = false;
	st->strip_pending = false;
}

static void
emit_text(struct rctx *r, struct state *st, const char *s, size_t n)
{
	size_t i = 0;

	if (st->indent_len == 0 && st->strip_len == 0) {
		out_add(r, s, n);
		return;
	}
	while (i < n) {
		const char *nl;
		size_t j;

		if (st->strip_pending) {
			size_t k = 0;

			while (k < st->strip_len && i < n && s[i] == st->strip[k]) {
				i++;
				k++;
			}
			st->strip_pending = false;
			if (i >= n)
				break;
		}
		if (st->add_pending) {
			out_add(r, st->indent, st->indent_len);
			st->add_pending = false;
		}
		nl = memchr(s + i, '\n', n - i);
		j = nl ? (size_t)(nl - s) + 1 : n;
		out_add(r, s + i, j - i);
		i = j;
		if (nl) {
			st->add_pending = st->indent_len > 0;
			st->strip_pending = st->strip_len > 0;
		}
	}
}

static void
push(struct rctx *r, const struct tmpl_value *v)
{
	if (r->nstack == r->capstack) {
		size_t cap = r->capstack ? r->capstack * 2 : 16;

		if (r->stack_on_c) {	/* fill_keep's C-stack array: move to the heap */
			const struct tmpl_value **s = xmalloc(cap * sizeof(*s));

			memcpy(s, r->stack, r->nstack * sizeof(*s));
			r->stack = s;
			r->stack_on_c = false;
		} else {
			r->stack = xrealloc(r->stack, cap * sizeof(*r->stack));
		}
		r->capstack = cap;
	}
	r->stack[r->nstack++] = v;
}

static void
push_block(struct rctx *r, const struct node *parent)
{
	if (r->nblocks == r->capblocks) {
		size_t cap = r->capblocks ? r->capblocks * 2 : 8;

		if (r->blocks_on_c) {
			const struct node **b = xmalloc(cap * sizeof(*b));

			memcpy(b, r->blocks, r->nblocks * sizeof(*b));
			r->blocks = b;
			r->blocks_on_c = false;
		} else {
			r->blocks = xrealloc(r->blocks, cap * sizeof(*r->blocks));
		}
		r->capblocks = cap;
	}
	r->blocks[r->nblocks++] = parent;
}

static struct seg *
doc_seg(struct tmpl_doc *d, enum segkind kind)
{
	struct seg *s;

	if (d->text.len > d->mark) {
		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 16;
			d->segs = xrealloc(d->segs, d->cap * sizeof(*d->segs));
		}
		s = &d->segs[d->n++];
		memset(s, 0, sizeof(*s));
		s->kind = SEG_TEXT;
		s->off = d->mark;
		s->len = d->text.len - d->mark;
		d->mark = d->text.len;
	}
	if (kind == SEG_TEXT)
		return NULL;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->segs = xrealloc(d->segs, d->cap * sizeof(*d->segs));
	}
	s = &d->segs[d->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	return s;
}

static void render_nodes(struct rctx *, const struct node *, size_t, struct state *);
static void render_node(struct rctx *, const struct node *, struct state *);

static void
keep_section(struct rctx *r, const struct node *nd, struct state *st)
{
	struct seg *s = doc_seg(r->doc, SEG_KEEP);
	struct keep *k = xcalloc(1, sizeof(*k));

	k->node = nd;
	k->nstack = r->nstack;
	k->stack = xmalloc((r->nstack + 1) * sizeof(*k->stack));
	if (r->nstack)
		memcpy(k->stack, r->stack, r->nstack * sizeof(*k->stack));
	k->nblocks = r->nblocks;
	k->blocks = xmalloc((r->nblocks + 1) * sizeof(*k->blocks));
	if (r->nblocks)
		memcpy(k->blocks, r->blocks, r->nblocks * sizeof(*k->blocks));
	k->st = *st;
	k->indent = xstrndup(st->indent ? st->indent : "", st->indent_len);
	k->strip = xstrndup(st->strip ? st->strip : "", st->strip_len);
	k->st.indent = k->indent;
	k->st.strip = k->strip;
	s->keep = k;
	r->doc->keeps_all = true;
	/* the kept section emits the pending indentation itself */
	st->add_pending = false;
	st->strip_pending = false;
}

static void
render_partial(struct rctx *r, const struct node *nd, struct state *st)
{
	struct tmpl *p;
	struct state ps;
	char *indent = NULL, *pname = NULL;

	if (nd->dynamic) {
		struct name nm;
		struct res res;

		name_parse(&nm, nd->name.full, strlen(nd->name.full));
		res = resolve(r, &nm);
		for (size_t i = 0; i < nm.n; i++)
			free(nm.parts[i]);
		free(nm.parts);
		free(nm.lens);
		free(nm.full);
		if (res.v == NULL || res.v->type != TMPL_STR)
			return;
		pname = memdup(res.v->str, res.v->len);
		p = partial_get(r->root, pname, NULL, NULL);
		free(pname);
	} else {
		p = partial_get(r->root, nd->name.full, NULL, NULL);
	}
	if (p == NULL)
		return;
	if (!nd->standalone)
		flush_indent(r, st);
	memset(&ps, 0, sizeof(ps));
	if (nd->standalone) {
		size_t il = strlen(nd->indent);

		indent = xmalloc(st->indent_len + il + 1);
		memcpy(indent, st->indent ? st->indent : "", st->indent_len);
		memcpy(indent + st->indent_len, nd->indent, il + 1);
		ps.indent = indent;
		ps.indent_len = st->indent_len + il;
		ps.add_pending = ps.indent_len > 0;
	} else {
		/* inline: later lines of the partial keep the caller's indentation */
		ps.indent = st->indent;
		ps.indent_len = st->indent_len;
	}
	if (nd->kind == N_PARENT)
		push_block(r, nd);
	render_nodes(r, p->root.kids, p->root.nkids, &ps);
	if (nd->kind == N_PARENT)
		r->nblocks--;
	free(indent);
}

static const struct node *
find_override(const struct rctx *r, const struct node *blk)
{
	for (size_t i = 0; i < r->nblocks; i++) {
		const struct node *p = r->blocks[i];

		for (size_t k = 0; k < p->nkids; k++)
			if (p->kids[k].kind == N_BLOCK &&
			    strcmp(p->kids[k].name.full, blk->name.full) == 0)
				return &p->kids[k];
	}
	return NULL;
}

static void
render_block(struct rctx *r, const struct node *nd, struct state *st)
{
	const struct node *o = find_override(r, nd);
	struct state bs;
	const char *site = nd->indent;
	size_t sl = strlen(site), k = 0;
	char *indent;

	if (o == NULL || o == nd) {
		render_nodes(r, nd->kids, nd->nkids, st);
		return;
	}
	/* the site's indentation, less what the surrounding block strips */
	while (k < st->strip_len && k < sl && site[k] == st->strip[k])
		k++;
	site += k;
	sl -= k;
	if (!nd->indent_first)
		flush_indent(r, st);
	indent = xmalloc(st->indent_len + sl + 1);
	memcpy(indent, st->indent ? st->indent : "", st->indent_len);
	memcpy(indent + st->indent_len, site, sl + 1);
	memset(&bs, 0, sizeof(bs));
	bs.indent = indent;
	bs.indent_len = st->indent_len + sl;
	bs.strip = o->def_indent;
	bs.strip_len = strlen(o->def_indent);
	bs.add_pending = nd->indent_first && bs.indent_len > 0;
	bs.strip_pending = bs.strip_len > 0;
	render_nodes(r, o->kids, o->nkids, &bs);
	free(indent);
}

static void
render_section(struct rctx *r, const struct node *nd, struct state *st)
{
	struct res res = resolve(r, &nd->name);
	const struct tmpl_value *v;

	if (res.deferred) {
		keep_section(r, nd, st);
		return;
	}
	v = fill_slot(r, res.v);
	if (nd->kind == N_INVERTED) {
		if (!truthy(v))
			render_nodes(r, nd->kids, nd->nkids, st);
		return;
	}
	if (!truthy(v))
		return;
	if (v->type == TMPL_LIST) {
		for (size_t i = 0; i < v->n && r->err == 0; i++) {
			push(r, v->items[i]);
			render_nodes(r, nd->kids, nd->nkids, st);
			r->nstack--;
		}
		return;
	}
	push(r, v);
	render_nodes(r, nd->kids, nd->nkids, st);
	r->nstack--;
}

static void
render_node(struct rctx *r, const struct node *nd, struct state *st)
{
	if (++r->steps > MAX_STEPS) {
		r->err = -1;
		return;
	}
	switch (nd->kind) {
	case N_TEXT:
		emit_text(r, st, nd->text, nd->len);
		break;
	case N_VAR: {
		struct res res = resolve(r, &nd->name);
		bool esc = nd->escape && r->root->opt.escape == TMPL_ESCAPE_HTML;

		flush_indent(r, st);
		if (res.deferred) {
			struct seg *s = doc_seg(r->doc, SEG_HOLE);

			s->slot = res.slot;
			s->path = res.rest;
			s->plens = res.rlens;
			s->npath = res.nrest;
			s->escape = esc;
			if (res.slot >= 0 && res.slot < MAX_SLOTS)
				r->doc->slots |= (uint64_t)1 << res.slot;
			break;
		}
		if (interpolate(r->out, fill_slot(r, res.v), esc) == -1)
			r->err = -1;
		break;
	}
	case N_SECTION:
	case N_INVERTED:
		render_section(r, nd, st);
		break;
	case N_PARTIAL:
	case N_PARENT:
		render_partial(r, nd, st);
		break;
	case N_BLOCK:
		render_block(r, nd, st);
		break;
	}
}

static void
render_nodes(struct rctx *r, const struct node *nodes, size_t n, struct state *st)
{
	if (r->depth >= MAX_DEPTH)
		return;
	r->depth++;
	for (size_t i = 0; i < n && r->err == 0; i++)
		render_node(r, &nodes[i], st);
	r->depth--;
}

static void
rctx_init(struct rctx *r, struct tmpl *t, const struct tmpl_value *ctx)
{
	memset(r, 0, sizeof(*r));
	r->root = t->owner;
	if (ctx)
		push(r, ctx);
}

int
tmpl_render(struct tmpl *t, const struct tmpl_value *ctx, struct buf *out)
{
	struct rctx r;
	struct state st;

	rctx_init(&r, t, ctx);
	r.out = out;
	memset(&st, 0, sizeof(st));
	render_nodes(&r, t->root.kids, t->root.nkids, &st);
	free(r.stack);
	free(r.blocks);
	return r.err;
}

struct tmpl_doc *
tmpl_render_doc(struct tmpl *t, const struct tmpl_value *ctx)
{
	struct tmpl_doc *d = xcalloc(1, sizeof(*d));
	struct rctx r;
	struct state st;

	buf_init(&d->text, MAX_DOC);
	d->root = t->owner;
	rctx_init(&r, t, ctx);
	r.out = &d->text;
	r.doc = d;
	memset(&st, 0, sizeof(st));
	render_nodes(&r, t->root.kids, t->root.nkids, &st);
	doc_seg(d, SEG_TEXT);
	d->failed = r.err != 0;
	free(r.stack);
	free(r.blocks);
	return d;
}

bool
tmpl_doc_failed(const struct tmpl_doc *d)
{
	return d->failed;
}

static int
fill_keep(const struct tmpl_doc *d, const struct keep *k,
    const struct tmpl_value *const *slots, size_t nslots, struct buf *out)
{
	struct rctx r;
	struct state st = k->st;
	const struct tmpl_value *stack0[32];
	const struct node *blocks0[8];

	memset(&r, 0, sizeof(r));
	r.root = d->root;
	r.out = out;
	r.slots = slots;
	r.nslots = nslots;
	/*
	 * A working copy of the captured stacks (the render pushes onto them):
	 * on the C stack when small, so most fills allocate nothing.
	 */
	r.nstack = k->nstack;
	if (k->nstack < 32) {
		r.stack = stack0;
		r.capstack = 32;
		r.stack_on_c = true;
	} else {
		r.capstack = k->nstack + 1;
		r.stack = xmalloc(r.capstack * sizeof(*r.stack));
	}
	memcpy(r.stack, k->stack, k->nstack * sizeof(*r.stack));
	r.nblocks = k->nblocks;
	if (k->nblocks < 8) {
		r.blocks = blocks0;
		r.capblocks = 8;
		r.blocks_on_c = true;
	} else {
		r.capblocks = k->nblocks + 1;
		r.blocks = xmalloc(r.capblocks * sizeof(*r.blocks));
	}
	memcpy(r.blocks, k->blocks, k->nblocks * sizeof(*r.blocks));
	render_node(&r, k->node, &st);
	if (!r.stack_on_c)
		free(r.stack);
	if (!r.blocks_on_c)
		free(r.blocks);
	return r.err;
}

int
tmpl_doc_fill(const struct tmpl_doc *d, const struct tmpl_value *const *slots,
    size_t nslots, struct buf *out)
{
	if (buf_grow(out, d->text.len + 256) == -1)
		return -1;
	for (size_t i = 0; i < d->n; i++) {
		const struct seg *s = &d->segs[i];
		const struct tmpl_value *v;

		switch (s->kind) {
		case SEG_TEXT:
			if (buf_add(out, d->text.data + s->off, s->len) == -1)
				return -1;
			break;
		case SEG_HOLE:
			v = s->slot >= 0 && (size_t)s->slot < nslots ? slots[s->slot] : NULL;
			for (size_t k = 0; k < s->npath && v; k++)
				v = tmpl_map_get(v, s->path[k], s->plens[k]);
			if (interpolate(out, v, s->escape) == -1)
				return -1;
			break;
		case SEG_KEEP:
			if (fill_keep(d, s->keep, slots, nslots, out) == -1)
				return -1;
			break;
		}
	}
	return buf_add(out, "", 0);	/* NUL-terminated even when empty */
}

bool
tmpl_doc_uses_slot(const struct tmpl_doc *d, int id)
{
	if (d->keeps_all)
		return true;
	return id >= 0 && id < MAX_SLOTS && (d->slots & ((uint64_t)1 << id));
}

size_t
tmpl_doc_static_len(const struct tmpl_doc *d)
{
	return d->text.len;
}

void
tmpl_doc_rewrite_lines(struct tmpl_doc *d,
    void (*fn)(void *arg, const char *line, size_t len, struct buf *out), void *arg)
{
	struct buf nt = BUF_INIT;

	for (size_t i = 0; i < d->n; i++) {
		struct seg *s = &d->segs[i];
		const char *p, *end;
		size_t start = nt.len;
		bool head_partial = i > 0, tail_partial = i + 1 < d->n;

		if (s->kind != SEG_TEXT)
			continue;
		p = d->text.data + s->off;
		end = p + s->len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl ? nl : end;
			bool first = p == d->text.data + s->off;

			if ((first && head_partial) || (nl == NULL && tail_partial))
				buf_add(&nt, p, (size_t)(stop - p));
			else
				fn(arg, p, (size_t)(stop - p), &nt);
			if (nl)
				buf_addc(&nt, '\n');
			p = nl ? nl + 1 : end;
		}
		s->off = start;
		s->len = nt.len - start;
	}
	buf_free(&d->text);
	d->text = nt;
	d->mark = nt.len;
}

void
tmpl_doc_free(struct tmpl_doc *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		struct keep *k = d->segs[i].keep;

		if (k == NULL)
			continue;
		free(k->stack);
		free(k->blocks);
		free(k->indent);
		free(k->strip);
		free(k);
	}
	free(d->segs);
	buf_free(&d->text);
	free(d);
}
