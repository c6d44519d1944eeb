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

#define PIPELINE_MAX_SINKS 4

struct pipeline {
    sink sinks[PIPELINE_MAX_SINKS];
    size_t nsinks;
    ack_tracker *ack;
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
    for (size_t i = 0; i < p->nsinks; i++)
        p->sinks[i].ops->destroy(p->sinks[i].self);
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

pipeline *pipeline_start(const config *cfg, store *st, metrics *m, health *h, char *err, size_t errlen)
{
    err[0] = '\0';
    const char *conninfo = config_get(cfg, "source.conninfo");
    const char *file_path = config_get(cfg, "file.path");
    if (!conninfo) {
        health_set(h, "capture", HEALTH_DISABLED, "no source: set source.conninfo");
        return NULL;
    }
    if (!file_path) {
        health_set(h, "capture", HEALTH_DISABLED, "no sink enabled: set file.path");
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

    p->ack = ack_tracker_create(1, 0);
    file_sink_options fo = {.path = file_path, .encoding = {.name = "sluice", .db = p->dbname}};
    if (!p->ack || file_sink_create(&fo, p->ack, 0, &p->sinks[0], err, errlen) < 0)
        goto fail;
    p->nsinks = 1;
    capture_options o = {
        .conninfo = p->conninfo,
        .password = p->password,
        .slot = p->slot,
        .publication = p->publication,
        .tables = p->tables,
        .snapshot_mode = p->mode,
        .heartbeat_ms = (int)config_duration_ms(cfg, "source.heartbeat_interval"),
    };
    if (!(p->capture = capture_create(&o, st, m, h, p->sinks, p->nsinks, p->ack, err, errlen)))
        goto fail;
    if (pthread_create(&p->thread, NULL, pipeline_thread, p) != 0) {
        snprintf(err, errlen, "cannot start the capture thread");
        goto fail;
    }
    p->running = 1;
    log_info("pipeline", "capture started: source database %s, sink file %s", p->dbname, file_path);
    return p;
fail:
    if (!err[0])
        snprintf(err, errlen, "out of memory");
    pipeline_stop(p);
    return NULL;
}
