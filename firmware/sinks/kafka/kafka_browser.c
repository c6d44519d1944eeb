/* kafka_browser: topic list and message reader for the console (see kafka_browser.h). One
 * librdkafka consumer handle serves every request; it has no group (librdkafka's assign() needs
 * one, so a partition is read with the simple consumer: consume_start, consume, consume_stop),
 * commits nothing, and logs through core/log at debug level: errors reach the user per request. */
#include "sinks/kafka/kafka_browser.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

#define KB_METADATA_TIMEOUT_MS 3000          /* of the total KAFKA_BROWSE_TIMEOUT_MS */
#define KB_RESPONSE_BUDGET (16 * 1024 * 1024)  /* stop adding messages past this many bytes */

struct kafka_browser {
    rd_kafka_t *rk;
    char *bootstrap;
    int embedded;
    pthread_mutex_t read_lock;     /* one partition read at a time */
    pthread_mutex_t err_lock;      /* guards last_error */
    char last_error[512];          /* the last error librdkafka reported (error_cb) */
};

/* ---- helpers ----------------------------------------------------------------------------------- */

static int64_t kb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, at most cap, at least 0. */
static int kb_left(int64_t deadline, int cap)
{
    int64_t left = deadline - kb_now_ms();
    if (left < 0)
        left = 0;
    return left < cap ? (int)left : cap;
}

static void kb_log(const rd_kafka_t *rk, int level, const char *fac, const char *msg)
{
    (void)rk;
    (void)level;
    log_debug("kafka", "browser: %s: %s", fac, msg);
}

static void kb_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    kafka_browser *kb = opaque;
    log_debug("kafka", "browser: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    pthread_mutex_lock(&kb->err_lock);
    snprintf(kb->last_error, sizeof kb->last_error, "%s", reason);
    pthread_mutex_unlock(&kb->err_lock);
}

/* "Kafka is not reachable: <what> (<the last error librdkafka reported>)" into err. */
static kafka_browse_rc kb_unreachable(kafka_browser *kb, rd_kafka_resp_err_t e, char *err, size_t errlen)
{
    char detail[512];
    rd_kafka_poll(kb->rk, 0);   /* serve error_cb: the reason behind a time-out */
    pthread_mutex_lock(&kb->err_lock);
    snprintf(detail, sizeof detail, "%s", kb->last_error);
    kb->last_error[0] = '\0';
    pthread_mutex_unlock(&kb->err_lock);
    snprintf(err, errlen, "Kafka is not reachable: %s%s%s%s", rd_kafka_err2str(e), detail[0] ? " (" : "",
             detail, detail[0] ? ")" : "");
    return KAFKA_BROWSE_UNREACHABLE;
}

static int kb_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, char *err, size_t errlen)
{
    char rderr[256];
    if (rd_kafka_conf_set(conf, key, val, rderr, sizeof rderr) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "Kafka property %s=%s: %s", key, val, rderr);
        return -1;
    }
    return 0;
}

int kafka_topic_name_valid(const char *name)
{
    return event_route_topic_valid(name, name ? strlen(name) : 0);
}

/* Length of the valid UTF-8 sequence at p (n bytes available), 0 when it is not valid: no
 * overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t kb_utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

/* The bytes to show of data (at most max, cut at a character boundary) and whether any of them
 * is not valid UTF-8. */
static size_t kb_text_scan(const unsigned char *p, size_t len, size_t max, int *invalid)
{
    size_t limit = len < max ? len : max, i = 0;
    *invalid = 0;
    while (i < limit) {
        size_t k = kb_utf8_seq(p + i, len - i);
        if (k == 0) {
            *invalid = 1;
            k = 1;
        }
        if (i + k > limit)
            break;
        i += k;
    }
    return i;
}

void kafka_browser_json_text(buf *out, const void *data, size_t len, size_t max, int *escaped, int *truncated)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    int invalid;
    size_t n = kb_text_scan(p, len, max, &invalid);
    *escaped = invalid;
    *truncated = n < len;
    buf_append(out, "\"", 1);
    size_t run = 0, i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t k = kb_utf8_seq(p + i, len - i);
        if (k > 1 && i + k <= n) {   /* a valid multi-byte character: copied as it is */
            i += k;
            continue;
        }
        const char *esc = NULL;
        char tmp[8];
        if (k == 0) {                /* only when escaped: the byte as \xNN */
            tmp[0] = '\\', tmp[1] = '\\', tmp[2] = 'x', tmp[3] = hex[c >> 4], tmp[4] = hex[c & 15], tmp[5] = 0;
            esc = tmp;
        } else if (c == '\\') {
            esc = invalid ? "\\\\\\\\" : "\\\\";
        } else if (c == '"') {
            esc = "\\\"";
        } else if (c < 0x20) {
            switch (c) {
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            default:
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                esc = tmp;
            }
        }
        if (!esc) {
            i++;
            continue;
        }
        buf_append(out, p + run, i - run);
        buf_puts(out, esc);
        i++;
        run = i;
    }
    buf_append(out, p + run, n - run);
    buf_append(out, "\"", 1);
}

/* ---- create / destroy ----------------------------------------------------------------------------- */

kafka_browser *kafka_browser_create(const kafka_options *o, const char *bootstrap, int embedded, char *err,
                                    size_t errlen)
{
    char rderr[512];
    kafka_browser *kb = NULL;
    rd_kafka_conf_t *conf = NULL;
    if (!o || !bootstrap || !*bootstrap) {
        snprintf(err, errlen, "no Kafka bootstrap servers");
        return NULL;
    }
    if (!(conf = kafka_conf_build(o, bootstrap, KAFKA_CLIENT_CONSUMER, err, errlen)))
        return NULL;
    /* No group: nothing can be committed, no coordinator is looked for. Small read-ahead: a
     * page is at most KAFKA_BROWSE_LIMIT_MAX messages. */
    const char *const props[][2] = {
        {"group.id", ""},
        {"client.id", "sluice-console"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
        {"allow.auto.create.topics", "false"},
        {"queued.max.messages.kbytes", "4096"},
        {"queued.min.messages", "1000"},
        {"fetch.wait.max.ms", "10"},   /* consume_stop waits for a fetch in flight */
        {"log.connection.close", "false"},
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (kb_conf_set(conf, props[i][0], props[i][1], err, errlen) < 0)
            goto fail;
    if (!(kb = calloc(1, sizeof *kb)) || !(kb->bootstrap = strdup(bootstrap))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    kb->embedded = embedded != 0;
    pthread_mutex_init(&kb->read_lock, NULL);
    pthread_mutex_init(&kb->err_lock, NULL);
    rd_kafka_conf_set_log_cb(conf, kb_log);
    rd_kafka_conf_set_error_cb(conf, kb_error);
    rd_kafka_conf_set_opaque(conf, kb);
    if (!(kb->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof rderr))) {
        snprintf(err, errlen, "cannot create the Kafka consumer: %s", rderr);
        goto fail;
    }
    log_fields(LOG_INFO, "kafka", "message browser ready", "bootstrap", bootstrap, "embedded",
               embedded ? "true" : "false", NULL);
    return kb;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (kb) {
        free(kb->bootstrap);
        free(kb);
    }
    return NULL;
}

void kafka_browser_destroy(kafka_browser *kb)
{
    if (!kb)
        return;
    if (kb->rk)
        rd_kafka_destroy(kb->rk);
    pthread_mutex_destroy(&kb->read_lock);
    pthread_mutex_destroy(&kb->err_lock);
    free(kb->bootstrap);
    free(kb);
}

int kafka_browser_embedded(const kafka_browser *kb)
{
    return kb ? kb->embedded : 0;
}

/* ---- topics ------------------------------------------------------------------------------------ */

static int kb_topic_cmp(const void *a, const void *b)
{
    const rd_kafka_metadata_topic_t *x = *(const rd_kafka_metadata_topic_t *const *)a;
    const rd_kafka_metadata_topic_t *y = *(const rd_kafka_metadata_topic_t *const *)b;
    return strcmp(x->topic, y->topic);
}

/* Low (begin) and high (end) offsets of every partition in the two lists, in one batched
 * ListOffsets round per leader. */
static rd_kafka_resp_err_t kb_watermarks(kafka_browser *kb, rd_kafka_topic_partition_list_t *low,
                                         rd_kafka_topic_partition_list_t *high, int64_t deadline)
{
    if (low->cnt == 0)
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(kb->rk, low, kb_left(deadline, KAFKA_BROWSE_TIMEOUT_MS));
    if (e)
        return e;
    return rd_kafka_offsets_for_times(kb->rk, high, kb_left(deadline, KAFKA_BROWSE_TIMEOUT_MS));
}

kafka_browse_rc kafka_browser_topics(kafka_browser *kb, int include_internal, buf *out, char *err, size_t errlen)
{
    int64_t deadline = kb_now_ms() + KAFKA_BROWSE_TIMEOUT_MS;
    const struct rd_kafka_metadata *md = NULL;
    const rd_kafka_metadata_topic_t **shown = NULL;
    rd_kafka_topic_partition_list_t *low = NULL, *high = NULL;
    kafka_browse_rc rc = KAFKA_BROWSE_FAILED;
    size_t nshown = 0, hidden = 0;

    rd_kafka_poll(kb->rk, 0);
    rd_kafka_resp_err_t e = rd_kafka_metadata(kb->rk, 1, NULL, &md, kb_left(deadline, KB_METADATA_TIMEOUT_MS));
    if (e)
        return kb_unreachable(kb, e, err, errlen);
    if (md->topic_cnt > 0 && !(shown = calloc((size_t)md->topic_cnt, sizeof *shown))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    int nparts = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (!include_internal && strncmp(t->topic, "__", 2) == 0) {
            hidden++;
            continue;
        }
        shown[nshown++] = t;
        nparts += t->partition_cnt;
    }
    if (nshown > 1)
        qsort(shown, nshown, sizeof *shown, kb_topic_cmp);

    low = rd_kafka_topic_partition_list_new(nparts > 0 ? nparts : 1);
    high = rd_kafka_topic_partition_list_new(nparts > 0 ? nparts : 1);
    for (size_t i = 0; i < nshown; i++) {
        for (int p = 0; p < shown[i]->partition_cnt; p++) {
            int32_t id = shown[i]->partitions[p].id;
            rd_kafka_topic_partition_list_add(low, shown[i]->topic, id)->offset = RD_KAFKA_OFFSET_BEGINNING;
            rd_kafka_topic_partition_list_add(high, shown[i]->topic, id)->offset = RD_KAFKA_OFFSET_END;
        }
    }
    e = kb_watermarks(kb, low, high, deadline);
    if (e) {
        rc = kb_unreachable(kb, e, err, errlen);
        goto out;
    }

    buf_printf(out, "{\"embedded\":%s,\"bootstrap\":", kb->embedded ? "true" : "false");
    buf_json_string(out, kb->bootstrap);
    buf_printf(out, ",\"hidden_internal\":%zu,\"topics\":[", hidden);
    int k = 0;   /* index into low/high: same order as the loops above */
    for (size_t i = 0; i < nshown; i++) {
        const rd_kafka_metadata_topic_t *t = shown[i];
        const char *problem = t->err ? rd_kafka_err2str(t->err) : NULL;
        int64_t total = 0;
        buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        buf_json_string(out, t->topic);
        buf_printf(out, ",\"partitions\":%d,\"partition_offsets\":[", t->partition_cnt);
        for (int p = 0; p < t->partition_cnt; p++, k++) {
            const rd_kafka_topic_partition_t *lo = &low->elems[k], *hi = &high->elems[k];
            buf_printf(out, "%s{\"partition\":%" PRId32, p ? "," : "", lo->partition);
            if (lo->err || hi->err || lo->offset < 0 || hi->offset < 0) {
                buf_puts(out, ",\"low\":null,\"high\":null,\"messages\":null}");
                if (!problem)
                    problem = rd_kafka_err2str(lo->err ? lo->err : hi->err);
                continue;
            }
            int64_t n = hi->offset > lo->offset ? hi->offset - lo->offset : 0;
            total += n;
            buf_printf(out, ",\"low\":%" PRId64 ",\"high\":%" PRId64 ",\"messages\":%" PRId64 "}", lo->offset,
                       hi->offset, n);
        }
        buf_printf(out, "],\"messages\":%" PRId64, total);
        if (problem) {
            buf_puts(out, ",\"error\":");
            buf_json_string(out, problem);
        }
        buf_puts(out, "}");
    }
    buf_puts(out, "]}\n");
    rc = KAFKA_BROWSE_OK;
out:
    if (low)
        rd_kafka_topic_partition_list_destroy(low);
    if (high)
        rd_kafka_topic_partition_list_destroy(high);
    free(shown);
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* ---- messages ---------------------------------------------------------------------------------- */

static void kb_message_json(buf *out, const rd_kafka_message_t *m)
{
    int esc, cut;
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    buf_puts(out, "{\"offset\":");
    buf_put_i64(out, m->offset);
    buf_printf(out, ",\"partition\":%" PRId32 ",\"timestamp\":", m->partition);
    if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) {
        buf_puts(out, "null,\"timestamp_type\":null");
    } else {
        buf_put_i64(out, ts);
        buf_puts(out, tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? ",\"timestamp_type\":\"log_append\""
                                                                  : ",\"timestamp_type\":\"create\"");
    }
    buf_puts(out, ",\"key\":");
    if (m->key) {
        kafka_browser_json_text(out, m->key, m->key_len, KAFKA_BROWSE_VALUE_MAX, &esc, &cut);
        buf_printf(out, ",\"key_escaped\":%s,\"key_truncated\":%s,\"key_size\":%zu", esc ? "true" : "false",
                   cut ? "true" : "false", m->key_len);
    } else {
        buf_puts(out, "null,\"key_escaped\":false,\"key_truncated\":false,\"key_size\":null");
    }
    buf_puts(out, ",\"value\":");
    if (m->payload) {
        kafka_browser_json_text(out, m->payload, m->len, KAFKA_BROWSE_VALUE_MAX, &esc, &cut);
        buf_printf(out, ",\"value_escaped\":%s,\"value_truncated\":%s,\"value_size\":%zu", esc ? "true" : "false",
                   cut ? "true" : "false", m->len);
    } else {
        buf_puts(out, "null,\"value_escaped\":false,\"value_truncated\":false,\"value_size\":null");
    }
    buf_puts(out, ",\"headers\":[");
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
        const char *name;
        const void *val;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
            int kesc, vesc = 0;
            buf_puts(out, i ? ",{\"key\":" : "{\"key\":");
            kafka_browser_json_text(out, name, strlen(name), KAFKA_BROWSE_VALUE_MAX, &kesc, &cut);
            buf_puts(out, ",\"value\":");
            if (val)
                kafka_browser_json_text(out, val, size, KAFKA_BROWSE_VALUE_MAX, &vesc, &cut);
            else
                buf_puts(out, "null");
            buf_printf(out, ",\"escaped\":%s}", kesc || vesc ? "true" : "false");
        }
    }
    buf_puts(out, "]}");
}

/* Look topic up: its partition count into *partitions. The metadata of all topics is asked
 * for: a request naming the topic could make a broker (with auto.create.topics.enable) create
 * it, and browsing must never create topics. */
static kafka_browse_rc kb_topic_lookup(kafka_browser *kb, const char *topic, int *partitions, int64_t deadline,
                                       char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(kb->rk, 1, NULL, &md, kb_left(deadline, KB_METADATA_TIMEOUT_MS));
    if (e)
        return kb_unreachable(kb, e, err, errlen);
    kafka_browse_rc rc = KAFKA_BROWSE_OK;
    const rd_kafka_metadata_topic_t *t = NULL;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0)
            t = &md->topics[i];
    if (!t || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (t->err == 0 && t->partition_cnt == 0)) {
        snprintf(err, errlen, "topic not found: %s", topic);
        rc = KAFKA_BROWSE_NOT_FOUND;
    } else if (t->err && t->partition_cnt == 0) {
        snprintf(err, errlen, "topic %s: %s", topic, rd_kafka_err2str(t->err));
        rc = KAFKA_BROWSE_FAILED;
    } else {
        *partitions = t->partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* Read offsets [start, end) of the partition into msgs (JSON objects, comma-separated); *next is
 * the offset after the last one read. Holds read_lock. */
static kafka_browse_rc kb_read(kafka_browser *kb, rd_kafka_topic_t *rkt, int32_t partition, int64_t start,
                               int64_t end, buf *msgs, int64_t *next, int64_t deadline, char *err, size_t errlen)
{
    kafka_browse_rc rc = KAFKA_BROWSE_OK;
    int count = 0;
    *next = start;
    pthread_mutex_lock(&kb->read_lock);
    if (rd_kafka_consume_start(rkt, partition, start) < 0) {
        snprintf(err, errlen, "cannot read %s [%" PRId32 "]: %s", rd_kafka_topic_name(rkt), partition,
                 rd_kafka_err2str(rd_kafka_last_error()));
        pthread_mutex_unlock(&kb->read_lock);
        return KAFKA_BROWSE_FAILED;
    }
    while (*next < end && msgs->len < KB_RESPONSE_BUDGET) {
        int wait = kb_left(deadline, 500);
        if (wait == 0) {
            if (count == 0) {
                rc = kb_unreachable(kb, RD_KAFKA_RESP_ERR__TIMED_OUT, err, errlen);
            }
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consume(rkt, partition, wait);
        if (!m) {
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            if (e == RD_KAFKA_RESP_ERR__TIMED_OUT)
                continue;   /* nothing this round */
            if (count == 0) {
                snprintf(err, errlen, "cannot read %s [%" PRId32 "]: %s", rd_kafka_topic_name(rkt), partition,
                         rd_kafka_err2str(e));
                rc = KAFKA_BROWSE_FAILED;
            }
            break;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->err) {
            if (count == 0) {
                snprintf(err, errlen, "cannot read %s [%" PRId32 "] at offset %" PRId64 ": %s",
                         rd_kafka_topic_name(rkt), partition, *next, rd_kafka_message_errstr(m));
                rc = KAFKA_BROWSE_FAILED;
            }
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->offset >= end) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->offset >= *next) {   /* older ones would be left from an earlier read */
            if (count++)
                buf_puts(msgs, ",");
            kb_message_json(msgs, m);
            *next = m->offset + 1;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consume_stop(rkt, partition);
    pthread_mutex_unlock(&kb->read_lock);
    return rc;
}

kafka_browse_rc kafka_browser_messages(kafka_browser *kb, const kafka_browse_query *q, buf *out, char *err,
                                       size_t errlen)
{
    int64_t deadline = kb_now_ms() + KAFKA_BROWSE_TIMEOUT_MS;
    if (!kafka_topic_name_valid(q->topic)) {
        snprintf(err, errlen, "not a Kafka topic name: use 1 to %d letters, digits, '.', '_' or '-'",
                 KAFKA_TOPIC_NAME_MAX);
        return KAFKA_BROWSE_BAD_REQUEST;
    }
    if (q->limit < 1 || q->limit > KAFKA_BROWSE_LIMIT_MAX) {
        snprintf(err, errlen, "limit must be between 1 and %d", KAFKA_BROWSE_LIMIT_MAX);
        return KAFKA_BROWSE_BAD_REQUEST;
    }
    if (q->partition < 0) {
        snprintf(err, errlen, "partition must be 0 or more");
        return KAFKA_BROWSE_BAD_REQUEST;
    }
    if (q->offset < -1) {
        snprintf(err, errlen, "offset must be 0 or more");
        return KAFKA_BROWSE_BAD_REQUEST;
    }

    rd_kafka_poll(kb->rk, 0);
    rd_kafka_topic_t *rkt = NULL;
    buf msgs = BUF_INIT;
    int partitions = 0;
    int64_t low, high, start, end, next;
    kafka_browse_rc rc = kb_topic_lookup(kb, q->topic, &partitions, deadline, err, errlen);
    if (rc != KAFKA_BROWSE_OK)
        goto out;
    if (!(rkt = rd_kafka_topic_new(kb->rk, q->topic, NULL))) {
        snprintf(err, errlen, "topic %s: %s", q->topic, rd_kafka_err2str(rd_kafka_last_error()));
        rc = KAFKA_BROWSE_FAILED;
        goto out;
    }
    if (q->partition >= partitions) {
        snprintf(err, errlen, "partition %" PRId32 " does not exist: topic %s has %d partition%s", q->partition,
                 q->topic, partitions, partitions == 1 ? "" : "s");
        rc = KAFKA_BROWSE_BAD_REQUEST;
        goto out;
    }
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(kb->rk, q->topic, q->partition, &low, &high,
                                                             kb_left(deadline, KB_METADATA_TIMEOUT_MS));
    if (e) {
        rc = kb_unreachable(kb, e, err, errlen);
        goto out;
    }
    if (q->offset < 0)
        start = high - q->limit > low ? high - q->limit : low;
    else
        start = q->offset < low ? low : q->offset > high ? high : q->offset;
    end = start + q->limit < high ? start + q->limit : high;
    next = start;
    if (start < end && (rc = kb_read(kb, rkt, q->partition, start, end, &msgs, &next, deadline, err, errlen)) !=
                           KAFKA_BROWSE_OK)
        goto out;

    buf_puts(out, "{\"topic\":");
    buf_json_string(out, q->topic);
    buf_printf(out, ",\"partition\":%" PRId32 ",\"low\":%" PRId64 ",\"high\":%" PRId64 ",\"offset\":%" PRId64
                    ",\"limit\":%d,\"next_offset\":%" PRId64 ",\"older_offset\":",
               q->partition, low, high, start, q->limit, next);
    if (start > low)
        buf_put_i64(out, start - q->limit > low ? start - q->limit : low);
    else
        buf_puts(out, "null");
    buf_puts(out, ",\"messages\":[");
    if (msgs.len)
        buf_append(out, msgs.data, msgs.len);
    buf_puts(out, "]}\n");
out:
    buf_free(&msgs);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return rc;
}
