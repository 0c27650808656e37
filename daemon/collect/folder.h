/*
 * folder: article files (*.txt, *.md) read into a struct feed.
 *
 * A folder article is a feed of kind FEED_FOLDER with exactly one entry
 * (feed.h), so `herald inspect` and the collect stage treat it like any
 * feed.  The entry's guid is "file:" + the file name: the name is the
 * article's identity, so editing a file that was already collected does not
 * make it new again (publish a new name for that).
 *
 * .txt: the first non-empty line is the title.  In the body, blank lines
 * separate paragraphs and the single line breaks inside one are soft
 * (joined with a space); a body without any blank line has one paragraph
 * per line.  entry.text holds the paragraphs separated by blank lines,
 * entry.content the same as HTML <p> elements (escaped).
 *
 * .md: optional YAML front matter between two "---" lines (keys title,
 * date, author, url, summary; others are ignored); the body goes through
 * cmark (raw HTML is not passed through) and then sanitize_html().  The
 * title is the front matter's, else the first line (a leading heading's
 * text), which is then left out of the body.  entry.text is NULL.
 *
 * Both: UTF-8 is kept byte for byte (a BOM is dropped, CRLF becomes LF);
 * invalid UTF-8 or a NUL byte is an error for that file.  published is the
 * front matter date (RFC 3339 or YYYY-MM-DD), else the file's mtime.
 */
#ifndef HERALD_FOLDER_H
#define HERALD_FOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "feed.h"

#define FOLDER_MAX_FILE	(1u << 20)	/* article files larger are refused */

/*
 * True when a directory entry named name is an article to pick up: ends in
 * .txt or .md, and is not hidden (".name"), an editor's backup or lock
 * ("name~", "#name#", ".#name") or a partial download (these end in other
 * suffixes such as .tmp, .part, .swp, so the suffix rule excludes them).
 */
bool	folder_name_wanted(const char *name);

/*
 * Parses one article from memory; name (a file name, its suffix picks the
 * format) is used for the guid and messages; mtime is the fallback
 * published time.  Returns a feed (caller frees with feed_free) or NULL and
 * *err (caller frees).
 */
struct feed *folder_parse(const char *name, const char *data, size_t len,
	    time_t mtime, char **err);

/*
 * Reads and parses the file at path (at most FOLDER_MAX_FILE bytes).
 * Returns a feed (caller frees) or NULL and *err (caller frees).
 */
struct feed *folder_read(const char *path, char **err);

/*
 * The names in dir that folder_name_wanted() accepts and that are regular
 * files, sorted by name.  Returns 0 and *names (caller frees each and the
 * array) / *n, or -1 and *err (caller frees).
 */
int	folder_list(const char *dir, char ***names, size_t *n, char **err);

#endif
