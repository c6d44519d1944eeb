/* cli_rules_admin: `sluice rules add|activate|list|dead-letters`: the store's versioned rules
 * from the shell (the console does the same through the API). A version is compiled before it
 * is stored; a running daemon picks up an activation at its next transaction boundary, and a
 * replay request (`dead-letters replay`) at the commit of the next captured transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/fs.h"
#include "rules/rules_engine.h"
#include "rules/rules_replay.h"
#include "rules/rules_store.h"

#define ADMIN_MAX_IDS 1000   /* --id values one replay request names */

static const char admin_usage[] =
    "usage: sluice rules add NAME --pattern SCHEMA.TABLE --file FILE.lua [--comment TEXT] [--author NAME]\n"
    "                        [--activate] [--state-dir DIR]\n"
    "       sluice rules activate NAME VERSION [--state-dir DIR]   (VERSION 0 deactivates; an older\n"
    "                                                               version rolls back)\n"
    "       sluice rules list [--state-dir DIR]\n"
    "       sluice rules dead-letters [--limit N] [--state-dir DIR]\n"
    "       sluice rules dead-letters replay (--id N [--id N...] | --rule NAME | --all) [--state-dir DIR]\n"
    "Rules live in the store of --state-dir (default $SLUICE_STATE_DIR or /var/lib/sluice); the\n"
    "pattern is a glob over schema.table (public.users, public.*, *); the first matching active rule\n"
    "applies. A running daemon applies a change at its next transaction boundary. A replay passes\n"
    "dead letters through the rules active then, at the commit of the next transaction captured\n"
    "from the source (on an idle source it writes one itself, unless\n"
    "rules.replay_writes_transaction is off); one that fails again becomes a new dead letter.\n";

typedef struct admin_cli {
    const char *state_dir, *pattern, *file, *comment, *author, *limit, *rule;
    const char *pos[2];
    int npos, activate, all;
    int64_t ids[ADMIN_MAX_IDS];
    size_t nids;
} admin_cli;

/* --id values: "N" or "N,N,..." appended to a->ids. 0, or -1 (reported). */
static int admin_ids(admin_cli *a, const char *v)
{
    const char *p = v;
    while (*p) {
        char *end;
        long long id = strtoll(p, &end, 10);
        if (end == p || id <= 0 || (*end && *end != ',')) {
            fprintf(stderr, "sluice rules dead-letters replay: '%s' is not a dead letter id\n", v);
            return -1;
        }
        if (a->nids == ADMIN_MAX_IDS) {
            fprintf(stderr, "sluice rules dead-letters replay: at most %d ids at once\n", ADMIN_MAX_IDS);
            return -1;
        }
        a->ids[a->nids++] = id;
        p = *end ? end + 1 : end;
    }
    return 0;
}

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
        if (strcmp(argv[i], "--all") == 0) {
            a->all = 1;
            continue;
        }
        const char *id = NULL;
        if ((r = cli_option(argc, argv, &i, "--id", &id))) {
            if (r < 0 || admin_ids(a, id) < 0)
                return -1;
            continue;
        }
        if ((r = cli_option(argc, argv, &i, "--state-dir", &a->state_dir)) ||
            (r = cli_option(argc, argv, &i, "--pattern", &a->pattern)) ||
            (r = cli_option(argc, argv, &i, "--file", &a->file)) ||
            (r = cli_option(argc, argv, &i, "--comment", &a->comment)) ||
            (r = cli_option(argc, argv, &i, "--author", &a->author)) ||
            (r = cli_option(argc, argv, &i, "--limit", &a->limit)) ||
            (r = cli_option(argc, argv, &i, "--rule", &a->rule))) {
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

/* `dead-letters replay`: mark the named dead letters for replay by the running daemon. */
static int admin_replay(store *st, const admin_cli *a)
{
    char err[512], detail[256];
    if ((a->nids != 0) + (a->rule != NULL) + (a->all != 0) != 1) {
        fprintf(stderr, "sluice rules dead-letters replay: give --id N (repeatable), --rule NAME or --all\n%s",
                admin_usage);
        return CLI_USAGE;
    }
    rules_replay_counts c;
    if (rules_replay_request(st, a->ids, a->nids, a->rule, a->all, &c, err, sizeof err) < 0) {
        fprintf(stderr, "sluice rules dead-letters replay: %s\n", err);
        return CLI_FAILED;
    }
    snprintf(detail, sizeof detail, "%s%.100s: %ld requested", a->all ? "all" : a->rule ? "rule " : "ids",
             a->rule ? a->rule : "", c.requested);
    store_audit(st, "cli", "rule.replay", detail);
    printf("%ld dead letter(s) requested for replay", c.requested);
    if (c.already)
        printf(", %ld already requested or replayed", c.already);
    if (c.unreplayable)
        printf(", %ld recorded before replays existed (not replayable)", c.unreplayable);
    if (c.missing)
        printf(", %ld unknown id(s)", c.missing);
    printf(".\n");
    if (c.requested)
        printf("The running daemon replays them at the commit of the next transaction it captures from the "
               "source;\non an idle source it writes one within about a second (rules.replay_writes_transaction;\n"
               "when that is off, an idle source delays the replay until something changes there).\n");
    return c.requested || !c.missing ? CLI_OK : CLI_FAILED;
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
    else if (a.npos == 1 && strcmp(a.pos[0], "replay") == 0)
        rc = admin_replay(st, &a);
    else if (a.npos) {
        fprintf(stderr, "sluice rules dead-letters: unknown command '%s'\n%s", a.pos[0], admin_usage);
        rc = CLI_USAGE;
    } else
        rc = admin_print(st,
                         "SELECT id, datetime(ts, 'unixepoch'), rule, version, table_name, lsn, "
                         "replay_state || coalesce(' (' || replay_result || ')', ''), error FROM dead_letters "
                         "ORDER BY id DESC LIMIT ?1",
                         "id\ttime\trule\tversion\ttable\tlsn\treplay\terror", a.limit ? atoi(a.limit) : 20);
    cli_store_close(st, sec);
    return rc;
}
