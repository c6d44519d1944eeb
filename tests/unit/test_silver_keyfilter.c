/* Unit tests for silver_keyfilter, the Bloom filter of silver row keys: no key that was added is
 * ever reported absent (200,000 keys of several lengths, also past the capacity), keys never
 * added are reported absent at least 97% of the time at capacity, and the filter reports full
 * once more keys than its capacity were added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sinks/lake/silver_keyfilter.h"

/* Key i as the writer builds them: an 8-byte integer, sometimes with a second column. */
static size_t key_of(uint64_t i, unsigned char out[24])
{
    memcpy(out, &i, 8);
    if (i % 3 == 0)
        return 8;
    uint64_t j = i * 2654435761u;
    memcpy(out + 8, &j, 8);
    return i % 3 == 1 ? 16 : 13;
}

static void test_no_false_negatives(void **state)
{
    (void)state;
    silver_keyfilter *f = silver_keyfilter_create(100000);
    assert_non_null(f);
    unsigned char k[24];
    for (uint64_t i = 0; i < 200000; i++)
        silver_keyfilter_add(f, k, key_of(i, k));
    assert_int_equal(silver_keyfilter_count(f), 200000);
    assert_int_equal(silver_keyfilter_full(f), 1);
    for (uint64_t i = 0; i < 200000; i++)
        assert_int_equal(silver_keyfilter_maybe(f, k, key_of(i, k)), 1);
    silver_keyfilter_destroy(f);
}

static void test_false_positive_rate(void **state)
{
    (void)state;
    silver_keyfilter *f = silver_keyfilter_create(100000);
    unsigned char k[24];
    for (uint64_t i = 0; i < 100000; i++)
        silver_keyfilter_add(f, k, key_of(i, k));
    assert_int_equal(silver_keyfilter_full(f), 0);
    size_t positives = 0;
    for (uint64_t i = 1000000; i < 1100000; i++)
        positives += (size_t)silver_keyfilter_maybe(f, k, key_of(i, k));
    assert_true(positives < 3000);   /* about 1% expected */
    /* the empty key and a key differing in one byte */
    assert_int_equal(silver_keyfilter_maybe(f, "", 0), 0);
    silver_keyfilter_add(f, "", 0);
    assert_int_equal(silver_keyfilter_maybe(f, "", 0), 1);
    silver_keyfilter_destroy(f);
}

static void test_small_capacity(void **state)
{
    (void)state;
    silver_keyfilter *f = silver_keyfilter_create(1);   /* raised to 1024 */
    unsigned char k[24];
    for (uint64_t i = 0; i < 1024; i++)
        silver_keyfilter_add(f, k, key_of(i, k));
    assert_int_equal(silver_keyfilter_full(f), 0);
    silver_keyfilter_add(f, k, key_of(5000, k));
    assert_int_equal(silver_keyfilter_full(f), 1);
    silver_keyfilter_destroy(f);
    silver_keyfilter_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_false_negatives),
        cmocka_unit_test(test_false_positive_rate),
        cmocka_unit_test(test_small_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
