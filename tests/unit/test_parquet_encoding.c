/* Unit tests for the Parquet writer's encoders: Thrift compact protocol structures against
 * hand-computed bytes, and the RLE / bit-packed hybrid against the specification's example and
 * hand-computed vectors (runs, padding of bit-packed groups, boolean bit-packing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sinks/lake/parquet_meta.h"
#include "sinks/lake/parquet_rle.h"
#include "sinks/lake/parquet_thrift.h"

#define assert_bytes(b, ...)                                                                                     \
    do {                                                                                                         \
        const uint8_t want_[] = {__VA_ARGS__};                                                                   \
        if ((b)->len != sizeof want_ || memcmp((b)->data, want_, sizeof want_) != 0) {                           \
            print_error("got %zu bytes:", (b)->len);                                                             \
            for (size_t i_ = 0; i_ < (b)->len; i_++)                                                             \
                print_error(" %02x", (uint8_t)(b)->data[i_]);                                                    \
            print_error("\n");                                                                                   \
            fail_msg("bytes differ from the %zu expected", sizeof want_);                                        \
        }                                                                                                        \
    } while (0)

static void test_thrift_fields_and_deltas(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    parquet_thrift t;
    parquet_thrift_begin(&t, &b);
    parquet_thrift_field_i32(&t, 1, 1);          /* 0x15, zigzag 2 */
    parquet_thrift_field_i64(&t, 3, -1);         /* delta 2: 0x26, zigzag 1 */
    parquet_thrift_field_binary(&t, 4, "ab", 2); /* 0x18, len 2 */
    parquet_thrift_field_bool(&t, 20, true);     /* delta 16: long form 0x01, zigzag(20) = 40 */
    parquet_thrift_field_struct_begin(&t, 21);   /* 0x1c */
    parquet_thrift_field_i32(&t, 1, 150);        /* 0x15, zigzag 300 = ac 02 */
    parquet_thrift_field_bool(&t, 2, false);     /* 0x12 */
    parquet_thrift_struct_end(&t);               /* 00 */
    parquet_thrift_field_i16(&t, 22, -3);        /* delta 1 from 21: 0x14, zigzag 5 */
    parquet_thrift_field_list_begin(&t, 23, PARQUET_THRIFT_I32, 3);   /* 0x19, 0x35 */
    parquet_thrift_elem_i32(&t, 1);              /* 02 */
    parquet_thrift_elem_i32(&t, -2);             /* 03 */
    parquet_thrift_elem_i32(&t, 64);             /* zigzag 128 = 80 01 */
    parquet_thrift_field_i64(&t, 24, INT64_MIN); /* 0x16, zigzag = 2^64 - 1 */
    parquet_thrift_end(&t);
    assert_bytes(&b, 0x15, 0x02, 0x26, 0x01, 0x18, 0x02, 'a', 'b', 0x01, 0x28, 0x1c, 0x15, 0xac, 0x02, 0x12, 0x00,
                 0x14, 0x05, 0x19, 0x35, 0x02, 0x03, 0x80, 0x01, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                 0xff, 0x01, 0x00);
    buf_free(&b);
}

static void test_thrift_lists_of_structs(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    parquet_thrift t;
    parquet_thrift_begin(&t, &b);
    parquet_thrift_field_list_begin(&t, 2, PARQUET_THRIFT_STRUCT, 2);   /* 0x29, 0x2c */
    for (int i = 0; i < 2; i++) {
        parquet_thrift_elem_struct_begin(&t);
        parquet_thrift_field_i32(&t, 5, i);      /* field ids restart in each element: 0x55 */
        parquet_thrift_struct_end(&t);
    }
    parquet_thrift_field_list_begin(&t, 3, PARQUET_THRIFT_BINARY, 16);   /* 0x19, 0xf8, 16 */
    for (int i = 0; i < 16; i++)
        parquet_thrift_elem_binary(&t, "x", 1);
    parquet_thrift_end(&t);
    assert_int_equal(b.len, 2 + 2 * 3 + 3 + 16 * 2 + 1);
    const uint8_t head[] = {0x29, 0x2c, 0x55, 0x00, 0x00, 0x55, 0x02, 0x00, 0x19, 0xf8, 0x10, 0x01, 'x'};
    assert_memory_equal(b.data, head, sizeof head);
    assert_int_equal((uint8_t)b.data[b.len - 1], 0x00);
    buf_free(&b);
}

static void test_page_header_bytes(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    parquet_stats_bytes sb = {.null_count = 1, .has_bounds = true, .min = "\x01", .min_len = 1, .max = "\x02",
                              .max_len = 1, .min_exact = true, .max_exact = true};
    parquet_page_header h = {.type = PARQUET_PAGE_DATA, .uncompressed_size = 10, .compressed_size = 8,
                             .num_values = 3, .encoding = PARQUET_ENC_PLAIN, .stats = &sb};
    parquet_meta_page_header(&b, &h);
    /* PageHeader{1: 0, 2: 10, 3: 8, 5: DataPageHeader{1: 3, 2: 0, 3: RLE, 4: RLE,
     * 5: Statistics{3: 1, 5: "\x02", 6: "\x01", 7: true, 8: true}}} */
    assert_bytes(&b, 0x15, 0x00, 0x15, 0x14, 0x15, 0x10, 0x2c, 0x15, 0x06, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x1c,
                 0x36, 0x02, 0x28, 0x01, 0x02, 0x18, 0x01, 0x01, 0x11, 0x11, 0x00, 0x00, 0x00);
    buf_free(&b);
}

static void test_rle_spec_bitpacked_example(void **state)
{
    (void)state;
    /* Encodings.md: 0..7 with bit width 3 bit-pack to 10001000 11000110 11111010. */
    const uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7};
    buf b = BUF_INIT;
    parquet_rle_encode_u32(&b, v, 8, 3);
    assert_bytes(&b, 0x03, 0x88, 0xc6, 0xfa);
    buf_free(&b);
}

static void test_rle_runs(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    uint8_t zeros[100] = {0};
    parquet_rle_encode_u8(&b, zeros, 100, 1);   /* one run: varint(200) = c8 01, value 00 */
    assert_bytes(&b, 0xc8, 0x01, 0x00);

    buf_reset(&b);
    const uint8_t mixed[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0};
    parquet_rle_encode_u8(&b, mixed, sizeof mixed, 1);   /* run of 10 ones, then one packed group */
    assert_bytes(&b, 0x14, 0x01, 0x03, 0x02);

    buf_reset(&b);
    const uint32_t wide[] = {300, 300, 300, 300, 300, 300, 300, 300, 300};   /* value in 2 bytes */
    parquet_rle_encode_u32(&b, wide, 9, 9);
    assert_bytes(&b, 0x12, 0x2c, 0x01);
    buf_free(&b);
}

static void test_rle_padding(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    /* [0, 1] + 10 twos: the run is too short to leave after padding the group, all packed
     * in 2 groups, zero-padded. */
    uint32_t v[22] = {0, 1};
    for (int i = 2; i < 22; i++)
        v[i] = 2;
    parquet_rle_encode_u32(&b, v, 12, 2);
    assert_bytes(&b, 0x05, 0xa4, 0xaa, 0xaa, 0x00);
    /* [0, 1] + 20 twos: 6 twos complete the first group, the other 14 are a run. */
    buf_reset(&b);
    parquet_rle_encode_u32(&b, v, 22, 2);
    assert_bytes(&b, 0x03, 0xa4, 0xaa, 0x1c, 0x02);
    buf_free(&b);
}

static void test_bitpack_bools_and_width(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    const uint8_t v[] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
    parquet_bitpack_bools(&b, v, 9);
    assert_bytes(&b, 0x0d, 0x01);
    assert_int_equal(parquet_rle_bit_width(0), 0);
    assert_int_equal(parquet_rle_bit_width(1), 1);
    assert_int_equal(parquet_rle_bit_width(7), 3);
    assert_int_equal(parquet_rle_bit_width(8), 4);
    assert_int_equal(parquet_rle_bit_width(UINT32_MAX), 32);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_fields_and_deltas),
        cmocka_unit_test(test_thrift_lists_of_structs),
        cmocka_unit_test(test_page_header_bytes),
        cmocka_unit_test(test_rle_spec_bitpacked_example),
        cmocka_unit_test(test_rle_runs),
        cmocka_unit_test(test_rle_padding),
        cmocka_unit_test(test_bitpack_bools_and_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
