/* iceberg_parquet: Parquet column types to Iceberg types, and the Parquet writer's close report
 * to Iceberg data-file statistics (see the header). */
#include "sinks/lake/iceberg_parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/lake/iceberg_value.h"

static int iceberg_type_of(parquet_type t, iceberg_type *out)
{
    switch (t) {
    case PARQUET_TYPE_BOOLEAN: *out = ICEBERG_TYPE_BOOLEAN; return 0;
    case PARQUET_TYPE_INT32: *out = ICEBERG_TYPE_INT; return 0;
    case PARQUET_TYPE_INT64: *out = ICEBERG_TYPE_LONG; return 0;
    case PARQUET_TYPE_FLOAT: *out = ICEBERG_TYPE_FLOAT; return 0;
    case PARQUET_TYPE_DOUBLE: *out = ICEBERG_TYPE_DOUBLE; return 0;
    case PARQUET_TYPE_DECIMAL: *out = ICEBERG_TYPE_DECIMAL; return 0;
    case PARQUET_TYPE_STRING: *out = ICEBERG_TYPE_STRING; return 0;
    case PARQUET_TYPE_BINARY: *out = ICEBERG_TYPE_BINARY; return 0;
    case PARQUET_TYPE_UUID: *out = ICEBERG_TYPE_UUID; return 0;
    case PARQUET_TYPE_DATE: *out = ICEBERG_TYPE_DATE; return 0;
    case PARQUET_TYPE_TIME: *out = ICEBERG_TYPE_TIME; return 0;
    case PARQUET_TYPE_TIMESTAMP: *out = ICEBERG_TYPE_TIMESTAMP; return 0;
    case PARQUET_TYPE_TIMESTAMPTZ: *out = ICEBERG_TYPE_TIMESTAMPTZ; return 0;
    }
    return -1;
}

int iceberg_parquet_type_text(const parquet_column_def *c, char *out, size_t outlen)
{
    iceberg_type t;
    if (iceberg_type_of(c->type, &t) != 0)
        return -1;
    int n = t == ICEBERG_TYPE_DECIMAL ? snprintf(out, outlen, "decimal(%d,%d)", c->precision, c->scale)
                                      : snprintf(out, outlen, "%s", iceberg_type_name(t));
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int iceberg_parquet_type_parse(const char *type, parquet_column_def *out, char *err, size_t errlen)
{
    int p, s, end = -1;
    if (!type || !*type) {
        snprintf(err, errlen, "no Iceberg type");
        return -1;
    }
    for (int t = PARQUET_TYPE_BOOLEAN; t <= PARQUET_TYPE_TIMESTAMPTZ; t++) {
        iceberg_type it;
        if (t != PARQUET_TYPE_DECIMAL && iceberg_type_of((parquet_type)t, &it) == 0 &&
            strcmp(type, iceberg_type_name(it)) == 0) {
            out->type = (parquet_type)t;
            out->precision = out->scale = 0;
            return 0;
        }
    }
    if (sscanf(type, "decimal(%d ,%d )%n", &p, &s, &end) == 2 && end > 0 && type[end] == '\0') {
        if (p < 1 || p > 38 || s < 0 || s > p) {
            snprintf(err, errlen, "%s: a decimal's precision must be 1..38 and its scale 0..precision", type);
            return -1;
        }
        out->type = PARQUET_TYPE_DECIMAL;
        out->precision = p;
        out->scale = s;
        return 0;
    }
    if (strncmp(type, "fixed[", 6) == 0)
        snprintf(err, errlen, "%s: the Parquet writer has no fixed-length binary type", type);
    else
        snprintf(err, errlen, "\"%.64s\" is not an Iceberg primitive type the Parquet writer supports", type);
    return -1;
}

/* A Parquet bound as an Iceberg value of the column's type. */
static iceberg_value bound_value(iceberg_type t, const parquet_value *v)
{
    switch (t) {
    case ICEBERG_TYPE_BOOLEAN: return iceberg_value_boolean(v->v.b);
    case ICEBERG_TYPE_INT: return iceberg_value_int(v->v.i32);
    case ICEBERG_TYPE_DATE: return iceberg_value_date(v->v.i32);
    case ICEBERG_TYPE_LONG: return iceberg_value_long(v->v.i64);
    case ICEBERG_TYPE_TIME: return iceberg_value_time(v->v.i64);
    case ICEBERG_TYPE_TIMESTAMP: return iceberg_value_timestamp(v->v.i64);
    case ICEBERG_TYPE_TIMESTAMPTZ: return iceberg_value_timestamptz(v->v.i64);
    case ICEBERG_TYPE_FLOAT: return iceberg_value_float(v->v.f32);
    case ICEBERG_TYPE_DOUBLE: return iceberg_value_double(v->v.f64);
    case ICEBERG_TYPE_DECIMAL: {
        iceberg_decimal d = {v->v.dec.hi, v->v.dec.lo};
        return iceberg_value_decimal(d);
    }
    case ICEBERG_TYPE_STRING: return iceberg_value_string(v->v.bytes.ptr, v->v.bytes.len);
    case ICEBERG_TYPE_UUID: return iceberg_value_uuid(v->v.bytes.ptr);
    case ICEBERG_TYPE_FIXED: return iceberg_value_fixed(v->v.bytes.ptr, v->v.bytes.len);
    case ICEBERG_TYPE_BINARY: return iceberg_value_binary(v->v.bytes.ptr, v->v.bytes.len);
    }
    return iceberg_value_null(t);
}

/* Append the bound's bytes; its offset and length into *off, *len. 0 or -1. */
static int bound_put(iceberg_file_stats *st, iceberg_type t, const parquet_value *v, size_t *off, size_t *len,
                     char *err, size_t errlen)
{
    if (v->kind == PARQUET_VALUE_BYTES && t == ICEBERG_TYPE_UUID && v->v.bytes.len != 16) {
        snprintf(err, errlen, "uuid bound of %zu bytes", v->v.bytes.len);
        return -1;
    }
    iceberg_value iv = bound_value(t, v);
    *off = st->bounds.len;
    if (iceberg_value_serialize(&iv, &st->bounds, err, errlen) != 0)
        return -1;
    *len = st->bounds.len - *off;
    return 0;
}

/* Length of the UTF-8 sequence starting with byte b (the writer checked the text is valid). */
static size_t utf8_len(unsigned char b)
{
    return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

static size_t utf8_put(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t utf8_get(const unsigned char *p, size_t n)
{
    static const unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t cp = p[0] & lead_mask[n];
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (p[i] & 0x3F);
    return cp;
}

/* Iceberg's truncate(n) metrics of a string or binary column: the lower bound is the first n
 * characters (bytes), the upper bound the first n with the last one incremented (carrying to
 * earlier ones), so that every value still lies within [lower, upper]. Values within n are
 * kept whole. Writes into lo/hi (4 * n bytes each) and sets *has_upper: 0 when no upper bound
 * exists (every kept character is the largest). */
static void bounds_truncate(iceberg_type t, size_t n, const parquet_value *min, const parquet_value *max,
                            parquet_value *lo, parquet_value *hi, unsigned char *lo_buf, unsigned char *hi_buf,
                            bool *has_upper)
{
    *lo = *min;
    *hi = *max;
    *has_upper = true;
    const unsigned char *a = min->v.bytes.ptr, *b = max->v.bytes.ptr;
    size_t alen = min->v.bytes.len, blen = max->v.bytes.len;
    if (t == ICEBERG_TYPE_BINARY) {
        if (alen > n)
            *lo = parquet_value_bytes(a, n);
        if (blen <= n)
            return;
        memcpy(hi_buf, b, n);
        size_t k = n;
        while (k > 0 && hi_buf[k - 1] == 0xFF)
            k--;
        if (k == 0) {
            *has_upper = false;
            return;
        }
        hi_buf[k - 1]++;
        *hi = parquet_value_bytes(hi_buf, k);
        return;
    }
    /* strings: count characters */
    size_t pos = 0, chars = 0;
    while (pos < alen && chars < n) {
        pos += utf8_len(a[pos]);
        chars++;
    }
    if (pos < alen) {
        memcpy(lo_buf, a, pos);
        *lo = parquet_value_bytes(lo_buf, pos);
    }
    uint32_t cps[64];
    size_t ncp = 0;
    pos = 0;
    while (pos < blen && ncp < n) {
        size_t l = utf8_len(b[pos]);
        cps[ncp++] = utf8_get(b + pos, l);
        pos += l;
    }
    if (pos >= blen)
        return;   /* kept whole */
    while (ncp > 0) {
        uint32_t next = cps[ncp - 1] + 1;
        if (next >= 0xD800 && next <= 0xDFFF)
            next = 0xE000;
        if (next <= 0x10FFFF) {
            cps[ncp - 1] = next;
            break;
        }
        ncp--;
    }
    if (ncp == 0) {
        *has_upper = false;
        return;
    }
    size_t out = 0;
    for (size_t i = 0; i < ncp; i++)
        out += utf8_put(cps[i], hi_buf + out);
    *hi = parquet_value_bytes(hi_buf, out);
}

iceberg_file_stats *iceberg_file_stats_from_parquet(const parquet_schema *s, const parquet_file_info *info,
                                                    size_t truncate, char *err, size_t errlen)
{
    if (truncate > ICEBERG_METRICS_TRUNCATE_MAX)
        truncate = ICEBERG_METRICS_TRUNCATE_MAX;
    if (info->ncolumns != s->ncolumns) {
        snprintf(err, errlen, "the file has %zu columns, the schema %zu", info->ncolumns, s->ncolumns);
        return NULL;
    }
    iceberg_file_stats *st = calloc(1, sizeof *st);
    size_t *offs = calloc(2 * s->ncolumns + 1, sizeof *offs);
    if (!st || !offs || !(st->columns = calloc(s->ncolumns + 1, sizeof *st->columns)) ||
        !(st->split_offsets = calloc(info->row_groups + 1, sizeof *st->split_offsets))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < info->row_groups; i++)
        st->split_offsets[i] = (int64_t)info->row_group_offsets[i];
    st->nsplit_offsets = info->row_groups;
    for (size_t i = 0; i < s->ncolumns; i++) {
        const parquet_column_def *def = &s->columns[i];
        const parquet_column_info *ci = &info->columns[i];
        iceberg_type t;
        if (def->field_id <= 0)
            continue;   /* not an Iceberg column */
        if (ci->field_id != def->field_id || iceberg_type_of(def->type, &t) != 0) {
            snprintf(err, errlen, "column %s: field id %d in the file, %d in the schema", def->name,
                     (int)ci->field_id, (int)def->field_id);
            goto fail;
        }
        iceberg_column_stats *c = &st->columns[st->ncolumns];
        c->field_id = def->field_id;
        c->has_column_size = c->has_value_count = c->has_null_count = true;
        c->column_size = (int64_t)ci->compressed_bytes;
        c->value_count = (int64_t)ci->values;
        c->null_count = (int64_t)ci->nulls;
        if (t == ICEBERG_TYPE_FLOAT || t == ICEBERG_TYPE_DOUBLE) {
            c->has_nan_count = true;
            c->nan_count = (int64_t)ci->nans;
        }
        if (ci->min.kind != PARQUET_VALUE_NULL && ci->max.kind != PARQUET_VALUE_NULL) {
            parquet_value lo = ci->min, hi = ci->max;
            unsigned char lo_buf[4 * ICEBERG_METRICS_TRUNCATE_MAX], hi_buf[4 * ICEBERG_METRICS_TRUNCATE_MAX];
            bool upper = true;
            if (truncate && (t == ICEBERG_TYPE_STRING || t == ICEBERG_TYPE_BINARY))
                bounds_truncate(t, truncate, &ci->min, &ci->max, &lo, &hi, lo_buf, hi_buf, &upper);
            c->has_lower = true;
            c->has_upper = upper;
            if (bound_put(st, t, &lo, &offs[2 * st->ncolumns], &c->lower_len, err, errlen) != 0 ||
                (upper && bound_put(st, t, &hi, &offs[2 * st->ncolumns + 1], &c->upper_len, err, errlen) != 0))
                goto fail;
        }
        st->ncolumns++;
    }
    /* The bound bytes are all appended: point into their final place (an empty string's bound
     * is 0 bytes at a valid address). */
    static const char empty[1];
    for (size_t i = 0; i < st->ncolumns; i++) {
        iceberg_column_stats *c = &st->columns[i];
        if (c->has_lower)
            c->lower = st->bounds.data ? st->bounds.data + offs[2 * i] : empty;
        if (c->has_upper)
            c->upper = st->bounds.data ? st->bounds.data + offs[2 * i + 1] : empty;
    }
    free(offs);
    return st;
fail:
    free(offs);
    iceberg_file_stats_destroy(st);
    return NULL;
}

void iceberg_file_stats_destroy(iceberg_file_stats *st)
{
    if (!st)
        return;
    free(st->columns);
    free(st->split_offsets);
    buf_free(&st->bounds);
    free(st);
}
