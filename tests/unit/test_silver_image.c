/* Unit tests for sinks/lake/silver_image: exact round trips of row images for every value kind
 * (values parsed from PostgreSQL's text as the capture makes them, values a rule set without
 * text, null and unavailable values, bytes with NULs), images read under a changed table
 * definition (columns renamed, added, dropped, reordered, of another kind), and malformed
 * images: every truncation and byte mutations must fail cleanly (the ASan build catches
 * overreads: each image is decoded from a buffer of exactly its size). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture/pg_types.h"
#include "sinks/lake/silver_image.h"

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

#define MAX_COLS 256

typedef struct test_table {
    table_def t;
    column_def cols[MAX_COLS];
    char names[MAX_COLS][16];
} test_table;

static void table_init(test_table *tt, int n, const char *const *names, const value_kind *kinds)
{
    memset(tt, 0, sizeof *tt);
    tt->t.ncols = n;
    tt->t.cols = tt->cols;
    tt->t.name = "t";
    tt->t.schema = "public";
    for (int i = 0; i < n; i++) {
        snprintf(tt->names[i], sizeof tt->names[i], "%s", names[i]);
        tt->cols[i].name = tt->names[i];
        tt->cols[i].kind = kinds[i];
        tt->cols[i].typmod = -1;
    }
}

static value parse(value_kind kind, const char *text)
{
    value v;
    char err[256] = "";
    if (pg_value_parse(kind, text, strlen(text), &v, test_arena, err, sizeof err) != 0)
        fail_msg("'%s' (kind %d) rejected: %s", text, kind, err);
    return v;
}

static void assert_same(value_kind kind, const value *a, const value *b)
{
    assert_int_equal(a->state, b->state);
    if (a->state != VALUE_PRESENT) {
        assert_null(b->s);
        return;
    }
    assert_int_equal(a->s == NULL, b->s == NULL);
    if (a->s) {
        assert_int_equal(a->len, b->len);
        assert_memory_equal(a->s, b->s, a->len);
        assert_int_equal(b->s[b->len], '\0');
        assert_ptr_not_equal(a->s, b->s);
    } else {
        assert_int_equal(b->len, 0);
    }
    switch (kind) {
    case VALUE_BOOL: assert_int_equal(a->v.b, b->v.b); break;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_MONEY:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
    case VALUE_TIMESTAMPTZ: assert_true(a->v.i == b->v.i); break;
    case VALUE_TIMETZ:
        assert_true(a->v.i == b->v.i);
        assert_int_equal(a->tz_offset, b->tz_offset);
        break;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64: assert_memory_equal(&a->v.f, &b->v.f, sizeof a->v.f); break;
    case VALUE_INTERVAL:
        assert_int_equal(a->v.interval.months, b->v.interval.months);
        assert_int_equal(a->v.interval.days, b->v.interval.days);
        assert_true(a->v.interval.us == b->v.interval.us);
        break;
    case VALUE_UUID: assert_memory_equal(a->v.uuid, b->v.uuid, 16); break;
    default: break;
    }
}

/* Decode from a heap copy of exactly len bytes (so ASan sees any overread). */
static int decode_exact(const table_def *t, const void *data, size_t len, value *vals, char *err, size_t errlen)
{
    void *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, data, len);
    err[0] = '\0';
    int rc = silver_image_decode(t, copy, len, vals, test_arena, err, errlen);
    free(copy);
    return rc;
}

static void round_trip(const table_def *t, const value *vals)
{
    buf b = BUF_INIT;
    char err[256] = "";
    buf_puts(&b, "prefix");
    if (silver_image_encode(t, vals, &b, err, sizeof err) != 0)
        fail_msg("encode: %s", err);
    assert_memory_equal(b.data, "prefix", 6);
    value *out = calloc((size_t)(t->ncols ? t->ncols : 1), sizeof *out);
    if (decode_exact(t, b.data + 6, b.len - 6, out, err, sizeof err) != 0)
        fail_msg("decode: %s", err);
    for (int i = 0; i < t->ncols; i++)
        assert_same(t->cols[i].kind, &vals[i], &out[i]);
    free(out);
    buf_free(&b);
}

/* Every kind, with the text PostgreSQL prints. */
static const struct { value_kind kind; const char *name, *text; } all_kinds[] = {
    {VALUE_TEXT, "c_text", "héllo, world"},
    {VALUE_BOOL, "c_bool", "t"},
    {VALUE_INT16, "c_int2", "-32768"},
    {VALUE_INT32, "c_oid", "4294967295"},
    {VALUE_INT64, "c_int8", "-9223372036854775808"},
    {VALUE_FLOAT32, "c_float4", "-1.5"},
    {VALUE_FLOAT64, "c_float8", "NaN"},
    {VALUE_NUMERIC, "c_numeric", "-12.3400"},
    {VALUE_MONEY, "c_money", "-$92,233,720,368,547,758.08"},
    {VALUE_BYTES, "c_bytea", "\\x00ff000041"},
    {VALUE_DATE, "c_date", "-infinity"},
    {VALUE_TIME, "c_time", "24:00:00"},
    {VALUE_TIMETZ, "c_timetz", "12:34:56.5-03:30"},
    {VALUE_TIMESTAMP, "c_ts", "infinity"},
    {VALUE_TIMESTAMPTZ, "c_tstz", "2024-01-01 00:00:00.000001+00"},
    {VALUE_INTERVAL, "c_interval", "-1 years -2 mons +3 days -04:05:06.000007"},
    {VALUE_UUID, "c_uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"},
    {VALUE_JSON, "c_json", "{\"a\": [1, \"\\u0000\"]}"},
    {VALUE_INET, "c_inet", "::ffff:1.2.3.4/128"},
    {VALUE_ARRAY, "c_array", "{\"a\\\"b\",NULL}"},
};
#define N_ALL (sizeof all_kinds / sizeof all_kinds[0])

static void all_kinds_table(test_table *tt, value *vals)
{
    const char *names[N_ALL];
    value_kind kinds[N_ALL];
    for (size_t i = 0; i < N_ALL; i++) {
        names[i] = all_kinds[i].name;
        kinds[i] = all_kinds[i].kind;
        if (vals)
            vals[i] = parse(all_kinds[i].kind, all_kinds[i].text);
    }
    table_init(tt, (int)N_ALL, names, kinds);
}

static void test_round_trip_all_kinds(void **state)
{
    (void)state;
    static test_table tt;
    value vals[N_ALL];
    all_kinds_table(&tt, vals);
    assert_int_equal(vals[9].len, 5);   /* the bytea's NULs */
    round_trip(&tt.t, vals);

    /* second values of every kind */
    static const char *const second[N_ALL] = {
        "", "f", "32767", "-2147483648", "9223372036854775807", "3.40282347e+38", "-0", "NaN", "$0.00", "\\x",
        "4713-01-01 BC", "00:00:00", "00:00:00+14:59", "1999-12-31 23:59:59.999999", "-infinity", "00:00:00",
        "00000000-0000-0000-0000-000000000000", "null", "08:00:2b:01:02:03", "[0:1]={1,2}",
    };
    for (size_t i = 0; i < N_ALL; i++)
        vals[i] = parse(all_kinds[i].kind, second[i]);
    round_trip(&tt.t, vals);

    /* null and unavailable, every kind */
    for (size_t i = 0; i < N_ALL; i++) {
        memset(&vals[i], 0, sizeof vals[i]);
        vals[i].state = i % 2 ? VALUE_IS_NULL : VALUE_UNAVAILABLE;
    }
    round_trip(&tt.t, vals);
    for (size_t i = 0; i < N_ALL; i++)
        vals[i].state = i % 2 ? VALUE_UNAVAILABLE : VALUE_IS_NULL;
    round_trip(&tt.t, vals);

    /* an empty table */
    test_table empty;
    table_init(&empty, 0, NULL, NULL);
    round_trip(&empty.t, vals);
}

/* Values a rule set (rules_value.c): numbers, dates and intervals without text, empty text. */
static void test_rule_values(void **state)
{
    (void)state;
    static const char *const names[] = {"b", "i", "f", "d", "iv", "t", "ts", "bytes"};
    static const value_kind kinds[] = {VALUE_BOOL, VALUE_INT64,  VALUE_FLOAT64,   VALUE_DATE,
                                       VALUE_INTERVAL, VALUE_TEXT, VALUE_TIMESTAMP, VALUE_BYTES};
    test_table tt;
    table_init(&tt, 8, names, kinds);
    value vals[8];
    memset(vals, 0, sizeof vals);
    vals[0].v.b = 1;
    vals[1].v.i = -1;
    vals[2].v.f = -0.0;
    vals[3].v.i = INT64_MAX;
    vals[4].v.interval.us = INT64_MIN;
    vals[5].s = "";
    vals[6].v.i = 0;
    vals[7].s = "\0\0\0";
    vals[7].len = 3;
    round_trip(&tt.t, vals);
}

static void test_schema_changes(void **state)
{
    (void)state;
    static const char *const old_names[] = {"a", "b", "c", "d"};
    static const value_kind old_kinds[] = {VALUE_INT32, VALUE_TEXT, VALUE_DATE, VALUE_JSON};
    static const char *const new_names[] = {"d", "new_col", "a", "renamed_b"};
    static const value_kind new_kinds[] = {VALUE_JSON, VALUE_INT64, VALUE_INT32, VALUE_TEXT};
    test_table old, neu;
    table_init(&old, 4, old_names, old_kinds);
    table_init(&neu, 4, new_names, new_kinds);
    value vals[4] = {parse(VALUE_INT32, "42"), parse(VALUE_TEXT, "bee"), parse(VALUE_DATE, "2024-02-29"),
                     parse(VALUE_JSON, "{\"k\": true}")};
    buf b = BUF_INIT;
    char err[256];
    assert_int_equal(silver_image_encode(&old.t, vals, &b, err, sizeof err), 0);
    value out[4];
    memset(out, 0xa5, sizeof out);
    assert_int_equal(decode_exact(&neu.t, b.data, b.len, out, err, sizeof err), 0);
    assert_same(VALUE_JSON, &vals[3], &out[0]);
    assert_int_equal(out[1].state, VALUE_IS_NULL);   /* added */
    assert_null(out[1].s);
    assert_same(VALUE_INT32, &vals[0], &out[2]);
    assert_int_equal(out[3].state, VALUE_IS_NULL);   /* renamed: the old name is gone */
    buf_free(&b);
}

static void test_kind_changes(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", "c", "f", "g", "u"};
    static const value_kind old_kinds[] = {VALUE_INT32, VALUE_TEXT, VALUE_BYTES, VALUE_INT32, VALUE_TEXT, VALUE_TEXT};
    static const value_kind new_kinds[] = {VALUE_INT64, VALUE_DATE, VALUE_TEXT, VALUE_INT64, VALUE_INT32, VALUE_UUID};
    test_table old, neu;
    table_init(&old, 6, names, old_kinds);
    table_init(&neu, 6, names, new_kinds);
    value vals[6] = {parse(VALUE_INT32, "42"), parse(VALUE_TEXT, "2024-02-29"), parse(VALUE_BYTES, "\\x01ab00"),
                     {.state = VALUE_IS_NULL}, {.state = VALUE_UNAVAILABLE},
                     parse(VALUE_TEXT, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")};
    buf b = BUF_INIT;
    char err[256];
    assert_int_equal(silver_image_encode(&old.t, vals, &b, err, sizeof err), 0);
    value out[6];
    if (decode_exact(&neu.t, b.data, b.len, out, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(out[0].state, VALUE_PRESENT);
    assert_int_equal(out[0].v.i, 42);
    assert_int_equal(out[0].len, 2);
    assert_memory_equal(out[0].s, "42", 2);
    assert_int_equal(out[1].v.i, 19782);
    assert_int_equal(out[2].len, 8);   /* bytea as its hex text */
    assert_memory_equal(out[2].s, "\\x01ab00", 8);
    assert_int_equal(out[3].state, VALUE_IS_NULL);
    assert_int_equal(out[4].state, VALUE_UNAVAILABLE);
    assert_memory_equal(out[5].v.uuid, "\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16);
    assert_string_equal(out[5].s, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    buf_free(&b);

    /* text that is not a value of the new kind; a value without text (set by a rule) */
    static const char *const one[] = {"col_x"};
    static const value_kind text_kind[] = {VALUE_TEXT}, int_kind[] = {VALUE_INT32}, i64_kind[] = {VALUE_INT64},
                            interval_kind[] = {VALUE_INTERVAL};
    test_table t_text, t_int, t_i64, t_interval;
    table_init(&t_text, 1, one, text_kind);
    table_init(&t_int, 1, one, int_kind);
    table_init(&t_i64, 1, one, i64_kind);
    table_init(&t_interval, 1, one, interval_kind);
    value v = parse(VALUE_TEXT, "abc");
    b = (buf)BUF_INIT;
    assert_int_equal(silver_image_encode(&t_text.t, &v, &b, err, sizeof err), 0);
    assert_int_equal(decode_exact(&t_int.t, b.data, b.len, out, err, sizeof err), -1);
    assert_non_null(strstr(err, "col_x"));
    assert_non_null(strstr(err, "text"));
    buf_free(&b);
    value rule = {.state = VALUE_PRESENT, .v.i = 7};
    assert_int_equal(silver_image_encode(&t_int.t, &rule, &b, err, sizeof err), 0);
    assert_int_equal(decode_exact(&t_i64.t, b.data, b.len, out, err, sizeof err), -1);
    assert_non_null(strstr(err, "col_x"));
    assert_non_null(strstr(err, "no text"));
    buf_free(&b);
    value rule_iv = {.state = VALUE_PRESENT};
    rule_iv.v.interval.us = 1000000;
    assert_int_equal(silver_image_encode(&t_interval.t, &rule_iv, &b, err, sizeof err), 0);
    assert_int_equal(decode_exact(&t_text.t, b.data, b.len, out, err, sizeof err), -1);
    assert_non_null(strstr(err, "col_x"));
    buf_free(&b);
}

/* More columns than the decoder keeps on its stack; read back in reverse order. */
static void test_many_columns(void **state)
{
    (void)state;
    static test_table tt, rev;
    static const char *names[200], *rnames[200];
    static char store[200][8];
    value_kind kinds[200];
    value vals[200], out[200];
    for (int i = 0; i < 200; i++) {
        snprintf(store[i], sizeof store[i], "k%d", i);
        names[i] = store[i];
        rnames[199 - i] = store[i];
        kinds[i] = i % 3 ? VALUE_INT64 : VALUE_TEXT;
        char text[16];
        snprintf(text, sizeof text, "%d", i * 1000 - 7);
        vals[i] = parse(kinds[i], arena_strndup(test_arena, text, strlen(text)));
    }
    table_init(&tt, 200, names, kinds);
    round_trip(&tt.t, vals);
    value_kind rkinds[200];
    for (int i = 0; i < 200; i++)
        rkinds[199 - i] = kinds[i];
    table_init(&rev, 200, rnames, rkinds);
    buf b = BUF_INIT;
    char err[256];
    assert_int_equal(silver_image_encode(&tt.t, vals, &b, err, sizeof err), 0);
    assert_int_equal(decode_exact(&rev.t, b.data, b.len, out, err, sizeof err), 0);
    for (int i = 0; i < 200; i++)
        assert_same(kinds[i], &vals[i], &out[199 - i]);
    buf_free(&b);
}

static void test_truncated_and_garbage(void **state)
{
    (void)state;
    static test_table tt;
    value vals[N_ALL], out[N_ALL];
    all_kinds_table(&tt, vals);
    vals[3].state = VALUE_IS_NULL;
    vals[4].state = VALUE_UNAVAILABLE;
    buf b = BUF_INIT;
    char err[256];
    assert_int_equal(silver_image_encode(&tt.t, vals, &b, err, sizeof err), 0);
    assert_int_equal(decode_exact(&tt.t, b.data, b.len, out, err, sizeof err), 0);
    for (size_t n = 0; n < b.len; n++) {
        if (decode_exact(&tt.t, b.data, n, out, err, sizeof err) != -1)
            fail_msg("a truncation to %zu of %zu bytes was accepted", n, b.len);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(silver_image_decode(&tt.t, NULL, 0, out, test_arena, err, sizeof err), -1);

    /* one byte more */
    buf longer = BUF_INIT;
    buf_append(&longer, b.data, b.len);
    buf_append(&longer, "", 1);
    assert_int_equal(decode_exact(&tt.t, longer.data, longer.len, out, err, sizeof err), -1);
    assert_non_null(strstr(err, "after"));
    buf_free(&longer);

    /* every byte replaced by a few values: success or a clean failure, never a crash */
    char *m = malloc(b.len);
    static const uint8_t subs[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff};
    int failures = 0;
    for (size_t i = 0; i < b.len; i++)
        for (size_t k = 0; k < sizeof subs; k++) {
            memcpy(m, b.data, b.len);
            m[i] = (char)subs[k];
            failures += decode_exact(&tt.t, m, b.len, out, err, sizeof err) < 0;
        }
    assert_true(failures > 0);
    free(m);
    buf_free(&b);

    /* hand-made garbage */
    static const char *const one[] = {"x"};
    static const value_kind text_kind[] = {VALUE_TEXT};
    test_table t1;
    table_init(&t1, 1, one, text_kind);
    static const struct { const char *bytes; size_t len; const char *why; } bad[] = {
        {"\x02\x00", 2, "version"},
        {"\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11, "columns"},      /* 2^64-1 columns */
        {"\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11, "truncated"},    /* a 65-bit varint */
        {"\x01\x01\x01x\x63\x00", 6, "malformed"},                           /* kind 99 */
        {"\x01\x01\x01x\x00\x03", 6, "malformed"},                           /* state 3 */
        {"\x01\x01\x01x\x00\x00\x02\x00", 8, "malformed"},                   /* flag bit 1 */
        {"\x01\x01\x01x\x00\x00\x01\x05" "abc", 11, "malformed"},             /* text past the end */
        {"\x01\x01\x05x\x00\x00", 6, "malformed"},                           /* name past the end */
        {"\x01\x01\x01x\x01\x00\x00\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 18, "malformed"},
        {"\x01\x01\x01x\x01\x00\x00\x80\x80\x80\x80\x10", 12, "malformed"},  /* bool beyond int */
        {"\x01\x01\x01x\x05\x00\x00\x01\x02\x03", 10, "malformed"},          /* 3 of a double's 8 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (decode_exact(&t1.t, bad[i].bytes, bad[i].len, out, err, sizeof err) != -1)
            fail_msg("garbage %zu accepted", i);
        if (!strstr(err, bad[i].why))
            fail_msg("garbage %zu: '%s' does not say '%s'", i, err, bad[i].why);
    }
    /* the minimal image of one text column, for contrast */
    assert_int_equal(decode_exact(&t1.t, "\x01\x01\x01x\x00\x00\x01\x02hi", 10, out, err, sizeof err), 0);
    assert_int_equal(out[0].len, 2);
    assert_string_equal(out[0].s, "hi");
}

static void test_encode_errors(void **state)
{
    (void)state;
    static const char *const names[] = {"ok", "bad"};
    static const value_kind kinds[] = {VALUE_TEXT, (value_kind)42};
    test_table tt;
    table_init(&tt, 2, names, kinds);
    value vals[2] = {parse(VALUE_TEXT, "x"), parse(VALUE_TEXT, "y")};
    buf b = BUF_INIT;
    buf_puts(&b, "keep");
    char err[256] = "";
    assert_int_equal(silver_image_encode(&tt.t, vals, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad"));
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "keep");
    tt.cols[1].kind = VALUE_TEXT;
    vals[1].state = 9;
    assert_int_equal(silver_image_encode(&tt.t, vals, &b, err, sizeof err), -1);
    assert_int_equal(b.len, 4);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_all_kinds),
        cmocka_unit_test(test_rule_values),
        cmocka_unit_test(test_schema_changes),
        cmocka_unit_test(test_kind_changes),
        cmocka_unit_test(test_many_columns),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_encode_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
