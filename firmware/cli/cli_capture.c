/* cli_capture: `sluice capture`: run the capture alone and write every change as a line of
 * Debezium JSON to a file or standard output (like pg_recvlogical, but decoded), or produce it to
 * Kafka (--format kafka, see cli_kafka.h). Settings come from the store of --state-dir (source.*,
 * kafka.*), overridden by options; the store also keeps the slot's snapshot state and the tables'
 * schema versions. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/pg_conn.h"
#include "cli/cli.h"
#include "cli/cli_kafka.h"
#include "core/fs.h"
#include "core/log.h"
#include "sinks/endpos/endpos_sink.h"
#include "sinks/file/file_sink.h"
#include "sinks/null/null_sink.h"
#include "store/config.h"


static volatile sig_atomic_t capture_stop;

static void capture_signal(int sig)
{
    (void)sig;
    capture_stop = 1;
}

static const char usage[] =
    "usage: sluice capture --output FILE [options]\n"
    "       sluice capture --format kafka [--kafka-brokers B] [options]\n"
    "\n"
    "Captures changes from PostgreSQL (initial snapshot, then streaming) and appends each one\n"
    "as a line of Debezium JSON to FILE ('-' for standard output), or produces it to Kafka.\n"
    "Ctrl-C or SIGTERM flushes (Kafka: waits for the acknowledgements), confirms the position\n"
    "to PostgreSQL and exits 0; the next run resumes there.\n"
    "  --state-dir DIR        store with source.* settings and capture state\n"
    "                         (default $SLUICE_STATE_DIR or /var/lib/sluice; created if missing)\n"
    "  --conninfo CONNINFO    source database (default: source.conninfo)\n"
    "  --slot NAME            replication slot (default: source.slot)\n"
    "  --publication NAME     publication (default: source.publication)\n"
    "  --tables LIST          comma-separated [schema.]table list (default: source.tables)\n"
    "  --snapshot-mode MODE   initial | never | initial_only | when_needed\n"
    "                         (default: source.snapshot_mode)\n"
    "  --name NAME            Debezium source.name / topic prefix (default: sluice; kafka:\n"
    "                         kafka.topic_prefix)\n"
    "  --flush-interval MS    how often output is fsynced and confirmed (default 1000)\n"
    "  --heartbeat-interval D heartbeat period, e.g. 10s; 0s = off (default:\n"
    "                         source.heartbeat_interval)\n"
    "  --format FORMAT        debezium (default) | none: decode every change, write nothing\n"
    "                         (measures the capture alone; --output is still required) |\n"
    "                         kafka: Debezium events to Kafka per the kafka.* settings; at\n"
    "                         exit logs commit-to-ack latency p50/p90/p99 (--output unused)\n"
    "  --kafka-brokers B      host:port,... or embedded: an in-memory broker in this process,\n"
    "                         gone at exit (default: kafka.brokers)\n"
    "  --end-lsn LSN          stop cleanly after the first transaction whose commit ends at\n"
    "                         or after LSN (X/X), like pg_recvlogical --endpos\n"
    "The password comes from source.password or PGPASSWORD.\n";

typedef struct capture_cli {
    const char *state_dir, *output, *conninfo, *slot, *publication, *tables, *mode, *name, *flush;
    const char *heartbeat;
    const char *format, *end_lsn, *kafka_brokers;
} capture_cli;

static int capture_cli_kafka(const capture_cli *a)
{
    return a->format && strcmp(a->format, "kafka") == 0;
}

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
            (r = cli_option(argc, argv, &i, "--heartbeat-interval", &a->heartbeat)) ||
            (r = cli_option(argc, argv, &i, "--format", &a->format)) ||
            (r = cli_option(argc, argv, &i, "--end-lsn", &a->end_lsn)) ||
            (r = cli_option(argc, argv, &i, "--kafka-brokers", &a->kafka_brokers))) {
            if (r < 0)
                return -1;
            continue;
        }
        fprintf(stderr, "sluice capture: unknown argument '%s'\n%s", argv[i], usage);
        return -1;
    }
    if (a->format && strcmp(a->format, "debezium") != 0 && strcmp(a->format, "none") != 0 &&
        !capture_cli_kafka(a)) {
        fprintf(stderr, "sluice capture: --format must be debezium, none or kafka\n");
        return -1;
    }
    if (!a->output && !capture_cli_kafka(a)) {
        fprintf(stderr, "sluice capture: --output is required\n%s", usage);
        return -1;
    }
    if (a->kafka_brokers && !capture_cli_kafka(a)) {
        fprintf(stderr, "sluice capture: --kafka-brokers needs --format kafka\n");
        return -1;
    }
    uint64_t lsn;
    if (a->end_lsn && lsn_parse(a->end_lsn, &lsn) < 0) {
        fprintf(stderr, "sluice capture: --end-lsn '%s' is not an LSN like 0/16B3748\n", a->end_lsn);
        return -1;
    }
    return 0;
}

/* The output sink --format asks for, wrapped to stop at --end-lsn when given. The embedded
 * broker, when asked for, is started into *embedded. */
static int capture_cli_sink(const capture_cli *a, const config *cfg, const char *dbname, ack_tracker *ack,
                            metrics *m, kafka_embedded **embedded, sink *out, char *err, size_t errlen)
{
    /* decimals as strings, time.precision.mode adaptive: what the capture tests compare */
    file_sink_options fo = {.path = a->output,
                            .encoding = {.name = a->name ? a->name : "sluice", .db = dbname,
                                         .decimal = DECIMAL_STRING, .time = TIME_ADAPTIVE}};
    cli_kafka_options ko = {.brokers = a->kafka_brokers, .prefix = a->name, .db = dbname};
    sink inner = {0};
    uint64_t end_lsn;
    int rc;
    if (capture_cli_kafka(a))
        rc = cli_kafka_sink_create(&ko, cfg, ack, m, &capture_stop, embedded, &inner, err, errlen);
    else if (a->format && strcmp(a->format, "none") == 0)
        rc = null_sink_create(ack, 0, &inner, err, errlen);
    else
        rc = file_sink_create(&fo, ack, 0, &inner, err, errlen);
    if (rc < 0)
        return -1;
    if (!a->end_lsn || lsn_parse(a->end_lsn, &end_lsn) < 0) {
        *out = inner;
        return 0;
    }
    if (endpos_sink_create(&inner, end_lsn, &capture_stop, out, err, errlen) < 0) {
        inner.ops->destroy(inner.self);
        return -1;
    }
    return 0;
}

int cli_capture(int argc, char **argv)
{
    capture_cli a = {.state_dir = cli_state_dir_default()};
    char err[1024], path[4096];
    secrets *sec = NULL;
    store *st = NULL;
    config *cfg = NULL;
    ack_tracker *ack = NULL;
    capture *cap = NULL;
    metrics *m = NULL;
    kafka_embedded *embedded = NULL;
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
    dbname = pg_conn_dbname(o.conninfo);
    m = metrics_create();
    ack = ack_tracker_create(1, 0);
    if (!m || !ack || capture_cli_sink(&a, cfg, dbname, ack, m, &embedded, &out, err, sizeof err) < 0)
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
    if (out.ops && capture_cli_kafka(&a))
        cli_kafka_log_latency(m);
    if (out.ops)
        out.ops->destroy(out.self);
    kafka_embedded_destroy(embedded);
    ack_tracker_destroy(ack);
    metrics_destroy(m);
    free(dbname);
    config_destroy(cfg);
    store_close(st);
    secrets_destroy(sec);
    return rc;
}
