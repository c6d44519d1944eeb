/* pipeline: sinks + ack tracker + capture on a thread (see pipeline.h). */
#include "pipeline/pipeline.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/pg_conn.h"
#include "core/log.h"
#include "pipeline/ack.h"
#include "sinks/file/file_sink.h"
#include "sinks/kafka/kafka_sink.h"
#include "sinks/lake/lake_conf.h"
#include "rules/rules_settings.h"
#include "rules/rules_sink.h"

#define PIPELINE_MAX_SINKS 6

struct pipeline {
    sink sinks[PIPELINE_MAX_SINKS];
    size_t nsinks;
    sink rules;                /* the rules stage in front of sinks (when a store holds rules) */
    int has_rules;
    ack_tracker *ack;
    objstore *lake;            /* the lake's object store, when one is configured */
    objstore *silver_lake;     /* the silver writer's own handle on it (one thread per handle) */
    iceberg_catalog *silver_catalog;
    capture *capture;
    pthread_t thread;
    int running;
    volatile sig_atomic_t stop;
    char *conninfo, *password, *slot, *publication, *tables, *mode, *dbname;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void *pipeline_thread(void *arg)
{
    pipeline *p = arg;
    capture_run(p->capture, &p->stop);
    return NULL;
}

void pipeline_stop(pipeline *p)
{
    if (!p)
        return;
    if (p->running) {
        p->stop = 1;
        pthread_join(p->thread, NULL);
    }
    capture_destroy(p->capture);
    if (p->has_rules)
        p->rules.ops->destroy(p->rules.self);
    for (size_t i = 0; i < p->nsinks; i++)
        p->sinks[i].ops->destroy(p->sinks[i].self);
    objstore_destroy(p->lake);
    objstore_destroy(p->silver_lake);
    iceberg_catalog_destroy(p->silver_catalog);
    ack_tracker_destroy(p->ack);
    free(p->conninfo);
    free(p->password);
    free(p->slot);
    free(p->publication);
    free(p->tables);
    free(p->mode);
    free(p->dbname);
    free(p);
}

/* The enabled sinks, in ack-tracker order. */
static int pipeline_sinks_create(pipeline *p, const config *cfg, const pipeline_deps *deps, char *err,
                                 size_t errlen)
{
    const char *file_path = config_get(cfg, "file.path");
    kafka_options ko;
    kafka_options_from_config(cfg, p->dbname, &ko);
    lake_conf lc;
    lake_conf_from_config(cfg, deps->state_dir, p->dbname, &lc);
    size_t n = (file_path != NULL) + (ko.brokers != NULL) + (lc.bronze != 0) + (lc.silver != 0);
    if (!(p->ack = ack_tracker_create(n, 0))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (file_path) {
        file_sink_options fo = {.path = file_path,
                                .encoding = {.name = "sluice", .db = p->dbname, .decimal = DECIMAL_STRING}};
        if (file_sink_create(&fo, p->ack, p->nsinks, &p->sinks[p->nsinks], err, errlen) < 0)
            return -1;
        p->nsinks++;
        log_info("pipeline", "sink: file %s", file_path);
    }
    if (ko.brokers) {
        int embedded = strcmp(ko.brokers, KAFKA_EMBEDDED) == 0;
        if (embedded && !deps->kafka_embedded) {
            snprintf(err, errlen, "kafka.brokers is embedded but the embedded broker is not running");
            return -1;
        }
        kafka_sink_deps kd = {.ack = p->ack,
                              .ack_index = p->nsinks,
                              .metrics = deps->metrics,
                              .health = deps->health,
                              .embedded = embedded ? deps->kafka_embedded : NULL,
                              .stop = &p->stop};
        if (kafka_sink_create(&ko, &kd, &p->sinks[p->nsinks], err, errlen) < 0)
            return -1;
        p->nsinks++;
        log_info("pipeline", "sink: kafka %s, topics %s.<schema>.<table>",
                 embedded ? "embedded broker (in memory, not durable)" : ko.brokers, ko.topic_prefix);
    }
    if (lc.bronze) {
        if (!(p->lake = lake_store_open(cfg, &lc, err, errlen)))
            return -1;
        bronze_sink_deps bd = {.objects = p->lake,
                               .st = deps->store,
                               .ack = p->ack,
                               .ack_index = p->nsinks,
                               .metrics = deps->metrics,
                               .health = deps->health,
                               .stop = &p->stop};
        if (bronze_sink_create(&lc.bronze_opts, &bd, &p->sinks[p->nsinks], err, errlen) < 0)
            return -1;
        p->nsinks++;
        log_info("pipeline", "sink: bronze in %s/bronze/%s", objstore_describe(p->lake), lc.bronze_opts.source);
    }
    if (lc.silver) {
        if (!(p->silver_lake = lake_store_open(cfg, &lc, err, errlen)) ||
            !(p->silver_catalog = lake_silver_catalog_open(&lc, deps->store, err, errlen)))
            return -1;
        silver_sink_deps sd = {.objects = p->silver_lake,
                               .catalog = p->silver_catalog,
                               .ack = p->ack,
                               .ack_index = p->nsinks,
                               .metrics = deps->metrics,
                               .health = deps->health,
                               .stop = &p->stop};
        if (silver_sink_create(&lc.silver_opts, &sd, &p->sinks[p->nsinks], err, errlen) < 0)
            return -1;
        p->nsinks++;
        log_info("pipeline", "sink: silver Iceberg tables in %s/silver/%s (catalog: %s)",
                 objstore_describe(p->silver_lake), lc.silver_opts.source, lc.silver_catalog);
    }
    return 0;
}

pipeline *pipeline_start(const config *cfg, const pipeline_deps *deps, char *err, size_t errlen)
{
    err[0] = '\0';
    health *h = deps->health;
    const char *conninfo = config_get(cfg, "source.conninfo");
    if (!conninfo) {
        health_set(h, "capture", HEALTH_DISABLED, "no source: set source.conninfo");
        return NULL;
    }
    if (!config_get(cfg, "file.path") && !config_get(cfg, "kafka.brokers") &&
        strcmp(config_get(cfg, "lake.store"), "none") == 0) {
        health_set(h, "capture", HEALTH_DISABLED, "no sink enabled: set kafka.brokers, lake.store or file.path");
        return NULL;
    }
    pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Copies: the configuration snapshot may be replaced on reload while the thread runs. */
    p->conninfo = strdup(conninfo);
    p->password = dup_or_null(config_get(cfg, "source.password"));
    p->slot = strdup(config_get(cfg, "source.slot"));
    p->publication = strdup(config_get(cfg, "source.publication"));
    p->tables = dup_or_null(config_get(cfg, "source.tables"));
    p->mode = strdup(config_get(cfg, "source.snapshot_mode"));
    p->dbname = pg_conn_dbname(conninfo);

    if (pipeline_sinks_create(p, cfg, deps, err, errlen) < 0)
        goto fail;
    if (deps->store) {   /* rules apply in front of every sink, and can be activated any time */
        rules_sink_deps rd = {.st = deps->store, .downstream = p->sinks, .ndownstream = p->nsinks,
                              .metrics = deps->metrics, .health = h, .db = p->dbname,
                              .sample = deps->rules_sample};
        rules_limits_from_config(cfg, &rd.limits);
        rd.replay_nudge = config_bool(cfg, "rules.replay_writes_transaction");
        if (rules_sink_create(&rd, &p->rules, err, errlen) < 0)
            goto fail;
        p->has_rules = 1;
    }
    capture_options o = {
        .conninfo = p->conninfo,
        .password = p->password,
        .slot = p->slot,
        .publication = p->publication,
        .tables = p->tables,
        .snapshot_mode = p->mode,
        .heartbeat_ms = (int)config_duration_ms(cfg, "source.heartbeat_interval"),
    };
    if (!(p->capture = capture_create(&o, deps->store, deps->metrics, h, p->has_rules ? &p->rules : p->sinks,
                                      p->has_rules ? 1 : p->nsinks, p->ack, err, errlen)))
        goto fail;
    if (pthread_create(&p->thread, NULL, pipeline_thread, p) != 0) {
        snprintf(err, errlen, "cannot start the capture thread");
        goto fail;
    }
    p->running = 1;
    log_info("pipeline", "capture started: source database %s, %zu sink(s)", p->dbname, p->nsinks);
    return p;
fail:
    if (!err[0])
        snprintf(err, errlen, "out of memory");
    pipeline_stop(p);
    return NULL;
}
