/* pg_slot: the logical replication slot (look up, create with or without an exported snapshot,
 * drop) and the publication that selects the captured tables (see pg_slot.h). Identifiers are
 * always quoted; names are compared exactly as given (case kept). */
#include "capture/pg_slot.h"

#include "capture/pg_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_conn.h"
#include "core/buf.h"
#include "pipeline/event.h"

static void set_pg_err(char *err, size_t errlen, const char *what, const PGresult *res, PGconn *c)
{
    const char *m = res ? PQresultErrorMessage(res) : "";
    if (!m || !*m)
        m = PQerrorMessage(c);
    snprintf(err, errlen, "%s: %s", what, m && *m ? m : "unknown error");
    size_t n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int pg_slot_get(PGconn *c, const char *slot, pg_slot_info *out, char *err, size_t errlen)
{
    /* wal_status exists from PostgreSQL 13 on. */
    const char *sql =
        PQserverVersion(c) >= 130000
            ? "SELECT plugin, database, active, confirmed_flush_lsn::text, restart_lsn::text, "
              "wal_status FROM pg_catalog.pg_replication_slots WHERE slot_name = $1"
            : "SELECT plugin, database, active, confirmed_flush_lsn::text, restart_lsn::text, "
              "NULL::text FROM pg_catalog.pg_replication_slots WHERE slot_name = $1";
    const char *params[1] = {slot};
    PGresult *res = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_pg_err(err, errlen, "cannot look up the replication slot", res, c);
        goto out;
    }
    rc = 0;
    if (PQntuples(res) == 0)
        goto out;
    out->exists = 1;
    copy_str(out->plugin, sizeof out->plugin, PQgetvalue(res, 0, 0));
    copy_str(out->database, sizeof out->database, PQgetvalue(res, 0, 1));
    out->active = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    if (!PQgetisnull(res, 0, 3) && lsn_parse(PQgetvalue(res, 0, 3), &out->confirmed_flush) < 0)
        out->confirmed_flush = 0;
    if (!PQgetisnull(res, 0, 4) && lsn_parse(PQgetvalue(res, 0, 4), &out->restart_lsn) < 0)
        out->restart_lsn = 0;
    out->lost = !PQgetisnull(res, 0, 5) && strcmp(PQgetvalue(res, 0, 5), "lost") == 0;
out:
    PQclear(res);
    return rc;
}

int pg_slot_create(PGconn *repl, const char *slot, int export_snapshot, char snapshot_name[64],
                   uint64_t *consistent_lsn, char *err, size_t errlen)
{
    char *q = pg_conn_quote_ident(repl, slot);
    char cmd[256];
    PGresult *res = NULL;
    int rc = -1;

    if (snapshot_name)
        snapshot_name[0] = '\0';
    *consistent_lsn = 0;
    if (!q || strchr(slot, '.') || strlen(q) > 130) {
        snprintf(err, errlen, "invalid replication slot name '%s'", slot ? slot : "");
        goto out;
    }
    /* PostgreSQL 15 has the option-list syntax; the older keywords still work there but are
     * the only form before it. */
    if (PQserverVersion(repl) >= 150000)
        snprintf(cmd, sizeof cmd, "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT '%s')", q,
                 export_snapshot ? "export" : "nothing");
    else
        snprintf(cmd, sizeof cmd, "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput %s", q,
                 export_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
    res = PQexec(repl, cmd);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char what[160];
        snprintf(what, sizeof what, "cannot create replication slot %s", q);
        set_pg_err(err, errlen, what, res, repl);
        goto out;
    }
    /* Columns: slot_name, consistent_point, snapshot_name, output_plugin. */
    if (PQntuples(res) != 1 || PQnfields(res) < 3) {
        snprintf(err, errlen, "CREATE_REPLICATION_SLOT returned %d row(s) of %d column(s)",
                 PQntuples(res), PQnfields(res));
        goto out;
    }
    if (lsn_parse(PQgetvalue(res, 0, 1), consistent_lsn) < 0) {
        snprintf(err, errlen, "CREATE_REPLICATION_SLOT returned an invalid consistent point '%s'",
                 PQgetvalue(res, 0, 1));
        goto out;
    }
    if (export_snapshot) {
        if (PQgetisnull(res, 0, 2) || strlen(PQgetvalue(res, 0, 2)) >= 64) {
            snprintf(err, errlen, "CREATE_REPLICATION_SLOT exported no usable snapshot name");
            goto out;
        }
        if (snapshot_name)
            copy_str(snapshot_name, 64, PQgetvalue(res, 0, 2));
    }
    rc = 0;
out:
    PQclear(res);
    free(q);
    return rc;
}

int pg_slot_drop(PGconn *c, const char *slot, char *err, size_t errlen)
{
    const char *params[1] = {slot};
    PGresult *res = PQexecParams(c,
                                 "SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM "
                                 "pg_catalog.pg_replication_slots WHERE slot_name = $1",
                                 1, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_pg_err(err, errlen, "cannot drop the replication slot", res, c);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

/* Append ident to b as one double-quoted identifier ("" for an embedded quote). */
static void append_quoted(buf *b, const char *ident)
{
    buf_append(b, "\"", 1);
    for (const char *c = ident; *c; c++) {
        if (*c == '"')
            buf_append(b, "\"", 1);
        buf_append(b, c, 1);
    }
    buf_append(b, "\"", 1);
}

/* Append "schema"."name" to b. */
static void append_qualified(buf *b, const pg_table_name *t)
{
    append_quoted(b, t->schema);
    buf_append(b, ".", 1);
    append_quoted(b, t->name);
}

int pg_publication_ensure(PGconn *c, const char *name, const char *tables, char *err, size_t errlen)
{
    pg_table_name *want = NULL;
    long nwant = 0;
    int rc = -1, exists = 0, alltables = 0;
    PGresult *res = NULL;
    buf sql = BUF_INIT, list = BUF_INIT, qn = BUF_INIT;
    const char *qname;
    const char *params[1] = {name};
    int v = PQserverVersion(c);
    const char *publish = v >= 110000 ? "insert, update, delete, truncate" : "insert, update, delete";

    if (!name || !*name) {
        snprintf(err, errlen, "no publication name configured");
        return -1;
    }
    append_quoted(&qn, name);
    qname = qn.data;
    if (tables && *tables) {
        nwant = pg_catalog_name_list_parse(tables, &want, err, errlen);
        if (nwant < 0)
            goto out;
        if (nwant == 0) {
            snprintf(err, errlen, "the table list '%s' names no table", tables);
            goto out;
        }
        for (long i = 0; i < nwant; i++) {
            if (i)
                buf_append(&list, ", ", 2);
            append_qualified(&list, &want[i]);
        }
    }

    res = PQexecParams(c, "SELECT puballtables, pubinsert AND pubupdate AND pubdelete "
                          "FROM pg_catalog.pg_publication WHERE pubname = $1",
                       1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_pg_err(err, errlen, "cannot look up the publication", res, c);
        goto out;
    }
    exists = PQntuples(res) == 1;
    alltables = exists && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    int publishes_all = exists && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    res = NULL;

    if (!exists) {
        if (nwant > 0)
            buf_printf(&sql, "CREATE PUBLICATION %s FOR TABLE %.*s WITH (publish = '%s')", qname,
                       (int)list.len, list.data ? list.data : "", publish);
        else
            buf_printf(&sql, "CREATE PUBLICATION %s FOR ALL TABLES WITH (publish = '%s')", qname,
                       publish);
        if (pg_conn_exec(c, sql.data, err, errlen) < 0) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errlen, "cannot create publication %s: %s", qname, tmp);
            goto out;
        }
        rc = 0;
        goto out;
    }

    if (nwant > 0 && alltables) {
        snprintf(err, errlen,
                 "publication %s exists FOR ALL TABLES but a table list is configured: drop it "
                 "(DROP PUBLICATION %s;) so Sluice can create it for the list, or capture all "
                 "tables by clearing the table list",
                 qname, qname);
        goto out;
    }

    if (nwant > 0) {
        /* Bring the list publication to exactly the wanted tables, but only when it differs:
         * ALTER needs ownership, a DBA-made publication that already matches is used as is. */
        res = PQexecParams(c, "SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables "
                              "WHERE pubname = $1",
                           1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            set_pg_err(err, errlen, "cannot list the publication's tables", res, c);
            goto out;
        }
        int same = 1;
        unsigned char *found = calloc((size_t)nwant, 1);
        if (!found) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        for (int r = 0; r < PQntuples(res); r++) {
            int hit = 0;
            for (long i = 0; i < nwant; i++) {
                if (strcmp(want[i].schema, PQgetvalue(res, r, 0)) == 0 &&
                    strcmp(want[i].name, PQgetvalue(res, r, 1)) == 0) {
                    found[i] = 1;
                    hit = 1;
                }
            }
            if (!hit)
                same = 0;
        }
        for (long i = 0; i < nwant; i++)
            if (!found[i])
                same = 0;
        free(found);
        PQclear(res);
        res = NULL;
        if (!same) {
            buf_printf(&sql, "ALTER PUBLICATION %s SET TABLE %.*s", qname, (int)list.len,
                       list.data ? list.data : "");
            if (pg_conn_exec(c, sql.data, err, errlen) < 0) {
                char tmp[512];
                snprintf(tmp, sizeof tmp, "%s", err);
                snprintf(err, errlen, "cannot set the tables of publication %s: %s", qname, tmp);
                goto out;
            }
        }
    }
    /* An existing publication without a configured list is used as it is (FOR ALL TABLES or
     * the DBA's list); only the operations it publishes are completed when some are missing. */
    if (!publishes_all) {
        buf_reset(&sql);
        buf_printf(&sql, "ALTER PUBLICATION %s SET (publish = '%s')", qname, publish);
        if (pg_conn_exec(c, sql.data, err, errlen) < 0) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errlen,
                     "publication %s does not publish inserts, updates and deletes and cannot be "
                     "changed: %s",
                     qname, tmp);
            goto out;
        }
    }
    rc = 0;
out:
    PQclear(res);
    free(want);
    buf_free(&sql);
    buf_free(&list);
    buf_free(&qn);
    return rc;
}
