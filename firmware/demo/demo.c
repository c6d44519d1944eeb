/* demo: options and orchestration of `sluice demo` (see demo.h). Start-up order: state
 * directory (locked, wiped), appliance (daemon_create: signals, one-time admin password),
 * initdb, postgres, schema and seed, source.conninfo, monitor and workload, then daemon_run.
 * Teardown runs in reverse on every path, including Ctrl-C during start-up. */
#include "demo/demo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/random.h"
#include "daemon.h"
#include "demo/demo_cluster.h"
#include "core/fs.h"
#include "demo/demo_fs.h"
#include "demo/demo_monitor.h"
#include "demo/demo_schema.h"
#include "demo/demo_workload.h"

extern char **environ;

#define DEMO_PG_READY_TIMEOUT_MS 60000L

static const char demo_usage[] =
    "usage: sluice demo [--state-dir DIR] [--pg-port N] [--listen HOST:PORT] [--rate N]\n"
    "                   [--seed N] [--demo-dir DIR]\n"
    "\n"
    "Runs a complete try-out on this machine: a private PostgreSQL server (from the Debian\n"
    "package postgresql-15) holding a small shop database (customers, products, inventory,\n"
    "orders, order_items), a workload generator that keeps changing it, and the appliance\n"
    "with its console, already pointed at that database. Ctrl-C stops all of it.\n"
    "\n"
    "  --state-dir DIR     where the demo keeps its state (default /var/lib/sluice/demo as\n"
    "                      root, else $XDG_STATE_HOME/sluice/demo or ~/.local/state/sluice/demo)\n"
    "  --pg-port N         port of the demo PostgreSQL on 127.0.0.1 (default 54329)\n"
    "  --listen HOST:PORT  console address (default 127.0.0.1:8080)\n"
    "  --rate N            workload transactions per second, 0 for none (default 20)\n"
    "  --seed N            seed of the workload's random choices (default: random, logged)\n"
    "  --demo-dir DIR      directory holding schema.sql and seed.sql (default: found next to\n"
    "                      the binary, or /usr/share/sluice/demo; also $SLUICE_DEMO_DIR)\n"
    "\n"
    "The demo state is recreated at every start: DIR/pg (the database) and DIR/appliance\n"
    "(settings, users) are wiped, so a new one-time admin password is printed each time.\n"
    "PostgreSQL accepts connections without a password, from this machine only:\n"
    "  psql \"host=127.0.0.1 port=54329 dbname=shop user=postgres\"\n";

typedef struct demo_options {
    const char *state_dir;
    int pg_port;
    const char *listen;
    int rate;
    uint64_t seed;
    int seed_given;
    const char *demo_dir;
} demo_options;

/* Everything the demo owns while it runs; torn down by demo_session_close(). */
typedef struct demo_session {
    demo_options opts;
    char state_dir[PATH_MAX];
    char pg_dir[PATH_MAX + 8];
    char appliance_dir[PATH_MAX + 16];
    char sql_dir[PATH_MAX];
    char conninfo[128];
    int lock_fd;
    demo_cluster *cluster;
    sluice_daemon *daemon;
    demo_monitor *monitor;
    demo_workload *workload;
} demo_session;

static int parse_int(const char *opt, const char *text, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        fprintf(stderr, "sluice demo: %s must be an integer from %ld to %ld, not '%s'\n", opt, lo,
                hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* Default state directory: /var/lib/sluice/demo for root, else the XDG state directory. */
static int default_state_dir(char *out, size_t outlen)
{
    if (geteuid() == 0) {
        snprintf(out, outlen, "/var/lib/sluice/demo");
        return 0;
    }
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg && xdg[0] == '/') {
        snprintf(out, outlen, "%s/sluice/demo", xdg);
        return 0;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(geteuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return -1;
    snprintf(out, outlen, "%s/.local/state/sluice/demo", home);
    return 0;
}

/* 0 ok, 1 help printed, 2 usage error. */
static int demo_options_parse(int argc, char **argv, demo_options *o)
{
    memset(o, 0, sizeof *o);
    o->pg_port = 54329;
    o->listen = "127.0.0.1:8080";
    o->rate = 20;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        long n;
        int r;
        if (cli_is_help(argv[i])) {
            fputs(demo_usage, stdout);
            return 1;
        }
        if ((r = cli_option(argc, argv, &i, "--state-dir", &o->state_dir)) ||
            (r = cli_option(argc, argv, &i, "--listen", &o->listen)) ||
            (r = cli_option(argc, argv, &i, "--demo-dir", &o->demo_dir))) {
            if (r < 0)
                return 2;
            continue;
        }
        if ((r = cli_option(argc, argv, &i, "--pg-port", &v))) {
            if (r < 0 || parse_int("--pg-port", v, 1, 65535, &n) < 0)
                return 2;
            o->pg_port = (int)n;
            continue;
        }
        if ((r = cli_option(argc, argv, &i, "--rate", &v))) {
            if (r < 0 || parse_int("--rate", v, 0, 10000, &n) < 0)
                return 2;
            o->rate = (int)n;
            continue;
        }
        if ((r = cli_option(argc, argv, &i, "--seed", &v))) {
            char *end;
            errno = 0;
            unsigned long long s = r > 0 ? strtoull(v, &end, 10) : 0;
            if (r < 0 || errno || end == v || *end) {
                if (r > 0)
                    fprintf(stderr, "sluice demo: --seed must be a non-negative integer\n");
                return 2;
            }
            o->seed = s;
            o->seed_given = 1;
            continue;
        }
        fprintf(stderr, "sluice demo: unknown argument '%s'\n\n%s", argv[i], demo_usage);
        return 2;
    }
    return 0;
}

static int demo_interrupted(void *ctx)
{
    return daemon_stop_requested(ctx);
}

/* The pid DIR/pg/postmaster.pid names when that process is a live postgres, else 0. */
static long running_postmaster(const char *pg_dir)
{
    char path[PATH_MAX + 32], comm[64] = "";
    snprintf(path, sizeof path, "%s/postmaster.pid", pg_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
        return 0;
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (!fgets(comm, sizeof comm, f))
        comm[0] = '\0';
    fclose(f);
    return strncmp(comm, "postgres", 8) == 0 ? pid : 0;
}

/* Create the state directory and work out the paths below it. */
static int demo_state_resolve(demo_session *s, char *err, size_t errlen)
{
    char wanted[PATH_MAX];
    if (s->opts.state_dir)
        snprintf(wanted, sizeof wanted, "%s", s->opts.state_dir);
    else if (default_state_dir(wanted, sizeof wanted) < 0) {
        snprintf(err, errlen, "no home directory to keep the demo in; pass --state-dir");
        return -1;
    }
    if (fs_mkdirs(wanted, 0755, err, errlen) < 0)
        return -1;
    if (!realpath(wanted, s->state_dir)) {
        snprintf(err, errlen, "cannot resolve %s: %s", wanted, strerror(errno));
        return -1;
    }
    snprintf(s->pg_dir, sizeof s->pg_dir, "%s/pg", s->state_dir);
    snprintf(s->appliance_dir, sizeof s->appliance_dir, "%s/appliance", s->state_dir);
    return 0;
}

/* Lock the state directory against a second demo, then wipe the previous run's state. */
static int demo_state_reset(demo_session *s, char *err, size_t errlen)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/demo.lock", s->state_dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen, "another sluice demo is running with state directory %s",
                 s->state_dir);
        return -1;
    }
    long pid = running_postmaster(s->pg_dir);
    if (pid) {
        snprintf(err, errlen, "a PostgreSQL server (pid %ld) still runs from %s; stop it first",
                 pid, s->pg_dir);
        return -1;
    }
    log_info("demo", "recreating the demo state in %s", s->state_dir);
    if (fs_remove_tree(s->pg_dir, err, errlen) < 0 ||
        fs_remove_tree(s->appliance_dir, err, errlen) < 0)
        return -1;
    return 0;
}

/* The environment for the appliance's first boot: ours, except that the demo decides the
 * source and the sink (SLUICE_SOURCE_* / SLUICE_FILE_* would otherwise seed, or trip over, those
 * settings). Returns a malloc'd array whose strings are borrowed (extra: NULL-terminated). */
static char **demo_env_build(const char *const *extra)
{
    size_t n = 0, n_extra = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    while (extra[n_extra])
        n_extra++;
    char **env = calloc(n + n_extra + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "SLUICE_SOURCE_", 14) != 0 && strncmp(*e, "SLUICE_FILE_", 12) != 0)
            env[k++] = *e;
    for (size_t i = 0; i < n_extra; i++)
        env[k++] = (char *)extra[i];
    env[k] = NULL;
    return env;
}

static int demo_appliance_create(demo_session *s, char *err, size_t errlen)
{
    char conn_env[200], file_env[PATH_MAX + 64];
    snprintf(conn_env, sizeof conn_env, "SLUICE_SOURCE_CONNINFO=%s", s->conninfo);
    snprintf(file_env, sizeof file_env, "SLUICE_FILE_PATH=%s/changes.jsonl", s->appliance_dir);
    /* Kafka: the embedded broker, unless SLUICE_KAFKA_BROKERS names a real cluster. The lake: a
     * local directory in the appliance's state (bronze objects rolled and silver tables
     * committed every 10 s so they show up soon), unless SLUICE_LAKE_STORE says otherwise. */
    const char *extra[10] = {conn_env, file_env, "SLUICE_SOURCE_HEARTBEAT_INTERVAL=10s"};
    size_t n = 3;
    if (!getenv("SLUICE_LAKE_STORE")) {
        extra[n++] = "SLUICE_LAKE_STORE=local";
        if (!getenv("SLUICE_BRONZE_ROLL_AGE"))
            extra[n++] = "SLUICE_BRONZE_ROLL_AGE=10s";
        if (!getenv("SLUICE_SILVER_ENABLED"))
            extra[n++] = "SLUICE_SILVER_ENABLED=true";
        if (!getenv("SLUICE_SILVER_COMMIT_INTERVAL"))
            extra[n++] = "SLUICE_SILVER_COMMIT_INTERVAL=10s";
    }
    if (!getenv("SLUICE_KAFKA_BROKERS"))
        extra[n++] = "SLUICE_KAFKA_BROKERS=embedded";
    extra[n] = NULL;
    char **env = demo_env_build(extra);
    if (!env) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    daemon_options dopts = {.state_dir = s->appliance_dir, .config_path = NULL,
                            .listen = s->opts.listen, .envp = env};
    s->daemon = daemon_create(&dopts, err, errlen);
    free(env);
    if (!s->daemon)
        return -1;
    health *h = daemon_health(s->daemon);
    health_set(h, "postgres", HEALTH_STARTING, "initdb");
    if (s->opts.rate > 0)
        health_set(h, "workload", HEALTH_STARTING, "waiting for postgres");
    else
        health_set(h, "workload", HEALTH_DISABLED, "off (--rate 0)");
    return 0;
}

static int demo_postgres_start(demo_session *s, char *err, size_t errlen)
{
    health *h = daemon_health(s->daemon);
    if (demo_cluster_init(s->cluster, demo_interrupted, s->daemon, err, errlen) < 0)
        return -1;
    health_set(h, "postgres", HEALTH_STARTING, "starting");
    if (demo_cluster_start(s->cluster, err, errlen) < 0 ||
        demo_cluster_wait_ready(s->cluster, DEMO_PG_READY_TIMEOUT_MS, demo_interrupted, s->daemon,
                                err, errlen) < 0)
        return -1;
    health_set(h, "postgres", HEALTH_STARTING, "loading the shop schema");
    if (demo_schema_load(s->opts.pg_port, s->sql_dir, err, errlen) < 0)
        return -1;
    /* Also seeded at first boot through the environment; set here so the store holds the
     * demo's source whatever the seeding rules. */
    if (store_setting_set(daemon_store(s->daemon), "source.conninfo", s->conninfo, err,
                          errlen) < 0)
        return -1;
    s->monitor = demo_monitor_create(s->opts.pg_port, DEMO_SCHEMA_DBNAME, h, err, errlen);
    return s->monitor ? 0 : -1;
}

static int demo_workload_start(demo_session *s, char *err, size_t errlen)
{
    if (s->opts.rate <= 0)
        return 0;
    if (!s->opts.seed_given) {
        uint64_t seed = 0;
        if (random_bytes(&seed, sizeof seed) < 0)
            seed = (uint64_t)getpid() * 2654435761u;
        s->opts.seed = seed;
    }
    demo_workload_options wo = {.port = s->opts.pg_port, .dbname = DEMO_SCHEMA_DBNAME,
                                .rate = s->opts.rate, .seed = s->opts.seed};
    s->workload = demo_workload_create(&wo, daemon_health(s->daemon), daemon_metrics(s->daemon),
                                       err, errlen);
    return s->workload ? 0 : -1;
}

static void demo_banner_print(const demo_session *s)
{
    printf("\n"
           "sluice demo\n"
           "  PostgreSQL  127.0.0.1:%d, database %s, user postgres (no password)\n"
           "              psql \"host=127.0.0.1 port=%d dbname=%s user=postgres\"\n"
           "              data %s, log %s\n",
           s->opts.pg_port, DEMO_SCHEMA_DBNAME, s->opts.pg_port, DEMO_SCHEMA_DBNAME, s->pg_dir,
           demo_cluster_log_path(s->cluster));
    if (s->opts.rate > 0)
        printf("  workload    %d transactions/s (seed %llu)\n", s->opts.rate,
               (unsigned long long)s->opts.seed);
    else
        printf("  workload    off (--rate 0)\n");
    printf("  capture     %s -> %s/changes.jsonl (Debezium JSON lines)\n", s->conninfo, s->appliance_dir);
    const char *bootstrap = daemon_kafka_bootstrap(s->daemon);
    if (bootstrap)
        printf("  kafka       embedded broker %s (in memory, not durable), topics sluice.public.<table>\n"
               "              kcat -C -b %s -t sluice.public.orders -e\n",
               bootstrap, bootstrap);
    else
        printf("  kafka       %s, topics sluice.public.<table>\n", getenv("SLUICE_KAFKA_BROKERS"));
    if (!getenv("SLUICE_LAKE_STORE"))
        printf("  lake        %s/lake/bronze/sluice/<schema>.<table>/date=.../hour=.../*.jsonl.gz\n"
               "              (raw Debezium events, uploaded every 10 s)\n"
               "              %s/lake/silver/sluice/public/<table>[_history]\n"
               "              (Iceberg tables: current state and SCD2 history, committed every 10 s)\n",
               s->appliance_dir, s->appliance_dir);
    printf("  console     http://%s/ (user admin, one-time password above)\n"
           "  state       %s (recreated at every start)\n"
           "Press Ctrl-C to stop the demo.\n\n",
           s->opts.listen, s->state_dir);
    fflush(stdout);
}

/* Reverse of start-up; safe on a partly started session. */
static void demo_session_close(demo_session *s)
{
    demo_workload_destroy(s->workload);
    s->workload = NULL;
    demo_monitor_destroy(s->monitor);
    s->monitor = NULL;
    demo_cluster_destroy(s->cluster);
    s->cluster = NULL;
    daemon_destroy(s->daemon);
    s->daemon = NULL;
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    s->lock_fd = -1;
}

/* Log a failure: the first line as a record, any detail (a log tail) as plain text. */
static void demo_failure_report(const char *err)
{
    const char *nl = strchr(err, '\n');
    if (!nl) {
        log_error("demo", "%s", err);
        return;
    }
    log_error("demo", "%.*s", (int)(nl - err), err);
    fprintf(stderr, "%s\n", nl + 1);
}

int demo_main(int argc, char **argv)
{
    demo_session s;
    memset(&s, 0, sizeof s);
    s.lock_fd = -1;
    int r = demo_options_parse(argc, argv, &s.opts);
    if (r == 1)
        return CLI_OK;
    if (r == 2)
        return CLI_USAGE;
    snprintf(s.conninfo, sizeof s.conninfo,
             "host=127.0.0.1 port=%d dbname=%s user=postgres", s.opts.pg_port, DEMO_SCHEMA_DBNAME);

    char err[8192] = "";
    int ok = demo_schema_locate(s.opts.demo_dir, s.sql_dir, sizeof s.sql_dir, err, sizeof err) == 0 &&
             demo_state_resolve(&s, err, sizeof err) == 0 &&
             (s.cluster = demo_cluster_create(s.pg_dir, s.opts.pg_port, err, sizeof err)) != NULL &&
             demo_state_reset(&s, err, sizeof err) == 0 &&
             demo_appliance_create(&s, err, sizeof err) == 0 &&
             demo_postgres_start(&s, err, sizeof err) == 0 &&
             demo_workload_start(&s, err, sizeof err) == 0;
    if (!ok) {
        int interrupted = s.daemon && daemon_stop_requested(s.daemon);
        if (interrupted)
            log_info("demo", "stopped during start-up");
        else
            demo_failure_report(err);
        demo_session_close(&s);
        return interrupted ? CLI_OK : CLI_FAILED;
    }
    demo_banner_print(&s);
    int rc = daemon_run(s.daemon);
    log_info("demo", "shutting down");
    demo_session_close(&s);
    return rc;
}
