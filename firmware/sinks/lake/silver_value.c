/* silver_value: source column types and values as the silver writer's Parquet columns (see the
 * table in silver_value.h). Decimal text is converted by hand, exactly, to the 128-bit unscaled
 * value: no floating point, no NUL-terminated copies (server text is length-delimited). */
#include "sinks/lake/silver_value.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/errbuf.h"
#include "encode/pg_text.h"

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

#define OID_OID 26
#define MONEY_PRECISION 19   /* every int64 amount of cents */
#define MONEY_SCALE 2
#define DECIMAL_MAX_PRECISION 38
#define EXPONENT_CLAMP INT64_C(1000000000000000)   /* exponents beyond this saturate */

static const char *col_name(const column_def *c)
{
    return c->name ? c->name : "?";
}

static u128 pow10_u128(int n)
{
    u128 v = 1;
    while (n-- > 0)
        v *= 10;
    return v;
}

static parquet_decimal decimal_of(i128 x)
{
    parquet_decimal d = {(int64_t)(x >> 64), (uint64_t)x};
    return d;
}

/* ---- column types ------------------------------------------------------------------------- */

static void set_decimal(parquet_column_def *out, int precision, int scale)
{
    out->type = PARQUET_TYPE_DECIMAL;
    out->precision = precision;
    out->scale = scale;
}

/* numeric's typmod ((precision << 16) | scale) + 4, scale an 11-bit signed field since PG 15. */
static void numeric_type(const column_def *c, parquet_column_def *out)
{
    out->type = PARQUET_TYPE_STRING;
    if (c->typmod < 4)
        return;   /* unconstrained: any precision and scale, kept as PostgreSQL's text */
    int32_t t = c->typmod - 4;
    int precision = (t >> 16) & 0xffff;
    int scale = ((t & 0x7ff) ^ 1024) - 1024;
    if (precision < 1 || precision > DECIMAL_MAX_PRECISION)
        return;
    if (scale < 0) {   /* rounded to 10^-scale: integers of precision - scale digits */
        if (precision - scale <= DECIMAL_MAX_PRECISION)
            set_decimal(out, precision - scale, 0);
    } else if (scale > precision) {   /* |x| < 10^(precision - scale): fits decimal(scale, scale) */
        if (scale <= DECIMAL_MAX_PRECISION)
            set_decimal(out, scale, scale);
    } else {
        set_decimal(out, precision, scale);
    }
}

int silver_value_column_type(const column_def *c, parquet_column_def *out, char *err, size_t errlen)
{
    out->precision = 0;
    out->scale = 0;
    switch (c->kind) {
    case VALUE_BOOL: out->type = PARQUET_TYPE_BOOLEAN; break;
    case VALUE_INT16: out->type = PARQUET_TYPE_INT32; break;
    case VALUE_INT32: out->type = c->type_oid == OID_OID ? PARQUET_TYPE_INT64 : PARQUET_TYPE_INT32; break;
    case VALUE_INT64: out->type = PARQUET_TYPE_INT64; break;
    case VALUE_FLOAT32: out->type = PARQUET_TYPE_FLOAT; break;
    case VALUE_FLOAT64: out->type = PARQUET_TYPE_DOUBLE; break;
    case VALUE_NUMERIC: numeric_type(c, out); break;
    case VALUE_MONEY: set_decimal(out, MONEY_PRECISION, MONEY_SCALE); break;
    case VALUE_BYTES: out->type = PARQUET_TYPE_BINARY; break;
    case VALUE_UUID: out->type = PARQUET_TYPE_UUID; break;
    case VALUE_DATE: out->type = PARQUET_TYPE_DATE; break;
    case VALUE_TIME: out->type = PARQUET_TYPE_TIME; break;
    case VALUE_TIMESTAMP: out->type = PARQUET_TYPE_TIMESTAMP; break;
    case VALUE_TIMESTAMPTZ: out->type = PARQUET_TYPE_TIMESTAMPTZ; break;
    case VALUE_TEXT:
    case VALUE_JSON:
    case VALUE_INET:
    case VALUE_ARRAY:
    case VALUE_INTERVAL:
    case VALUE_TIMETZ:
    default: out->type = PARQUET_TYPE_STRING; break;   /* any other kind: its text */
    }
    (void)err;
    (void)errlen;
    return 0;
}

/* ---- decimals ----------------------------------------------------------------------------- */

static bool ieq(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != lit[i])
            return false;
    return true;
}

/* NaN, Infinity, -Infinity (and their case and sign variants, "inf"). */
static bool numeric_special(const char *s, size_t len)
{
    if (len && (*s == '+' || *s == '-')) {
        s++;
        len--;
    }
    return ieq(s, len, "nan") || ieq(s, len, "infinity") || ieq(s, len, "inf");
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Decimal text -?d*(.d*)?([eE][+-]?d+)? exactly as the unscaled value at scale, below
 * 10^precision. 0, or -1 with *why. */
static int decimal_from_text(const char *s, size_t len, int precision, int scale, i128 *out, const char **why)
{
    const char *p = s, *end = s + len;
    bool neg = false;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    const char *int_start = p;
    while (p < end && is_digit(*p))
        p++;
    size_t nint = (size_t)(p - int_start);
    const char *frac_start = p;
    size_t nfrac = 0;
    if (p < end && *p == '.') {
        frac_start = ++p;
        while (p < end && is_digit(*p))
            p++;
        nfrac = (size_t)(p - frac_start);
    }
    *why = "not a decimal number";
    if (nint + nfrac == 0)
        return -1;
    int64_t exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool eneg = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p == end || !is_digit(*p))
            return -1;
        for (; p < end && is_digit(*p); p++)
            if (exp < EXPONENT_CLAMP)
                exp = exp * 10 + (*p - '0');
        if (eneg)
            exp = -exp;
    }
    if (p != end)
        return -1;

    /* value = digits * 10^(exp - nfrac); unscaled = digits * 10^k */
    size_t n = nint + nfrac, keep = n;
    int64_t k = exp - (int64_t)nfrac + scale;
    if (k < 0)
        keep = (uint64_t)-k >= n ? 0 : n - (size_t)-k;
    u128 lim = pow10_u128(precision), v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = (i < nint ? int_start[i] : frac_start[i - nint]) - '0';
        if (i >= keep) {
            if (d != 0) {
                *why = "more fraction digits than the column's scale";
                return -1;
            }
            continue;
        }
        if (v > (lim - 1 - (u128)d) / 10)
            goto range;
        v = v * 10 + (u128)d;
    }
    for (int64_t i = 0; v != 0 && i < k; i++) {
        if (v > (lim - 1) / 10)
            goto range;
        v *= 10;
    }
    *out = neg ? -(i128)v : (i128)v;
    return 0;
range:
    *why = "out of range for the column's precision";
    return -1;
}

static int check_decimal_type(const column_def *c, const parquet_column_def *pc, char *err, size_t errlen)
{
    if (pc->precision < 1 || pc->precision > DECIMAL_MAX_PRECISION || pc->scale < 0 || pc->scale > pc->precision)
        return err_setf(err, errlen, "column %s: decimal(%d,%d) is not a valid column type", col_name(c),
                        pc->precision, pc->scale);
    return 0;
}

/* money's cents at the column's scale and precision. */
static int money_to_decimal(const column_def *c, const parquet_column_def *pc, int64_t cents, parquet_value *out,
                            char *err, size_t errlen)
{
    i128 x = cents;
    u128 mag = cents < 0 ? (u128)(0 - (uint64_t)cents) : (u128)cents;
    if (pc->scale >= MONEY_SCALE) {
        u128 f = pow10_u128(pc->scale - MONEY_SCALE);
        if (mag > (pow10_u128(pc->precision) - 1) / f)
            goto range;
        x *= (i128)f;
    } else {
        i128 f = (i128)pow10_u128(MONEY_SCALE - pc->scale);
        if (x % f != 0)
            return err_setf(err, errlen, "column %s: money %lld cents has more fraction digits than decimal(%d,%d)",
                            col_name(c), (long long)cents, pc->precision, pc->scale);
        x /= f;
        mag /= (u128)f;
        if (mag >= pow10_u128(pc->precision))
            goto range;
    }
    *out = parquet_value_decimal(decimal_of(x));
    return 0;
range:
    return err_setf(err, errlen, "column %s: money %lld cents is out of range for decimal(%d,%d)", col_name(c),
                    (long long)cents, pc->precision, pc->scale);
}

static int numeric_to_decimal(const column_def *c, const parquet_column_def *pc, const value *v, parquet_value *out,
                              char *err, size_t errlen)
{
    if (!v->s)
        return err_setf(err, errlen, "column %s: a numeric value without its text", col_name(c));
    if (numeric_special(v->s, v->len)) {
        *out = parquet_value_null();
        return 1;
    }
    i128 x;
    const char *why;
    if (decimal_from_text(v->s, v->len, pc->precision, pc->scale, &x, &why) < 0)
        return err_setf(err, errlen, "column %s: numeric '%.*s' for decimal(%d,%d): %s", col_name(c),
                        v->len > 64 ? 64 : (int)v->len, v->s, pc->precision, pc->scale, why);
    *out = parquet_value_decimal(decimal_of(x));
    return 0;
}

/* ---- values ------------------------------------------------------------------------------- */

static int mismatch(const column_def *c, const parquet_column_def *pc, char *err, size_t errlen)
{
    return err_setf(err, errlen, "column %s: a %s value cannot be written as %s", col_name(c), value_kind_name(c->kind),
                    parquet_type_name(pc->type));
}

static bool is_infinity(int64_t x)
{
    return x == INT64_MIN || x == INT64_MAX;
}

/* PostgreSQL's text of a value that carries none (a rule set it from a number), for the kinds
 * whose typed form determines it; copied into scratch. */
static int text_from_typed(const column_def *c, const value *v, parquet_value *out, arena *scratch, char *err,
                           size_t errlen)
{
    buf t = BUF_INIT;
    const char *why = NULL;
    switch ((value_kind)c->kind) {
    case VALUE_BOOL: buf_append(&t, v->v.b ? "true" : "false", v->v.b ? 4 : 5); break;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64: buf_printf(&t, "%lld", (long long)v->v.i); break;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64: pg_text_float(&t, v->v.f, c->kind == VALUE_FLOAT32); break;
    case VALUE_MONEY: pg_text_money(&t, v->v.i); break;
    case VALUE_DATE:
        if (v->v.i == INT64_MAX || v->v.i == INT64_MIN)
            buf_printf(&t, "%sinfinity", v->v.i == INT64_MIN ? "-" : "");
        else
            pg_text_date(&t, v->v.i);
        break;
    case VALUE_TIME: pg_text_time(&t, v->v.i); break;
    case VALUE_TIMETZ:
        pg_text_time(&t, v->v.i);
        pg_text_offset(&t, v->tz_offset);
        break;
    case VALUE_TIMESTAMP: pg_text_timestamp(&t, v->v.i, 0); break;
    case VALUE_TIMESTAMPTZ: pg_text_timestamp(&t, v->v.i, 1); break;
    case VALUE_INTERVAL: pg_text_interval(&t, v->v.interval.months, v->v.interval.days, v->v.interval.us); break;
    default: why = "no text to write"; break;
    }
    if (why) {
        buf_free(&t);
        return err_setf(err, errlen, "column %s: a %s value without PostgreSQL's text cannot be written as string",
                        col_name(c), value_kind_name(c->kind));
    }
    char *copy = arena_strndup(scratch, t.data ? t.data : "", t.len);
    *out = parquet_value_bytes(copy, t.len);
    buf_free(&t);
    return 0;
}

int silver_value_to_parquet(const column_def *c, const parquet_column_def *pc, const value *v, parquet_value *out,
                            arena *scratch, char *err, size_t errlen)
{
    (void)scratch;   /* every byte value points into v */
    *out = parquet_value_null();
    if (v->state == VALUE_IS_NULL)
        return 0;
    if (v->state == VALUE_UNAVAILABLE)
        return err_setf(err, errlen, "column %s: value unavailable (an unchanged TOASTed value not filled in)",
                        col_name(c));
    if (v->state != VALUE_PRESENT)
        return err_setf(err, errlen, "column %s: invalid value state %d", col_name(c), (int)v->state);
    value_kind k = c->kind;
    switch (pc->type) {
    case PARQUET_TYPE_BOOLEAN:
        if (k != VALUE_BOOL)
            return mismatch(c, pc, err, errlen);
        *out = parquet_value_bool(v->v.b != 0);
        return 0;
    case PARQUET_TYPE_INT32:
        if (k != VALUE_INT16 && k != VALUE_INT32)
            return mismatch(c, pc, err, errlen);
        if (v->v.i < INT32_MIN || v->v.i > INT32_MAX)
            return err_setf(err, errlen, "column %s: %lld is out of range for int", col_name(c), (long long)v->v.i);
        *out = parquet_value_int32((int32_t)v->v.i);
        return 0;
    case PARQUET_TYPE_INT64:
        if (k != VALUE_INT16 && k != VALUE_INT32 && k != VALUE_INT64)
            return mismatch(c, pc, err, errlen);
        *out = parquet_value_int64(v->v.i);
        return 0;
    case PARQUET_TYPE_FLOAT:
        if (k != VALUE_FLOAT32)
            return mismatch(c, pc, err, errlen);
        *out = parquet_value_float((float)v->v.f);
        return 0;
    case PARQUET_TYPE_DOUBLE:
        if (k != VALUE_FLOAT32 && k != VALUE_FLOAT64)
            return mismatch(c, pc, err, errlen);
        *out = parquet_value_double(v->v.f);
        return 0;
    case PARQUET_TYPE_DECIMAL:
        if (check_decimal_type(c, pc, err, errlen) < 0)
            return -1;
        if (k == VALUE_NUMERIC)
            return numeric_to_decimal(c, pc, v, out, err, errlen);
        if (k == VALUE_MONEY)
            return money_to_decimal(c, pc, v->v.i, out, err, errlen);
        return mismatch(c, pc, err, errlen);
    case PARQUET_TYPE_STRING:
        if (k == VALUE_BYTES)
            return mismatch(c, pc, err, errlen);
        if (!v->s)
            return text_from_typed(c, v, out, scratch, err, errlen);
        *out = parquet_value_bytes(v->s, v->len);
        return 0;
    case PARQUET_TYPE_BINARY:
        if (k != VALUE_BYTES)
            return mismatch(c, pc, err, errlen);
        *out = parquet_value_bytes(v->s ? v->s : "", v->s ? v->len : 0);
        return 0;
    case PARQUET_TYPE_UUID:
        if (k != VALUE_UUID)
            return mismatch(c, pc, err, errlen);
        *out = parquet_value_bytes(v->v.uuid, sizeof v->v.uuid);
        return 0;
    case PARQUET_TYPE_DATE:
        if (k != VALUE_DATE)
            return mismatch(c, pc, err, errlen);
        if (is_infinity(v->v.i))
            return 1;
        if (v->v.i < INT32_MIN || v->v.i > INT32_MAX)
            return err_setf(err, errlen, "column %s: date %lld days is out of range", col_name(c),
                            (long long)v->v.i);
        *out = parquet_value_int32((int32_t)v->v.i);
        return 0;
    case PARQUET_TYPE_TIME:
        if (k != VALUE_TIME)
            return mismatch(c, pc, err, errlen);
        *out = parquet_value_int64(v->v.i);
        return 0;
    case PARQUET_TYPE_TIMESTAMP:
    case PARQUET_TYPE_TIMESTAMPTZ:
        if (k != (pc->type == PARQUET_TYPE_TIMESTAMP ? VALUE_TIMESTAMP : VALUE_TIMESTAMPTZ))
            return mismatch(c, pc, err, errlen);
        if (is_infinity(v->v.i))
            return 1;
        *out = parquet_value_int64(v->v.i);
        return 0;
    }
    return err_setf(err, errlen, "column %s: unknown column type %d", col_name(c), (int)pc->type);
}
