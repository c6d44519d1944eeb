/* iceberg_value: Appendix D single-value serialization and the type-defined order of Iceberg
 * primitive values (see iceberg_value.h). */
#include "sinks/lake/iceberg_value.h"

#include <math.h>
#include <string.h>

#include "core/errbuf.h"

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

static iceberg_value make(iceberg_type t)
{
    iceberg_value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    return v;
}

iceberg_value iceberg_value_null(iceberg_type t)
{
    iceberg_value v = make(t);
    v.is_null = true;
    return v;
}

iceberg_value iceberg_value_boolean(bool b)
{
    iceberg_value v = make(ICEBERG_TYPE_BOOLEAN);
    v.v.b = b;
    return v;
}

static iceberg_value make_i32(iceberg_type t, int32_t x)
{
    iceberg_value v = make(t);
    v.v.i32 = x;
    return v;
}

static iceberg_value make_i64(iceberg_type t, int64_t x)
{
    iceberg_value v = make(t);
    v.v.i64 = x;
    return v;
}

static iceberg_value make_bytes(iceberg_type t, const void *p, size_t len)
{
    iceberg_value v = make(t);
    v.v.bytes.ptr = p;
    v.v.bytes.len = len;
    return v;
}

iceberg_value iceberg_value_int(int32_t x) { return make_i32(ICEBERG_TYPE_INT, x); }
iceberg_value iceberg_value_date(int32_t days) { return make_i32(ICEBERG_TYPE_DATE, days); }
iceberg_value iceberg_value_long(int64_t x) { return make_i64(ICEBERG_TYPE_LONG, x); }
iceberg_value iceberg_value_time(int64_t us) { return make_i64(ICEBERG_TYPE_TIME, us); }
iceberg_value iceberg_value_timestamp(int64_t us) { return make_i64(ICEBERG_TYPE_TIMESTAMP, us); }
iceberg_value iceberg_value_timestamptz(int64_t us) { return make_i64(ICEBERG_TYPE_TIMESTAMPTZ, us); }
iceberg_value iceberg_value_string(const char *s, size_t len) { return make_bytes(ICEBERG_TYPE_STRING, s, len); }
iceberg_value iceberg_value_uuid(const uint8_t *be16) { return make_bytes(ICEBERG_TYPE_UUID, be16, 16); }
iceberg_value iceberg_value_fixed(const void *p, size_t len) { return make_bytes(ICEBERG_TYPE_FIXED, p, len); }
iceberg_value iceberg_value_binary(const void *p, size_t len) { return make_bytes(ICEBERG_TYPE_BINARY, p, len); }

iceberg_value iceberg_value_float(float x)
{
    iceberg_value v = make(ICEBERG_TYPE_FLOAT);
    v.v.f32 = x;
    return v;
}

iceberg_value iceberg_value_double(double x)
{
    iceberg_value v = make(ICEBERG_TYPE_DOUBLE);
    v.v.f64 = x;
    return v;
}

iceberg_value iceberg_value_decimal(iceberg_decimal d)
{
    iceberg_value v = make(ICEBERG_TYPE_DECIMAL);
    v.v.dec = d;
    return v;
}

iceberg_value iceberg_value_decimal64(int64_t unscaled)
{
    iceberg_decimal d = {unscaled < 0 ? -1 : 0, (uint64_t)unscaled};
    return iceberg_value_decimal(d);
}

const char *iceberg_type_name(iceberg_type t)
{
    switch (t) {
    case ICEBERG_TYPE_BOOLEAN: return "boolean";
    case ICEBERG_TYPE_INT: return "int";
    case ICEBERG_TYPE_LONG: return "long";
    case ICEBERG_TYPE_FLOAT: return "float";
    case ICEBERG_TYPE_DOUBLE: return "double";
    case ICEBERG_TYPE_DECIMAL: return "decimal";
    case ICEBERG_TYPE_DATE: return "date";
    case ICEBERG_TYPE_TIME: return "time";
    case ICEBERG_TYPE_TIMESTAMP: return "timestamp";
    case ICEBERG_TYPE_TIMESTAMPTZ: return "timestamptz";
    case ICEBERG_TYPE_STRING: return "string";
    case ICEBERG_TYPE_UUID: return "uuid";
    case ICEBERG_TYPE_FIXED: return "fixed";
    case ICEBERG_TYPE_BINARY: return "binary";
    }
    return "unknown";
}

int iceberg_type_parse(const char *name, iceberg_type *out)
{
    for (int t = ICEBERG_TYPE_BOOLEAN; t <= ICEBERG_TYPE_BINARY; t++)
        if (name && strcmp(name, iceberg_type_name((iceberg_type)t)) == 0) {
            *out = (iceberg_type)t;
            return 0;
        }
    return -1;
}

static void put_le(buf *out, uint64_t x, size_t n)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(x >> (8 * i));
    buf_append(out, b, n);
}

void iceberg_serialize_int(buf *out, int32_t v)
{
    put_le(out, (uint32_t)v, 4);
}

void iceberg_serialize_long(buf *out, int64_t v)
{
    put_le(out, (uint64_t)v, 8);
}

void iceberg_serialize_float(buf *out, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    put_le(out, bits, 4);
}

void iceberg_serialize_double(buf *out, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    put_le(out, bits, 8);
}

void iceberg_decimal_to_be(iceberg_decimal d, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t shift = 8 * (n - 1 - i);   /* bit position of this byte, 0..120 */
        uint64_t byte = shift >= 64 ? (uint64_t)d.hi >> (shift - 64) : d.lo >> shift;
        out[i] = (uint8_t)byte;
    }
}

void iceberg_serialize_decimal(buf *out, iceberg_decimal d)
{
    uint8_t be[16];
    iceberg_decimal_to_be(d, be, 16);
    /* Drop leading bytes that only repeat the sign: 0x00 before a byte with the top bit clear,
     * 0xff before one with it set (BigInteger.toByteArray's minimal form). */
    size_t start = 0;
    while (start < 15 && ((be[start] == 0x00 && !(be[start + 1] & 0x80)) ||
                          (be[start] == 0xff && (be[start + 1] & 0x80))))
        start++;
    buf_append(out, be + start, 16 - start);
}

int iceberg_decimal_required_bytes(int precision)
{
    /* The smallest n with 2^(8n-1) > 10^p - 1, i.e. 8n - 1 >= p * log2(10). */
    if (precision < 1 || precision > 38)
        return -1;
    u128 limit = 1;
    for (int i = 0; i < precision; i++)
        limit *= 10;
    for (int n = 1; n <= 16; n++) {
        u128 cap = (u128)1 << (8 * n - 1);
        if (cap >= limit)
            return n;
    }
    return 16;
}

bool iceberg_decimal_fits(iceberg_decimal d, int precision)
{
    if (precision < 1 || precision > 38)
        return false;
    i128 x = (i128)(((u128)(uint64_t)d.hi << 64) | d.lo);
    u128 mag = x < 0 ? (u128)0 - (u128)x : (u128)x;
    u128 limit = 1;
    for (int i = 0; i < precision; i++)
        limit *= 10;
    return mag < limit;
}

int iceberg_value_serialize(const iceberg_value *v, buf *out, char *err, size_t errlen)
{
    if (v->is_null)
        return err_setf(err, errlen, "a null %s has no single-value serialization", iceberg_type_name(v->type));
    switch (v->type) {
    case ICEBERG_TYPE_BOOLEAN:
        buf_append(out, v->v.b ? "\x01" : "\x00", 1);
        return 0;
    case ICEBERG_TYPE_INT:
    case ICEBERG_TYPE_DATE:
        iceberg_serialize_int(out, v->v.i32);
        return 0;
    case ICEBERG_TYPE_LONG:
    case ICEBERG_TYPE_TIME:
    case ICEBERG_TYPE_TIMESTAMP:
    case ICEBERG_TYPE_TIMESTAMPTZ:
        iceberg_serialize_long(out, v->v.i64);
        return 0;
    case ICEBERG_TYPE_FLOAT:
        iceberg_serialize_float(out, v->v.f32);
        return 0;
    case ICEBERG_TYPE_DOUBLE:
        iceberg_serialize_double(out, v->v.f64);
        return 0;
    case ICEBERG_TYPE_DECIMAL:
        iceberg_serialize_decimal(out, v->v.dec);
        return 0;
    case ICEBERG_TYPE_UUID:
        if (v->v.bytes.len != 16)
            return err_setf(err, errlen, "a uuid is 16 bytes, not %zu", v->v.bytes.len);
        /* fall through */
    case ICEBERG_TYPE_STRING:
    case ICEBERG_TYPE_FIXED:
    case ICEBERG_TYPE_BINARY:
        if (v->v.bytes.len && !v->v.bytes.ptr)
            return err_setf(err, errlen, "a %s value without bytes", iceberg_type_name(v->type));
        if (v->v.bytes.len)
            buf_append(out, v->v.bytes.ptr, v->v.bytes.len);
        return 0;
    }
    return err_setf(err, errlen, "unknown Iceberg type %d", (int)v->type);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int iceberg_uuid_parse(const char *text, uint8_t out[16])
{
    static const int dashes[] = {8, 13, 18, 23};
    if (!text || strlen(text) != 36)
        return -1;
    size_t n = 0, d = 0;
    for (size_t i = 0; i < 36;) {
        if (d < 4 && (int)i == dashes[d]) {
            if (text[i] != '-')
                return -1;
            d++;
            i++;
            continue;
        }
        int hi = hexval((unsigned char)text[i]), lo = hexval((unsigned char)text[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return n == 16 ? 0 : -1;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_float(double a, double b)
{
    if (a == 0 && b == 0)   /* -0.0 before +0.0 */
        return cmp_i64(signbit(a) ? 0 : 1, signbit(b) ? 0 : 1);
    return a < b ? -1 : a > b;
}

static int cmp_bytes(const iceberg_value *a, const iceberg_value *b)
{
    size_t n = a->v.bytes.len < b->v.bytes.len ? a->v.bytes.len : b->v.bytes.len;
    int c = n ? memcmp(a->v.bytes.ptr, b->v.bytes.ptr, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return a->v.bytes.len < b->v.bytes.len ? -1 : a->v.bytes.len > b->v.bytes.len;
}

int iceberg_value_compare(const iceberg_value *a, const iceberg_value *b)
{
    switch (a->type) {
    case ICEBERG_TYPE_BOOLEAN:
        return cmp_i64(a->v.b, b->v.b);
    case ICEBERG_TYPE_INT:
    case ICEBERG_TYPE_DATE:
        return cmp_i64(a->v.i32, b->v.i32);
    case ICEBERG_TYPE_LONG:
    case ICEBERG_TYPE_TIME:
    case ICEBERG_TYPE_TIMESTAMP:
    case ICEBERG_TYPE_TIMESTAMPTZ:
        return cmp_i64(a->v.i64, b->v.i64);
    case ICEBERG_TYPE_FLOAT:
        return cmp_float(a->v.f32, b->v.f32);
    case ICEBERG_TYPE_DOUBLE:
        return cmp_float(a->v.f64, b->v.f64);
    case ICEBERG_TYPE_DECIMAL:
        if (a->v.dec.hi != b->v.dec.hi)
            return a->v.dec.hi < b->v.dec.hi ? -1 : 1;
        return a->v.dec.lo < b->v.dec.lo ? -1 : a->v.dec.lo > b->v.dec.lo;
    case ICEBERG_TYPE_STRING:
    case ICEBERG_TYPE_UUID:
    case ICEBERG_TYPE_FIXED:
    case ICEBERG_TYPE_BINARY:
        return cmp_bytes(a, b);
    }
    return 0;
}

bool iceberg_value_is_nan(const iceberg_value *v)
{
    if (v->is_null)
        return false;
    if (v->type == ICEBERG_TYPE_FLOAT)
        return isnan(v->v.f32);
    if (v->type == ICEBERG_TYPE_DOUBLE)
        return isnan(v->v.f64);
    return false;
}
