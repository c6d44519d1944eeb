/* parquet_stats: statistics in type-defined order and their Statistics encoding (see
 * parquet_stats.h). */
#include "sinks/lake/parquet_stats.h"

#include <math.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet writer assumes a little-endian host"
#endif

void parquet_stats_reset(parquet_stats *s)
{
    buf mb = s->min_buf, xb = s->max_buf;
    buf_reset(&mb);
    buf_reset(&xb);
    memset(s, 0, sizeof *s);
    s->min_buf = mb;
    s->max_buf = xb;
}

void parquet_stats_free(parquet_stats *s)
{
    buf_free(&s->min_buf);
    buf_free(&s->max_buf);
    memset(s, 0, sizeof *s);
}

static int bytes_compare(const parquet_value *a, const parquet_value *b)
{
    size_t n = a->v.bytes.len < b->v.bytes.len ? a->v.bytes.len : b->v.bytes.len;
    int r = n ? memcmp(a->v.bytes.ptr, b->v.bytes.ptr, n) : 0;
    if (r)
        return r;
    return a->v.bytes.len < b->v.bytes.len ? -1 : a->v.bytes.len > b->v.bytes.len;
}

int parquet_value_compare(const parquet_column_def *c, const parquet_value *a, const parquet_value *b)
{
    (void)c;
    switch (a->kind) {
    case PARQUET_VALUE_BOOL:
        return (int)a->v.b - (int)b->v.b;
    case PARQUET_VALUE_INT32:
        return a->v.i32 < b->v.i32 ? -1 : a->v.i32 > b->v.i32;
    case PARQUET_VALUE_INT64:
        return a->v.i64 < b->v.i64 ? -1 : a->v.i64 > b->v.i64;
    case PARQUET_VALUE_FLOAT:
        return a->v.f32 < b->v.f32 ? -1 : a->v.f32 > b->v.f32;
    case PARQUET_VALUE_DOUBLE:
        return a->v.f64 < b->v.f64 ? -1 : a->v.f64 > b->v.f64;
    case PARQUET_VALUE_BYTES:
        return bytes_compare(a, b);
    case PARQUET_VALUE_DECIMAL:
        return parquet_decimal_compare(a->v.dec, b->v.dec);
    case PARQUET_VALUE_NULL:
        break;
    }
    return 0;
}

/* *dst = *v, byte arrays copied into store. */
static void stats_set(parquet_value *dst, buf *store, const parquet_value *v)
{
    *dst = *v;
    if (v->kind == PARQUET_VALUE_BYTES) {
        buf_reset(store);
        buf_append(store, v->v.bytes.ptr, v->v.bytes.len);
        dst->v.bytes.ptr = store->data;
    }
}

static void stats_bound(parquet_stats *s, const parquet_column_def *c, const parquet_value *v)
{
    /* Fast paths for the fixed-width kinds (no copies, no generic compare). */
#define STATS_FIXED(field)                                                                                       \
    if (s->has_minmax) {                                                                                         \
        if (v->v.field < s->min.v.field)                                                                         \
            s->min = *v;                                                                                         \
        else if (v->v.field > s->max.v.field)                                                                    \
            s->max = *v;                                                                                         \
        return;                                                                                                  \
    }
    switch (v->kind) {
    case PARQUET_VALUE_INT32:
        STATS_FIXED(i32)
        break;
    case PARQUET_VALUE_INT64:
        STATS_FIXED(i64)
        break;
    case PARQUET_VALUE_DOUBLE:
        STATS_FIXED(f64)
        break;
    default:
        break;
    }
#undef STATS_FIXED
    if (!s->has_minmax) {
        stats_set(&s->min, &s->min_buf, v);
        stats_set(&s->max, &s->max_buf, v);
        s->has_minmax = true;
        return;
    }
    if (parquet_value_compare(c, v, &s->min) < 0)
        stats_set(&s->min, &s->min_buf, v);
    else if (parquet_value_compare(c, v, &s->max) > 0)
        stats_set(&s->max, &s->max_buf, v);
}

void parquet_stats_add(parquet_stats *s, const parquet_column_def *c, const parquet_value *v)
{
    if (v->kind == PARQUET_VALUE_NULL) {
        s->nulls++;
        return;
    }
    s->values++;
    if ((v->kind == PARQUET_VALUE_FLOAT && isnan(v->v.f32)) || (v->kind == PARQUET_VALUE_DOUBLE && isnan(v->v.f64))) {
        s->nans++;
        return;
    }
    stats_bound(s, c, v);
}

void parquet_stats_merge(parquet_stats *dst, const parquet_stats *src, const parquet_column_def *c)
{
    dst->values += src->values;
    dst->nulls += src->nulls;
    dst->nans += src->nans;
    if (!src->has_minmax)
        return;
    if (!dst->has_minmax) {
        stats_set(&dst->min, &dst->min_buf, &src->min);
        stats_set(&dst->max, &dst->max_buf, &src->max);
        dst->has_minmax = true;
        return;
    }
    if (parquet_value_compare(c, &src->min, &dst->min) < 0)
        stats_set(&dst->min, &dst->min_buf, &src->min);
    if (parquet_value_compare(c, &src->max, &dst->max) > 0)
        stats_set(&dst->max, &dst->max_buf, &src->max);
}

/* One bound of a fixed-width type, PLAIN. is_max: the bound is the max (zero sign rule). */
static void stats_put_fixed(const parquet_column_def *c, const parquet_value *v, bool is_max, buf *out)
{
    switch (v->kind) {
    case PARQUET_VALUE_BOOL: {
        uint8_t b = v->v.b;
        buf_append(out, &b, 1);
        break;
    }
    case PARQUET_VALUE_INT32:
        buf_append(out, &v->v.i32, 4);
        break;
    case PARQUET_VALUE_INT64:
        buf_append(out, &v->v.i64, 8);
        break;
    case PARQUET_VALUE_FLOAT: {
        float f = v->v.f32 == 0.0f ? (is_max ? 0.0f : -0.0f) : v->v.f32;
        buf_append(out, &f, 4);
        break;
    }
    case PARQUET_VALUE_DOUBLE: {
        double d = v->v.f64 == 0.0 ? (is_max ? 0.0 : -0.0) : v->v.f64;
        buf_append(out, &d, 8);
        break;
    }
    case PARQUET_VALUE_DECIMAL: {
        parquet_physical p = parquet_column_physical(c);
        if (p == PARQUET_PHYS_INT32) {
            int32_t x = (int32_t)v->v.dec.lo;
            buf_append(out, &x, 4);
        } else if (p == PARQUET_PHYS_INT64) {
            int64_t x = (int64_t)v->v.dec.lo;
            buf_append(out, &x, 8);
        } else {
            uint8_t be[16];
            int n = parquet_column_type_length(c);
            parquet_decimal_to_be(v->v.dec, be, n);
            buf_append(out, be, (size_t)n);
        }
        break;
    }
    default:
        break;
    }
}

/* Length of the longest prefix of s no longer than limit that ends on a UTF-8 boundary. */
static size_t utf8_prefix(const uint8_t *s, size_t len, size_t limit)
{
    size_t n = limit < len ? limit : len;
    while (n > 0 && n < len && (s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static size_t utf8_put(uint8_t *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* An upper bound of s no longer than limit bytes: a prefix whose last unit is incremented (a
 * code point for strings, a byte otherwise). false if there is none (all units at their max). */
static bool truncated_upper(const uint8_t *s, size_t len, size_t limit, bool utf8, buf *out)
{
    if (!utf8) {
        size_t n = limit;
        while (n > 0 && s[n - 1] == 0xFF)
            n--;
        if (n == 0)
            return false;
        buf_append(out, s, n - 1);
        uint8_t last = (uint8_t)(s[n - 1] + 1);
        buf_append(out, &last, 1);
        return true;
    }
    size_t n = utf8_prefix(s, len, limit);
    while (n > 0) {
        size_t start = n - 1;
        while (start > 0 && (s[start] & 0xC0) == 0x80)
            start--;
        uint32_t cp = s[start];
        size_t clen = n - start;
        if (clen > 1) {
            cp &= 0x7Fu >> clen;
            for (size_t k = 1; k < clen; k++)
                cp = cp << 6 | (s[start + k] & 0x3F);
        }
        uint32_t next = cp + 1 == 0xD800 ? 0xE000 : cp + 1;
        uint8_t enc[4];
        size_t elen = next <= 0x10FFFF ? utf8_put(enc, next) : 0;
        if (elen && start + elen <= limit) {
            buf_append(out, s, start);
            buf_append(out, enc, elen);
            return true;
        }
        n = start;   /* drop this code point, increment the previous one */
    }
    return false;
}

bool parquet_stats_encode(const parquet_stats *s, const parquet_column_def *c, size_t limit, buf *min,
                          bool *min_exact, buf *max, bool *max_exact)
{
    *min_exact = *max_exact = true;
    if (!s->has_minmax)
        return false;
    if (s->min.kind != PARQUET_VALUE_BYTES) {
        stats_put_fixed(c, &s->min, false, min);
        stats_put_fixed(c, &s->max, true, max);
        return true;
    }
    bool utf8 = c->type == PARQUET_TYPE_STRING;
    const uint8_t *lo = s->min.v.bytes.ptr, *hi = s->max.v.bytes.ptr;
    size_t lo_len = s->min.v.bytes.len, hi_len = s->max.v.bytes.len;
    if (limit == 0)
        limit = SIZE_MAX;
    if (hi_len > limit) {
        size_t before = max->len;
        if (!truncated_upper(hi, hi_len, limit, utf8, max)) {
            buf_truncate(max, before);
            return false;
        }
        *max_exact = false;
    } else {
        buf_append(max, hi, hi_len);
    }
    if (lo_len > limit) {
        buf_append(min, lo, utf8 ? utf8_prefix(lo, lo_len, limit) : limit);
        *min_exact = false;
    } else {
        buf_append(min, lo, lo_len);
    }
    return true;
}
