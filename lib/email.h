/*
 * email: e-mail address syntax (RFC 5321/5322 addr-spec and mailbox).
 *
 * These check syntax only (no DNS).  The rules: local@domain; at most 254
 * octets in all and 64 in the local part; the local part a dot-atom or a
 * quoted-string; the domain at least two labels of 1-63 octets, ASCII
 * labels of letters, digits and hyphens (not first or last), labels with
 * UTF-8 non-ASCII (IDN, checked as valid UTF-8) allowed.  No space, control
 * character or NUL anywhere outside a quoted local part (never CR/LF).
 */
#ifndef HERALD_EMAIL_H
#define HERALD_EMAIL_H

#include <stdbool.h>

/* RFC 5322 atext, its ASCII part (letters, digits, !#$%&'*+-/=?^_`{|}~). */
bool	 email_is_atext(unsigned char c);

/* True when addr is a valid addr-spec; else *why (static string) if why. */
bool	 email_addr_valid(const char *addr, const char **why);

/*
 * Parses an RFC 5322 mailbox: "addr", "<addr>", "Name <addr>" or
 * "\"Quoted, Name\" <addr>".  On success returns 0 and sets *name (new
 * string with quotes and escapes removed, or NULL when there is none) and
 * *addr (new string); the caller frees both.  Returns -1 with *why (static)
 * on error, and *name, *addr left NULL.
 */
int	 email_mailbox_parse(const char *s, char **name, char **addr,
	    const char **why);

/*
 * The address as it goes on the wire: the domain in its IDNA (punycode,
 * RFC 5891, UTS #46 non-transitional) form when it has non-ASCII labels
 * ("a@exämple.org" -> "a@xn--exmple-cua.org"); an ASCII address is
 * returned as it is.  New string (caller frees), or NULL with *why
 * (static) when the domain has no IDNA form or the local part is not
 * ASCII (that needs SMTPUTF8, which herald does not use).  The Unicode
 * form stays what herald stores and shows.
 */
char	*email_to_ascii(const char *addr, const char **why);

/*
 * The comparison key for an address: the whole address lowercased (ASCII
 * only; UTF-8 bytes are kept).  Returns a new string (caller frees).
 */
char	*email_key(const char *addr);

#endif
