/* libFuzzer target: the Debezium record decoder (debezium_decode.h) must survive any bytes as a
 * Kafka record without crashing or leaking: as the value alone, split into key and value, as the
 * payload under a valid Connect schema of every value kind (from Sluice's own encoder, per time
 * and decimal mode), and as a splice into a valid record. What decodes must have a table and
 * values within their text. The first byte picks the shape. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_types.h"
#include "encode/debezium_decode.h"
#include "encode/debezium_json.h"

#define NMODES 3

/* One column per kind, and the types whose Connect schema differs. */
static const struct { const char *name; uint32_t oid; int32_t typmod; const char *text; } fz_cols[] = {
    {"id", 23, -1, "1"},
    {"i2", 21, -1, "-2"},
    {"i8", 20, -1, "9"},
    {"o", 26, -1, "26"},
    {"f4", 700, -1, "1.5"},
    {"f8", 701, -1, "NaN"},
    {"b", 16, -1, "t"},
    {"n", 1700, ((10 << 16) | 2) + 4, "-1.25"},
    {"nv", 1700, -1, "123456789012345678901.5"},
    {"m", 790, -1, "$1,000.00"},
    {"by", 17, -1, "\\x00ff"},
    {"d", 1082, -1, "2024-02-29"},
    {"t", 1083, -1, "12:00:00.5"},
    {"t3", 1083, 3, "12:00:00.5"},
    {"tz", 1266, -1, "12:00:00+05:30"},
    {"ts", 1114, -1, "2024-02-29 12:00:00.123456"},
    {"ts3", 1114, 3, "0044-03-15 12:00:00 BC"},
    {"tstz", 1184, -1, "2024-02-29 12:00:00+00"},
    {"iv", 1186, -1, "1 day 02:00:00"},
    {"u", 2950, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
    {"j", 3802, -1, "{\"a\": 1}"},
    {"tx", 25, -1, "text"},
    {"x", 142, -1, "<a/>"},
    {"bt", 1560, 8, "00001111"},
    {"vb", 1562, -1, "101"},
    {"ai", 1007, -1, "{{1,2},{3,NULL}}"},
    {"at", 1009, -1, "{\"a b\",NULL}"},
    {"an", 1231, -1, "{1.5}"},
    {"am", 791, -1, "{\"$1.00\"}"},
    {"ats", 1185, -1, "{\"2024-01-01 00:00:00+00\"}"},
    {"ab", 1001, -1, "{\"\\\\x00\"}"},
};
#define FZ_NC ((int)(sizeof fz_cols / sizeof fz_cols[0]))

static struct {
    char *schema;   /* the value's Connect schema */
    char *key;      /* a valid key */
    char *value;    /* a valid value */
} fz_modes[NMODES];

static void fz_init(void)
{
    static column_def cols[FZ_NC];
    static value row[FZ_NC];
    static const debezium_options opts[NMODES] = {
        {.name = "srv", .db = "db", .decimal = DECIMAL_PRECISE, .time = TIME_ADAPTIVE, .schemas = 1},
        {.name = "srv", .db = "db", .decimal = DECIMAL_STRING, .time = TIME_ADAPTIVE_MICROSECONDS, .schemas = 1},
        {.name = "srv", .db = "db", .decimal = DECIMAL_DOUBLE, .time = TIME_CONNECT, .schemas = 1}};
    arena *a = arena_create(0);
    for (int i = 0; i < FZ_NC; i++) {
        value_kind elem, kind = pg_type_kind(fz_cols[i].oid, &elem);
        cols[i] = (column_def){.name = (char *)fz_cols[i].name, .type_oid = fz_cols[i].oid, .typmod = fz_cols[i].typmod,
                               .type_name = (char *)pg_type_name(fz_cols[i].oid), .kind = kind, .elem_kind = elem,
                               .is_key = i == 0, .is_pk = i == 0, .not_null = i == 0};
        if (pg_value_parse(kind, fz_cols[i].text, strlen(fz_cols[i].text), &row[i], a, NULL, 0) < 0)
            abort();
    }
    static table_def t = {.schema = (char *)"public", .name = (char *)"fz", .ncols = FZ_NC, .cols = cols};
    static const tx_info tx = {.xid = 5, .final_lsn = 100, .end_lsn = 101, .commit_time_us = 1700000000000000LL};
    event ev = {.op = EVENT_UPDATE, .table = &t, .before = row, .after = row, .lsn = 90, .tx = &tx};
    debezium_tx_position pos = {1, 1};
    for (int m = 0; m < NMODES; m++) {
        debezium_encoder *e = debezium_encoder_create(&opts[m]);
        buf k = BUF_INIT, v = BUF_INIT;
        debezium_encode_key(e, &k, &ev);
        debezium_encode_value(e, &v, &ev, 1700000000000001LL, &pos);
        const char *p = strstr(v.data, ",\"payload\":");
        if (!p)
            abort();
        fz_modes[m].schema = strndup(v.data + 10, (size_t)(p - v.data) - 10);   /* after {"schema": */
        fz_modes[m].key = buf_take(&k);
        fz_modes[m].value = buf_take(&v);
        debezium_encoder_destroy(e);
    }
    arena_destroy(a);
}

/* Touch every byte a decoded event points to (ASan checks the reads). */
static void fz_check(const event *ev)
{
    const table_def *t = ev->table;
    volatile unsigned char sink = 0;
    if (!t || !ev->tx)
        abort();
    const value *rows[2] = {ev->before, ev->after};
    for (int r = 0; r < 2; r++) {
        for (int i = 0; rows[r] && i < t->ncols; i++) {
            const value *v = &rows[r][i];
            if (v->state > VALUE_UNAVAILABLE)
                abort();
            for (size_t k = 0; v->state == VALUE_PRESENT && v->s && k < v->len; k++)
                sink ^= (unsigned char)v->s[k];
        }
    }
    for (int i = 0; i < t->ncols; i++)
        if (!t->cols[i].name || !t->cols[i].type_name)
            abort();
    (void)sink;
}

static void fz_decode(debezium_decoder *d, arena *a, const void *key, size_t keylen, const void *val, size_t vallen)
{
    event ev;
    char err[256];
    /* twice: the second finds the table definition held; the third reads the key as the old key
     * of a key change (__debezium.oldkey) */
    for (int i = 0; i < 3; i++) {
        debezium_record r = {key, keylen, val, vallen, i == 2 ? key : NULL, i == 2 ? keylen : 0, NULL};
        int rc = debezium_decoder_decode_record(d, &r, a, &ev, err, sizeof err);
        if (rc == 1)
            fz_check(&ev);
        if (r.old_key_image && (rc != 1 || ev.op != EVENT_CREATE))
            abort();   /* an old key only comes with a create */
        else if (rc == -1 && !err[0])
            abort();   /* a refusal always says why */
        else if (rc != 0 && rc != -1 && rc != 1)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static arena *a;
    if (!a) {
        a = arena_create(0);
        fz_init();
    }
    if (size < 1)
        return 0;
    debezium_decoder *d = debezium_decoder_create();
    if (!d)
        abort();
    int shape = data[0] % 4, m = data[0] / 4 % NMODES;
    data++;
    size--;
    if (shape == 0) {
        fz_decode(d, a, NULL, 0, data, size);
    } else if (shape == 1) {
        size_t klen = size ? data[0] : 0;
        if (klen > size - (size ? 1 : 0))
            klen = size ? size - 1 : 0;
        fz_decode(d, a, size ? data + 1 : NULL, klen, size ? data + 1 + klen : NULL, size ? size - 1 - klen : 0);
    } else if (shape == 2) {
        buf v = BUF_INIT;
        buf_puts(&v, "{\"schema\":");
        buf_puts(&v, fz_modes[m].schema);
        buf_puts(&v, ",\"payload\":");
        buf_append(&v, data, size);
        buf_puts(&v, "}");
        fz_decode(d, a, fz_modes[m].key, strlen(fz_modes[m].key), v.data, v.len);
        buf_free(&v);
    } else {
        /* splice: the bytes replace a stretch of a valid record at an offset they choose */
        size_t vlen = strlen(fz_modes[m].value);
        char *v = malloc(vlen + size + 1);
        if (!v)
            abort();
        size_t off = size >= 2 ? ((size_t)data[0] << 8 | data[1]) * 7 % vlen : 0;
        const uint8_t *p = size >= 2 ? data + 2 : data;
        size_t n = size >= 2 ? size - 2 : size;
        memcpy(v, fz_modes[m].value, off);
        memcpy(v + off, p, n);
        size_t rest = off + n < vlen ? vlen - off - n : 0;
        memcpy(v + off + n, fz_modes[m].value + vlen - rest, rest);
        fz_decode(d, a, fz_modes[m].key, strlen(fz_modes[m].key), v, off + n + rest);
        free(v);
    }
    debezium_decoder_destroy(d);
    arena_reset(a);
    return 0;
}
