/* Unit tests for encode/debezium_decode: a round trip through Sluice's own Debezium encoder (every
 * PostgreSQL type the capture supports, every op, TOAST placeholders, key-only images, snapshot
 * reads; under time.precision.mode adaptive, adaptive_time_microseconds and connect) asserting
 * exactly what comes back; records as Debezium's PostgreSQL connector writes them; refusals
 * (schemaless records, malformed JSON, payloads that do not match their schema, unsupported
 * types) and the records that are skipped (tombstones, heartbeats, transaction metadata). */
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
#include "encode/debezium_decode.h"
#include "encode/debezium_json.h"

#define NOW_US 1700000001654321LL
#define US_PER_DAY 86400000000LL

static arena *A;

/* ---- the round-trip table -------------------------------------------------------------------------- */

typedef struct colspec {
    const char *name;
    uint32_t oid;
    int32_t typmod;
    int pk;
    const char *type_name;   /* NULL: pg_type_name(oid) */
    const char *labels;      /* enum labels */
} colspec;

#define NUMERIC_12_4 (((12 << 16) | 4) + 4)

static const colspec SPECS[] = {
    {"id", 23, -1, 1, NULL, NULL},
    {"i2", 21, -1, 0, NULL, NULL},
    {"i8", 20, -1, 0, NULL, NULL},
    {"o", 26, -1, 0, NULL, NULL},
    {"f4", 700, -1, 0, NULL, NULL},
    {"f8", 701, -1, 0, NULL, NULL},
    {"b", 16, -1, 0, NULL, NULL},
    {"n", 1700, NUMERIC_12_4, 0, NULL, NULL},
    {"nv", 1700, -1, 0, NULL, NULL},
    {"m", 790, -1, 0, NULL, NULL},
    {"by", 17, -1, 0, NULL, NULL},
    {"d", 1082, -1, 0, NULL, NULL},
    {"t", 1083, -1, 0, NULL, NULL},
    {"t3", 1083, 3, 0, NULL, NULL},
    {"tz", 1266, -1, 0, NULL, NULL},
    {"ts", 1114, -1, 0, NULL, NULL},
    {"ts3", 1114, 3, 0, NULL, NULL},
    {"tstz", 1184, -1, 0, NULL, NULL},
    {"iv", 1186, -1, 0, NULL, NULL},
    {"u", 2950, -1, 0, NULL, NULL},
    {"j", 114, -1, 0, NULL, NULL},
    {"jb", 3802, -1, 0, NULL, NULL},
    {"tx", 25, -1, 0, NULL, NULL},
    {"vc", 1043, 24, 0, NULL, NULL},
    {"ip", 869, -1, 0, NULL, NULL},
    {"x", 142, -1, 0, NULL, NULL},
    {"bt", 1560, 8, 0, NULL, NULL},
    {"e", 16500, -1, 0, "public.mood", "sad,ok,happy"},
    {"ai", 1007, -1, 0, NULL, NULL},
    {"at", 1009, -1, 0, NULL, NULL},
    {"an", 1231, -1, 0, NULL, NULL},
    {"ats", 1185, -1, 0, NULL, NULL},
    {"af", 1022, -1, 0, NULL, NULL},
    {"ab", 1001, -1, 0, NULL, NULL},
    {"ad", 1182, -1, 0, NULL, NULL},
};
#define NC ((int)(sizeof SPECS / sizeof SPECS[0]))

#define U "\x01unavailable"   /* marks VALUE_UNAVAILABLE in a row of texts */

/* Row A: extremes, NaN and infinities, unicode, zero bytes, arrays. */
static const char *const ROW_A[NC] = {
    "1", "-32768", "9223372036854775807", "4294967295", "3.4028235e+38", "NaN", "t", "-12345678.1234",
    "-123456789012345678901234567890.123456789", "-$92,233,720,368,547,758.08", "\\x00ff00", "infinity",
    "23:59:59.999999", "12:34:56.789", "12:00:00+05:30", "2024-02-29 12:45:06.123456", "0044-03-15 12:00:00.5 BC",
    "-infinity", "1 year 2 mons 3 days 04:05:06.78", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{\"a\": [1, 2.5, null]}",
    "{\"k\": \"v\\u00e4lue\"}", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \"quoted\"\n\ttab \\ back", "short",
    "192.168.0.1/24", "<a>1</a>", "00001111", "happy", "{1,NULL,-3}",
    "{\"a b\",NULL,\"\\\"q\\\"\",\xc3\xa9,\"\",\"NULL\",\"x,y\",\"back\\\\slash\"}", "{1.5,-2.25,0.000}",
    "{\"2024-01-01 00:00:00+00\",infinity}", "{1.5,NaN,-Infinity,1e+300}", "{\"\\\\x00ff\",\"\\\\x\"}",
    "{2024-01-01,infinity,\"0044-03-15 BC\"}",
};

/* Row B: the other ends, NULLs, empty values, multi-dimensional arrays. */
static const char *const ROW_B[NC] = {
    "2", NULL, "-9223372036854775808", "0", "-1.1", "-Infinity", "f", "0.0000", "0.00", "$0.00", "\\x",
    "0044-03-15 BC", "00:00:00", NULL, "23:30:00-03", "infinity", "-infinity", "2024-02-29 12:45:06.123456+00",
    "-00:00:00.5", NULL, "[]", "null", "", NULL, "::1", NULL, "10000000", "sad", "{}", "{{a,b},{c,d}}", NULL,
    "{}", NULL, NULL, NULL,
};

/* Row C: numeric NaN (null in precise mode), small values. */
static const char *const ROW_C[NC] = {
    "3", "7", "1", "26", "1e-45", "5e-324", "t", "99999999.9999", "NaN", "$1,234.56", "\\xdeadbeef", "2000-01-01",
    "24:00:00", "00:00:00.001", "00:00:00+00", "1970-01-01 00:00:00", "2000-01-01 00:00:00.999",
    "1999-12-31 23:59:59.999999+00", "-1 days", "00000000-0000-0000-0000-000000000000", "1", "true", "NULL",
    "x", "08:00:2b:01:02:03", "<b/>", "11111111", "ok", "{{1,2},{3,NULL}}", "{NULL}", "{-0.5}", NULL, "{0,-0}",
    "{\"\\\\x\"}", "{-infinity}",
};

static column_def COLS[NC];
static table_def TABLE;

static void table_init(void)
{
    for (int i = 0; i < NC; i++) {
        const colspec *s = &SPECS[i];
        value_kind elem;
        value_kind kind = pg_type_kind(s->oid, &elem);
        COLS[i] = (column_def){.name = (char *)s->name, .type_oid = s->oid, .typmod = s->typmod,
                               .type_name = (char *)(s->type_name ? s->type_name : pg_type_name(s->oid)),
                               .kind = kind, .elem_kind = elem, .is_key = (uint8_t)s->pk, .is_pk = (uint8_t)s->pk,
                               .not_null = (uint8_t)s->pk, .enum_labels = (char *)s->labels};
    }
    TABLE = (table_def){.oid = 16384, .schema = (char *)"public", .name = (char *)"every", .replica_identity = 'd',
                        .version = 1, .ncols = NC, .cols = COLS};
}

/* A row of values from PostgreSQL text (NULL: SQL NULL, U: unavailable). */
static value *row_of(const char *const texts[NC])
{
    value *row = arena_alloc(A, NC * sizeof *row);
    for (int i = 0; i < NC; i++) {
        char err[256] = "";
        memset(&row[i], 0, sizeof row[i]);
        if (!texts[i]) {
            row[i].state = VALUE_IS_NULL;
        } else if (strcmp(texts[i], U) == 0) {
            row[i].state = VALUE_UNAVAILABLE;
        } else if (pg_value_parse(COLS[i].kind, texts[i], strlen(texts[i]), &row[i], A, err, sizeof err) < 0) {
            fail_msg("column %s: '%s': %s", COLS[i].name, texts[i], err);
        }
    }
    return row;
}

/* The key-only image of row (key columns kept, others unavailable). */
static value *key_only_of(const value *row)
{
    value *k = arena_alloc(A, NC * sizeof *k);
    for (int i = 0; i < NC; i++) {
        memset(&k[i], 0, sizeof k[i]);
        if (COLS[i].is_pk)
            k[i] = row[i];
        else
            k[i].state = VALUE_UNAVAILABLE;
    }
    return k;
}

/* ---- expectations ------------------------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Debezium's MicroDuration of an interval (MicroDuration.durationMicros, as the encoder does). */
static int64_t micro_duration(const value *v)
{
    int64_t us = v->v.interval.us;
    int64_t hours = us / 3600000000LL, minutes = us / 60000000LL % 60, rest = us % 60000000LL;
    double seconds = (double)(rest / 1000000) + (double)(rest % 1000000) / 1e6;
    double days = (double)v->v.interval.months * (365.25 / 12.0) + (double)v->v.interval.days;
    return (int64_t)((((days * 24 + (double)hours) * 60 + (double)minutes) * 60 + seconds) * 1e6);
}

static void assert_text(const char *col, const value *got, const char *want, size_t wantlen)
{
    if (got->len != wantlen || (wantlen && memcmp(got->s, want, wantlen) != 0))
        fail_msg("column %s: text '%.*s', want '%.*s'", col, (int)got->len, got->s, (int)wantlen, want);
}

/* The decoded column matches the original as the header documents. */
static void check_column(time_precision_mode tm, const column_def *o, const column_def *c)
{
    const char *n = o->name;
    assert_string_equal(c->name, n);
    assert_int_equal(c->is_pk, o->is_pk);
    assert_int_equal(c->is_key, o->is_key);
    assert_int_equal(c->not_null, o->not_null);
    value_kind kind = o->kind;
    const char *type_name = o->type_name;
    uint32_t oid = o->type_oid;
    int32_t typmod = o->typmod;
    if (strcmp(n, "o") == 0)   /* oid: int64 in Debezium */
        kind = VALUE_INT64, type_name = "int8", oid = 20;
    else if (strcmp(n, "ip") == 0)   /* inet: a string */
        kind = VALUE_TEXT, type_name = "text", oid = 25;
    else if (strcmp(n, "jb") == 0)   /* jsonb: io.debezium.data.Json */
        type_name = "json", oid = 114;
    else if (strcmp(n, "vc") == 0)   /* varchar(20): a string */
        type_name = "text", oid = 25, typmod = -1;
    else if (strcmp(n, "e") == 0)    /* enum: io.debezium.data.Enum */
        type_name = "text", oid = 25;
    else if (strcmp(n, "t3") == 0 && tm != TIME_ADAPTIVE)   /* MicroTime / connect Time */
        typmod = -1;
    else if (strcmp(n, "ts3") == 0 && tm == TIME_CONNECT)
        typmod = -1;
    assert_int_equal(c->kind, kind);
    if (kind == VALUE_ARRAY)
        assert_int_equal(c->elem_kind, o->elem_kind);
    assert_string_equal(c->type_name, type_name);
    assert_int_equal(c->type_oid, oid);
    assert_int_equal(c->typmod, typmod);
    if (o->enum_labels)
        assert_string_equal(c->enum_labels, o->enum_labels);
    else
        assert_null(c->enum_labels);
}

static void check_value(time_precision_mode tm, const column_def *col, const value *o, const value *g)
{
    const char *n = col->name;
    char num[64];
    if (o->state == VALUE_PRESENT && col->kind == VALUE_NUMERIC && o->len == 3 && memcmp(o->s, "NaN", 3) == 0) {
        assert_int_equal(g->state, VALUE_IS_NULL);   /* precise mode has no NaN */
        return;
    }
    if (g->state != o->state)
        fail_msg("column %s: state %d, want %d", n, g->state, o->state);
    if (o->state != VALUE_PRESENT)
        return;
    switch (col->kind) {
    case VALUE_TIMETZ: {
        /* ZonedTime is UTC: the offset is lost, the UTC time of day kept */
        int64_t utc = (o->v.i - (int64_t)o->tz_offset * 1000000) % US_PER_DAY;
        if (utc < 0)
            utc += US_PER_DAY;
        assert_int_equal(g->tz_offset, 0);
        assert_int_equal(g->v.i, utc);
        return;
    }
    case VALUE_INTERVAL:
        assert_int_equal(g->v.interval.months, 0);
        assert_int_equal(g->v.interval.days, 0);
        assert_int_equal(g->v.interval.us, micro_duration(o));
        if (o->v.interval.months == 0 && o->v.interval.days == 0)
            assert_text(n, g, o->s, o->len);   /* exact */
        return;
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
        if (tm == TIME_CONNECT && o->v.i != INT64_MAX && o->v.i != INT64_MIN) {
            assert_int_equal(g->v.i, floor_div(o->v.i, 1000) * 1000);   /* milliseconds */
            return;
        }
        break;
    case VALUE_INT32:
        if (col->type_oid == 26) {
            snprintf(num, sizeof num, "%lld", (long long)o->v.i);
            assert_int_equal(g->v.i, o->v.i);
            assert_text(n, g, num, strlen(num));
            return;
        }
        break;
    default:
        break;
    }
    assert_text(n, g, o->s, o->len);
    switch (col->kind) {
    case VALUE_BOOL: assert_int_equal(g->v.b, o->v.b); break;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64: assert_memory_equal(&g->v.f, &o->v.f, sizeof o->v.f); break;
    case VALUE_UUID: assert_memory_equal(g->v.uuid, o->v.uuid, 16); break;
    case VALUE_TEXT:
    case VALUE_NUMERIC:
    case VALUE_BYTES:
    case VALUE_JSON:
    case VALUE_INET:
    case VALUE_ARRAY: break;
    default: assert_int_equal(g->v.i, o->v.i); break;
    }
}

static void check_row(time_precision_mode tm, const value *orig, const value *got)
{
    if (!orig) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    for (int i = 0; i < NC; i++)
        check_value(tm, &COLS[i], &orig[i], &got[i]);
}

/* ---- round trip ---------------------------------------------------------------------------------------- */

static const tx_info TX = {.xid = 571, .final_lsn = 53195832, .end_lsn = 53195900, .commit_time_us = 1700000000123456LL};
static const tx_info SNAP_TX = {.xid = 0, .final_lsn = 53195700, .commit_time_us = 1699999999000001LL};

typedef struct coded {
    buf key, value;
    int has_key;
} coded;

static void encode(debezium_encoder *e, const event *ev, const debezium_tx_position *pos, coded *c)
{
    buf_reset(&c->key);
    buf_reset(&c->value);
    c->has_key = debezium_encode_key(e, &c->key, ev);
    debezium_encode_value(e, &c->value, ev, NOW_US, pos);
}

static void round_trip(debezium_encoder *e, debezium_decoder *d, time_precision_mode tm, const event *ev,
                       const debezium_tx_position *pos)
{
    coded c = {BUF_INIT, BUF_INIT, 0};
    char err[512] = "";
    event got;
    encode(e, ev, pos, &c);
    int rc = debezium_decoder_decode(d, c.has_key ? c.key.data : NULL, c.has_key ? c.key.len : 0, c.value.data,
                                     c.value.len, A, &got, err, sizeof err);
    if (rc != 1)
        fail_msg("decode returned %d: %s\nvalue: %s", rc, err, c.value.data);
    assert_int_equal(got.op, ev->op);
    assert_int_equal(got.snapshot, ev->snapshot);
    assert_int_equal(got.lsn, ev->lsn);
    assert_int_equal(got.before_key_only, ev->before_key_only);
    assert_non_null(got.tx);
    assert_int_equal(got.tx->xid, ev->tx->xid);
    assert_int_equal(got.tx->commit_time_us, ev->tx->commit_time_us);
    if (pos) {   /* the transaction block: the commit LSN and the position */
        assert_int_equal(got.tx->final_lsn, ev->tx->final_lsn);
        assert_int_equal(got.seq, pos->total_order - 1);
    } else {     /* without it: the change's LSN */
        assert_int_equal(got.tx->final_lsn, ev->lsn);
        assert_int_equal(got.seq, 0);
    }
    const table_def *t = got.table;
    assert_non_null(t);
    assert_string_equal(t->schema, "public");
    assert_string_equal(t->name, "every");
    assert_int_equal(t->ncols, NC);
    assert_int_equal(t->version, 1);
    for (int i = 0; i < NC; i++)
        check_column(tm, &COLS[i], &t->cols[i]);
    check_row(tm, ev->before, got.before);
    check_row(tm, ev->after, got.after);
    buf_free(&c.key);
    buf_free(&c.value);
}

static void round_trip_mode(time_precision_mode tm)
{
    debezium_options o = {.name = "srv", .db = "db", .decimal = DECIMAL_PRECISE, .time = tm, .schemas = 1};
    debezium_encoder *e = debezium_encoder_create(&o);
    debezium_decoder *d = debezium_decoder_create();
    assert_non_null(e);
    assert_non_null(d);
    value *a = row_of(ROW_A), *b = row_of(ROW_B), *c = row_of(ROW_C);
    debezium_tx_position pos = {.total_order = 3, .collection_order = 2};

    /* insert, with and without the transaction block */
    event ev = {.op = EVENT_CREATE, .table = &TABLE, .after = a, .lsn = 53195800, .tx = &TX};
    round_trip(e, d, tm, &ev, NULL);
    round_trip(e, d, tm, &ev, &pos);
    ev.after = b;
    round_trip(e, d, tm, &ev, NULL);

    /* update without a before image, unchanged TOASTed values unavailable */
    static const char *toasted[NC];
    memcpy(toasted, ROW_B, sizeof toasted);
    for (int i = 0; i < NC; i++)
        if (!strcmp(SPECS[i].name, "tx") || !strcmp(SPECS[i].name, "by") || !strcmp(SPECS[i].name, "ai") ||
            !strcmp(SPECS[i].name, "at") || !strcmp(SPECS[i].name, "j") || !strcmp(SPECS[i].name, "nv"))
            toasted[i] = U;
    ev = (event){.op = EVENT_UPDATE, .table = &TABLE, .after = row_of(toasted), .lsn = 53195810, .tx = &TX};
    round_trip(e, d, tm, &ev, &pos);

    /* update that changed the key: the before image holds the old key only */
    ev = (event){.op = EVENT_UPDATE, .table = &TABLE, .before = key_only_of(a), .before_key_only = 1, .after = c,
                 .lsn = 53195820, .tx = &TX};
    round_trip(e, d, tm, &ev, NULL);

    /* update under REPLICA IDENTITY FULL */
    ev = (event){.op = EVENT_UPDATE, .table = &TABLE, .before = a, .after = c, .lsn = 53195825, .tx = &TX};
    round_trip(e, d, tm, &ev, NULL);

    /* delete with a key-only before image */
    ev = (event){.op = EVENT_DELETE, .table = &TABLE, .before = key_only_of(c), .before_key_only = 1,
                 .lsn = 53195830, .tx = &TX};
    round_trip(e, d, tm, &ev, NULL);

    /* snapshot reads */
    ev = (event){.op = EVENT_READ, .snapshot = SNAPSHOT_TRUE, .table = &TABLE, .after = a, .lsn = 53195700,
                 .tx = &SNAP_TX};
    round_trip(e, d, tm, &ev, NULL);
    ev.snapshot = SNAPSHOT_LAST;
    ev.after = c;
    round_trip(e, d, tm, &ev, NULL);

    /* one table definition for all of them */
    assert_int_equal(debezium_decoder_table_count(d), 1);
    debezium_decoder_destroy(d);
    debezium_encoder_destroy(e);
    arena_reset(A);
}

static void test_round_trip_adaptive(void **state)
{
    (void)state;
    round_trip_mode(TIME_ADAPTIVE);
}

static void test_round_trip_adaptive_us(void **state)
{
    (void)state;
    round_trip_mode(TIME_ADAPTIVE_MICROSECONDS);
}

static void test_round_trip_connect(void **state)
{
    (void)state;
    round_trip_mode(TIME_CONNECT);
}

/* A truncate, a keyless table, and a new shape of a table being a new schema version. */
static void test_truncate_keyless_versions(void **state)
{
    (void)state;
    debezium_options o = {.name = "srv", .db = "db", .schemas = 1};
    debezium_encoder *e = debezium_encoder_create(&o);
    debezium_decoder *d = debezium_decoder_create();
    char err[256] = "";
    event got;
    coded c = {BUF_INIT, BUF_INIT, 0};
    column_def cols[2] = {
        {.name = (char *)"v", .type_oid = 25, .typmod = -1, .type_name = (char *)"text", .kind = VALUE_TEXT},
        {.name = (char *)"w", .type_oid = 23, .typmod = -1, .type_name = (char *)"int4", .kind = VALUE_INT32}};
    table_def t1 = {.schema = (char *)"s", .name = (char *)"k", .ncols = 1, .cols = cols};
    table_def t2 = {.schema = (char *)"s", .name = (char *)"k", .ncols = 2, .cols = cols};
    value row[2] = {{.state = VALUE_PRESENT, .s = "x", .len = 1}, {.state = VALUE_IS_NULL}};
    event ev = {.op = EVENT_CREATE, .table = &t1, .after = row, .lsn = 7, .tx = &TX};
    encode(e, &ev, NULL, &c);
    assert_int_equal(c.has_key, 0);
    assert_int_equal(debezium_decoder_decode(d, NULL, 0, c.value.data, c.value.len, A, &got, err, sizeof err), 1);
    const table_def *first = got.table;
    assert_int_equal(first->version, 1);
    assert_int_equal(first->cols[0].is_pk, 0);
    assert_string_equal(got.after[0].s, "x");
    /* the same shape again: the same definition */
    assert_int_equal(debezium_decoder_decode(d, NULL, 0, c.value.data, c.value.len, A, &got, err, sizeof err), 1);
    assert_ptr_equal(got.table, first);
    /* a column added: version 2, and the first stays valid */
    ev.table = &t2;
    encode(e, &ev, NULL, &c);
    assert_int_equal(debezium_decoder_decode(d, NULL, 0, c.value.data, c.value.len, A, &got, err, sizeof err), 1);
    assert_int_equal(got.table->version, 2);
    assert_int_equal(got.table->ncols, 2);
    assert_int_equal(got.after[1].state, VALUE_IS_NULL);
    assert_string_equal(first->cols[0].name, "v");
    /* truncate */
    ev = (event){.op = EVENT_TRUNCATE, .table = &t2, .lsn = 9, .tx = &TX};
    encode(e, &ev, NULL, &c);
    assert_int_equal(debezium_decoder_decode(d, NULL, 0, c.value.data, c.value.len, A, &got, err, sizeof err), 1);
    assert_int_equal(got.op, EVENT_TRUNCATE);
    assert_null(got.before);
    assert_null(got.after);
    assert_int_equal(debezium_decoder_table_count(d), 2);
    buf_free(&c.key);
    buf_free(&c.value);
    debezium_decoder_destroy(d);
    debezium_encoder_destroy(e);
    arena_reset(A);
}

/* decimal.handling.mode string / double: decoded as the schema says (text, float8). */
static void test_decimal_modes(void **state)
{
    (void)state;
    char err[256] = "";
    event got;
    coded c = {BUF_INIT, BUF_INIT, 0};
    column_def cols[2] = {{.name = (char *)"id", .type_oid = 23, .typmod = -1, .type_name = (char *)"int4",
                           .kind = VALUE_INT32, .is_pk = 1, .is_key = 1, .not_null = 1},
                          {.name = (char *)"n", .type_oid = 1700, .typmod = NUMERIC_12_4, .type_name = (char *)"numeric",
                           .kind = VALUE_NUMERIC}};
    table_def t = {.schema = (char *)"s", .name = (char *)"dm", .ncols = 2, .cols = cols};
    value row[2] = {{.state = VALUE_PRESENT, .s = "5", .len = 1}, {.state = VALUE_PRESENT, .s = "-1.5000", .len = 7}};
    row[0].v.i = 5;
    event ev = {.op = EVENT_CREATE, .table = &t, .after = row, .lsn = 7, .tx = &TX};
    for (int mode = DECIMAL_DOUBLE; mode <= DECIMAL_STRING; mode++) {
        debezium_options o = {.name = "srv", .db = "db", .decimal = (decimal_mode)mode, .schemas = 1};
        debezium_encoder *e = debezium_encoder_create(&o);
        debezium_decoder *d = debezium_decoder_create();
        encode(e, &ev, NULL, &c);
        assert_int_equal(debezium_decoder_decode(d, c.key.data, c.key.len, c.value.data, c.value.len, A, &got, err,
                                                 sizeof err),
                         1);
        if (mode == DECIMAL_DOUBLE) {
            assert_int_equal(got.table->cols[1].kind, VALUE_FLOAT64);
            assert_string_equal(got.table->cols[1].type_name, "float8");
            assert_true(got.after[1].v.f == -1.5);
            assert_string_equal(got.after[1].s, "-1.5");
        } else {
            assert_int_equal(got.table->cols[1].kind, VALUE_TEXT);
            assert_string_equal(got.after[1].s, "-1.5000");
        }
        debezium_decoder_destroy(d);
        debezium_encoder_destroy(e);
    }
    buf_free(&c.key);
    buf_free(&c.value);
    arena_reset(A);
}

/* ---- Debezium's own records ------------------------------------------------------------------------ */

static int decode_text(debezium_decoder *d, const char *key, const char *val, event *out, char *err, size_t errlen)
{
    return debezium_decoder_decode(d, key, key ? strlen(key) : 0, val, val ? strlen(val) : 0, A, out, err,
                                   errlen);
}

/* The customers table of Debezium's PostgreSQL connector documentation. */
#define CUSTOMERS_KEY                                                                                            \
    "{\"schema\":{\"type\":\"struct\",\"name\":\"PostgreSQL_server.public.customers.Key\",\"optional\":false,"   \
    "\"fields\":[{\"field\":\"id\",\"type\":\"int32\",\"optional\":false}]},\"payload\":{\"id\":1}}"

#define CUSTOMERS_ROW                                                                                            \
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"                 \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"first_name\"},"                                         \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"last_name\"},"                                          \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"email\"}],"                                             \
    "\"optional\":true,\"name\":\"PostgreSQL_server.inventory.customers.Value\""

#define CUSTOMERS_SCHEMA                                                                                         \
    "{\"type\":\"struct\",\"fields\":[" CUSTOMERS_ROW ",\"field\":\"before\"}," CUSTOMERS_ROW                     \
    ",\"field\":\"after\"},{\"type\":\"struct\",\"fields\":["                                                    \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"                                            \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"                                          \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"                                               \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"                                               \
    "{\"type\":\"boolean\",\"optional\":true,\"default\":false,\"field\":\"snapshot\"},"                         \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"                                                 \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"                                             \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"                                              \
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"                                                 \
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},"                                                  \
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"}],"                                                \
    "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"},"             \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"                                                 \
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}],"                                               \
    "\"optional\":false,\"name\":\"PostgreSQL_server.inventory.customers.Envelope\"}"

#define CUSTOMERS_SOURCE(snapshot)                                                                               \
    "\"source\":{\"version\":\"2.5.4.Final\",\"connector\":\"postgresql\",\"name\":\"PostgreSQL_server\","        \
    "\"ts_ms\":1559033904863,\"snapshot\":" snapshot ",\"db\":\"postgres\",\"schema\":\"public\","               \
    "\"table\":\"customers\",\"txId\":555,\"lsn\":24023128,\"xmin\":null}"

static void test_debezium_customers(void **state)
{
    (void)state;
    debezium_decoder *d = debezium_decoder_create();
    char err[256] = "";
    event ev;
    /* create, as in the documentation (snapshot: true, the boolean of older versions) */
    const char *create = "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":{\"id\":1,"
                         "\"first_name\":\"Anne\",\"last_name\":\"Kretchmar\",\"email\":\"annek@noanswer.org\"},"
                         CUSTOMERS_SOURCE("true") ",\"op\":\"c\",\"ts_ms\":1559033904863}}";
    if (decode_text(d, CUSTOMERS_KEY, create, &ev, err, sizeof err) != 1)
        fail_msg("%s", err);
    assert_int_equal(ev.op, EVENT_CREATE);
    assert_int_equal(ev.snapshot, SNAPSHOT_TRUE);
    assert_int_equal(ev.lsn, 24023128);
    assert_int_equal(ev.tx->xid, 555);
    assert_int_equal(ev.tx->commit_time_us, 1559033904863000LL);
    assert_int_equal(ev.tx->final_lsn, 24023128);
    assert_int_equal(ev.seq, 0);
    assert_null(ev.before);
    const table_def *t = ev.table;
    assert_string_equal(t->schema, "public");
    assert_string_equal(t->name, "customers");
    assert_int_equal(t->ncols, 4);
    static const char *const names[] = {"id", "first_name", "last_name", "email"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(t->cols[i].name, names[i]);
        assert_int_equal(t->cols[i].is_pk, i == 0);
        assert_int_equal(t->cols[i].is_key, i == 0);
        assert_int_equal(t->cols[i].not_null, 1);
        assert_int_equal(t->cols[i].kind, i == 0 ? VALUE_INT32 : VALUE_TEXT);
        assert_string_equal(t->cols[i].type_name, i == 0 ? "int4" : "text");
        assert_int_equal(t->cols[i].type_oid, i == 0 ? 23 : 25);
        assert_int_equal(t->cols[i].typmod, -1);
    }
    assert_int_equal(ev.after[0].v.i, 1);
    assert_string_equal(ev.after[0].s, "1");
    assert_string_equal(ev.after[1].s, "Anne");
    assert_string_equal(ev.after[3].s, "annek@noanswer.org");

    /* update under REPLICA IDENTITY FULL, streamed */
    const char *update = "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":{\"id\":1,\"first_name\":\"Anne\","
                         "\"last_name\":\"Kretchmar\",\"email\":\"annek@noanswer.org\"},\"after\":{\"id\":1,"
                         "\"first_name\":\"Anne Marie\",\"last_name\":\"Kretchmar\",\"email\":\"annek@noanswer.org\"},"
                         CUSTOMERS_SOURCE("false") ",\"op\":\"u\",\"ts_ms\":1465581029523}}";
    assert_int_equal(decode_text(d, CUSTOMERS_KEY, update, &ev, err, sizeof err), 1);
    assert_int_equal(ev.op, EVENT_UPDATE);
    assert_int_equal(ev.snapshot, SNAPSHOT_NONE);
    assert_int_equal(ev.before_key_only, 0);
    assert_string_equal(ev.before[1].s, "Anne");
    assert_string_equal(ev.after[1].s, "Anne Marie");
    assert_ptr_equal(ev.table, t);

    /* delete under REPLICA IDENTITY DEFAULT: only the key in before */
    const char *del = "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":{\"id\":1,\"first_name\":null,"
                      "\"last_name\":null,\"email\":null},\"after\":null," CUSTOMERS_SOURCE("false")
                      ",\"op\":\"d\",\"ts_ms\":1465581902461}}";
    assert_int_equal(decode_text(d, CUSTOMERS_KEY, del, &ev, err, sizeof err), 1);
    assert_int_equal(ev.op, EVENT_DELETE);
    assert_int_equal(ev.before_key_only, 1);
    assert_int_equal(ev.before[0].state, VALUE_PRESENT);
    assert_int_equal(ev.before[0].v.i, 1);
    for (int i = 1; i < 4; i++)
        assert_int_equal(ev.before[i].state, VALUE_UNAVAILABLE);
    assert_null(ev.after);

    /* delete without a before image (REPLICA IDENTITY NOTHING): the key from the record key */
    const char *del2 = "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":null,"
                       CUSTOMERS_SOURCE("false") ",\"op\":\"d\",\"ts_ms\":1465581902461}}";
    assert_int_equal(decode_text(d, CUSTOMERS_KEY, del2, &ev, err, sizeof err), 1);
    assert_int_equal(ev.before_key_only, 1);
    assert_int_equal(ev.before[0].v.i, 1);
    assert_int_equal(ev.before[2].state, VALUE_UNAVAILABLE);

    /* the tombstone that follows a delete */
    assert_int_equal(decode_text(d, CUSTOMERS_KEY, NULL, &ev, err, sizeof err), 0);
    assert_int_equal(debezium_decoder_table_count(d), 1);
    debezium_decoder_destroy(d);
    arena_reset(A);
}

/* Fields of Debezium's PostgreSQL type mappings, as its connector writes them. */
#define F(type, name, extra, field)                                                                              \
    "{\"type\":\"" type "\",\"optional\":true" name extra ",\"field\":\"" field "\"}"
#define N(semantic) ",\"name\":\"" semantic "\",\"version\":1"
#define SRC(type) ",\"parameters\":{\"__debezium.source.column.type\":\"" type "\"}"

#define TYPES_ROW                                                                                                \
    "{\"type\":\"struct\",\"fields\":["                                                                          \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"id\"},"                                                  \
    F("string", N("io.debezium.time.ZonedTimestamp"), "", "created_at") ","                                      \
    F("bytes", N("org.apache.kafka.connect.data.Decimal"),                                                      \
      ",\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"10\"}", "price") ","                     \
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"              \
    "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}],\"optional\":true,"                            \
    "\"name\":\"io.debezium.data.VariableScaleDecimal\",\"version\":1,\"doc\":\"Variable scaled decimal\","      \
    "\"field\":\"amount\"}," F("int64", N("io.debezium.time.MicroDuration"), "", "dur") ","                      \
    F("string", N("io.debezium.time.Interval"), "", "iv") "," F("int32", N("io.debezium.time.Date"), "", "birth") \
    "," F("int64", N("io.debezium.time.MicroTime"), "", "wake") ","                                              \
    F("int64", N("io.debezium.time.MicroTimestamp"), "", "seen") ","                                             \
    F("int64", N("io.debezium.time.Timestamp"), "", "seen3") ","                                                 \
    F("string", N("io.debezium.time.ZonedTime"), "", "zt") ","                                                   \
    F("string", N("io.debezium.data.Enum"), ",\"parameters\":{\"allowed\":\"sad,ok,happy\"}", "mood") ","        \
    F("string", N("io.debezium.data.Json"), "", "doc") "," F("string", N("io.debezium.data.Uuid"), "", "uid")   \
    ",{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":true},\"optional\":true,\"field\":\"tags\"}," \
    F("string", "",                                                                                             \
      ",\"parameters\":{\"__debezium.source.column.type\":\"VARCHAR\",\"__debezium.source.column.length\":\"255\"}", \
      "name") "," F("string", "", SRC("INET"), "ip") "," F("boolean", "", SRC("BIT"), "flag") ","                \
    F("bytes", N("io.debezium.data.Bits"), ",\"parameters\":{\"length\":\"8\"}", "bits") ","                     \
    F("bytes", N("org.apache.kafka.connect.data.Decimal"), ",\"parameters\":{\"scale\":\"2\"}", "cash") ","      \
    F("string", "", SRC("NUMERIC"), "num_str") "," F("int64", "", SRC("OID"), "oid") ","                         \
    F("bytes", "", "", "blob") "," F("double", "", "", "dbl") "," F("float", "", "", "flt")                     \
    "],\"optional\":true,\"name\":\"dbserver1.public.types.Value\""

#define TYPES_SCHEMA                                                                                             \
    "{\"type\":\"struct\",\"fields\":[" TYPES_ROW ",\"field\":\"before\"}," TYPES_ROW ",\"field\":\"after\"},"   \
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"            \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"}],\"optional\":false,"                          \
    "\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"},"                                \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"                                                 \
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"                \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"                                         \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],\"optional\":true,"            \
    "\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}],"                                        \
    "\"optional\":false,\"name\":\"dbserver1.public.types.Envelope\",\"version\":1}"

#define TYPES_KEY                                                                                                \
    "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,\"field\":\"id\"}],"    \
    "\"optional\":false,\"name\":\"dbserver1.public.types.Key\"},\"payload\":{\"id\":42}}"

/* A key change as Debezium emits it: the create carrying __debezium.oldkey comes with a key-only
 * image of the old key; the delete (carrying __debezium.newkey) and a create without the header
 * decode as they are; a malformed old key is refused. */
static void test_key_change_headers(void **state)
{
    (void)state;
    debezium_decoder *d = debezium_decoder_create();
    char err[256] = "";
    event ev;
    const char *newkey = "{\"schema\":{\"type\":\"struct\",\"optional\":false,\"fields\":[{\"field\":\"id\","
                         "\"type\":\"int32\",\"optional\":false}]},\"payload\":{\"id\":2}}";
    const char *create = "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":{\"id\":2,"
                         "\"first_name\":\"Anne\",\"last_name\":\"K\",\"email\":\"__debezium_unavailable_value\"},"
                         CUSTOMERS_SOURCE("false") ",\"op\":\"c\",\"ts_ms\":1559033904863}}";
    debezium_record r = {newkey, strlen(newkey), create, strlen(create), CUSTOMERS_KEY, strlen(CUSTOMERS_KEY), NULL};
    if (debezium_decoder_decode_record(d, &r, A, &ev, err, sizeof err) != 1)
        fail_msg("%s", err);
    assert_int_equal(ev.op, EVENT_CREATE);
    assert_null(ev.before);
    assert_int_equal(ev.after[0].v.i, 2);
    assert_int_equal(ev.after[3].state, VALUE_UNAVAILABLE);
    assert_non_null(r.old_key_image);
    assert_int_equal(r.old_key_image[0].state, VALUE_PRESENT);
    assert_int_equal(r.old_key_image[0].v.i, 1);
    for (int i = 1; i < 4; i++)
        assert_int_equal(r.old_key_image[i].state, VALUE_UNAVAILABLE);
    /* without the header: no old key */
    r.oldkey = NULL;
    r.oldkey_len = 0;
    assert_int_equal(debezium_decoder_decode_record(d, &r, A, &ev, err, sizeof err), 1);
    assert_null(r.old_key_image);
    /* a malformed old key is refused */
    r.oldkey = "{\"schema\":{},\"payload\":{\"nope\":1}}";
    r.oldkey_len = strlen(r.oldkey);
    assert_int_equal(debezium_decoder_decode_record(d, &r, A, &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "old key"));
    assert_null(r.old_key_image);
    r.oldkey = "not json";
    r.oldkey_len = strlen(r.oldkey);
    assert_int_equal(debezium_decoder_decode_record(d, &r, A, &ev, err, sizeof err), -1);
    debezium_decoder_destroy(d);
    arena_reset(A);
}

static void test_debezium_types(void **state)
{
    (void)state;
    debezium_decoder *d = debezium_decoder_create();
    char err[256] = "";
    event ev;
    const char *val =
        "{\"schema\":" TYPES_SCHEMA ",\"payload\":{\"before\":null,\"after\":{\"id\":42,"
        "\"created_at\":\"2018-06-20T10:51:30.987654Z\",\"price\":\"MDk=\",\"amount\":{\"scale\":3,\"value\":\"464=\"},"
        "\"dur\":93784000000,\"iv\":\"P1Y2M3DT4H5M6.78S\",\"birth\":19000,\"wake\":27000000000,"
        "\"seen\":1529491890987654,\"seen3\":1529491890987,\"zt\":\"10:51:30.5Z\",\"mood\":\"ok\","
        "\"doc\":\"{\\\"a\\\": 1}\",\"uid\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\",\"tags\":[\"a\",\"b c\",null],"
        "\"name\":\"Ann\",\"ip\":\"10.0.0.1\",\"flag\":true,\"bits\":\"Dw==\",\"cash\":\"MDk=\",\"num_str\":\"-1.2E-4\","
        "\"oid\":4294967295,\"blob\":\"AAEC\",\"dbl\":1.0E30,\"flt\":\"NaN\"},"
        "\"source\":{\"version\":\"2.7.0.Final\",\"connector\":\"postgresql\",\"name\":\"dbserver1\","
        "\"ts_ms\":1700000000123,\"snapshot\":\"incremental\",\"db\":\"db\",\"sequence\":\"[\\\"1\\\",\\\"2\\\"]\","
        "\"ts_us\":1700000000123456,\"ts_ns\":1700000000123456789,\"schema\":\"public\",\"table\":\"types\","
        "\"txId\":4294967298,\"lsn\":33227720,\"xmin\":null},\"op\":\"r\",\"ts_ms\":1700000000200,"
        "\"transaction\":{\"id\":\"4294967298:33227800\",\"total_order\":5,\"data_collection_order\":1}}}";
    if (decode_text(d, TYPES_KEY, val, &ev, err, sizeof err) != 1)
        fail_msg("%s", err);
    assert_int_equal(ev.op, EVENT_READ);
    assert_int_equal(ev.snapshot, SNAPSHOT_INCREMENTAL);
    assert_int_equal(ev.lsn, 33227720);
    assert_int_equal(ev.tx->xid, 2);   /* low 32 bits */
    assert_int_equal(ev.tx->commit_time_us, 1700000000123456LL);
    assert_int_equal(ev.tx->final_lsn, 33227800);
    assert_int_equal(ev.seq, 4);
    static const struct {
        const char *name, *text, *type_name;
        value_kind kind;
        int32_t typmod;
    } want[] = {
        {"id", "42", "int8", VALUE_INT64, -1},
        {"created_at", "2018-06-20 10:51:30.987654+00", "timestamptz", VALUE_TIMESTAMPTZ, -1},
        {"price", "123.45", "numeric", VALUE_NUMERIC, ((10 << 16) | 2) + 4},
        {"amount", "-7.250", "numeric", VALUE_NUMERIC, -1},
        {"dur", "26:03:04", "interval", VALUE_INTERVAL, -1},
        {"iv", "1 year 2 mons 3 days 04:05:06.78", "interval", VALUE_INTERVAL, -1},
        {"birth", "2022-01-08", "date", VALUE_DATE, -1},
        {"wake", "07:30:00", "time", VALUE_TIME, -1},
        {"seen", "2018-06-20 10:51:30.987654", "timestamp", VALUE_TIMESTAMP, -1},
        {"seen3", "2018-06-20 10:51:30.987", "timestamp", VALUE_TIMESTAMP, 3},
        {"zt", "10:51:30.5+00", "timetz", VALUE_TIMETZ, -1},
        {"mood", "ok", "text", VALUE_TEXT, -1},
        {"doc", "{\"a\": 1}", "json", VALUE_JSON, -1},
        {"uid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "uuid", VALUE_UUID, -1},
        {"tags", "{a,\"b c\",NULL}", "_text", VALUE_ARRAY, -1},
        {"name", "Ann", "varchar", VALUE_TEXT, 259},
        {"ip", "10.0.0.1", "inet", VALUE_INET, -1},
        {"flag", "1", "bit", VALUE_TEXT, -1},
        {"bits", "00001111", "bit", VALUE_TEXT, 8},
        {"cash", "$123.45", "money", VALUE_MONEY, -1},
        {"num_str", "-0.00012", "numeric", VALUE_NUMERIC, -1},
        {"oid", "4294967295", "oid", VALUE_INT32, -1},
        {"blob", "\x00\x01\x02", "bytea", VALUE_BYTES, -1},
        {"dbl", "1e+30", "float8", VALUE_FLOAT64, -1},
        {"flt", "NaN", "float4", VALUE_FLOAT32, -1},
    };
    const table_def *t = ev.table;
    assert_int_equal(t->ncols, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < t->ncols; i++) {
        assert_string_equal(t->cols[i].name, want[i].name);
        if (t->cols[i].kind != want[i].kind)
            fail_msg("%s: kind %d, want %d", want[i].name, t->cols[i].kind, want[i].kind);
        assert_string_equal(t->cols[i].type_name, want[i].type_name);
        assert_int_equal(t->cols[i].typmod, want[i].typmod);
        assert_int_equal(ev.after[i].state, VALUE_PRESENT);
        size_t wl = want[i].kind == VALUE_BYTES ? 3 : strlen(want[i].text);
        assert_text(want[i].name, &ev.after[i], want[i].text, wl);
    }
    assert_int_equal(t->cols[0].is_pk, 1);
    assert_int_equal(t->cols[0].not_null, 1);
    assert_int_equal(t->cols[1].not_null, 0);
    assert_string_equal(t->cols[11].enum_labels, "sad,ok,happy");
    assert_int_equal(t->cols[14].elem_kind, VALUE_TEXT);
    assert_int_equal(t->cols[15].type_oid, 1043);
    assert_int_equal(t->cols[21].type_oid, 26);
    assert_int_equal(ev.after[1].v.i, 1529491890987654LL);
    assert_int_equal(ev.after[4].v.interval.us, 93784000000LL);
    assert_int_equal(ev.after[5].v.interval.months, 14);
    assert_int_equal(ev.after[5].v.interval.days, 3);
    assert_int_equal(ev.after[5].v.interval.us, 14706780000LL);
    assert_int_equal(ev.after[6].v.i, 19000);
    assert_int_equal(ev.after[10].v.i, 39090500000LL);
    assert_int_equal(ev.after[19].v.i, 12345);
    assert_true(isnan(ev.after[24].v.f));
    assert_true(ev.after[23].v.f == 1e30);
    debezium_decoder_destroy(d);
    arena_reset(A);
}

/* ---- refusals and skipped records -------------------------------------------------------------------- */

static void expect_error(debezium_decoder *d, const char *key, const char *val, const char *needle)
{
    char err[512] = "";
    event ev;
    int rc = decode_text(d, key, val, &ev, err, sizeof err);
    if (rc != -1)
        fail_msg("decode returned %d for %s", rc, val);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
    assert_null(ev.table);
}

static void test_refusals(void **state)
{
    (void)state;
    debezium_decoder *d = debezium_decoder_create();
    /* schemas.enable=false: payload only */
    expect_error(d, "{\"id\":1}",
                 "{\"before\":null,\"after\":{\"id\":1},\"source\":{\"schema\":\"public\",\"table\":\"t\"},"
                 "\"op\":\"c\"}",
                 "schemas.enable");
    expect_error(d, NULL, "{\"schema\":null,\"payload\":{\"op\":\"c\"}}", "schemas.enable");
    /* a key without a schema */
    expect_error(d, "{\"id\":1}",
                 "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":{\"id\":1,"
                 "\"first_name\":\"a\",\"last_name\":\"b\",\"email\":\"c\"}," CUSTOMERS_SOURCE("false")
                 ",\"op\":\"c\"}}",
                 "schemas.enable");
    /* malformed JSON */
    expect_error(d, NULL, "{\"schema\":{\"type\":", "not JSON");
    expect_error(d, NULL, "\xff\xfe", "not JSON");
    expect_error(d, "{", "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":null}", "key is not JSON");
    expect_error(d, NULL, "[1,2]", "not a JSON object");
    /* payloads that do not match their schema */
    expect_error(d, CUSTOMERS_KEY,
                 "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":{\"id\":\"one\","
                 "\"first_name\":\"a\",\"last_name\":\"b\",\"email\":\"c\"}," CUSTOMERS_SOURCE("false")
                 ",\"op\":\"c\"}}",
                 "column id: expected an integer");
    expect_error(d, CUSTOMERS_KEY,
                 "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":{\"id\":1,"
                 "\"first_name\":\"a\",\"last_name\":\"b\"}," CUSTOMERS_SOURCE("false") ",\"op\":\"c\"}}",
                 "no field email");
    expect_error(d, CUSTOMERS_KEY,
                 "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":{\"id\":99999999999,"
                 "\"first_name\":\"a\",\"last_name\":\"b\",\"email\":\"c\"}," CUSTOMERS_SOURCE("false")
                 ",\"op\":\"c\"}}",
                 "column id");
    expect_error(d, CUSTOMERS_KEY,
                 "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":null,"
                 CUSTOMERS_SOURCE("false") ",\"op\":\"c\"}}",
                 "without an after image");
    expect_error(d, CUSTOMERS_KEY,
                 "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":null,"
                 CUSTOMERS_SOURCE("false") ",\"op\":\"x\"}}",
                 "\"op\"");
    expect_error(d, CUSTOMERS_KEY, "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"op\":\"c\",\"after\":null}}",
                 "source.schema");
    /* a key field that is not a column */
    expect_error(d,
                 "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,"
                 "\"field\":\"nope\"}]},\"payload\":{\"nope\":1}}",
                 "{\"schema\":" CUSTOMERS_SCHEMA ",\"payload\":{\"before\":null,\"after\":{\"id\":1,"
                 "\"first_name\":\"a\",\"last_name\":\"b\",\"email\":\"c\"}," CUSTOMERS_SOURCE("false")
                 ",\"op\":\"c\"}}",
                 "key field nope");
    /* not a change event */
    expect_error(d, NULL, "{\"schema\":{\"type\":\"struct\",\"fields\":[],\"name\":\"x.y\"},\"payload\":{}}",
                 "not a Debezium change event");
    /* unsupported types */
#define ONE_COLUMN(field, payload)                                                                               \
    "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"fields\":[" field "],\"optional\":true,"   \
    "\"field\":\"after\"},{\"type\":\"struct\",\"fields\":[],\"field\":\"source\"},{\"type\":\"string\","          \
    "\"field\":\"op\"}]},\"payload\":{\"after\":{\"c\":" payload "},\"source\":{\"schema\":\"s\",\"table\":\"t\"},"  \
    "\"op\":\"c\"}}"
    expect_error(d, NULL,
                 ONE_COLUMN("{\"type\":\"struct\",\"fields\":[{\"type\":\"bytes\",\"field\":\"wkb\"},"
                            "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}],\"optional\":true,"
                            "\"name\":\"io.debezium.data.geometry.Geometry\",\"field\":\"c\"}",
                            "{\"wkb\":\"AQ==\",\"srid\":null}"),
                 "geometric");
    expect_error(d, NULL,
                 ONE_COLUMN("{\"type\":\"string\",\"name\":\"com.example.Custom\",\"field\":\"c\"}", "\"x\""),
                 "unknown semantic type com.example.Custom");
    expect_error(d, NULL,
                 ONE_COLUMN("{\"type\":\"map\",\"keys\":{\"type\":\"string\"},\"values\":{\"type\":\"string\"},"
                            "\"field\":\"c\"}",
                            "{\"a\":\"b\"}"),
                 "maps are not supported");
    expect_error(d, NULL, ONE_COLUMN("{\"type\":\"int64\",\"name\":\"io.debezium.time.Date\",\"field\":\"c\"}", "1"),
                 "must be a Connect int32");
    expect_error(d, NULL,
                 ONE_COLUMN("{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"field\":\"c\"}",
                            "\"AQ==\""),
                 "scale");
    /* values that are not valid for their column */
    expect_error(d, NULL,
                 ONE_COLUMN("{\"type\":\"string\",\"name\":\"io.debezium.data.Uuid\",\"field\":\"c\"}", "\"nope\""),
                 "column c");
    expect_error(d, NULL,
                 ONE_COLUMN("{\"type\":\"string\",\"name\":\"io.debezium.time.ZonedTimestamp\",\"field\":\"c\"}",
                            "\"2024-02-30T00:00:00Z\""),
                 "ISO-8601");
    expect_error(d, NULL, ONE_COLUMN("{\"type\":\"bytes\",\"field\":\"c\"}", "\"!!\""), "base64");
    expect_error(d, NULL, ONE_COLUMN("{\"type\":\"int16\",\"field\":\"c\"}", "40000"), "integer in range");
    debezium_decoder_destroy(d);
    arena_reset(A);
}

static void test_skipped(void **state)
{
    (void)state;
    debezium_options o = {.name = "srv", .db = "db", .schemas = 1};
    debezium_encoder *e = debezium_encoder_create(&o);
    debezium_decoder *d = debezium_decoder_create();
    buf k = BUF_INIT, v = BUF_INIT;
    char err[256] = "";
    event ev;
    /* tombstones */
    assert_int_equal(decode_text(d, CUSTOMERS_KEY, NULL, &ev, err, sizeof err), 0);
    assert_int_equal(decode_text(d, CUSTOMERS_KEY, "", &ev, err, sizeof err), 0);
    assert_int_equal(decode_text(d, CUSTOMERS_KEY, "null", &ev, err, sizeof err), 0);
    assert_int_equal(decode_text(d, NULL, "{\"schema\":{\"type\":\"struct\"},\"payload\":null}", &ev, err, sizeof err),
                     0);
    /* heartbeat */
    debezium_encode_heartbeat_key(e, &k);
    debezium_encode_heartbeat_value(e, &v, NOW_US);
    assert_int_equal(decode_text(d, k.data, v.data, &ev, err, sizeof err), 0);
    /* transaction metadata */
    buf_reset(&k);
    buf_reset(&v);
    debezium_encode_tx_key(e, &k, &TX);
    debezium_encode_tx_begin(e, &v, &TX);
    assert_int_equal(decode_text(d, k.data, v.data, &ev, err, sizeof err), 0);
    debezium_collection_count cc = {"public", "t", 3};
    buf_reset(&v);
    debezium_encode_tx_end(e, &v, &TX, 3, &cc, 1);
    assert_int_equal(decode_text(d, k.data, v.data, &ev, err, sizeof err), 0);
    /* a schema change record of another connector */
    assert_int_equal(decode_text(d, NULL,
                                 "{\"schema\":{\"type\":\"struct\",\"fields\":[],"
                                 "\"name\":\"io.debezium.connector.mysql.SchemaChangeValue\"},\"payload\":{}}",
                                 &ev, err, sizeof err),
                     0);
    assert_null(ev.table);
    assert_int_equal(debezium_decoder_table_count(d), 0);
    buf_free(&k);
    buf_free(&v);
    debezium_decoder_destroy(d);
    debezium_encoder_destroy(e);
    debezium_decoder_destroy(NULL);
}

static int setup(void **state)
{
    (void)state;
    A = arena_create(0);
    table_init();
    return A ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    arena_destroy(A);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_adaptive),
        cmocka_unit_test(test_round_trip_adaptive_us),
        cmocka_unit_test(test_round_trip_connect),
        cmocka_unit_test(test_truncate_keyless_versions),
        cmocka_unit_test(test_decimal_modes),
        cmocka_unit_test(test_debezium_customers),
        cmocka_unit_test(test_debezium_types),
        cmocka_unit_test(test_key_change_headers),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_skipped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
