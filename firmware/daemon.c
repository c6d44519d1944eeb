/* daemon: the appliance process: state directory, store, first boot, console, signals, reload.
 * Signal handlers only set flags and wake the loop through a self-pipe; all work happens in
 * the loop's callbacks. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/server.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include "pipeline/pipeline.h"
#include "sinks/kafka/kafka_conf.h"
#include "sinks/kafka/kafka_embedded.h"
#include "sinks/kafka/kafka_browser.h"
#include "rules/rules_sample.h"
#include "sinks/lake/bronze_consumer.h"
#include "sinks/lake/silver_consumer.h"
#include "store/config_file.h"
#include "store/sessions.h"
#include "store/users.h"

/* What the signal handlers may touch: flags and the write end of the self-pipe. */
static volatile sig_atomic_t signal_stop;
static volatile sig_atomic_t signal_reload;
static volatile sig_atomic_t signal_pipe_fd = -1;

struct sluice_daemon {
    daemon_options opts;
    char *state_dir;
    secrets *secrets;
    store *store;
    config *config;           /* effective settings; replaced on reload */
    metrics *metrics;
    health *health;
    loop *loop;
    api_server *api;
    pipeline *pipeline;
    kafka_browser *kafka_browser;   /* the console's message browser; NULL when Kafka is off */
    kafka_embedded *kafka_embedded;  /* kafka.brokers = embedded: lives as long as the daemon */
    bronze_consumer *bronze_kafka;   /* bronze from Kafka (bronze.kafka_topics); NULL when off */
    silver_consumer *silver_kafka;   /* silver from Kafka (silver.kafka_topics); NULL when off */
    rules_sample *rules_sample;      /* recent events: the pipeline records, the console's dry runs read */
    int pipe_rd, pipe_wr;
    time_t started;
    metric *m_uptime, *m_reloads, *m_reload_failures;
};

static void daemon_signal(int sig)
{
    int saved = errno;
    if (sig == SIGHUP)
        signal_reload = 1;
    else
        signal_stop = 1;
    if (signal_pipe_fd >= 0) {
        char c = 0;
        ssize_t ignored = write(signal_pipe_fd, &c, 1);
        (void)ignored;
    }
    errno = saved;
}

static int daemon_signals_install(sluice_daemon *d, char *err, size_t errlen)
{
    int fds[2];
    if (pipe(fds) < 0) {
        snprintf(err, errlen, "cannot create signal pipe: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    d->pipe_rd = fds[0];
    d->pipe_wr = fds[1];
    signal_stop = signal_reload = 0;
    signal_pipe_fd = fds[1];

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = daemon_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void daemon_log_apply(const config *c)
{
    log_level lvl = LOG_INFO;
    log_format fmt = LOG_FORMAT_LOGFMT;
    log_level_parse(config_get(c, "log.level"), &lvl);
    log_format_parse(config_get(c, "log.format"), &fmt);
    log_setup(stderr, lvl, fmt);
}

/* First boot: settings from the file, then the environment (the environment wins). */
static int daemon_first_boot(sluice_daemon *d, char *err, size_t errlen)
{
    static const char *const reserved[] = {"SLUICE_STATE_DIR", "SLUICE_CONFIG", NULL};
    conf_entries entries = {0};
    conf_problems problems = {0};
    int rc = -1;

    if (d->opts.config_path)
        config_file_read(d->opts.config_path, &entries, &problems);
    if (d->opts.envp)
        config_env_read(d->opts.envp, reserved, &entries, &problems);
    conf_entries_check(&entries, &problems);
    if (problems.n > 0) {
        conf_problems_print(&problems, stderr);
        snprintf(err, errlen, "%zu configuration problem(s); nothing was stored", problems.n);
        goto out;
    }
    if (config_seed(d->store, &entries, err, errlen) < 0)
        goto out;
    log_info("daemon", "first boot: store seeded with %zu setting(s)%s%s", entries.n,
             d->opts.config_path ? " from " : "", d->opts.config_path ? d->opts.config_path : "");
    rc = 0;
out:
    conf_entries_free(&entries);
    conf_problems_free(&problems);
    return rc;
}

static int daemon_admin_ensure(sluice_daemon *d, char *err, size_t errlen)
{
    char *onetime = NULL;
    if (users_ensure_admin(d->store, &onetime, err, errlen) < 0)
        return -1;
    if (onetime) {
        printf("one-time password for admin: %s\n"
               "(shown once; the console asks for a new password at first login)\n",
               onetime);
        fflush(stdout);
        log_fields(LOG_WARN, "users", "created user admin with a one-time password", "user", "admin",
                   "password", onetime, NULL);
        store_audit(d->store, "system", "user.create", "admin (first boot)");
        secrets_free_plain(onetime);
    }
    return 0;
}

static void daemon_metrics_register(sluice_daemon *d)
{
    char labels[128];
    snprintf(labels, sizeof labels, "version=\"%s\"", SLUICE_VERSION);
    metric_set(metrics_gauge(d->metrics, "sluice_build_info", "Sluice build; the value is always 1.", labels),
               1);
    metric_set(metrics_gauge(d->metrics, "process_start_time_seconds",
                             "Start time of the process since the Unix epoch in seconds.", NULL),
               (double)d->started);
    d->m_uptime = metrics_gauge(d->metrics, "sluice_uptime_seconds", "Seconds since the daemon started.", NULL);
    d->m_reloads = metrics_counter(d->metrics, "sluice_config_reloads_total",
                                   "Configuration reloads (SIGHUP) that succeeded.", NULL);
    d->m_reload_failures = metrics_counter(d->metrics, "sluice_config_reload_failures_total",
                                           "Configuration reloads (SIGHUP) that failed.", NULL);
}

/* kafka.brokers = embedded: start the in-memory broker; it lives as long as the daemon so its
 * topics outlive pipeline restarts. */
static int daemon_kafka_embedded_start(sluice_daemon *d, char *err, size_t errlen)
{
    const char *brokers = config_get(d->config, "kafka.brokers");
    if (!brokers || strcmp(brokers, KAFKA_EMBEDDED) != 0)
        return 0;
    if (!(d->kafka_embedded = kafka_embedded_create(1, err, errlen)))
        return -1;
    log_fields(LOG_WARN, "kafka", "embedded broker started: in memory only, not durable; for trials",
               "bootstrap", kafka_embedded_bootstraps(d->kafka_embedded), NULL);
    return 0;
}

sluice_daemon *daemon_create(const daemon_options *opts, char *err, size_t errlen)
{
    char path[4096];
    sluice_daemon *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->opts = *opts;
    d->pipe_rd = d->pipe_wr = -1;
    d->started = time(NULL);
    d->state_dir = strdup(opts->state_dir);
    if (fs_mkdirs(d->state_dir, 0700, err, errlen) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/secret.key", d->state_dir);
    if (!(d->secrets = secrets_create(path, err, errlen)))
        goto fail;
    snprintf(path, sizeof path, "%s/sluice.db", d->state_dir);
    if (!(d->store = store_open(path, d->secrets, err, errlen)))
        goto fail;
    if (!store_is_seeded(d->store) && daemon_first_boot(d, err, errlen) < 0)
        goto fail;
    if (!(d->config = config_load(d->store, err, errlen)))
        goto fail;
    daemon_log_apply(d->config);
    if (daemon_admin_ensure(d, err, errlen) < 0)
        goto fail;
    d->metrics = metrics_create();
    d->health = health_create();
    d->loop = loop_create();
    if (!d->metrics || !d->health || !d->loop) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    daemon_metrics_register(d);
    if (daemon_kafka_embedded_start(d, err, errlen) < 0)
        goto fail;
    health_set(d->health, "store", HEALTH_OK, path);
    health_set(d->health, "console", HEALTH_STARTING, NULL);
    if (daemon_signals_install(d, err, errlen) < 0)
        goto fail;
    return d;
fail:
    daemon_destroy(d);
    return NULL;
}

/* SIGHUP: load the store's settings again and apply what can change at run time. */
static void daemon_reload(sluice_daemon *d)
{
    char err[256];
    config *next = config_load(d->store, err, sizeof err);
    if (!next) {
        metric_add(d->m_reload_failures, 1);
        log_error("daemon", "configuration reload failed, keeping the current settings: %s", err);
        return;
    }
    buf changed = BUF_INIT;
    config_diff(d->config, next, &changed);
    config_destroy(d->config);
    d->config = next;
    daemon_log_apply(d->config);
    metric_add(d->m_reloads, 1);
    log_fields(LOG_INFO, "daemon", "configuration reloaded", "changed", changed.len ? changed.data : "none",
               NULL);
    buf_free(&changed);
}

static void daemon_on_signal(loop *l, int fd, void *arg)
{
    sluice_daemon *d = arg;
    char drain[64];
    while (read(fd, drain, sizeof drain) > 0)
        ;
    if (signal_reload) {
        signal_reload = 0;
        daemon_reload(d);
    }
    if (signal_stop) {
        log_info("daemon", "stop requested, draining");
        loop_stop(l);
    }
}

static void daemon_on_second(loop *l, void *arg, int64_t now_ms)
{
    (void)l;
    (void)now_ms;
    sluice_daemon *d = arg;
    metric_set(d->m_uptime, (double)(time(NULL) - d->started));
}

static void daemon_on_minute(loop *l, void *arg, int64_t now_ms)
{
    (void)l;
    (void)now_ms;
    sluice_daemon *d = arg;
    int n = sessions_expire(d->store, time(NULL));
    if (n > 0)
        log_debug("daemon", "expired %d console session(s)", n);
}

int daemon_run(sluice_daemon *d)
{
    char err[256];
    if (signal_stop)
        return 0;
    const char *listen = d->opts.listen ? d->opts.listen : config_get(d->config, "console.listen");
    api_deps deps = {
        .store = d->store,
        .metrics = d->metrics,
        .health = d->health,
        .version = SLUICE_VERSION,
        .started = d->started,
        .listen = listen,
        .session_ttl = (long)(config_duration_ms(d->config, "console.session_ttl") / 1000),
    };
    kafka_options ko;
    kafka_options_from_config(d->config, NULL, &ko);
    if (ko.brokers) {
        const char *bs = d->kafka_embedded ? kafka_embedded_bootstraps(d->kafka_embedded) : ko.brokers;
        if (!(d->kafka_browser = kafka_browser_create(&ko, bs, d->kafka_embedded != NULL, err, sizeof err)))
            log_error("kafka", "the console's message browser is off: %s", err);
    }
    deps.kafka = d->kafka_browser;
    if (!d->rules_sample && !(d->rules_sample = rules_sample_create()))
        log_error("rules", "out of memory: the console's rule dry runs have no sample of events");
    deps.rules_sample = d->rules_sample;
    if (!(d->api = api_server_start(&deps, err, sizeof err))) {
        log_error("console", "cannot start the console on %s: %s", listen, err);
        return 1;
    }
    health_set(d->health, "console", HEALTH_OK, listen);
    log_info("daemon", "sluice %s running; console at http://%s/", SLUICE_VERSION, listen);
    printf("console: http://%s/\n", listen);
    fflush(stdout);

    pipeline_deps pdeps = {.store = d->store,
                           .metrics = d->metrics,
                           .health = d->health,
                           .kafka_embedded = d->kafka_embedded,
                           .state_dir = d->state_dir,
                           .rules_sample = d->rules_sample};
    d->pipeline = pipeline_start(d->config, &pdeps, err, sizeof err);
    if (!d->pipeline && err[0]) {
        log_error("pipeline", "cannot start the pipeline: %s", err);
        health_set(d->health, "capture", HEALTH_DOWN, err);
    }
    /* Independent of the capture: the scale-out path writes the lake from Kafka. */
    d->bronze_kafka = bronze_consumer_start(d->config, d->state_dir, daemon_kafka_bootstrap(d), d->metrics,
                                            d->health, err, sizeof err);
    if (!d->bronze_kafka && err[0])
        log_error("bronze_kafka", "cannot start the Kafka-to-bronze consumer: %s", err);
    d->silver_kafka = silver_consumer_start(d->config, d->state_dir, d->store, daemon_kafka_bootstrap(d),
                                            d->metrics, d->health, err, sizeof err);
    if (!d->silver_kafka && err[0])
        log_error("silver_kafka", "cannot start the Kafka-to-silver consumer: %s", err);

    loop_fd_add(d->loop, d->pipe_rd, daemon_on_signal, d);
    loop_timer_add(d->loop, 1000, daemon_on_second, d);
    loop_timer_add(d->loop, 60000, daemon_on_minute, d);
    daemon_on_second(d->loop, d, 0);
    int rc = loop_run(d->loop) < 0 ? 1 : 0;

    silver_consumer_destroy(d->silver_kafka);
    d->silver_kafka = NULL;
    bronze_consumer_destroy(d->bronze_kafka);
    d->bronze_kafka = NULL;
    pipeline_stop(d->pipeline);
    d->pipeline = NULL;
    api_server_stop(d->api);
    d->api = NULL;
    kafka_browser_destroy(d->kafka_browser);
    d->kafka_browser = NULL;
    log_info("daemon", "stopped");
    return rc;
}

void daemon_destroy(sluice_daemon *d)
{
    if (!d)
        return;
    silver_consumer_destroy(d->silver_kafka);
    bronze_consumer_destroy(d->bronze_kafka);
    pipeline_stop(d->pipeline);
    api_server_stop(d->api);
    kafka_browser_destroy(d->kafka_browser);
    kafka_embedded_destroy(d->kafka_embedded);
    rules_sample_destroy(d->rules_sample);
    if (d->pipe_wr >= 0) {
        signal_pipe_fd = -1;
        close(d->pipe_wr);
        close(d->pipe_rd);
    }
    loop_destroy(d->loop);
    health_destroy(d->health);
    metrics_destroy(d->metrics);
    config_destroy(d->config);
    store_close(d->store);
    secrets_destroy(d->secrets);
    free(d->state_dir);
    free(d);
}

store *daemon_store(sluice_daemon *d) { return d->store; }
metrics *daemon_metrics(sluice_daemon *d) { return d->metrics; }
health *daemon_health(sluice_daemon *d) { return d->health; }
const char *daemon_kafka_bootstrap(const sluice_daemon *d)
{
    return d->kafka_embedded ? kafka_embedded_bootstraps(d->kafka_embedded) : NULL;
}
int daemon_stop_requested(const sluice_daemon *d) { (void)d; return signal_stop != 0; }
