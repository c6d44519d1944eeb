/* Unit tests for capture/pg_types: the OID table, and the strict parsers of every value kind
 * on the text PostgreSQL 15 prints under the capture's session settings (good values, edge
 * values such as infinities, BC dates, negative intervals and money extremes, and garbage). */
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

/* Parse text as kind, failing the test on error. */
static value parse_ok(value_kind kind, const char *text)
{
    value v;
    char err[256] = "";
    if (pg_value_parse(kind, text, strlen(text), &v, test_arena, err, sizeof err) != 0)
        fail_msg("'%s' (kind %d) rejected: %s", text, kind, err);
    assert_int_equal(v.state, VALUE_PRESENT);
    return v;
}

static void parse_bad(value_kind kind, const char *text)
{
    value v;
    char err[256] = "";
    if (pg_value_parse(kind, text, strlen(text), &v, test_arena, err, sizeof err) == 0)
        fail_msg("'%s' (kind %d) accepted", text, kind);
    assert_true(strlen(err) > 0);
}

static void test_oid_table(void **state)
{
    (void)state;
    value_kind elem;
    static const struct { uint32_t oid; const char *name; value_kind kind, elem; } cases[] = {
        {16, "bool", VALUE_BOOL, VALUE_TEXT}, {17, "bytea", VALUE_BYTES, VALUE_TEXT},
        {18, "char", VALUE_TEXT, VALUE_TEXT}, {19, "name", VALUE_TEXT, VALUE_TEXT},
        {20, "int8", VALUE_INT64, VALUE_TEXT}, {21, "int2", VALUE_INT16, VALUE_TEXT},
        {23, "int4", VALUE_INT32, VALUE_TEXT}, {25, "text", VALUE_TEXT, VALUE_TEXT},
        {26, "oid", VALUE_INT32, VALUE_TEXT}, {114, "json", VALUE_JSON, VALUE_TEXT},
        {142, "xml", VALUE_TEXT, VALUE_TEXT}, {700, "float4", VALUE_FLOAT32, VALUE_TEXT},
        {701, "float8", VALUE_FLOAT64, VALUE_TEXT}, {790, "money", VALUE_MONEY, VALUE_TEXT},
        {829, "macaddr", VALUE_INET, VALUE_TEXT}, {869, "inet", VALUE_INET, VALUE_TEXT},
        {650, "cidr", VALUE_INET, VALUE_TEXT}, {774, "macaddr8", VALUE_INET, VALUE_TEXT},
        {1042, "bpchar", VALUE_TEXT, VALUE_TEXT}, {1043, "varchar", VALUE_TEXT, VALUE_TEXT},
        {1082, "date", VALUE_DATE, VALUE_TEXT}, {1083, "time", VALUE_TIME, VALUE_TEXT},
        {1114, "timestamp", VALUE_TIMESTAMP, VALUE_TEXT},
        {1184, "timestamptz", VALUE_TIMESTAMPTZ, VALUE_TEXT},
        {1186, "interval", VALUE_INTERVAL, VALUE_TEXT}, {1266, "timetz", VALUE_TIMETZ, VALUE_TEXT},
        {1560, "bit", VALUE_TEXT, VALUE_TEXT}, {1562, "varbit", VALUE_TEXT, VALUE_TEXT},
        {1700, "numeric", VALUE_NUMERIC, VALUE_TEXT}, {2950, "uuid", VALUE_UUID, VALUE_TEXT},
        {3802, "jsonb", VALUE_JSON, VALUE_TEXT}, {4072, "jsonpath", VALUE_TEXT, VALUE_TEXT},
        {1007, "_int4", VALUE_ARRAY, VALUE_INT32}, {1009, "_text", VALUE_ARRAY, VALUE_TEXT},
        {1016, "_int8", VALUE_ARRAY, VALUE_INT64}, {1231, "_numeric", VALUE_ARRAY, VALUE_NUMERIC},
        {2951, "_uuid", VALUE_ARRAY, VALUE_UUID}, {3807, "_jsonb", VALUE_ARRAY, VALUE_JSON},
        {1185, "_timestamptz", VALUE_ARRAY, VALUE_TIMESTAMPTZ},
        {1015, "_varchar", VALUE_ARRAY, VALUE_TEXT}, {1000, "_bool", VALUE_ARRAY, VALUE_BOOL},
        {1022, "_float8", VALUE_ARRAY, VALUE_FLOAT64}, {1182, "_date", VALUE_ARRAY, VALUE_DATE},
        {1001, "_bytea", VALUE_ARRAY, VALUE_BYTES}, {791, "_money", VALUE_ARRAY, VALUE_MONEY},
        {1187, "_interval", VALUE_ARRAY, VALUE_INTERVAL}, {1270, "_timetz", VALUE_ARRAY, VALUE_TIMETZ},
        {1041, "_inet", VALUE_ARRAY, VALUE_INET}, {4073, "_jsonpath", VALUE_ARRAY, VALUE_TEXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        elem = VALUE_BOOL;
        assert_int_equal(pg_type_kind(cases[i].oid, &elem), cases[i].kind);
        assert_int_equal(elem, cases[i].elem);
        assert_non_null(pg_type_name(cases[i].oid));
        assert_string_equal(pg_type_name(cases[i].oid), cases[i].name);
    }
    /* every oid below 10000 that has a name maps back consistently; unknown ones are text */
    for (uint32_t oid = 0; oid < 10000; oid++) {
        const char *n = pg_type_name(oid);
        value_kind k = pg_type_kind(oid, NULL);
        if (!n)
            assert_int_equal(k, VALUE_TEXT);
        else if (n[0] == '_')
            assert_int_equal(k, VALUE_ARRAY);
    }
    assert_null(pg_type_name(16384));
    assert_int_equal(pg_type_kind(16384, &elem), VALUE_TEXT);
    assert_int_equal(elem, VALUE_TEXT);
    assert_non_null(strstr(pg_types_session_sql, "DateStyle = ISO"));
    assert_non_null(strstr(pg_types_session_sql, "IntervalStyle = postgres"));
    assert_non_null(strstr(pg_types_session_sql, "TimeZone = 'UTC'"));
    assert_non_null(strstr(pg_types_session_sql, "extra_float_digits = 3"));
    assert_non_null(strstr(pg_types_session_sql, "bytea_output = hex"));
}

static void test_bool_int(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(VALUE_BOOL, "t").v.b, 1);
    assert_int_equal(parse_ok(VALUE_BOOL, "f").v.b, 0);
    assert_int_equal(parse_ok(VALUE_BOOL, "true").v.b, 1);
    parse_bad(VALUE_BOOL, "");
    parse_bad(VALUE_BOOL, "yes");
    parse_bad(VALUE_BOOL, "T");

    assert_int_equal(parse_ok(VALUE_INT16, "-32768").v.i, -32768);
    assert_int_equal(parse_ok(VALUE_INT16, "32767").v.i, 32767);
    parse_bad(VALUE_INT16, "32768");
    parse_bad(VALUE_INT16, "-32769");
    assert_int_equal(parse_ok(VALUE_INT32, "-2147483648").v.i, INT32_MIN);
    assert_int_equal(parse_ok(VALUE_INT32, "4294967295").v.i, 4294967295LL);   /* oid */
    parse_bad(VALUE_INT32, "4294967296");
    parse_bad(VALUE_INT32, "-2147483649");
    assert_true(parse_ok(VALUE_INT64, "-9223372036854775808").v.i == INT64_MIN);
    assert_true(parse_ok(VALUE_INT64, "9223372036854775807").v.i == INT64_MAX);
    assert_int_equal(parse_ok(VALUE_INT64, "0").v.i, 0);
    parse_bad(VALUE_INT64, "9223372036854775808");
    parse_bad(VALUE_INT64, "-9223372036854775809");
    parse_bad(VALUE_INT64, "99999999999999999999999");
    parse_bad(VALUE_INT64, "");
    parse_bad(VALUE_INT64, "-");
    parse_bad(VALUE_INT64, "+1");
    parse_bad(VALUE_INT64, " 1");
    parse_bad(VALUE_INT64, "1 ");
    parse_bad(VALUE_INT64, "1.0");
    parse_bad(VALUE_INT64, "0x10");

    /* not NUL-terminated: only len bytes count */
    value v;
    char err[128];
    assert_int_equal(pg_value_parse(VALUE_INT32, "12345", 3, &v, test_arena, err, sizeof err), 0);
    assert_int_equal(v.v.i, 123);
    assert_int_equal(v.len, 3);
}

static void test_float_numeric(void **state)
{
    (void)state;
    assert_true(parse_ok(VALUE_FLOAT64, "0.1").v.f == 0.1);
    assert_true(parse_ok(VALUE_FLOAT64, "1e+100").v.f == 1e100);
    assert_true(parse_ok(VALUE_FLOAT64, "-1.2345678901234567e-05").v.f == -1.2345678901234567e-05);
    assert_true(parse_ok(VALUE_FLOAT64, "1.2345678901234568e+17").v.f == 1.2345678901234568e+17);
    assert_true(isnan(parse_ok(VALUE_FLOAT64, "NaN").v.f));
    assert_true(isinf(parse_ok(VALUE_FLOAT64, "Infinity").v.f) && parse_ok(VALUE_FLOAT64, "Infinity").v.f > 0);
    assert_true(isinf(parse_ok(VALUE_FLOAT64, "-Infinity").v.f) && parse_ok(VALUE_FLOAT64, "-Infinity").v.f < 0);
    assert_true(parse_ok(VALUE_FLOAT32, "1.5").v.f == 1.5);
    assert_true(parse_ok(VALUE_FLOAT32, "3.4028235e+38").v.f == (double)3.4028235e+38f);
    assert_true(parse_ok(VALUE_FLOAT32, "0.1").v.f == (double)0.1f);
    assert_true(isnan(parse_ok(VALUE_FLOAT32, "NaN").v.f));
    parse_bad(VALUE_FLOAT32, "1e39");
    parse_bad(VALUE_FLOAT64, "1e400");
    parse_bad(VALUE_FLOAT64, "inf");
    parse_bad(VALUE_FLOAT64, "nan");
    parse_bad(VALUE_FLOAT64, "0x1p3");
    parse_bad(VALUE_FLOAT64, "1.");
    parse_bad(VALUE_FLOAT64, ".5");
    parse_bad(VALUE_FLOAT64, "1e");
    parse_bad(VALUE_FLOAT64, "");
    parse_bad(VALUE_FLOAT64, "1,5");

    value v = parse_ok(VALUE_NUMERIC, "-12.3400");
    assert_int_equal(v.len, 8);
    assert_memory_equal(v.s, "-12.3400", 8);
    parse_ok(VALUE_NUMERIC, "0");
    parse_ok(VALUE_NUMERIC, "123456789012345678901234567890.000000000000001");
    parse_ok(VALUE_NUMERIC, "NaN");
    parse_ok(VALUE_NUMERIC, "Infinity");
    parse_ok(VALUE_NUMERIC, "-Infinity");
    parse_bad(VALUE_NUMERIC, "1e5");
    parse_bad(VALUE_NUMERIC, "1.");
    parse_bad(VALUE_NUMERIC, "--1");
    parse_bad(VALUE_NUMERIC, "abc");
    parse_bad(VALUE_NUMERIC, "");
}

static void test_money(void **state)
{
    (void)state;
    value v = parse_ok(VALUE_MONEY, "$1,234.56");
    assert_int_equal(v.v.i, 123456);
    assert_int_equal(v.len, 9);
    assert_int_equal(parse_ok(VALUE_MONEY, "-$1.00").v.i, -100);
    assert_int_equal(parse_ok(VALUE_MONEY, "$0.00").v.i, 0);
    assert_int_equal(parse_ok(VALUE_MONEY, "$1.5").v.i, 150);
    assert_int_equal(parse_ok(VALUE_MONEY, "$12").v.i, 1200);
    assert_int_equal(parse_ok(VALUE_MONEY, "-$1,234,567.89").v.i, -123456789);
    assert_true(parse_ok(VALUE_MONEY, "$92,233,720,368,547,758.07").v.i == INT64_MAX);
    assert_true(parse_ok(VALUE_MONEY, "-$92,233,720,368,547,758.08").v.i == INT64_MIN);
    parse_bad(VALUE_MONEY, "$92,233,720,368,547,758.08");
    parse_bad(VALUE_MONEY, "$1,23.00");
    parse_bad(VALUE_MONEY, "$1234,567.00");
    parse_bad(VALUE_MONEY, "$,123.00");
    parse_bad(VALUE_MONEY, "$1.234");
    parse_bad(VALUE_MONEY, "$1.");
    parse_bad(VALUE_MONEY, "$");
    parse_bad(VALUE_MONEY, "");
    parse_bad(VALUE_MONEY, "€1.00");
    parse_bad(VALUE_MONEY, "$1.00 ");
}

static void test_bytea(void **state)
{
    (void)state;
    value v = parse_ok(VALUE_BYTES, "\\x00ff10Ab");
    assert_int_equal(v.len, 4);
    assert_memory_equal(v.s, "\x00\xff\x10\xab", 4);
    v = parse_ok(VALUE_BYTES, "\\x");
    assert_int_equal(v.len, 0);
    assert_non_null(v.s);
    parse_bad(VALUE_BYTES, "\\x0");
    parse_bad(VALUE_BYTES, "\\xzz");
    parse_bad(VALUE_BYTES, "00ff");
    parse_bad(VALUE_BYTES, "\\000");   /* escape format is not what we ask for */
    parse_bad(VALUE_BYTES, "");
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(VALUE_DATE, "1970-01-01").v.i, 0);
    assert_int_equal(parse_ok(VALUE_DATE, "2024-02-29").v.i, 19782);
    assert_int_equal(parse_ok(VALUE_DATE, "1969-12-31").v.i, -1);
    assert_int_equal(parse_ok(VALUE_DATE, "2000-01-01").v.i, 10957);
    /* 1 BC is year 0 (a leap year); 0001-01-01 is 719162 days before 1970 */
    assert_int_equal(parse_ok(VALUE_DATE, "0001-01-01").v.i, -719162);
    assert_int_equal(parse_ok(VALUE_DATE, "0001-12-31 BC").v.i, -719163);
    assert_int_equal(parse_ok(VALUE_DATE, "0001-02-29 BC").v.i, -719162 - 366 + 59);
    assert_int_equal(parse_ok(VALUE_DATE, "4714-11-24 BC").v.i, -2440588);   /* Julian day 0 */
    assert_int_equal(parse_ok(VALUE_DATE, "5874897-12-31").v.i, 2145042905);   /* from PostgreSQL */
    assert_int_equal(parse_ok(VALUE_DATE, "0044-03-15 BC").v.i, -735160);
    assert_true(parse_ok(VALUE_DATE, "infinity").v.i == INT64_MAX);
    assert_true(parse_ok(VALUE_DATE, "-infinity").v.i == INT64_MIN);
    parse_bad(VALUE_DATE, "2023-02-29");
    parse_bad(VALUE_DATE, "2024-13-01");
    parse_bad(VALUE_DATE, "2024-00-10");
    parse_bad(VALUE_DATE, "2024-04-31");
    parse_bad(VALUE_DATE, "0000-01-01");
    parse_bad(VALUE_DATE, "24-01-01");
    parse_bad(VALUE_DATE, "2024-1-01");
    parse_bad(VALUE_DATE, "2024-01-01 AD");
    parse_bad(VALUE_DATE, "2024-01-01 BC ");
    parse_bad(VALUE_DATE, "Infinity");
    parse_bad(VALUE_DATE, "");
}

static void test_times(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(VALUE_TIME, "00:00:00").v.i, 0);
    assert_int_equal(parse_ok(VALUE_TIME, "12:34:56.789").v.i, 45296789000LL);
    assert_int_equal(parse_ok(VALUE_TIME, "23:59:59.999999").v.i, 86399999999LL);
    assert_int_equal(parse_ok(VALUE_TIME, "24:00:00").v.i, 86400000000LL);
    parse_bad(VALUE_TIME, "24:00:01");
    parse_bad(VALUE_TIME, "12:60:00");
    parse_bad(VALUE_TIME, "12:00:60");
    parse_bad(VALUE_TIME, "12:00:00.1234567");
    parse_bad(VALUE_TIME, "12:00:00.");
    parse_bad(VALUE_TIME, "12:00");
    parse_bad(VALUE_TIME, "12:00:00+00");   /* a zone is timetz */

    value v = parse_ok(VALUE_TIMETZ, "12:34:56.789+05:30");
    assert_int_equal(v.v.i, 45296789000LL);
    assert_int_equal(v.tz_offset, 5 * 3600 + 30 * 60);
    v = parse_ok(VALUE_TIMETZ, "00:00:00-15:59");
    assert_int_equal(v.tz_offset, -(15 * 3600 + 59 * 60));
    v = parse_ok(VALUE_TIMETZ, "01:02:03+00");
    assert_int_equal(v.tz_offset, 0);
    v = parse_ok(VALUE_TIMETZ, "01:02:03+00:53:28");
    assert_int_equal(v.tz_offset, 53 * 60 + 28);
    parse_bad(VALUE_TIMETZ, "01:02:03");
    parse_bad(VALUE_TIMETZ, "01:02:03+16");
    parse_bad(VALUE_TIMETZ, "01:02:03+1");
    parse_bad(VALUE_TIMETZ, "01:02:03 UTC");
}

static void test_timestamps(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(VALUE_TIMESTAMP, "1970-01-01 00:00:00").v.i, 0);
    assert_int_equal(parse_ok(VALUE_TIMESTAMP, "2024-01-02 03:04:05.678901").v.i, 1704164645678901LL);
    assert_int_equal(parse_ok(VALUE_TIMESTAMP, "1969-12-31 23:59:59.5").v.i, -500000);
    assert_int_equal(parse_ok(VALUE_TIMESTAMP, "0044-03-15 12:00:00 BC").v.i,
                     -735160LL * 86400000000LL + 43200000000LL);
    /* PostgreSQL counts from 2000, so its last 30 years (to 294276) do not fit Unix microseconds:
     * they saturate below infinity */
    assert_true(parse_ok(VALUE_TIMESTAMP, "294246-12-31 23:59:59.999999").v.i ==
                (106762939LL - 10958) * 86400000000LL + 86399999999LL);
    assert_true(parse_ok(VALUE_TIMESTAMP, "294276-12-31 23:59:59.999999").v.i == INT64_MAX - 1);
    assert_true(parse_ok(VALUE_TIMESTAMPTZ, "294276-12-31 23:59:59.999999+00").v.i == INT64_MAX - 1);
    parse_bad(VALUE_TIMESTAMP, "1294276-12-31 23:59:59.999999");
    assert_true(parse_ok(VALUE_TIMESTAMP, "infinity").v.i == INT64_MAX);
    assert_true(parse_ok(VALUE_TIMESTAMP, "-infinity").v.i == INT64_MIN);
    parse_bad(VALUE_TIMESTAMP, "2024-01-02 03:04:05+00");
    parse_bad(VALUE_TIMESTAMP, "2024-01-02T03:04:05");
    parse_bad(VALUE_TIMESTAMP, "2024-01-02");
    parse_bad(VALUE_TIMESTAMP, "2024-01-02 03:04");
    parse_bad(VALUE_TIMESTAMP, "9999999-01-01 00:00:00");

    assert_int_equal(parse_ok(VALUE_TIMESTAMPTZ, "2024-01-02 01:04:05+00").v.i, 1704157445000000LL);
    assert_int_equal(parse_ok(VALUE_TIMESTAMPTZ, "2024-01-02 03:04:05+02").v.i, 1704157445000000LL);
    assert_int_equal(parse_ok(VALUE_TIMESTAMPTZ, "2024-01-01 20:04:05-05:00").v.i, 1704157445000000LL);
    assert_int_equal(parse_ok(VALUE_TIMESTAMPTZ, "1970-01-01 00:53:28+00:53:28").v.i, 0);
    assert_int_equal(parse_ok(VALUE_TIMESTAMPTZ, "0001-01-01 00:00:00+00 BC").v.i, -719528LL * 86400000000LL);
    assert_int_equal(parse_ok(VALUE_TIMESTAMPTZ, "0044-03-15 12:00:00.5+00 BC").v.i,
                     -735160LL * 86400000000LL + 43200500000LL);
    assert_true(parse_ok(VALUE_TIMESTAMPTZ, "infinity").v.i == INT64_MAX);
    assert_true(parse_ok(VALUE_TIMESTAMPTZ, "-infinity").v.i == INT64_MIN);
    parse_bad(VALUE_TIMESTAMPTZ, "2024-01-02 03:04:05");
    parse_bad(VALUE_TIMESTAMPTZ, "2024-01-02 03:04:05 BC+00");
    parse_bad(VALUE_TIMESTAMPTZ, "2024-01-02 03:04:05+00 UTC");
    parse_bad(VALUE_TIMESTAMPTZ, "garbage");
}

static void test_intervals(void **state)
{
    (void)state;
    value v = parse_ok(VALUE_INTERVAL, "1 year 2 mons 3 days 04:05:06.789");
    assert_int_equal(v.v.interval.months, 14);
    assert_int_equal(v.v.interval.days, 3);
    assert_int_equal(v.v.interval.us, 14706789000LL);
    v = parse_ok(VALUE_INTERVAL, "-1 days +02:00:00");
    assert_int_equal(v.v.interval.months, 0);
    assert_int_equal(v.v.interval.days, -1);
    assert_int_equal(v.v.interval.us, 7200000000LL);
    v = parse_ok(VALUE_INTERVAL, "-1 years -2 mons +3 days -04:05:06");
    assert_int_equal(v.v.interval.months, -14);
    assert_int_equal(v.v.interval.days, 3);
    assert_int_equal(v.v.interval.us, -14706000000LL);
    v = parse_ok(VALUE_INTERVAL, "00:00:00");
    assert_int_equal(v.v.interval.months + v.v.interval.days, 0);
    assert_int_equal(v.v.interval.us, 0);
    assert_int_equal(parse_ok(VALUE_INTERVAL, "-00:00:01").v.interval.us, -1000000);
    assert_int_equal(parse_ok(VALUE_INTERVAL, "1 day").v.interval.days, 1);
    assert_int_equal(parse_ok(VALUE_INTERVAL, "1 mon").v.interval.months, 1);
    assert_int_equal(parse_ok(VALUE_INTERVAL, "2 years").v.interval.months, 24);
    assert_int_equal(parse_ok(VALUE_INTERVAL, "100:00:00").v.interval.us, 360000000000LL);
    v = parse_ok(VALUE_INTERVAL, "-178956970 years -8 mons -2147483648 days");
    assert_int_equal(v.v.interval.months, INT32_MIN);
    assert_int_equal(v.v.interval.days, INT32_MIN);
    assert_true(parse_ok(VALUE_INTERVAL, "-2562047788:00:54.775808").v.interval.us == INT64_MIN);
    assert_true(parse_ok(VALUE_INTERVAL, "2562047788:00:54.775807").v.interval.us == INT64_MAX);
    parse_bad(VALUE_INTERVAL, "2562047788:00:54.775808");
    parse_bad(VALUE_INTERVAL, "178956971 years");
    parse_bad(VALUE_INTERVAL, "2147483648 days");
    parse_bad(VALUE_INTERVAL, "");
    parse_bad(VALUE_INTERVAL, "@ 1 day");
    parse_bad(VALUE_INTERVAL, "1 day ago");
    parse_bad(VALUE_INTERVAL, "3 days 1 year");   /* out of order */
    parse_bad(VALUE_INTERVAL, "1 days 2 days");
    parse_bad(VALUE_INTERVAL, "1 week");
    parse_bad(VALUE_INTERVAL, "1  day");
    parse_bad(VALUE_INTERVAL, "1 day ");
    parse_bad(VALUE_INTERVAL, "01:02:03 1 day");
    parse_bad(VALUE_INTERVAL, "P1D");
    parse_bad(VALUE_INTERVAL, "1:2:3");
}

static void test_uuid(void **state)
{
    (void)state;
    static const uint8_t bytes[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                                      0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
    value v = parse_ok(VALUE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_memory_equal(v.v.uuid, bytes, 16);
    assert_int_equal(v.len, 36);
    v = parse_ok(VALUE_UUID, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
    assert_memory_equal(v.v.uuid, bytes, 16);
    assert_memory_equal(v.s, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 36);
    parse_bad(VALUE_UUID, "a0eebc999c0b4ef8bb6d6bb9bd380a11");
    parse_bad(VALUE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g");
    parse_bad(VALUE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1");
    parse_bad(VALUE_UUID, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}");
}

static void test_json_inet_array_text(void **state)
{
    (void)state;
    parse_ok(VALUE_JSON, "{\"a\": [1, 2.5e3, null, \"x\\u00e9\", true, false, {}], \"b\": {\"c\": -0.5}}");
    parse_ok(VALUE_JSON, "[]");
    parse_ok(VALUE_JSON, "\"s\"");
    parse_ok(VALUE_JSON, " 42 ");
    parse_bad(VALUE_JSON, "");
    parse_bad(VALUE_JSON, "{");
    parse_bad(VALUE_JSON, "{\"a\" 1}");
    parse_bad(VALUE_JSON, "{\"a\": 1,}");
    parse_bad(VALUE_JSON, "[1 2]");
    parse_bad(VALUE_JSON, "[1]]");
    parse_bad(VALUE_JSON, "01");
    parse_bad(VALUE_JSON, "\"\\x\"");
    parse_bad(VALUE_JSON, "tru");
    parse_bad(VALUE_JSON, "{1: 2}");
    /* deep nesting beyond the local stack */
    size_t depth = 10000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    parse_ok(VALUE_JSON, deep);
    deep[2 * depth - 1] = '\0';
    parse_bad(VALUE_JSON, deep);
    free(deep);

    parse_ok(VALUE_INET, "192.168.0.1/24");
    parse_ok(VALUE_INET, "::1");
    parse_ok(VALUE_INET, "08:00:2b:01:02:03");
    parse_bad(VALUE_INET, "");
    parse_bad(VALUE_INET, "host name");

    parse_ok(VALUE_ARRAY, "{1,2,NULL}");
    parse_ok(VALUE_ARRAY, "{}");
    parse_ok(VALUE_ARRAY, "{{\"a b\",\"c\\\"d\"},{NULL,\"}\"}}");
    parse_ok(VALUE_ARRAY, "[0:1]={1,2}");
    parse_ok(VALUE_ARRAY, "{(1,2),(0,0);(3,3),(1,1)}");
    parse_bad(VALUE_ARRAY, "");
    parse_bad(VALUE_ARRAY, "{1,2");
    parse_bad(VALUE_ARRAY, "{1,2}}");
    parse_bad(VALUE_ARRAY, "{\"a}");
    parse_bad(VALUE_ARRAY, "1,2");
    parse_bad(VALUE_ARRAY, "[0:1]{1,2}");

    value v = parse_ok(VALUE_TEXT, "anything at all");
    assert_int_equal(v.len, 15);
    v = parse_ok(VALUE_TEXT, "");
    assert_int_equal(v.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oid_table),
        cmocka_unit_test(test_bool_int),
        cmocka_unit_test(test_float_numeric),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_bytea),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_intervals),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_json_inet_array_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
