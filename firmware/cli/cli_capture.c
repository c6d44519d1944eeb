/* cli_capture: `sluice capture`: run the capture alone and write every change as a line of
 * Debezium JSON to a file or standard output (like pg_recvlogical, but decoded). Settings come
 * from the store of --state-dir (source.*), overridden by options; the store also keeps the
 * slot's snapshot state and the tables' schema versions. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "core/log.h"
#include "sinks/file/file_sink.h"
#include "store/config.h"

#include <libpq-fe.h>

static volatile sig_atomic_t capture_stop;

static void capture_signal(int sig)
{
    (void)sig;
    capture_stop = 1;
}

static const char usage[] =
    "usage: sluice capture --output FILE [options]\n"
    "\n"
    "Captures changes from PostgreSQL (initial snapshot, then streaming) and appends each one\n"
    "as a line of Debezium JSON to FILE ('-' for standard output). Ctrl-C or SIGTERM flushes,\n"
    "confirms the position to PostgreSQL and exits 0; the next run resumes there.\n"
    "  --state-dir DIR        store with source.* settings and capture state\n"
    "                         (default $SLUICE_STATE_DIR or /var/lib/sluice; created if missing)\n"
    "  --conninfo CONNINFO    source database (default: source.conninfo)\n"
    "  --slot NAME            replication slot (default: source.slot)\n"
    "  --publication NAME     publication (default: source.publication)\n"
    "  --tables LIST          comma-separated [schema.]table list (default: source.tables)\n"
    "  --snapshot-mode MODE   initial | never | initial_only | when_needed\n"
    "                         (default: source.snapshot_mode)\n"
    "  --name NAME            Debezium source.name / topic prefix (default: sluice)\n"
    "  --flush-interval MS    how often output is fsynced and confirmed (default 1000)\n"
    "  --heartbeat-interval D heartbeat period, e.g. 10s; 0s = off (default:\n"
    "                         source.heartbeat_interval)\n"
    "The password comes from source.password or PGPASSWORD.\n";

typedef struct capture_cli {
    const char *state_dir, *output, *conninfo, *slot, *publication, *tables, *mode, *name, *flush;
    const char *heartbeat;
} capture_cli;

static int capture_cli_parse(int argc, char **argv, capture_cli *a)
{
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return 1;
        }
        if ((r = cli_option(argc, argv, &i, "--state-dir", &a->state_dir)) ||
            (r = cli_option(argc, argv, &i, "--output", &a->output)) ||
            (r = cli_option(argc, argv, &i, "--conninfo", &a->conninfo)) ||
            (r = cli_option(argc, argv, &i, "--slot", &a->slot)) ||
            (r = cli_option(argc, argv, &i, "--publication", &a->publication)) ||
            (r = cli_option(argc, argv, &i, "--tables", &a->tables)) ||
            (r = cli_option(argc, argv, &i, "--snapshot-mode", &a->mode)) ||
            (r = cli_option(argc, argv, &i, "--name", &a->name)) ||
            (r = cli_option(argc, argv, &i, "--flush-interval", &a->flush)) ||
            (r = cli_option(argc, argv, &i, "--heartbeat-interval", &a->heartbeat))) {
            if (r < 0)
                return -1;
            continue;
        }
        fprintf(stderr, "sluice capture: unknown argument '%s'\n%s", argv[i], usage);
        return -1;
    }
    if (!a->output) {
        fprintf(stderr, "sluice capture: --output is required\n%s", usage);
        return -1;
    }
    return 0;
}

/* The dbname of a conninfo (for Debezium's source.db), or "" (malloc'd). */
static char *capture_cli_dbname(const char *conninfo)
{
    char *db = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0 && o->val)
            db = strdup(o->val);
    PQconninfoFree(opts);
    return db ? db : strdup("");
}

int cli_capture(int argc, char **argv)
{
    capture_cli a = {.state_dir = cli_state_dir_default(), .name = "sluice"};
    char err[1024], path[4096];
    secrets *sec = NULL;
    store *st = NULL;
    config *cfg = NULL;
    ack_tracker *ack = NULL;
    capture *cap = NULL;
    metrics *m = NULL;
    sink out = {0};
    char *dbname = NULL;
    int rc = CLI_FAILED;

    int pr = capture_cli_parse(argc, argv, &a);
    if (pr != 0)
        return pr > 0 ? CLI_OK : CLI_USAGE;

    snprintf(path, sizeof path, "%s/secret.key", a.state_dir);
    if (fs_mkdirs(a.state_dir, 0700, err, sizeof err) < 0 || !(sec = secrets_create(path, err, sizeof err)))
        goto out;
    snprintf(path, sizeof path, "%s/sluice.db", a.state_dir);
    if (!(st = store_open(path, sec, err, sizeof err)) || !(cfg = config_load(st, err, sizeof err)))
        goto out;
    capture_options o = {
        .conninfo = a.conninfo ? a.conninfo : config_get(cfg, "source.conninfo"),
        .password = config_get(cfg, "source.password"),
        .slot = a.slot ? a.slot : config_get(cfg, "source.slot"),
        .publication = a.publication ? a.publication : config_get(cfg, "source.publication"),
        .tables = a.tables ? a.tables : config_get(cfg, "source.tables"),
        .snapshot_mode = a.mode ? a.mode : config_get(cfg, "source.snapshot_mode"),
        .flush_interval_ms = a.flush ? atoi(a.flush) : 0,
        .heartbeat_ms = (int)config_duration_ms(cfg, "source.heartbeat_interval"),
    };
    if (!o.conninfo) {
        snprintf(err, sizeof err, "no source: give --conninfo or set source.conninfo");
        goto out;
    }
    /* Options obey the same rules as the settings they override. */
    const char *const checked[][2] = {{"source.slot", o.slot},
                                      {"source.publication", o.publication},
                                      {"source.tables", o.tables},
                                      {"source.snapshot_mode", o.snapshot_mode}};
    if (a.heartbeat) {
        long long ms;
        if (confmap_check(confmap_find("source.heartbeat_interval"), a.heartbeat, err, sizeof err) < 0 ||
            confmap_parse_duration_ms(a.heartbeat, &ms) < 0)
            goto out;
        o.heartbeat_ms = (int)ms;
    }
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++) {
        char why[512];
        if (checked[i][1] && confmap_check(confmap_find(checked[i][0]), checked[i][1], why, sizeof why) < 0) {
            snprintf(err, sizeof err, "%s: %s", checked[i][0], why);
            goto out;
        }
    }
    dbname = capture_cli_dbname(o.conninfo);
    m = metrics_create();
    ack = ack_tracker_create(1, 0);
    file_sink_options fo = {.path = a.output, .encoding = {.name = a.name, .db = dbname}};
    if (!m || !ack || file_sink_create(&fo, ack, 0, &out, err, sizeof err) < 0)
        goto out;
    if (!(cap = capture_create(&o, st, m, NULL, &out, 1, ack, err, sizeof err)))
        goto out;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = capture_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    capture_stop = 0;
    rc = capture_run(cap, &capture_stop) == 0 ? CLI_OK : CLI_FAILED;
    err[0] = '\0';
out:
    if (rc != CLI_OK && err[0])
        log_error("capture", "%s", err);
    capture_destroy(cap);
    if (out.ops)
        out.ops->destroy(out.self);
    ack_tracker_destroy(ack);
    metrics_destroy(m);
    free(dbname);
    config_destroy(cfg);
    store_close(st);
    secrets_destroy(sec);
    return rc;
}
