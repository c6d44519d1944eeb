/* Unit tests for sinks/kafka/kafka_browser: text shown as JSON (UTF-8 kept, other bytes escaped,
 * cut at 64 KiB on a character boundary), topic names, and browsing librdkafka's mock cluster:
 * topic list with watermarks, pages of messages, tombstones, headers, unknown topics and
 * partitions, an unreachable cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "sinks/kafka/kafka_browser.h"

/* The JSON text kafka_browser_json_text makes of data, decoded back to a C string by jansson. */
static char *text_of(const void *data, size_t len, size_t max, int *escaped, int *truncated)
{
    buf b = BUF_INIT;
    kafka_browser_json_text(&b, data, len, max, escaped, truncated);
    json_error_t jerr;
    json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    assert_non_null(v);
    assert_true(json_is_string(v));
    char *s = strdup(json_string_value(v));
    json_decref(v);
    buf_free(&b);
    return s;
}

static void test_json_text_utf8(void **state)
{
    (void)state;
    int esc, cut;
    char *s = text_of("{\"a\":\"é\\\\\"}\n\t\x01", 15, 100, &esc, &cut);
    assert_string_equal(s, "{\"a\":\"é\\\\\"}\n\t\x01");
    assert_false(esc);
    assert_false(cut);
    free(s);
}

static void test_json_text_escapes_bytes(void **state)
{
    (void)state;
    int esc, cut;
    /* 0xff, an overlong '/', a lone continuation byte, a surrogate; a backslash; valid é */
    static const char raw[] = "a\xff" "b\xc0\xaf" "c\x80" "d\xed\xa0\x80" "\\é";
    char *s = text_of(raw, sizeof raw - 1, 100, &esc, &cut);
    assert_string_equal(s, "a\\xffb\\xc0\\xafc\\x80d\\xed\\xa0\\x80\\\\é");
    assert_true(esc);
    assert_false(cut);
    free(s);
    /* NUL bytes are valid UTF-8 */
    buf b = BUF_INIT;
    kafka_browser_json_text(&b, "a\0b", 3, 100, &esc, &cut);
    assert_string_equal(b.data, "\"a\\u0000b\"");
    assert_false(esc);
    buf_free(&b);
}

static void test_json_text_truncates_on_boundary(void **state)
{
    (void)state;
    int esc, cut;
    char *s = text_of("abcé", 5, 4, &esc, &cut);   /* é would straddle the cut */
    assert_string_equal(s, "abc");
    assert_true(cut);
    assert_false(esc);
    free(s);
    s = text_of("abcé", 5, 5, &esc, &cut);
    assert_string_equal(s, "abcé");
    assert_false(cut);
    free(s);
}

static void test_topic_names(void **state)
{
    (void)state;
    assert_true(kafka_topic_name_valid("sluice.public.orders"));
    assert_true(kafka_topic_name_valid("__debezium-heartbeat.x_y"));
    assert_false(kafka_topic_name_valid(""));
    assert_false(kafka_topic_name_valid("."));
    assert_false(kafka_topic_name_valid(".."));
    assert_false(kafka_topic_name_valid("a b"));
    assert_false(kafka_topic_name_valid("a/b"));
    char name[KAFKA_TOPIC_NAME_MAX + 2];
    memset(name, 'a', sizeof name);
    name[KAFKA_TOPIC_NAME_MAX] = '\0';
    assert_true(kafka_topic_name_valid(name));
    name[KAFKA_TOPIC_NAME_MAX] = 'a';
    name[KAFKA_TOPIC_NAME_MAX + 1] = '\0';
    assert_false(kafka_topic_name_valid(name));
}

/* ---- against the mock cluster -------------------------------------------------------------------- */

typedef struct cluster {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mock;
    kafka_browser *kb;
} cluster;

static void produce(rd_kafka_t *p, const char *topic, int32_t partition, const char *key, const void *val,
                    size_t len)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(
        p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
        RD_KAFKA_V_VALUE((void *)val, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADER("h", "v", 1), RD_KAFKA_V_END);
    assert_int_equal(e, RD_KAFKA_RESP_ERR_NO_ERROR);
}

static int cluster_setup(void **state)
{
    char err[512];
    cluster *c = calloc(1, sizeof *c);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(c->rk);
    c->mock = rd_kafka_mock_cluster_new(c->rk, 1);
    assert_non_null(c->mock);
    const char *bs = rd_kafka_mock_cluster_bootstraps(c->mock);
    rd_kafka_mock_topic_create(c->mock, "shop.public.orders", 1, 1);
    rd_kafka_mock_topic_create(c->mock, "shop.public.items", 2, 1);
    rd_kafka_mock_topic_create(c->mock, "__heartbeat", 1, 1);

    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    rd_kafka_conf_set(pconf, "bootstrap.servers", bs, err, sizeof err);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
    assert_non_null(p);
    for (int i = 0; i < 30; i++) {
        char key[32], val[64];
        snprintf(key, sizeof key, "{\"id\":%d}", i);
        snprintf(val, sizeof val, "{\"op\":\"c\",\"after\":{\"id\":%d}}", i);
        produce(p, "shop.public.orders", 0, key, val, strlen(val));
    }
    produce(p, "shop.public.orders", 0, "{\"id\":29}", NULL, 0);   /* tombstone */
    produce(p, "shop.public.items", 1, NULL, "x", 1);
    produce(p, "__heartbeat", 0, NULL, "hb", 2);
    assert_int_equal(rd_kafka_flush(p, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(p);

    kafka_options o;
    memset(&o, 0, sizeof o);
    c->kb = kafka_browser_create(&o, bs, 1, err, sizeof err);
    assert_non_null(c->kb);
    assert_true(kafka_browser_embedded(c->kb));
    *state = c;
    return 0;
}

static int cluster_teardown(void **state)
{
    cluster *c = *state;
    kafka_browser_destroy(c->kb);
    rd_kafka_mock_cluster_destroy(c->mock);
    rd_kafka_destroy(c->rk);
    free(c);
    return 0;
}

static json_t *parse(const buf *b)
{
    json_error_t jerr;
    json_t *v = json_loadb(b->data, b->len, 0, &jerr);
    if (!v)
        fail_msg("not JSON (%s): %s", jerr.text, b->data);
    return v;
}

static void test_topics(void **state)
{
    cluster *c = *state;
    char err[512];
    buf b = BUF_INIT;
    assert_int_equal(kafka_browser_topics(c->kb, 0, &b, err, sizeof err), KAFKA_BROWSE_OK);
    json_t *j = parse(&b);
    assert_true(json_is_true(json_object_get(j, "embedded")));
    assert_int_equal(json_integer_value(json_object_get(j, "hidden_internal")), 1);
    json_t *topics = json_object_get(j, "topics");
    assert_int_equal(json_array_size(topics), 2);
    json_t *items = json_array_get(topics, 0), *orders = json_array_get(topics, 1);   /* sorted */
    assert_string_equal(json_string_value(json_object_get(items, "name")), "shop.public.items");
    assert_int_equal(json_integer_value(json_object_get(items, "partitions")), 2);
    assert_int_equal(json_integer_value(json_object_get(items, "messages")), 1);
    json_t *p1 = json_array_get(json_object_get(items, "partition_offsets"), 1);
    assert_int_equal(json_integer_value(json_object_get(p1, "high")), 1);
    assert_string_equal(json_string_value(json_object_get(orders, "name")), "shop.public.orders");
    assert_int_equal(json_integer_value(json_object_get(orders, "messages")), 31);
    json_decref(j);

    buf_reset(&b);
    assert_int_equal(kafka_browser_topics(c->kb, 1, &b, err, sizeof err), KAFKA_BROWSE_OK);
    j = parse(&b);
    assert_int_equal(json_array_size(json_object_get(j, "topics")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "hidden_internal")), 0);
    json_decref(j);
    buf_free(&b);
}

static void test_messages_latest_and_pages(void **state)
{
    cluster *c = *state;
    char err[512];
    buf b = BUF_INIT;
    kafka_browse_query q = {"shop.public.orders", 0, -1, 10};
    assert_int_equal(kafka_browser_messages(c->kb, &q, &b, err, sizeof err), KAFKA_BROWSE_OK);
    json_t *j = parse(&b);
    assert_int_equal(json_integer_value(json_object_get(j, "offset")), 21);
    assert_int_equal(json_integer_value(json_object_get(j, "next_offset")), 31);
    assert_int_equal(json_integer_value(json_object_get(j, "older_offset")), 11);
    json_t *msgs = json_object_get(j, "messages");
    assert_int_equal(json_array_size(msgs), 10);
    json_t *last = json_array_get(msgs, 9);
    assert_int_equal(json_integer_value(json_object_get(last, "offset")), 30);
    assert_true(json_is_null(json_object_get(last, "value")));
    assert_string_equal(json_string_value(json_object_get(last, "key")), "{\"id\":29}");
    json_t *m0 = json_array_get(msgs, 0);
    assert_string_equal(json_string_value(json_object_get(m0, "value")), "{\"op\":\"c\",\"after\":{\"id\":21}}");
    json_t *h = json_array_get(json_object_get(m0, "headers"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "key")), "h");
    assert_string_equal(json_string_value(json_object_get(h, "value")), "v");
    assert_true(json_is_integer(json_object_get(m0, "timestamp")));
    json_decref(j);

    /* A page in the middle, an offset below the start, one past the end. */
    kafka_browse_query mid = {"shop.public.orders", 0, 3, 2};
    buf_reset(&b);
    assert_int_equal(kafka_browser_messages(c->kb, &mid, &b, err, sizeof err), KAFKA_BROWSE_OK);
    j = parse(&b);
    msgs = json_object_get(j, "messages");
    assert_int_equal(json_array_size(msgs), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(msgs, 0), "offset")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "older_offset")), 1);
    json_decref(j);
    kafka_browse_query past = {"shop.public.orders", 0, 500, 5};
    buf_reset(&b);
    assert_int_equal(kafka_browser_messages(c->kb, &past, &b, err, sizeof err), KAFKA_BROWSE_OK);
    j = parse(&b);
    assert_int_equal(json_array_size(json_object_get(j, "messages")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "offset")), 31);
    json_decref(j);
    buf_free(&b);
}

static void test_messages_errors(void **state)
{
    cluster *c = *state;
    char err[512];
    buf b = BUF_INIT;
    kafka_browse_query unknown = {"shop.public.nosuch", 0, -1, 10};
    assert_int_equal(kafka_browser_messages(c->kb, &unknown, &b, err, sizeof err), KAFKA_BROWSE_NOT_FOUND);
    assert_string_equal(err, "topic not found: shop.public.nosuch");
    kafka_browse_query partition = {"shop.public.items", 2, -1, 10};
    assert_int_equal(kafka_browser_messages(c->kb, &partition, &b, err, sizeof err), KAFKA_BROWSE_BAD_REQUEST);
    assert_non_null(strstr(err, "has 2 partitions"));
    kafka_browse_query limit = {"shop.public.items", 0, -1, KAFKA_BROWSE_LIMIT_MAX + 1};
    assert_int_equal(kafka_browser_messages(c->kb, &limit, &b, err, sizeof err), KAFKA_BROWSE_BAD_REQUEST);
    kafka_browse_query name = {"a/b", 0, -1, 1};
    assert_int_equal(kafka_browser_messages(c->kb, &name, &b, err, sizeof err), KAFKA_BROWSE_BAD_REQUEST);
    assert_int_equal(b.len, 0);
    /* Asking did not create the topic. */
    assert_int_equal(kafka_browser_topics(c->kb, 1, &b, err, sizeof err), KAFKA_BROWSE_OK);
    assert_null(strstr(b.data, "nosuch"));
    buf_free(&b);
}

static void test_unreachable(void **state)
{
    (void)state;
    char err[512];
    kafka_options o;
    memset(&o, 0, sizeof o);
    kafka_browser *kb = kafka_browser_create(&o, "127.0.0.1:1", 0, err, sizeof err);
    assert_non_null(kb);
    buf b = BUF_INIT;
    assert_int_equal(kafka_browser_topics(kb, 0, &b, err, sizeof err), KAFKA_BROWSE_UNREACHABLE);
    assert_non_null(strstr(err, "Kafka is not reachable: "));
    assert_int_equal(b.len, 0);
    buf_free(&b);
    kafka_browser_destroy(kb);
    kafka_browser_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_json_text_utf8),
        cmocka_unit_test(test_json_text_escapes_bytes),
        cmocka_unit_test(test_json_text_truncates_on_boundary),
        cmocka_unit_test(test_topic_names),
        cmocka_unit_test(test_unreachable),
    };
    const struct CMUnitTest mock[] = {
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_messages_latest_and_pages),
        cmocka_unit_test(test_messages_errors),
    };
    int failed = cmocka_run_group_tests(pure, NULL, NULL);
    return failed + cmocka_run_group_tests(mock, cluster_setup, cluster_teardown);
}
