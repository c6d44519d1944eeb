/* cli_snapshot: `sluice snapshot TABLE...`: ask a running capture for incremental snapshots.
 * Checks each table (it exists, has a key to read it in chunks, is in the capture's publication),
 * then writes one signal into the WAL (a transactional logical message with prefix
 * "sluice.signal", Debezium's execute-snapshot content) that the capture picks up from its
 * stream; the capture then reads the tables in chunks while it keeps streaming. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture/pg_catalog.h"
#include "capture/pg_conn.h"
#include "capture/pg_incremental.h"
#include "cli/cli.h"
#include "store/config.h"

static const char usage[] =
    "usage: sluice snapshot TABLE... [options]\n"
    "\n"
    "Asks the running capture for an incremental snapshot of each TABLE ([schema.]table, schema\n"
    "public by default; double quotes keep dots). The request travels through the source's WAL\n"
    "as a signal message, so the capture sees it in order with the changes; it then reads each\n"
    "table in primary-key chunks while streaming continues (DBLog watermarks): rows come out as\n"
    "reads with source.snapshot \"incremental\", and changes made meanwhile win over them.\n"
    "Tables need a primary key or a REPLICA IDENTITY USING INDEX index.\n"
    "  --state-dir DIR        store with source.conninfo, source.password and\n"
    "                         source.publication (default $SLUICE_STATE_DIR or /var/lib/sluice)\n"
    "  --conninfo CONNINFO    source database (default: source.conninfo; the password then\n"
    "                         comes from the string, $PGPASSWORD or ~/.pgpass)\n"
    "  --publication NAME     check that the tables are in this publication\n"
    "                         (default: source.publication)\n"
    "Exit status: 0 signalled, 1 failed (nothing signalled), 2 usage error.\n";

typedef struct snapshot_cli {
    const char *state_dir, *conninfo, *publication;
    const char **tables;
    int ntables;
} snapshot_cli;

static int snapshot_cli_parse(int argc, char **argv, snapshot_cli *a)
{
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return 1;
        }
        if ((r = cli_option(argc, argv, &i, "--state-dir", &a->state_dir)) ||
            (r = cli_option(argc, argv, &i, "--conninfo", &a->conninfo)) ||
            (r = cli_option(argc, argv, &i, "--publication", &a->publication))) {
            if (r < 0)
                return -1;
            continue;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "sluice snapshot: unknown option '%s'\n%s", argv[i], usage);
            return -1;
        }
        a->tables[a->ntables++] = argv[i];
    }
    if (!a->ntables) {
        fprintf(stderr, "sluice snapshot: name at least one table\n%s", usage);
        return -1;
    }
    return 0;
}

/* 1 when the publication exists and captures the table (or one of its partitions), 0 when it
 * does not capture it, 2 when the publication does not exist yet, -1 on error. */
static int snapshot_in_publication(PGconn *c, const char *pub, uint32_t oid, char *err, size_t errlen)
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

/* Check one table; 0 ok, -1 with the reason printed. */
static int snapshot_check_table(PGconn *c, const char *arg, const char *pub)
{
    char schema[256], name[256], err[1024];
    uint32_t oid = 0;
    pg_catalog_table t = {0};
    int rc = -1;

    if (pg_catalog_name_parse(arg, schema, sizeof schema, name, sizeof name) < 0) {
        fprintf(stderr, "sluice snapshot: cannot read the table name '%s' (use table or "
                        "schema.table)\n", arg);
        return -1;
    }
    int found = pg_catalog_table_lookup(c, schema, name, &oid, NULL, err, sizeof err);
    if (found <= 0) {
        fprintf(stderr, "sluice snapshot: %s\n", err);
        return -1;
    }
    if (pg_catalog_table_describe(c, oid, NULL, &t, err, sizeof err) < 0) {
        fprintf(stderr, "sluice snapshot: %s.%s: %s\n", schema, name, err);
        return -1;
    }
    const int *cols;
    if (pg_catalog_table_order_key(&t, &cols) == 0) {
        fprintf(stderr,
                "sluice snapshot: %s.%s has no primary key or replica identity index, so it cannot "
                "be read in chunks; add a primary key or set REPLICA IDENTITY USING INDEX\n",
                schema, name);
        goto out;
    }
    if (pub && *pub) {
        int in = snapshot_in_publication(c, pub, oid, err, sizeof err);
        if (in < 0) {
            fprintf(stderr, "sluice snapshot: %s\n", err);
            goto out;
        }
        if (in == 0) {
            fprintf(stderr,
                    "sluice snapshot: %s.%s is not in publication %s: the capture would not see "
                    "its changes (add it to source.tables, or pass --publication)\n",
                    schema, name, pub);
            goto out;
        }
        if (in == 2)
            fprintf(stderr, "sluice snapshot: warning: publication %s does not exist yet\n", pub);
    }
    rc = 0;
out:
    pg_catalog_table_free(&t);
    return rc;
}

/* Write the signal; on success print what was done. */
static int snapshot_signal(PGconn *c, const snapshot_cli *a)
{
    json_t *list = json_array();
    for (int i = 0; i < a->ntables; i++)
        json_array_append_new(list, json_string(a->tables[i]));
    json_t *o = json_pack("{s:s, s:{s:o, s:s}}", "type", "execute-snapshot", "data",
                          "data-collections", list, "type", "incremental");
    char *content = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!content) {
        fprintf(stderr, "sluice snapshot: out of memory\n");
        return -1;
    }
    const char *params[2] = {PG_INCREMENTAL_SIGNAL_PREFIX, content};
    PGresult *res = PQexecParams(c, "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)", 2,
                                 NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        for (int i = 0; i < a->ntables; i++)
            printf("requested an incremental snapshot of %s\n", a->tables[i]);
        printf("signal written at %s: a running capture reads the table%s in chunks while it "
               "streams\n",
               PQgetvalue(res, 0, 0), a->ntables > 1 ? "s" : "");
        rc = 0;
    } else {
        fprintf(stderr, "sluice snapshot: writing the signal: %s", PQerrorMessage(c));
    }
    PQclear(res);
    free(content);
    return rc;
}

int cli_snapshot(int argc, char **argv)
{
    snapshot_cli a = {0};
    char err[1024], path[4096];
    secrets *sec = NULL;
    store *st = NULL;
    config *cfg = NULL;
    PGconn *c = NULL;
    int rc = CLI_FAILED;

    a.tables = calloc(argc > 0 ? (size_t)argc : 1, sizeof *a.tables);
    if (!a.tables) {
        fprintf(stderr, "sluice snapshot: out of memory\n");
        return CLI_FAILED;
    }
    int pr = snapshot_cli_parse(argc, argv, &a);
    if (pr != 0) {
        free(a.tables);
        return pr > 0 ? CLI_OK : CLI_USAGE;
    }
    const char *dir = a.state_dir ? a.state_dir : cli_state_dir_default();
    const char *conninfo = a.conninfo, *password = NULL, *pub = a.publication;
    struct stat sb;
    snprintf(path, sizeof path, "%s/sluice.db", dir);
    /* the store: needed without --conninfo; otherwise used when it is there */
    if (!a.conninfo || a.state_dir || stat(path, &sb) == 0) {
        if (!(st = cli_store_open(dir, &sec)))
            goto out;
        if (!(cfg = config_load(st, err, sizeof err))) {
            fprintf(stderr, "sluice snapshot: %s\n", err);
            goto out;
        }
        if (!conninfo)
            conninfo = config_get(cfg, "source.conninfo");
        password = config_get(cfg, "source.password");
        if (!pub)
            pub = config_get(cfg, "source.publication");
    }
    if (!conninfo || !*conninfo) {
        fprintf(stderr, "sluice snapshot: source.conninfo is not set in %s (set it with "
                        "`sluice config set source.conninfo ...`, or pass --conninfo)\n", dir);
        goto out;
    }
    if (!(c = pg_conn_open(conninfo, password, PG_CONN_NORMAL, err, sizeof err))) {
        fprintf(stderr, "sluice snapshot: %s\n", err);
        goto out;
    }
    for (int i = 0; i < a.ntables; i++)
        if (snapshot_check_table(c, a.tables[i], pub) < 0)
            goto out;
    if (snapshot_signal(c, &a) < 0)
        goto out;
    rc = CLI_OK;
out:
    if (c)
        PQfinish(c);
    config_destroy(cfg);
    if (st)
        cli_store_close(st, sec);
    free(a.tables);
    return rc;
}
