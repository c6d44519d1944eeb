/* Unit tests for sinks/kafka/kafka_dlq: the dead-letter topic's name from kafka.dlq_topic (unset:
 * <prefix>.dlq; empty: none) and Kafka Connect's dead-letter context headers of a dead letter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sinks/kafka/kafka_dlq.h"

static void test_topic(void **state)
{
    (void)state;
    char *t;
    assert_int_equal(kafka_dlq_topic(NULL, "shop", &t), 0);
    assert_string_equal(t, "shop.dlq");
    free(t);
    assert_int_equal(kafka_dlq_topic("errors.rules", "shop", &t), 0);
    assert_string_equal(t, "errors.rules");
    free(t);
    assert_int_equal(kafka_dlq_topic("", "shop", &t), 0);
    assert_null(t);
}

static void header_is(rd_kafka_headers_t *h, const char *name, const char *want)
{
    const void *v;
    size_t len;
    if (rd_kafka_header_get_last(h, name, &v, &len) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail_msg("no header %s", name);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
}

static void test_headers(void **state)
{
    (void)state;
    sink_dead_letter dl = {.rule = "mask", .version = 12, .error = "mask:3: negative amount -5", .ev = NULL};
    rd_kafka_headers_t *h = kafka_dlq_headers(&dl, "shop.public.users", "shop");
    assert_non_null(h);
    assert_int_equal(rd_kafka_header_cnt(h), 7);
    header_is(h, "__connect.errors.topic", "shop.public.users");
    header_is(h, "__connect.errors.connector.name", "shop");
    header_is(h, "__connect.errors.stage", "TRANSFORMATION");
    header_is(h, "__connect.errors.class.name", "mask");
    header_is(h, "__connect.errors.exception.class.name", "io.sluice.rules.RuleError");
    header_is(h, "__connect.errors.exception.message", "mask:3: negative amount -5");
    header_is(h, "sluice.rule.version", "12");
    rd_kafka_headers_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic),
        cmocka_unit_test(test_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
