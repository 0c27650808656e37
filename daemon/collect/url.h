/*
 * url: resolving references against a base (RFC 3986 §5).
 */
#ifndef HERALD_URL_H
#define HERALD_URL_H

#include <stdbool.h>

/* Returns the absolute form of ref against base (new string, caller frees);
 * ref as given when base is NULL or ref is already absolute. */
char	*url_resolve(const char *base, const char *ref);

/*
 * Whether url (as url_resolve returns it) is a link herald hands to a
 * template: an absolute http or https URL with a host, or with mailto true
 * also a mailto: URL with an address.  Anything else (javascript:, data:,
 * "https:javascript:", a relative reference, NULL) is not.
 */
bool	 url_is_web(const char *url, bool mailto);
/* Whether url has no scheme: a reference that a base could make absolute. */
bool	 url_is_relative(const char *url);

#endif
