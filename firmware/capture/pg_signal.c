/* pg_signal: incremental snapshot requests written into the WAL (see pg_signal.h). */
#include "capture/pg_signal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_catalog.h"
#include "capture/pg_incremental.h"

/* 1 when the publication exists and captures the table (or one of its partitions), 0 when it
 * does not capture it, 2 when the publication does not exist yet, -1 on error. */
static int signal_in_publication(PGconn *c, const char *pub, uint32_t oid, char *err, size_t errlen)
{
    char oidtext[16];
    snprintf(oidtext, sizeof oidtext, "%u", oid);
    const char *params[2] = {pub, oidtext};
    PGresult *res = PQexecParams(
        c,
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1),"
        " EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables pt"
        "   JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname"
        "   JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename"
        "   WHERE pt.pubname = $1 AND (c.oid = $2::pg_catalog.oid OR c.oid IN"
        "     (SELECT relid FROM pg_catalog.pg_partition_tree($2::pg_catalog.oid))))",
        2, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        if (PQgetvalue(res, 0, 0)[0] != 't')
            rc = 2;
        else
            rc = PQgetvalue(res, 0, 1)[0] == 't';
    } else {
        snprintf(err, errlen, "checking the publication: %s", PQerrorMessage(c));
    }
    PQclear(res);
    return rc;
}

int pg_signal_check_table(PGconn *c, const char *table, const char *publication, char *err,
                          size_t errlen)
{
    char schema[256], name[256];
    uint32_t oid = 0;
    pg_catalog_table t = {0};
    int rc = -1;

    if (pg_catalog_name_parse(table, schema, sizeof schema, name, sizeof name) < 0) {
        snprintf(err, errlen, "cannot read the table name '%s' (use table or schema.table)", table);
        return -1;
    }
    if (pg_catalog_table_lookup(c, schema, name, &oid, NULL, err, errlen) <= 0)
        return -1;
    char why[512];
    if (pg_catalog_table_describe(c, oid, NULL, &t, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s.%s: %s", schema, name, why);
        return -1;
    }
    const int *cols;
    if (pg_catalog_table_order_key(&t, &cols) == 0) {
        snprintf(err, errlen,
                 "%s.%s has no primary key or replica identity index, so it cannot be read in "
                 "chunks; add a primary key or set REPLICA IDENTITY USING INDEX",
                 schema, name);
        goto out;
    }
    if (publication && *publication) {
        int in = signal_in_publication(c, publication, oid, err, errlen);
        if (in < 0)
            goto out;
        if (in == 0) {
            snprintf(err, errlen,
                     "%s.%s is not in publication %s: the capture would not see its changes (add "
                     "it to source.tables)",
                     schema, name, publication);
            goto out;
        }
    }
    rc = 0;
out:
    pg_catalog_table_free(&t);
    return rc;
}

int pg_signal_execute_snapshot(PGconn *c, const char *const *tables, size_t n, char lsn[32],
                               char *err, size_t errlen)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(tables[i]));
    json_t *o = json_pack("{s:s, s:{s:o, s:s}}", "type", "execute-snapshot", "data",
                          "data-collections", list, "type", "incremental");
    char *content = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!content) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *params[2] = {PG_INCREMENTAL_SIGNAL_PREFIX, content};
    PGresult *res = PQexecParams(c, "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)", 2,
                                 NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        snprintf(lsn, 32, "%s", PQgetvalue(res, 0, 0));
        rc = 0;
    } else {
        snprintf(err, errlen, "writing the signal: %s", PQerrorMessage(c));
    }
    PQclear(res);
    free(content);
    return rc;
}
