/*
 * feed_expand: what a document would grow to with its entity references
 * replaced, measured before any field is read (feed_int.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <libxml/tree.h>

#include "feed.h"
#include "feed_int.h"

/*
 * libxml2 is not asked to substitute entities: references stay in the tree
 * and the walk below expands them (node_text, node_html) each time a field
 * is read.  A small document can thus ask for far more text than it holds
 * (one 100 KB internal entity referenced 200 times in each of 2,000 items
 * is 40 GB), which libxml2's own checks do not see, since each reference
 * costs it nothing.  Before the walk, the whole document is measured as the
 * walk would read it, every reference replaced, in one pass that is linear
 * in the tree (an entity's size is computed once and kept on the entity),
 * and a document past FEED_MAX_EXPANDED is refused.
 */
#define ENTITY_MAX_NESTING	40	/* libxml2 refuses deeper ones itself */


static size_t
size_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t subtree_size(const xmlNode *top, int nesting);

/* The replacement text of ent as the walk reads it; kept on ent->_private. */
static size_t
entity_size(xmlEntity *ent, int nesting)
{
	size_t n;

	if (ent->_private != NULL)
		return (size_t)(uintptr_t)ent->_private - 1;
	if (nesting > ENTITY_MAX_NESTING)
		return SIZE_MAX - 1;
	ent->_private = (void *)(uintptr_t)SIZE_MAX;	/* a loop: huge */
	n = subtree_size((const xmlNode *)ent, nesting + 1);
	if (n > FEED_MAX_EXPANDED)
		n = (size_t)FEED_MAX_EXPANDED + 1;
	ent->_private = (void *)(uintptr_t)(n + 1);
	return n;
}

/* The size of one node itself (text, or a reference's replacement). */
static size_t
node_own_size(const xmlNode *c, int nesting)
{
	switch (c->type) {
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		return c->content != NULL ? strlen((const char *)c->content) : 0;
	case XML_ENTITY_REF_NODE:
		if (c->children != NULL && c->children->type == XML_ENTITY_DECL)
			return entity_size((xmlEntity *)(uintptr_t)c->children,
			    nesting);
		return 0;
	default:
		return 0;
	}
}

/* Text under top (its attributes' values included), iteratively. */
static size_t
subtree_size(const xmlNode *top, int nesting)
{
	const xmlNode *c = top->children;
	size_t n = 0;

	while (c != NULL && c != top) {
		n = size_add(n, node_own_size(c, nesting));
		if (c->type == XML_ELEMENT_NODE) {
			for (const xmlAttr *a = c->properties; a != NULL; a = a->next)
				for (const xmlNode *v = a->children; v != NULL; v = v->next)
					n = size_add(n, node_own_size(v, nesting));
			if (c->children != NULL) {
				c = c->children;
				continue;
			}
		}
		while (c != NULL && c != top && c->next == NULL)
			c = c->parent;
		if (c != NULL && c != top)
			c = c->next;
		if (n > FEED_MAX_EXPANDED)
			break;
	}
	return n;
}

/*
 * Measures the document under root; false (with the line of the element
 * where the limit was passed) when it expands past FEED_MAX_EXPANDED.
 */
bool
feed_expansion_ok(const xmlNode *root, struct expansion *ex)
{
	const xmlNode *c = root;

	ex->total = 0;
	ex->over = false;
	while (c != NULL) {
		ex->total = size_add(ex->total, node_own_size(c, 0));
		if (c->type == XML_ELEMENT_NODE)
			for (const xmlAttr *a = c->properties; a != NULL; a = a->next)
				for (const xmlNode *v = a->children; v != NULL; v = v->next)
					ex->total = size_add(ex->total,
					    node_own_size(v, 0));
		if (ex->total > FEED_MAX_EXPANDED) {
			const xmlNode *el = c;

			while (el != NULL && el->type != XML_ELEMENT_NODE)
				el = el->parent;
			ex->line = el != NULL ? xmlGetLineNo(el) : 0;
			ex->over = true;
			return false;
		}
		if (c->type == XML_ELEMENT_NODE && c->children != NULL) {
			c = c->children;
			continue;
		}
		while (c != NULL && c != root && c->next == NULL)
			c = c->parent;
		if (c == NULL || c == root)
			break;
		c = c->next;
	}
	return true;
}
