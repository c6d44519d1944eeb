/* Unit tests for silver_mark, silver watermarks: a capture position is held up to the last
 * (commit LSN, sequence); Kafka offsets are held per topic partition (a partition never seen holds
 * nothing); advance and merge keep the larger offset per partition; the summary value round-trips
 * through format and parse (topics with dots, dashes and colons-free names), and malformed values
 * are refused with the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sinks/lake/silver_mark.h"

static silver_pos kpos(const char *topic, int32_t partition, int64_t offset)
{
    silver_pos p = {.topic = topic, .partition = partition, .offset = offset};
    return p;
}

static void test_wal(void **state)
{
    (void)state;
    silver_mark m = {0};
    char err[256];
    silver_pos p = {.wal = {100, 3}};
    assert_int_equal(silver_mark_holds(&m, &p), 0);
    assert_int_equal(silver_mark_advance(&m, &p, err, sizeof err), 0);
    assert_int_equal(silver_mark_holds(&m, &p), 1);
    silver_pos before = {.wal = {100, 2}}, after = {.wal = {100, 4}}, later = {.wal = {101, 0}};
    assert_int_equal(silver_mark_holds(&m, &before), 1);
    assert_int_equal(silver_mark_holds(&m, &after), 0);
    assert_int_equal(silver_mark_holds(&m, &later), 0);
    assert_int_equal(silver_mark_advance(&m, &before, err, sizeof err), 0);   /* never backwards */
    assert_int_equal(silver_mark_holds(&m, &p), 1);
    silver_mark_free(&m);
}

static void test_kafka_per_partition(void **state)
{
    (void)state;
    silver_mark m = {0};
    char err[256];
    silver_pos a5 = kpos("s.public.a", 0, 5), a1 = kpos("s.public.a", 1, 2), b0 = kpos("s.public.b", 0, 9);
    assert_int_equal(silver_mark_advance(&m, &a5, err, sizeof err), 0);
    assert_int_equal(silver_mark_advance(&m, &a1, err, sizeof err), 0);
    silver_pos x = kpos("s.public.a", 0, 5);
    assert_int_equal(silver_mark_holds(&m, &x), 1);
    x.offset = 4;
    assert_int_equal(silver_mark_holds(&m, &x), 1);
    x.offset = 6;
    assert_int_equal(silver_mark_holds(&m, &x), 0);
    assert_int_equal(silver_mark_holds(&m, &b0), 0);    /* a partition never seen */
    x = kpos("s.public.a", 2, 0);
    assert_int_equal(silver_mark_holds(&m, &x), 0);
    x = kpos("s.public.a", 0, 3);                       /* never backwards */
    assert_int_equal(silver_mark_advance(&m, &x, err, sizeof err), 0);
    assert_int_equal(m.parts[0].offset, 5);
    /* a capture position is not held by Kafka offsets */
    silver_pos w = {.wal = {1, 0}};
    assert_int_equal(silver_mark_holds(&m, &w), 0);

    silver_mark other = {0};
    silver_pos o1 = kpos("s.public.a", 0, 3), o2 = kpos("s.public.a", 1, 7), o3 = kpos("s.public.b", 0, 9);
    assert_int_equal(silver_mark_advance(&other, &o1, err, sizeof err), 0);
    assert_int_equal(silver_mark_advance(&other, &o2, err, sizeof err), 0);
    assert_int_equal(silver_mark_advance(&other, &o3, err, sizeof err), 0);
    assert_int_equal(silver_mark_merge(&m, &other, err, sizeof err), 0);
    assert_int_equal(m.nparts, 3);
    buf out = BUF_INIT;
    silver_mark_kafka_format(&m, &out);
    assert_string_equal(out.data, "s.public.a:0=5,s.public.a:1=7,s.public.b:0=9");
    buf_free(&out);
    silver_mark_free(&other);
    silver_mark_free(&m);
    assert_int_equal(m.nparts, 0);
}

static void test_summary_round_trip(void **state)
{
    (void)state;
    silver_mark m = {0};
    char err[256];
    const char *v = "dbserver1.inventory.customers:0=0,my-topic_2:11=123456789012,x:2147483647=7";
    assert_int_equal(silver_mark_kafka_parse(&m, v, err, sizeof err), 0);
    assert_int_equal(m.nparts, 3);
    assert_string_equal(m.parts[1].topic, "my-topic_2");
    assert_int_equal(m.parts[1].partition, 11);
    assert_int_equal(m.parts[1].offset, 123456789012LL);
    buf out = BUF_INIT;
    silver_mark_kafka_format(&m, &out);
    assert_string_equal(out.data, v);
    buf_free(&out);
    silver_pos p = kpos("x", 2147483647, 7);
    assert_int_equal(silver_mark_holds(&m, &p), 1);
    p.offset = 8;
    assert_int_equal(silver_mark_holds(&m, &p), 0);
    /* an empty value adds nothing */
    assert_int_equal(silver_mark_kafka_parse(&m, "", err, sizeof err), 0);
    assert_int_equal(m.nparts, 3);
    silver_mark_free(&m);
}

static void test_summary_refused(void **state)
{
    (void)state;
    const char *bad[] = {"t", "t:0", "t:0=", ":0=1", "t:x=1", "t:0=1x", "t:-1=3", "t:0=1,,u:0=1",
                         "t:99999999999=1", "t:0=99999999999999999999", "t:0=-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        silver_mark m = {0};
        char err[256] = "";
        assert_int_equal(silver_mark_kafka_parse(&m, bad[i], err, sizeof err), -1);
        assert_non_null(strstr(err, "sluice.kafka.offsets"));
        silver_mark_free(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wal),
        cmocka_unit_test(test_kafka_per_partition),
        cmocka_unit_test(test_summary_round_trip),
        cmocka_unit_test(test_summary_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
