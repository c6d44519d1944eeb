/* Unit tests for sinks/lake/silver_value: the column type of every source kind (numeric typmods
 * included), and every kind's values, built with pg_value_parse from the text PostgreSQL prints
 * (what the capture produces), as Parquet values: nulls, exact decimals (signs, zero, 38 digits,
 * scale padding, too many fraction digits, NaN and infinities), money, date and timestamp
 * infinities, bytes with NULs, uuids, text kinds, type promotions and the errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture/pg_types.h"
#include "sinks/lake/silver_value.h"

__extension__ typedef __int128 i128;

static arena *test_arena;

static int setup(void **state)
{
    (void)state;
    test_arena = arena_create(0);
    return test_arena ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    arena_destroy(test_arena);
    return 0;
}

static int32_t numeric_typmod(int precision, int scale)
{
    return ((precision << 16) | (scale & 0x7ff)) + 4;
}

static column_def col_of(value_kind kind, uint32_t oid, int32_t typmod)
{
    column_def c;
    memset(&c, 0, sizeof c);
    c.name = "c";
    c.kind = kind;
    c.type_oid = oid;
    c.typmod = typmod;
    return c;
}

static parquet_column_def type_of(const column_def *c)
{
    parquet_column_def pc = {.name = "untouched", .field_id = 7, .optional = true};
    char err[256] = "";
    if (silver_value_column_type(c, &pc, err, sizeof err) != 0)
        fail_msg("column type of kind %d: %s", c->kind, err);
    assert_string_equal(pc.name, "untouched");
    assert_int_equal(pc.field_id, 7);
    assert_true(pc.optional);
    return pc;
}

static value parse(value_kind kind, const char *text)
{
    value v;
    char err[256] = "";
    if (pg_value_parse(kind, text, strlen(text), &v, test_arena, err, sizeof err) != 0)
        fail_msg("'%s' (kind %d) rejected: %s", text, kind, err);
    return v;
}

/* text (PostgreSQL's) of a column (kind, oid, typmod) through its own column type: the rc. */
static int convert_typed(value_kind kind, uint32_t oid, int32_t typmod, const char *text, parquet_value *out,
                         char *err, size_t errlen)
{
    column_def c = col_of(kind, oid, typmod);
    parquet_column_def pc = type_of(&c);
    value v = parse(kind, text);
    err[0] = '\0';
    int rc = silver_value_to_parquet(&c, &pc, &v, out, test_arena, err, errlen);
    if (rc < 0)
        assert_true(strlen(err) > 0);
    return rc;
}

static parquet_value ok(value_kind kind, int32_t typmod, const char *text)
{
    parquet_value out;
    char err[256];
    int rc = convert_typed(kind, 0, typmod, text, &out, err, sizeof err);
    if (rc != 0)
        fail_msg("'%s' (kind %d): rc %d %s", text, kind, rc, err);
    return out;
}

static void assert_string_value(parquet_value pv, const char *text)
{
    assert_int_equal(pv.kind, PARQUET_VALUE_BYTES);
    assert_int_equal(pv.v.bytes.len, strlen(text));
    assert_memory_equal(pv.v.bytes.ptr, text, strlen(text));
}

static i128 dec(parquet_value pv)
{
    assert_int_equal(pv.kind, PARQUET_VALUE_DECIMAL);
    return (i128)(((unsigned __int128)(uint64_t)pv.v.dec.hi << 64) | pv.v.dec.lo);
}

static void test_column_types(void **state)
{
    (void)state;
    static const struct {
        value_kind kind;
        uint32_t oid;
        int32_t typmod;
        parquet_type type;
        int precision, scale;
    } cases[] = {
        {VALUE_BOOL, 16, -1, PARQUET_TYPE_BOOLEAN, 0, 0},
        {VALUE_INT16, 21, -1, PARQUET_TYPE_INT32, 0, 0},
        {VALUE_INT32, 23, -1, PARQUET_TYPE_INT32, 0, 0},
        {VALUE_INT32, 26, -1, PARQUET_TYPE_INT64, 0, 0},   /* oid: unsigned */
        {VALUE_INT64, 20, -1, PARQUET_TYPE_INT64, 0, 0},
        {VALUE_FLOAT32, 700, -1, PARQUET_TYPE_FLOAT, 0, 0},
        {VALUE_FLOAT64, 701, -1, PARQUET_TYPE_DOUBLE, 0, 0},
        {VALUE_NUMERIC, 1700, -1, PARQUET_TYPE_STRING, 0, 0},
        {VALUE_NUMERIC, 1700, 0, PARQUET_TYPE_STRING, 0, 0},
        {VALUE_MONEY, 790, -1, PARQUET_TYPE_DECIMAL, 19, 2},
        {VALUE_BYTES, 17, -1, PARQUET_TYPE_BINARY, 0, 0},
        {VALUE_UUID, 2950, -1, PARQUET_TYPE_UUID, 0, 0},
        {VALUE_DATE, 1082, -1, PARQUET_TYPE_DATE, 0, 0},
        {VALUE_TIME, 1083, 3, PARQUET_TYPE_TIME, 0, 0},
        {VALUE_TIMETZ, 1266, -1, PARQUET_TYPE_STRING, 0, 0},
        {VALUE_TIMESTAMP, 1114, -1, PARQUET_TYPE_TIMESTAMP, 0, 0},
        {VALUE_TIMESTAMPTZ, 1184, 6, PARQUET_TYPE_TIMESTAMPTZ, 0, 0},
        {VALUE_INTERVAL, 1186, -1, PARQUET_TYPE_STRING, 0, 0},
        {VALUE_TEXT, 25, -1, PARQUET_TYPE_STRING, 0, 0},
        {VALUE_TEXT, 16385, -1, PARQUET_TYPE_STRING, 0, 0},   /* an enum */
        {VALUE_JSON, 3802, -1, PARQUET_TYPE_STRING, 0, 0},
        {VALUE_INET, 869, -1, PARQUET_TYPE_STRING, 0, 0},
        {VALUE_ARRAY, 1007, -1, PARQUET_TYPE_STRING, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        column_def c = col_of(cases[i].kind, cases[i].oid, cases[i].typmod);
        parquet_column_def pc = type_of(&c);
        assert_int_equal(pc.type, cases[i].type);
        if (pc.type == PARQUET_TYPE_DECIMAL) {
            assert_int_equal(pc.precision, cases[i].precision);
            assert_int_equal(pc.scale, cases[i].scale);
        }
        char err[256];
        assert_int_equal(parquet_column_def_check(&pc, err, sizeof err), 0);
    }

    static const struct { int p, s; parquet_type type; int precision, scale; } numerics[] = {
        {10, 2, PARQUET_TYPE_DECIMAL, 10, 2},   {1, 0, PARQUET_TYPE_DECIMAL, 1, 0},
        {38, 38, PARQUET_TYPE_DECIMAL, 38, 38}, {38, 0, PARQUET_TYPE_DECIMAL, 38, 0},
        {39, 2, PARQUET_TYPE_STRING, 0, 0},     {1000, 0, PARQUET_TYPE_STRING, 0, 0},
        {5, -2, PARQUET_TYPE_DECIMAL, 7, 0},    /* PostgreSQL 15's negative scale */
        {37, -2, PARQUET_TYPE_STRING, 0, 0},    {2, 5, PARQUET_TYPE_DECIMAL, 5, 5},
        {2, 39, PARQUET_TYPE_STRING, 0, 0},
    };
    for (size_t i = 0; i < sizeof numerics / sizeof numerics[0]; i++) {
        column_def c = col_of(VALUE_NUMERIC, 1700, numeric_typmod(numerics[i].p, numerics[i].s));
        parquet_column_def pc = type_of(&c);
        assert_int_equal(pc.type, numerics[i].type);
        if (pc.type == PARQUET_TYPE_DECIMAL) {
            assert_int_equal(pc.precision, numerics[i].precision);
            assert_int_equal(pc.scale, numerics[i].scale);
        }
    }

    /* a kind this module does not know: its text */
    column_def other = col_of((value_kind)99, 0, -1);
    parquet_column_def pc = type_of(&other);
    assert_int_equal(pc.type, PARQUET_TYPE_STRING);
    value v = {.state = VALUE_PRESENT, .s = "x", .len = 1};
    parquet_value pv;
    char err[256] = "";
    assert_int_equal(silver_value_to_parquet(&other, &pc, &v, &pv, test_arena, err, sizeof err), 0);
    assert_string_value(pv, "x");
}

static void test_scalars(void **state)
{
    (void)state;
    parquet_value pv = ok(VALUE_BOOL, -1, "t");
    assert_int_equal(pv.kind, PARQUET_VALUE_BOOL);
    assert_true(pv.v.b);
    assert_false(ok(VALUE_BOOL, -1, "f").v.b);

    pv = ok(VALUE_INT16, -1, "-32768");
    assert_int_equal(pv.kind, PARQUET_VALUE_INT32);
    assert_int_equal(pv.v.i32, -32768);
    pv = ok(VALUE_INT32, -1, "-2147483648");
    assert_int_equal(pv.kind, PARQUET_VALUE_INT32);
    assert_int_equal(pv.v.i32, INT32_MIN);
    pv = ok(VALUE_INT64, -1, "-9223372036854775808");
    assert_int_equal(pv.kind, PARQUET_VALUE_INT64);
    assert_true(pv.v.i64 == INT64_MIN);

    /* oid: up to 4294967295, as long */
    char err[256];
    assert_int_equal(convert_typed(VALUE_INT32, 26, -1, "4294967295", &pv, err, sizeof err), 0);
    assert_int_equal(pv.kind, PARQUET_VALUE_INT64);
    assert_int_equal(pv.v.i64, 4294967295LL);

    pv = ok(VALUE_FLOAT32, -1, "1.5");
    assert_int_equal(pv.kind, PARQUET_VALUE_FLOAT);
    assert_true(pv.v.f32 == 1.5f);
    pv = ok(VALUE_FLOAT32, -1, "3.40282347e+38");
    assert_true(pv.v.f32 == 3.40282347e+38f);
    pv = ok(VALUE_FLOAT64, -1, "0.1");
    assert_int_equal(pv.kind, PARQUET_VALUE_DOUBLE);
    assert_true(pv.v.f64 == 0.1);
    assert_true(isnan(ok(VALUE_FLOAT64, -1, "NaN").v.f64));
    assert_true(ok(VALUE_FLOAT64, -1, "-Infinity").v.f64 == -INFINITY);
    assert_true(isinf(ok(VALUE_FLOAT32, -1, "Infinity").v.f32));
}

static void test_decimals(void **state)
{
    (void)state;
    int32_t t10_2 = numeric_typmod(10, 2);
    assert_true(dec(ok(VALUE_NUMERIC, t10_2, "-12.34")) == -1234);
    assert_true(dec(ok(VALUE_NUMERIC, t10_2, "12.34")) == 1234);
    assert_true(dec(ok(VALUE_NUMERIC, t10_2, "0.00")) == 0);
    assert_true(dec(ok(VALUE_NUMERIC, t10_2, "0")) == 0);
    assert_true(dec(ok(VALUE_NUMERIC, t10_2, "-0.01")) == -1);
    assert_true(dec(ok(VALUE_NUMERIC, t10_2, "99999999.99")) == 9999999999LL);
    /* scale padding: fewer fraction digits than the scale */
    assert_true(dec(ok(VALUE_NUMERIC, numeric_typmod(5, 3), "1.5")) == 1500);
    assert_true(dec(ok(VALUE_NUMERIC, numeric_typmod(5, 3), "-1")) == -1000);
    assert_true(dec(ok(VALUE_NUMERIC, numeric_typmod(5, 0), "-12345")) == -12345);
    /* trailing zeros past the scale are still exact */
    assert_true(dec(ok(VALUE_NUMERIC, t10_2, "1.500")) == 150);

    /* 38 digits, both signs, and 38 fraction digits */
    i128 max38 = 0;
    for (int i = 0; i < 38; i++)
        max38 = max38 * 10 + 9;
    const char *nines = "99999999999999999999999999999999999999";
    assert_true(dec(ok(VALUE_NUMERIC, numeric_typmod(38, 0), nines)) == max38);
    char neg[64];
    snprintf(neg, sizeof neg, "-%s", nines);
    assert_true(dec(ok(VALUE_NUMERIC, numeric_typmod(38, 0), neg)) == -max38);
    char frac[64];
    snprintf(frac, sizeof frac, "-0.%s", nines);
    assert_true(dec(ok(VALUE_NUMERIC, numeric_typmod(38, 38), frac)) == -max38);
    parquet_value pv = ok(VALUE_NUMERIC, numeric_typmod(38, 0), nines);
    assert_true(pv.v.dec.hi == INT64_C(0x4B3B4CA85A86C47A));
    assert_true(pv.v.dec.lo == UINT64_C(0x098A223FFFFFFFFF));

    /* too many (non-zero) fraction digits, too many digits: errors */
    char err[256];
    assert_int_equal(convert_typed(VALUE_NUMERIC, 0, numeric_typmod(10, 3), "1.2345", &pv, err, sizeof err), -1);
    assert_non_null(strstr(err, "fraction"));
    assert_int_equal(convert_typed(VALUE_NUMERIC, 0, numeric_typmod(5, 2), "1000.00", &pv, err, sizeof err), -1);
    assert_non_null(strstr(err, "range"));
    assert_int_equal(convert_typed(VALUE_NUMERIC, 0, numeric_typmod(38, 0), "199999999999999999999999999999999999999",
                                   &pv, err, sizeof err),
                     -1);

    /* NaN and infinities: null, 1 */
    assert_int_equal(convert_typed(VALUE_NUMERIC, 0, t10_2, "NaN", &pv, err, sizeof err), 1);
    assert_int_equal(pv.kind, PARQUET_VALUE_NULL);
    assert_int_equal(convert_typed(VALUE_NUMERIC, 0, t10_2, "Infinity", &pv, err, sizeof err), 1);
    assert_int_equal(pv.kind, PARQUET_VALUE_NULL);
    assert_int_equal(convert_typed(VALUE_NUMERIC, 0, t10_2, "-Infinity", &pv, err, sizeof err), 1);
    assert_int_equal(pv.kind, PARQUET_VALUE_NULL);

    /* PostgreSQL 15 scales: negative (integers rounded to hundreds), larger than the precision */
    assert_true(dec(ok(VALUE_NUMERIC, numeric_typmod(5, -2), "9999900")) == 9999900);
    assert_true(dec(ok(VALUE_NUMERIC, numeric_typmod(2, 5), "-0.00099")) == -99);

    /* unconstrained or too wide: PostgreSQL's text, NaN included */
    assert_string_value(ok(VALUE_NUMERIC, -1, "-123.456789012345678901234567890123456789"),
                        "-123.456789012345678901234567890123456789");
    assert_string_value(ok(VALUE_NUMERIC, -1, "NaN"), "NaN");
    assert_string_value(ok(VALUE_NUMERIC, numeric_typmod(50, 10), "1.0000000000"), "1.0000000000");
}

/* Text PostgreSQL never sends for numeric, handled all the same. */
static void test_decimal_text_robust(void **state)
{
    (void)state;
    column_def c = col_of(VALUE_NUMERIC, 1700, numeric_typmod(10, 2));
    parquet_column_def pc = type_of(&c);
    static const struct { const char *text; int rc; long long unscaled; } cases[] = {
        {"1e5", 0, 10000000},   {"1.5E-1", 0, 15},   {"+7", 0, 700},      {".5", 0, 50},
        {"5.", 0, 500},         {"0e999999999999999999", 0, 0},            {"1e-5", -1, 0},
        {"1e10", -1, 0},        {"12345678900e-3", 0, 1234567890},         {"", -1, 0},
        {"-", -1, 0},           {".", -1, 0},        {"1e", -1, 0},       {"1x", -1, 0},
        {" 1", -1, 0},          {"1.2.3", -1, 0},    {"nan", 1, 0},       {"-inf", 1, 0},
        {"1e99999999999999999999", -1, 0},          {"1e-99999999999999999999", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        value v = {.state = VALUE_PRESENT, .s = cases[i].text, .len = strlen(cases[i].text)};
        parquet_value pv;
        char err[256] = "";
        int rc = silver_value_to_parquet(&c, &pc, &v, &pv, test_arena, err, sizeof err);
        if (rc != cases[i].rc)
            fail_msg("'%s': rc %d, expected %d (%s)", cases[i].text, rc, cases[i].rc, err);
        if (rc == 0)
            assert_true(dec(pv) == cases[i].unscaled);
    }
    /* length-delimited: the text after len is not read */
    value v = {.state = VALUE_PRESENT, .s = "12.345", .len = 5};
    parquet_value pv;
    char err[256];
    assert_int_equal(silver_value_to_parquet(&c, &pc, &v, &pv, test_arena, err, sizeof err), 0);
    assert_true(dec(pv) == 1234);
    /* a numeric without text (no producer makes one): an error */
    value bare = {.state = VALUE_PRESENT};
    assert_int_equal(silver_value_to_parquet(&c, &pc, &bare, &pv, test_arena, err, sizeof err), -1);
}

static void test_money(void **state)
{
    (void)state;
    assert_true(dec(ok(VALUE_MONEY, -1, "$1,234.56")) == 123456);
    assert_true(dec(ok(VALUE_MONEY, -1, "-$0.01")) == -1);
    assert_true(dec(ok(VALUE_MONEY, -1, "$0.00")) == 0);
    assert_true(dec(ok(VALUE_MONEY, -1, "$9,999,999,999,999,999.99")) == 999999999999999999LL);
    assert_true(dec(ok(VALUE_MONEY, -1, "-$9,999,999,999,999,999.99")) == -999999999999999999LL);
    /* money's extremes have 19 digits: decimal(19,2) holds them */
    parquet_value pv;
    char err[256];
    assert_int_equal(convert_typed(VALUE_MONEY, 790, -1, "-$92,233,720,368,547,758.08", &pv, err, sizeof err), 0);
    assert_true(dec(pv) == (i128)INT64_MIN);
    assert_int_equal(convert_typed(VALUE_MONEY, 790, -1, "$92,233,720,368,547,758.07", &pv, err, sizeof err), 0);
    assert_true(dec(pv) == (i128)INT64_MAX);

    /* into a wider decimal column: rescaled */
    column_def c = col_of(VALUE_MONEY, 790, -1);
    parquet_column_def wide = {.name = "c", .type = PARQUET_TYPE_DECIMAL, .precision = 24, .scale = 4};
    value v = parse(VALUE_MONEY, "-$92,233,720,368,547,758.08");
    assert_int_equal(silver_value_to_parquet(&c, &wide, &v, &pv, test_arena, err, sizeof err), 0);
    assert_true(dec(pv) == (i128)INT64_MIN * 100);
    parquet_column_def narrow = {.name = "c", .type = PARQUET_TYPE_DECIMAL, .precision = 10, .scale = 0};
    v = parse(VALUE_MONEY, "$12.00");
    assert_int_equal(silver_value_to_parquet(&c, &narrow, &v, &pv, test_arena, err, sizeof err), 0);
    assert_true(dec(pv) == 12);
    v = parse(VALUE_MONEY, "$12.50");
    assert_int_equal(silver_value_to_parquet(&c, &narrow, &v, &pv, test_arena, err, sizeof err), -1);
}

static void test_times(void **state)
{
    (void)state;
    parquet_value pv = ok(VALUE_DATE, -1, "2024-02-29");
    assert_int_equal(pv.kind, PARQUET_VALUE_INT32);
    assert_int_equal(pv.v.i32, 19782);
    assert_int_equal(ok(VALUE_DATE, -1, "1969-12-31").v.i32, -1);
    pv = ok(VALUE_TIME, -1, "12:34:56.789");
    assert_int_equal(pv.kind, PARQUET_VALUE_INT64);
    assert_int_equal(pv.v.i64, 45296789000LL);
    pv = ok(VALUE_TIMESTAMP, -1, "2024-01-01 00:00:00");
    assert_int_equal(pv.kind, PARQUET_VALUE_INT64);
    assert_int_equal(pv.v.i64, 1704067200000000LL);
    pv = ok(VALUE_TIMESTAMPTZ, -1, "2024-01-01 01:00:00.5+01");
    assert_int_equal(pv.kind, PARQUET_VALUE_INT64);
    assert_int_equal(pv.v.i64, 1704067200500000LL);

    static const struct { value_kind kind; const char *text; } infinities[] = {
        {VALUE_DATE, "infinity"},      {VALUE_DATE, "-infinity"},      {VALUE_TIMESTAMP, "infinity"},
        {VALUE_TIMESTAMP, "-infinity"}, {VALUE_TIMESTAMPTZ, "infinity"}, {VALUE_TIMESTAMPTZ, "-infinity"},
    };
    for (size_t i = 0; i < sizeof infinities / sizeof infinities[0]; i++) {
        char err[256];
        assert_int_equal(convert_typed(infinities[i].kind, 0, -1, infinities[i].text, &pv, err, sizeof err), 1);
        assert_int_equal(pv.kind, PARQUET_VALUE_NULL);
    }

    /* text kinds among the times: PostgreSQL's text */
    assert_string_value(ok(VALUE_TIMETZ, -1, "12:34:56.5+05:30"), "12:34:56.5+05:30");
    assert_string_value(ok(VALUE_INTERVAL, -1, "1 year 2 mons -3 days 04:05:06.7"), "1 year 2 mons -3 days 04:05:06.7");
}

static void test_bytes_uuid_text(void **state)
{
    (void)state;
    parquet_value pv = ok(VALUE_BYTES, -1, "\\x00ff0041");
    assert_int_equal(pv.kind, PARQUET_VALUE_BYTES);
    assert_int_equal(pv.v.bytes.len, 4);
    assert_memory_equal(pv.v.bytes.ptr, "\x00\xff\x00\x41", 4);
    pv = ok(VALUE_BYTES, -1, "\\x");
    assert_int_equal(pv.kind, PARQUET_VALUE_BYTES);
    assert_int_equal(pv.v.bytes.len, 0);
    assert_non_null(pv.v.bytes.ptr);

    pv = ok(VALUE_UUID, -1, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
    assert_int_equal(pv.kind, PARQUET_VALUE_BYTES);
    assert_int_equal(pv.v.bytes.len, 16);
    assert_memory_equal(pv.v.bytes.ptr, "\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16);

    assert_string_value(ok(VALUE_TEXT, -1, "héllo"), "héllo");
    assert_string_value(ok(VALUE_TEXT, -1, ""), "");
    assert_string_value(ok(VALUE_JSON, -1, "{\"a\": [1, 2]}"), "{\"a\": [1, 2]}");
    assert_string_value(ok(VALUE_INET, -1, "192.168.0.1/24"), "192.168.0.1/24");
    assert_string_value(ok(VALUE_ARRAY, -1, "{1,2,NULL}"), "{1,2,NULL}");
    parquet_value out;
    char err[256];
    assert_int_equal(convert_typed(VALUE_TEXT, 16385, -1, "happy", &out, err, sizeof err), 0);   /* enum */
    assert_string_value(out, "happy");
}

static void test_nulls_and_unavailable(void **state)
{
    (void)state;
    for (int k = VALUE_TEXT; k <= VALUE_ARRAY; k++) {
        column_def c = col_of((value_kind)k, 0, k == VALUE_NUMERIC ? numeric_typmod(10, 2) : -1);
        parquet_column_def pc = type_of(&c);
        value v = {.state = VALUE_IS_NULL};
        parquet_value pv = parquet_value_int32(5);
        char err[256] = "";
        assert_int_equal(silver_value_to_parquet(&c, &pc, &v, &pv, test_arena, err, sizeof err), 0);
        assert_int_equal(pv.kind, PARQUET_VALUE_NULL);
        v.state = VALUE_UNAVAILABLE;
        assert_int_equal(silver_value_to_parquet(&c, &pc, &v, &pv, test_arena, err, sizeof err), -1);
        assert_non_null(strstr(err, "unavailable"));
    }
}

/* Values a rule set without PostgreSQL's text (rules_value.c: an integer into an interval
 * column): their text is made from the typed value; the kind changes a column keeps across
 * (promotions), and mismatches. */
static void test_rule_values_and_promotions(void **state)
{
    (void)state;
    char err[256] = "";
    parquet_value pv;
    column_def iv = col_of(VALUE_INTERVAL, 1186, -1);
    parquet_column_def ivt = type_of(&iv);
    value rule_interval = {.state = VALUE_PRESENT};
    rule_interval.v.interval.us = 5000000;
    rule_interval.v.interval.days = -3;
    rule_interval.v.interval.months = 14;
    /* written as the text PostgreSQL prints for it (encode/pg_text.h) */
    assert_int_equal(silver_value_to_parquet(&iv, &ivt, &rule_interval, &pv, test_arena, err, sizeof err), 0);
    assert_int_equal(pv.kind, PARQUET_VALUE_BYTES);
    assert_int_equal(pv.v.bytes.len, strlen("1 year 2 mons -3 days +00:00:05"));
    assert_memory_equal(pv.v.bytes.ptr, "1 year 2 mons -3 days +00:00:05", pv.v.bytes.len);
    /* a timetz from a rule: time and offset */
    column_def tz = col_of(VALUE_TIMETZ, 1266, -1);
    parquet_column_def tzt = type_of(&tz);
    value rule_tz = {.state = VALUE_PRESENT, .tz_offset = 3600};
    rule_tz.v.i = INT64_C(45296000000);
    assert_int_equal(silver_value_to_parquet(&tz, &tzt, &rule_tz, &pv, test_arena, err, sizeof err), 0);
    assert_int_equal(pv.v.bytes.len, strlen("12:34:56+01"));
    assert_memory_equal(pv.v.bytes.ptr, "12:34:56+01", pv.v.bytes.len);

    /* a rule's integer in an int column has no text and needs none */
    column_def i4 = col_of(VALUE_INT32, 23, -1);
    parquet_column_def i4t = type_of(&i4);
    value rule_int = {.state = VALUE_PRESENT, .v.i = 42};
    assert_int_equal(silver_value_to_parquet(&i4, &i4t, &rule_int, &pv, test_arena, err, sizeof err), 0);
    assert_int_equal(pv.v.i32, 42);
    rule_int.v.i = INT64_C(1) << 40;
    assert_int_equal(silver_value_to_parquet(&i4, &i4t, &rule_int, &pv, test_arena, err, sizeof err), -1);

    /* promotions: int -> long, float -> double, decimal(10,2) -> decimal(20,4) */
    parquet_column_def longt = {.name = "c", .type = PARQUET_TYPE_INT64};
    value v = parse(VALUE_INT32, "-7");
    assert_int_equal(silver_value_to_parquet(&i4, &longt, &v, &pv, test_arena, err, sizeof err), 0);
    assert_int_equal(pv.kind, PARQUET_VALUE_INT64);
    assert_int_equal(pv.v.i64, -7);
    column_def f4 = col_of(VALUE_FLOAT32, 700, -1);
    parquet_column_def doublet = {.name = "c", .type = PARQUET_TYPE_DOUBLE};
    v = parse(VALUE_FLOAT32, "0.1");
    assert_int_equal(silver_value_to_parquet(&f4, &doublet, &v, &pv, test_arena, err, sizeof err), 0);
    assert_true(pv.v.f64 == (double)0.1f);
    column_def n = col_of(VALUE_NUMERIC, 1700, numeric_typmod(10, 2));
    parquet_column_def wide = {.name = "c", .type = PARQUET_TYPE_DECIMAL, .precision = 20, .scale = 4};
    v = parse(VALUE_NUMERIC, "-1.25");
    assert_int_equal(silver_value_to_parquet(&n, &wide, &v, &pv, test_arena, err, sizeof err), 0);
    assert_true(dec(pv) == -12500);
    /* anything with text into a string column */
    parquet_column_def stringt = {.name = "c", .type = PARQUET_TYPE_STRING};
    v = parse(VALUE_INT32, "-7");
    assert_int_equal(silver_value_to_parquet(&i4, &stringt, &v, &pv, test_arena, err, sizeof err), 0);
    assert_string_value(pv, "-7");

    /* mismatches */
    column_def by = col_of(VALUE_BYTES, 17, -1);
    v = parse(VALUE_BYTES, "\\x00");
    assert_int_equal(silver_value_to_parquet(&by, &stringt, &v, &pv, test_arena, err, sizeof err), -1);
    column_def tx = col_of(VALUE_TEXT, 25, -1);
    v = parse(VALUE_TEXT, "1");
    assert_int_equal(silver_value_to_parquet(&tx, &longt, &v, &pv, test_arena, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot be written as"));
    parquet_column_def bad_dec = {.name = "c", .type = PARQUET_TYPE_DECIMAL, .precision = 40, .scale = 2};
    v = parse(VALUE_NUMERIC, "1");
    assert_int_equal(silver_value_to_parquet(&n, &bad_dec, &v, &pv, test_arena, err, sizeof err), -1);
    value weird = {.state = 7};
    assert_int_equal(silver_value_to_parquet(&n, &wide, &weird, &pv, test_arena, err, sizeof err), -1);
}

/* Every converted value passes the Parquet writer's own check for its column. */
static void test_values_pass_parquet_check(void **state)
{
    (void)state;
    static const struct { value_kind kind; int32_t typmod; const char *text; } cases[] = {
        {VALUE_BOOL, -1, "t"},
        {VALUE_INT16, -1, "7"},
        {VALUE_INT32, -1, "7"},
        {VALUE_INT64, -1, "7"},
        {VALUE_FLOAT32, -1, "7.5"},
        {VALUE_FLOAT64, -1, "7.5"},
        {VALUE_NUMERIC, 0x40006, "-7.25"},   /* numeric(4,2) */
        {VALUE_NUMERIC, -1, "7.25"},
        {VALUE_MONEY, -1, "$7.25"},
        {VALUE_BYTES, -1, "\\xff00"},
        {VALUE_DATE, -1, "2000-01-01"},
        {VALUE_TIME, -1, "23:59:59.999999"},
        {VALUE_TIMETZ, -1, "23:59:59-08"},
        {VALUE_TIMESTAMP, -1, "2000-01-01 00:00:00"},
        {VALUE_TIMESTAMPTZ, -1, "2000-01-01 00:00:00+00"},
        {VALUE_INTERVAL, -1, "00:00:01"},
        {VALUE_UUID, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
        {VALUE_JSON, -1, "[]"},
        {VALUE_INET, -1, "::1"},
        {VALUE_ARRAY, -1, "{}"},
        {VALUE_TEXT, -1, "x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        column_def c = col_of(cases[i].kind, 0, cases[i].typmod);
        parquet_column_def pc = type_of(&c);
        pc.name = "c";
        parquet_value pv = ok(cases[i].kind, cases[i].typmod, cases[i].text);
        char err[256] = "";
        if (parquet_value_check(&pc, &pv, err, sizeof err) != 0)
            fail_msg("'%s' (kind %d): %s", cases[i].text, cases[i].kind, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_column_types),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_decimals),
        cmocka_unit_test(test_decimal_text_robust),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_bytes_uuid_text),
        cmocka_unit_test(test_nulls_and_unavailable),
        cmocka_unit_test(test_rule_values_and_promotions),
        cmocka_unit_test(test_values_pass_parquet_check),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
