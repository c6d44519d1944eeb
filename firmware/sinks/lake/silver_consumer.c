/* silver_consumer: Kafka topics of Debezium events into the silver tables (see silver_consumer.h).
 * One thread: poll, decode, apply; every silver.commit_interval commit every open batch, then
 * the offsets. The rebalance callback runs on the same thread (from the poll): a revocation
 * commits first, an assignment is checked to hold whole topics. */
#include "sinks/lake/silver_consumer.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/errbuf.h"
#include "core/log.h"
#include "encode/debezium_decode.h"
#include "sinks/kafka/kafka_group.h"
#include "sinks/lake/bronze_consumer.h"
#include "sinks/lake/lake_conf.h"

#define SC_LOG "silver_kafka"
#define SC_POLL_MS 100
#define SC_TICK_MS 200
#define SC_SKIP_LOG_PERIOD_S 60
#define SC_WAIT_RETRY_MS 2000       /* a waiting create is tried again at least this often */
#define SC_WAIT_WARN_MS 60000

/* One assigned partition. */
typedef struct sc_part {
    char *topic;
    int32_t partition;
    int64_t pos;           /* offset after the last record read; -1 before the first */
    int64_t committed;     /* the offset last committed by this process; -1 none */
    int64_t waiting_ms;    /* paused at pos since then: a key change's create waits for its delete; 0 not */
    struct sc_part *next;
} sc_part;

struct silver_consumer {
    char *topics, *group, *bootstrap;
    objstore *objects;
    iceberg_catalog *catalog;
    silver_sink *silver;
    debezium_decoder *dec;
    arena *values;                /* one record's decoded values */
    health *health;
    rd_kafka_t *rk;
    pthread_t thread;
    int thread_started;
    volatile sig_atomic_t stop;   /* also the writer's: a commit stops retrying */
    int failed;                   /* stopped with an error: the thread only waits for stop */

    sc_part *parts;
    uint64_t uncommitted;         /* changes handed to the writer since its last commit */
    int64_t last_skip_log_s;
    buf scratch;

    metric *m_records, *m_skipped, *m_rebalances, *m_assigned, *m_commit_failures;
};

static int64_t sc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sc_health(silver_consumer *c, health_state st, const char *msg)
{
    if (c->health)
        health_set(c->health, "silver_kafka", st, msg);
}

/* Stop consuming with the reason (logged once, health down); offsets stay where they are. */
static void sc_fail(silver_consumer *c, const char *why)
{
    if (c->failed)
        return;
    c->failed = 1;
    log_error(SC_LOG, "%s; the silver consumer stopped (offsets are not committed past it)", why);
    sc_health(c, HEALTH_DOWN, why);
}

/* ---- partitions and offsets ------------------------------------------------------------------------ */

static sc_part *sc_part_find(silver_consumer *c, const char *topic, int32_t partition)
{
    for (sc_part *p = c->parts; p; p = p->next)
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return p;
    return NULL;
}

static void sc_parts_drop(silver_consumer *c)
{
    for (sc_part *p = c->parts, *next; p; p = next) {
        next = p->next;
        free(p->topic);
        free(p);
    }
    c->parts = NULL;
}

/* Commit the read positions of the assigned partitions that moved (everything before them is in
 * committed snapshots, or skipped). Synchronous; a failure is retried at the next tick. */
static void sc_offsets_commit(silver_consumer *c)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (sc_part *p = c->parts; p; p = p->next)
        if (p->pos >= 0 && p->pos != p->committed)
            rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->pos;
    if (l->cnt > 0) {
        rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, 0);
        for (int i = 0; !e && i < l->cnt; i++)
            e = l->elems[i].err;
        if (e) {
            metric_add(c->m_commit_failures, 1);
            log_warn(SC_LOG, "committing offsets of group %s: %s (retried)", c->group, rd_kafka_err2str(e));
        } else {
            for (int i = 0; i < l->cnt; i++)
                sc_part_find(c, l->elems[i].topic, l->elems[i].partition)->committed = l->elems[i].offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Commit every open batch, then the offsets. 0, or -1 (stopping: the writer gave up). */
static int sc_commit(silver_consumer *c)
{
    if (c->uncommitted) {
        char err[1024];
        if (silver_sink_commit_all(c->silver, err, sizeof err) < 0) {
            if (!c->stop)
                sc_fail(c, err);
            else
                log_warn(SC_LOG, "at stop: %s (the records are read again at the next start)", err);
            return -1;
        }
        c->uncommitted = 0;
    }
    sc_offsets_commit(c);
    return 0;
}

/* 1 when the assignment holds every partition of each topic in it; else 0 with the reason. */
static int sc_whole_topics(silver_consumer *c, const rd_kafka_topic_partition_list_t *parts, char *why,
                           size_t whylen)
{
    for (int i = 0; i < parts->cnt; i++) {
        const char *topic = parts->elems[i].topic;
        int held = 0, seen = 0;
        for (int j = 0; j < parts->cnt; j++) {
            held += strcmp(parts->elems[j].topic, topic) == 0;
            seen |= j < i && strcmp(parts->elems[j].topic, topic) == 0;
        }
        if (seen)
            continue;   /* one metadata request per topic */
        rd_kafka_topic_t *t = rd_kafka_topic_new(c->rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = t ? rd_kafka_metadata(c->rk, 0, t, &md, 10000) : RD_KAFKA_RESP_ERR__NOENT;
        if (!e && md->topic_cnt != 1)
            e = RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
        if (!e)
            e = md->topics[0].err;
        int total = !e ? md->topics[0].partition_cnt : -1;
        if (md)
            rd_kafka_metadata_destroy(md);
        if (t)
            rd_kafka_topic_destroy(t);
        if (total < 0)   /* cannot tell: the brokers' view is checked at the next assignment */
            log_warn(SC_LOG, "cannot read the partitions of %s to check the assignment: %s", topic,
                     rd_kafka_err2str(e));
        if (held < total) {
            snprintf(why, whylen, "group %s gave this process %d of the %d partitions of %s: another process "
                     "consumes in the same group, but silver from Kafka runs as one process per group (its "
                     "index of live rows is local); stop the other one", c->group, held, total, topic);
            return 0;
        }
    }
    return 1;
}

static void sc_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
    silver_consumer *c = opaque;
    metric_add(c->m_rebalances, 1);
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        char why[1024];
        sc_parts_drop(c);
        if (!c->failed && !sc_whole_topics(c, parts, why, sizeof why))
            sc_fail(c, why);
        if (c->failed) {
            rd_kafka_assign(rk, NULL);
            metric_set(c->m_assigned, 0);
            return;
        }
        for (int i = 0; i < parts->cnt; i++) {
            sc_part *p = calloc(1, sizeof *p);
            if (!p || !(p->topic = strdup(parts->elems[i].topic))) {
                free(p);
                sc_parts_drop(c);
                rd_kafka_assign(rk, NULL);
                sc_fail(c, "out of memory");
                return;
            }
            p->partition = parts->elems[i].partition;
            p->pos = p->committed = -1;
            p->next = c->parts;
            c->parts = p;
        }
        rd_kafka_assign(rk, parts);   /* from the committed offsets (earliest in a new group) */
        metric_set(c->m_assigned, parts->cnt);
        log_info(SC_LOG, "assigned %d partition(s) of group %s", parts->cnt, c->group);
        return;
    }
    if (e != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
        log_warn(SC_LOG, "rebalance: %s", rd_kafka_err2str(e));
    /* Eager: every partition goes. What was read is committed first, so the next owner (this
     * process again, usually) starts after it. */
    if (!c->failed)
        sc_commit(c);
    sc_parts_drop(c);
    rd_kafka_assign(rk, NULL);
    metric_set(c->m_assigned, 0);
}

/* ---- records ---------------------------------------------------------------------------------------- */

static void sc_skipped(silver_consumer *c, const rd_kafka_message_t *m, const char *why)
{
    metric_add(c->m_skipped, 1);
    int64_t now = sc_mono_ms() / 1000;
    if (now - c->last_skip_log_s >= SC_SKIP_LOG_PERIOD_S) {
        c->last_skip_log_s = now;
        log_warn(SC_LOG, "skipping a record of %s [%" PRId32 "] at offset %" PRId64 " that is not a change event: %s "
                 "(logged once a minute; counted in sluice_silver_kafka_skipped_records_total)",
                 rd_kafka_topic_name(m->rkt), m->partition, m->offset, why);
    }
}

/* ---- key changes ------------------------------------------------------------------------------------
 * A key change's create that needs the old row (silver_pair_change returns 1) waits: its
 * partition is paused and rewound to it, and read again once a key change's delete was applied
 * (or every SC_WAIT_RETRY_MS). No wait can block another for good: each partition is in commit
 * order and a create only waits for the delete of its own transaction. */

static void sc_part_list(const sc_part *p, rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->pos;
}

static void sc_wait(silver_consumer *c, sc_part *p, const rd_kafka_message_t *m)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    p->pos = m->offset;
    sc_part_list(p, l);
    rd_kafka_pause_partitions(c->rk, l);
    rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, l, 5000);
    if (e) {
        log_warn(SC_LOG, "%s [%" PRId32 "]: cannot rewind to offset %" PRId64 ": %s", p->topic, p->partition, p->pos,
                 rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (!p->waiting_ms)
        p->waiting_ms = sc_mono_ms();
    log_debug(SC_LOG, "%s [%" PRId32 "] offset %" PRId64 ": a key change's create waits for its old key's delete",
              p->topic, p->partition, m->offset);
}

/* Read the waiting partitions again (all of them with all set, else those due for a retry). */
static void sc_wait_resume(silver_consumer *c, int all)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    int64_t now = sc_mono_ms();
    for (sc_part *p = c->parts; p; p = p->next) {
        if (!p->waiting_ms || (!all && now - p->waiting_ms < SC_WAIT_RETRY_MS))
            continue;
        if (now - p->waiting_ms >= SC_WAIT_WARN_MS && (now - p->waiting_ms) % SC_WAIT_WARN_MS < SC_WAIT_RETRY_MS)
            log_warn(SC_LOG, "%s [%" PRId32 "] offset %" PRId64 ": a key change's create has waited %" PRId64 " s for "
                     "the delete of its old key (Debezium's record with __debezium.newkey) to take unchanged "
                     "TOASTed values from; is that topic consumed?", p->topic, p->partition, p->pos,
                     (now - p->waiting_ms) / 1000);
        sc_part_list(p, l);
        if (all)
            p->waiting_ms = 0;
    }
    if (l->cnt > 0)
        rd_kafka_resume_partitions(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* One record of an assigned partition. 0, or -1 when the consumer failed. */
static int sc_record(silver_consumer *c, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    sc_part *p = sc_part_find(c, topic, m->partition);
    if (!p || (p->pos >= 0 && m->offset < p->pos))
        return 0;   /* not ours (any more), or read */
    if (p->waiting_ms && m->offset > p->pos)
        return 0;   /* fetched before the rewind (librdkafka drops those): after the waiting create */
    arena_reset(c->values);
    event ev;
    char err[1024], why[256];
    debezium_record r = {.key = m->key, .key_len = m->key_len, .value = m->payload, .value_len = m->len};
    int from = 0;
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const void *v;
        size_t n;
        if (rd_kafka_header_get_last(hdrs, "__debezium.oldkey", &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v) {
            r.oldkey = v;
            r.oldkey_len = n;
        }
        from = rd_kafka_header_get_last(hdrs, "__debezium.newkey", &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    int rc = debezium_decoder_decode_record(c->dec, &r, c->values, &ev, err, sizeof err);
    if (rc < 0) {
        /* Not a change event at all: skip it. A change event it cannot read: stop there. */
        int64_t hour;
        char table[512];
        buf_reset(&c->scratch);
        if (!bronze_consumer_record(m->payload, m->len, 0, &c->scratch, table, sizeof table, &hour, why,
                                    sizeof why)) {
            sc_skipped(c, m, why);
            p->pos = m->offset + 1;
            return 0;
        }
        char msg[1400];
        snprintf(msg, sizeof msg, "%s [%" PRId32 "] offset %" PRId64 ": a change event silver cannot read: %s", topic,
                 m->partition, m->offset, err);
        sc_fail(c, msg);
        return -1;
    }
    if (rc == 1) {
        silver_pos pos = {.topic = topic, .partition = m->partition, .offset = m->offset};
        silver_move mv = {.from = from && ev.op == EVENT_DELETE, .to_old_key = r.old_key_image};
        int w = silver_sink_record(c->silver, &ev, &pos, &mv, err, sizeof err);
        if (w < 0) {
            char msg[1400];
            snprintf(msg, sizeof msg, "%s [%" PRId32 "] offset %" PRId64 ": %s", topic, m->partition, m->offset, err);
            sc_fail(c, msg);
            return -1;
        }
        if (w == 1) {
            sc_wait(c, p, m);
            return 0;
        }
        if (mv.from)
            sc_wait_resume(c, 1);
        c->uncommitted++;
        metric_add(c->m_records, 1);
    }
    p->pos = m->offset + 1;
    p->waiting_ms = 0;
    return 0;
}

/* ---- the thread ---------------------------------------------------------------------------------- */

static void *sc_thread(void *arg)
{
    silver_consumer *c = arg;
    int64_t next_tick = 0;
    while (!c->stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, SC_POLL_MS);
        if (m) {
            if (!m->err) {
                if (!c->failed)
                    sc_record(c, m);
            } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                log_warn(SC_LOG, "consumer: %s", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        }
        char err[512];
        if (!c->failed && rd_kafka_fatal_error(c->rk, err, sizeof err))
            sc_fail(c, err);
        if (c->failed) {
            if (c->parts) {   /* read nothing more; offsets stay */
                sc_parts_drop(c);
                rd_kafka_assign(c->rk, NULL);
            }
            continue;
        }
        int64_t now = sc_mono_ms();
        if (now >= next_tick) {
            next_tick = now + SC_TICK_MS;
            if (!c->uncommitted || silver_sink_due(c->silver))
                sc_commit(c);
            sc_wait_resume(c, 0);
        }
    }
    if (!c->failed)
        sc_commit(c);
    rd_kafka_consumer_close(c->rk);   /* serves the revocation (its commit finds nothing new) */
    sc_parts_drop(c);
    return NULL;
}

/* ---- create / destroy ------------------------------------------------------------------------------ */

static void sc_on_error(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
    (void)rk;
    silver_consumer *c = opaque;
    if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !c->failed)
        sc_health(c, HEALTH_DEGRADED, reason);
    log_debug(SC_LOG, "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)e), reason);
}

static void sc_metrics_register(silver_consumer *c, metrics *m)
{
    if (!m)
        return;
    c->m_records = metrics_counter(m, "sluice_silver_kafka_records_total",
                                   "Change events read from Kafka and handed to the silver writer.", NULL);
    c->m_skipped = metrics_counter(m, "sluice_silver_kafka_skipped_records_total",
                                   "Kafka records the silver consumer skipped because they are not change events "
                                   "(not JSON, not a Debezium envelope).", NULL);
    c->m_rebalances = metrics_counter(m, "sluice_silver_kafka_rebalances_total",
                                      "Partition assignments and revocations of the silver consumer.", NULL);
    c->m_assigned = metrics_gauge(m, "sluice_silver_kafka_assigned_partitions",
                                  "Partitions this process writes to silver.", NULL);
    c->m_commit_failures = metrics_counter(m, "sluice_silver_kafka_commit_failures_total",
                                           "Failed offset commits of the silver consumer (retried).", NULL);
}

silver_consumer *silver_consumer_create(const silver_consumer_options *o, const kafka_options *kafka,
                                        objstore *objects, iceberg_catalog *catalog, metrics *m, health *h,
                                        char *err, size_t errlen)
{
    silver_consumer *c = calloc(1, sizeof *c);
    if (!c) {
        objstore_destroy(objects);
        iceberg_catalog_destroy(catalog);
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    c->objects = objects;
    c->catalog = catalog;
    c->health = h;
    if (!(c->topics = strdup(o->topics)) || !(c->group = strdup(o->group)) || !(c->bootstrap = strdup(o->bootstrap)) ||
        !(c->dec = debezium_decoder_create()) || !(c->values = arena_create(64 * 1024))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    sc_metrics_register(c, m);
    silver_sink_deps sd = {
        .objects = objects, .catalog = catalog, .metrics = m, .health = h, .stop = &c->stop};
    if (!(c->silver = silver_sink_open(&o->silver, &sd, err, errlen)))
        goto fail;
    kafka_group_options go = {
        .bootstrap = c->bootstrap,
        .group = c->group,
        .client_id = "sluice-silver",
        .topics = c->topics,
        .session_timeout_ms = o->session_timeout_ms,
        .opaque = c,
        .rebalance = sc_rebalance,
        .error = sc_on_error,
    };
    if (!(c->rk = kafka_group_join(kafka, &go, err, errlen)))
        goto fail;
    sc_health(c, HEALTH_OK, "consuming");
    if (pthread_create(&c->thread, NULL, sc_thread, c) != 0) {
        err_setf(err, errlen, "cannot start the silver consumer thread");
        goto fail;
    }
    c->thread_started = 1;
    log_info(SC_LOG, "consuming %s as group %s into silver tables in %s/silver/%s", c->topics, c->group,
             objstore_describe(objects), o->silver.source);
    return c;
fail:
    silver_consumer_destroy(c);
    return NULL;
}

void silver_consumer_destroy(silver_consumer *c)
{
    if (!c)
        return;
    c->stop = 1;
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    else if (c->rk)
        rd_kafka_consumer_close(c->rk);
    if (c->rk)
        rd_kafka_destroy(c->rk);
    sc_parts_drop(c);
    silver_sink_close(c->silver);
    debezium_decoder_destroy(c->dec);
    arena_destroy(c->values);
    buf_free(&c->scratch);
    iceberg_catalog_destroy(c->catalog);
    objstore_destroy(c->objects);
    free(c->topics);
    free(c->group);
    free(c->bootstrap);
    free(c);
}

silver_consumer *silver_consumer_start(const config *cfg, const char *state_dir, store *st,
                                       const char *embedded_bootstrap, metrics *m, health *h, char *err,
                                       size_t errlen)
{
    err[0] = '\0';
    lake_conf lc;
    lake_conf_from_config(cfg, state_dir, NULL, &lc);
    if (!lc.silver_kafka)
        return NULL;
    kafka_options ko;
    kafka_options_from_config(cfg, NULL, &ko);
    const char *bootstrap = ko.brokers;
    if (bootstrap && strcmp(bootstrap, KAFKA_EMBEDDED) == 0)
        bootstrap = embedded_bootstrap;
    silver_consumer *c = NULL;
    if (!bootstrap) {
        err_setf(err, errlen, "silver.kafka_topics is set but Kafka is not: set kafka.brokers");
    } else {
        silver_consumer_options o = {
            .silver = lc.silver_opts,
            .topics = lc.silver_kafka_topics,
            .group = lc.silver_kafka_group,
            .session_timeout_ms = (int)lc.silver_kafka_session_timeout_ms,
            .bootstrap = bootstrap,
        };
        objstore *s = lake_store_open(cfg, &lc, err, errlen);
        iceberg_catalog *cat = s ? lake_silver_catalog_open(&lc, st, err, errlen) : NULL;
        if (s && !cat)
            objstore_destroy(s);
        c = cat ? silver_consumer_create(&o, &ko, s, cat, m, h, err, errlen) : NULL;
    }
    if (!c && h)
        health_set(h, "silver_kafka", HEALTH_DOWN, err[0] ? err : "out of memory");
    return c;
}
