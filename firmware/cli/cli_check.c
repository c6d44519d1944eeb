/* cli_check: `sluice check`: validate a configuration file, the SLUICE_* environment and,
 * when asked, the settings in a store; print every problem with its location. With --source,
 * run the preflight checks against the source database instead and print their report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_conn.h"
#include "capture/pg_preflight.h"
#include "cli/cli.h"
#include "store/config.h"
#include "store/config_file.h"

extern char **environ;

static const char usage[] =
    "usage: sluice check [--config FILE] [--state-dir DIR]\n"
    "       sluice check --source [--state-dir DIR | --conninfo CONNINFO]\n"
    "                    [--slot NAME] [--publication NAME] [--tables LIST]\n"
    "\n"
    "Validates configuration and prints every problem as LOCATION: SETTING: PROBLEM.\n"
    "  --config FILE     configuration file to check (default: $SLUICE_CONFIG or\n"
    "                    /etc/sluice/sluice.conf when present)\n"
    "  --state-dir DIR   also check the settings stored in DIR's store\n"
    "SLUICE_* environment variables that name settings are checked too.\n"
    "\n"
    "With --source, checks instead that the source PostgreSQL database can be captured\n"
    "(wal_level, replication slots and WAL senders, privileges, publication, primary keys or\n"
    "replica identity, long-running transactions) and prints each check with its fix.\n"
    "  --state-dir DIR       take source.conninfo, source.password, source.slot,\n"
    "                        source.publication and source.tables from DIR's store\n"
    "                        (default: $SLUICE_STATE_DIR or /var/lib/sluice)\n"
    "  --conninfo CONNINFO   check this database directly (URL or key=value; the password\n"
    "                        from the string, $PGPASSWORD or ~/.pgpass)\n"
    "  --slot NAME           replication slot (default: the store's, else sluice)\n"
    "  --publication NAME    publication (default: the store's, else sluice)\n"
    "  --tables LIST         captured tables, comma-separated [schema.]table (default: the\n"
    "                        store's, else all)\n"
    "Exit status: 0 no problems, 1 problems found, 2 usage error.\n";

/* Options of `sluice check --source`. long_tx is the hidden --long-tx-seconds (tests). */
typedef struct source_opts {
    const char *state_dir, *conninfo, *slot, *publication, *tables, *long_tx;
} source_opts;

/* Connect as the capture would and print the preflight report. Exit code. */
static int check_source(const source_opts *o)
{
    char err[512];
    config *cfg = NULL;
    store *st = NULL;
    secrets *sec = NULL;
    PGconn *c = NULL;
    preflight_report rep = {0};
    const char *conninfo = o->conninfo, *password = NULL, *slot = o->slot, *pub = o->publication;
    const char *tables = o->tables;
    int rc = CLI_FAILED, long_tx = PREFLIGHT_LONG_TX_SECONDS;

    if (o->long_tx) {
        char *end;
        long v = strtol(o->long_tx, &end, 10);
        if (*o->long_tx == '\0' || *end || v < 0 || v > 86400 * 365) {
            fprintf(stderr, "sluice check: --long-tx-seconds needs a number of seconds\n");
            return CLI_USAGE;
        }
        long_tx = (int)v;
    }
    if (!conninfo) {
        const char *dir = o->state_dir ? o->state_dir : cli_state_dir_default();
        st = cli_store_open(dir, &sec);
        if (!st)
            goto out;
        cfg = config_load(st, err, sizeof err);
        if (!cfg) {
            fprintf(stderr, "sluice check: %s\n", err);
            goto out;
        }
        conninfo = config_get(cfg, "source.conninfo");
        password = config_get(cfg, "source.password");
        if (!slot)
            slot = config_get(cfg, "source.slot");
        if (!pub)
            pub = config_get(cfg, "source.publication");
        if (!tables)
            tables = config_get(cfg, "source.tables");
        if (!conninfo || !*conninfo) {
            fprintf(stderr, "sluice check: source.conninfo is not set in %s (set it with "
                            "`sluice config set source.conninfo ...`, or pass --conninfo)\n", dir);
            goto out;
        }
    }
    c = pg_conn_open(conninfo, password, PG_CONN_NORMAL, err, sizeof err);
    if (!c) {
        printf("FAIL connection: %s\n", err);
        printf("     fix: check source.conninfo and source.password, and that the server accepts "
               "connections from this host\n");
        goto out;
    }
    int fails = pg_preflight_run_ex(c, slot, pub, tables, long_tx, &rep, err, sizeof err);
    if (fails < 0) {
        fprintf(stderr, "sluice check: %s\n", err);
        goto out;
    }
    fails += pg_preflight_check_replication(conninfo, password, &rep);
    preflight_report_print(&rep, stdout);
    if (fails)
        printf("%d check(s) failed\n", fails);
    else
        printf("source ok: it can be captured\n");
    rc = fails ? CLI_FAILED : CLI_OK;
out:
    preflight_report_free(&rep);
    if (c)
        PQfinish(c);
    config_destroy(cfg);
    if (st)
        cli_store_close(st, sec);
    return rc;
}

int cli_check(int argc, char **argv)
{
    static const char *const reserved[] = {"SLUICE_STATE_DIR", "SLUICE_CONFIG", NULL};
    const char *config_path = NULL, *state_dir = NULL;
    source_opts src = {0};
    int source = 0;
    conf_entries entries = {0};
    conf_problems problems = {0};

    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--source") == 0) {
            source = 1;
            continue;
        }
        if ((r = cli_option(argc, argv, &i, "--config", &config_path)) ||
            (r = cli_option(argc, argv, &i, "--state-dir", &state_dir)) ||
            (r = cli_option(argc, argv, &i, "--conninfo", &src.conninfo)) ||
            (r = cli_option(argc, argv, &i, "--slot", &src.slot)) ||
            (r = cli_option(argc, argv, &i, "--publication", &src.publication)) ||
            (r = cli_option(argc, argv, &i, "--tables", &src.tables)) ||
            (r = cli_option(argc, argv, &i, "--long-tx-seconds", &src.long_tx))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        fprintf(stderr, "sluice check: unknown argument '%s'\n%s", argv[i], usage);
        return CLI_USAGE;
    }
    if (source) {
        if (config_path) {
            fprintf(stderr, "sluice check: --source does not take --config\n%s", usage);
            return CLI_USAGE;
        }
        if (src.conninfo && state_dir) {
            fprintf(stderr, "sluice check: give --conninfo or --state-dir, not both\n%s", usage);
            return CLI_USAGE;
        }
        src.state_dir = state_dir;
        return check_source(&src);
    }
    if (src.conninfo || src.slot || src.publication || src.tables || src.long_tx) {
        fprintf(stderr, "sluice check: --conninfo, --slot, --publication and --tables need "
                        "--source\n%s", usage);
        return CLI_USAGE;
    }
    if (!config_path)
        config_path = cli_config_default();

    if (config_path)
        config_file_read(config_path, &entries, &problems);
    config_env_read(environ, reserved, &entries, &problems);
    conf_entries_check(&entries, &problems);
    if (state_dir) {
        secrets *sec = NULL;
        store *st = cli_store_open(state_dir, &sec);
        if (!st) {
            conf_problems_add(&problems, state_dir, NULL, "cannot open the store");
        } else {
            char err[512];
            config *c = config_load(st, err, sizeof err);
            if (!c)
                conf_problems_add(&problems, "store", NULL, "%s", err);
            config_destroy(c);
            cli_store_close(st, sec);
        }
    }

    int rc = problems.n ? CLI_FAILED : CLI_OK;
    if (problems.n) {
        conf_problems_print(&problems, stdout);
        printf("%zu problem(s) found\n", problems.n);
    } else {
        printf("configuration ok: %zu setting(s)%s%s\n", entries.n, config_path ? " in " : "",
               config_path ? config_path : "");
    }
    conf_entries_free(&entries);
    conf_problems_free(&problems);
    return rc;
}
