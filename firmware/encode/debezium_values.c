/* debezium_values: one column value as Debezium's PostgreSQL connector converts it and Kafka
 * Connect's JsonConverter writes it, per time.precision.mode and decimal.handling.mode: dates,
 * times and timestamps as numbers or ISO text, decimals as Connect Decimal bytes /
 * VariableScaleDecimal / double / string, arrays as JSON arrays, unchanged TOASTed values as
 * Debezium's placeholder. Integers and timestamps are formatted by hand: this runs per column. */
#include "encode/debezium_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "capture/pg_types.h"

#define US_PER_DAY 86400000000LL

/* What Debezium emits for PostgreSQL's infinite dates and timestamps (PostgresValueConverter's
 * constants, mimicking the JDBC driver: PGStatement.DATE_POSITIVE/NEGATIVE_INFINITY read as
 * microseconds; the dates are LocalDate -5877611-06-21 / -22 as epoch days). */
#define DBZ_TS_POS_INFINITY_US 9223372036825200000LL
#define DBZ_TS_NEG_INFINITY_US (-9223372036832400000LL)
#define DBZ_DATE_POS_INFINITY (-2147472692LL)
#define DBZ_DATE_NEG_INFINITY (-2147472691LL)

/* ---- time ------------------------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* v (< 10^width) as exactly width digits at p. */
static void put_digits(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
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

/* ".ffffff" of frac microseconds: exactly width digits (1..6), or with width < 0 the ISO
 * formatter's minimal digits (none for a whole second). */
static void put_fraction(buf *out, int64_t frac, int width)
{
    char f[7];
    f[0] = '.';
    put_digits(f + 1, (uint64_t)frac, 6);
    if (width > 0) {
        buf_append(out, f, (size_t)width + 1);
        return;
    }
    if (!frac)
        return;
    size_t n = 6;
    while (f[n] == '0')
        n--;
    buf_append(out, f, n + 1);
}

/* io.debezium.time.ZonedTimestamp: ISO-8601 UTC text ("2024-02-29T12:45:06.123456Z"; years
 * past 9999 as "+21016", BC as "-0044"), "infinity" / "-infinity" for PostgreSQL's. */
static void zoned_timestamp(buf *out, int64_t us, int width)
{
    if (us == INT64_MAX) {
        PUT_LIT(out, "\"infinity\"");
        return;
    }
    if (us == INT64_MIN) {
        PUT_LIT(out, "\"-infinity\"");
        return;
    }
    int64_t secs = floor_div(us, 1000000), frac = us - secs * 1000000;
    int64_t days = floor_div(secs, 86400), sod = secs - days * 86400;
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    char t[40];
    size_t k = 0;
    t[k++] = '"';
    if (year >= 0 && year <= 9999) {
        put_digits(t + k, (uint64_t)year, 4);
        k += 4;
    } else {
        uint64_t ay = year < 0 ? (uint64_t)0 - (uint64_t)year : (uint64_t)year;
        int w = 4;
        for (uint64_t x = ay / 10000; x; x /= 10)
            w++;
        t[k++] = year < 0 ? '-' : '+';
        put_digits(t + k, ay, w);
        k += (size_t)w;
    }
    memcpy(t + k, "-MM-DDTHH:MM:SS", 15);
    put_digits(t + k + 1, month, 2);
    put_digits(t + k + 4, day, 2);
    put_digits(t + k + 7, (uint64_t)(sod / 3600), 2);
    put_digits(t + k + 10, (uint64_t)(sod / 60 % 60), 2);
    put_digits(t + k + 13, (uint64_t)(sod % 60), 2);
    buf_append(out, t, k + 15);
    put_fraction(out, frac, width);
    PUT_LIT(out, "Z\"");
}

/* io.debezium.time.ZonedTime: the time in UTC ("11:51:30.123789Z", ISO fraction). */
static void zoned_time(buf *out, int64_t us_local, int32_t offset_s)
{
    int64_t us = (us_local - (int64_t)offset_s * 1000000) % US_PER_DAY;
    if (us < 0)
        us += US_PER_DAY;
    int64_t s = us / 1000000;
    char t[10] = "\"HH:MM:SS";
    put_digits(t + 1, (uint64_t)(s / 3600), 2);
    put_digits(t + 4, (uint64_t)(s / 60 % 60), 2);
    put_digits(t + 7, (uint64_t)(s % 60), 2);
    buf_append(out, t, sizeof t - 1);
    put_fraction(out, us % 1000000, -1);
    PUT_LIT(out, "Z\"");
}

/* Digits of a ZonedTimestamp's fraction: the column's precision (timestamptz: 6), exactly;
 * timestamptz(0) gets the ISO formatter's minimal form. */
static int zoned_width(const column_def *col)
{
    int p = col->typmod < 0 ? 6 : col->typmod;
    return p <= 0 || p > 6 ? -1 : p;
}

static void put_timestamp(buf *out, const debezium_encoder *e, const column_def *col, int64_t us)
{
    int millis = e->o.time == TIME_CONNECT || dbz_time_precision(col) <= 3;
    if (us == INT64_MAX)
        us = DBZ_TS_POS_INFINITY_US;
    else if (us == INT64_MIN)
        us = DBZ_TS_NEG_INFINITY_US;
    buf_put_i64(out, millis ? floor_div(us, 1000) : us);
}

static void put_time(buf *out, const debezium_encoder *e, const column_def *col, int64_t us)
{
    int micros = e->o.time == TIME_ADAPTIVE_MICROSECONDS ||
                 (e->o.time == TIME_ADAPTIVE && dbz_time_precision(col) > 3);
    buf_put_i64(out, micros ? us : floor_div(us, 1000));
}

/* io.debezium.time.MicroDuration as MicroDuration.durationMicros computes it from the
 * PGInterval of the text (years and months at 365.25 / 12 days, in double arithmetic). */
static void put_interval(buf *out, const value *v)
{
    int64_t us = v->v.interval.us;
    int64_t hours = us / 3600000000LL, minutes = us / 60000000LL % 60;
    int64_t rest = us % 60000000LL;   /* seconds and microseconds, sign of us */
    double seconds = (double)(rest / 1000000) + (double)(rest % 1000000) / 1e6;
    double days = (double)v->v.interval.months * (365.25 / 12.0) + (double)v->v.interval.days;
    double total = (((days * 24 + (double)hours) * 60 + (double)minutes) * 60 + seconds) * 1e6;
    /* Java's (long) cast saturates */
    buf_put_i64(out, total >= 9223372036854775807.0    ? INT64_MAX
                     : total <= -9223372036854775808.0 ? INT64_MIN
                                                       : (int64_t)total);
}

/* ---- decimals ---------------------------------------------------------------------------------- */

static int numeric_special(const value *v)
{
    if (v->len == 3 && memcmp(v->s, "NaN", 3) == 0)
        return 1;
    if (v->len == 8 && memcmp(v->s, "Infinity", 8) == 0)
        return 2;
    if (v->len == 9 && memcmp(v->s, "-Infinity", 9) == 0)
        return 3;
    return 0;
}

static void put_strtod(buf *out, debezium_encoder *e, const char *s, size_t len)
{
    buf_reset(&e->tmp);
    buf_append(&e->tmp, s, len);   /* values are length-delimited: NUL-terminate for strtod */
    dbz_json_double(out, strtod(e->tmp.data, NULL));
}

/* PostgreSQL's text is already BigDecimal.toString() when it is plain digits with a non-zero
 * integer part (no leading zero) and, for a numeric(p,s), exactly s fraction digits. */
static int numeric_text_is_java(const value *v, int fixed, int scale)
{
    const char *p = v->s, *end = v->s + v->len;
    if (p < end && *p == '-')
        p++;
    if (p == end || *p < '1' || *p > '9')
        return 0;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    if (p == end)
        return !fixed || scale == 0;
    if (*p++ != '.' || p == end)
        return 0;
    const char *frac = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p == end && (!fixed || p - frac == scale);
}

static void put_numeric(buf *out, debezium_encoder *e, const column_def *col, const value *v)
{
    static const char *const special_names[] = {"", "\"NAN\"", "\"POSITIVE_INFINITY\"", "\"NEGATIVE_INFINITY\""};
    int special = numeric_special(v), precision, scale;
    int fixed = dbz_numeric_typmod(col->typmod, &precision, &scale);
    dbz_decimal d;
    switch (e->o.decimal) {
    case DECIMAL_DOUBLE:
        put_strtod(out, e, v->s, v->len);
        return;
    case DECIMAL_STRING:
        /* SpecialValueDecimal.toString(): the enum constant's name */
        if (special) {
            buf_puts(out, special_names[special]);
            return;
        }
        if (numeric_text_is_java(v, fixed, scale)) {
            PUT_LIT(out, "\"");
            buf_append(out, v->s, v->len);
            PUT_LIT(out, "\"");
            return;
        }
        if (dbz_decimal_parse(v->s, v->len, &e->tmp, &d) < 0) {
            dbz_json_text(out, v->s, v->len);
            return;
        }
        if (fixed)
            dbz_decimal_rescale(&e->tmp, &d, scale);
        dbz_decimal_json_string(out, &d);
        return;
    case DECIMAL_PRECISE:
    default:
        /* Connect's Decimal cannot hold NaN or infinities (Debezium fails the connector): null */
        if (special || dbz_decimal_parse(v->s, v->len, &e->tmp, &d) < 0) {
            PUT_LIT(out, "null");
            return;
        }
        if (fixed) {
            dbz_decimal_rescale(&e->tmp, &d, scale);
            dbz_decimal_json_bytes(out, &d);
            return;
        }
        /* The scale PostgreSQL printed ("-7.250": 3), as BigDecimal keeps it. */
        PUT_LIT(out, "{\"scale\":");
        buf_put_i64(out, d.scale);
        PUT_LIT(out, ",\"value\":");
        dbz_decimal_json_bytes(out, &d);
        PUT_LIT(out, "}");
        return;
    }
}

static void put_money(buf *out, const debezium_encoder *e, int64_t cents)
{
    if (e->o.decimal == DECIMAL_PRECISE) {
        dbz_i64_json_bytes(out, cents);   /* Decimal, scale 2 (money.fraction.digits) */
    } else if (e->o.decimal == DECIMAL_DOUBLE) {
        dbz_json_double(out, (double)cents / 100.0);
    } else {
        uint64_t m = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
        char f[3] = {'.', (char)('0' + m % 100 / 10), (char)('0' + m % 10)};
        PUT_LIT(out, "\"");
        if (cents < 0)
            PUT_LIT(out, "-");
        buf_put_u64(out, m / 100);
        buf_append(out, f, 3);
        PUT_LIT(out, "\"");
    }
}

/* bit / varbit text ("0101"): BIT(1) as a boolean, longer ones as io.debezium.data.Bits: the
 * bits little-endian (last character = bit 0), as few bytes as the highest set bit needs. */
static void put_bits(buf *out, const column_def *col, const value *v)
{
    if (dbz_bits_length(col) == 1) {
        int any = memchr(v->s, '1', v->len) != NULL;
        if (any)
            PUT_LIT(out, "true");
        else
            PUT_LIT(out, "false");
        return;
    }
    unsigned char small[64];
    size_t nbytes = (v->len + 7) / 8;
    unsigned char *b = nbytes <= sizeof small ? small : calloc(nbytes, 1);
    if (!b)
        abort();
    memset(b, 0, nbytes);
    size_t used = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->s[v->len - 1 - i] != '1')
            continue;
        b[i / 8] |= (unsigned char)(1u << (i % 8));
        used = i / 8 + 1;
    }
    dbz_json_base64(out, b, used);
    if (b != small)
        free(b);
}

/* ---- values ------------------------------------------------------------------------------------ */

static void scalar(debezium_encoder *e, buf *out, const column_def *col, value_kind kind, int in_array,
                   const value *v)
{
    switch (kind) {
    case VALUE_BOOL:
        if (v->v.b)
            PUT_LIT(out, "true");
        else
            PUT_LIT(out, "false");
        break;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64: buf_put_i64(out, v->v.i); break;
    case VALUE_FLOAT32: dbz_json_float(out, (float)v->v.f); break;
    case VALUE_FLOAT64: dbz_json_double(out, v->v.f); break;
    case VALUE_NUMERIC: put_numeric(out, e, col, v); break;
    case VALUE_MONEY: put_money(out, e, v->v.i); break;
    case VALUE_BYTES: dbz_json_base64(out, (const unsigned char *)v->s, v->len); break;
    case VALUE_DATE:
        buf_put_i64(out, v->v.i == INT64_MAX   ? DBZ_DATE_POS_INFINITY
                         : v->v.i == INT64_MIN ? DBZ_DATE_NEG_INFINITY
                                               : v->v.i);
        break;
    case VALUE_TIME: put_time(out, e, col, v->v.i); break;
    case VALUE_TIMETZ: zoned_time(out, v->v.i, v->tz_offset); break;
    case VALUE_TIMESTAMP: put_timestamp(out, e, col, v->v.i); break;
    case VALUE_TIMESTAMPTZ: zoned_timestamp(out, v->v.i, zoned_width(col)); break;
    case VALUE_INTERVAL: put_interval(out, v); break;
    case VALUE_TEXT:
        if (!in_array && (col->type_oid == DBZ_OID_BIT || col->type_oid == DBZ_OID_VARBIT)) {
            put_bits(out, col, v);
            break;
        }
        dbz_json_text(out, v->s, v->len);
        break;
    default: dbz_json_text(out, v->s, v->len); break;   /* uuid, json, inet, ... */
    }
}

typedef struct array_ctx {
    debezium_encoder *e;
    const column_def *col;
} array_ctx;

static int array_element(void *arg, buf *out, const char *s, size_t len, int is_null)
{
    array_ctx *c = arg;
    value v;
    if (is_null) {
        PUT_LIT(out, "null");
        return 0;
    }
    if (pg_value_parse(c->col->elem_kind, s, len, &v, c->e->scratch, NULL, 0) < 0)
        return -1;
    scalar(c->e, out, c->col, c->col->elem_kind, 1, &v);
    return 0;
}

/* A JSON array of the elements; a literal that does not parse stays its text. */
static void put_array(debezium_encoder *e, buf *out, const column_def *col, const value *v)
{
    size_t mark = out->len;
    array_ctx c = {e, col};
    char delim = col->type_oid == 1020 ? ';' : ',';   /* _box separates with ';' */
    int rc = pg_array_to_json(v->s, v->len, delim, e->scratch, out, array_element, &c);
    arena_reset(e->scratch);
    if (rc < 0) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        dbz_json_text(out, v->s, v->len);
    }
}

/* Debezium's unavailable.value.placeholder in the shape the column's type needs
 * (UnchangedToastedPlaceholder): bytes for bytea, its bytes as numbers in int arrays, a
 * one-element list in other arrays, the string elsewhere. */
static void put_unavailable(buf *out, const column_def *col)
{
    static const char ph[] = DEBEZIUM_UNAVAILABLE;
    if (col->kind == VALUE_BYTES) {
        dbz_json_base64(out, (const unsigned char *)ph, sizeof ph - 1);
    } else if (col->kind == VALUE_ARRAY &&
               (col->elem_kind == VALUE_INT16 || col->elem_kind == VALUE_INT32 || col->elem_kind == VALUE_INT64)) {
        PUT_LIT(out, "[");
        for (size_t i = 0; i < sizeof ph - 1; i++) {
            if (i)
                PUT_LIT(out, ",");
            buf_put_i64(out, (unsigned char)ph[i]);
        }
        PUT_LIT(out, "]");
    } else if (col->kind == VALUE_ARRAY) {
        PUT_LIT(out, "[\"" DEBEZIUM_UNAVAILABLE "\"]");
    } else {
        PUT_LIT(out, "\"" DEBEZIUM_UNAVAILABLE "\"");
    }
}

void dbz_value(debezium_encoder *e, buf *out, const column_def *col, const value *v)
{
    if (v->state == VALUE_IS_NULL) {
        PUT_LIT(out, "null");
        return;
    }
    if (v->state == VALUE_UNAVAILABLE) {
        put_unavailable(out, col);
        return;
    }
    if (col->kind == VALUE_ARRAY)
        put_array(e, out, col, v);
    else
        scalar(e, out, col, col->kind, 0, v);
}
