/* bronze_sink: raw Debezium events into per-destination-table, per-hour objects, uploaded
 * exactly once (see bronze_sink.h). The capture thread encodes and compresses into open objects; closed ones
 * go into a FIFO that the uploader thread drains in order. Acknowledgement: every object knows
 * prev_end, the end LSN of the last transaction committed before its first event, so everything
 * up to the smallest prev_end among objects not yet uploaded is durable (or, with none pending,
 * everything committed). The capture thread publishes (open objects' floor, last commit) at each
 * flush; the uploader combines that snapshot with its queue. */
#include "sinks/lake/bronze_sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/backoff.h"
#include "core/errbuf.h"
#include "core/fs.h"
#include "core/log.h"
#include "sinks/lake/bronze_object.h"
#include "sinks/lake/bronze_retention.h"
#include "sinks/lake/bronze_state.h"

#define BZ_LOG "bronze"
#define BZ_STOP_WAIT_MS 30000          /* a waiting flush at stop gives uploads this long */

/* One destination table: a captured table, or a name a rule routed events to (capture thread
 * only). Its events arrive in (commit LSN, seq) order whatever their source tables, so one
 * watermark per destination is enough. */
typedef struct bz_table {
    char *name;                /* "schema.table", or the route's table name */
    bronze_pos watermark;      /* events at or below it are already in the lake */
    bronze_object *open;       /* the object being written, or NULL */
    struct bz_table *next;     /* hash chain */
} bz_table;

typedef struct bronze_sink {
    bronze_sink_options o;     /* strings point at copies below */
    char *source, *spool_dir;
    bronze_sink_deps d;
    debezium_encoder *enc;
    buf line;

    /* capture thread */
    bz_table **buckets;
    size_t nbuckets;
    const tx_info *tx;         /* the transaction being handed over */
    uint64_t last_commit;      /* end LSN of the last committed transaction */
    int recovered_seen;        /* the uploader's recovery was seen done */
    const table_def *last_def; /* the previous unrouted event's table, for runs of one table */
    bz_table *last_table;

    /* shared with the uploader, under lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;       /* queue changes, recovery done, quit */
    bronze_object **queue;     /* closed objects, oldest first */
    size_t qhead, qlen, qcap;
    uint64_t spool_bytes;      /* bytes of queued objects */
    uint64_t open_floor;       /* published: smallest prev_end of open objects (UINT64_MAX: none) */
    uint64_t published_commit; /* published: last_commit at the same moment */
    int recovered;             /* intents settled: watermarks may be read */
    int quit;
    char last_error[512];      /* the uploader's last failure, "" after a success */
    pthread_t thread;
    int thread_started;

    metric *m_objects, *m_bytes, *m_events, *m_failures, *m_pending, *m_spool, *m_skipped, *m_blocked, *m_expired;
} bronze_sink;

static int64_t bz_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t bz_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void bz_health(bronze_sink *b, health_state st, const char *msg)
{
    if (b->d.health)
        health_set(b->d.health, "bronze", st, msg);
}

/* ---- tables ------------------------------------------------------------------------------------ */

static uint64_t bz_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The destination of ev (its route's table, else its own "schema.table"), created (with its
 * watermark from the store) at first sight. */
static bz_table *bz_table_get(bronze_sink *b, const event *ev, char *err, size_t errlen)
{
    const table_def *t = ev->table;
    if (!ev->route_table && t == b->last_def)
        return b->last_table;
    char name[600];
    if (ev->route_table)
        snprintf(name, sizeof name, "%s", ev->route_table);
    else
        snprintf(name, sizeof name, "%s.%s", t->schema, t->name);
    size_t i = bz_hash(name) & (b->nbuckets - 1);
    bz_table *x;
    for (x = b->buckets[i]; x; x = x->next)
        if (strcmp(x->name, name) == 0)
            goto found;
    x = calloc(1, sizeof *x);
    if (!x || !(x->name = strdup(name))) {
        free(x);
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    if (bronze_state_watermark(b->d.st, b->source, name, &x->watermark, err, errlen) < 0) {
        free(x->name);
        free(x);
        return NULL;
    }
    x->next = b->buckets[i];
    b->buckets[i] = x;
found:
    if (!ev->route_table) {
        b->last_def = t;
        b->last_table = x;
    }
    return x;
}

/* ---- closing objects --------------------------------------------------------------------------- */

/* Close t's open object and queue it for upload. */
static int bz_close(bronze_sink *b, bz_table *t, char *err, size_t errlen)
{
    bronze_object *o = t->open;
    if (!o)
        return 0;
    if (bronze_object_finish(o, b->source, err, errlen) < 0)
        return -1;
    uint64_t size = bronze_object_size(o);
    pthread_mutex_lock(&b->lock);
    if (b->qlen == b->qcap) {
        size_t ncap = b->qcap ? b->qcap * 2 : 16;
        bronze_object **nq = malloc(ncap * sizeof *nq);
        if (!nq) {
            pthread_mutex_unlock(&b->lock);
            return err_setf(err, errlen, "out of memory");
        }
        for (size_t i = 0; i < b->qlen; i++)
            nq[i] = b->queue[(b->qhead + i) % b->qcap];
        free(b->queue);
        b->queue = nq;
        b->qcap = ncap;
        b->qhead = 0;
    }
    b->queue[(b->qhead + b->qlen) % b->qcap] = o;
    b->qlen++;
    b->spool_bytes += size;
    metric_set(b->m_pending, (double)b->qlen);
    metric_set(b->m_spool, (double)b->spool_bytes);
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    t->open = NULL;
    return 0;
}

/* Visit every table (capture thread). */
#define BZ_EACH_TABLE(b, t)                                                                              \
    for (size_t bz_i_ = 0; bz_i_ < (b)->nbuckets; bz_i_++)                                              \
        for (bz_table *t = (b)->buckets[bz_i_]; t; t = t->next)

/* Close the objects that are old enough (all of them with all set). */
static int bz_close_due(bronze_sink *b, int all, char *err, size_t errlen)
{
    int64_t now = bz_mono_ms();
    BZ_EACH_TABLE(b, t)
    {
        if (t->open && (all || now - t->open->opened_ms >= b->o.roll_age_ms) && bz_close(b, t, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* What is durable given the published snapshot and the queue (lock held). */
static uint64_t bz_durable_locked(const bronze_sink *b)
{
    uint64_t floor = b->open_floor;
    for (size_t i = 0; i < b->qlen; i++) {
        uint64_t p = b->queue[(b->qhead + i) % b->qcap]->prev_end;
        if (p < floor)
            floor = p;
    }
    return floor < b->published_commit ? floor : b->published_commit;
}

/* Publish the capture thread's view (open objects, last commit) and report what is durable. */
static void bz_publish(bronze_sink *b)
{
    uint64_t floor = UINT64_MAX;
    BZ_EACH_TABLE(b, t)
    {
        if (t->open && t->open->prev_end < floor)
            floor = t->open->prev_end;
    }
    pthread_mutex_lock(&b->lock);
    b->open_floor = floor;
    b->published_commit = b->last_commit;
    uint64_t durable = bz_durable_locked(b);
    pthread_mutex_unlock(&b->lock);
    ack_tracker_durable(b->d.ack, b->d.ack_index, durable);
}

/* Backpressure (capture thread): while the spool is full, wait for the uploader to drain it, or
 * for a stop (then -1). */
static int bz_wait_spool(bronze_sink *b, char *err, size_t errlen)
{
    int64_t since = 0;
    pthread_mutex_lock(&b->lock);
    while (b->spool_bytes >= b->o.spool_max_bytes && !*b->d.stop) {
        if (!since) {
            since = bz_mono_ms();
            log_warn(BZ_LOG, "spool full (%llu bytes waiting for upload%s%s): capture paused",
                     (unsigned long long)b->spool_bytes, b->last_error[0] ? "; last error: " : "", b->last_error);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&b->cond, &b->lock, &ts);
    }
    int stopped = b->spool_bytes >= b->o.spool_max_bytes;
    pthread_mutex_unlock(&b->lock);
    if (since)
        metric_add(b->m_blocked, (double)(bz_mono_ms() - since) / 1000.0);
    if (stopped)
        return err_setf(err, errlen, "bronze: stopped while the spool was full (the object store is not "
                        "accepting uploads)");
    return 0;
}

/* Wait until the uploader has settled the intents left by a crash (watermarks depend on it). */
static int bz_wait_recovered(bronze_sink *b, char *err, size_t errlen)
{
    pthread_mutex_lock(&b->lock);
    while (!b->recovered && !*b->d.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&b->cond, &b->lock, &ts);
    }
    int ok = b->recovered;
    pthread_mutex_unlock(&b->lock);
    return ok ? 0 : err_setf(err, errlen, "bronze: stopped before the object store could be checked");
}

/* ---- sink ops ------------------------------------------------------------------------------------ */

static int bronze_sink_begin(void *self, const tx_info *tx, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    ((bronze_sink *)self)->tx = tx;
    return 0;
}

static int bronze_sink_change(void *self, const event *ev, char *err, size_t errlen)
{
    bronze_sink *b = self;
    if (!b->recovered_seen) {
        if (bz_wait_recovered(b, err, errlen) < 0)
            return -1;
        b->recovered_seen = 1;
    }
    bz_table *t = bz_table_get(b, ev, err, errlen);
    if (!t)
        return -1;
    const tx_info *tx = ev->tx ? ev->tx : b->tx;
    bronze_pos pos = {tx ? tx->final_lsn : ev->lsn, ev->seq};   /* the commit LSN is known at begin */
    if (bronze_pos_cmp(pos, t->watermark) <= 0) {   /* replayed: already in an uploaded object */
        metric_add(b->m_skipped, 1);
        return 0;
    }
    int64_t commit_us = tx && tx->commit_time_us ? tx->commit_time_us : bz_now_us();
    int64_t hour = commit_us >= 0 ? commit_us / 3600000000LL : (commit_us + 1) / 3600000000LL - 1;
    if (t->open && t->open->hour != hour && bz_close(b, t, err, errlen) < 0)
        return -1;
    if (!t->open) {
        if (bz_wait_spool(b, err, errlen) < 0)
            return -1;
        if (!(t->open = bronze_object_create(b->spool_dir, b->o.codec, t->name, hour, b->last_commit, bz_mono_ms(),
                                             err, errlen)))
            return -1;
    }
    buf_reset(&b->line);
    debezium_encode_value(b->enc, &b->line, ev, bz_now_us(), NULL);
    buf_append(&b->line, "\n", 1);
    if (bronze_object_append(t->open, b->line.data, b->line.len, pos, err, errlen) < 0)
        return -1;
    t->watermark = pos;
    metric_add(b->m_events, 1);
    if (bronze_object_size(t->open) >= b->o.roll_bytes)
        return bz_close(b, t, err, errlen);
    return 0;
}

static int bronze_sink_commit(void *self, const tx_info *tx, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    bronze_sink *b = self;
    b->last_commit = tx->end_lsn;
    b->tx = NULL;
    return 0;
}

static int bronze_sink_flush(void *self, int wait, char *err, size_t errlen)
{
    bronze_sink *b = self;
    if (bz_close_due(b, wait, err, errlen) < 0)
        return -1;
    bz_publish(b);
    if (!wait)
        return 0;
    /* Wait for the queue to drain; once a stop is requested, for BZ_STOP_WAIT_MS at most. */
    int64_t deadline = 0, next_log = bz_mono_ms() + 10000;
    pthread_mutex_lock(&b->lock);
    while (b->qlen > 0) {
        int64_t now = bz_mono_ms();
        if (*b->d.stop && !deadline)
            deadline = now + BZ_STOP_WAIT_MS;
        if (deadline && now >= deadline) {
            err_setf(err, errlen, "bronze: gave up waiting for %zu object(s) to upload%s%s; their changes are "
                     "captured again from the last confirmed position at the next start", b->qlen,
                     b->last_error[0] ? " (last error: " : "", b->last_error[0] ? b->last_error : "");
            if (b->last_error[0] && strlen(err) + 2 < errlen)
                strcat(err, ")");
            pthread_mutex_unlock(&b->lock);
            return -1;
        }
        if (now >= next_log) {
            log_info(BZ_LOG, "waiting for %zu object(s) to upload", b->qlen);
            next_log = now + 10000;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&b->cond, &b->lock, &ts);
    }
    uint64_t durable = bz_durable_locked(b);
    pthread_mutex_unlock(&b->lock);
    ack_tracker_durable(b->d.ack, b->d.ack_index, durable);
    return 0;
}

/* ---- the uploader thread -------------------------------------------------------------------------- */

/* Sleep up to ms, waking early at quit (lock held on entry and exit). */
static void bz_nap_locked(bronze_sink *b, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (!b->quit)
        pthread_cond_timedwait(&b->cond, &b->lock, &ts);
}

/* The wait before retry number attempt: 200 ms doubling, up to retry_max_ms. */
static int bz_backoff_ms(const bronze_sink *b, int attempt)
{
    return (int)backoff_next_ms(attempt, 200, b->o.retry_max_ms > 0 ? b->o.retry_max_ms : 30000);
}

static void bz_failed(bronze_sink *b, const char *what, const char *why)
{
    metric_add(b->m_failures, 1);
    pthread_mutex_lock(&b->lock);
    int first = !b->last_error[0];
    snprintf(b->last_error, sizeof b->last_error, "%s: %s", what, why);
    pthread_mutex_unlock(&b->lock);
    if (first)
        log_warn(BZ_LOG, "%s: %s; retrying (changes wait in the spool and are not confirmed)", what, why);
    char msg[600];
    snprintf(msg, sizeof msg, "%s: %s", what, why);
    bz_health(b, HEALTH_DEGRADED, msg);
}

static void bz_succeeded(bronze_sink *b)
{
    pthread_mutex_lock(&b->lock);
    int was_failing = b->last_error[0] != 0;
    b->last_error[0] = '\0';
    pthread_mutex_unlock(&b->lock);
    if (was_failing) {
        log_info(BZ_LOG, "the object store accepts uploads again");
        bz_health(b, HEALTH_OK, "writing");
    }
}

static int bz_exists(void *arg, const char *key, char *err, size_t errlen)
{
    objstore *s = arg;
    objstore_info info;
    int rc = objstore_head(s, key, &info, err, errlen);
    return rc == OBJSTORE_OK ? 1 : rc == OBJSTORE_NOT_FOUND ? 0 : -1;
}

/* Intent, upload, watermark. 0, or -1 with the reason in err. */
static int bz_upload(bronze_sink *b, bronze_object *o, char *err, size_t errlen)
{
    if (bronze_state_intend(b->d.st, b->source, o->table, o->key, o->last, err, errlen) < 0)
        return -1;
    if (bronze_object_upload(o, b->d.objects, err, errlen) != OBJSTORE_OK)
        return -1;
    if (bronze_state_done(b->d.st, b->source, o->table, o->last, err, errlen) < 0)
        return -1;
    metric_add(b->m_objects, 1);
    metric_add(b->m_bytes, (double)bronze_object_size(o));
    return 0;
}

static void bz_retention(bronze_sink *b)
{
    char err[512];
    long n = bronze_retention_run(b->d.objects, b->source, b->o.retention_days, (int64_t)time(NULL), err, sizeof err);
    if (n < 0)
        log_warn(BZ_LOG, "retention: %s", err);
    else
        metric_add(b->m_expired, (double)n);
}

static void *bz_uploader(void *arg)
{
    bronze_sink *b = arg;
    char err[1024];
    int attempt = 0;
    /* Intents a crash left behind decide the watermarks before anything is written. */
    for (;;) {
        int rc = bronze_state_recover(b->d.st, b->source, bz_exists, b->d.objects, err, sizeof err);
        pthread_mutex_lock(&b->lock);
        if (rc >= 0 || b->quit) {
            b->recovered = rc >= 0;
            pthread_cond_broadcast(&b->cond);
            pthread_mutex_unlock(&b->lock);
            if (rc > 0)
                log_info(BZ_LOG, "settled %d upload(s) interrupted by the last stop", rc);
            break;
        }
        pthread_mutex_unlock(&b->lock);
        bz_failed(b, "checking interrupted uploads", err);
        pthread_mutex_lock(&b->lock);
        bz_nap_locked(b, bz_backoff_ms(b, attempt++));
        pthread_mutex_unlock(&b->lock);
    }
    if (b->recovered)
        bz_succeeded(b);
    attempt = 0;
    int64_t next_retention = 0;
    pthread_mutex_lock(&b->lock);
    while (!b->quit) {
        if (b->o.retention_days > 0 && bz_mono_ms() >= next_retention) {
            pthread_mutex_unlock(&b->lock);
            bz_retention(b);
            next_retention = bz_mono_ms() + BRONZE_RETENTION_PERIOD_S * 1000LL;
            pthread_mutex_lock(&b->lock);
            continue;
        }
        if (b->qlen == 0) {
            bz_nap_locked(b, 1000);
            continue;
        }
        bronze_object *o = b->queue[b->qhead];
        pthread_mutex_unlock(&b->lock);
        if (bz_upload(b, o, err, sizeof err) < 0) {
            bz_failed(b, o->key, err);
            pthread_mutex_lock(&b->lock);
            bz_nap_locked(b, bz_backoff_ms(b, attempt++));
            continue;
        }
        attempt = 0;
        bz_succeeded(b);
        pthread_mutex_lock(&b->lock);
        b->qhead = (b->qhead + 1) % b->qcap;
        b->qlen--;
        b->spool_bytes -= bronze_object_size(o);
        metric_set(b->m_pending, (double)b->qlen);
        metric_set(b->m_spool, (double)b->spool_bytes);
        uint64_t durable = bz_durable_locked(b);
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
        bronze_object_destroy(o);
        ack_tracker_durable(b->d.ack, b->d.ack_index, durable);
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

/* ---- create / destroy ---------------------------------------------------------------------------- */

static void bronze_sink_destroy(void *self)
{
    bronze_sink *b = self;
    if (!b)
        return;
    if (b->thread_started) {
        pthread_mutex_lock(&b->lock);
        b->quit = 1;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
        pthread_join(b->thread, NULL);
    }
    /* Objects not uploaded were never acknowledged: their changes come again at the next start. */
    for (size_t i = 0; i < b->qlen; i++)
        bronze_object_destroy(b->queue[(b->qhead + i) % b->qcap]);
    free(b->queue);
    for (size_t i = 0; i < b->nbuckets; i++) {
        for (bz_table *t = b->buckets[i], *next; t; t = next) {
            next = t->next;
            bronze_object_destroy(t->open);
            free(t->name);
            free(t);
        }
    }
    free(b->buckets);
    debezium_encoder_destroy(b->enc);
    buf_free(&b->line);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    free(b->source);
    free(b->spool_dir);
    free(b);
}

static const sink_ops bronze_sink_ops = {
    .name = "bronze",
    .begin = bronze_sink_begin,
    .change = bronze_sink_change,
    .commit = bronze_sink_commit,
    .flush = bronze_sink_flush,
    .destroy = bronze_sink_destroy,
};

static void bz_metrics_register(bronze_sink *b, metrics *m)
{
    if (!m)
        return;
    b->m_objects = metrics_counter(m, "sluice_bronze_objects_total", "Bronze objects uploaded.", NULL);
    b->m_bytes = metrics_counter(m, "sluice_bronze_bytes_total", "Compressed bytes of bronze objects uploaded.", NULL);
    b->m_events = metrics_counter(m, "sluice_bronze_events_total", "Events written to bronze objects.", NULL);
    b->m_failures = metrics_counter(m, "sluice_bronze_upload_failures_total",
                                    "Failed bronze uploads (each is retried).", NULL);
    b->m_pending = metrics_gauge(m, "sluice_bronze_pending_objects", "Closed bronze objects waiting for upload.", NULL);
    b->m_spool = metrics_gauge(m, "sluice_bronze_spool_bytes", "Bytes of bronze objects waiting for upload.", NULL);
    b->m_skipped = metrics_counter(m, "sluice_bronze_skipped_events_total",
                                   "Replayed events skipped because an uploaded object already holds them.", NULL);
    b->m_blocked = metrics_counter(m, "sluice_bronze_blocked_seconds_total",
                                   "Time the capture waited because the bronze spool was full.", NULL);
    b->m_expired = metrics_counter(m, "sluice_bronze_expired_objects_total",
                                   "Bronze objects deleted by bronze.retention_days.", NULL);
}

int bronze_sink_create(const bronze_sink_options *o, const bronze_sink_deps *d, sink *out, char *err,
                       size_t errlen)
{
    bronze_sink *b = calloc(1, sizeof *b);
    if (!b)
        return err_setf(err, errlen, "out of memory");
    b->o = *o;
    b->d = *d;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    b->open_floor = UINT64_MAX;
    b->nbuckets = 256;
    if (!(b->source = strdup(o->source)) || !(b->spool_dir = strdup(o->spool_dir)) ||
        !(b->buckets = calloc(b->nbuckets, sizeof *b->buckets)) || !(b->enc = debezium_encoder_create(&o->encoding))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    b->o.source = b->source;
    b->o.spool_dir = b->spool_dir;
    if (fs_mkdirs(b->spool_dir, 0700, err, errlen) < 0)
        goto fail;
    bz_metrics_register(b, d->metrics);
    bz_health(b, HEALTH_OK, "writing");
    if (pthread_create(&b->thread, NULL, bz_uploader, b) != 0) {
        err_setf(err, errlen, "bronze: cannot start the uploader thread");
        goto fail;
    }
    b->thread_started = 1;
    out->ops = &bronze_sink_ops;
    out->self = b;
    return 0;
fail:
    bronze_sink_destroy(b);
    return -1;
}
