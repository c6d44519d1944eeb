/* cli_snapshot: `sluice snapshot TABLE...`: ask a running capture for incremental snapshots.
 * Checks each table (it exists, has a key to read it in chunks, is in the capture's publication),
 * then writes one signal into the WAL (a transactional logical message with prefix
 * "sluice.signal", Debezium's execute-snapshot content) that the capture picks up from its
 * stream; the capture then reads the tables in chunks while it keeps streaming. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture/pg_conn.h"
#include "capture/pg_signal.h"
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
    const char **tables;  /* the positional arguments */
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
    for (int i = 0; i < a.ntables; i++) {
        if (pg_signal_check_table(c, a.tables[i], pub, err, sizeof err) < 0) {
            fprintf(stderr, "sluice snapshot: %s\n", err);
            goto out;
        }
    }
    char lsn[32];
    if (pg_signal_execute_snapshot(c, a.tables, (size_t)a.ntables, lsn, err, sizeof err) < 0) {
        fprintf(stderr, "sluice snapshot: %s\n", err);
        goto out;
    }
    for (int i = 0; i < a.ntables; i++)
        printf("requested an incremental snapshot of %s\n", a.tables[i]);
    printf("signal written at %s: a running capture reads the table%s in chunks while it streams\n", lsn,
           a.ntables > 1 ? "s" : "");
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
