/* kafka_sink: Debezium events to Kafka with acknowledgement-driven confirmation (see kafka_sink.h).
 * The capture thread encodes and enqueues; a poller thread serves librdkafka's delivery reports,
 * which count down each transaction's outstanding messages. Transactions wait in a FIFO; the
 * head is popped (and its end LSN reported durable) only once it is committed and every message
 * of it is acknowledged, so the reported position never passes an unacknowledged event. */
#include "sinks/kafka/kafka_sink.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "sinks/kafka/kafka_dlq.h"
#include "sinks/kafka/kafka_topics.h"

#define KS_STOP_WAIT_MS 30000          /* a final flush at stop waits this long for acknowledgements */
#define KS_ERROR_LOG_PERIOD_S 10       /* the same broker error is logged at most this often */

/* One transaction's delivery accounting. */
typedef struct ks_tx {
    struct ks_tx *next;
    uint64_t end_lsn;                /* set at commit */
    int64_t commit_time_us;
    uint64_t outstanding;            /* messages enqueued, not yet acknowledged */
    int committed;
} ks_tx;

/* Events per table in the open transaction (transaction metadata). */
typedef struct ks_collection {
    const char *schema, *table;
    uint64_t count;
} ks_collection;

/* Topic handle by table definition. */
typedef struct ks_route {
    const table_def *table;
    rd_kafka_topic_t *rkt;
} ks_route;

typedef struct kafka_sink {
    rd_kafka_t *rk;
    kafka_topics *topics;
    debezium_encoder *enc;
    char *prefix, *heartbeat_topic, *tx_topic;
    char *dlq_topic;                 /* dead letters (kafka_dlq.h); NULL: none */
    int tombstones, tx_metadata;
    int skip[128];                   /* by op letter */
    long heartbeat_ms;
    int64_t next_heartbeat_ms;
    ack_tracker *ack;
    size_t ack_index;
    volatile sig_atomic_t *stop;
    health *health;

    pthread_t poller;
    int poller_started;
    atomic_int quit;

    pthread_mutex_t lock;            /* guards the FIFO, the counters below and the failure */
    ks_tx *head, *tail;              /* transactions not yet durable, in commit order */
    uint64_t outstanding;            /* over all transactions */
    int failed;
    char failure[512];
    int brokers_down;
    int64_t last_error_log_s;

    ks_tx *cur;                      /* the open transaction (capture thread only) */
    uint64_t tx_events;
    ks_collection *colls;
    size_t ncolls, capcolls;
    ks_route *routes;
    size_t nroutes, caproutes;
    buf key, key2, value, name;

    metric *m_messages, *m_acked, *m_unacked, *m_blocked, *m_failures, *m_latency;
} kafka_sink;

static int64_t ks_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t ks_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Record the first failure (lock held); later ones only add to the log. */
static void ks_fail_locked(kafka_sink *ks, const char *why)
{
    if (ks->failed)
        return;
    ks->failed = 1;
    snprintf(ks->failure, sizeof ks->failure, "%s", why);
    log_error("kafka", "%s; nothing after the last acknowledged transaction will be confirmed", why);
    if (ks->health)
        health_set(ks->health, "kafka", HEALTH_DOWN, why);
}

static void ks_fail(kafka_sink *ks, const char *why)
{
    pthread_mutex_lock(&ks->lock);
    ks_fail_locked(ks, why);
    pthread_mutex_unlock(&ks->lock);
}

/* 0, or -1 with the failure in err. */
static int ks_check(kafka_sink *ks, char *err, size_t errlen)
{
    pthread_mutex_lock(&ks->lock);
    int failed = ks->failed;
    if (failed)
        snprintf(err, errlen, "Kafka: %s", ks->failure);
    pthread_mutex_unlock(&ks->lock);
    return failed ? -1 : 0;
}

/* Pop every leading transaction that is committed and fully acknowledged (lock held); report
 * the last one's end LSN as durable. */
static void ks_advance_locked(kafka_sink *ks)
{
    uint64_t durable = 0;
    int64_t now = 0;
    while (!ks->failed && ks->head && ks->head->committed && ks->head->outstanding == 0) {
        ks_tx *t = ks->head;
        durable = t->end_lsn;
        if (t->commit_time_us && ks->m_latency) {
            if (!now)
                now = ks_now_us();
            metric_observe(ks->m_latency, (double)(now - t->commit_time_us) / 1e6);
        }
        ks->head = t->next;
        if (!ks->head)
            ks->tail = NULL;
        free(t);
    }
    if (durable)
        ack_tracker_durable(ks->ack, ks->ack_index, durable);
}

/* Delivery report (poller thread). */
static void ks_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_sink *ks = opaque;
    ks_tx *t = m->_private;
    pthread_mutex_lock(&ks->lock);
    if (m->err) {
        char why[512];
        snprintf(why, sizeof why, "delivery to %s failed: %s", rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        metric_add(ks->m_failures, 1);
        if (t)
            ks_fail_locked(ks, why);
        else
            log_warn("kafka", "%s (heartbeat)", why);
    } else {
        metric_add(ks->m_acked, 1);
        if (ks->brokers_down && ks->health) {
            ks->brokers_down = 0;
            health_set(ks->health, "kafka", HEALTH_OK, "delivering");
            log_info("kafka", "deliveries resumed");
        }
        if (t) {
            t->outstanding--;
            ks->outstanding--;
            ks_advance_locked(ks);
        }
    }
    metric_set(ks->m_unacked, (double)ks->outstanding);
    pthread_mutex_unlock(&ks->lock);
}

static void ks_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_sink *ks = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[400], msg[512];
        rd_kafka_fatal_error(rk, why, sizeof why);
        snprintf(msg, sizeof msg, "fatal producer error: %s", why);
        ks_fail(ks, msg);
        return;
    }
    int64_t now = ks_mono_ms() / 1000;
    pthread_mutex_lock(&ks->lock);
    int log_it = now - ks->last_error_log_s >= KS_ERROR_LOG_PERIOD_S;
    if (log_it)
        ks->last_error_log_s = now;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !ks->brokers_down && !ks->failed) {
        ks->brokers_down = 1;
        if (ks->health)
            health_set(ks->health, "kafka", HEALTH_DEGRADED, "all brokers are down; changes wait in the buffer");
    }
    pthread_mutex_unlock(&ks->lock);
    if (log_it)
        log_warn("kafka", "%s (%s); retrying", reason, rd_kafka_err2name(err));
}

static void ks_on_log(const rd_kafka_t *rk, int level, const char *fac, const char *text)
{
    (void)rk;
    if (level <= 4)
        log_warn("kafka", "librdkafka %s: %s", fac, text);
    else
        log_debug("kafka", "librdkafka %s: %s", fac, text);
}

static void *ks_poll_thread(void *arg)
{
    kafka_sink *ks = arg;
    while (!atomic_load(&ks->quit))
        rd_kafka_poll(ks->rk, 100);
    return NULL;
}

/* Debezium's topic naming: characters other than letters, digits, '.', '_', '-' become '_'. */
static void ks_topic_name(buf *out, const char *prefix, const char *schema, const char *table)
{
    buf_reset(out);
    buf_printf(out, "%s.%s.%s", prefix, schema, table);
    for (size_t i = 0; i < out->len; i++) {
        char c = out->data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            out->data[i] = '_';
    }
}

static rd_kafka_topic_t *ks_topic_for(kafka_sink *ks, const table_def *t, char *err, size_t errlen)
{
    for (size_t i = ks->nroutes; i-- > 0;)
        if (ks->routes[i].table == t)
            return ks->routes[i].rkt;
    ks_topic_name(&ks->name, ks->prefix, t->schema, t->name);
    rd_kafka_topic_t *rkt = kafka_topics_get(ks->topics, ks->name.data, err, errlen);
    if (!rkt)
        return NULL;
    if (ks->nroutes == ks->caproutes) {
        size_t cap = ks->caproutes ? ks->caproutes * 2 : 16;
        ks_route *r = realloc(ks->routes, cap * sizeof *r);
        if (!r) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        ks->routes = r;
        ks->caproutes = cap;
    }
    ks->routes[ks->nroutes++] = (ks_route){t, rkt};
    return rkt;
}

/* The topic of ev: the exact topic its rule routed it to, <prefix>.<table> for a routed
 * destination table (both names checked by the rules engine, event_route.h), else its table's
 * own. Created at first use like every topic. */
static rd_kafka_topic_t *ks_topic_for_event(kafka_sink *ks, const event *ev, char *err, size_t errlen)
{
    if (ev->route_topic)
        return kafka_topics_get(ks->topics, ev->route_topic, err, errlen);
    if (!ev->route_table)
        return ks_topic_for(ks, ev->table, err, errlen);
    buf_reset(&ks->name);
    buf_printf(&ks->name, "%s.%s", ks->prefix, ev->route_table);
    return kafka_topics_get(ks->topics, ks->name.data, err, errlen);
}

/* Enqueue one message (value NULL: a tombstone). Blocks while the buffer is full. Headers pass
 * to librdkafka on success and are freed here otherwise. */
static int ks_produce(kafka_sink *ks, rd_kafka_topic_t *rkt, const buf *key, const buf *val,
                      rd_kafka_headers_t *hdrs, ks_tx *t, char *err, size_t errlen)
{
    if (t) {
        pthread_mutex_lock(&ks->lock);
        t->outstanding++;
        ks->outstanding++;
        pthread_mutex_unlock(&ks->lock);
    }
    int64_t blocked_since = 0;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            ks->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key && key->len ? key->data : NULL, key ? key->len : 0),
            RD_KAFKA_V_VALUE(val ? val->data : NULL, val ? val->len : 0),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || *ks->stop || ks_check(ks, err, errlen) < 0) {
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && *ks->stop)
                snprintf(err, errlen, "Kafka: stopped while waiting for buffer space (the brokers are not "
                         "acknowledging)");
            else if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                snprintf(err, errlen, "Kafka: cannot enqueue a message for %s: %s", rd_kafka_topic_name(rkt),
                         rd_kafka_err2str(e));
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            if (t) {
                pthread_mutex_lock(&ks->lock);
                t->outstanding--;
                ks->outstanding--;
                pthread_mutex_unlock(&ks->lock);
            }
            return -1;
        }
        /* Backpressure: the buffer is full until the brokers acknowledge; the capture waits. */
        if (!blocked_since)
            blocked_since = ks_mono_ms();
        struct timespec nap = {0, 2 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (blocked_since)
        metric_add(ks->m_blocked, (double)(ks_mono_ms() - blocked_since) / 1000.0);
    metric_add(ks->m_messages, 1);
    return 0;
}

static rd_kafka_headers_t *ks_key_header(const char *name, const buf *key)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, name, -1, key->data, (ssize_t)key->len);
    return h;
}

/* Start the accounting of a transaction (also for changes that arrive without a begin). */
static ks_tx *ks_tx_open(kafka_sink *ks, const tx_info *tx, char *err, size_t errlen)
{
    ks_tx *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->commit_time_us = tx && tx->xid ? tx->commit_time_us : 0;
    pthread_mutex_lock(&ks->lock);
    if (ks->tail)
        ks->tail->next = t;
    else
        ks->head = t;
    ks->tail = t;
    pthread_mutex_unlock(&ks->lock);
    ks->cur = t;
    ks->tx_events = 0;
    ks->ncolls = 0;
    return t;
}

static int kafka_sink_begin(void *self, const tx_info *tx, char *err, size_t errlen)
{
    kafka_sink *ks = self;
    if (ks_check(ks, err, errlen) < 0)
        return -1;
    return ks_tx_open(ks, tx, err, errlen) ? 0 : -1;
}

/* The event's position in its transaction for the transaction block; NULL without metadata. */
static const debezium_tx_position *ks_tx_position(kafka_sink *ks, const event *ev, debezium_tx_position *pos,
                                                  char *err, size_t errlen, int *rc)
{
    *rc = 0;
    if (!ks->tx_metadata || !ev->tx || !ev->tx->xid)
        return NULL;
    if (ks->tx_events == 0) {
        /* BEGIN goes out before the transaction's first event, as Debezium does. */
        rd_kafka_topic_t *rkt = kafka_topics_get(ks->topics, ks->tx_topic, err, errlen);
        buf_reset(&ks->key2);
        buf_reset(&ks->value);
        if (!rkt) {
            *rc = -1;
            return NULL;
        }
        debezium_encode_tx_key(ks->enc, &ks->key2, ev->tx);
        debezium_encode_tx_begin(ks->enc, &ks->value, ev->tx);
        if (ks_produce(ks, rkt, &ks->key2, &ks->value, NULL, ks->cur, err, errlen) < 0) {
            *rc = -1;
            return NULL;
        }
    }
    size_t i = 0;
    while (i < ks->ncolls && !(strcmp(ks->colls[i].table, ev->table->name) == 0 &&
                               strcmp(ks->colls[i].schema, ev->table->schema) == 0))
        i++;
    if (i == ks->ncolls) {
        if (ks->ncolls == ks->capcolls) {
            size_t cap = ks->capcolls ? ks->capcolls * 2 : 8;
            ks_collection *c = realloc(ks->colls, cap * sizeof *c);
            if (!c) {
                snprintf(err, errlen, "out of memory");
                *rc = -1;
                return NULL;
            }
            ks->colls = c;
            ks->capcolls = cap;
        }
        ks->colls[ks->ncolls++] = (ks_collection){ev->table->schema, ev->table->name, 0};
    }
    pos->total_order = ++ks->tx_events;
    pos->collection_order = ++ks->colls[i].count;
    return pos;
}

/* One Debezium change message: value of ev keyed by its key, with an optional key header. */
static int ks_send_event(kafka_sink *ks, rd_kafka_topic_t *rkt, const event *ev, const char *header,
                         const buf *header_key, char *err, size_t errlen)
{
    debezium_tx_position pos;
    int rc;
    const debezium_tx_position *p = ks_tx_position(ks, ev, &pos, err, errlen, &rc);
    if (rc < 0)
        return -1;
    buf_reset(&ks->key);
    buf_reset(&ks->value);
    debezium_encode_key(ks->enc, &ks->key, ev);
    debezium_encode_value(ks->enc, &ks->value, ev, ks_now_us(), p);
    rd_kafka_headers_t *h = header ? ks_key_header(header, header_key) : NULL;
    if (ks_produce(ks, rkt, &ks->key, &ks->value, h, ks->cur, err, errlen) < 0)
        return -1;
    /* A tombstone lets log compaction drop the key. As Debezium's, it carries the delete's
     * headers and follows keyless deletes too (with a null key). */
    if (ev->op == EVENT_DELETE && ks->tombstones) {
        h = header ? ks_key_header(header, header_key) : NULL;
        return ks_produce(ks, rkt, &ks->key, NULL, h, ks->cur, err, errlen);
    }
    return 0;
}

static int kafka_sink_change(void *self, const event *ev, char *err, size_t errlen)
{
    kafka_sink *ks = self;
    if (ks_check(ks, err, errlen) < 0)
        return -1;
    unsigned char op = (unsigned char)ev->op;
    if (op < sizeof ks->skip / sizeof ks->skip[0] && ks->skip[op])
        return 0;
    if (!ks->cur && !ks_tx_open(ks, ev->tx, err, errlen))
        return -1;
    rd_kafka_topic_t *rkt = ks_topic_for_event(ks, ev, err, errlen);
    if (!rkt)
        return -1;
    if (ev->op != EVENT_UPDATE || !debezium_key_changed(ev))
        return ks_send_event(ks, rkt, ev, NULL, NULL, err, errlen);

    /* A key change is a delete of the old key (carrying the new key in a header), its tombstone,
     * and a create of the new key (carrying the old key), as Debezium emits it. */
    event del = *ev, ins = *ev;
    del.op = EVENT_DELETE;
    del.after = NULL;
    ins.op = EVENT_CREATE;
    ins.before = NULL;
    ins.before_key_only = 0;
    buf newkey = BUF_INIT, oldkey = BUF_INIT;
    debezium_encode_key(ks->enc, &newkey, &ins);
    debezium_encode_key(ks->enc, &oldkey, &del);
    int rc = ks_send_event(ks, rkt, &del, "__debezium.newkey", &newkey, err, errlen);
    if (rc == 0)
        rc = ks_send_event(ks, rkt, &ins, "__debezium.oldkey", &oldkey, err, errlen);
    buf_free(&newkey);
    buf_free(&oldkey);
    return rc;
}

/* A dead letter to the DLQ topic (kafka_dlq.h): keyed and encoded as on the topic it would have
 * gone to (without a transaction block: it is not one of the transaction's events), counted in
 * the open transaction's acknowledgements like its changes. */
static int kafka_sink_dead_letter(void *self, const sink_dead_letter *dl, char *err, size_t errlen)
{
    kafka_sink *ks = self;
    const event *ev = dl->ev;
    unsigned char op = (unsigned char)ev->op;
    if (!ks->dlq_topic || (op < sizeof ks->skip / sizeof ks->skip[0] && ks->skip[op]))
        return 0;
    if (ks_check(ks, err, errlen) < 0)
        return -1;
    if (!ks->cur && !ks_tx_open(ks, ev->tx, err, errlen))
        return -1;
    rd_kafka_topic_t *rkt = kafka_topics_get(ks->topics, ks->dlq_topic, err, errlen);
    if (!rkt)
        return -1;
    ks_topic_name(&ks->name, ks->prefix, ev->table->schema, ev->table->name);
    rd_kafka_headers_t *h = kafka_dlq_headers(dl, ks->name.data, ks->prefix);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    buf_reset(&ks->key);
    buf_reset(&ks->value);
    debezium_encode_key(ks->enc, &ks->key, ev);
    debezium_encode_value(ks->enc, &ks->value, ev, ks_now_us(), NULL);
    return ks_produce(ks, rkt, &ks->key, &ks->value, h, ks->cur, err, errlen);
}

static int kafka_sink_commit(void *self, const tx_info *tx, char *err, size_t errlen)
{
    kafka_sink *ks = self;
    if (ks_check(ks, err, errlen) < 0)
        return -1;
    if (!ks->cur && !ks_tx_open(ks, tx, err, errlen))
        return -1;
    if (ks->tx_metadata && tx->xid && ks->tx_events) {
        debezium_collection_count counts[64];
        size_t n = ks->ncolls < 64 ? ks->ncolls : 64;
        for (size_t i = 0; i < n; i++)
            counts[i] = (debezium_collection_count){ks->colls[i].schema, ks->colls[i].table, ks->colls[i].count};
        rd_kafka_topic_t *rkt = kafka_topics_get(ks->topics, ks->tx_topic, err, errlen);
        if (!rkt)
            return -1;
        buf_reset(&ks->key2);
        buf_reset(&ks->value);
        debezium_encode_tx_key(ks->enc, &ks->key2, tx);
        debezium_encode_tx_end(ks->enc, &ks->value, tx, ks->tx_events, counts, n);
        if (ks_produce(ks, rkt, &ks->key2, &ks->value, NULL, ks->cur, err, errlen) < 0)
            return -1;
    }
    pthread_mutex_lock(&ks->lock);
    ks->cur->end_lsn = tx->end_lsn;
    ks->cur->committed = 1;
    ks_advance_locked(ks);
    pthread_mutex_unlock(&ks->lock);
    ks->cur = NULL;
    return 0;
}

static int ks_heartbeat(kafka_sink *ks, char *err, size_t errlen)
{
    rd_kafka_topic_t *rkt = kafka_topics_get(ks->topics, ks->heartbeat_topic, err, errlen);
    if (!rkt)
        return -1;
    buf_reset(&ks->key2);
    buf_reset(&ks->value);
    debezium_encode_heartbeat_key(ks->enc, &ks->key2);
    debezium_encode_heartbeat_value(ks->enc, &ks->value, ks_now_us());
    return ks_produce(ks, rkt, &ks->key2, &ks->value, NULL, NULL, err, errlen);
}

static int kafka_sink_flush(void *self, int wait, char *err, size_t errlen)
{
    kafka_sink *ks = self;
    if (ks_check(ks, err, errlen) < 0)
        return -1;
    int64_t now = ks_mono_ms();
    if (ks->heartbeat_ms > 0 && now >= ks->next_heartbeat_ms) {
        ks->next_heartbeat_ms = now + ks->heartbeat_ms;
        if (ks_heartbeat(ks, err, errlen) < 0)
            return -1;
    }
    if (!wait)
        return 0;
    /* Wait for every acknowledgement; once a stop is requested, for KS_STOP_WAIT_MS at most. */
    int64_t deadline = 0, next_log = now + 10000;
    for (;;) {
        pthread_mutex_lock(&ks->lock);
        uint64_t left = ks->outstanding;
        pthread_mutex_unlock(&ks->lock);
        if (ks_check(ks, err, errlen) < 0)
            return -1;
        if (left == 0)
            return 0;
        now = ks_mono_ms();
        if (*ks->stop && !deadline)
            deadline = now + KS_STOP_WAIT_MS;
        if (deadline && now >= deadline) {
            snprintf(err, errlen, "Kafka: gave up waiting for %llu acknowledgement(s); those changes are sent "
                     "again from the last confirmed position at the next start", (unsigned long long)left);
            return -1;
        }
        if (now >= next_log) {
            log_info("kafka", "waiting for %llu acknowledgement(s)", (unsigned long long)left);
            next_log = now + 10000;
        }
        struct timespec nap = {0, 10 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

static void kafka_sink_destroy(void *self)
{
    kafka_sink *ks = self;
    if (!ks)
        return;
    if (ks->rk) {
        /* Anything still unacknowledged is dropped here: it was never confirmed to PostgreSQL,
         * so it is captured again at the next start. */
        pthread_mutex_lock(&ks->lock);
        ks->failed = 1; /* purged messages report errors; they must not advance anything */
        snprintf(ks->failure, sizeof ks->failure, "stopped");
        pthread_mutex_unlock(&ks->lock);
        rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    if (ks->poller_started) {
        atomic_store(&ks->quit, 1);
        pthread_join(ks->poller, NULL);
    }
    if (ks->rk)
        rd_kafka_poll(ks->rk, 0);
    kafka_topics_destroy(ks->topics);
    if (ks->rk)
        rd_kafka_destroy(ks->rk);
    while (ks->head) {
        ks_tx *t = ks->head;
        ks->head = t->next;
        free(t);
    }
    debezium_encoder_destroy(ks->enc);
    pthread_mutex_destroy(&ks->lock);
    buf_free(&ks->key);
    buf_free(&ks->key2);
    buf_free(&ks->value);
    buf_free(&ks->name);
    free(ks->routes);
    free(ks->colls);
    free(ks->prefix);
    free(ks->heartbeat_topic);
    free(ks->tx_topic);
    free(ks->dlq_topic);
    free(ks);
}

static const sink_ops kafka_sink_ops = {
    .name = "kafka",
    .begin = kafka_sink_begin,
    .change = kafka_sink_change,
    .commit = kafka_sink_commit,
    .flush = kafka_sink_flush,
    .destroy = kafka_sink_destroy,
    .dead_letter = kafka_sink_dead_letter,
};

static void ks_metrics(kafka_sink *ks, metrics *m)
{
    if (!m)
        return;
    ks->m_messages = metrics_counter(m, "sluice_kafka_messages_total", "Messages handed to the Kafka producer.", NULL);
    ks->m_acked = metrics_counter(m, "sluice_kafka_acknowledged_total", "Messages the brokers acknowledged.", NULL);
    ks->m_unacked = metrics_gauge(m, "sluice_kafka_unacknowledged",
                                  "Change messages sent but not yet acknowledged by the brokers.", NULL);
    ks->m_blocked = metrics_counter(m, "sluice_kafka_backpressure_seconds_total",
                                    "Time the capture waited for buffer space in the producer.", NULL);
    ks->m_failures = metrics_counter(m, "sluice_kafka_delivery_failures_total",
                                     "Messages the producer could not deliver.", NULL);
    static const double bounds[] = {0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.015,
                                    0.02,   0.03,  0.05,  0.075, 0.1,   0.25,  0.5,   1,     2.5,  5,  10};
    ks->m_latency = metrics_histogram(m, "sluice_kafka_commit_to_ack_seconds",
                                      "From a transaction's commit in PostgreSQL to the brokers' acknowledgement "
                                      "of its last message.",
                                      NULL, bounds, sizeof bounds / sizeof bounds[0]);
}

int kafka_sink_create(const kafka_options *o, const kafka_sink_deps *deps, sink *out, char *err, size_t errlen)
{
    char rderr[512];
    kafka_sink *ks = calloc(1, sizeof *ks);
    if (!ks) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&ks->lock, NULL);
    ks->ack = deps->ack;
    ks->ack_index = deps->ack_index;
    ks->stop = deps->stop;
    ks->health = deps->health;
    ks->tombstones = o->tombstones;
    ks->tx_metadata = o->transaction_metadata;
    ks->heartbeat_ms = o->heartbeat_ms;
    for (const char *p = o->skipped_operations; p && strcmp(p, "none") != 0 && *p; p++)
        if (*p == 'c' || *p == 'u' || *p == 'd' || *p == 't')
            ks->skip[(unsigned char)*p] = 1;
    ks->prefix = strdup(o->topic_prefix ? o->topic_prefix : "sluice");
    buf b = BUF_INIT;
    buf_printf(&b, "%s.%s", o->heartbeat_prefix ? o->heartbeat_prefix : "__debezium-heartbeat", ks->prefix);
    ks->heartbeat_topic = strdup(b.data);
    buf_reset(&b);
    buf_printf(&b, "%s.transaction", ks->prefix);
    ks->tx_topic = strdup(b.data);
    buf_free(&b);
    debezium_options enc = o->encoding;
    enc.name = ks->prefix;
    ks->enc = debezium_encoder_create(&enc);
    if (!ks->prefix || !ks->heartbeat_topic || !ks->tx_topic || !ks->enc ||
        kafka_dlq_topic(o->dlq_topic, ks->prefix, &ks->dlq_topic) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    ks_metrics(ks, deps->metrics);

    const char *bootstrap = deps->embedded ? kafka_embedded_bootstraps(deps->embedded) : o->brokers;
    rd_kafka_conf_t *conf = kafka_conf_build(o, bootstrap, KAFKA_CLIENT_PRODUCER, err, errlen);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_opaque(conf, ks);
    rd_kafka_conf_set_dr_msg_cb(conf, ks_on_delivery);
    rd_kafka_conf_set_error_cb(conf, ks_on_error);
    rd_kafka_conf_set_log_cb(conf, ks_on_log);
    if (!(ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof rderr))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "cannot create the Kafka producer: %s", rderr);
        goto fail;
    }
    if (!(ks->topics = kafka_topics_create(ks->rk, deps->embedded, o->partitions, o->replication_factor))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (pthread_create(&ks->poller, NULL, ks_poll_thread, ks) != 0) {
        snprintf(err, errlen, "cannot start the Kafka delivery thread");
        goto fail;
    }
    ks->poller_started = 1;
    ks->next_heartbeat_ms = ks_mono_ms() + ks->heartbeat_ms;
    if (ks->health)
        health_set(ks->health, "kafka", HEALTH_OK, deps->embedded ? "embedded broker (in memory, not durable)" : bootstrap);
    out->ops = &kafka_sink_ops;
    out->self = ks;
    return 0;
fail:
    kafka_sink_destroy(ks);
    return -1;
}
