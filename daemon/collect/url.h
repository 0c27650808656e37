/*
 * url: resolving references against a base (RFC 3986 §5).
 */
#ifndef HERALD_URL_H
#define HERALD_URL_H

/* Returns the absolute form of ref against base (new string, caller frees);
 * ref as given when base is NULL or ref is already absolute. */
char	*url_resolve(const char *base, const char *ref);

#endif
