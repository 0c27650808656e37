/*
 * db_pg: the PostgreSQL driver of the db layer (db.h), over libpq.
 *
 * Statements are prepared on the server once per connection (named s1,
 * s2, ...) after ?N parameters are rewritten to $N and SQLite's INSERT OR
 * IGNORE / OR FAIL to PostgreSQL's spelling.  Values travel as text;
 * the server infers each parameter's type from where it is used.  A step
 * runs the statement on its first call and walks the rows of the result
 * on the next ones, so a result is held whole: the store's queries that
 * could return many rows read them in pages.
 */
#include <libpq-fe.h>

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "xmalloc.h"

#define PG_MAXPARAM	32

struct pg_db {
	struct db	 base;
	PGconn		*c;
	int		 nstmt;		/* names given so far */
	int64_t		 changes;
	char		*msg;
	bool		 listening;	/* db_pg_wait() has run LISTEN */
};

struct pg_stmt {
	struct db_stmt	 base;
	char		 name[16];
	int		 nparam;
	char		*val[PG_MAXPARAM];
	PGresult	*res;
	int		 row;		/* the current row; -1 before a step */
	int		 nrow;
};

#define PD(db)	((struct pg_db *)(db))
#define PS(st)	((struct pg_stmt *)(st))

bool
db_is_pg_uri(const char *s)
{
	return s != NULL && (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0);
}

static void
pg_set_msg(struct pg_db *db, const char *m)
{
	size_t n;

	free(db->msg);
	db->msg = xstrdup(m ? m : "unknown error");
	n = strlen(db->msg);
	while (n > 0 && (db->msg[n - 1] == '\n' || db->msg[n - 1] == ' '))
		db->msg[--n] = '\0';
}

/* A failed result's code: lock and serialization conflicts are BUSY. */
static int
pg_result_rc(struct pg_db *db, PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	pg_set_msg(db, r ? PQresultErrorMessage(r) : PQerrorMessage(db->c));
	if (state == NULL)
		return PQstatus(db->c) == CONNECTION_BAD ? DB_BUSY : DB_ERROR;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0 || strncmp(state, "08", 2) == 0 ||
	    strcmp(state, "57P01") == 0)
		return DB_BUSY;
	if (strncmp(state, "23", 2) == 0)
		return DB_CONSTRAINT;
	return DB_ERROR;
}

static bool
word_at(const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncasecmp(p, w, n) == 0;
}

/*
 * Whether the call whose "(" is at p has a comma at its own level: SQLite's
 * scalar max(a, b) and min(a, b), which PostgreSQL spells greatest/least.
 */
static bool
several_args(const char *p)
{
	int depth = 0;
	char quote = 0;

	for (; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"')
			quote = *p;
		else if (*p == '(')
			depth++;
		else if (*p == ')') {
			if (--depth == 0)
				return false;
		} else if (*p == ',' && depth == 1)
			return true;
	}
	return false;
}

static bool
ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/*
 * SQLite's spelling to PostgreSQL's: ?N and ? to $N outside quotes,
 * INSERT OR IGNORE to INSERT ... ON CONFLICT DO NOTHING, INSERT OR FAIL
 * to INSERT, scalar max(a, b, ...) and min() to greatest() and least().
 * Returns the new text (caller frees) and the highest parameter number
 * in *nparam.
 */
static char *
pg_translate(const char *sql, int *nparam)
{
	size_t len = strlen(sql), cap = len * 2 + 64, o = 0;
	char *out = xmalloc(cap);
	const char *p = sql, *ret;
	char quote = 0;
	int next = 1, n;
	bool ignore = false;

	*nparam = 0;
	while (*p) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			out[o++] = *p++;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			out[o++] = *p++;
			continue;
		}
		if (word_at(p, "INSERT OR IGNORE ")) {
			memcpy(out + o, "INSERT ", 7);
			o += 7;
			p += 17;
			ignore = true;
			continue;
		}
		if (word_at(p, "INSERT OR FAIL ")) {
			memcpy(out + o, "INSERT ", 7);
			o += 7;
			p += 15;
			continue;
		}
		if ((p == sql || !ident_char(p[-1])) && (word_at(p, "max(") ||
		    word_at(p, "min(")) && several_args(p + 3)) {
			const char *w = (p[1] == 'a' || p[1] == 'A') ?
			    "greatest(" : "least(";

			memcpy(out + o, w, strlen(w));
			o += strlen(w);
			p += 4;
			continue;
		}
		if (*p == '?') {
			p++;
			if (*p >= '0' && *p <= '9') {
				n = (int)strtol(p, (char **)&p, 10);
			} else
				n = next;
			next = n + 1;
			if (n > *nparam)
				*nparam = n;
			o += (size_t)snprintf(out + o, cap - o, "$%d", n);
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	if (ignore) {
		/* Before a RETURNING clause, if there is one. */
		ret = strstr(out, " RETURNING ");
		if (ret == NULL) {
			snprintf(out + o, cap - o, " ON CONFLICT DO NOTHING");
		} else {
			size_t at = (size_t)(ret - out);
			char *tail = xstrdup(out + at);

			snprintf(out + at, cap - at, " ON CONFLICT DO NOTHING%s",
			    tail);
			free(tail);
		}
	}
	return out;
}

static int
pg_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct pg_stmt *st;
	PGresult *r;
	char *text;
	int nparam, rc;

	*out = NULL;
	text = pg_translate(sql, &nparam);
	if (nparam > PG_MAXPARAM) {
		free(text);
		pg_set_msg(PD(db), "too many parameters");
		return DB_ERROR;
	}
	st = xcalloc(1, sizeof(*st));
	st->base.db = db;
	st->nparam = nparam;
	st->row = -1;
	snprintf(st->name, sizeof(st->name), "s%d", ++PD(db)->nstmt);
	r = PQprepare(PD(db)->c, st->name, text, 0, NULL);
	free(text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = pg_result_rc(PD(db), r);
		PQclear(r);
		free(st);
		return rc;
	}
	PQclear(r);
	*out = &st->base;
	return DB_OK;
}

static void
pg_reset(struct db_stmt *s)
{
	PQclear(PS(s)->res);
	PS(s)->res = NULL;
	PS(s)->row = -1;
	PS(s)->nrow = 0;
}

static void
pg_clear(struct db_stmt *s)
{
	int i;

	for (i = 0; i < PG_MAXPARAM; i++) {
		free(PS(s)->val[i]);
		PS(s)->val[i] = NULL;
	}
}

static void
pg_finalize(struct db_stmt *s)
{
	char sql[64];
	PGresult *r;

	pg_reset(s);
	pg_clear(s);
	if (PQstatus(PD(s->db)->c) == CONNECTION_OK &&
	    PQtransactionStatus(PD(s->db)->c) == PQTRANS_IDLE) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", PS(s)->name);
		r = PQexec(PD(s->db)->c, sql);
		PQclear(r);
	}
	free(s);
}

static void
pg_bind(struct db_stmt *s, int i, char *v)
{
	if (i < 1 || i > PG_MAXPARAM) {
		free(v);
		return;
	}
	if (PS(s)->res)
		pg_reset(s);
	free(PS(s)->val[i - 1]);
	PS(s)->val[i - 1] = v;
}

static void
pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	pg_bind(s, i, xasprintf("%" PRId64, v));
}

static void
pg_bind_text(struct db_stmt *s, int i, const char *v)
{
	pg_bind(s, i, xstrdup(v));
}

static void
pg_bind_null(struct db_stmt *s, int i)
{
	pg_bind(s, i, NULL);
}

static int
pg_step(struct db_stmt *s)
{
	struct pg_stmt *st = PS(s);
	struct pg_db *db = PD(s->db);
	ExecStatusType t;
	const char *n;

	if (st->res == NULL) {
		st->res = PQexecPrepared(db->c, st->name, st->nparam,
		    (const char *const *)st->val, NULL, NULL, 0);
		t = PQresultStatus(st->res);
		if (t != PGRES_TUPLES_OK && t != PGRES_COMMAND_OK) {
			int rc = pg_result_rc(db, st->res);

			pg_reset(s);
			return rc;
		}
		n = PQcmdTuples(st->res);
		if (n && *n)
			db->changes = strtoll(n, NULL, 10);
		st->nrow = PQntuples(st->res);
		st->row = -1;
	}
	if (st->row + 1 < st->nrow) {
		st->row++;
		return DB_ROW;
	}
	st->row = st->nrow;
	return DB_DONE;
}

static bool
pg_column_null(struct db_stmt *s, int col)
{
	struct pg_stmt *st = PS(s);

	if (st->res == NULL || st->row < 0 || st->row >= st->nrow ||
	    col >= PQnfields(st->res))
		return true;
	return PQgetisnull(st->res, st->row, col);
}

static const char *
pg_column_text(struct db_stmt *s, int col)
{
	if (pg_column_null(s, col))
		return NULL;
	return PQgetvalue(PS(s)->res, PS(s)->row, col);
}

static int64_t
pg_column_int64(struct db_stmt *s, int col)
{
	const char *v = pg_column_text(s, col);

	if (v == NULL)
		return 0;
	if (v[0] == 't' && v[1] == '\0')
		return 1;
	if (v[0] == 'f' && v[1] == '\0')
		return 0;
	return strtoll(v, NULL, 10);
}

static int
pg_column_count(struct db_stmt *s)
{
	return PS(s)->res ? PQnfields(PS(s)->res) : 0;
}

static const char *
pg_column_name(struct db_stmt *s, int col)
{
	return PS(s)->res ? PQfname(PS(s)->res, col) : NULL;
}

static int
pg_exec(struct db *db, const char *sql)
{
	PGresult *r = PQexec(PD(db)->c, sql);
	ExecStatusType t = PQresultStatus(r);
	const char *n;
	int rc = DB_OK;

	if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
		rc = pg_result_rc(PD(db), r);
	else if ((n = PQcmdTuples(r)) != NULL && *n)
		PD(db)->changes = strtoll(n, NULL, 10);
	PQclear(r);
	return rc;
}

static int64_t
pg_changes(struct db *db)
{
	return PD(db)->changes;
}

static int64_t
pg_last_insert_id(struct db *db)
{
	PGresult *r = PQexec(PD(db)->c, "SELECT lastval()");
	int64_t id = 0;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return id;
}

static const char *
pg_errmsg(struct db *db)
{
	return PD(db)->msg ? PD(db)->msg : "no error";
}

static bool
pg_in_tx(struct db *db)
{
	return PQtransactionStatus(PD(db)->c) != PQTRANS_IDLE;
}

static void
pg_close(struct db *db)
{
	PQfinish(PD(db)->c);
	free(PD(db)->msg);
	free(db);
}

static const struct db_ops pg_ops = {
	.kind = DB_PG,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.reset = pg_reset,
	.clear = pg_clear,
	.column_int64 = pg_column_int64,
	.column_text = pg_column_text,
	.column_null = pg_column_null,
	.column_count = pg_column_count,
	.column_name = pg_column_name,
	.exec = pg_exec,
	.changes = pg_changes,
	.last_insert_id = pg_last_insert_id,
	.errmsg = pg_errmsg,
	.in_tx = pg_in_tx,
	.close = pg_close,
};

static void
pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

struct db *
db_pg_connect(const char *uri, const char *password, char **err, bool *busy)
{
	const char *keys[] = { "dbname", "application_name", "password", NULL };
	const char *vals[] = { uri, "herald", password, NULL };
	struct pg_db *db;
	PGconn *c;
	PGresult *r;

	*err = NULL;
	*busy = false;
	if (password == NULL)
		keys[2] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		const char *m = c ? PQerrorMessage(c) : "out of memory";
		size_t n = strlen(m);

		while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
			n--;
		*err = xasprintf("%.*s", (int)n, m);
		/* Down or unreachable is worth a retry; a refused login is not. */
		*busy = c == NULL || (!PQconnectionNeedsPassword(c) &&
		    strstr(m, "authentication") == NULL &&
		    strstr(m, "does not exist") == NULL);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, pg_quiet, NULL);
	/* Times are unix seconds in columns; keep the session predictable. */
	r = PQexec(c, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	PQclear(r);
	db = xcalloc(1, sizeof(*db));
	db->base.ops = &pg_ops;
	db->c = c;
	return &db->base;
}

/* COPY ... FROM STDIN (db.h): the rows of a bulk load in one stream. */
int
db_pg_copy_begin(struct db *db, const char *sql)
{
	PGresult *r = PQexec(PD(db)->c, sql);
	int rc = DB_OK;

	if (PQresultStatus(r) != PGRES_COPY_IN)
		rc = pg_result_rc(PD(db), r);
	PQclear(r);
	return rc;
}

int
db_pg_copy_put(struct db *db, const char *data, size_t len)
{
	/* blocking connection: 1 (queued) or -1 (failed), never 0 */
	while (len > 0) {
		int n = len > (1 << 30) ? 1 << 30 : (int)len;

		if (PQputCopyData(PD(db)->c, data, n) != 1) {
			pg_set_msg(PD(db), PQerrorMessage(PD(db)->c));
			return DB_ERROR;
		}
		data += n;
		len -= (size_t)n;
	}
	return DB_OK;
}

int
db_pg_copy_end(struct db *db, bool ok)
{
	struct pg_db *p = PD(db);
	PGresult *r;
	int rc = DB_OK;
	const char *n;

	if (PQputCopyEnd(p->c, ok ? NULL : "abandoned by herald") != 1) {
		pg_set_msg(p, PQerrorMessage(p->c));
		rc = DB_ERROR;
	}
	/* the COPY's result, then NULL: read them all */
	while ((r = PQgetResult(p->c)) != NULL) {
		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			if ((n = PQcmdTuples(r)) != NULL && *n)
				p->changes = strtoll(n, NULL, 10);
		} else if (rc == DB_OK && ok)
			rc = pg_result_rc(p, r);
		PQclear(r);
	}
	return ok ? rc : (rc == DB_OK ? DB_ERROR : rc);
}

/* Takes the notifications libpq has read; whether there was one. */
static bool
pg_take_notifies(PGconn *c)
{
	PGnotify *n;
	bool any = false;

	while ((n = PQnotifies(c)) != NULL) {
		any = true;
		PQfreemem(n);
	}
	return any;
}

int
db_pg_wait(struct db *db, const char *channel, int timeout_ms)
{
	PGconn *c = PD(db)->c;
	struct pollfd pfd;
	char *sql, *id;
	int rc;

	if (!PD(db)->listening) {
		id = PQescapeIdentifier(c, channel, strlen(channel));
		if (id == NULL) {
			pg_set_msg(PD(db), PQerrorMessage(c));
			return DB_ERROR;
		}
		sql = xasprintf("LISTEN %s", id);
		PQfreemem(id);
		rc = pg_exec(db, sql);
		free(sql);
		if (rc != DB_OK)
			return rc;
		PD(db)->listening = true;
		return DB_DONE;
	}
	if (PQconsumeInput(c) == 0) {
		pg_set_msg(PD(db), PQerrorMessage(c));
		return DB_BUSY;
	}
	if (pg_take_notifies(c))
		return DB_ROW;
	pfd.fd = PQsocket(c);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0 || poll(&pfd, 1, timeout_ms) <= 0)
		return DB_DONE;	/* timed out (or a signal: the caller checks) */
	if (PQconsumeInput(c) == 0) {
		pg_set_msg(PD(db), PQerrorMessage(c));
		return DB_BUSY;
	}
	return pg_take_notifies(c) ? DB_ROW : DB_DONE;
}
