/* Unit tests for encode/debezium_json: exact bytes of the value envelope (every op), keys,
 * key-change detection, every value kind under every decimal.handling.mode and
 * time.precision.mode, arrays (quoting, NULLs, nesting, malformed literals), the TOAST
 * placeholder, Connect schemas (schemas.enable=true), heartbeats and transaction metadata.
 * Every message is also parsed with jansson: all output must be valid JSON. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "encode/debezium_json.h"

#define NOW_US 1700000001654321LL

static const tx_info TX = {.xid = 571, .final_lsn = 53195832, .end_lsn = 53195900, .commit_time_us = 1700000000123456LL};

static debezium_encoder *enc_new(decimal_mode d, time_precision_mode t, int schemas)
{
    debezium_options o = {.name = "srv", .db = "db", .decimal = d, .time = t, .schemas = schemas};
    debezium_encoder *e = debezium_encoder_create(&o);
    assert_non_null(e);
    return e;
}

/* Fail unless text is one valid JSON document. */
static void assert_json(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
    if (!j)
        fail_msg("invalid JSON (%s at %d): %s", err.text, err.position, text);
    json_decref(j);
}

static buf out_buf;

static const char *encode_value(debezium_encoder *e, const event *ev, const debezium_tx_position *pos)
{
    buf_reset(&out_buf);
    debezium_encode_value(e, &out_buf, ev, NOW_US, pos);
    assert_json(out_buf.data);
    return out_buf.data;
}

/* ---- fixtures ---------------------------------------------------------------------------------- */

static column_def col_of(const char *name, uint32_t oid, value_kind kind, int32_t typmod, int key)
{
    column_def c = {.name = (char *)name, .type_oid = oid, .typmod = typmod, .type_name = (char *)"x", .kind = kind,
                    .elem_kind = VALUE_TEXT, .is_key = (uint8_t)key, .is_pk = (uint8_t)key,
                    .not_null = (uint8_t)key};
    return c;
}

static column_def arr_of(const char *name, uint32_t oid, value_kind elem, int32_t typmod)
{
    column_def c = col_of(name, oid, VALUE_ARRAY, typmod, 0);
    c.elem_kind = elem;
    return c;
}

static value vi(int64_t i)
{
    value v = {.state = VALUE_PRESENT};
    v.v.i = i;
    return v;
}

static value vs(const char *s)
{
    value v = {.state = VALUE_PRESENT, .s = s, .len = strlen(s)};
    return v;
}

static value vf(double f)
{
    value v = {.state = VALUE_PRESENT};
    v.v.f = f;
    return v;
}

static value vb(int b)
{
    value v = {.state = VALUE_PRESENT};
    v.v.b = b;
    return v;
}

static const value VNULL = {.state = VALUE_IS_NULL};
static const value VUNAV = {.state = VALUE_UNAVAILABLE};

/* public.t (id int4 key, name text) */
static column_def t_cols[2];
static table_def t_tab;

static void t_init(void)
{
    t_cols[0] = col_of("id", 23, VALUE_INT32, -1, 1);
    t_cols[1] = col_of("name", 25, VALUE_TEXT, -1, 0);
    t_tab = (table_def){.oid = 16384, .schema = (char *)"public", .name = (char *)"t", .replica_identity = 'd',
                        .version = 1, .ncols = 2, .cols = t_cols};
}

static event ev_of(event_op op, const value *before, const value *after)
{
    event ev = {.op = op, .table = &t_tab, .before = before, .after = after, .lsn = 53195800, .tx = &TX, .seq = 0};
    return ev;
}

#define SOURCE(snap)                                                                                               \
    "\"source\":{\"version\":\"" SLUICE_VERSION "\",\"connector\":\"postgresql\",\"name\":\"srv\","              \
    "\"ts_ms\":1700000000123,\"snapshot\":\"" snap "\",\"db\":\"db\",\"sequence\":\"[null,\\\"53195800\\\"]\"," \
    "\"ts_us\":1700000000123456,\"ts_ns\":1700000000123456000,\"schema\":\"public\",\"table\":\"t\",\"txId\":571,"  \
    "\"lsn\":53195800,\"xmin\":null}"
#define TAIL(op) ",\"op\":\"" op "\",\"ts_ms\":1700000001654,\"ts_us\":1700000001654321,\"ts_ns\":1700000001654321000"

/* The text of column c's value in the after image of a one-column table. */
static const char *after_c(debezium_encoder *e, column_def c, value v)
{
    static char text[4096];
    table_def t = {.schema = (char *)"public", .name = (char *)"t", .ncols = 1, .cols = &c};
    c.name = (char *)"c";
    event ev = {.op = EVENT_CREATE, .table = &t, .after = &v, .lsn = 1, .tx = &TX};
    const char *s = encode_value(e, &ev, NULL);
    const char *p = strstr(s, "\"after\":{\"c\":");
    const char *q = strstr(s, "},\"source\":");
    assert_non_null(p);
    assert_non_null(q);
    p += strlen("\"after\":{\"c\":");
    assert_true(q >= p && (size_t)(q - p) < sizeof text);
    memcpy(text, p, (size_t)(q - p));
    text[q - p] = '\0';
    return text;
}

#define ASSERT_AFTER(e, c, v, want) assert_string_equal(after_c((e), (c), (v)), (want))

/* ---- envelopes ---------------------------------------------------------------------------------- */

static void test_insert(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    value after[2] = {vi(1), vs("a")};
    event ev = ev_of(EVENT_CREATE, NULL, after);
    assert_string_equal(encode_value(e, &ev, NULL),
                        "{\"before\":null,\"after\":{\"id\":1,\"name\":\"a\"}," SOURCE("false") TAIL("c")
                        ",\"transaction\":null}");
    debezium_encoder_destroy(e);
}

static void test_update_delete_read_truncate(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    value before[2] = {vi(1), vs("a")}, after[2] = {vi(1), vs("b")};
    event ev = ev_of(EVENT_UPDATE, before, after);
    assert_string_equal(encode_value(e, &ev, NULL),
                        "{\"before\":{\"id\":1,\"name\":\"a\"},\"after\":{\"id\":1,\"name\":\"b\"}," SOURCE("false")
                            TAIL("u") ",\"transaction\":null}");
    /* REPLICA IDENTITY DEFAULT: the before image holds the key only */
    value key_only[2] = {vi(1), VNULL};
    ev = ev_of(EVENT_DELETE, key_only, NULL);
    ev.before_key_only = 1;
    assert_string_equal(encode_value(e, &ev, NULL),
                        "{\"before\":{\"id\":1,\"name\":null},\"after\":null," SOURCE("false") TAIL("d")
                        ",\"transaction\":null}");
    ev = ev_of(EVENT_READ, NULL, after);
    ev.snapshot = SNAPSHOT_TRUE;
    assert_string_equal(encode_value(e, &ev, NULL),
                        "{\"before\":null,\"after\":{\"id\":1,\"name\":\"b\"}," SOURCE("true") TAIL("r")
                        ",\"transaction\":null}");
    ev.snapshot = SNAPSHOT_LAST;
    assert_non_null(strstr(encode_value(e, &ev, NULL), "\"snapshot\":\"last\""));
    ev.snapshot = SNAPSHOT_INCREMENTAL;
    assert_non_null(strstr(encode_value(e, &ev, NULL), "\"snapshot\":\"incremental\""));
    ev = ev_of(EVENT_TRUNCATE, NULL, NULL);
    assert_string_equal(encode_value(e, &ev, NULL),
                        "{\"before\":null,\"after\":null," SOURCE("false") TAIL("t") ",\"transaction\":null}");
    /* the transaction block (provide.transaction.metadata) */
    debezium_tx_position pos = {.total_order = 3, .collection_order = 2};
    ev = ev_of(EVENT_CREATE, NULL, after);
    assert_string_equal(encode_value(e, &ev, &pos),
                        "{\"before\":null,\"after\":{\"id\":1,\"name\":\"b\"}," SOURCE("false") TAIL("c")
                        ",\"transaction\":{\"id\":\"571:53195832\",\"total_order\":3,\"data_collection_order\":2}}");
    /* snapshot reads without a transaction id */
    tx_info snap = {.xid = 0, .final_lsn = 53195832, .commit_time_us = 1700000000123456LL};
    ev = ev_of(EVENT_READ, NULL, after);
    ev.tx = &snap;
    assert_non_null(strstr(encode_value(e, &ev, NULL), "\"txId\":null,\"lsn\":53195800"));
    debezium_encoder_destroy(e);
}

/* ---- keys ----------------------------------------------------------------------------------------- */

static void test_keys(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    buf k = BUF_INIT;
    value after[2] = {vi(42), vs("x")};
    event ev = ev_of(EVENT_CREATE, NULL, after);
    assert_int_equal(debezium_encode_key(e, &k, &ev), 1);
    assert_string_equal(k.data, "{\"id\":42}");
    /* a delete's key comes from before */
    value before[2] = {vi(7), VNULL};
    ev = ev_of(EVENT_DELETE, before, NULL);
    buf_reset(&k);
    assert_int_equal(debezium_encode_key(e, &k, &ev), 1);
    assert_string_equal(k.data, "{\"id\":7}");
    /* composite keys in column order, any key type */
    column_def cc[3] = {col_of("region", 25, VALUE_TEXT, -1, 1), col_of("v", 25, VALUE_TEXT, -1, 0),
                        col_of("n", 20, VALUE_INT64, -1, 1)};
    table_def ct = {.schema = (char *)"s", .name = (char *)"c", .ncols = 3, .cols = cc};
    value row[3] = {vs("eu\"1"), vs("v"), vi(-5)};
    event ce = {.op = EVENT_CREATE, .table = &ct, .after = row, .tx = &TX};
    buf_reset(&k);
    assert_int_equal(debezium_encode_key(e, &k, &ce), 1);
    assert_string_equal(k.data, "{\"region\":\"eu\\\"1\",\"n\":-5}");
    /* keyless: 0 and nothing appended */
    column_def nk[1] = {col_of("v", 25, VALUE_TEXT, -1, 0)};
    table_def nt = {.schema = (char *)"s", .name = (char *)"nokey", .ncols = 1, .cols = nk};
    value nrow[1] = {vs("v")};
    event ne = {.op = EVENT_CREATE, .table = &nt, .after = nrow, .tx = &TX};
    buf_reset(&k);
    buf_puts(&k, "pre");
    assert_int_equal(debezium_encode_key(e, &k, &ne), 0);
    assert_string_equal(k.data, "pre");
    /* a truncate has no key either */
    ev = ev_of(EVENT_TRUNCATE, NULL, NULL);
    assert_int_equal(debezium_encode_key(e, &k, &ev), 0);
    assert_string_equal(k.data, "pre");
    /* with schemas */
    debezium_encoder *es = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 1);
    ev = ev_of(EVENT_CREATE, NULL, after);
    buf_reset(&k);
    assert_int_equal(debezium_encode_key(es, &k, &ev), 1);
    assert_string_equal(k.data, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,"
                                "\"field\":\"id\"}],\"optional\":false,\"name\":\"srv.public.t.Key\"},"
                                "\"payload\":{\"id\":42}}");
    assert_json(k.data);
    buf_free(&k);
    debezium_encoder_destroy(es);
    debezium_encoder_destroy(e);
}

static void test_key_changed(void **state)
{
    (void)state;
    value b1[2] = {vi(1), vs("a")}, a1[2] = {vi(1), vs("b")}, a2[2] = {vi(2), vs("a")};
    event ev = ev_of(EVENT_UPDATE, b1, a1);
    assert_int_equal(debezium_key_changed(&ev), 0);   /* only a non-key column changed */
    ev = ev_of(EVENT_UPDATE, b1, a2);
    assert_int_equal(debezium_key_changed(&ev), 1);
    ev = ev_of(EVENT_UPDATE, NULL, a2);
    assert_int_equal(debezium_key_changed(&ev), 0);   /* no before image */
    ev = ev_of(EVENT_CREATE, b1, a2);
    assert_int_equal(debezium_key_changed(&ev), 0);   /* not an update */
    value bk[2] = {vi(1), VNULL};
    ev = ev_of(EVENT_UPDATE, bk, a2);
    ev.before_key_only = 1;
    assert_int_equal(debezium_key_changed(&ev), 1);
    /* text keys compare by content */
    column_def cc[1] = {col_of("k", 25, VALUE_TEXT, -1, 1)};
    table_def ct = {.schema = (char *)"s", .name = (char *)"c", .ncols = 1, .cols = cc};
    value tb[1] = {vs("abc")}, ta[1] = {vs("abd")}, ts[1] = {vs("abc")};
    event te = {.op = EVENT_UPDATE, .table = &ct, .before = tb, .after = ta};
    assert_int_equal(debezium_key_changed(&te), 1);
    te.after = ts;
    assert_int_equal(debezium_key_changed(&te), 0);
    te.after = &VNULL;
    assert_int_equal(debezium_key_changed(&te), 1);
    /* REPLICA IDENTITY FULL: every column is in the identity, the key is still the primary key */
    column_def fc[2] = {col_of("id", 23, VALUE_INT32, -1, 1), col_of("v", 25, VALUE_TEXT, -1, 0)};
    fc[1].is_key = 1;
    table_def ft = {.schema = (char *)"s", .name = (char *)"f", .ncols = 2, .cols = fc};
    value fb[2] = {vi(1), vs("a")}, fa[2] = {vi(1), vs("b")};
    event fe = {.op = EVENT_UPDATE, .table = &ft, .before = fb, .after = fa, .tx = &TX};
    assert_int_equal(debezium_key_changed(&fe), 0);
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    buf k = BUF_INIT;
    assert_int_equal(debezium_encode_key(e, &k, &fe), 1);
    assert_string_equal(k.data, "{\"id\":1}");
    /* and without a primary key there is no key */
    fc[0].is_pk = 0;
    fe.table = &ft;
    buf_reset(&k);
    debezium_encoder_destroy(e);
    e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    assert_int_equal(debezium_encode_key(e, &k, &fe), 0);
    buf_free(&k);
    debezium_encoder_destroy(e);
}

/* ---- values --------------------------------------------------------------------------------------- */

static void test_scalars(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    ASSERT_AFTER(e, col_of("c", 16, VALUE_BOOL, -1, 0), vb(1), "true");
    ASSERT_AFTER(e, col_of("c", 16, VALUE_BOOL, -1, 0), vb(0), "false");
    ASSERT_AFTER(e, col_of("c", 21, VALUE_INT16, -1, 0), vi(-32768), "-32768");
    ASSERT_AFTER(e, col_of("c", 23, VALUE_INT32, -1, 0), vi(2147483647), "2147483647");
    ASSERT_AFTER(e, col_of("c", 20, VALUE_INT64, -1, 0), vi(INT64_MIN), "-9223372036854775808");
    ASSERT_AFTER(e, col_of("c", 26, VALUE_INT32, -1, 0), vi(4294967295LL), "4294967295");
    ASSERT_AFTER(e, col_of("c", 25, VALUE_TEXT, -1, 0), VNULL, "null");
    /* text: Jackson's escapes */
    ASSERT_AFTER(e, col_of("c", 25, VALUE_TEXT, -1, 0), vs("a\"b\\c\n\t\r\x01\x08\x0c\x1f\x7f é ✓"),
                 "\"a\\\"b\\\\c\\n\\t\\r\\u0001\\b\\f\\u001F\x7f é ✓\"");
    ASSERT_AFTER(e, col_of("c", 25, VALUE_TEXT, -1, 0), vs(""), "\"\"");
    ASSERT_AFTER(e, col_of("c", 142, VALUE_TEXT, -1, 0), vs("<a/>"), "\"<a/>\"");
    ASSERT_AFTER(e, col_of("c", 2950, VALUE_UUID, -1, 0), vs("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                 "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    ASSERT_AFTER(e, col_of("c", 3802, VALUE_JSON, -1, 0), vs("{\"a\": [1, 2]}"), "\"{\\\"a\\\": [1, 2]}\"");
    ASSERT_AFTER(e, col_of("c", 869, VALUE_INET, -1, 0), vs("192.168.1.5/24"), "\"192.168.1.5/24\"");
    value by = {.state = VALUE_PRESENT, .s = "\x00\xff\x10", .len = 3};
    ASSERT_AFTER(e, col_of("c", 17, VALUE_BYTES, -1, 0), by, "\"AP8Q\"");
    value empty = {.state = VALUE_PRESENT, .s = "", .len = 0};
    ASSERT_AFTER(e, col_of("c", 17, VALUE_BYTES, -1, 0), empty, "\"\"");
    /* bit(1) is a boolean, longer bit strings io.debezium.data.Bits (little-endian bytes) */
    ASSERT_AFTER(e, col_of("c", 1560, VALUE_TEXT, 1, 0), vs("1"), "true");
    ASSERT_AFTER(e, col_of("c", 1560, VALUE_TEXT, 1, 0), vs("0"), "false");
    ASSERT_AFTER(e, col_of("c", 1560, VALUE_TEXT, 10, 0), vs("1000000001"), "\"AQI=\"");
    ASSERT_AFTER(e, col_of("c", 1562, VALUE_TEXT, -1, 0), vs("101"), "\"BQ==\"");
    ASSERT_AFTER(e, col_of("c", 1562, VALUE_TEXT, -1, 0), vs("000"), "\"\"");
    /* interval: MicroDuration, 365.25 / 12 days a month */
    value iv = {.state = VALUE_PRESENT};
    iv.v.interval.months = 14;
    iv.v.interval.days = -3;
    iv.v.interval.us = -1500000;
    ASSERT_AFTER(e, col_of("c", 1186, VALUE_INTERVAL, -1, 0), iv, "36557998500000");
    iv.v.interval.months = 0;
    iv.v.interval.days = 3;
    iv.v.interval.us = 14706789000LL;   /* 04:05:06.789 */
    ASSERT_AFTER(e, col_of("c", 1186, VALUE_INTERVAL, -1, 0), iv, "273906789000");
    iv.v.interval.months = 2136000000;   /* 178000000 years: past a long, saturates like Java */
    ASSERT_AFTER(e, col_of("c", 1186, VALUE_INTERVAL, -1, 0), iv, "9223372036854775807");
    iv.v.interval.months = -2136000000;
    ASSERT_AFTER(e, col_of("c", 1186, VALUE_INTERVAL, -1, 0), iv, "-9223372036854775808");
    debezium_encoder_destroy(e);
}

static void test_floats(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    column_def f8 = col_of("c", 701, VALUE_FLOAT64, -1, 0), f4 = col_of("c", 700, VALUE_FLOAT32, -1, 0);
    /* Double.toString / Float.toString */
    ASSERT_AFTER(e, f8, vf(3.141592653589793), "3.141592653589793");
    ASSERT_AFTER(e, f8, vf(0.1), "0.1");
    ASSERT_AFTER(e, f8, vf(100.0), "100.0");
    ASSERT_AFTER(e, f8, vf(1e308), "1.0E308");
    ASSERT_AFTER(e, f8, vf(123456.789), "123456.789");
    ASSERT_AFTER(e, f8, vf(9999999.0), "9999999.0");
    ASSERT_AFTER(e, f8, vf(1e7), "1.0E7");
    ASSERT_AFTER(e, f8, vf(0.001), "0.001");
    ASSERT_AFTER(e, f8, vf(0.0001), "1.0E-4");
    ASSERT_AFTER(e, f8, vf(-1.5e-10), "-1.5E-10");
    ASSERT_AFTER(e, f8, vf(-0.0), "-0.0");
    ASSERT_AFTER(e, f8, vf(0.0), "0.0");
    ASSERT_AFTER(e, f8, vf(4.9e-324), "4.9E-324");
    ASSERT_AFTER(e, f8, vf(2.0 / 3), "0.6666666666666666");
    ASSERT_AFTER(e, f8, vf(9007199254740993.0), "9.007199254740992E15");
    ASSERT_AFTER(e, f8, vf(1.7976931348623157e308), "1.7976931348623157E308");
    ASSERT_AFTER(e, f8, vf(NAN), "\"NaN\"");
    ASSERT_AFTER(e, f8, vf(INFINITY), "\"Infinity\"");
    ASSERT_AFTER(e, f8, vf(-INFINITY), "\"-Infinity\"");
    /* integers of 2^53 (float: 2^24) up to 2^63 print as JDK 17's FloatingDecimal does */
    uint64_t dbits = 0x43b3edf513113d5fULL;
    double big;
    memcpy(&big, &dbits, sizeof big);
    ASSERT_AFTER(e, f8, vf(big), "1.43607331844347469E18");
    ASSERT_AFTER(e, f8, vf(-big), "-1.43607331844347469E18");
    uint32_t fbits = 0x50e77637u;
    float fbig;
    memcpy(&fbig, &fbits, sizeof fbig);
    ASSERT_AFTER(e, f4, vf((double)fbig), "3.10662738E10");
    ASSERT_AFTER(e, f4, vf(1e10), "1.0E10");
    ASSERT_AFTER(e, f4, vf((double)1.1f), "1.1");
    ASSERT_AFTER(e, f4, vf((double)-3.4e38f), "-3.4E38");
    ASSERT_AFTER(e, f4, vf((double)1e-5f), "1.0E-5");
    ASSERT_AFTER(e, f4, vf((double)0.3f), "0.3");
    ASSERT_AFTER(e, f4, vf((double)16777217.0f), "1.6777216E7");
    ASSERT_AFTER(e, f4, vf((double)1.4e-45f), "1.4E-45");
    ASSERT_AFTER(e, f4, vf((double)3.4028235e38f), "3.4028235E38");
    debezium_encoder_destroy(e);
}

#define NUMERIC_TYPMOD(p, s) ((((p) << 16) | ((s) & 0x7ff)) + 4)

static void test_decimal_precise(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    column_def n102 = col_of("c", 1700, VALUE_NUMERIC, NUMERIC_TYPMOD(10, 2), 0);
    column_def n380 = col_of("c", 1700, VALUE_NUMERIC, NUMERIC_TYPMOD(38, 0), 0);
    column_def nany = col_of("c", 1700, VALUE_NUMERIC, -1, 0);
    /* Connect Decimal: BigInteger.toByteArray of the unscaled value */
    ASSERT_AFTER(e, n102, vs("12.34"), "\"BNI=\"");
    ASSERT_AFTER(e, n102, vs("-12.34"), "\"+y4=\"");
    ASSERT_AFTER(e, n102, vs("0.00"), "\"AA==\"");
    ASSERT_AFTER(e, n102, vs("1.5"), "\"AJY=\"");   /* setScale(2): 150, a leading 0x00 keeps it positive */
    ASSERT_AFTER(e, n102, vs("-1.28"), "\"gA==\"");
    ASSERT_AFTER(e, n102, vs("1.28"), "\"AIA=\"");
    ASSERT_AFTER(e, n102, vs("-1.29"), "\"/38=\"");
    ASSERT_AFTER(e, n102, vs("-2.56"), "\"/wA=\"");
    ASSERT_AFTER(e, n380, vs("123456789012345678901234567890"), "\"AY7pD/bDc+DuTj8K0g==\"");
    ASSERT_AFTER(e, n380, vs("-123456789012345678901234567890"), "\"/nEW8Ak8jB8RscD1Lg==\"");
    ASSERT_AFTER(e, n380, vs("10000000000000000000000000000000000000001"), "\"HWMp8cNcpL+rufVhAAAAAAE=\"");
    ASSERT_AFTER(e, n380, vs("-9223372036854775808"), "\"gAAAAAAAAAA=\"");
    ASSERT_AFTER(e, n380, vs("9223372036854775808"), "\"AIAAAAAAAAAA\"");
    /* numeric without typmod: VariableScaleDecimal with the scale PostgreSQL printed */
    ASSERT_AFTER(e, nany, vs("12.3400"), "{\"scale\":4,\"value\":\"AeII\"}");
    ASSERT_AFTER(e, nany, vs("100"), "{\"scale\":0,\"value\":\"ZA==\"}");
    ASSERT_AFTER(e, nany, vs("0.000"), "{\"scale\":3,\"value\":\"AA==\"}");
    ASSERT_AFTER(e, nany, vs("-0.5"), "{\"scale\":1,\"value\":\"+w==\"}");
    ASSERT_AFTER(e, nany, vs("123456789012345678901234567890.5"), "{\"scale\":1,\"value\":\"D5Uan6OihslPDnZsOQ==\"}");
    /* NaN and infinities cannot be a Connect Decimal (Debezium fails there): null */
    ASSERT_AFTER(e, nany, vs("NaN"), "null");
    ASSERT_AFTER(e, n102, vs("Infinity"), "null");
    ASSERT_AFTER(e, nany, vs("-Infinity"), "null");
    /* money: Decimal with scale 2 */
    ASSERT_AFTER(e, col_of("c", 790, VALUE_MONEY, -1, 0), vi(1234), "\"BNI=\"");
    ASSERT_AFTER(e, col_of("c", 790, VALUE_MONEY, -1, 0), vi(-100), "\"nA==\"");
    debezium_encoder_destroy(e);
}

static void test_decimal_string_double(void **state)
{
    (void)state;
    debezium_encoder *s = enc_new(DECIMAL_STRING, TIME_ADAPTIVE, 0);
    column_def n102 = col_of("c", 1700, VALUE_NUMERIC, NUMERIC_TYPMOD(10, 2), 0);
    column_def n108 = col_of("c", 1700, VALUE_NUMERIC, NUMERIC_TYPMOD(10, 8), 0);
    column_def nany = col_of("c", 1700, VALUE_NUMERIC, -1, 0);
    column_def money = col_of("c", 790, VALUE_MONEY, -1, 0);
    /* BigDecimal.toString() */
    ASSERT_AFTER(s, n102, vs("12.30"), "\"12.30\"");
    ASSERT_AFTER(s, n102, vs("-0.01"), "\"-0.01\"");
    ASSERT_AFTER(s, n108, vs("0.00000000"), "\"0E-8\"");
    ASSERT_AFTER(s, n108, vs("0.00000123"), "\"0.00000123\"");
    ASSERT_AFTER(s, nany, vs("0.0000001"), "\"1E-7\"");
    ASSERT_AFTER(s, nany, vs("-0.000001"), "\"-0.000001\"");
    ASSERT_AFTER(s, nany, vs("123456789012345678901234567890.5"), "\"123456789012345678901234567890.5\"");
    ASSERT_AFTER(s, nany, vs("0"), "\"0\"");
    /* SpecialValueDecimal's names */
    ASSERT_AFTER(s, nany, vs("NaN"), "\"NAN\"");
    ASSERT_AFTER(s, nany, vs("Infinity"), "\"POSITIVE_INFINITY\"");
    ASSERT_AFTER(s, nany, vs("-Infinity"), "\"NEGATIVE_INFINITY\"");
    ASSERT_AFTER(s, money, vi(1234), "\"12.34\"");
    ASSERT_AFTER(s, money, vi(-100), "\"-1.00\"");
    ASSERT_AFTER(s, money, vi(5), "\"0.05\"");
    debezium_encoder_destroy(s);

    debezium_encoder *d = enc_new(DECIMAL_DOUBLE, TIME_ADAPTIVE, 0);
    ASSERT_AFTER(d, n102, vs("12.34"), "12.34");
    ASSERT_AFTER(d, nany, vs("123456789012345678901234567890.5"), "1.2345678901234568E29");
    ASSERT_AFTER(d, nany, vs("NaN"), "\"NaN\"");
    ASSERT_AFTER(d, nany, vs("-Infinity"), "\"-Infinity\"");
    ASSERT_AFTER(d, money, vi(1234), "12.34");
    ASSERT_AFTER(d, money, vi(-100), "-1.0");
    debezium_encoder_destroy(d);
}

static void test_time_modes(void **state)
{
    (void)state;
    debezium_encoder *ad = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    debezium_encoder *us = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE_MICROSECONDS, 0);
    debezium_encoder *cn = enc_new(DECIMAL_PRECISE, TIME_CONNECT, 0);
    column_def t6 = col_of("c", 1083, VALUE_TIME, 6, 0), t3 = col_of("c", 1083, VALUE_TIME, 3, 0);
    column_def tn = col_of("c", 1083, VALUE_TIME, -1, 0);
    column_def s6 = col_of("c", 1114, VALUE_TIMESTAMP, 6, 0), s3 = col_of("c", 1114, VALUE_TIMESTAMP, 3, 0);
    column_def sn = col_of("c", 1114, VALUE_TIMESTAMP, -1, 0);
    column_def date = col_of("c", 1082, VALUE_DATE, -1, 0);
    /* 13:45:06.123456 and 13:45:06.123 */
    value tv6 = vi(49506123456LL), tv3 = vi(49506123000LL);
    ASSERT_AFTER(ad, t6, tv6, "49506123456");
    ASSERT_AFTER(ad, tn, tv6, "49506123456");
    ASSERT_AFTER(ad, t3, tv3, "49506123");
    ASSERT_AFTER(us, t6, tv6, "49506123456");
    ASSERT_AFTER(us, t3, tv3, "49506123000");
    ASSERT_AFTER(cn, t6, tv6, "49506123");
    ASSERT_AFTER(cn, t3, tv3, "49506123");
    ASSERT_AFTER(ad, tn, vi(86400000000LL), "86400000000");   /* 24:00:00 */
    /* 2024-02-29 13:45:06.123456 / .123 */
    value sv6 = vi(1709214306123456LL), sv3 = vi(1709214306123000LL);
    ASSERT_AFTER(ad, s6, sv6, "1709214306123456");
    ASSERT_AFTER(ad, sn, sv6, "1709214306123456");
    ASSERT_AFTER(ad, s3, sv3, "1709214306123");
    ASSERT_AFTER(us, s6, sv6, "1709214306123456");
    ASSERT_AFTER(us, s3, sv3, "1709214306123");
    ASSERT_AFTER(cn, s6, sv6, "1709214306123");
    ASSERT_AFTER(cn, s3, sv3, "1709214306123");
    ASSERT_AFTER(ad, s3, vi(-1000), "-1");
    ASSERT_AFTER(cn, s6, vi(-1), "-1");   /* floor, as Instant.toEpochMilli */
    /* infinities as PostgresValueConverter maps them */
    ASSERT_AFTER(ad, s6, vi(INT64_MAX), "9223372036825200000");
    ASSERT_AFTER(ad, s6, vi(INT64_MIN), "-9223372036832400000");
    ASSERT_AFTER(ad, s3, vi(INT64_MAX), "9223372036825200");
    ASSERT_AFTER(ad, date, vi(19782), "19782");
    ASSERT_AFTER(cn, date, vi(-719162), "-719162");
    ASSERT_AFTER(ad, date, vi(INT64_MAX), "-2147472692");
    ASSERT_AFTER(ad, date, vi(INT64_MIN), "-2147472691");
    /* zoned types are strings in every mode */
    column_def tz = col_of("c", 1184, VALUE_TIMESTAMPTZ, -1, 0), tz3 = col_of("c", 1184, VALUE_TIMESTAMPTZ, 3, 0);
    column_def tz0 = col_of("c", 1184, VALUE_TIMESTAMPTZ, 0, 0);
    debezium_encoder *all[3] = {ad, us, cn};
    for (int i = 0; i < 3; i++) {
        ASSERT_AFTER(all[i], tz, vi(1709210706123456LL), "\"2024-02-29T12:45:06.123456Z\"");
        ASSERT_AFTER(all[i], tz, vi(1709210706000000LL), "\"2024-02-29T12:45:06.000000Z\"");
        ASSERT_AFTER(all[i], tz, vi(-1), "\"1969-12-31T23:59:59.999999Z\"");
        ASSERT_AFTER(all[i], tz3, vi(1709210706120000LL), "\"2024-02-29T12:45:06.120Z\"");
        ASSERT_AFTER(all[i], tz0, vi(1709210706000000LL), "\"2024-02-29T12:45:06Z\"");
        ASSERT_AFTER(all[i], tz, vi(600000000000000000LL), "\"+20983-03-30T10:40:00.000000Z\"");
        ASSERT_AFTER(all[i], tz0, vi(-62167219200000000LL), "\"0000-01-01T00:00:00Z\"");
        ASSERT_AFTER(all[i], tz0, vi(-62198755200000000LL), "\"-0001-01-01T00:00:00Z\"");
        ASSERT_AFTER(all[i], tz, vi(INT64_MAX), "\"infinity\"");
        ASSERT_AFTER(all[i], tz, vi(INT64_MIN), "\"-infinity\"");
        value ttz = vi(49506500000LL);   /* 13:45:06.5+02 */
        ttz.tz_offset = 7200;
        ASSERT_AFTER(all[i], col_of("c", 1266, VALUE_TIMETZ, -1, 0), ttz, "\"11:45:06.5Z\"");
        ttz = vi(0);
        ttz.tz_offset = -43200;
        ASSERT_AFTER(all[i], col_of("c", 1266, VALUE_TIMETZ, -1, 0), ttz, "\"12:00:00Z\"");
    }
    debezium_encoder_destroy(ad);
    debezium_encoder_destroy(us);
    debezium_encoder_destroy(cn);
}

static void test_arrays(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    column_def ia = arr_of("c", 1007, VALUE_INT32, -1), ta = arr_of("c", 1009, VALUE_TEXT, -1);
    ASSERT_AFTER(e, ia, vs("{1,2,NULL}"), "[1,2,null]");
    ASSERT_AFTER(e, ia, vs("{}"), "[]");
    ASSERT_AFTER(e, ia, vs("{{1,2},{3,4}}"), "[[1,2],[3,4]]");
    ASSERT_AFTER(e, ia, vs("[0:1]={7,8}"), "[7,8]");
    ASSERT_AFTER(e, ia, vs("{{{1}},{{2}}}"), "[[[1]],[[2]]]");
    ASSERT_AFTER(e, ta, vs("{\"a b\",\"c\\\"d\",plain,NULL,\"NULL\",\"back\\\\slash\",null}"),
                 "[\"a b\",\"c\\\"d\",\"plain\",null,\"NULL\",\"back\\\\slash\",null]");
    ASSERT_AFTER(e, ta, vs("{\"{x}\",\"a,b\",\"\"}"), "[\"{x}\",\"a,b\",\"\"]");
    ASSERT_AFTER(e, ta, vs("{\"x y\",z}"), "[\"x y\",\"z\"]");
    ASSERT_AFTER(e, ta, vs("{NULL}"), "[null]");
    /* malformed literals, or elements that are not of the element type, stay text */
    ASSERT_AFTER(e, ia, vs("{1,2"), "\"{1,2\"");
    ASSERT_AFTER(e, ia, vs("{1,x}"), "\"{1,x}\"");
    ASSERT_AFTER(e, ia, vs("1,2}"), "\"1,2}\"");
    ASSERT_AFTER(e, ta, vs("{\"unterminated}"), "\"{\\\"unterminated}\"");
    ASSERT_AFTER(e, ia, vs("{1,2}}"), "\"{1,2}}\"");
    ASSERT_AFTER(e, ia, vs("{{{{{{{1}}}}}}}"), "\"{{{{{{{1}}}}}}}\"");
    ASSERT_AFTER(e, ia, vs(""), "\"\"");
    /* elements convert like scalars of their kind */
    ASSERT_AFTER(e, arr_of("c", 1231, VALUE_NUMERIC, NUMERIC_TYPMOD(10, 2)), vs("{1.20,3.40}"), "[\"eA==\",\"AVQ=\"]");
    ASSERT_AFTER(e, arr_of("c", 1231, VALUE_NUMERIC, -1), vs("{1.1,2.22}"),
                 "[{\"scale\":1,\"value\":\"Cw==\"},{\"scale\":2,\"value\":\"AN4=\"}]");
    ASSERT_AFTER(e, arr_of("c", 1185, VALUE_TIMESTAMPTZ, -1), vs("{\"2020-04-01 11:51:02+00\",NULL}"),
                 "[\"2020-04-01T11:51:02.000000Z\",null]");
    ASSERT_AFTER(e, arr_of("c", 1001, VALUE_BYTES, -1), vs("{\"\\\\x0102\"}"), "[\"AQI=\"]");
    ASSERT_AFTER(e, arr_of("c", 1000, VALUE_BOOL, -1), vs("{t,f}"), "[true,false]");
    ASSERT_AFTER(e, arr_of("c", 1021, VALUE_FLOAT32, -1), vs("{1.5,NaN}"), "[1.5,\"NaN\"]");
    ASSERT_AFTER(e, arr_of("c", 2951, VALUE_UUID, -1), vs("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"),
                 "[\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"]");
    ASSERT_AFTER(e, arr_of("c", 1182, VALUE_DATE, -1), vs("{2024-02-29}"), "[19782]");
    ASSERT_AFTER(e, arr_of("c", 1020, VALUE_TEXT, -1), vs("{(1,1),(0,0);(2,2),(1,1)}"),
                 "[\"(1,1),(0,0)\",\"(2,2),(1,1)\"]");
    ASSERT_AFTER(e, arr_of("c", 3807, VALUE_JSON, -1), vs("{\"{\\\"a\\\": 1}\"}"), "[\"{\\\"a\\\": 1}\"]");
    debezium_encoder_destroy(e);
}

static void test_unavailable(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    ASSERT_AFTER(e, col_of("c", 25, VALUE_TEXT, -1, 0), VUNAV, "\"__debezium_unavailable_value\"");
    ASSERT_AFTER(e, col_of("c", 3802, VALUE_JSON, -1, 0), VUNAV, "\"__debezium_unavailable_value\"");
    ASSERT_AFTER(e, col_of("c", 17, VALUE_BYTES, -1, 0), VUNAV, "\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\"");
    ASSERT_AFTER(e, arr_of("c", 1009, VALUE_TEXT, -1), VUNAV, "[\"__debezium_unavailable_value\"]");
    ASSERT_AFTER(e, arr_of("c", 1007, VALUE_INT32, -1), VUNAV,
                 "[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,95,118,97,108,117,"
                 "101]");
    debezium_encoder_destroy(e);
}

/* ---- schemas ------------------------------------------------------------------------------------- */

static void test_schemas(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 1);
    column_def cols[10] = {
        col_of("id", 23, VALUE_INT32, -1, 1),
        col_of("amount", 1700, VALUE_NUMERIC, NUMERIC_TYPMOD(10, 2), 0),
        col_of("any", 1700, VALUE_NUMERIC, -1, 0),
        col_of("at", 1114, VALUE_TIMESTAMP, 3, 0),
        col_of("t", 1083, VALUE_TIME, -1, 0),
        col_of("tz", 1184, VALUE_TIMESTAMPTZ, -1, 0),
        arr_of("tags", 1009, VALUE_TEXT, -1),
        col_of("doc", 3802, VALUE_JSON, -1, 0),
        col_of("o", 26, VALUE_INT32, -1, 0),
        col_of("bits", 1560, VALUE_TEXT, 12, 0),
    };
    table_def t = {.schema = (char *)"public", .name = (char *)"orders", .ncols = 10, .cols = cols};
    value row[10] = {vi(1), vs("12.34"), vs("1.5"), vi(1709214306123LL * 1000), vi(0), vi(0), vs("{a}"), vs("{}"),
                     vi(7), vs("000000000001")};
    event ev = {.op = EVENT_CREATE, .table = &t, .after = row, .lsn = 53195800, .tx = &TX};
    const char *s = encode_value(e, &ev, NULL);
    json_error_t err;
    json_t *j = json_loads(s, 0, &err);
    assert_non_null(j);
    json_t *schema = json_object_get(j, "schema"), *payload = json_object_get(j, "payload");
    assert_non_null(schema);
    assert_non_null(payload);
    assert_int_equal(json_object_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(schema, "name")), "srv.public.orders.Envelope");
    assert_int_equal(json_integer_value(json_object_get(schema, "version")), 1);
    json_t *fields = json_object_get(schema, "fields");
    static const char *const names[] = {"before", "after", "source", "op", "ts_ms", "ts_us", "ts_ns", "transaction"};
    assert_int_equal(json_array_size(fields), 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(fields, i), "field")), names[i]);
    json_t *after = json_array_get(fields, 1);
    assert_string_equal(json_string_value(json_object_get(after, "name")), "srv.public.orders.Value");
    assert_true(json_is_true(json_object_get(after, "optional")));
    assert_int_equal(json_array_size(json_object_get(after, "fields")), 10);
    assert_string_equal(json_string_value(json_object_get(json_object_get(payload, "after"), "amount")), "BNI=");
    json_decref(j);
    /* exact fragments, in JsonConverter's key order */
    assert_non_null(strstr(s, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"fields\":["
                              "{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"));
    assert_non_null(strstr(s, "{\"type\":\"bytes\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Decimal\","
                              "\"version\":1,\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"10\"},"
                              "\"field\":\"amount\"}"));
    assert_non_null(strstr(s, "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
                              "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}],\"optional\":true,"
                              "\"name\":\"io.debezium.data.VariableScaleDecimal\",\"version\":1,"
                              "\"doc\":\"Variable scaled decimal\",\"field\":\"any\"}"));
    assert_non_null(strstr(s, "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.Timestamp\","
                              "\"version\":1,\"field\":\"at\"}"));
    assert_non_null(strstr(s, "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroTime\","
                              "\"version\":1,\"field\":\"t\"}"));
    assert_non_null(strstr(s, "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.time.ZonedTimestamp\","
                              "\"version\":1,\"field\":\"tz\"}"));
    assert_non_null(strstr(s, "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":true},"
                              "\"optional\":true,\"field\":\"tags\"}"));
    assert_non_null(strstr(s, "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\","
                              "\"version\":1,\"field\":\"doc\"}"));
    assert_non_null(strstr(s, "{\"type\":\"int64\",\"optional\":true,\"field\":\"o\"}"));
    assert_non_null(strstr(s, "{\"type\":\"bytes\",\"optional\":true,\"name\":\"io.debezium.data.Bits\",\"version\":1,"
                              "\"parameters\":{\"length\":\"12\"},\"field\":\"bits\"}"));
    assert_non_null(strstr(s, "],\"optional\":true,\"name\":\"srv.public.orders.Value\",\"field\":\"before\"},"));
    assert_non_null(strstr(s, "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"
                              "\"parameters\":{\"allowed\":\"true,last,false,incremental\"},\"default\":\"false\","
                              "\"field\":\"snapshot\"}"));
    assert_non_null(strstr(s, "{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"}],\"optional\":false,"
                              "\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"},"
                              "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
                              "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
                              "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
                              "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"
                              "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
                              "{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"
                              "{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],"
                              "\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}],"
                              "\"optional\":false,\"name\":\"srv.public.orders.Envelope\",\"version\":1},"
                              "\"payload\":{\"before\":null,\"after\":{\"id\":1,"));
    /* the cached schema is reused byte for byte */
    char *first = strdup(s);
    assert_string_equal(encode_value(e, &ev, NULL), first);
    free(first);
    debezium_encoder_destroy(e);

    /* an enum column lists its labels; a NOT NULL column is not optional */
    debezium_encoder *en = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 1);
    column_def mood[3] = {col_of("id", 23, VALUE_INT32, -1, 1), col_of("mood", 16500, VALUE_TEXT, -1, 0),
                          col_of("note", 25, VALUE_TEXT, -1, 0)};
    mood[1].enum_labels = (char *)"sad,ok,happy";
    mood[2].not_null = 1;
    table_def mt = {.schema = (char *)"public", .name = (char *)"m", .ncols = 3, .cols = mood};
    value mrow[3] = {vi(1), vs("ok"), vs("n")};
    event me = {.op = EVENT_CREATE, .table = &mt, .after = mrow, .tx = &TX};
    s = encode_value(en, &me, NULL);
    assert_non_null(strstr(s, "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"
                              "\"parameters\":{\"allowed\":\"sad,ok,happy\"},\"field\":\"mood\"}"));
    assert_non_null(strstr(s, "\"mood\":\"ok\""));
    assert_non_null(strstr(s, "{\"type\":\"string\",\"optional\":false,\"field\":\"note\"}"));
    debezium_encoder_destroy(en);

    /* other modes change the field schemas */
    debezium_encoder *c = enc_new(DECIMAL_STRING, TIME_CONNECT, 1);
    s = encode_value(c, &ev, NULL);
    assert_non_null(strstr(s, "{\"type\":\"string\",\"optional\":true,\"field\":\"amount\"}"));
    assert_non_null(strstr(s, "{\"type\":\"int64\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Timestamp\","
                              "\"version\":1,\"field\":\"at\"}"));
    assert_non_null(strstr(s, "{\"type\":\"int32\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Time\","
                              "\"version\":1,\"field\":\"t\"}"));
    debezium_encoder_destroy(c);
    debezium_encoder *d = enc_new(DECIMAL_DOUBLE, TIME_ADAPTIVE_MICROSECONDS, 1);
    s = encode_value(d, &ev, NULL);
    assert_non_null(strstr(s, "{\"type\":\"double\",\"optional\":true,\"field\":\"any\"}"));
    assert_non_null(strstr(s, "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.Timestamp\","
                              "\"version\":1,\"field\":\"at\"}"));
    debezium_encoder_destroy(d);
}

/* A table of every kind, encoded with schemas in every mode: always valid JSON. */
static void test_schemas_every_kind(void **state)
{
    (void)state;
    column_def cols[] = {
        col_of("k", 20, VALUE_INT64, -1, 1),       col_of("b", 16, VALUE_BOOL, -1, 0),
        col_of("i2", 21, VALUE_INT16, -1, 0),      col_of("f4", 700, VALUE_FLOAT32, -1, 0),
        col_of("f8", 701, VALUE_FLOAT64, -1, 0),   col_of("m", 790, VALUE_MONEY, -1, 0),
        col_of("by", 17, VALUE_BYTES, -1, 0),      col_of("d", 1082, VALUE_DATE, -1, 0),
        col_of("ttz", 1266, VALUE_TIMETZ, -1, 0),  col_of("iv", 1186, VALUE_INTERVAL, -1, 0),
        col_of("u", 2950, VALUE_UUID, -1, 0),      col_of("x", 142, VALUE_TEXT, -1, 0),
        col_of("bit1", 1560, VALUE_TEXT, 1, 0),    arr_of("na", 1231, VALUE_NUMERIC, -1),
        arr_of("oa", 1028, VALUE_INT32, -1),       col_of("n", 1700, VALUE_NUMERIC, NUMERIC_TYPMOD(5, -2), 0),
    };
    size_t n = sizeof cols / sizeof cols[0];
    table_def t = {.schema = (char *)"s", .name = (char *)"all", .ncols = (int)n, .cols = cols};
    value row[sizeof cols / sizeof cols[0]];
    for (size_t i = 0; i < n; i++)
        row[i] = VNULL;
    row[0] = vi(1);
    row[15] = vs("12300");
    event ev = {.op = EVENT_UPDATE, .table = &t, .before = row, .after = row, .tx = &TX};
    decimal_mode dm[] = {DECIMAL_PRECISE, DECIMAL_DOUBLE, DECIMAL_STRING};
    time_precision_mode tm[] = {TIME_ADAPTIVE, TIME_ADAPTIVE_MICROSECONDS, TIME_CONNECT};
    for (int a = 0; a < 3; a++) {
        for (int b = 0; b < 3; b++) {
            debezium_encoder *e = enc_new(dm[a], tm[b], 1);
            const char *s = encode_value(e, &ev, NULL);
            assert_non_null(strstr(s, "\"field\":\"bit1\""));
            if (dm[a] == DECIMAL_PRECISE) {
                /* numeric(5,-2): scale -2, unscaled 123 */
                assert_non_null(strstr(s, "\"parameters\":{\"scale\":\"-2\",\"connect.decimal.precision\":\"5\"},"
                                          "\"field\":\"n\"}"));
                assert_non_null(strstr(s, "\"n\":\"ew==\"}"));
            }
            if (dm[a] == DECIMAL_STRING)
                assert_non_null(strstr(s, "\"n\":\"1.23E+4\"}"));
            assert_non_null(strstr(s, "{\"type\":\"array\",\"items\":{\"type\":\"int64\",\"optional\":true},"
                                      "\"optional\":true,\"field\":\"oa\"}"));
            buf k = BUF_INIT;
            assert_int_equal(debezium_encode_key(e, &k, &ev), 1);
            assert_json(k.data);
            buf_free(&k);
            debezium_encoder_destroy(e);
        }
    }
}

/* Many tables through one encoder: the schema cache keeps them apart. */
static void test_schema_cache(void **state)
{
    (void)state;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 1);
    enum { N = 100 };
    static column_def cols[N][1];
    static table_def tabs[N];
    static char names[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        cols[i][0] = col_of("id", 23, VALUE_INT32, -1, 1);
        tabs[i] = (table_def){.schema = (char *)"s", .name = names[i], .ncols = 1, .cols = cols[i]};
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            value row[1] = {vi(i)};
            event ev = {.op = EVENT_CREATE, .table = &tabs[i], .after = row, .tx = &TX};
            char want[64];
            snprintf(want, sizeof want, "\"name\":\"srv.s.t%d.Envelope\"", i);
            assert_non_null(strstr(encode_value(e, &ev, NULL), want));
        }
    }
    debezium_encoder_destroy(e);
}

/* ---- heartbeats and transactions ---------------------------------------------------------------- */

static void test_heartbeat(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    debezium_encode_heartbeat_key(e, &b);
    assert_string_equal(b.data, "{\"serverName\":\"srv\"}");
    buf_reset(&b);
    debezium_encode_heartbeat_value(e, &b, NOW_US);
    assert_string_equal(b.data, "{\"ts_ms\":1700000001654}");
    debezium_encoder_destroy(e);
    e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 1);
    buf_reset(&b);
    debezium_encode_heartbeat_key(e, &b);
    assert_string_equal(b.data, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
                                "\"field\":\"serverName\"}],\"optional\":false,"
                                "\"name\":\"io.debezium.connector.common.ServerNameKey\",\"version\":1},"
                                "\"payload\":{\"serverName\":\"srv\"}}");
    assert_json(b.data);
    buf_reset(&b);
    debezium_encode_heartbeat_value(e, &b, NOW_US);
    assert_string_equal(b.data, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,"
                                "\"field\":\"ts_ms\"}],\"optional\":false,"
                                "\"name\":\"io.debezium.connector.common.Heartbeat\",\"version\":1},"
                                "\"payload\":{\"ts_ms\":1700000001654}}");
    assert_json(b.data);
    buf_free(&b);
    debezium_encoder_destroy(e);
}

static void test_transactions(void **state)
{
    (void)state;
    buf b = BUF_INIT;
    debezium_tx_id(&b, &TX);
    assert_string_equal(b.data, "571:53195832");
    debezium_encoder *e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 0);
    buf_reset(&b);
    debezium_encode_tx_key(e, &b, &TX);
    assert_string_equal(b.data, "{\"id\":\"571:53195832\"}");
    buf_reset(&b);
    debezium_encode_tx_begin(e, &b, &TX);
    assert_string_equal(b.data, "{\"status\":\"BEGIN\",\"id\":\"571:53195832\",\"event_count\":null,"
                                "\"data_collections\":null,\"ts_ms\":1700000000123}");
    buf_reset(&b);
    debezium_collection_count cc[2] = {{"public", "a", 1}, {"s\"q", "b", 2}};
    debezium_encode_tx_end(e, &b, &TX, 3, cc, 2);
    assert_string_equal(b.data, "{\"status\":\"END\",\"id\":\"571:53195832\",\"event_count\":3,\"data_collections\":["
                                "{\"data_collection\":\"public.a\",\"event_count\":1},"
                                "{\"data_collection\":\"s\\\"q.b\",\"event_count\":2}],\"ts_ms\":1700000000123}");
    assert_json(b.data);
    buf_reset(&b);
    debezium_encode_tx_end(e, &b, &TX, 0, NULL, 0);
    assert_string_equal(b.data, "{\"status\":\"END\",\"id\":\"571:53195832\",\"event_count\":0,"
                                "\"data_collections\":[],\"ts_ms\":1700000000123}");
    debezium_encoder_destroy(e);
    e = enc_new(DECIMAL_PRECISE, TIME_ADAPTIVE, 1);
    buf_reset(&b);
    debezium_encode_tx_key(e, &b, &TX);
    assert_string_equal(b.data, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
                                "\"field\":\"id\"}],\"optional\":false,"
                                "\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1},"
                                "\"payload\":{\"id\":\"571:53195832\"}}");
    buf_reset(&b);
    debezium_encode_tx_begin(e, &b, &TX);
    assert_json(b.data);
    assert_non_null(strstr(b.data, "\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1},"
                                   "\"payload\":{\"status\":\"BEGIN\","));
    assert_non_null(strstr(b.data, "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
                                   "{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
                                   "{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
                                   "\"optional\":true,\"name\":\"event.collection\",\"version\":1},"
                                   "\"optional\":true,\"field\":\"data_collections\"}"));
    buf_reset(&b);
    debezium_encode_tx_end(e, &b, &TX, 3, cc, 2);
    assert_json(b.data);
    buf_free(&b);
    debezium_encoder_destroy(e);
}

static void test_mode_parse(void **state)
{
    (void)state;
    decimal_mode d = DECIMAL_STRING;
    time_precision_mode t = TIME_CONNECT;
    assert_int_equal(debezium_decimal_mode_parse("precise", &d), 0);
    assert_int_equal(d, DECIMAL_PRECISE);
    assert_int_equal(debezium_decimal_mode_parse("double", &d), 0);
    assert_int_equal(d, DECIMAL_DOUBLE);
    assert_int_equal(debezium_decimal_mode_parse(" STRING ", &d), 0);
    assert_int_equal(d, DECIMAL_STRING);
    assert_int_equal(debezium_decimal_mode_parse("exact", &d), -1);
    assert_int_equal(debezium_decimal_mode_parse("", &d), -1);
    assert_int_equal(debezium_decimal_mode_parse(NULL, &d), -1);
    assert_int_equal(debezium_time_mode_parse("adaptive", &t), 0);
    assert_int_equal(t, TIME_ADAPTIVE);
    assert_int_equal(debezium_time_mode_parse("adaptive_time_microseconds", &t), 0);
    assert_int_equal(t, TIME_ADAPTIVE_MICROSECONDS);
    assert_int_equal(debezium_time_mode_parse("Connect", &t), 0);
    assert_int_equal(t, TIME_CONNECT);
    assert_int_equal(debezium_time_mode_parse("adaptive_time", &t), -1);
    assert_int_equal(debezium_time_mode_parse("isostring", &t), -1);
}

static int setup(void **state)
{
    (void)state;
    t_init();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    buf_free(&out_buf);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert),
        cmocka_unit_test(test_update_delete_read_truncate),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_key_changed),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_decimal_precise),
        cmocka_unit_test(test_decimal_string_double),
        cmocka_unit_test(test_time_modes),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_unavailable),
        cmocka_unit_test(test_schemas),
        cmocka_unit_test(test_schemas_every_kind),
        cmocka_unit_test(test_schema_cache),
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_mode_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
