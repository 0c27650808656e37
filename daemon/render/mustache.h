/*
 * mustache (tmpl_): a Mustache engine (the official spec: interpolation,
 * sections, inverted sections, comments, set delimiters, partials, and the
 * optional inheritance and dynamic-names modules; no lambdas).
 *
 * A template is compiled once (tmpl_compile) into a node tree and rendered
 * many times against a context: a small value tree (null, bool, number,
 * string, list, map) built with the tmpl_value functions below.
 *
 * Personalisation: a value may be a *slot* (tmpl_slot(id)), a hole that is
 * filled later.  tmpl_render_doc() renders everything that does not depend
 * on a slot once and keeps the holes; tmpl_doc_fill() then only copies the
 * static bytes and the (escaped) slot values.  A section whose condition
 * is a slot (e.g. {{#subscriber.name}}Hi {{subscriber.name}}{{/...}}) is
 * kept as a compiled subtree with its captured context and rendered per
 * fill.  A dotted name that crosses a slot ({{subscriber.attributes.city}})
 * is resolved against the slot's value at fill time.
 */
#ifndef HERALD_MUSTACHE_H
#define HERALD_MUSTACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct tmpl;
struct tmpl_doc;

enum tmpl_vtype {
	TMPL_NULL = 0,
	TMPL_BOOL,
	TMPL_NUM,
	TMPL_STR,
	TMPL_LIST,
	TMPL_MAP,
	TMPL_SLOT,
};

/*
 * A context value.  The struct is public so callers can build slot values
 * on the stack without allocating (tmpl_doc_fill); otherwise use the
 * constructors, and treat the fields as read-only.
 */
struct tmpl_value {
	enum tmpl_vtype		 type;
	bool			 b;		/* TMPL_BOOL */
	double			 num;		/* TMPL_NUM */
	const char		*str;		/* TMPL_STR (owned when from a constructor) */
	size_t			 len;		/* TMPL_STR length */
	int			 slot;		/* TMPL_SLOT id */
	struct tmpl_value	**items;	/* TMPL_LIST items, TMPL_MAP values */
	char			**keys;		/* TMPL_MAP keys */
	size_t			*klens;		/* TMPL_MAP key lengths */
	size_t			 n, cap;
	bool			 borrowed;	/* str not owned (tmpl_value_free leaves it) */
};

/* Constructors: each returns a new value the caller owns (or hands over). */
struct tmpl_value *tmpl_null(void);
struct tmpl_value *tmpl_bool(bool);
struct tmpl_value *tmpl_num(double);
struct tmpl_value *tmpl_str(const char *s);		/* copied; NULL gives null */
struct tmpl_value *tmpl_strn(const char *s, size_t n);	/* copied */
struct tmpl_value *tmpl_str_take(char *s);		/* consumes s (NULL gives null) */
struct tmpl_value *tmpl_list(void);
struct tmpl_value *tmpl_map(void);
struct tmpl_value *tmpl_slot(int id);
/* Appends v to list (consumes v). */
void	tmpl_list_push(struct tmpl_value *list, struct tmpl_value *v);
/* Sets key in map to v (consumes v, replaces an earlier value). */
void	tmpl_map_set(struct tmpl_value *map, const char *key, struct tmpl_value *v);
/* The value of key in map, or NULL. */
const struct tmpl_value *tmpl_map_get(const struct tmpl_value *map,
	    const char *key, size_t keylen);
void	tmpl_value_free(struct tmpl_value *);
/* A stack value (not allocated) holding a borrowed string; NULL gives null. */
struct tmpl_value tmpl_str_ref(const char *s);

enum tmpl_escape {
	TMPL_ESCAPE_NONE = 0,	/* text: {{x}} as is */
	TMPL_ESCAPE_HTML,	/* HTML: {{x}} escapes & < > " ' */
};

/*
 * Partial lookup: the source of the partial called name (len bytes, must
 * stay valid as long as the template), and optionally the file name used
 * in messages; NULL when there is none.
 */
typedef const char *(*tmpl_partial_fn)(void *arg, const char *name,
	    size_t *len, const char **filename);

struct tmpl_options {
	enum tmpl_escape escape;
	tmpl_partial_fn	 partial;	/* may be NULL: no partials */
	void		*partial_arg;
	bool		 strict;	/* a missing static partial is an error */
};

/*
 * Compiles src (len bytes).  filename names the template in messages.
 * Returns NULL and sets *err (caller frees) to "file:line:col: message"
 * on a syntax error (unclosed section or tag, mismatched close tag, bad
 * delimiter, empty name, missing partial when strict).
 */
struct tmpl	*tmpl_compile(const char *src, size_t len, const char *filename,
		    const struct tmpl_options *, char **err);
void		 tmpl_free(struct tmpl *);

/*
 * Calls fn for every name a variable or section tag of t uses, in the
 * order written, partials included (those found; not dynamic ones): the
 * name as written ("." for the implicit iterator), the names of the
 * sections around it (outermost first; inverted sections push none), and
 * the file, line and column of the tag.  For `config check`'s typo
 * warnings.
 */
typedef void (*tmpl_name_fn)(void *arg, const char *name,
		    const char *const *scopes, size_t nscopes, const char *file,
		    int line, int col);
void		 tmpl_each_name(struct tmpl *t, tmpl_name_fn fn, void *arg);

/*
 * Renders t against ctx, appending to out.  Slots in ctx render as empty.
 * Returns 0, or -1 when out refused to grow (its size limit) or the render
 * ran past its step limit (runaway partial recursion).
 */
int		 tmpl_render(struct tmpl *t, const struct tmpl_value *ctx,
		    struct buf *out);

/*
 * Renders t against ctx, keeping slots as holes.  ctx (and t) must outlive
 * the document.  Never NULL; caller frees with tmpl_doc_free().  A render
 * that ran past a limit (the step limit, the document size) stops there:
 * tmpl_doc_failed() says so, and such a document must not be used, since
 * it lacks its end (a digest's footer and unsubscribe link).
 */
struct tmpl_doc	*tmpl_render_doc(struct tmpl *t, const struct tmpl_value *ctx);
bool		 tmpl_doc_failed(const struct tmpl_doc *);
/*
 * Appends the document with slot i filled by slots[i] (i < nslots; a
 * missing or NULL entry is null).  Returns 0, or -1 when out is full.
 */
int		 tmpl_doc_fill(const struct tmpl_doc *, const struct tmpl_value *const *slots,
		    size_t nslots, struct buf *out);
/* True when some hole or kept subtree of the document refers to slot id. */
bool		 tmpl_doc_uses_slot(const struct tmpl_doc *, int id);
/* Bytes of static text in the document (a lower bound of a fill's size). */
size_t		 tmpl_doc_static_len(const struct tmpl_doc *);
/*
 * Rewrites every whole line of static text (lines not touching a hole)
 * through fn, which appends its version of line[0..len) (without the
 * newline) to out.  Used to wrap the text part at 72 columns once.
 */
void		 tmpl_doc_rewrite_lines(struct tmpl_doc *,
		    void (*fn)(void *arg, const char *line, size_t len, struct buf *out),
		    void *arg);
void		 tmpl_doc_free(struct tmpl_doc *);


#endif
