/* debezium_json: Debezium-compatible JSON for keys and value envelopes (see debezium_json.h). */
#include "encode/debezium_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define US_PER_DAY 86400000000LL
#define DAYS_PER_MONTH_AVG (365.25 / 12.0)   /* Debezium's MicroDuration approximation */

static void json_bytes_base64(buf *out, const unsigned char *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    buf_puts(out, "\"");
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63], i + 1 < n ? tbl[(v >> 6) & 63] : '=',
                     i + 2 < n ? tbl[v & 63] : '='};
        buf_append(out, q, 4);
    }
    buf_puts(out, "\"");
}

static void json_text(buf *out, const char *s, size_t len)
{
    /* buf_json_string needs a NUL-terminated string; values are length-delimited. */
    buf_puts(out, "\"");
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(out, s + start, i - start);
        switch (c) {
        case '"': buf_puts(out, "\\\""); break;
        case '\\': buf_puts(out, "\\\\"); break;
        case '\n': buf_puts(out, "\\n"); break;
        case '\r': buf_puts(out, "\\r"); break;
        case '\t': buf_puts(out, "\\t"); break;
        default: buf_printf(out, "\\u%04x", c);
        }
        start = i + 1;
    }
    buf_append(out, s + start, len - start);
    buf_puts(out, "\"");
}

static void json_double(buf *out, double d, int digits)
{
    if (isnan(d))
        buf_puts(out, "\"NaN\"");
    else if (isinf(d))
        buf_puts(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        buf_printf(out, "%.*g", digits, d);
}

/* ISO-8601 UTC text of Unix microseconds, fraction trimmed as Java's ISO formatter does. */
static void json_zoned_timestamp(buf *out, int64_t us)
{
    if (us == INT64_MAX || us == INT64_MIN) {
        buf_puts(out, us == INT64_MAX ? "\"infinity\"" : "\"-infinity\"");
        return;
    }
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    char text[64];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    buf_printf(out, "\"%s", text);
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, "%06" PRId64, frac);
        size_t n = 6;
        while (n > 0 && f[n - 1] == '0')
            n--;
        buf_printf(out, ".%.*s", (int)n, f);
    }
    buf_puts(out, "Z\"");
}

static void json_zoned_time(buf *out, int64_t us_local, int32_t offset_s)
{
    int64_t us = us_local - (int64_t)offset_s * 1000000;
    us %= US_PER_DAY;
    if (us < 0)
        us += US_PER_DAY;
    int64_t s = us / 1000000, frac = us % 1000000;
    buf_printf(out, "\"%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, "%06" PRId64, frac);
        size_t n = 6;
        while (n > 0 && f[n - 1] == '0')
            n--;
        buf_printf(out, ".%.*s", (int)n, f);
    }
    buf_puts(out, "Z\"");
}

static void json_value(buf *out, const column_def *col, const value *v, const debezium_options *o)
{
    if (v->state == VALUE_IS_NULL) {
        buf_puts(out, "null");
        return;
    }
    if (v->state == VALUE_UNAVAILABLE) {
        buf_puts(out, "\"" DEBEZIUM_UNAVAILABLE "\"");
        return;
    }
    switch (col->kind) {
    case VALUE_BOOL: buf_puts(out, v->v.b ? "true" : "false"); break;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP: buf_printf(out, "%" PRId64, v->v.i); break;
    case VALUE_FLOAT32: json_double(out, v->v.f, 9); break;
    case VALUE_FLOAT64: json_double(out, v->v.f, 17); break;
    case VALUE_NUMERIC:
        if (o->decimal == DECIMAL_DOUBLE) {
            char num[128]; /* values are length-delimited: copy before strtod */
            size_t n = v->len < sizeof num - 1 ? v->len : sizeof num - 1;
            memcpy(num, v->s, n);
            num[n] = '\0';
            json_double(out, strtod(num, NULL), 17);
        } else {
            json_text(out, v->s, v->len);
        }
        break;
    case VALUE_MONEY: {
        uint64_t cents = v->v.i < 0 ? (uint64_t)0 - (uint64_t)v->v.i : (uint64_t)v->v.i;
        if (o->decimal == DECIMAL_DOUBLE)
            json_double(out, (double)v->v.i / 100.0, 17);
        else
            buf_printf(out, "\"%s%" PRIu64 ".%02u\"", v->v.i < 0 ? "-" : "", cents / 100,
                       (unsigned)(cents % 100));
        break;
    }
    case VALUE_BYTES: json_bytes_base64(out, (const unsigned char *)v->s, v->len); break;
    case VALUE_TIMESTAMPTZ: json_zoned_timestamp(out, v->v.i); break;
    case VALUE_TIMETZ: json_zoned_time(out, v->v.i, v->tz_offset); break;
    case VALUE_INTERVAL: {
        double days = v->v.interval.days + v->v.interval.months * DAYS_PER_MONTH_AVG;
        buf_printf(out, "%" PRId64, (int64_t)(days * (double)US_PER_DAY) + v->v.interval.us);
        break;
    }
    default: json_text(out, v->s, v->len); break;
    }
}

static void json_row(buf *out, const table_def *t, const value *row, int key_only,
                     const debezium_options *o)
{
    if (!row) {
        buf_puts(out, "null");
        return;
    }
    buf_puts(out, "{");
    for (int i = 0; i < t->ncols; i++) {
        if (i)
            buf_puts(out, ",");
        buf_json_string(out, t->cols[i].name);
        buf_puts(out, ":");
        if (key_only && !t->cols[i].is_key)
            buf_puts(out, "null");
        else
            json_value(out, &t->cols[i], &row[i], o);
    }
    buf_puts(out, "}");
}

static const char *snapshot_name(uint8_t s)
{
    switch (s) {
    case SNAPSHOT_TRUE: return "true";
    case SNAPSHOT_LAST: return "last";
    case SNAPSHOT_INCREMENTAL: return "incremental";
    default: return "false";
    }
}

void debezium_json_value(buf *out, const event *ev, const debezium_options *o, int64_t now_us)
{
    const table_def *t = ev->table;
    int64_t commit_us = ev->tx ? ev->tx->commit_time_us : now_us;
    buf_puts(out, "{\"before\":");
    json_row(out, t, ev->before, ev->before_key_only, o);
    buf_puts(out, ",\"after\":");
    json_row(out, t, ev->after, 0, o);
    buf_puts(out, ",\"source\":{\"version\":\"" SLUICE_VERSION "\",\"connector\":\"postgresql\",\"name\":");
    buf_json_string(out, o->name ? o->name : "sluice");
    buf_printf(out, ",\"ts_ms\":%" PRId64 ",\"snapshot\":\"%s\",\"db\":", commit_us / 1000,
               snapshot_name(ev->snapshot));
    buf_json_string(out, o->db ? o->db : "");
    /* sequence: [last commit LSN, this LSN] as decimal strings, as Debezium writes it. */
    buf_printf(out, ",\"sequence\":\"[\\\"%" PRIu64 "\\\",\\\"%" PRIu64 "\\\"]\"",
               ev->tx ? ev->tx->final_lsn : 0, ev->lsn);
    buf_printf(out, ",\"ts_us\":%" PRId64 ",\"ts_ns\":%" PRId64 ",\"schema\":", commit_us,
               commit_us * 1000);
    buf_json_string(out, t->schema);
    buf_puts(out, ",\"table\":");
    buf_json_string(out, t->name);
    if (ev->tx && ev->tx->xid)
        buf_printf(out, ",\"txId\":%" PRIu32, ev->tx->xid);
    else
        buf_puts(out, ",\"txId\":null");
    buf_printf(out, ",\"lsn\":%" PRIu64 ",\"xmin\":null}", ev->lsn);
    buf_printf(out, ",\"op\":\"%c\",\"ts_ms\":%" PRId64 ",\"ts_us\":%" PRId64 ",\"ts_ns\":%" PRId64
                    ",\"transaction\":null}",
               (char)ev->op, now_us / 1000, now_us, now_us * 1000);
}

void debezium_json_key(buf *out, const event *ev, const debezium_options *o)
{
    const table_def *t = ev->table;
    const value *row = ev->after ? ev->after : ev->before;
    int any = 0;
    for (int i = 0; i < t->ncols; i++)
        any |= t->cols[i].is_key;
    if (!any || !row) {
        buf_puts(out, "null");
        return;
    }
    buf_puts(out, "{");
    int first = 1;
    for (int i = 0; i < t->ncols; i++) {
        if (!t->cols[i].is_key)
            continue;
        if (!first)
            buf_puts(out, ",");
        first = 0;
        buf_json_string(out, t->cols[i].name);
        buf_puts(out, ":");
        json_value(out, &t->cols[i], &row[i], o);
    }
    buf_puts(out, "}");
}
