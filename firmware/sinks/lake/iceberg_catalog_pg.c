/* iceberg_catalog_pg: the SQL catalog in PostgreSQL (see the header). Each call holds the
 * mutex for all its statements, so row counts and error texts are this call's; the connection
 * comes from pg_conn (validated conninfo, connect_timeout, errors without the password). */
#include "sinks/lake/iceberg_catalog_pg.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_conn.h"

#define ERR_PREFIX "iceberg catalog (postgresql): "

/* The advisory lock held while making the catalog tables: the bytes "SLUICEIC" as a bigint. */
#define DDL_LOCK_SQL "SELECT pg_advisory_xact_lock(6002266176527616323)"

/* Iceberg's JdbcCatalog DDL (JdbcUtil: V0_CREATE_CATALOG_SQL plus V1's iceberg_type column, and
 * CREATE_NAMESPACE_PROPERTIES_TABLE_SQL). */
static const char CREATE_TABLES_SQL[] = "CREATE TABLE IF NOT EXISTS iceberg_tables ("
                                        "catalog_name VARCHAR(255) NOT NULL,"
                                        " table_namespace VARCHAR(255) NOT NULL,"
                                        " table_name VARCHAR(255) NOT NULL,"
                                        " metadata_location VARCHAR(1000),"
                                        " previous_metadata_location VARCHAR(1000),"
                                        " iceberg_type VARCHAR(5),"
                                        " PRIMARY KEY (catalog_name, table_namespace, table_name))";
static const char CREATE_NAMESPACE_PROPERTIES_SQL[] = "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
                                                      "catalog_name VARCHAR(255) NOT NULL,"
                                                      " namespace VARCHAR(255) NOT NULL,"
                                                      " property_key VARCHAR(255),"
                                                      " property_value VARCHAR(1000),"
                                                      " PRIMARY KEY (catalog_name, namespace, property_key))";

/* Per statement kind: [0] for a V0 iceberg_tables (no iceberg_type), [1] for V1, where rows are
 * tables ('TABLE', or NULL when written by a V0 writer) or views ('VIEW', never ours). */
static const char *const LOAD_SQL[2] = {
    "SELECT metadata_location, previous_metadata_location FROM iceberg_tables"
    " WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3",
    "SELECT metadata_location, previous_metadata_location FROM iceberg_tables"
    " WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3"
    " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)",
};
static const char *const INSERT_SQL[2] = {
    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location,"
    " previous_metadata_location) VALUES ($1, $2, $3, $4, NULL) ON CONFLICT DO NOTHING",
    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location,"
    " previous_metadata_location, iceberg_type) VALUES ($1, $2, $3, $4, NULL, 'TABLE') ON CONFLICT DO NOTHING",
};
static const char *const UPDATE_SQL[2] = {
    "UPDATE iceberg_tables SET metadata_location = $4, previous_metadata_location = $5"
    " WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND metadata_location = $5",
    "UPDATE iceberg_tables SET metadata_location = $4, previous_metadata_location = $5"
    " WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND metadata_location = $5"
    " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)",
};

typedef struct catalog_pg {
    iceberg_catalog base;
    pthread_mutex_t lock;
    PGconn *conn;       /* NULL after a failed reconnect */
    char *conninfo;
    char *password;            /* NULL: none (or in conninfo / a passfile) */
    char *name;
    int typed;          /* iceberg_tables has iceberg_type (the JDBC catalog's V1 schema) */
    char sqlstate[6];   /* of the last failed statement, "" when it had none */
} catalog_pg;

/* What one call did to the connection. */
typedef struct call_state {
    int reconnected;   /* the one reconnect of this call is used up */
    int resent;        /* a statement was sent again after the connection broke */
} call_state;

/* Flatten err to one line (libpq's messages end in '\n' and continue with "\n\t"). */
static void one_line(char *err)
{
    char *w = err;
    for (const char *p = err; *p; p++) {
        char ch = *p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p;
        if (ch == ' ' && w > err && w[-1] == ' ')
            continue;
        *w++ = ch;
    }
    while (w > err && w[-1] == ' ')
        w--;
    *w = '\0';
}

/* err = the prefix, what failed, and the server's (or libpq's) message; keeps the SQLSTATE. */
static void statement_fail(catalog_pg *c, const PGresult *res, const char *what, char *err, size_t errlen)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
    if ((!msg || !*msg) && c->conn)
        msg = PQerrorMessage(c->conn);
    if (!msg || !*msg)
        msg = res ? PQresStatus(PQresultStatus(res)) : "out of memory";
    snprintf(err, errlen, ERR_PREFIX "%s: %s", what, msg);
    one_line(err);
}

/* A new connection in place of the current one. 0 or -1. */
static int conn_open(catalog_pg *c, char *err, size_t errlen)
{
    char why[512];
    PQfinish(c->conn);
    c->conn = pg_conn_open(c->conninfo, c->password, PG_CONN_NORMAL, why, sizeof why);
    if (!c->conn) {
        snprintf(err, errlen, ERR_PREFIX "%s", why);
        return -1;
    }
    return 0;
}

/* Run sql with n text parameters; its result when the status is want, else NULL with err.
 * Connects first when there is no good connection, and when the statement fails because the
 * connection broke, reconnects and sends it again: at most one reconnect per call (cs). */
static PGresult *run(catalog_pg *c, const char *what, const char *sql, int n, const char *const *params,
                     ExecStatusType want, call_state *cs, char *err, size_t errlen)
{
    c->sqlstate[0] = '\0';
    for (int sent = 0;; sent++) {
        if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
            if (cs->reconnected) {
                snprintf(err, errlen, ERR_PREFIX "%s: the connection is lost", what);
                return NULL;
            }
            cs->reconnected = 1;
            if (conn_open(c, err, errlen) != 0)
                return NULL;
            if (sent)
                cs->resent = 1;
        }
        PGresult *res = PQexecParams(c->conn, sql, n, NULL, params, NULL, NULL, 0);
        if (res && PQresultStatus(res) == want)
            return res;
        statement_fail(c, res, what, err, errlen);
        PQclear(res);
        if (PQstatus(c->conn) == CONNECTION_OK || cs->reconnected)
            return NULL;
    }
}

/* The catalog tables, made once: 0, or -1 with err and *raced when someone made one without
 * our lock between our look and our CREATE (duplicate table, or the unique_violation of
 * concurrent CREATE TABLE IF NOT EXISTS). The look comes first because CREATE ... IF NOT EXISTS
 * needs the CREATE privilege even when the table exists. */
static int tables_make(catalog_pg *c, int *raced, char *err, size_t errlen)
{
    call_state cs = {1, 0};   /* no reconnect inside the transaction */
    PGresult *res = run(c, "begin", "BEGIN", 0, NULL, PGRES_COMMAND_OK, &cs, err, errlen);
    int rc = -1;
    *raced = 0;
    if (!res)
        return -1;
    PQclear(res);
    if (!(res = run(c, "lock the catalog tables", DDL_LOCK_SQL, 0, NULL, PGRES_TUPLES_OK, &cs, err, errlen)))
        goto out;
    PQclear(res);
    res = run(c, "look up the catalog tables",
              "SELECT to_regclass('iceberg_tables') IS NOT NULL,"
              " to_regclass('iceberg_namespace_properties') IS NOT NULL",
              0, NULL, PGRES_TUPLES_OK, &cs, err, errlen);
    if (!res)
        goto out;
    int have_tables = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    int have_props = PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    const char *ddl[2] = {have_tables ? NULL : CREATE_TABLES_SQL, have_props ? NULL : CREATE_NAMESPACE_PROPERTIES_SQL};
    for (int i = 0; i < 2; i++) {
        if (!ddl[i])
            continue;
        if (!(res = run(c, i == 0 ? "create iceberg_tables" : "create iceberg_namespace_properties", ddl[i], 0,
                        NULL, PGRES_COMMAND_OK, &cs, err, errlen))) {
            *raced = !strcmp(c->sqlstate, "42P07") || !strcmp(c->sqlstate, "23505");
            goto out;
        }
        PQclear(res);
    }
    if (!(res = run(c, "commit the catalog tables", "COMMIT", 0, NULL, PGRES_COMMAND_OK, &cs, err, errlen)))
        goto out;
    PQclear(res);
    rc = 0;
out:
    if (rc != 0 && c->conn && PQstatus(c->conn) == CONNECTION_OK)
        PQclear(PQexec(c->conn, "ROLLBACK"));
    return rc;
}

/* Make the tables when missing (looking again once after a race), then note whether
 * iceberg_tables is the V1 layout. 0 or -1. */
static int tables_ensure(catalog_pg *c, char *err, size_t errlen)
{
    int raced = 0;
    if (tables_make(c, &raced, err, errlen) != 0 && (!raced || tables_make(c, &raced, err, errlen) != 0))
        return -1;
    call_state cs = {1, 0};
    PGresult *res = run(c, "look up iceberg_tables' columns",
                        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('iceberg_tables')"
                        " AND attname = 'iceberg_type' AND NOT attisdropped)",
                        0, NULL, PGRES_TUPLES_OK, &cs, err, errlen);
    if (!res)
        return -1;
    c->typed = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}

static int ident_check(const iceberg_table_ident *t, char *err, size_t errlen)
{
    if (!t->ns || !*t->ns || !t->name || !*t->name) {
        snprintf(err, errlen, ERR_PREFIX "a table needs a namespace and a name");
        return -1;
    }
    return 0;
}

/* The table's metadata location into *location (malloc'd), and when previous is not NULL
 * whether new_location is its current or previous one. OK, NOT_FOUND or ERR. */
static int location_get(catalog_pg *c, const iceberg_table_ident *t, char **location, const char *new_location,
                        int *previous, call_state *cs, char *err, size_t errlen)
{
    const char *params[3] = {c->name, t->ns, t->name};
    char what[600];
    int rc = ICEBERG_CATALOG_ERR;
    *location = NULL;
    snprintf(what, sizeof what, "load %s.%s", t->ns, t->name);
    PGresult *res = run(c, what, LOAD_SQL[c->typed], 3, params, PGRES_TUPLES_OK, cs, err, errlen);
    if (!res)
        return ICEBERG_CATALOG_ERR;
    if (PQntuples(res) == 0) {
        snprintf(err, errlen, ERR_PREFIX "no table %s.%s", t->ns, t->name);
        rc = ICEBERG_CATALOG_NOT_FOUND;
    } else if (PQgetisnull(res, 0, 0)) {
        snprintf(err, errlen, ERR_PREFIX "table %s.%s has no metadata location", t->ns, t->name);
    } else if (!(*location = strdup(PQgetvalue(res, 0, 0)))) {
        snprintf(err, errlen, "out of memory");
    } else {
        rc = ICEBERG_CATALOG_OK;
        if (previous)
            *previous = !strcmp(*location, new_location) ||
                        (!PQgetisnull(res, 0, 1) && !strcmp(PQgetvalue(res, 0, 1), new_location));
    }
    PQclear(res);
    return rc;
}

static int pg_load_table(iceberg_catalog *base, const iceberg_table_ident *t, char **location, char *err,
                         size_t errlen)
{
    catalog_pg *c = (catalog_pg *)base;
    call_state cs = {0, 0};
    *location = NULL;
    if (ident_check(t, err, errlen) != 0)
        return ICEBERG_CATALOG_ERR;
    pthread_mutex_lock(&c->lock);
    int rc = location_get(c, t, location, NULL, NULL, &cs, err, errlen);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static int pg_commit(iceberg_catalog *base, const iceberg_table_ident *t, const char *expected,
                     const char *new_location, char *err, size_t errlen)
{
    catalog_pg *c = (catalog_pg *)base;
    call_state cs = {0, 0};
    char what[600];
    int rc = ICEBERG_CATALOG_ERR;
    if (ident_check(t, err, errlen) != 0)
        return ICEBERG_CATALOG_ERR;
    if (!new_location || !*new_location) {
        snprintf(err, errlen, ERR_PREFIX "commit: no new metadata location");
        return ICEBERG_CATALOG_ERR;
    }
    const char *params[5] = {c->name, t->ns, t->name, new_location, expected};
    snprintf(what, sizeof what, "commit %s.%s", t->ns, t->name);
    pthread_mutex_lock(&c->lock);
    PGresult *res = run(c, what, expected ? UPDATE_SQL[c->typed] : INSERT_SQL[c->typed], expected ? 5 : 4, params,
                        PGRES_COMMAND_OK, &cs, err, errlen);
    if (!res)
        goto out;
    if (strcmp(PQcmdTuples(res), "1") == 0) {
        rc = ICEBERG_CATALOG_OK;
        goto out;
    }
    /* Sent twice: the first may have committed before the connection broke. new_location is
     * this writer's own file, so finding it in the row (as the current location, or as the
     * previous one when another writer has already committed on top) means the commit was ours.
     * Only two more commits on top within the reconnect would go unseen. */
    if (cs.resent) {
        char *now = NULL;
        int ours = 0;
        if (location_get(c, t, &now, new_location, &ours, &cs, err, errlen) == ICEBERG_CATALOG_OK && ours)
            rc = ICEBERG_CATALOG_OK;
        free(now);
        if (rc == ICEBERG_CATALOG_OK)
            goto out;
    }
    snprintf(err, errlen,
             expected ? ERR_PREFIX "commit %s.%s: conflict, the table is no longer at the expected metadata"
                      : ERR_PREFIX "commit %s.%s: conflict, the table already exists",
             t->ns, t->name);
    rc = ICEBERG_CATALOG_CONFLICT;
out:
    PQclear(res);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static void pg_destroy(iceberg_catalog *base)
{
    catalog_pg *c = (catalog_pg *)base;
    PQfinish(c->conn);
    pthread_mutex_destroy(&c->lock);
    free(c->conninfo);
    free(c->password);
    free(c->name);
    free(c);
}

static const iceberg_catalog_ops pg_ops = {
    .load_table = pg_load_table,
    .commit = pg_commit,
    .destroy = pg_destroy,
};

iceberg_catalog *iceberg_catalog_pg_create(const char *conninfo, const char *password, const char *catalog_name,
                                           char *err, size_t errlen)
{
    if (!conninfo || !*conninfo || !catalog_name || !*catalog_name) {
        snprintf(err, errlen, ERR_PREFIX "needs a connection string and a catalog name");
        return NULL;
    }
    catalog_pg *c = calloc(1, sizeof *c);
    if (!c || !(c->conninfo = strdup(conninfo)) || !(c->name = strdup(catalog_name)) ||
        (password && !(c->password = strdup(password)))) {
        if (c) {
            free(c->conninfo);
            free(c->name);
        }
        free(c);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->base.ops = &pg_ops;
    if (conn_open(c, err, errlen) != 0 || tables_ensure(c, err, errlen) != 0) {
        pg_destroy(&c->base);
        return NULL;
    }
    return &c->base;
}
