/* parquet_types: type mapping and value checks for the Parquet writer (see parquet_types.h).
 * Decimals are 128-bit two's complement integers, handled with the compiler's __int128. */
#include "sinks/lake/parquet_types.h"

#include <stdio.h>
#include <string.h>

#include "core/errbuf.h"

__extension__ typedef __int128 pq_i128;

static pq_i128 dec_to_i128(parquet_decimal d)
{
    return (pq_i128)(((unsigned __int128)(uint64_t)d.hi << 64) | d.lo);
}

static parquet_decimal dec_from_i128(pq_i128 v)
{
    parquet_decimal d = {(int64_t)(v >> 64), (uint64_t)v};
    return d;
}

/* 10^p for p 0..38. */
static pq_i128 dec_pow10(int p)
{
    pq_i128 v = 1;
    for (int i = 0; i < p; i++)
        v *= 10;
    return v;
}

static const char *const type_names[] = {
    [PARQUET_TYPE_BOOLEAN] = "boolean", [PARQUET_TYPE_INT32] = "int32",
    [PARQUET_TYPE_INT64] = "int64",     [PARQUET_TYPE_FLOAT] = "float",
    [PARQUET_TYPE_DOUBLE] = "double",   [PARQUET_TYPE_DECIMAL] = "decimal",
    [PARQUET_TYPE_STRING] = "string",   [PARQUET_TYPE_BINARY] = "binary",
    [PARQUET_TYPE_UUID] = "uuid",       [PARQUET_TYPE_DATE] = "date",
    [PARQUET_TYPE_TIME] = "time",       [PARQUET_TYPE_TIMESTAMP] = "timestamp",
    [PARQUET_TYPE_TIMESTAMPTZ] = "timestamptz",
};

const char *parquet_type_name(parquet_type t)
{
    if ((unsigned)t < sizeof type_names / sizeof type_names[0])
        return type_names[t];
    return "?";
}

int parquet_type_parse(const char *s, parquet_type *out)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *out = (parquet_type)i;
            return 0;
        }
    }
    return -1;
}

int parquet_decimal_fixed_bytes(int precision)
{
    /* The smallest n with 2^(8n - 1) > 10^precision - 1. */
    pq_i128 max = dec_pow10(precision) - 1;
    for (int n = 1; n < 16; n++) {
        if (max < ((pq_i128)1 << (8 * n - 1)))
            return n;
    }
    return 16;
}

parquet_physical parquet_column_physical(const parquet_column_def *c)
{
    switch (c->type) {
    case PARQUET_TYPE_BOOLEAN:
        return PARQUET_PHYS_BOOLEAN;
    case PARQUET_TYPE_INT32:
    case PARQUET_TYPE_DATE:
        return PARQUET_PHYS_INT32;
    case PARQUET_TYPE_INT64:
    case PARQUET_TYPE_TIME:
    case PARQUET_TYPE_TIMESTAMP:
    case PARQUET_TYPE_TIMESTAMPTZ:
        return PARQUET_PHYS_INT64;
    case PARQUET_TYPE_FLOAT:
        return PARQUET_PHYS_FLOAT;
    case PARQUET_TYPE_DOUBLE:
        return PARQUET_PHYS_DOUBLE;
    case PARQUET_TYPE_DECIMAL:
        return c->precision <= 9 ? PARQUET_PHYS_INT32 : c->precision <= 18 ? PARQUET_PHYS_INT64 : PARQUET_PHYS_FIXED;
    case PARQUET_TYPE_STRING:
    case PARQUET_TYPE_BINARY:
        return PARQUET_PHYS_BYTE_ARRAY;
    case PARQUET_TYPE_UUID:
        return PARQUET_PHYS_FIXED;
    }
    return PARQUET_PHYS_BYTE_ARRAY;
}

int parquet_column_type_length(const parquet_column_def *c)
{
    if (c->type == PARQUET_TYPE_UUID)
        return 16;
    if (c->type == PARQUET_TYPE_DECIMAL && parquet_column_physical(c) == PARQUET_PHYS_FIXED)
        return parquet_decimal_fixed_bytes(c->precision);
    return 0;
}

parquet_value_kind parquet_column_value_kind(const parquet_column_def *c)
{
    switch (c->type) {
    case PARQUET_TYPE_BOOLEAN:
        return PARQUET_VALUE_BOOL;
    case PARQUET_TYPE_INT32:
    case PARQUET_TYPE_DATE:
        return PARQUET_VALUE_INT32;
    case PARQUET_TYPE_INT64:
    case PARQUET_TYPE_TIME:
    case PARQUET_TYPE_TIMESTAMP:
    case PARQUET_TYPE_TIMESTAMPTZ:
        return PARQUET_VALUE_INT64;
    case PARQUET_TYPE_FLOAT:
        return PARQUET_VALUE_FLOAT;
    case PARQUET_TYPE_DOUBLE:
        return PARQUET_VALUE_DOUBLE;
    case PARQUET_TYPE_DECIMAL:
        return PARQUET_VALUE_DECIMAL;
    case PARQUET_TYPE_STRING:
    case PARQUET_TYPE_BINARY:
    case PARQUET_TYPE_UUID:
        return PARQUET_VALUE_BYTES;
    }
    return PARQUET_VALUE_NULL;
}

int parquet_column_converted_type(const parquet_column_def *c)
{
    /* parquet.thrift ConvertedType: UTF8 0, DECIMAL 5, DATE 6, TIME_MICROS 8, TIMESTAMP_MICROS 10.
     * LogicalTypes.md: local times and timestamps carry the legacy annotation as well. */
    switch (c->type) {
    case PARQUET_TYPE_STRING:
        return 0;
    case PARQUET_TYPE_DECIMAL:
        return 5;
    case PARQUET_TYPE_DATE:
        return 6;
    case PARQUET_TYPE_TIME:
        return 8;
    case PARQUET_TYPE_TIMESTAMP:
    case PARQUET_TYPE_TIMESTAMPTZ:
        return 10;
    default:
        return -1;
    }
}

int parquet_column_def_check(const parquet_column_def *c, char *err, size_t errlen)
{
    if (!c->name || !*c->name)
        return err_setf(err, errlen, "a column has no name");
    if ((unsigned)c->type > PARQUET_TYPE_TIMESTAMPTZ)
        return err_setf(err, errlen, "column %s: unknown type %d", c->name, (int)c->type);
    if (c->type == PARQUET_TYPE_DECIMAL) {
        if (c->precision < 1 || c->precision > 38)
            return err_setf(err, errlen, "column %s: decimal precision %d is not in 1..38", c->name, c->precision);
        if (c->scale < 0 || c->scale > c->precision)
            return err_setf(err, errlen, "column %s: decimal scale %d is not in 0..%d", c->name, c->scale,
                            c->precision);
    }
    return 0;
}

static const char *kind_name(parquet_value_kind k)
{
    static const char *const names[] = {"null", "bool", "int32", "int64", "float", "double", "bytes", "decimal"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

int parquet_value_check(const parquet_column_def *c, const parquet_value *v, char *err, size_t errlen)
{
    if (v->kind == PARQUET_VALUE_NULL) {
        if (!c->optional)
            return err_setf(err, errlen, "column %s is required: NULL value", c->name);
        return 0;
    }
    parquet_value_kind want = parquet_column_value_kind(c);
    if (v->kind != want)
        return err_setf(err, errlen, "column %s (%s): a %s value where %s is expected", c->name,
                        parquet_type_name(c->type), kind_name(v->kind), kind_name(want));
    switch (c->type) {
    case PARQUET_TYPE_DECIMAL: {
        pq_i128 x = dec_to_i128(v->v.dec), lim = dec_pow10(c->precision);
        if (x >= lim || x <= -lim)
            return err_setf(err, errlen, "column %s: decimal value out of range for precision %d", c->name,
                            c->precision);
        break;
    }
    case PARQUET_TYPE_STRING:
        if (v->v.bytes.len && !v->v.bytes.ptr)
            return err_setf(err, errlen, "column %s: NULL data pointer", c->name);
        if (v->v.bytes.len > PARQUET_MAX_VALUE_BYTES)
            return err_setf(err, errlen, "column %s: value of %zu bytes is too large", c->name, v->v.bytes.len);
        if (!parquet_utf8_valid(v->v.bytes.ptr, v->v.bytes.len))
            return err_setf(err, errlen, "column %s: string is not valid UTF-8", c->name);
        break;
    case PARQUET_TYPE_BINARY:
        if (v->v.bytes.len && !v->v.bytes.ptr)
            return err_setf(err, errlen, "column %s: NULL data pointer", c->name);
        if (v->v.bytes.len > PARQUET_MAX_VALUE_BYTES)
            return err_setf(err, errlen, "column %s: value of %zu bytes is too large", c->name, v->v.bytes.len);
        break;
    case PARQUET_TYPE_UUID:
        if (v->v.bytes.len != 16 || !v->v.bytes.ptr)
            return err_setf(err, errlen, "column %s: a uuid is 16 bytes, not %zu", c->name, v->v.bytes.len);
        break;
    default:
        break;
    }
    return 0;
}

int parquet_decimal_from_text(const char *text, int precision, int scale, parquet_decimal *out, char *err,
                              size_t errlen)
{
    const char *p = text;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    pq_i128 v = 0;
    int int_digits = 0, frac_digits = 0, significant = 0;
    bool dot = false;
    for (; *p; p++) {
        if (*p == '.' && !dot) {
            dot = true;
            continue;
        }
        if (*p < '0' || *p > '9')
            return err_setf(err, errlen, "'%s' is not a decimal number", text);
        if (dot)
            frac_digits++;
        else
            int_digits++;
        if (dot && frac_digits > scale) {
            if (*p != '0')
                return err_setf(err, errlen, "'%s' has more than %d fraction digits", text, scale);
            continue;
        }
        if (significant || *p != '0')
            significant++;
        if (significant > 38)
            return err_setf(err, errlen, "'%s' is out of range for decimal(%d,%d)", text, precision, scale);
        v = v * 10 + (*p - '0');
    }
    if (int_digits + frac_digits == 0)
        return err_setf(err, errlen, "'%s' is not a decimal number", text);
    for (int i = frac_digits < scale ? frac_digits : scale; i < scale; i++) {
        if (v >= dec_pow10(37))   /* v * 10 >= 10^38 >= 10^precision (and no overflow) */
            return err_setf(err, errlen, "'%s' is out of range for decimal(%d,%d)", text, precision, scale);
        v *= 10;
    }
    if (v >= dec_pow10(precision))
        return err_setf(err, errlen, "'%s' is out of range for decimal(%d,%d)", text, precision, scale);
    *out = dec_from_i128(neg ? -v : v);
    return 0;
}

int parquet_decimal_compare(parquet_decimal a, parquet_decimal b)
{
    pq_i128 x = dec_to_i128(a), y = dec_to_i128(b);
    return x < y ? -1 : x > y;
}

void parquet_decimal_to_be(parquet_decimal d, uint8_t *out, int n)
{
    unsigned __int128 u = (unsigned __int128)dec_to_i128(d);
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (uint8_t)u;
        u >>= 8;
    }
}

bool parquet_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path, 8 bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}
