#ifndef HERALD_STORE_SCHEMA_H
#define HERALD_STORE_SCHEMA_H

/* SQL of migration n (1-based): brings user_version from n-1 to n. */
const char	*store_schema_migration(int n);
/* The same migration for PostgreSQL. */
const char	*store_schema_pg_migration(int n);

#endif
