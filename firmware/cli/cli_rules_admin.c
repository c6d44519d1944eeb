/* cli_rules_admin: `sluice rules add|activate|list|dead-letters`: the store's versioned rules
 * from the shell (the console does the same through the API). A version is compiled before it
 * is stored; a running daemon picks up an activation at its next transaction boundary. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/fs.h"
#include "rules/rules_engine.h"
#include "rules/rules_store.h"

static const char admin_usage[] =
    "usage: sluice rules add NAME --pattern SCHEMA.TABLE --file FILE.lua [--comment TEXT] [--author NAME]\n"
    "                        [--activate] [--state-dir DIR]\n"
    "       sluice rules activate NAME VERSION [--state-dir DIR]   (VERSION 0 deactivates; an older\n"
    "                                                               version rolls back)\n"
    "       sluice rules list [--state-dir DIR]\n"
    "       sluice rules dead-letters [--limit N] [--state-dir DIR]\n"
    "Rules live in the store of --state-dir (default $SLUICE_STATE_DIR or /var/lib/sluice); the\n"
    "pattern is a glob over schema.table (public.users, public.*, *); the first matching active rule\n"
    "applies. A running daemon applies a change at its next transaction boundary.\n";

typedef struct admin_cli {
    const char *state_dir, *pattern, *file, *comment, *author, *limit;
    const char *pos[2];
    int npos, activate;
} admin_cli;

static int admin_parse(int argc, char **argv, admin_cli *a)
{
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            fputs(admin_usage, stdout);
            return 1;
        }
        if (strcmp(argv[i], "--activate") == 0) {
            a->activate = 1;
            continue;
        }
        if ((r = cli_option(argc, argv, &i, "--state-dir", &a->state_dir)) ||
            (r = cli_option(argc, argv, &i, "--pattern", &a->pattern)) ||
            (r = cli_option(argc, argv, &i, "--file", &a->file)) ||
            (r = cli_option(argc, argv, &i, "--comment", &a->comment)) ||
            (r = cli_option(argc, argv, &i, "--author", &a->author)) ||
            (r = cli_option(argc, argv, &i, "--limit", &a->limit))) {
            if (r < 0)
                return -1;
            continue;
        }
        if (argv[i][0] == '-' || a->npos == 2) {
            fprintf(stderr, "sluice rules %s: unexpected argument '%s'\n%s", argv[0], argv[i], admin_usage);
            return -1;
        }
        a->pos[a->npos++] = argv[i];
    }
    if (!a->state_dir)
        a->state_dir = cli_state_dir_default();
    return 0;
}

static int admin_add(store *st, const admin_cli *a)
{
    char err[1024];
    if (a->npos != 1 || !a->pattern || !a->file) {
        fprintf(stderr, "sluice rules add: give NAME, --pattern and --file\n%s", admin_usage);
        return CLI_USAGE;
    }
    buf text = BUF_INIT;
    if (fs_read_file(a->file, 1 << 20, &text, err, sizeof err) < 0) {
        fprintf(stderr, "sluice rules add: %s\n", err);
        buf_free(&text);
        return CLI_FAILED;
    }
    char *source = buf_take(&text);
    int rc = CLI_FAILED;
    uint32_t version;
    rule_spec spec = {a->pos[0], 0, a->pattern, source};
    rules_defs *defs = rules_defs_create();
    rules_set *check = defs ? rules_set_compile(&spec, 1, NULL, NULL, defs, err, sizeof err) : NULL;
    if (!check) {
        fprintf(stderr, "sluice rules add: %s\n", defs ? err : "out of memory");
        goto out;
    }
    if (rules_store_add_version(st, a->pos[0], a->pattern, source, a->author ? a->author : "cli",
                                a->comment, &version, err, sizeof err) < 0 ||
        (a->activate && rules_store_activate(st, a->pos[0], version, err, sizeof err) < 0)) {
        fprintf(stderr, "sluice rules add: %s\n", err);
        goto out;
    }
    printf("rule %s version %" PRIu32 " added%s\n", a->pos[0], version, a->activate ? " and active" : "");
    rc = CLI_OK;
out:
    rules_set_destroy(check);
    rules_defs_destroy(defs);
    free(source);
    return rc;
}

static int admin_activate(store *st, const admin_cli *a)
{
    char err[512], *end;
    if (a->npos != 2) {
        fprintf(stderr, "sluice rules activate: give NAME and VERSION\n%s", admin_usage);
        return CLI_USAGE;
    }
    unsigned long v = strtoul(a->pos[1], &end, 10);
    if (*end || v > UINT32_MAX) {
        fprintf(stderr, "sluice rules activate: '%s' is not a version number\n", a->pos[1]);
        return CLI_USAGE;
    }
    if (rules_store_activate(st, a->pos[0], (uint32_t)v, err, sizeof err) < 0) {
        fprintf(stderr, "sluice rules activate: %s\n", err);
        return CLI_FAILED;
    }
    printf(v ? "rule %s: version %lu is active\n" : "rule %s: deactivated\n", a->pos[0], v);
    return CLI_OK;
}

/* Print the rows of a query, tab-separated, with a header. */
static int admin_print(store *st, const char *sql, const char *header, int limit)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) != SQLITE_OK) {
        fprintf(stderr, "sluice rules: %s\n", sqlite3_errmsg(store_db(st)));
        return CLI_FAILED;
    }
    if (limit)
        sqlite3_bind_int(stmt, 1, limit);
    puts(header);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(stmt); c++) {
            const unsigned char *v = sqlite3_column_text(stmt, c);
            printf("%s%s", c ? "\t" : "", v ? (const char *)v : "-");
        }
        putchar('\n');
    }
    sqlite3_finalize(stmt);
    return CLI_OK;
}

int cli_rules_admin(int argc, char **argv)
{
    admin_cli a = {0};
    int r = admin_parse(argc, argv, &a);
    if (r)
        return r > 0 ? CLI_OK : CLI_USAGE;
    secrets *sec = NULL;
    store *st = cli_store_open(a.state_dir, &sec);
    if (!st)
        return CLI_FAILED;
    int rc;
    if (strcmp(argv[0], "add") == 0)
        rc = admin_add(st, &a);
    else if (strcmp(argv[0], "activate") == 0)
        rc = admin_activate(st, &a);
    else if (strcmp(argv[0], "list") == 0)
        rc = admin_print(st,
                         "SELECT r.name, r.pattern, r.active_version, max(v.version), count(v.version) FROM rules r "
                         "LEFT JOIN rule_versions v ON v.name = r.name GROUP BY r.name ORDER BY r.position",
                         "name\tpattern\tactive\tlatest\tversions", 0);
    else
        rc = admin_print(st,
                         "SELECT id, datetime(ts, 'unixepoch'), rule, version, table_name, lsn, error FROM dead_letters "
                         "ORDER BY id DESC LIMIT ?1",
                         "id\ttime\trule\tversion\ttable\tlsn\terror", a.limit ? atoi(a.limit) : 20);
    cli_store_close(st, sec);
    return rc;
}
