/* bronze_consumer: Kafka topics of Debezium events into bronze objects, exactly once, as a
 * consumer group (see bronze_consumer.h). One thread: poll, append to the partition's open object,
 * close objects that are due, upload the closed ones in order (intent commit, upload, commit),
 * commit past skipped records. The rebalance callback runs on the same thread (from the poll). */
#include "sinks/lake/bronze_consumer.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/backoff.h"
#include "core/errbuf.h"
#include "core/fs.h"
#include "core/log.h"
#include "sinks/kafka/kafka_group.h"
#include "sinks/lake/bronze_object.h"
#include "sinks/lake/bronze_retention.h"
#include "sinks/lake/lake_conf.h"

#define BK_LOG "bronze_kafka"
#define BK_POLL_MS 100
#define BK_STOP_WAIT_MS 30000      /* at stop, uploads of the open objects get this long */
#define BK_COMMITTED_TIMEOUT_MS 10000
#define BK_COMMIT_RETRIES 3         /* attempts of the commit after an upload (later ones follow anyway) */
#define BK_SKIP_LOG_PERIOD_S 60

/* One assigned partition. */
typedef struct bk_part {
    char *topic;
    int32_t partition;
    int64_t pos;               /* offset after the last record seen; -1 before the first */
    int64_t committed;         /* offset last committed (or read at assignment); -1 none */
    int intent_committed;      /* the committed offset carries an intent */
    bronze_object *open;       /* the object being written, or NULL */
    int open_redo;             /* open is the redo of redo_key */
    char *redo_key;            /* an intent found absent: the first object is cut at redo_last */
    int64_t redo_last;
    size_t queued;             /* closed objects of this partition waiting for upload */
    struct bk_part *next;
} bk_part;

/* A closed object waiting for upload. */
typedef struct bk_pending {
    bk_part *part;
    bronze_object *o;
    int intent_done;           /* its intent is committed (an upload is being retried) */
    struct bk_pending *next;
} bk_pending;

struct bronze_consumer {
    bronze_consumer_options o;   /* strings point at copies below */
    char *source, *spool_dir, *topics, *group, *bootstrap;
    objstore *objects;
    metrics *metrics;
    health *health;
    rd_kafka_t *rk;
    pthread_t thread;
    int thread_started;
    atomic_int stop;

    bk_part *parts;
    bk_pending *qhead, *qtail;
    size_t qlen;
    uint64_t spool_bytes;
    int paused;                  /* the spool is full: fetching paused */
    int attempt;                 /* upload/commit failures in a row */
    int64_t next_attempt_ms;     /* backoff after a failure */
    int failing;                 /* the last upload or commit failed (health degraded) */
    int64_t last_skip_log_s;
    buf line;

    metric *m_objects, *m_bytes, *m_events, *m_skipped, *m_upload_failures, *m_commit_failures, *m_rebalances,
        *m_assigned, *m_pending, *m_spool, *m_settled_present, *m_settled_absent;
};

static int64_t bk_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void bk_health(bronze_consumer *c, health_state st, const char *msg)
{
    if (c->health)
        health_set(c->health, "bronze_kafka", st, msg);
}

static int bk_backoff_ms(const bronze_consumer *c, int attempt)
{
    return (int)backoff_next_ms(attempt, 200, c->o.retry_max_ms > 0 ? c->o.retry_max_ms : 30000);
}

static void bk_failed(bronze_consumer *c, metric *counter, const char *what, const char *why)
{
    metric_add(counter, 1);
    char msg[1200];
    snprintf(msg, sizeof msg, "%s: %s", what, why);
    if (!c->failing)
        log_warn(BK_LOG, "%s; retrying (offsets are not committed meanwhile)", msg);
    c->failing = 1;
    bk_health(c, HEALTH_DEGRADED, msg);
    c->next_attempt_ms = bk_mono_ms() + bk_backoff_ms(c, c->attempt++);
}

static void bk_succeeded(bronze_consumer *c)
{
    c->attempt = 0;
    c->next_attempt_ms = 0;
    if (c->failing) {
        c->failing = 0;
        log_info(BK_LOG, "uploads and commits succeed again");
        bk_health(c, HEALTH_OK, "consuming");
    }
}

/* ---- records ----------------------------------------------------------------------------------- */

static int bk_why(char *why, size_t whylen, const char *msg)
{
    snprintf(why, whylen, "%s", msg);
    return 0;
}

/* Skip a JSON string at s[i] == '"'; the index after it. */
static size_t bk_json_skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

/* Skip the JSON value starting at s[i] (valid JSON: checked by the parser before). */
static size_t bk_json_skip_value(const char *s, size_t n, size_t i)
{
    if (s[i] == '"')
        return bk_json_skip_string(s, n, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < n) {
            char ch = s[i];
            if (ch == '"') {
                i = bk_json_skip_string(s, n, i);
                continue;
            }
            if (ch == '{' || ch == '[')
                depth++;
            else if ((ch == '}' || ch == ']') && --depth == 0)
                return i + 1;
            i++;
        }
        return n;
    }
    while (i < n && !strchr(",}] \t\r\n", s[i]))
        i++;
    return i;
}

static int bk_is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static size_t bk_json_ws(const char *s, size_t n, size_t i)
{
    while (i < n && bk_is_ws(s[i]))
        i++;
    return i;
}

/* The bytes of member name's value in the top-level object s (valid JSON). 0, or -1 if absent. */
static int bk_json_member(const char *s, size_t n, const char *name, size_t *off, size_t *len)
{
    size_t nl = strlen(name), i = bk_json_ws(s, n, 0);
    if (i >= n || s[i] != '{')
        return -1;
    i = bk_json_ws(s, n, i + 1);
    while (i < n && s[i] == '"') {
        size_t kend = bk_json_skip_string(s, n, i);
        int match = kend - i == nl + 2 && memcmp(s + i + 1, name, nl) == 0;
        i = bk_json_ws(s, n, kend);
        if (i >= n || s[i] != ':')
            return -1;
        i = bk_json_ws(s, n, i + 1);
        size_t vend = bk_json_skip_value(s, n, i);
        if (match) {
            *off = i;
            *len = vend - i;
            return 0;
        }
        i = bk_json_ws(s, n, vend);
        if (i < n && s[i] == ',')
            i = bk_json_ws(s, n, i + 1);
    }
    return -1;
}

int bronze_consumer_record(const char *val, size_t len, int64_t fallback_ms, buf *line, char *table,
                           size_t tablelen, int64_t *hour, char *why, size_t whylen)
{
    if (!val)
        return bk_why(why, whylen, "tombstone");
    json_error_t jerr;
    json_t *doc = json_loadb(val, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
    if (!doc) {
        snprintf(why, whylen, "not JSON: %s", jerr.text);
        return 0;
    }
    int rc = 0;
    const char *span = val;
    size_t spanlen = len;
    json_t *env = doc;
    if (!json_is_object(doc)) {
        bk_why(why, whylen, "not a JSON object");
        goto out;
    }
    if (json_object_get(doc, "schema") && json_object_get(doc, "payload") && !json_object_get(doc, "source")) {
        env = json_object_get(doc, "payload");   /* schemas.enable: {schema, payload} */
        size_t off = 0;
        if (!json_is_object(env) || bk_json_member(val, len, "payload", &off, &spanlen) < 0) {
            bk_why(why, whylen, json_is_null(env) ? "null payload" : "payload is not an object");
            goto out;
        }
        span = val + off;
    }
    json_t *src = json_object_get(env, "source");
    const char *tbl = json_string_value(json_object_get(src, "table"));
    const char *sch = json_string_value(json_object_get(src, "schema"));
    if (!sch)
        sch = json_string_value(json_object_get(src, "db"));
    if (!json_is_object(src) || !tbl || !sch || !json_string_value(json_object_get(env, "op"))) {
        bk_why(why, whylen, "not a change event (no op, source.table and source.schema or source.db)");
        goto out;
    }
    snprintf(table, tablelen, "%s.%s", sch, tbl);
    json_t *ts = json_object_get(src, "ts_ms");
    int64_t ms = json_is_number(ts) ? (int64_t)json_number_value(ts) : fallback_ms;
    *hour = ms >= 0 ? ms / 3600000 : (ms + 1) / 3600000 - 1;
    /* The envelope's own bytes, on one line: outside strings (where they must be escaped) line
     * breaks are whitespace. */
    while (spanlen && bk_is_ws(span[spanlen - 1]))
        spanlen--;
    while (spanlen && bk_is_ws(span[0])) {
        span++;
        spanlen--;
    }
    buf_reset(line);
    buf_append(line, span, spanlen);
    for (size_t i = 0; i < line->len; i++)
        if (line->data[i] == '\n' || line->data[i] == '\r')
            line->data[i] = ' ';
    rc = 1;
out:
    json_decref(doc);
    return rc;
}

int bronze_consumer_intent_parse(const char *meta, size_t len, int64_t *last, char *key, size_t keylen)
{
    size_t plen = strlen(BRONZE_INTENT_PREFIX);
    char num[24];
    if (!meta || len <= plen || memcmp(meta, BRONZE_INTENT_PREFIX, plen) != 0)
        return 0;
    size_t i = plen, n = 0;
    while (i < len && meta[i] >= '0' && meta[i] <= '9' && n < sizeof num - 1)
        num[n++] = meta[i++];
    num[n] = '\0';
    if (n == 0 || i >= len || meta[i] != ' ' || i + 1 >= len || len - i - 1 >= keylen)
        return 0;
    *last = strtoll(num, NULL, 10);
    memcpy(key, meta + i + 1, len - i - 1);
    key[len - i - 1] = '\0';
    return 1;
}

/* ---- partitions -------------------------------------------------------------------------------- */

static bk_part *bk_part_find(bronze_consumer *c, const char *topic, int32_t partition)
{
    for (bk_part *p = c->parts; p; p = p->next)
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return p;
    return NULL;
}

static void bk_spool_update(bronze_consumer *c)
{
    metric_set(c->m_pending, (double)c->qlen);
    metric_set(c->m_spool, (double)c->spool_bytes);
}

/* Forget every partition: open objects and objects not uploaded are dropped (never committed:
 * the next owner reads their records again). */
static void bk_parts_drop(bronze_consumer *c)
{
    for (bk_pending *q = c->qhead, *next; q; q = next) {
        next = q->next;
        bronze_object_destroy(q->o);
        free(q);
    }
    c->qhead = c->qtail = NULL;
    c->qlen = 0;
    c->spool_bytes = 0;
    for (bk_part *p = c->parts, *next; p; p = next) {
        next = p->next;
        bronze_object_destroy(p->open);
        free(p->topic);
        free(p->redo_key);
        free(p);
    }
    c->parts = NULL;
    c->paused = 0;
    metric_set(c->m_assigned, 0);
    bk_spool_update(c);
}

/* Commit offset (with metadata meta, or none) for p. 0, or -1 with the reason in err. */
static int bk_commit(bronze_consumer *c, bk_part *p, int64_t offset, const char *meta, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    tp->offset = offset;
    if (meta && !(tp->metadata = strdup(meta))) {
        rd_kafka_topic_partition_list_destroy(l);
        return err_setf(err, errlen, "out of memory");
    }
    tp->metadata_size = meta ? strlen(meta) : 0;
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, 0);
    if (!e)
        e = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        return err_setf(err, errlen, "committing offset %" PRId64 " of %s [%" PRId32 "]: %s", offset, p->topic,
                        p->partition, rd_kafka_err2str(e));
    p->committed = offset;
    p->intent_committed = meta != NULL;
    return 0;
}

/* ---- objects ------------------------------------------------------------------------------------ */

/* Close p's open object and queue it for upload. */
static int bk_close(bronze_consumer *c, bk_part *p, char *err, size_t errlen)
{
    bronze_object *o = p->open;
    char key[2048];
    if (!o)
        return 0;
    bk_pending *q = calloc(1, sizeof *q);
    if (!q)
        return err_setf(err, errlen, "out of memory");
    if (p->open_redo)
        snprintf(key, sizeof key, "%s", p->redo_key);
    else
        bronze_object_kafka_key_format(key, sizeof key, c->source, o->table, o->hour, p->topic, p->partition,
                                       (int64_t)o->first.lsn, (int64_t)o->last.lsn, c->o.codec);
    if (bronze_object_finish_as(o, key, err, errlen) < 0) {
        free(q);
        return -1;
    }
    if (p->open_redo) {
        free(p->redo_key);
        p->redo_key = NULL;
        p->open_redo = 0;
    }
    q->part = p;
    q->o = o;
    if (c->qtail)
        c->qtail->next = q;
    else
        c->qhead = q;
    c->qtail = q;
    c->qlen++;
    c->spool_bytes += bronze_object_size(o);
    p->queued++;
    p->open = NULL;
    bk_spool_update(c);
    return 0;
}

/* Every open object old enough (all of them with all set, except unfinished redos). */
static int bk_close_due(bronze_consumer *c, int all, char *err, size_t errlen)
{
    int64_t now = bk_mono_ms();
    for (bk_part *p = c->parts; p; p = p->next) {
        if (!p->open || p->open_redo)
            continue;
        if ((all || now - p->open->opened_ms >= c->o.roll_age_ms) && bk_close(c, p, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static void bk_skipped(bronze_consumer *c, const rd_kafka_message_t *m, const char *why)
{
    metric_add(c->m_skipped, 1);
    if (!m->payload)
        return;   /* tombstones are expected: Kafka's compaction markers */
    int64_t now = bk_mono_ms() / 1000;
    if (now - c->last_skip_log_s >= BK_SKIP_LOG_PERIOD_S) {
        c->last_skip_log_s = now;
        log_warn(BK_LOG, "skipping a record of %s [%" PRId32 "] at offset %" PRId64 ": %s (logged once a minute; "
                 "counted in sluice_bronze_kafka_skipped_records_total)", rd_kafka_topic_name(m->rkt), m->partition,
                 m->offset, why);
    }
}

/* One record of an assigned partition. 0, or -1 with err (a spool file failed). */
static int bk_record(bronze_consumer *c, const rd_kafka_message_t *m, char *err, size_t errlen)
{
    bk_part *p = bk_part_find(c, rd_kafka_topic_name(m->rkt), m->partition);
    if (!p || (p->pos >= 0 && m->offset < p->pos))
        return 0;   /* not ours (any more), or seen */
    p->pos = m->offset + 1;
    char table[1024], why[256];
    int64_t hour = 0;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    /* Past the end of an interrupted upload's records: its redo is complete (or they are gone). */
    if (p->redo_key && m->offset > p->redo_last) {
        if (p->open_redo && bk_close(c, p, err, errlen) < 0)
            return -1;
        free(p->redo_key);
        p->redo_key = NULL;
    }
    if (!bronze_consumer_record(m->payload, m->len, ts, &c->line, table, sizeof table, &hour, why, sizeof why)) {
        bk_skipped(c, m, why);
        return 0;
    }
    buf_append(&c->line, "\n", 1);
    if (p->open && !p->open_redo && (p->open->hour != hour || strcmp(p->open->table, table) != 0) &&
        bk_close(c, p, err, errlen) < 0)
        return -1;
    if (!p->open) {
        if (!(p->open = bronze_object_create(c->spool_dir, c->o.codec, table, hour, 0, bk_mono_ms(), err, errlen)))
            return -1;
        p->open_redo = p->redo_key != NULL;
    }
    bronze_pos pos = {(uint64_t)m->offset, 0};
    if (bronze_object_append(p->open, c->line.data, c->line.len, pos, err, errlen) < 0)
        return -1;
    metric_add(c->m_events, 1);
    if (p->open_redo ? m->offset >= p->redo_last : bronze_object_size(p->open) >= c->o.roll_bytes)
        return bk_close(c, p, err, errlen);
    return 0;
}

/* Upload the oldest closed object: intent, upload, commit. 1 done, 0 nothing to do or not yet
 * (backing off), -1 failed (backing off now). */
static int bk_upload_next(bronze_consumer *c)
{
    bk_pending *q = c->qhead;
    char err[1024], meta[2200];
    if (!q || bk_mono_ms() < c->next_attempt_ms)
        return 0;
    bk_part *p = q->part;
    bronze_object *o = q->o;
    int64_t first = (int64_t)o->first.lsn, last = (int64_t)o->last.lsn;
    if (!q->intent_done) {
        snprintf(meta, sizeof meta, BRONZE_INTENT_PREFIX "%" PRId64 " %s", last, o->key);
        if (bk_commit(c, p, first, meta, err, sizeof err) < 0) {
            bk_failed(c, c->m_commit_failures, "recording the upload intent", err);
            return -1;
        }
        q->intent_done = 1;
    }
    int rc = bronze_object_upload(o, c->objects, err, sizeof err);
    if (rc != OBJSTORE_OK) {
        bk_failed(c, c->m_upload_failures, o->key, err);
        return -1;
    }
    /* Durable: move the offset past it. A failure here is settled later: the next intent or idle
     * commit moves it (the object is uploaded), or the next owner finds the object. */
    int committed = 0;
    for (int i = 0; i < BK_COMMIT_RETRIES && !committed; i++) {
        committed = bk_commit(c, p, last + 1, NULL, err, sizeof err) == 0;
        if (!committed)
            metric_add(c->m_commit_failures, 1);
    }
    if (!committed)
        log_warn(BK_LOG, "%s is uploaded but its offset is not committed yet: %s", o->key, err);
    log_debug(BK_LOG, "uploaded %s (%" PRIu64 " events, offsets %" PRId64 "-%" PRId64 ")", o->key, o->events, first,
              last);
    metric_add(c->m_objects, 1);
    metric_add(c->m_bytes, (double)bronze_object_size(o));
    c->qhead = q->next;
    if (!c->qhead)
        c->qtail = NULL;
    c->qlen--;
    c->spool_bytes -= bronze_object_size(o);
    p->queued--;
    bk_spool_update(c);
    bronze_object_destroy(o);
    free(q);
    bk_succeeded(c);
    return 1;
}

/* Partitions with nothing open or waiting whose position passed the committed offset (skipped
 * records, or a commit that failed after an upload): commit the position. */
static void bk_commit_idle(bronze_consumer *c)
{
    char err[512];
    for (bk_part *p = c->parts; p; p = p->next) {
        if (p->open || p->queued || p->redo_key || p->pos < 0)
            continue;
        if (p->pos > p->committed || (p->intent_committed && p->pos >= p->committed)) {
            if (bk_commit(c, p, p->pos, NULL, err, sizeof err) < 0) {
                metric_add(c->m_commit_failures, 1);
                log_debug(BK_LOG, "%s", err);
                return;
            }
        }
    }
}

/* Pause fetching while the spool is full, resume once uploads caught up. */
static void bk_spool_flow(bronze_consumer *c)
{
    int full = c->spool_bytes >= c->o.spool_max_bytes;
    if (full == c->paused)
        return;
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(c->rk, &l) || !l)
        return;
    if (full) {
        rd_kafka_pause_partitions(c->rk, l);
        log_warn(BK_LOG, "spool full (%" PRIu64 " bytes waiting for upload): reading paused", c->spool_bytes);
    } else {
        rd_kafka_resume_partitions(c->rk, l);
        log_info(BK_LOG, "spool drained: reading resumed");
    }
    rd_kafka_topic_partition_list_destroy(l);
    c->paused = full;
}

/* ---- rebalance ---------------------------------------------------------------------------------- */

/* Does key exist? 1, 0, or -1 once a stop is requested (retries meanwhile). */
static int bk_exists(bronze_consumer *c, const char *key)
{
    char err[1024];
    for (int attempt = 0; !atomic_load(&c->stop); attempt++) {
        objstore_info info;
        int rc = objstore_head(c->objects, key, &info, err, sizeof err);
        if (rc == OBJSTORE_OK)
            return 1;
        if (rc == OBJSTORE_NOT_FOUND)
            return 0;
        bk_failed(c, c->m_upload_failures, "checking an interrupted upload", err);
        backoff_sleep_ms(bk_backoff_ms(c, attempt));
    }
    return -1;
}

/* Read the committed offsets of the newly assigned partitions and settle the intents they carry;
 * set each partition's start offset in parts and create its state. 0, or -1 on a stop. */
static int bk_settle(bronze_consumer *c, rd_kafka_topic_partition_list_t *parts)
{
    for (int attempt = 0;; attempt++) {
        if (atomic_load(&c->stop))
            return -1;
        rd_kafka_resp_err_t e = rd_kafka_committed(c->rk, parts, BK_COMMITTED_TIMEOUT_MS);
        for (int i = 0; !e && i < parts->cnt; i++)
            e = parts->elems[i].err;
        if (!e)
            break;
        bk_failed(c, c->m_commit_failures, "reading the committed offsets", rd_kafka_err2str(e));
        backoff_sleep_ms(bk_backoff_ms(c, attempt));
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        bk_part *p = calloc(1, sizeof *p);
        if (!p || !(p->topic = strdup(tp->topic))) {
            free(p);
            log_error(BK_LOG, "out of memory");
            return -1;
        }
        p->partition = tp->partition;
        p->next = c->parts;
        c->parts = p;
        int64_t start = tp->offset >= 0 ? tp->offset : -1;
        char key[2048];
        int64_t last = 0;
        p->committed = start;
        if (bronze_consumer_intent_parse(tp->metadata, tp->metadata_size, &last, key, sizeof key)) {
            p->intent_committed = 1;
            int exists = bk_exists(c, key);
            if (exists < 0)
                return -1;
            if (exists) {   /* uploaded before its offset was committed: skip its records */
                char err[512];
                start = last + 1;
                if (bk_commit(c, p, start, NULL, err, sizeof err) < 0)
                    log_warn(BK_LOG, "%s (retried later)", err);
                metric_add(c->m_settled_present, 1);
                log_info(BK_LOG, "%s [%" PRId32 "]: %s was uploaded by the previous owner; reading from offset %" PRId64,
                         p->topic, p->partition, key, start);
            } else {        /* not uploaded: write the same records under the same key */
                if (!(p->redo_key = strdup(key))) {
                    log_error(BK_LOG, "out of memory");
                    return -1;
                }
                p->redo_last = last;
                metric_add(c->m_settled_absent, 1);
                log_info(BK_LOG, "%s [%" PRId32 "]: %s was not uploaded by the previous owner; writing it again "
                         "from offset %" PRId64, p->topic, p->partition, key, start);
            }
        }
        p->pos = start;
        tp->offset = start >= 0 ? start : RD_KAFKA_OFFSET_INVALID;   /* invalid: auto.offset.reset */
    }
    metric_set(c->m_assigned, (double)parts->cnt);
    return 0;
}

static void bk_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    bronze_consumer *c = opaque;
    metric_add(c->m_rebalances, 1);
    /* Eager protocol: a revocation takes every partition, an assignment gives the whole set. */
    bk_parts_drop(c);
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (bk_settle(c, parts) < 0) {
            bk_parts_drop(c);
            rd_kafka_assign(rk, NULL);
            return;
        }
        rd_kafka_assign(rk, parts);
        log_info(BK_LOG, "assigned %d partition(s) of group %s", parts->cnt, c->group);
        if (!c->failing)
            bk_health(c, HEALTH_OK, "consuming");
    } else {
        if (e != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
            log_warn(BK_LOG, "rebalance: %s", rd_kafka_err2str(e));
        rd_kafka_assign(rk, NULL);
        log_info(BK_LOG, "partitions revoked (%d); their open objects are dropped", parts->cnt);
    }
}

/* ---- the thread ---------------------------------------------------------------------------------- */

static void bk_fatal(bronze_consumer *c, const char *why)
{
    log_error(BK_LOG, "%s", why);
    bk_health(c, HEALTH_DOWN, why);
}

/* Stop: close what is open, upload the queue (for BK_STOP_WAIT_MS at most), commit, leave. */
static void bk_drain(bronze_consumer *c)
{
    char err[1024];
    for (bk_part *p = c->parts; p; p = p->next) {
        if (p->open && p->open_redo) {   /* incomplete: the next owner writes it whole */
            bronze_object_destroy(p->open);
            p->open = NULL;
            p->open_redo = 0;
        }
    }
    if (bk_close_due(c, 1, err, sizeof err) < 0)
        log_warn(BK_LOG, "at stop: %s", err);
    int64_t deadline = bk_mono_ms() + (c->o.stop_wait_ms > 0 ? c->o.stop_wait_ms : BK_STOP_WAIT_MS);
    while (c->qhead && bk_mono_ms() < deadline) {
        if (bk_upload_next(c) <= 0)
            backoff_sleep_ms(50);
    }
    if (c->qhead)
        log_warn(BK_LOG, "stopping with %zu object(s) not uploaded; their records are read again later", c->qlen);
    bk_commit_idle(c);
}

static void *bk_thread(void *arg)
{
    bronze_consumer *c = arg;
    char err[1024];
    int64_t next_tick = 0, next_retention = 0;
    while (!atomic_load(&c->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, BK_POLL_MS);
        if (m) {
            if (!m->err) {
                if (bk_record(c, m, err, sizeof err) < 0) {
                    /* The spool failed (disk full?): drop everything and read it again. */
                    log_error(BK_LOG, "%s; re-reading the assigned partitions", err);
                    rd_kafka_message_destroy(m);
                    bk_fatal(c, err);
                    break;
                }
            } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                log_warn(BK_LOG, "consumer: %s", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        }
        if (rd_kafka_fatal_error(c->rk, err, sizeof err)) {
            bk_fatal(c, err);
            break;
        }
        int64_t now = bk_mono_ms();
        if (now >= next_tick) {
            next_tick = now + 200;
            if (bk_close_due(c, 0, err, sizeof err) < 0) {
                bk_fatal(c, err);
                break;
            }
            if (!c->qhead)
                bk_commit_idle(c);
        }
        if (c->o.retention_days > 0 && now >= next_retention) {
            next_retention = now + BRONZE_RETENTION_PERIOD_S * 1000LL;
            if (bronze_retention_run(c->objects, c->o.source, c->o.retention_days, (int64_t)time(NULL), err,
                                     sizeof err) < 0)
                log_warn(BK_LOG, "retention: %s", err);
        }
        while (bk_upload_next(c) > 0 && !atomic_load(&c->stop))
            ;
        bk_spool_flow(c);
    }
    if (atomic_load(&c->stop))
        bk_drain(c);
    rd_kafka_consumer_close(c->rk);   /* serves the revocation: drops what is left */
    bk_parts_drop(c);
    return NULL;
}

/* ---- create / destroy ---------------------------------------------------------------------------- */

static void bk_on_error(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
    (void)rk;
    bronze_consumer *c = opaque;
    if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        bk_health(c, HEALTH_DEGRADED, reason);
        c->failing = 1;
    }
    log_debug(BK_LOG, "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)e), reason);
}

static void bk_metrics_register(bronze_consumer *c, metrics *m)
{
    if (!m)
        return;
    c->m_objects = metrics_counter(m, "sluice_bronze_kafka_objects_total", "Bronze objects uploaded from Kafka.", NULL);
    c->m_bytes = metrics_counter(m, "sluice_bronze_kafka_bytes_total",
                                 "Compressed bytes of bronze objects uploaded from Kafka.", NULL);
    c->m_events = metrics_counter(m, "sluice_bronze_kafka_events_total",
                                  "Kafka records written to bronze objects (also those of objects not uploaded "
                                  "because their partition moved).", NULL);
    c->m_skipped = metrics_counter(m, "sluice_bronze_kafka_skipped_records_total",
                                   "Kafka records skipped: tombstones and values that are not change events.", NULL);
    c->m_upload_failures = metrics_counter(m, "sluice_bronze_kafka_upload_failures_total",
                                           "Failed bronze uploads and checks from the Kafka consumer (retried).", NULL);
    c->m_commit_failures = metrics_counter(m, "sluice_bronze_kafka_commit_failures_total",
                                           "Failed offset commits and reads of the bronze consumer (retried).", NULL);
    c->m_rebalances = metrics_counter(m, "sluice_bronze_kafka_rebalances_total",
                                      "Partition assignments and revocations of the bronze consumer.", NULL);
    c->m_assigned = metrics_gauge(m, "sluice_bronze_kafka_assigned_partitions",
                                  "Partitions this process writes to bronze.", NULL);
    c->m_pending = metrics_gauge(m, "sluice_bronze_kafka_pending_objects",
                                 "Closed bronze objects from Kafka waiting for upload.", NULL);
    c->m_spool = metrics_gauge(m, "sluice_bronze_kafka_spool_bytes",
                               "Bytes of bronze objects from Kafka waiting for upload.", NULL);
    c->m_settled_present = metrics_counter(m, "sluice_bronze_kafka_intents_settled_total",
                                           "Upload intents left by a previous owner of a partition, by outcome.",
                                           "outcome=\"uploaded\"");
    c->m_settled_absent = metrics_counter(m, "sluice_bronze_kafka_intents_settled_total",
                                          "Upload intents left by a previous owner of a partition, by outcome.",
                                          "outcome=\"rewritten\"");
}

bronze_consumer *bronze_consumer_create(const bronze_consumer_options *o, const kafka_options *kafka,
                                        objstore *objects, metrics *m, health *h, char *err, size_t errlen)
{
    bronze_consumer *c = calloc(1, sizeof *c);
    if (!c) {
        objstore_destroy(objects);
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    c->o = *o;
    c->objects = objects;
    c->metrics = m;
    c->health = h;
    atomic_init(&c->stop, 0);
    if (!(c->source = strdup(o->source)) || !(c->spool_dir = strdup(o->spool_dir)) ||
        !(c->topics = strdup(o->topics)) || !(c->group = strdup(o->group)) ||
        !(c->bootstrap = strdup(o->bootstrap))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    c->o.source = c->source;
    c->o.spool_dir = c->spool_dir;
    c->o.group = c->group;
    c->o.bootstrap = c->bootstrap;
    c->o.topics = c->topics;
    if (fs_mkdirs(c->spool_dir, 0700, err, errlen) < 0)
        goto fail;
    bk_metrics_register(c, m);

    kafka_group_options go = {
        .bootstrap = c->bootstrap,
        .group = c->group,
        .client_id = "sluice-bronze",
        .topics = c->topics,
        .session_timeout_ms = o->session_timeout_ms,
        .opaque = c,
        .rebalance = bk_rebalance,
        .error = bk_on_error,
    };
    if (!(c->rk = kafka_group_join(kafka, &go, err, errlen)))
        goto fail;
    bk_health(c, HEALTH_OK, "consuming");
    if (pthread_create(&c->thread, NULL, bk_thread, c) != 0) {
        err_setf(err, errlen, "cannot start the bronze consumer thread");
        goto fail;
    }
    c->thread_started = 1;
    log_info(BK_LOG, "consuming %s as group %s into %s/bronze/%s", c->topics, c->group, objstore_describe(objects),
             c->source);
    return c;
fail:
    bronze_consumer_destroy(c);
    return NULL;
}

void bronze_consumer_destroy(bronze_consumer *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, 1);
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    else if (c->rk)
        rd_kafka_consumer_close(c->rk);
    if (c->rk)
        rd_kafka_destroy(c->rk);
    bk_parts_drop(c);
    objstore_destroy(c->objects);
    buf_free(&c->line);
    free(c->source);
    free(c->spool_dir);
    free(c->topics);
    free(c->group);
    free(c->bootstrap);
    free(c);
}

bronze_consumer *bronze_consumer_start(const config *cfg, const char *state_dir, const char *embedded_bootstrap,
                                       metrics *m, health *h, char *err, size_t errlen)
{
    err[0] = '\0';
    lake_conf lc;
    lake_conf_from_config(cfg, state_dir, NULL, &lc);
    if (!lc.bronze_kafka)
        return NULL;
    kafka_options ko;
    kafka_options_from_config(cfg, NULL, &ko);
    const char *bootstrap = ko.brokers;
    if (bootstrap && strcmp(bootstrap, KAFKA_EMBEDDED) == 0)
        bootstrap = embedded_bootstrap;
    if (!bootstrap) {
        err_setf(err, errlen, "bronze.kafka_topics is set but Kafka is not: set kafka.brokers");
        if (h)
            health_set(h, "bronze_kafka", HEALTH_DOWN, err);
        return NULL;
    }
    char spool[4200];
    snprintf(spool, sizeof spool, "%s/kafka", lc.spool_dir);
    bronze_consumer_options o = {
        .source = lc.bronze_opts.source,
        .spool_dir = spool,
        .codec = lc.bronze_opts.codec,
        .roll_bytes = lc.bronze_opts.roll_bytes,
        .roll_age_ms = lc.bronze_opts.roll_age_ms,
        .spool_max_bytes = lc.bronze_opts.spool_max_bytes,
        .retention_days = lc.bronze_opts.retention_days,
        .topics = lc.kafka_topics,
        .group = lc.kafka_group,
        .session_timeout_ms = (int)lc.kafka_session_timeout_ms,
        .bootstrap = bootstrap,
    };
    objstore *s = lake_store_open(cfg, &lc, err, errlen);
    bronze_consumer *c = s ? bronze_consumer_create(&o, &ko, s, m, h, err, errlen) : NULL;
    if (!c) {
        if (!err[0])
            err_setf(err, errlen, "out of memory");
        if (h)
            health_set(h, "bronze_kafka", HEALTH_DOWN, err);
    }
    return c;
}
