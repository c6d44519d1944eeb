/* pg_preflight: checks that a source database can be captured (see pg_preflight.h). Each check
 * is one small function that runs its catalog queries and appends one result with what it found
 * and, when not ok, the SQL or setting that fixes it. A query that fails becomes a FAIL of that
 * check; only a broken connection stops the run. */
#include "capture/pg_preflight.h"

#include "capture/pg_catalog.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_conn.h"
#include "capture/pg_slot.h"
#include "core/buf.h"
#include "pipeline/event.h"

/* How many table names a message lists before "and N more". */
#define PREFLIGHT_LIST_MAX 10

int preflight_report_add(preflight_report *r, const char *name, preflight_status st,
                         const char *message, const char *fix)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        preflight_result *ni = realloc(r->items, ncap * sizeof *ni);
        if (!ni)
            return -1;
        r->items = ni;
        r->cap = ncap;
    }
    preflight_result *it = &r->items[r->n++];
    memset(it, 0, sizeof *it);
    snprintf(it->name, sizeof it->name, "%s", name);
    it->status = st;
    snprintf(it->message, sizeof it->message, "%s", message ? message : "");
    snprintf(it->fix, sizeof it->fix, "%s", fix && st != PREFLIGHT_OK ? fix : "");
    return 0;
}

/* printf-style add; message and fix are formatted into bufs (truncated at the result's size). */
static void add(preflight_report *r, const char *name, preflight_status st, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add(preflight_report *r, const char *name, preflight_status st, const char *fix,
                const char *fmt, ...)
{
    char msg[sizeof r->items[0].message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    preflight_report_add(r, name, st, msg, fix);
}

void preflight_report_print(const preflight_report *r, FILE *out)
{
    static const char *const tag[] = {"ok  ", "WARN", "FAIL"};
    for (size_t i = 0; i < r->n; i++) {
        const preflight_result *it = &r->items[i];
        fprintf(out, "%s %s: %s\n", tag[it->status], it->name, it->message);
        if (it->status != PREFLIGHT_OK && it->fix[0])
            fprintf(out, "     fix: %s\n", it->fix);
    }
}

void preflight_report_free(preflight_report *r)
{
    if (!r)
        return;
    free(r->items);
    r->items = NULL;
    r->n = r->cap = 0;
}

/* Run a query with text parameters; the result when it returned rows, else NULL with the
 * server's message in err. */
static PGresult *query(PGconn *c, const char *sql, int nparams, const char *const *params,
                       char *err, size_t errlen)
{
    PGresult *res = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(c);
    snprintf(err, errlen, "%s", m && *m ? m : "query failed");
    size_t n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
    PQclear(res);
    return NULL;
}

static void add_query_failed(preflight_report *r, const char *name, const char *err)
{
    add(r, name, PREFLIGHT_FAIL,
        "grant the role read access to the system catalogs (pg_catalog) or run the check as "
        "another role",
        "could not check: %s", err);
}

/* Append ident double-quoted to b. */
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

/* Append "schema.table" for a message (unquoted, readable) or quoted for SQL. */
static void append_table(buf *b, const char *schema, const char *table, int quoted)
{
    if (quoted) {
        append_quoted(b, schema);
        buf_append(b, ".", 1);
        append_quoted(b, table);
    } else {
        buf_printf(b, "%s.%s", schema, table);
    }
}

static void check_version(PGconn *c, preflight_report *r)
{
    int v = PQserverVersion(c);
    const char *s = PQparameterStatus(c, "server_version");
    if (!s)
        s = "?";
    if (v < 100000)
        add(r, "server_version", PREFLIGHT_FAIL,
            "upgrade PostgreSQL to 10 or later (14 or later recommended)",
            "PostgreSQL %s: logical replication with pgoutput needs version 10 or later", s);
    else if (v < 140000)
        add(r, "server_version", PREFLIGHT_WARN,
            "upgrade to PostgreSQL 14 or later to stream large transactions while they run",
            "PostgreSQL %s: large transactions are sent only after they commit (streaming of "
            "in-progress transactions needs 14 or later)",
            s);
    else
        add(r, "server_version", PREFLIGHT_OK, NULL, "PostgreSQL %s", s);
}

static void check_wal_level(PGconn *c, preflight_report *r)
{
    char err[256];
    PGresult *res = query(c, "SELECT pg_catalog.current_setting('wal_level')", 0, NULL, err,
                          sizeof err);
    if (!res) {
        add_query_failed(r, "wal_level", err);
        return;
    }
    const char *lvl = PQgetvalue(res, 0, 0);
    if (strcmp(lvl, "logical") == 0)
        add(r, "wal_level", PREFLIGHT_OK, NULL, "logical");
    else
        add(r, "wal_level", PREFLIGHT_FAIL,
            "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (on RDS: set "
            "rds.logical_replication = 1 in the parameter group)",
            "wal_level is %s; logical decoding needs logical", lvl);
    PQclear(res);
}

static void check_privilege(PGconn *c, preflight_report *r)
{
    char err[256], fix[512];
    PGresult *res = query(c,
                          "SELECT r.rolname, r.rolsuper, r.rolreplication, EXISTS (SELECT 1 FROM "
                          "pg_catalog.pg_roles g WHERE g.rolname = 'rds_replication' AND "
                          "pg_catalog.pg_has_role(current_user, g.oid, 'MEMBER')) "
                          "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
                          0, NULL, err, sizeof err);
    if (!res) {
        add_query_failed(r, "privilege", err);
        return;
    }
    if (PQntuples(res) != 1) {
        add_query_failed(r, "privilege", "the current role is not in pg_roles");
        PQclear(res);
        return;
    }
    const char *role = PQgetvalue(res, 0, 0);
    if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
        add(r, "privilege", PREFLIGHT_OK, NULL, "role %s is a superuser", role);
    } else if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
        add(r, "privilege", PREFLIGHT_OK, NULL, "role %s has REPLICATION", role);
    } else if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
        add(r, "privilege", PREFLIGHT_OK, NULL, "role %s is a member of rds_replication", role);
    } else {
        buf q = BUF_INIT;
        append_quoted(&q, role);
        snprintf(fix, sizeof fix, "ALTER ROLE %s REPLICATION; (on RDS: GRANT rds_replication TO %s;)",
                 q.data, q.data);
        buf_free(&q);
        add(r, "privilege", PREFLIGHT_FAIL, fix,
            "role %s has neither SUPERUSER nor REPLICATION and is not a member of rds_replication: "
            "it cannot open a replication connection",
            role);
    }
    PQclear(res);
}

static void check_slots(PGconn *c, const char *slot, preflight_report *r)
{
    char err[256], fix[512];
    pg_slot_info info;
    PGresult *res = NULL;

    if (pg_slot_get(c, slot, &info, err, sizeof err) < 0) {
        add_query_failed(r, "replication_slots", err);
        return;
    }
    if (info.exists) {
        char lsn[18];
        res = query(c, "SELECT pg_catalog.current_database()", 0, NULL, err, sizeof err);
        const char *db = res ? PQgetvalue(res, 0, 0) : "";
        lsn_format(info.confirmed_flush, lsn);
        if (strcmp(info.plugin, "pgoutput") != 0) {
            snprintf(fix, sizeof fix,
                     "choose another slot name (source.slot), or drop this one: SELECT "
                     "pg_drop_replication_slot('%s');", slot);
            add(r, "replication_slots", PREFLIGHT_FAIL, fix,
                "slot %s exists with output plugin '%s'; Sluice needs pgoutput", slot, info.plugin);
        } else if (res && strcmp(info.database, db) != 0) {
            add(r, "replication_slots", PREFLIGHT_FAIL,
                "choose another slot name (source.slot), or connect to the slot's database",
                "slot %s belongs to database %s, not %s", slot, info.database, db);
        } else if (info.lost) {
            snprintf(fix, sizeof fix,
                     "drop it (SELECT pg_drop_replication_slot('%s');): Sluice creates it again and "
                     "takes a new snapshot; raise max_slot_wal_keep_size so it does not recur", slot);
            add(r, "replication_slots", PREFLIGHT_FAIL, fix,
                "slot %s has lost WAL it needs (wal_status lost): changes since %s are gone", slot,
                lsn);
        } else if (info.active) {
            snprintf(fix, sizeof fix,
                     "stop the other consumer, or end it: SELECT pg_terminate_backend(active_pid) "
                     "FROM pg_replication_slots WHERE slot_name = '%s';", slot);
            add(r, "replication_slots", PREFLIGHT_WARN, fix,
                "slot %s is in use by another connection right now; Sluice cannot stream from it "
                "until that ends", slot);
        } else {
            add(r, "replication_slots", PREFLIGHT_OK, NULL,
                "slot %s exists (pgoutput, confirmed up to %s)", slot, lsn);
        }
        PQclear(res);
        return;
    }
    res = query(c,
                "SELECT pg_catalog.current_setting('max_replication_slots')::int, "
                "(SELECT count(*) FROM pg_catalog.pg_replication_slots)",
                0, NULL, err, sizeof err);
    if (!res) {
        add_query_failed(r, "replication_slots", err);
        return;
    }
    long max = atol(PQgetvalue(res, 0, 0)), used = atol(PQgetvalue(res, 0, 1));
    if (used >= max) {
        snprintf(fix, sizeof fix,
                 "ALTER SYSTEM SET max_replication_slots = %ld; then restart PostgreSQL, or drop an "
                 "unused slot: SELECT pg_drop_replication_slot('name');", max + 2);
        add(r, "replication_slots", PREFLIGHT_FAIL, fix,
            "slot %s does not exist and all %ld replication slots are in use (max_replication_slots)",
            slot, max);
    } else {
        add(r, "replication_slots", PREFLIGHT_OK, NULL,
            "slot %s will be created: %ld of %ld slots in use", slot, used, max);
    }
    PQclear(res);
}

static void check_wal_senders(PGconn *c, preflight_report *r)
{
    char err[256], fix[256];
    PGresult *res = query(c,
                          "SELECT pg_catalog.current_setting('max_wal_senders')::int, "
                          "(SELECT count(*) FROM pg_catalog.pg_stat_activity "
                          "WHERE backend_type = 'walsender')",
                          0, NULL, err, sizeof err);
    if (!res) {
        add_query_failed(r, "wal_senders", err);
        return;
    }
    long max = atol(PQgetvalue(res, 0, 0)), used = atol(PQgetvalue(res, 0, 1));
    if (used >= max) {
        snprintf(fix, sizeof fix,
                 "ALTER SYSTEM SET max_wal_senders = %ld; then restart PostgreSQL", max + 2);
        add(r, "wal_senders", PREFLIGHT_FAIL, fix,
            "%ld of %ld WAL senders in use (max_wal_senders): no room for the capture connection",
            used, max);
    } else {
        add(r, "wal_senders", PREFLIGHT_OK, NULL, "%ld of %ld WAL senders in use", used, max);
    }
    PQclear(res);
}

/* Publication state found by check_publication, used by check_tables. */
typedef struct pub_state {
    int exists, alltables;
} pub_state;

static void check_publication(PGconn *c, const char *pub, const pg_table_name *want, long nwant,
                              pub_state *ps, preflight_report *r)
{
    char err[256];
    const char *params[1] = {pub};
    buf qpub = BUF_INIT, list = BUF_INIT, fix = BUF_INIT;
    PGresult *res = NULL;

    append_quoted(&qpub, pub);
    for (long i = 0; i < nwant; i++) {
        if (i)
            buf_append(&list, ", ", 2);
        append_table(&list, want[i].schema, want[i].name, 1);
    }
    res = query(c,
                "SELECT p.puballtables, pg_catalog.pg_has_role(current_user, p.pubowner, 'USAGE'), "
                "p.pubinsert AND p.pubupdate AND p.pubdelete, "
                "(SELECT count(*) FROM pg_catalog.pg_publication_tables t WHERE t.pubname = p.pubname) "
                "FROM pg_catalog.pg_publication p WHERE p.pubname = $1",
                1, params, err, sizeof err);
    if (!res) {
        add_query_failed(r, "publication", err);
        goto out;
    }
    ps->exists = PQntuples(res) == 1;
    if (ps->exists) {
        ps->alltables = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        int owner = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        int all_ops = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
        long ntab = atol(PQgetvalue(res, 0, 3));
        PQclear(res);
        res = NULL;
        if (nwant > 0 && ps->alltables) {
            buf_printf(&fix, "DROP PUBLICATION %s; (Sluice then creates it for the table list), or "
                             "capture all tables by clearing the table list", qpub.data);
            add(r, "publication", PREFLIGHT_FAIL, fix.data,
                "publication %s exists FOR ALL TABLES but a table list is configured", pub);
            goto out;
        }
        if (nwant > 0 && !owner) {
            /* Does its list already match? Then nobody needs to alter it. */
            res = query(c, "SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables "
                           "WHERE pubname = $1", 1, params, err, sizeof err);
            if (!res) {
                add_query_failed(r, "publication", err);
                goto out;
            }
            int same = PQntuples(res) == nwant;
            for (long i = 0; same && i < nwant; i++) {
                int hit = 0;
                for (int k = 0; k < PQntuples(res) && !hit; k++)
                    hit = strcmp(PQgetvalue(res, k, 0), want[i].schema) == 0 &&
                          strcmp(PQgetvalue(res, k, 1), want[i].name) == 0;
                same = hit;
            }
            if (!same) {
                buf_printf(&fix, "as the publication's owner: ALTER PUBLICATION %s SET TABLE %s;",
                           qpub.data, list.data);
                add(r, "publication", PREFLIGHT_FAIL, fix.data,
                    "publication %s covers other tables than the configured list and belongs to "
                    "another role, so Sluice cannot change it", pub);
                goto out;
            }
        }
        if (!all_ops && !owner) {
            buf_printf(&fix, "as the publication's owner: ALTER PUBLICATION %s SET (publish = "
                             "'insert, update, delete, truncate');", qpub.data);
            add(r, "publication", PREFLIGHT_FAIL, fix.data,
                "publication %s does not publish all of insert, update and delete", pub);
            goto out;
        }
        if (ps->alltables)
            add(r, "publication", PREFLIGHT_OK, NULL, "publication %s exists FOR ALL TABLES", pub);
        else
            add(r, "publication", PREFLIGHT_OK, NULL, "publication %s exists (%ld table(s))%s", pub,
                ntab, nwant > 0 && owner ? "; Sluice sets it to the configured list" : "");
        goto out;
    }
    PQclear(res);
    res = NULL;

    /* Missing: can this role create it? FOR ALL TABLES needs a superuser; a list needs CREATE
     * on the database and ownership of every table. */
    res = query(c,
                "SELECT r.rolsuper, pg_catalog.has_database_privilege(pg_catalog.current_database(), "
                "'CREATE') FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
                0, NULL, err, sizeof err);
    if (!res || PQntuples(res) != 1) {
        add_query_failed(r, "publication", res ? "the current role is not in pg_roles" : err);
        goto out;
    }
    int super = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    int can_create = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    res = NULL;
    if (nwant == 0) {
        if (super) {
            add(r, "publication", PREFLIGHT_OK, NULL,
                "publication %s will be created FOR ALL TABLES", pub);
        } else {
            buf_printf(&fix, "as a superuser: CREATE PUBLICATION %s FOR ALL TABLES;", qpub.data);
            add(r, "publication", PREFLIGHT_FAIL, fix.data,
                "publication %s does not exist and only a superuser can create it FOR ALL TABLES",
                pub);
        }
        goto out;
    }
    buf not_owned = BUF_INIT;
    long n_not_owned = 0;
    for (long i = 0; i < nwant && !super; i++) {
        const char *p2[2] = {want[i].schema, want[i].name};
        res = query(c,
                    "SELECT pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE') "
                    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = "
                    "c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                    2, p2, err, sizeof err);
        if (res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
            if (n_not_owned < PREFLIGHT_LIST_MAX) {
                if (n_not_owned)
                    buf_append(&not_owned, ", ", 2);
                append_table(&not_owned, want[i].schema, want[i].name, 0);
            }
            n_not_owned++;
        }
        PQclear(res);
        res = NULL;
    }
    if (super || (can_create && n_not_owned == 0)) {
        add(r, "publication", PREFLIGHT_OK, NULL, "publication %s will be created for %ld table(s)",
            pub, nwant);
    } else {
        buf_printf(&fix, "as a superuser or the tables' owner: CREATE PUBLICATION %s FOR TABLE %s;",
                   qpub.data, list.data);
        if (!can_create)
            add(r, "publication", PREFLIGHT_FAIL, fix.data,
                "publication %s does not exist and this role lacks CREATE on the database", pub);
        else
            add(r, "publication", PREFLIGHT_FAIL, fix.data,
                "publication %s does not exist and this role does not own %s%s", pub,
                not_owned.data, n_not_owned > PREFLIGHT_LIST_MAX ? ", ..." : "");
    }
    buf_free(&not_owned);
out:
    PQclear(res);
    buf_free(&qpub);
    buf_free(&list);
    buf_free(&fix);
}

/* Details of the captured tables given as an oid[] text literal: partitioned tables stand for
 * their leaf partitions (whose rows are what gets replicated). */
static const char tables_sql[] =
    "WITH s AS (SELECT DISTINCT unnest($1::oid[]) AS oid), "
    "leaves AS (SELECT s.oid FROM s JOIN pg_catalog.pg_class c ON c.oid = s.oid WHERE c.relkind = 'r' "
    "  UNION SELECT pt.relid FROM s JOIN pg_catalog.pg_class c ON c.oid = s.oid, "
    "  LATERAL pg_catalog.pg_partition_tree(s.oid) pt WHERE c.relkind = 'p' AND pt.isleaf) "
    "SELECT n.nspname, c.relname, c.relreplident, "
    "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
    "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisreplident), "
    "pg_catalog.has_table_privilege(c.oid, 'SELECT') "
    "FROM leaves l JOIN pg_catalog.pg_class c ON c.oid = l.oid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ORDER BY 1, 2";
/* Before PostgreSQL 12 (no pg_partition_tree; publications hold plain tables only). */
static const char tables_sql_11[] =
    "SELECT n.nspname, c.relname, c.relreplident, "
    "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
    "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisreplident), "
    "pg_catalog.has_table_privilege(c.oid, 'SELECT') "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.oid = ANY ($1::oid[]) AND c.relkind = 'r' ORDER BY 1, 2";

static void check_tables(PGconn *c, const char *pub, const pg_table_name *want, long nwant,
                         const pub_state *ps, preflight_report *r)
{
    char err[256];
    buf oids = BUF_INIT, missing = BUF_INIT, bad = BUF_INIT, fix = BUF_INIT, noread = BUF_INIT;
    long nmissing = 0, nbad = 0, nnoread = 0;
    PGresult *res = NULL;
    const char *source;
    const char *role = PQuser(c);

    /* Which tables: the configured list, else the existing publication's, else all user tables. */
    if (nwant > 0) {
        source = "configured";
        buf_append(&oids, "{", 1);
        int first = 1;
        for (long i = 0; i < nwant; i++) {
            const char *p2[2] = {want[i].schema, want[i].name};
            res = query(c,
                        "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON "
                        "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND "
                        "c.relkind IN ('r', 'p')",
                        2, p2, err, sizeof err);
            if (!res) {
                add_query_failed(r, "tables", err);
                goto out;
            }
            if (PQntuples(res) == 0) {
                if (nmissing < PREFLIGHT_LIST_MAX) {
                    if (nmissing)
                        buf_append(&missing, ", ", 2);
                    append_table(&missing, want[i].schema, want[i].name, 0);
                }
                nmissing++;
            } else {
                buf_printf(&oids, "%s%s", first ? "" : ",", PQgetvalue(res, 0, 0));
                first = 0;
            }
            PQclear(res);
            res = NULL;
        }
        buf_append(&oids, "}", 1);
        if (nmissing)
            add(r, "tables", PREFLIGHT_FAIL,
                "create the table, or correct the table list (schema.table; no schema means public)",
                "configured table(s) not found: %s%s", missing.data,
                nmissing > PREFLIGHT_LIST_MAX ? ", ..." : "");
    } else {
        const char *params[1] = {pub};
        if (ps->exists && !ps->alltables) {
            source = "published";
            res = query(c,
                        "SELECT coalesce(array_agg(c.oid)::text, '{}') FROM "
                        "pg_catalog.pg_publication_tables t JOIN pg_catalog.pg_namespace n ON "
                        "n.nspname = t.schemaname JOIN pg_catalog.pg_class c ON c.relnamespace = "
                        "n.oid AND c.relname = t.tablename WHERE t.pubname = $1",
                        1, params, err, sizeof err);
        } else {
            source = "user";
            res = query(c,
                        "SELECT coalesce(array_agg(c.oid)::text, '{}') FROM pg_catalog.pg_class c "
                        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE "
                        "c.relkind = 'r' AND c.relpersistence = 'p' AND n.nspname NOT IN "
                        "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'",
                        0, NULL, err, sizeof err);
        }
        if (!res) {
            add_query_failed(r, "tables", err);
            goto out;
        }
        buf_puts(&oids, PQgetvalue(res, 0, 0));
        PQclear(res);
        res = NULL;
    }

    {
        const char *params[1] = {oids.data};
        res = query(c, PQserverVersion(c) >= 120000 ? tables_sql : tables_sql_11, 1, params, err,
                    sizeof err);
    }
    if (!res) {
        add_query_failed(r, "tables", err);
        goto out;
    }
    int ntables = PQntuples(res);
    for (int i = 0; i < ntables; i++) {
        const char *sch = PQgetvalue(res, i, 0), *tab = PQgetvalue(res, i, 1);
        char ident = PQgetvalue(res, i, 2)[0];
        int has_pk = strcmp(PQgetvalue(res, i, 3), "t") == 0;
        int has_ri_index = strcmp(PQgetvalue(res, i, 4), "t") == 0;
        const char *why = NULL;
        if (ident == 'n')
            why = "REPLICA IDENTITY NOTHING";
        else if (ident == 'd' && !has_pk)
            why = "no primary key";
        else if (ident == 'i' && !has_ri_index)
            why = "replica identity index missing";
        if (why) {
            if (nbad < PREFLIGHT_LIST_MAX) {
                if (nbad)
                    buf_append(&bad, ", ", 2);
                append_table(&bad, sch, tab, 0);
                buf_printf(&bad, " (%s)", why);
            }
            if (nbad == 0) {
                buf_puts(&fix, "ALTER TABLE ");
                append_table(&fix, sch, tab, 1);
                buf_puts(&fix, " REPLICA IDENTITY FULL; (or add a primary key)");
            }
            nbad++;
        }
        if (strcmp(PQgetvalue(res, i, 5), "t") != 0) {
            if (nnoread < PREFLIGHT_LIST_MAX) {
                if (nnoread)
                    buf_append(&noread, ", ", 2);
                append_table(&noread, sch, tab, 0);
            }
            nnoread++;
        }
    }
    if (nbad) {
        if (nbad > 1)
            buf_puts(&fix, " and the same for each table listed");
        add(r, "tables", PREFLIGHT_FAIL, fix.data,
            "%ld table(s) without a primary key or usable replica identity, so their updates and "
            "deletes cannot be captured: %s%s",
            nbad, bad.data, nbad > PREFLIGHT_LIST_MAX ? ", ..." : "");
    } else if (ntables == 0 && nmissing == 0) {
        add(r, "tables", PREFLIGHT_WARN,
            "create the tables to capture, or configure the table list",
            "no %s tables to capture", source);
    } else if (ntables > 0) {
        add(r, "tables", PREFLIGHT_OK, NULL,
            "%d %s table(s), each with a primary key or replica identity", ntables, source);
    }
    if (nnoread) {
        buf_reset(&fix);
        buf_puts(&fix, "GRANT SELECT ON ");
        PQclear(res);
        res = NULL;
        buf role_q = BUF_INIT;
        append_quoted(&role_q, role ? role : "sluice");
        buf_printf(&fix, "ALL TABLES IN SCHEMA public TO %s; (or GRANT SELECT ON each table listed)",
                   role_q.data);
        buf_free(&role_q);
        add(r, "table_select", PREFLIGHT_WARN, fix.data,
            "role %s cannot read %ld table(s) needed for the initial snapshot: %s%s",
            role ? role : "?", nnoread, noread.data, nnoread > PREFLIGHT_LIST_MAX ? ", ..." : "");
    } else if (ntables > 0) {
        add(r, "table_select", PREFLIGHT_OK, NULL, "every captured table is readable");
    }
out:
    PQclear(res);
    buf_free(&oids);
    buf_free(&missing);
    buf_free(&bad);
    buf_free(&fix);
    buf_free(&noread);
}

static void check_long_transactions(PGconn *c, int seconds, preflight_report *r)
{
    char err[256], secs[32];
    const char *params[1] = {secs};
    buf list = BUF_INIT;
    snprintf(secs, sizeof secs, "%d", seconds);
    PGresult *res = query(c,
                          "SELECT pid, extract(epoch FROM now() - xact_start)::bigint, "
                          "coalesce(usename, ''), coalesce(state, '') "
                          "FROM pg_catalog.pg_stat_activity WHERE xact_start IS NOT NULL "
                          "AND xact_start < now() - make_interval(secs => $1::int) "
                          "AND pid <> pg_catalog.pg_backend_pid() AND backend_type = 'client backend' "
                          "ORDER BY xact_start",
                          1, params, err, sizeof err);
    if (!res) {
        add_query_failed(r, "long_transactions", err);
        return;
    }
    int n = PQntuples(res);
    for (int i = 0; i < n && i < PREFLIGHT_LIST_MAX; i++)
        buf_printf(&list, "%spid %s (open %s s, user %s, %s)", i ? ", " : "", PQgetvalue(res, i, 0),
                   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
    if (n > 0)
        add(r, "long_transactions", PREFLIGHT_WARN,
            "creating the replication slot waits for these to end, and they hold back vacuum: "
            "finish them (COMMIT or ROLLBACK in that session) or end them with SELECT "
            "pg_terminate_backend(pid);",
            "%d transaction(s) open longer than %d s: %s%s", n, seconds, list.data,
            n > PREFLIGHT_LIST_MAX ? ", ..." : "");
    else
        add(r, "long_transactions", PREFLIGHT_OK, NULL, "no transaction open longer than %d s",
            seconds);
    buf_free(&list);
    PQclear(res);
}

int pg_preflight_run_ex(PGconn *c, const char *slot, const char *publication, const char *tables,
                        int long_tx_seconds, preflight_report *out, char *err, size_t errlen)
{
    pg_table_name *want = NULL;
    long nwant = 0;
    pub_state ps = {0, 0};
    int fails = 0;

    if (!c || PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "not connected to the source database");
        return -1;
    }
    if (!slot || !*slot)
        slot = "sluice";
    if (!publication || !*publication)
        publication = "sluice";
    if (long_tx_seconds < 0)
        long_tx_seconds = PREFLIGHT_LONG_TX_SECONDS;
    if (tables && *tables) {
        nwant = pg_catalog_name_list_parse(tables, &want, err, errlen);
        if (nwant < 0)
            return -1;
    }

    check_version(c, out);
    check_wal_level(c, out);
    check_privilege(c, out);
    check_slots(c, slot, out);
    check_wal_senders(c, out);
    check_publication(c, publication, want, nwant, &ps, out);
    check_tables(c, publication, want, nwant, &ps, out);
    check_long_transactions(c, long_tx_seconds, out);
    free(want);

    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "lost the connection to the source database during the checks");
        return -1;
    }
    for (size_t i = 0; i < out->n; i++)
        fails += out->items[i].status == PREFLIGHT_FAIL;
    return fails;
}

int pg_preflight_run(PGconn *c, const char *slot, const char *publication, const char *tables,
                     preflight_report *out, char *err, size_t errlen)
{
    return pg_preflight_run_ex(c, slot, publication, tables, PREFLIGHT_LONG_TX_SECONDS, out, err,
                               errlen);
}

int pg_preflight_check_replication(const char *conninfo, const char *password,
                                   preflight_report *out)
{
    char err[512];
    const char *fix;
    PGconn *repl = pg_conn_open(conninfo, password, PG_CONN_REPLICATION, err, sizeof err);
    if (!repl) {
        if (strstr(err, "superuser or replication role"))
            fix = "give the role the REPLICATION attribute (see privilege)";
        else if (strstr(err, "max_wal_senders") || strstr(err, "replication slots"))
            fix = "raise max_wal_senders (see wal_senders) and restart PostgreSQL";
        else if (strstr(err, "pg_hba.conf"))
            fix = "add a pg_hba.conf line for this database, user and address (a replication="
                  "database connection matches the database name, not the 'replication' keyword), "
                  "then SELECT pg_reload_conf();";
        else
            fix = "make sure the server accepts replication connections from this host";
        add(out, "replication_connection", PREFLIGHT_FAIL, fix, "%s", err);
        return 1;
    }
    PGresult *res = PQexec(repl, "IDENTIFY_SYSTEM");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) >= 3)
        add(out, "replication_connection", PREFLIGHT_OK, NULL,
            "accepted (system %s, timeline %s, WAL at %s)", PQgetvalue(res, 0, 0),
            PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    else
        add(out, "replication_connection", PREFLIGHT_WARN,
            "check that the server is PostgreSQL 10 or later and not a connection pooler",
            "connected, but IDENTIFY_SYSTEM failed: %s", PQerrorMessage(repl));
    PQclear(res);
    PQfinish(repl);
    return 0;
}
