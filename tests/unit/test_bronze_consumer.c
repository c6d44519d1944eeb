/* Unit tests for sinks/lake/bronze_consumer: a Kafka record's value as a bronze line (plain and
 * {schema, payload} envelopes kept byte for byte, tombstones and non-events skipped, the table
 * and hour partition), the intent metadata, the object keys; then a crash at the worst moment,
 * on librdkafka's in-process mock cluster: a consumer whose object store accepts an object but
 * loses the answer and then fails every upload is stopped with its intent pending; a second
 * consumer of the group must find the object, continue after it, and leave every record in
 * exactly one object, with the offsets committed to the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "core/compress.h"
#include "core/fs.h"
#include "core/log.h"
#include "objstore/objstore_local.h"
#include "sinks/lake/bronze_consumer.h"
#include "sinks/lake/bronze_object.h"
#include "support/store_fixture.h"

/* ---- records --------------------------------------------------------------------------------- */

static int rec(const char *v, buf *line, char *table, int64_t *hour)
{
    char why[256];
    return bronze_consumer_record(v, v ? strlen(v) : 0, 7200000, line, table, 256, hour, why, sizeof why);
}

static void test_record_plain_and_wrapped(void **state)
{
    (void)state;
    buf line = BUF_INIT;
    char table[256];
    int64_t hour = 0;
    const char *plain = "  {\"before\":null,\"after\":{\"id\":1,\"x\":1.50},\"source\":{\"ts_ms\":1709255000000,"
                        "\"schema\":\"public\",\"table\":\"orders\"},\"op\":\"c\"}\n";
    assert_int_equal(rec(plain, &line, table, &hour), 1);
    assert_string_equal(table, "public.orders");
    assert_int_equal(hour, 1709255000000LL / 3600000);
    assert_int_equal(line.len, strlen(plain) - 3);   /* trimmed, otherwise the same bytes */
    assert_memory_equal(line.data, plain + 2, line.len);

    const char *wrapped = "{\"schema\": {\"type\": \"struct\", \"fields\": [{\"payload\": 1}]}, \"payload\": "
                          "{\"op\": \"u\", \"source\": {\"db\": \"shop\", \"table\": \"t\\\"}\", \"ts_ms\": -1},"
                          " \"after\": {\"s\": \"} ]\"}}}";
    assert_int_equal(rec(wrapped, &line, table, &hour), 1);
    assert_string_equal(table, "shop.t\"}");   /* no schema: the database */
    assert_int_equal(hour, -1);
    const char *payload = strstr(wrapped, "\"payload\": {") + strlen("\"payload\": ");
    assert_int_equal(line.len, strlen(payload) - 1);
    assert_memory_equal(line.data, payload, line.len);

    /* Pretty-printed: one line. No ts_ms: the record's time. */
    assert_int_equal(rec("{\n\"op\": \"d\",\r\n \"source\": {\"schema\": \"s\", \"table\": \"a b\"}}", &line, table,
                         &hour), 1);
    assert_null(memchr(line.data, '\n', line.len));
    assert_null(memchr(line.data, '\r', line.len));
    assert_int_equal(hour, 2);
    assert_string_equal(table, "s.a b");
    buf_free(&line);
}

static void test_record_skipped(void **state)
{
    (void)state;
    buf line = BUF_INIT;
    char table[256];
    int64_t hour = 0;
    const char *skip[] = {
        NULL,                                                   /* tombstone */
        "not json {",
        "[1, 2]",
        "{\"ts_ms\": 1}",                                       /* a heartbeat */
        "{\"schema\": {}, \"payload\": null}",
        "{\"op\": \"c\", \"source\": {\"schema\": \"s\"}}",     /* no table */
        "{\"op\": \"c\", \"op\": \"u\", \"source\": {\"schema\": \"s\", \"table\": \"t\"}}",   /* duplicate */
        "{\"op\": \"c\", \"source\": {\"schema\": \"s\", \"table\": \"\xff\"}}",             /* not UTF-8 */
    };
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        assert_int_equal(rec(skip[i], &line, table, &hour), 0);
    buf_free(&line);
}

static void test_intent_and_key(void **state)
{
    (void)state;
    char key[64];
    int64_t last = 0;
    const char *m = BRONZE_INTENT_PREFIX "1234 bronze/x/a b.jsonl.gz";
    assert_int_equal(bronze_consumer_intent_parse(m, strlen(m), &last, key, sizeof key), 1);
    assert_int_equal(last, 1234);
    assert_string_equal(key, "bronze/x/a b.jsonl.gz");
    assert_int_equal(bronze_consumer_intent_parse(m, strlen(m), &last, key, 10), 0);   /* too long */
    assert_int_equal(bronze_consumer_intent_parse("other", 5, &last, key, sizeof key), 0);
    assert_int_equal(bronze_consumer_intent_parse(NULL, 0, &last, key, sizeof key), 0);
    const char *bad = BRONZE_INTENT_PREFIX "x key";
    assert_int_equal(bronze_consumer_intent_parse(bad, strlen(bad), &last, key, sizeof key), 0);

    char k[512];
    bronze_object_kafka_key_format(k, sizeof k, "src", "public.my table", 1709251200 / 3600 + 5, "sluice.public.t", 3,
                                   17, 1234567, COMPRESS_GZIP);
    assert_string_equal(k, "bronze/src/public.my%20table/date=2024-03-01/hour=05/"
                           "ksluice.public.t.3_0000000000000000017-0000000000001234567.jsonl.gz");
}

/* ---- a crash between an upload and its commit ------------------------------------------------- */

#define NREC 40

/* A local store whose put number accept_then_lose stores the object but reports a failure (the
 * answer was lost), and whose later puts fail without storing anything. */
typedef struct lossy_store {
    objstore base;
    objstore *inner;
    int puts, accept_then_lose;
} lossy_store;

static int lossy_put(objstore *s, const char *key, const void *data, size_t len, const objstore_put_options *o,
                     char *err, size_t errlen)
{
    lossy_store *l = (lossy_store *)s;
    int n = ++l->puts;
    if (n > l->accept_then_lose) {
        snprintf(err, errlen, "store down");
        return OBJSTORE_ERR;
    }
    int rc = objstore_put(l->inner, key, data, len, o, err, errlen);
    if (rc == OBJSTORE_OK && n == l->accept_then_lose) {
        snprintf(err, errlen, "connection reset after the request was sent");
        return OBJSTORE_ERR;
    }
    return rc;
}
static int lossy_get(objstore *s, const char *key, buf *out, size_t max, objstore_info *info, char *err,
                     size_t errlen)
{
    return objstore_get(((lossy_store *)s)->inner, key, out, max, info, err, errlen);
}
static int lossy_head(objstore *s, const char *key, objstore_info *info, char *err, size_t errlen)
{
    return objstore_head(((lossy_store *)s)->inner, key, info, err, errlen);
}
static int lossy_list(objstore *s, const char *prefix, objstore_list_fn fn, void *arg, char *err, size_t errlen)
{
    return objstore_list(((lossy_store *)s)->inner, prefix, fn, arg, err, errlen);
}
static int lossy_remove(objstore *s, const char *key, char *err, size_t errlen)
{
    return objstore_remove(((lossy_store *)s)->inner, key, err, errlen);
}
static void lossy_destroy(objstore *s)
{
    objstore_destroy(((lossy_store *)s)->inner);
    free(s);
}
static const char *lossy_describe(const objstore *s)
{
    (void)s;
    return "lossy";
}
static const objstore_ops lossy_ops = {.put = lossy_put, .get = lossy_get, .head = lossy_head, .list = lossy_list,
                                       .remove = lossy_remove, .destroy = lossy_destroy, .describe = lossy_describe};

/* Every record a different hour: one object per record. */
static void produce(const char *bootstrap)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err), RD_KAFKA_CONF_OK);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(p);
    for (int i = 0; i < NREC; i++) {
        char v[256];
        snprintf(v, sizeof v, "{\"op\":\"c\",\"after\":{\"id\":%d},\"source\":{\"schema\":\"public\",\"table\":\"t\","
                 "\"ts_ms\":%lld}}", i, 1709251200000LL + (long long)i * 3600000);
        assert_int_equal(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("cdc.t"), RD_KAFKA_V_PARTITION(0),
                                           RD_KAFKA_V_VALUE(v, strlen(v)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_END),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    assert_int_equal(rd_kafka_flush(p, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(p);
}

/* The group's committed offset of cdc.t [0] and its metadata (into meta). */
static int64_t committed(const char *bootstrap, char *meta, size_t metalen)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "g", err, sizeof err);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    assert_non_null(c);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "cdc.t", 0);
    int64_t off = -2;
    if (rd_kafka_committed(c, l, 5000) == 0 && !l->elems[0].err) {
        off = l->elems[0].offset;
        snprintf(meta, metalen, "%.*s", (int)l->elems[0].metadata_size,
                 l->elems[0].metadata ? (const char *)l->elems[0].metadata : "");
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(c);
    return off;
}

typedef struct lake_count {
    int objects;
    int seen[NREC];
    char dir[700];
} lake_count;

static int count_one(void *arg, const char *key, const objstore_info *info)
{
    (void)info;
    lake_count *lc = arg;
    char path[2048], cmd[2200], line[512];
    snprintf(path, sizeof path, "%s/%s", lc->dir, key);
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        const char *id = strstr(line, "\"id\":");
        assert_non_null(id);
        int i = atoi(id + 5);
        assert_true(i >= 0 && i < NREC);
        lc->seen[i]++;
    }
    pclose(f);
    lc->objects++;
    return 0;
}

static bronze_consumer *consumer(const char *bootstrap, const char *dir, objstore *s)
{
    char err[512], spool[700];
    snprintf(spool, sizeof spool, "%s/spool", dir);
    bronze_consumer_options o = {.source = "src", .spool_dir = spool, .codec = COMPRESS_GZIP,
                                 .roll_bytes = 1 << 20, .roll_age_ms = 300, .spool_max_bytes = 1 << 30,
                                 .retry_max_ms = 200, .stop_wait_ms = 1500, .topics = "^cdc\\..*", .group = "g",
                                 .session_timeout_ms = 6000, .bootstrap = bootstrap};
    kafka_options ko;
    memset(&ko, 0, sizeof ko);
    bronze_consumer *c = bronze_consumer_create(&o, &ko, s, NULL, NULL, err, sizeof err);
    if (!c)
        fail_msg("bronze_consumer_create: %s", err);
    return c;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_crash_after_upload(void **state)
{
    (void)state;
    char dir[512], lakedir[700], err[512], meta[2048] = "", bootstrap[512];
    assert_non_null(store_fixture_tmpdir(dir, sizeof dir, "bronze-consumer"));
    snprintf(lakedir, sizeof lakedir, "%s/lake", dir);
    log_setup(stderr, LOG_WARN, LOG_FORMAT_LOGFMT);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(mrk);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
    assert_non_null(mc);
    snprintf(bootstrap, sizeof bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(mc));
    assert_int_equal(rd_kafka_mock_topic_create(mc, "cdc.t", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    produce(bootstrap);

    /* First member: object 1 goes up, object 2 is stored but the answer is lost, then the store
     * is down; it stops with object 2's intent pending. */
    lossy_store *ls = calloc(1, sizeof *ls);
    assert_non_null(ls);
    ls->base.ops = &lossy_ops;
    ls->accept_then_lose = 2;
    assert_non_null(ls->inner = objstore_local_create(lakedir, err, sizeof err));
    bronze_consumer *a = consumer(bootstrap, dir, &ls->base);
    for (int i = 0; i < 300 && ls->puts < 4; i++)
        sleep_ms(100);
    assert_true(ls->puts >= 4);
    bronze_consumer_destroy(a);
    int64_t off = committed(bootstrap, meta, sizeof meta);
    assert_int_equal(off, 1);   /* object 2 = offset 1, with its intent */
    assert_non_null(strstr(meta, BRONZE_INTENT_PREFIX "1 bronze/src/public.t/"));

    /* Second member: settles the intent (the object exists) and writes the rest. */
    objstore *s = objstore_local_create(lakedir, err, sizeof err);
    assert_non_null(s);
    bronze_consumer *b = consumer(bootstrap, dir, s);
    for (int i = 0; i < 300 && (off = committed(bootstrap, meta, sizeof meta)) != NREC; i++)
        sleep_ms(100);
    bronze_consumer_destroy(b);
    assert_int_equal(off, NREC);
    assert_string_equal(meta, "");

    lake_count lc = {0};
    snprintf(lc.dir, sizeof lc.dir, "%s", lakedir);
    objstore *check = objstore_local_create(lakedir, err, sizeof err);
    assert_int_equal(objstore_list(check, "bronze/", count_one, &lc, err, sizeof err), 0);
    objstore_destroy(check);
    for (int i = 0; i < NREC; i++)
        if (lc.seen[i] != 1)
            fail_msg("record %d is in %d objects", i, lc.seen[i]);
    assert_int_equal(lc.objects, NREC);

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    fs_remove_tree(dir, err, sizeof err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_plain_and_wrapped),
        cmocka_unit_test(test_record_skipped),
        cmocka_unit_test(test_intent_and_key),
        cmocka_unit_test(test_crash_after_upload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
