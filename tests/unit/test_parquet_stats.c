/* Unit tests for Parquet statistics and value checks: type-defined order (signed decimals in
 * fixed bytes, unsigned byte-wise strings and binary, NaN excluded, -0.0 as min and +0.0 as max),
 * truncation of long byte-array bounds, decimal text parsing and the reasons values are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sinks/lake/parquet_stats.h"
#include "sinks/lake/parquet_types.h"

typedef struct encoded {
    bool has;
    buf min, max;
    bool min_exact, max_exact;
} encoded;

static encoded encode_values(const parquet_column_def *c, const parquet_value *v, size_t n, size_t limit)
{
    parquet_stats s = {0};
    for (size_t i = 0; i < n; i++)
        parquet_stats_add(&s, c, &v[i]);
    encoded e = {0};
    e.has = parquet_stats_encode(&s, c, limit, &e.min, &e.min_exact, &e.max, &e.max_exact);
    parquet_stats_free(&s);
    return e;
}

static void encoded_free(encoded *e)
{
    buf_free(&e->min);
    buf_free(&e->max);
}

static void test_decimal_fixed_signed_order(void **state)
{
    (void)state;
    parquet_column_def c = {.name = "d", .type = PARQUET_TYPE_DECIMAL, .precision = 38, .scale = 2};
    assert_int_equal(parquet_column_physical(&c), PARQUET_PHYS_FIXED);
    assert_int_equal(parquet_column_type_length(&c), 16);
    parquet_value v[] = {parquet_value_decimal64(-5), parquet_value_decimal64(3), parquet_value_decimal64(-100)};
    encoded e = encode_values(&c, v, 3, 64);
    assert_true(e.has);
    uint8_t min[16], max[16] = {0};
    memset(min, 0xff, 15);
    min[15] = 0x9c;   /* -100, big-endian two's complement */
    max[15] = 3;
    assert_int_equal(e.min.len, 16);
    assert_memory_equal(e.min.data, min, 16);
    assert_memory_equal(e.max.data, max, 16);
    encoded_free(&e);

    /* Minimal fixed sizes and the INT32/INT64 storage of small precisions. */
    assert_int_equal(parquet_decimal_fixed_bytes(19), 9);
    assert_int_equal(parquet_decimal_fixed_bytes(38), 16);
    assert_int_equal(parquet_decimal_fixed_bytes(2), 1);
    assert_int_equal(parquet_decimal_fixed_bytes(3), 2);
    parquet_column_def small = {.name = "s", .type = PARQUET_TYPE_DECIMAL, .precision = 5, .scale = 2};
    assert_int_equal(parquet_column_physical(&small), PARQUET_PHYS_INT32);
    parquet_value w[] = {parquet_value_decimal64(7), parquet_value_decimal64(-1)};
    e = encode_values(&small, w, 2, 64);
    assert_int_equal(e.min.len, 4);
    assert_memory_equal(e.min.data, "\xff\xff\xff\xff", 4);
    assert_memory_equal(e.max.data, "\x07\x00\x00\x00", 4);
    encoded_free(&e);
}

static void test_bytes_unsigned_order(void **state)
{
    (void)state;
    parquet_column_def s = {.name = "s", .type = PARQUET_TYPE_STRING};
    parquet_value v[] = {parquet_value_bytes("\xc3\xa9", 2), parquet_value_bytes("z", 1),
                         parquet_value_bytes("A", 1), parquet_value_bytes("", 0)};
    encoded e = encode_values(&s, v, 4, 64);
    assert_int_equal(e.min.len, 0);   /* the empty string is the smallest */
    assert_int_equal(e.max.len, 2);
    assert_memory_equal(e.max.data, "\xc3\xa9", 2);
    encoded_free(&e);

    parquet_column_def b = {.name = "b", .type = PARQUET_TYPE_BINARY};
    parquet_value w[] = {parquet_value_bytes("\x01", 1), parquet_value_bytes("\xff", 1),
                         parquet_value_bytes("\x80", 1), parquet_value_bytes("\x01\x00", 2)};
    e = encode_values(&b, w, 4, 64);
    assert_memory_equal(e.min.data, "\x01", 1);
    assert_int_equal(e.min.len, 1);   /* a prefix sorts first */
    assert_memory_equal(e.max.data, "\xff", 1);
    encoded_free(&e);
}

static void test_float_nan_and_zeros(void **state)
{
    (void)state;
    parquet_column_def d = {.name = "d", .type = PARQUET_TYPE_DOUBLE};
    parquet_value v[] = {parquet_value_double(NAN), parquet_value_double(1.5), parquet_value_double(-2.0)};
    parquet_stats s = {0};
    for (int i = 0; i < 3; i++)
        parquet_stats_add(&s, &d, &v[i]);
    assert_int_equal(s.nans, 1);
    assert_int_equal(s.values, 3);
    buf min = BUF_INIT, max = BUF_INIT;
    bool me, xe;
    assert_true(parquet_stats_encode(&s, &d, 64, &min, &me, &max, &xe));
    double lo, hi;
    memcpy(&lo, min.data, 8);
    memcpy(&hi, max.data, 8);
    assert_true(lo == -2.0 && hi == 1.5);
    parquet_stats_free(&s);
    buf_free(&min);
    buf_free(&max);

    /* Only NaNs: no bounds. */
    parquet_value n[] = {parquet_value_double(NAN), parquet_value_null()};
    encoded e = encode_values(&d, n, 2, 64);
    assert_false(e.has);
    encoded_free(&e);

    /* A zero min is written as -0.0, a zero max as +0.0, whichever zero was seen. */
    parquet_value z[] = {parquet_value_double(0.0)};
    e = encode_values(&d, z, 1, 64);
    memcpy(&lo, e.min.data, 8);
    memcpy(&hi, e.max.data, 8);
    assert_true(lo == 0.0 && signbit(lo));
    assert_true(hi == 0.0 && !signbit(hi));
    encoded_free(&e);
    parquet_value z2[] = {parquet_value_double(-3.0), parquet_value_double(-0.0)};
    e = encode_values(&d, z2, 2, 64);
    memcpy(&hi, e.max.data, 8);
    assert_true(hi == 0.0 && !signbit(hi));
    encoded_free(&e);

    parquet_column_def f = {.name = "f", .type = PARQUET_TYPE_FLOAT};
    parquet_value fz[] = {parquet_value_float(-0.0f), parquet_value_float(5.0f), parquet_value_float(NAN)};
    e = encode_values(&f, fz, 3, 64);
    float flo, fhi;
    memcpy(&flo, e.min.data, 4);
    memcpy(&fhi, e.max.data, 4);
    assert_true(flo == 0.0f && signbit(flo) && fhi == 5.0f);
    encoded_free(&e);
}

static void test_ints_and_merge(void **state)
{
    (void)state;
    parquet_column_def c = {.name = "i", .type = PARQUET_TYPE_INT64, .optional = true};
    parquet_stats a = {0}, b = {0};
    parquet_value v1 = parquet_value_int64(INT64_MAX), v2 = parquet_value_int64(-1), nul = parquet_value_null();
    parquet_value v3 = parquet_value_int64(INT64_MIN);
    parquet_stats_add(&a, &c, &v1);
    parquet_stats_add(&a, &c, &nul);
    parquet_stats_add(&b, &c, &v2);
    parquet_stats_add(&b, &c, &v3);
    parquet_stats_merge(&a, &b, &c);
    assert_int_equal(a.nulls, 1);
    assert_int_equal(a.values, 3);
    assert_true(a.min.v.i64 == INT64_MIN && a.max.v.i64 == INT64_MAX);
    parquet_stats_free(&a);
    parquet_stats_free(&b);
}

static void test_truncated_bounds(void **state)
{
    (void)state;
    parquet_column_def s = {.name = "s", .type = PARQUET_TYPE_STRING};
    char lo[100], hi[100];
    memset(lo, 'a', sizeof lo);
    memset(hi, 'a', sizeof hi);
    hi[99] = 'b';
    parquet_value v[] = {parquet_value_bytes(lo, 100), parquet_value_bytes(hi, 100)};
    encoded e = encode_values(&s, v, 2, 64);
    assert_int_equal(e.min.len, 64);
    assert_false(e.min_exact);
    assert_int_equal(e.max.len, 64);
    assert_false(e.max_exact);
    assert_memory_equal(e.max.data, hi, 63);
    assert_int_equal(e.max.data[63], 'b');   /* 'a' incremented: still above the value */
    encoded_free(&e);

    /* Unicode: cut on a code point boundary, the last code point incremented (é -> ê). */
    char u[70];
    u[0] = 'x';
    for (int i = 0; i < 30; i++)
        memcpy(u + 1 + 2 * i, "\xc3\xa9", 2);
    memset(u + 61, 'x', 9);
    parquet_value w[] = {parquet_value_bytes(u, 70)};
    e = encode_values(&s, w, 1, 60);   /* byte 60 is inside the 30th é: cut before it */
    assert_int_equal(e.min.len, 59);
    assert_memory_equal(e.min.data, u, 59);
    assert_int_equal(e.max.len, 59);
    assert_memory_equal(e.max.data, u, 57);
    assert_memory_equal(e.max.data + 57, "\xc3\xaa", 2);
    assert_true(parquet_utf8_valid((const uint8_t *)e.max.data, e.max.len));
    encoded_free(&e);

    /* Binary: trailing 0xff bytes cannot be incremented, the byte before them is. */
    parquet_column_def b = {.name = "b", .type = PARQUET_TYPE_BINARY};
    uint8_t bin[80] = {0};
    memset(bin + 63, 0xff, 17);
    parquet_value x[] = {parquet_value_bytes(bin, 80)};
    e = encode_values(&b, x, 1, 64);
    assert_int_equal(e.max.len, 63);
    assert_int_equal((uint8_t)e.max.data[62], 1);
    encoded_free(&e);

    /* Short values are kept whole and exact. */
    parquet_value y[] = {parquet_value_bytes("abc", 3)};
    e = encode_values(&s, y, 1, 64);
    assert_true(e.min_exact && e.max_exact && e.min.len == 3 && e.max.len == 3);
    encoded_free(&e);
}

static void test_decimal_text(void **state)
{
    (void)state;
    parquet_decimal d;
    char err[128];
    assert_int_equal(parquet_decimal_from_text("123.45", 10, 2, &d, err, sizeof err), 0);
    assert_true(d.hi == 0 && d.lo == 12345);
    assert_int_equal(parquet_decimal_from_text("-0.5", 10, 2, &d, err, sizeof err), 0);
    assert_true(d.hi == -1 && (int64_t)d.lo == -50);
    assert_int_equal(parquet_decimal_from_text("7", 10, 3, &d, err, sizeof err), 0);
    assert_true(d.lo == 7000);
    assert_int_equal(parquet_decimal_from_text("1.234", 10, 2, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "fraction digits"));
    assert_int_equal(parquet_decimal_from_text("1.230", 10, 2, &d, err, sizeof err), 0);   /* trailing zero */
    assert_int_equal(parquet_decimal_from_text("99999", 4, 0, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(parquet_decimal_from_text("99999999999999999999999999999999999999", 38, 0, &d, err, sizeof err), 0);
    parquet_decimal max38 = d;
    assert_int_equal(parquet_decimal_from_text("-99999999999999999999999999999999999999", 38, 0, &d, err, sizeof err), 0);
    assert_true(parquet_decimal_compare(d, max38) < 0);
    assert_int_equal(parquet_decimal_from_text("999999999999999999999999999999999999999", 38, 0, &d, err, sizeof err),
                     -1);
    assert_int_equal(parquet_decimal_from_text("9999999999999999999999999999999999999", 38, 2, &d, err, sizeof err), -1);
    assert_int_equal(parquet_decimal_from_text("1e3", 10, 0, &d, err, sizeof err), -1);
    assert_int_equal(parquet_decimal_from_text("-", 10, 0, &d, err, sizeof err), -1);
}

static void test_value_checks(void **state)
{
    (void)state;
    char err[256];
    parquet_column_def req = {.name = "id", .type = PARQUET_TYPE_INT64};
    parquet_value nul = parquet_value_null(), i32 = parquet_value_int32(1);
    assert_int_equal(parquet_value_check(&req, &nul, err, sizeof err), -1);
    assert_non_null(strstr(err, "id is required"));
    assert_int_equal(parquet_value_check(&req, &i32, err, sizeof err), -1);
    assert_non_null(strstr(err, "int32 value where int64"));
    parquet_column_def dec = {.name = "amount", .type = PARQUET_TYPE_DECIMAL, .precision = 4, .scale = 2};
    parquet_value big = parquet_value_decimal64(10000), ok = parquet_value_decimal64(-9999);
    assert_int_equal(parquet_value_check(&dec, &big, err, sizeof err), -1);
    assert_non_null(strstr(err, "out of range for precision 4"));
    assert_int_equal(parquet_value_check(&dec, &ok, err, sizeof err), 0);
    parquet_column_def str = {.name = "s", .type = PARQUET_TYPE_STRING, .optional = true};
    parquet_value bad = parquet_value_bytes("\xc3\x28", 2), sur = parquet_value_bytes("\xed\xa0\x80", 3);
    assert_int_equal(parquet_value_check(&str, &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "UTF-8"));
    assert_int_equal(parquet_value_check(&str, &sur, err, sizeof err), -1);
    assert_int_equal(parquet_value_check(&str, &nul, err, sizeof err), 0);
    parquet_column_def uuid = {.name = "u", .type = PARQUET_TYPE_UUID};
    parquet_value shortu = parquet_value_bytes("0123456789abcde", 15);
    assert_int_equal(parquet_value_check(&uuid, &shortu, err, sizeof err), -1);
    parquet_column_def badp = {.name = "p", .type = PARQUET_TYPE_DECIMAL, .precision = 39};
    assert_int_equal(parquet_column_def_check(&badp, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_fixed_signed_order),
        cmocka_unit_test(test_bytes_unsigned_order),
        cmocka_unit_test(test_float_nan_and_zeros),
        cmocka_unit_test(test_ints_and_merge),
        cmocka_unit_test(test_truncated_bounds),
        cmocka_unit_test(test_decimal_text),
        cmocka_unit_test(test_value_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
