/*
 * The schema, as numbered migrations.  Migration N brings user_version from
 * N-1 to N.  Never edit a migration that has shipped: append a new one.
 */
#include "store_sqlite.h"
#include "store_schema.h"

#include <stddef.h>

static const char *const migrations[] = {
	/* 1: the data model of DESIGN §2 */
	"CREATE TABLE subscribers ("
	"  id          INTEGER PRIMARY KEY,"
	"  email       TEXT NOT NULL,"			/* as given */
	"  email_key   TEXT NOT NULL UNIQUE,"		/* lowercased, compared */
	"  name        TEXT,"
	"  attributes  TEXT NOT NULL DEFAULT '{}',"	/* JSON object */
	"  created     INTEGER NOT NULL"		/* unix time */
	");"
	"CREATE TABLE subscriptions ("
	"  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  newsletter    TEXT NOT NULL,"
	/*
	 * Comparisons, not IN (...): SQLite builds an ephemeral table for an
	 * IN list each time the INSERT runs, which tripled the cost of a
	 * subscription insert (an import does a million).
	 */
	"  status        TEXT NOT NULL CHECK (status = 'pending' OR status = 'active'"
	"                  OR status = 'unsubscribed' OR status = 'bounced'),"
	"  created       INTEGER NOT NULL,"
	"  confirmed     INTEGER,"
	"  unsubscribed  INTEGER,"
	"  soft_bounces  INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (subscriber_id, newsletter)"
	") WITHOUT ROWID;"
	"CREATE INDEX subscriptions_by_newsletter ON subscriptions (newsletter, status);"
	"CREATE TABLE sources ("
	"  id            INTEGER PRIMARY KEY,"
	"  newsletter    TEXT NOT NULL,"
	"  kind          TEXT NOT NULL CHECK (kind IN ('feed','folder')),"
	"  location      TEXT NOT NULL,"		/* as configured */
	"  fetch_url     TEXT,"				/* after a permanent redirect */
	"  title         TEXT,"
	"  etag          TEXT,"
	"  last_modified TEXT,"
	"  last_fetch    INTEGER,"
	"  last_success  INTEGER,"
	"  last_error    TEXT,"
	"  failures      INTEGER NOT NULL DEFAULT 0,"	/* consecutive */
	"  UNIQUE (newsletter, kind, location)"
	");"
	"CREATE TABLE articles ("
	"  id         INTEGER PRIMARY KEY,"
	"  source_id  INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	"  guid       TEXT NOT NULL,"
	"  url        TEXT,"
	"  title      TEXT,"
	"  author     TEXT,"
	"  published  INTEGER,"				/* unix time UTC, NULL unknown */
	"  updated    INTEGER,"
	"  summary    TEXT,"				/* sanitised HTML */
	"  content    TEXT,"				/* sanitised HTML */
	"  text       TEXT,"				/* plain text */
	"  collected  INTEGER NOT NULL,"
	"  UNIQUE (source_id, guid)"
	");"
	"CREATE TABLE issues ("
	"  id          INTEGER PRIMARY KEY,"
	"  newsletter  TEXT NOT NULL,"
	"  number      INTEGER NOT NULL,"
	"  subject     TEXT NOT NULL,"
	"  created     INTEGER NOT NULL,"
	"  state       TEXT NOT NULL CHECK (state IN ('sending','done')),"
	"  UNIQUE (newsletter, number)"
	");"
	"CREATE TABLE issue_articles ("
	"  issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,"
	"  article_id  INTEGER NOT NULL REFERENCES articles(id),"
	"  position    INTEGER NOT NULL,"
	"  PRIMARY KEY (issue_id, article_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX issue_articles_by_article ON issue_articles (article_id);"
	"CREATE TABLE deliveries ("
	"  id             INTEGER PRIMARY KEY,"
	"  issue_id       INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,"
	"  subscriber_id  INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  state          TEXT NOT NULL CHECK (state IN ('queued','sent','deferred','failed')),"
	"  attempts       INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt   INTEGER NOT NULL DEFAULT 0,"
	"  last_reply     TEXT,"
	"  sent           INTEGER,"
	"  message_id     TEXT,"
	"  UNIQUE (issue_id, subscriber_id)"
	");"
	"CREATE INDEX deliveries_due ON deliveries (issue_id, state, next_attempt);"
	"CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id);"
	"CREATE TABLE events ("
	"  id             INTEGER PRIMARY KEY,"
	"  at             INTEGER NOT NULL,"
	"  subscriber_id  INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  newsletter     TEXT,"
	"  kind           TEXT NOT NULL,"	/* subscribe, confirm, unsubscribe, bounce, import ... */
	"  detail         TEXT"
	");"
	"CREATE INDEX events_by_subscriber ON events (subscriber_id, at);",
	/*
	 * 2: the subscription state machine (subscribers/subscription.c):
	 * when a subscription last became pending (confirm_expiry counts from
	 * there; NULL, as a bulk import leaves it: from its creation), and the delivery of its last soft
	 * bounce (a delivery sent in between resets the count).
	 */
	"ALTER TABLE subscriptions ADD COLUMN pending_since INTEGER;"
	"ALTER TABLE subscriptions ADD COLUMN soft_bounce_delivery INTEGER;"
	"UPDATE subscriptions SET pending_since = created WHERE status = 'pending';",
	/*
	 * 3: subscriber ids are never used twice.  Links carry the id, so an
	 * id freed by an erasure or an expiry must not name the next
	 * subscriber (SQLite would give a new row the largest id + 1 again).
	 * floor is the largest id ever given; inserts start above it.
	 */
	"CREATE TABLE subscriber_ids (floor INTEGER NOT NULL);"
	"INSERT INTO subscriber_ids (floor) "
	"  SELECT coalesce(max(id), 0) FROM subscribers;",
	/*
	 * 4: several senders on one database (issue 14, PostgreSQL): a
	 * delivery claimed by a sender until its lease ends, and the senders
	 * seen (status).  SQLite has one sender at a time and leaves them
	 * empty.
	 */
	"ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;"
	"ALTER TABLE deliveries ADD COLUMN claimed_until INTEGER;"
	"CREATE TABLE senders ("
	"  host       TEXT NOT NULL,"
	"  pid        INTEGER NOT NULL,"
	"  started    INTEGER NOT NULL,"
	"  heartbeat  INTEGER NOT NULL,"
	"  claimed    INTEGER NOT NULL DEFAULT 0,"	/* rows claimed in all */
	"  PRIMARY KEY (host, pid)"
	");",
	/*
	 * 5: PostgreSQL only (issue 14: the claim and outcome updates of
	 * several senders); SQLite's schema does not change.
	 */
	"",
	/*
	 * 6: delivery ids are never used twice either.  A message's VERP
	 * address carries its delivery's id, and a bounce may come weeks
	 * later: an erasure that deleted the largest id must not let the next
	 * issue give it to someone else, who would be charged that bounce.
	 * floor is the largest id ever given; an issue's rows start above it.
	 */
	"CREATE TABLE delivery_ids (floor INTEGER NOT NULL);"
	"INSERT INTO delivery_ids (floor) "
	"  SELECT coalesce(max(id), 0) FROM deliveries;",
};

/*
 * The same migrations for PostgreSQL (issue 14), one for one: migration N
 * here brings a PostgreSQL database to the schema SQLite's migration N
 * gives.  Ids are identity columns (BY DEFAULT, so a copy keeps them),
 * times are bigint unix seconds as in SQLite.
 */
static const char *const pg_migrations[] = {
	/* 1 */
	"CREATE TABLE subscribers ("
	"  id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  email       text NOT NULL,"
	"  email_key   text NOT NULL UNIQUE,"
	"  name        text,"
	"  attributes  text NOT NULL DEFAULT '{}',"
	"  created     bigint NOT NULL"
	");"
	"CREATE TABLE subscriptions ("
	"  subscriber_id bigint NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  newsletter    text NOT NULL,"
	"  status        text NOT NULL CHECK (status IN ('pending','active',"
	"                  'unsubscribed','bounced')),"
	"  created       bigint NOT NULL,"
	"  confirmed     bigint,"
	"  unsubscribed  bigint,"
	"  soft_bounces  bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (subscriber_id, newsletter)"
	");"
	"CREATE INDEX subscriptions_by_newsletter ON subscriptions (newsletter, status);"
	"CREATE TABLE sources ("
	"  id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  newsletter    text NOT NULL,"
	"  kind          text NOT NULL CHECK (kind IN ('feed','folder')),"
	"  location      text NOT NULL,"
	"  fetch_url     text,"
	"  title         text,"
	"  etag          text,"
	"  last_modified text,"
	"  last_fetch    bigint,"
	"  last_success  bigint,"
	"  last_error    text,"
	"  failures      bigint NOT NULL DEFAULT 0,"
	"  UNIQUE (newsletter, kind, location)"
	");"
	"CREATE TABLE articles ("
	"  id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  source_id  bigint NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	"  guid       text NOT NULL,"
	"  url        text,"
	"  title      text,"
	"  author     text,"
	"  published  bigint,"
	"  updated    bigint,"
	"  summary    text,"
	"  content    text,"
	"  text       text,"
	"  collected  bigint NOT NULL,"
	"  UNIQUE (source_id, guid)"
	");"
	"CREATE TABLE issues ("
	"  id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  newsletter  text NOT NULL,"
	"  number      bigint NOT NULL,"
	"  subject     text NOT NULL,"
	"  created     bigint NOT NULL,"
	"  state       text NOT NULL CHECK (state IN ('sending','done')),"
	"  UNIQUE (newsletter, number)"
	");"
	"CREATE TABLE issue_articles ("
	"  issue_id    bigint NOT NULL REFERENCES issues(id) ON DELETE CASCADE,"
	"  article_id  bigint NOT NULL REFERENCES articles(id),"
	"  position    bigint NOT NULL,"
	"  PRIMARY KEY (issue_id, article_id)"
	");"
	"CREATE INDEX issue_articles_by_article ON issue_articles (article_id);"
	"CREATE TABLE deliveries ("
	"  id             bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  issue_id       bigint NOT NULL REFERENCES issues(id) ON DELETE CASCADE,"
	"  subscriber_id  bigint NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  state          text NOT NULL CHECK (state IN ('queued','sent','deferred','failed')),"
	"  attempts       bigint NOT NULL DEFAULT 0,"
	"  next_attempt   bigint NOT NULL DEFAULT 0,"
	"  last_reply     text,"
	"  sent           bigint,"
	"  message_id     text,"
	"  UNIQUE (issue_id, subscriber_id)"
	");"
	"CREATE INDEX deliveries_due ON deliveries (issue_id, state, next_attempt);"
	"CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id);"
	"CREATE TABLE events ("
	"  id             bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  at             bigint NOT NULL,"
	"  subscriber_id  bigint REFERENCES subscribers(id) ON DELETE CASCADE,"
	"  newsletter     text,"
	"  kind           text NOT NULL,"
	"  detail         text"
	");"
	"CREATE INDEX events_by_subscriber ON events (subscriber_id, at);",
	/* 2 */
	"ALTER TABLE subscriptions ADD COLUMN pending_since bigint;"
	"ALTER TABLE subscriptions ADD COLUMN soft_bounce_delivery bigint;"
	"UPDATE subscriptions SET pending_since = created WHERE status = 'pending';",
	/* 3 */
	"CREATE TABLE subscriber_ids (floor bigint NOT NULL);"
	"INSERT INTO subscriber_ids (floor) "
	"  SELECT coalesce(max(id), 0) FROM subscribers;",
	/*
	 * 4, and SQLite's sum() over a comparison (true counts 1), which the
	 * store's counting queries use: sum(boolean) for PostgreSQL.
	 */
	"CREATE FUNCTION herald_count_true(bigint, boolean) RETURNS bigint"
	"  AS 'SELECT $1 + CASE WHEN $2 THEN 1 ELSE 0 END'"
	"  LANGUAGE sql IMMUTABLE;"
	"CREATE AGGREGATE sum(boolean) (sfunc = herald_count_true,"
	"  stype = bigint, initcond = '0');"
	"ALTER TABLE deliveries ADD COLUMN claimed_by text;"
	"ALTER TABLE deliveries ADD COLUMN claimed_until bigint;"
	"CREATE TABLE senders ("
	"  host       text NOT NULL,"
	"  pid        bigint NOT NULL,"
	"  started    bigint NOT NULL,"
	"  heartbeat  bigint NOT NULL,"
	"  claimed    bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (host, pid)"
	");"
	/* a claim takes the lowest due ids: walk them in order, no sort */
	"CREATE INDEX deliveries_claim ON deliveries (issue_id, id)"
	"  WHERE state IN ('queued', 'deferred');"
	/* the rows a sender holds, to renew its lease */
	"CREATE INDEX deliveries_held ON deliveries (claimed_by)"
	"  WHERE claimed_by IS NOT NULL;",
	/*
	 * 5: a delivery is updated twice (claimed, then its outcome) and
	 * neither update should touch an index: no index has a column
	 * either changes (state, next_attempt, claimed_*), and pages keep
	 * room for the new versions (fillfactor), so both are HOT updates.
	 * A claim walks (issue_id, id) from the pass's cursor; before, it
	 * walked every row the pass had finished, and each update added an
	 * entry to five or six indexes (100,000 rows: 9 s of server CPU).
	 */
	"DROP INDEX deliveries_due;"
	"DROP INDEX deliveries_claim;"
	"DROP INDEX deliveries_held;"
	"CREATE INDEX deliveries_issue ON deliveries (issue_id, id);"
	"ALTER TABLE deliveries SET (fillfactor = 30);",
	/*
	 * 6: the same floor as SQLite's; an identity column never gives an
	 * id twice, so the floor is kept only for `store copy` both ways.
	 */
	"CREATE TABLE delivery_ids (floor bigint NOT NULL);"
	"INSERT INTO delivery_ids (floor) "
	"  SELECT coalesce(max(id), 0) FROM deliveries;",
};

_Static_assert(sizeof(pg_migrations) == sizeof(migrations),
    "every SQLite migration needs its PostgreSQL twin");

const char *
store_schema_pg_migration(int n)
{
	if (n < 1 || n > store_schema_version())
		return NULL;
	return pg_migrations[n - 1];
}

int
store_schema_version(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

const char *
store_schema_migration(int n)
{
	if (n < 1 || n > store_schema_version())
		return NULL;
	return migrations[n - 1];
}
