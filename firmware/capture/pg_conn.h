/* pg_conn: connections to the source database with libpq. Builds the connection from the
 * configured conninfo (URL or key=value) plus the password from the secret store, as a normal or a
 * logical replication connection (replication=database), with the session settings pg_types
 * needs and application_name "sluice". Errors carry libpq's message without the password. */
#ifndef SLUICE_CAPTURE_PG_CONN_H
#define SLUICE_CAPTURE_PG_CONN_H

#include <stddef.h>
#include <libpq-fe.h>

typedef enum { PG_CONN_NORMAL = 0, PG_CONN_REPLICATION } pg_conn_kind;

/* password may be NULL (then conninfo, PGPASSWORD or ~/.pgpass apply). NULL with reason in err. */
PGconn *pg_conn_open(const char *conninfo, const char *password, pg_conn_kind kind, char *err,
                     size_t errlen);
/* Run a statement that returns no rows (or whose rows are ignored). 0 or -1 with reason. */
int pg_conn_exec(PGconn *c, const char *sql, char *err, size_t errlen);
/* Run a query expecting exactly one row with one column: *out malloc'd text (NULL for NULL). */
int pg_conn_query_value(PGconn *c, const char *sql, char **out, char *err, size_t errlen);
/* The dbname a conninfo names (e.g. for Debezium's source.db), or "" when it names none;
 * malloc'd, never NULL. */
char *pg_conn_dbname(const char *conninfo);
/* Quote an identifier ("schema"."table" parts) into a malloc'd string; NULL on failure. */
char *pg_conn_quote_ident(PGconn *c, const char *ident);

#endif
