/*
 * xmalloc: allocation that never returns NULL.
 *
 * Out of memory is fatal (logged, exit 3 is not right for OOM: we abort with
 * exit 1 after logging).  Callers therefore never check these for NULL.
 */
#ifndef HERALD_XMALLOC_H
#define HERALD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Returns a new copy of s (caller frees); NULL in gives NULL out. */
char *xstrdup(const char *s);
/* Like xstrdup, but NULL gives "" (caller frees). */
char *xstrdup_or_empty(const char *s);
/* Copies at most n bytes of s and NUL-terminates (caller frees). */
char *xstrndup(const char *s, size_t n);
/* printf into a new string (caller frees). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
