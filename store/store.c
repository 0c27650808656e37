#include "store_sqlite.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store_schema.h"
#include "util.h"
#include "xmalloc.h"

#define STORE_BUSY_MS	10000	/* how long a writer waits for a lock */
#define STORE_STR_(x)	#x
#define STORE_STR(x)	STORE_STR_(x)	/* a number as SQL text */
#define STORE_BUSY_RO_MS 2000	/* how long a summary waits for a reader */
#define STORE_NSTMT	128

struct store {
	struct db	*conn;		/* the driver (db.h) */
	sqlite3		*db;		/* SQLite's connection; NULL on PostgreSQL */
	char		*uri;		/* PostgreSQL: the URI it was opened with */
	char		*sender;	/* store_sender() */
	char		*path;		/* as SQLite resolved it; "" in memory */
	dev_t		 dev;		/* the file opened, to notice a swap */
	ino_t		 ino;
	char		*msg;		/* store_set_error(); cleared per statement */
	struct {
		const char	*sql;
		struct db_stmt	*stmt;
	} cache[STORE_NSTMT];
	int		 ncache;
};

enum store_rc
store_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	default:
		return STORE_ERR;
	}
}

static int
migrate(struct store *st, char **err, bool *busy)
{
	sqlite3_stmt *s = NULL;
	int have, want = store_schema_version(), rc, n;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK || (rc = sqlite3_step(s)) != SQLITE_ROW)
		goto fail;
	have = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (have > want) {
		*err = xasprintf("database schema version %d is newer than "
		    "this herald understands (%d): upgrade herald", have, want);
		return -1;
	}
	if (have == want)
		return 0;
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	/* Re-read inside the lock: another process may have migrated. */
	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK || (rc = sqlite3_step(s)) != SQLITE_ROW)
		goto fail_tx;
	have = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	for (n = have + 1; n <= want; n++) {
		char pragma[64];

		rc = sqlite3_exec(st->db, store_schema_migration(n), NULL, NULL,
		    NULL);
		if (rc != SQLITE_OK)
			goto fail_tx;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", n);
		rc = sqlite3_exec(st->db, pragma, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto fail_tx;
	}
	rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail_tx;
	return 0;
fail_tx:
	*err = xasprintf("migrating schema: %s", sqlite3_errmsg(st->db));
	*busy = store_rc(rc) == STORE_BUSY;
	sqlite3_finalize(s);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
fail:
	*err = xasprintf("reading schema version: %s", sqlite3_errmsg(st->db));
	*busy = store_rc(rc) == STORE_BUSY;
	sqlite3_finalize(s);
	return -1;
}

static struct store *
open_db(const char *path, bool create, char **err, bool *busy, bool *missing)
{
	struct store *st;
	struct stat sb;
	const char *real;
	int rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	*err = NULL;
	*busy = false;
	if (missing)
		*missing = false;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	else if (stat(path, &sb) == -1) {
		if (missing)
			*missing = errno == ENOENT;
		*err = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	rc = sqlite3_open_v2(path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		*err = xasprintf("%s: %s", path, st->db ?
		    sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	real = sqlite3_db_filename(st->db, "main");
	st->path = xstrdup(real ? real : "");
	if (st->path[0] != '\0') {
		if (stat(st->path, &sb) == -1) {
			*err = xasprintf("%s: %s", path, strerror(errno));
			goto fail;
		}
		st->dev = sb.st_dev;
		st->ino = sb.st_ino;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	/* journal_mode=WAL needs a lock on a fresh file; retry via busy. */
	rc = sqlite3_exec(st->db,
	    "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = NORMAL;"
	    "PRAGMA foreign_keys = ON;"
	    "PRAGMA temp_store = MEMORY;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		*busy = store_rc(rc) == STORE_BUSY;
		*err = xasprintf("%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (migrate(st, err, busy) == -1) {
		char *e = xasprintf("%s: %s", path, *err);

		free(*err);
		*err = e;
		goto fail;
	}
	st->conn = db_sqlite_wrap(st->db);
	return st;
fail:
	sqlite3_close(st->db);
	free(st->path);
	free(st);
	return NULL;
}

/* Reads the schema version of a PostgreSQL database (0: none yet). */
static int
pg_version(struct db *db, int *have)
{
	struct db_stmt *s = NULL;
	int rc;

	*have = 0;
	if ((rc = db_prepare(db, "SELECT to_regclass('herald_schema') IS NOT "
	    "NULL", &s)) != DB_OK)
		return rc;
	rc = db_step(s);
	if (rc == DB_ROW && db_column_int(s, 0)) {
		db_finalize(s);
		s = NULL;
		if ((rc = db_prepare(db, "SELECT coalesce(max(version), 0) "
		    "FROM herald_schema", &s)) != DB_OK)
			return rc;
		if ((rc = db_step(s)) == DB_ROW)
			*have = db_column_int(s, 0);
	}
	db_finalize(s);
	return rc == DB_ROW ? DB_OK : rc;
}

/*
 * PostgreSQL: the same numbered migrations (store_schema_pg_migration),
 * the version in the table herald_schema; concurrent starts queue on a
 * transaction-level advisory lock.
 */
static int
pg_migrate(struct db *db, bool create, char **err, bool *busy)
{
	int have, want = store_schema_version(), rc, n;
	char sql[128];

	if ((rc = pg_version(db, &have)) != DB_OK)
		goto fail;
	if (have > want) {
		*err = xasprintf("database schema version %d is newer than "
		    "this herald understands (%d): upgrade herald", have, want);
		return -1;
	}
	if (have == want)
		return 0;
	if (!create && have == 0) {
		*err = xstrdup("no herald schema in this database yet: run "
		    "herald store migrate (or any command that writes)");
		return -1;
	}
	if ((rc = db_exec(db, "BEGIN; SELECT pg_advisory_xact_lock(1212696684);"
	    "CREATE TABLE IF NOT EXISTS herald_schema (version integer NOT "
	    "NULL)")) != DB_OK)
		goto fail;
	if ((rc = pg_version(db, &have)) != DB_OK)
		goto fail_tx;
	for (n = have + 1; n <= want; n++) {
		if ((rc = db_exec(db, store_schema_pg_migration(n))) != DB_OK)
			goto fail_tx;
		snprintf(sql, sizeof(sql), "DELETE FROM herald_schema; "
		    "INSERT INTO herald_schema VALUES (%d)", n);
		if ((rc = db_exec(db, sql)) != DB_OK)
			goto fail_tx;
	}
	if ((rc = db_exec(db, "COMMIT")) != DB_OK)
		goto fail_tx;
	return 0;
fail_tx:
	*err = xasprintf("migrating schema: %s", db_errmsg(db));
	*busy = store_rc(rc) == STORE_BUSY;
	(void)db_exec(db, "ROLLBACK");
	return -1;
fail:
	*err = xasprintf("reading schema version: %s", db_errmsg(db));
	*busy = store_rc(rc) == STORE_BUSY;
	return -1;
}

static char *pg_password;	/* store_pg_password() */

void
store_pg_password(const char *password)
{
	if (pg_password) {
		explicit_bzero(pg_password, strlen(pg_password));
		free(pg_password);
	}
	pg_password = password ? xstrdup(password) : NULL;
}

/*
 * Opens a PostgreSQL database by its libpq URI.  The password is the one
 * store_pg_password() was given (database.password_env/password_file),
 * else HERALD_DB_PASSWORD's, else libpq's business (~/.pgpass, PGPASSFILE,
 * PGPASSWORD): never put it in the URI.
 */
static struct store *
store_pg_open(const char *uri, bool create, char **err, bool *busy)
{
	struct store *st;
	struct db *db;

	*err = NULL;
	*busy = false;
	db = db_pg_connect(uri, pg_password ? pg_password :
	    getenv("HERALD_DB_PASSWORD"), err, busy);
	if (db == NULL)
		return NULL;
	/*
	 * A lock another session holds is waited for as long as SQLite's
	 * busy timeout, then the command fails as busy (exit 3) instead of
	 * waiting for ever.
	 */
	if (db_exec(db, "SET lock_timeout = " STORE_STR(STORE_BUSY_MS)) != DB_OK) {
		*err = xasprintf("%s", db_errmsg(db));
		db_close(db);
		return NULL;
	}
	if (pg_migrate(db, create, err, busy) == -1) {
		db_close(db);
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	st->conn = db;
	st->uri = xstrdup(uri);
	st->path = xstrdup("");
	return st;
}

struct store *
store_open(const char *path, char **err, bool *busy)
{
	if (db_is_pg_uri(path))
		return store_pg_open(path, true, err, busy);
	return open_db(path, true, err, busy, NULL);
}

struct store *
store_open_existing(const char *path, char **err, bool *busy, bool *missing)
{
	if (missing)
		*missing = false;
	if (db_is_pg_uri(path))
		return store_pg_open(path, false, err, busy);
	return open_db(path, false, err, busy, missing);
}

int
store_check(struct store *st, char **err)
{
	struct stat sb;
	int moved = 0;

	*err = NULL;
	if (st->db == NULL || st->path == NULL || st->path[0] == '\0')
		return 0;		/* PostgreSQL, in memory, or a summary */
	if (stat(st->path, &sb) == -1) {
		*err = xasprintf("%s: the database was removed while herald "
		    "was running (%s); stopping so nothing is sent twice: "
		    "restore it from a backup, or start herald again to "
		    "begin with a new one", st->path, strerror(errno));
		return -1;
	}
	if (sb.st_dev != st->dev || sb.st_ino != st->ino ||
	    (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_HAS_MOVED,
	    &moved) == SQLITE_OK && moved)) {
		*err = xasprintf("%s: the database was replaced while herald "
		    "was running; stopping so nothing is sent twice: start "
		    "herald again to use the new file", st->path);
		return -1;
	}
	return 0;
}

struct store *
store_open_ro(const char *path, char **err)
{
	struct store *st;
	sqlite3_stmt *s = NULL;
	int rc, have = 0;
	bool busy;

	*err = NULL;
	if (db_is_pg_uri(path))
		return store_pg_open(path, false, err, &busy);
	st = xcalloc(1, sizeof(*st));
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*err = xasprintf("%s: %s", path, st->db ?
		    sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		sqlite3_close(st->db);
		free(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_RO_MS);
	/* Not herald's, or newer: say so rather than fail on a query. */
	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		have = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		*err = xasprintf("%s: %s", path, sqlite3_errmsg(st->db));
	else if (have < 1 || have > store_schema_version())
		*err = xasprintf("%s: schema version %d, not one this herald "
		    "reads (%d)", path, have, store_schema_version());
	st->conn = db_sqlite_wrap(st->db);
	if (*err) {
		store_close(st);
		return NULL;
	}
	return st;
}

struct store *
store_open_again(struct store *st, char **err, bool *busy)
{
	struct store *again;

	*busy = false;
	if (st->uri != NULL)
		return store_pg_open(st->uri, false, err, busy);
	if (st->path == NULL || st->path[0] == '\0') {
		*err = xstrdup("needs a database file, not an in-memory one");
		return NULL;
	}
	if (store_check(st, err) == -1)
		return NULL;
	again = open_db(st->path, false, err, busy, NULL);
	if (again == NULL)
		return NULL;
	if (again->dev != st->dev || again->ino != st->ino) {
		*err = xasprintf("%s: the database was replaced while herald "
		    "was running; stopping so nothing is sent twice: start "
		    "herald again to use the new file", st->path);
		store_close(again);
		return NULL;
	}
	return again;
}

void
store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < st->ncache; i++)
		db_finalize(st->cache[i].stmt);
	if (st->conn)
		db_close(st->conn);	/* closes st->db too */
	else
		sqlite3_close(st->db);
	free(st->uri);
	free(st->sender);
	free(st->path);
	free(st->msg);
	free(st);
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

struct db *
store_conn(struct store *st)
{
	return st->conn;
}

const char *
store_host(void)
{
	static char host[256];

	if (host[0] == '\0' && gethostname(host, sizeof(host) - 1) == -1)
		snprintf(host, sizeof(host), "localhost");
	return host;
}

const char *
store_sender(struct store *st)
{
	if (st->sender == NULL)
		st->sender = xasprintf("%s:%ld", store_host(), (long)getpid());
	return st->sender;
}

bool
store_is_pg(struct store *st)
{
	return db_kind(st->conn) == DB_PG;
}

const char *
store_errmsg(struct store *st)
{
	return st->msg ? st->msg : db_errmsg(st->conn);
}

void
store_set_error(struct store *st, const char *fmt, ...)
{
	va_list ap;
	char *m;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("out of memory");
	free(st->msg);
	st->msg = m;
}

struct db_stmt *
store_stmt(struct store *st, const char *sql)
{
	struct db_stmt *s;
	int i, rc;

	free(st->msg);
	st->msg = NULL;
	for (i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			s = st->cache[i].stmt;
			db_reset(s);
			db_clear_bindings(s);
			return s;
		}
	}
	if ((rc = db_prepare(st->conn, sql, &s)) != DB_OK) {
		/*
		 * PostgreSQL prepares on the server, which can be busy (a
		 * lock held past lock_timeout, a lost connection): that is
		 * exit 3, worth retrying, as on SQLite; anything else is a
		 * mistake in the SQL.
		 */
		if (store_rc(rc) == STORE_BUSY) {
			log_error("database: %s (busy: try again)",
			    db_errmsg(st->conn));
			exit(EXIT_TEMP);
		}
		fatal("store: preparing \"%s\": %s", sql, db_errmsg(st->conn));
	}
	if (st->ncache == STORE_NSTMT)
		fatal("store: statement cache full");
	st->cache[st->ncache].sql = sql;
	st->cache[st->ncache].stmt = s;
	st->ncache++;
	return s;
}

enum store_rc
store_exec(struct store *st, const char *sql)
{
	return store_rc(db_exec(st->conn, sql));
}

enum store_rc
store_begin(struct store *st)
{
	return store_exec(st, store_is_pg(st) ? "BEGIN" : "BEGIN IMMEDIATE");
}

enum store_rc
store_commit(struct store *st)
{
	enum store_rc rc = store_exec(st, "COMMIT");

	if (rc != STORE_OK)
		store_rollback(st);
	return rc;
}

void
store_rollback(struct store *st)
{
	if (db_in_tx(st->conn))
		(void)db_exec(st->conn, "ROLLBACK");
}

const char *
store_col_text(struct db_stmt *s, int col)
{
	return db_column_text(s, col);
}

long
store_collect_ids(struct db_stmt *s, int64_t **ids)
{
	size_t n = 0, cap = 0;
	int rc;

	*ids = NULL;
	while ((rc = db_step(s)) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[n++] = db_column_int64(s, 0);
	}
	db_reset(s);
	if (rc != DB_DONE) {
		free(*ids);
		*ids = NULL;
		return -1;
	}
	return (long)n;
}

enum store_rc
store_finish(struct db_stmt *s, int rc)
{
	db_reset(s);
	return rc == DB_DONE || rc == DB_ROW ? STORE_OK : store_rc(rc);
}

enum store_rc
store_finish_one(struct store *st, struct db_stmt *s, int rc, const char *what)
{
	enum store_rc r = store_finish(s, rc);

	if (r == STORE_OK && db_changes(store_conn(st)) != 1) {
		store_set_error(st, "%s: no row changed (the record is gone from "
		    "the database)", what);
		return STORE_ERR;
	}
	return r;
}

enum store_rc
store_step_done(struct db_stmt *s)
{
	int rc = db_step(s);

	db_reset(s);
	return rc == DB_DONE ? STORE_OK : store_rc(rc) == STORE_BUSY ?
	    STORE_BUSY : STORE_ERR;
}

void
store_bind_text(struct db_stmt *s, int i, const char *v)
{
	db_bind_text(s, i, v);
}
