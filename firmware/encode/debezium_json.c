/* debezium_json: Debezium-compatible JSON for keys and value envelopes (see debezium_json.h).
 * This runs once per captured row: integers and timestamps are formatted by hand and constant
 * text is appended with its length known, so no printf or strftime is on the common path. */
#include "encode/debezium_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define US_PER_DAY 86400000000LL
#define DAYS_PER_MONTH_AVG (365.25 / 12.0)   /* Debezium's MicroDuration approximation */

/* Append a string literal without strlen. */
#define PUT_LIT(out, lit) buf_append((out), (lit), sizeof(lit) - 1)

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
    PUT_LIT(out, "\"");
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(out, s + start, i - start);
        switch (c) {
        case '"': PUT_LIT(out, "\\\""); break;
        case '\\': PUT_LIT(out, "\\\\"); break;
        case '\n': PUT_LIT(out, "\\n"); break;
        case '\r': PUT_LIT(out, "\\r"); break;
        case '\t': PUT_LIT(out, "\\t"); break;
        default: buf_printf(out, "\\u%04x", c);
        }
        start = i + 1;
    }
    buf_append(out, s + start, len - start);
    PUT_LIT(out, "\"");
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

/* n (< 10^width) as exactly width digits at p. */
static void put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Append ".ffffff" without trailing zeros, or nothing for a whole second (Java's ISO style). */
static void json_fraction(buf *out, int64_t frac)
{
    char f[7];
    size_t n = 6;
    if (!frac)
        return;
    f[0] = '.';
    put_digits(f + 1, (unsigned)frac, 6);
    while (f[n] == '0')
        n--;
    buf_append(out, f, n + 1);
}

/* Proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* ISO-8601 UTC text of Unix microseconds, fraction trimmed as Java's ISO formatter does. */
static void json_zoned_timestamp(buf *out, int64_t us)
{
    if (us == INT64_MAX || us == INT64_MIN) {
        if (us == INT64_MAX)
            PUT_LIT(out, "\"infinity\"");
        else
            PUT_LIT(out, "\"-infinity\"");
        return;
    }
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    if (year >= 1000 && year <= 9999) {
        /* "YYYY-MM-DDTHH:MM:SS", as strftime("%Y-%m-%dT%H:%M:%S") writes four-digit years */
        char t[21] = "\"YYYY-MM-DDTHH:MM:SS";
        put_digits(t + 1, (unsigned)year, 4);
        put_digits(t + 6, month, 2);
        put_digits(t + 9, day, 2);
        put_digits(t + 12, (unsigned)(sod / 3600), 2);
        put_digits(t + 15, (unsigned)(sod / 60 % 60), 2);
        put_digits(t + 18, (unsigned)(sod % 60), 2);
        buf_append(out, t, sizeof t - 1);
    } else {
        time_t t = (time_t)secs;
        struct tm tm;
        char text[64];
        gmtime_r(&t, &tm);
        strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
        buf_printf(out, "\"%s", text);
    }
    json_fraction(out, frac);
    PUT_LIT(out, "Z\"");
}

static void json_zoned_time(buf *out, int64_t us_local, int32_t offset_s)
{
    int64_t us = us_local - (int64_t)offset_s * 1000000;
    us %= US_PER_DAY;
    if (us < 0)
        us += US_PER_DAY;
    int64_t s = us / 1000000, frac = us % 1000000;
    char t[10] = "\"HH:MM:SS";
    put_digits(t + 1, (unsigned)(s / 3600), 2);
    put_digits(t + 4, (unsigned)(s / 60 % 60), 2);
    put_digits(t + 7, (unsigned)(s % 60), 2);
    buf_append(out, t, sizeof t - 1);
    json_fraction(out, frac);
    PUT_LIT(out, "Z\"");
}

static void json_value(buf *out, const column_def *col, const value *v, const debezium_options *o)
{
    if (v->state == VALUE_IS_NULL) {
        PUT_LIT(out, "null");
        return;
    }
    if (v->state == VALUE_UNAVAILABLE) {
        PUT_LIT(out, "\"" DEBEZIUM_UNAVAILABLE "\"");
        return;
    }
    switch (col->kind) {
    case VALUE_BOOL:
        if (v->v.b)
            PUT_LIT(out, "true");
        else
            PUT_LIT(out, "false");
        break;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP: buf_put_i64(out, v->v.i); break;
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
        buf_put_i64(out, (int64_t)(days * (double)US_PER_DAY) + v->v.interval.us);
        break;
    }
    default: json_text(out, v->s, v->len); break;
    }
}

static void json_row(buf *out, const table_def *t, const value *row, int key_only,
                     const debezium_options *o)
{
    if (!row) {
        PUT_LIT(out, "null");
        return;
    }
    PUT_LIT(out, "{");
    for (int i = 0; i < t->ncols; i++) {
        if (i)
            PUT_LIT(out, ",");
        buf_json_string(out, t->cols[i].name);
        PUT_LIT(out, ":");
        if (key_only && !t->cols[i].is_key)
            PUT_LIT(out, "null");
        else
            json_value(out, &t->cols[i], &row[i], o);
    }
    PUT_LIT(out, "}");
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
    PUT_LIT(out, "{\"before\":");
    json_row(out, t, ev->before, ev->before_key_only, o);
    PUT_LIT(out, ",\"after\":");
    json_row(out, t, ev->after, 0, o);
    PUT_LIT(out, ",\"source\":{\"version\":\"" SLUICE_VERSION "\",\"connector\":\"postgresql\",\"name\":");
    buf_json_string(out, o->name ? o->name : "sluice");
    PUT_LIT(out, ",\"ts_ms\":");
    buf_put_i64(out, commit_us / 1000);
    PUT_LIT(out, ",\"snapshot\":\"");
    buf_puts(out, snapshot_name(ev->snapshot));
    PUT_LIT(out, "\",\"db\":");
    buf_json_string(out, o->db ? o->db : "");
    /* sequence: [last commit LSN, this LSN] as decimal strings, as Debezium writes it. */
    PUT_LIT(out, ",\"sequence\":\"[\\\"");
    buf_put_u64(out, ev->tx ? ev->tx->final_lsn : 0);
    PUT_LIT(out, "\\\",\\\"");
    buf_put_u64(out, ev->lsn);
    PUT_LIT(out, "\\\"]\",\"ts_us\":");
    buf_put_i64(out, commit_us);
    PUT_LIT(out, ",\"ts_ns\":");
    buf_put_i64(out, commit_us * 1000);
    PUT_LIT(out, ",\"schema\":");
    buf_json_string(out, t->schema);
    PUT_LIT(out, ",\"table\":");
    buf_json_string(out, t->name);
    if (ev->tx && ev->tx->xid) {
        PUT_LIT(out, ",\"txId\":");
        buf_put_u64(out, ev->tx->xid);
    } else {
        PUT_LIT(out, ",\"txId\":null");
    }
    PUT_LIT(out, ",\"lsn\":");
    buf_put_u64(out, ev->lsn);
    PUT_LIT(out, ",\"xmin\":null},\"op\":\"");
    char op = (char)ev->op;
    buf_append(out, &op, 1);
    PUT_LIT(out, "\",\"ts_ms\":");
    buf_put_i64(out, now_us / 1000);
    PUT_LIT(out, ",\"ts_us\":");
    buf_put_i64(out, now_us);
    PUT_LIT(out, ",\"ts_ns\":");
    buf_put_i64(out, now_us * 1000);
    PUT_LIT(out, ",\"transaction\":null}");
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
