/* silver_image: row images as bytes and back (see silver_image.h). The format, version 1:
 *
 *   image    := version:u8(=1) ncols:varint column{ncols}
 *   column   := name_len:varint name:bytes kind:u8 state:u8 [present]      (present: state 0)
 *   present  := flags:u8 payload [text_len:varint text:bytes]               (text: flags bit 0)
 *   payload by kind (value_kind of event.h):
 *     BOOL                                             b as zvarint
 *     INT16 INT32 INT64 MONEY DATE TIME TIMESTAMP(TZ)  i as zvarint
 *     TIMETZ                                           i, tz_offset as zvarints
 *     FLOAT32 FLOAT64                                  f: the double's IEEE 754 bits, 8 bytes LE
 *     INTERVAL                                         months, days, us as zvarints
 *     UUID                                             the 16 bytes
 *     TEXT NUMERIC BYTES JSON INET ARRAY               nothing: the value is its text (bytes)
 *
 * varint: unsigned LEB128, at most 10 bytes; zvarint: a signed integer zigzag-encoded as a
 * varint. The text is the value's s (server text, or the decoded bytes of bytea); flags bit 0
 * clear means s was NULL (values a rule set from a number carry none). Other flag bits are 0. */
#include "sinks/lake/silver_image.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_types.h"
#include "core/errbuf.h"

#define IMAGE_VERSION 1
#define FLAG_TEXT 1
#define MIN_COLUMN_BYTES 3   /* empty name length, kind, state */
#define STACK_COLUMNS 64

static bool kind_valid(unsigned k)
{
    return k <= VALUE_ARRAY;
}

/* ---- encoding ----------------------------------------------------------------------------- */

static void put_u8(buf *out, uint8_t x)
{
    buf_append(out, &x, 1);
}

static void put_varint(buf *out, uint64_t x)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(x & 0x7f);
        x >>= 7;
        if (x)
            b[n] |= 0x80;
        n++;
    } while (x);
    buf_append(out, b, n);
}

static void put_zvarint(buf *out, int64_t x)
{
    put_varint(out, ((uint64_t)x << 1) ^ (uint64_t)(x >> 63));
}

static void put_double(buf *out, double f)
{
    uint64_t bits;
    uint8_t b[8];
    memcpy(&bits, &f, sizeof bits);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(bits >> (8 * i));
    buf_append(out, b, sizeof b);
}

static void put_payload(buf *out, value_kind k, const value *v)
{
    switch (k) {
    case VALUE_BOOL: put_zvarint(out, v->v.b); break;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_MONEY:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
    case VALUE_TIMESTAMPTZ: put_zvarint(out, v->v.i); break;
    case VALUE_TIMETZ:
        put_zvarint(out, v->v.i);
        put_zvarint(out, v->tz_offset);
        break;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64: put_double(out, v->v.f); break;
    case VALUE_INTERVAL:
        put_zvarint(out, v->v.interval.months);
        put_zvarint(out, v->v.interval.days);
        put_zvarint(out, v->v.interval.us);
        break;
    case VALUE_UUID: buf_append(out, v->v.uuid, sizeof v->v.uuid); break;
    default: break;   /* text kinds: the text is the value */
    }
}

int silver_image_encode(const table_def *t, const value *vals, buf *out, char *err, size_t errlen)
{
    size_t start = out->len;
    put_u8(out, IMAGE_VERSION);
    put_varint(out, (uint64_t)(t->ncols > 0 ? t->ncols : 0));
    for (int i = 0; i < t->ncols; i++) {
        const column_def *c = &t->cols[i];
        const value *v = &vals[i];
        if (!c->name || !kind_valid((unsigned)c->kind) || v->state > VALUE_UNAVAILABLE) {
            buf_truncate(out, start);
            return err_setf(err, errlen, "column %d (%s): %s", i, c->name ? c->name : "unnamed",
                            !c->name ? "no name" : !kind_valid((unsigned)c->kind) ? "unknown value kind"
                                                                                   : "unknown value state");
        }
        size_t nlen = strlen(c->name);
        put_varint(out, nlen);
        buf_append(out, c->name, nlen);
        put_u8(out, (uint8_t)c->kind);
        put_u8(out, v->state);
        if (v->state != VALUE_PRESENT)
            continue;
        put_u8(out, v->s ? FLAG_TEXT : 0);
        put_payload(out, c->kind, v);
        if (v->s) {
            put_varint(out, v->len);
            buf_append(out, v->s, v->len);
        }
    }
    return 0;
}

/* ---- decoding ----------------------------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static int rd_u8(reader *r, uint8_t *x)
{
    if (r->p >= r->end)
        return -1;
    *x = *r->p++;
    return 0;
}

static int rd_varint(reader *r, uint64_t *x)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        uint8_t b;
        if (rd_u8(r, &b) < 0)
            return -1;
        if (shift == 63 && b > 1)
            return -1;   /* more than 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *x = v;
            return 0;
        }
    }
    return -1;
}

static int rd_zvarint(reader *r, int64_t min, int64_t max, int64_t *x)
{
    uint64_t u;
    if (rd_varint(r, &u) < 0)
        return -1;
    int64_t v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    if (v < min || v > max)
        return -1;
    *x = v;
    return 0;
}

static int rd_bytes(reader *r, size_t n, const uint8_t **p)
{
    if ((size_t)(r->end - r->p) < n)
        return -1;
    *p = r->p;
    r->p += n;
    return 0;
}

/* A varint length of bytes that follow in the image. */
static int rd_span(reader *r, const uint8_t **p, size_t *n)
{
    uint64_t len;
    if (rd_varint(r, &len) < 0 || len > (uint64_t)(r->end - r->p))
        return -1;
    *n = (size_t)len;
    return rd_bytes(r, *n, p);
}

static int rd_payload(reader *r, value_kind k, value *v)
{
    int64_t x;
    const uint8_t *b;
    switch (k) {
    case VALUE_BOOL:
        if (rd_zvarint(r, INT32_MIN, INT32_MAX, &x) < 0)
            return -1;
        v->v.b = (int)x;
        return 0;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_MONEY:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP:
    case VALUE_TIMESTAMPTZ: return rd_zvarint(r, INT64_MIN, INT64_MAX, &v->v.i);
    case VALUE_TIMETZ:
        if (rd_zvarint(r, INT64_MIN, INT64_MAX, &v->v.i) < 0 || rd_zvarint(r, INT32_MIN, INT32_MAX, &x) < 0)
            return -1;
        v->tz_offset = (int32_t)x;
        return 0;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64: {
        uint64_t bits = 0;
        if (rd_bytes(r, 8, &b) < 0)
            return -1;
        for (int i = 0; i < 8; i++)
            bits |= (uint64_t)b[i] << (8 * i);
        memcpy(&v->v.f, &bits, sizeof bits);
        return 0;
    }
    case VALUE_INTERVAL:
        if (rd_zvarint(r, INT32_MIN, INT32_MAX, &x) < 0)
            return -1;
        v->v.interval.months = (int32_t)x;
        if (rd_zvarint(r, INT32_MIN, INT32_MAX, &x) < 0)
            return -1;
        v->v.interval.days = (int32_t)x;
        return rd_zvarint(r, INT64_MIN, INT64_MAX, &v->v.interval.us);
    case VALUE_UUID:
        if (rd_bytes(r, sizeof v->v.uuid, &b) < 0)
            return -1;
        memcpy(v->v.uuid, b, sizeof v->v.uuid);
        return 0;
    default: return 0;
    }
}

/* One column of the image, its value's text still pointing into the image. */
typedef struct image_col {
    const char *name;
    size_t name_len;
    value_kind kind;
    value v;   /* s: into the image */
} image_col;

static int rd_column(reader *r, image_col *col)
{
    const uint8_t *name;
    uint8_t kind, state, flags;
    memset(col, 0, sizeof *col);
    if (rd_span(r, &name, &col->name_len) < 0 || rd_u8(r, &kind) < 0 || rd_u8(r, &state) < 0 || !kind_valid(kind) ||
        state > VALUE_UNAVAILABLE)
        return -1;
    col->name = (const char *)name;
    col->kind = (value_kind)kind;
    col->v.state = state;
    if (state != VALUE_PRESENT)
        return 0;
    if (rd_u8(r, &flags) < 0 || (flags & ~FLAG_TEXT) || rd_payload(r, col->kind, &col->v) < 0)
        return -1;
    if (flags & FLAG_TEXT) {
        const uint8_t *s;
        if (rd_span(r, &s, &col->v.len) < 0)
            return -1;
        col->v.s = (const char *)s;
    }
    return 0;
}

static bool name_is(const image_col *ic, const char *name)
{
    size_t n = strlen(name);
    return ic->name_len == n && memcmp(ic->name, name, n) == 0;
}

/* The image column named like c: first at *hint (images usually list t's columns in order), then
 * anywhere. NULL when there is none. */
static const image_col *find_column(const image_col *cols, size_t n, size_t *hint, const char *name)
{
    if (*hint < n && name_is(&cols[*hint], name))
        return &cols[(*hint)++];
    for (size_t i = 0; i < n; i++)
        if (name_is(&cols[i], name)) {
            *hint = i + 1;
            return &cols[i];
        }
    return NULL;
}

/* The value of ic as a value of column c. */
static int convert(const column_def *c, const image_col *ic, value *out, arena *a, char *err, size_t errlen)
{
    const value *v = &ic->v;
    memset(out, 0, sizeof *out);
    if (v->state != VALUE_PRESENT) {
        out->state = v->state;
        return 0;
    }
    if (ic->kind == c->kind) {
        *out = *v;
        out->s = v->s ? arena_strndup(a, v->s, v->len) : NULL;
        out->len = v->s ? v->len : 0;
        return 0;
    }
    if (!v->s)
        return err_setf(err, errlen,
                        "column %s: type changed from %s to %s and the stored value has no text to convert",
                        c->name, value_kind_name(ic->kind), value_kind_name(c->kind));
    char *text;
    size_t len;
    if (ic->kind == VALUE_BYTES) {   /* bytea's text: hex (bytea_output = hex) */
        static const char digits[] = "0123456789abcdef";
        len = 2 + 2 * v->len;
        text = arena_alloc(a, len + 1);
        memcpy(text, "\\x", 2);
        for (size_t i = 0; i < v->len; i++) {
            text[2 + 2 * i] = digits[(uint8_t)v->s[i] >> 4];
            text[3 + 2 * i] = digits[(uint8_t)v->s[i] & 15];
        }
        text[len] = '\0';
    } else {
        len = v->len;
        text = arena_strndup(a, v->s, len);
    }
    char why[256];
    if (pg_value_parse(c->kind, text, len, out, a, why, sizeof why) < 0)
        return err_setf(err, errlen, "column %s: type changed from %s to %s: %s", c->name, value_kind_name(ic->kind),
                        value_kind_name(c->kind), why);
    return 0;
}

int silver_image_decode(const table_def *t, const void *data, size_t len, value *vals, arena *a, char *err,
                        size_t errlen)
{
    reader r = {data, (const uint8_t *)data + len};
    uint8_t version;
    uint64_t n;
    if (!data || rd_u8(&r, &version) < 0 || rd_varint(&r, &n) < 0)
        return err_setf(err, errlen, "row image truncated (%zu bytes)", len);
    if (version != IMAGE_VERSION)
        return err_setf(err, errlen, "row image version %u is not %d", version, IMAGE_VERSION);
    if (n > (uint64_t)(r.end - r.p) / MIN_COLUMN_BYTES)
        return err_setf(err, errlen, "row image of %zu bytes cannot hold %llu columns", len, (unsigned long long)n);
    image_col local[STACK_COLUMNS];
    image_col *cols = n <= STACK_COLUMNS ? local : malloc((size_t)n * sizeof *cols);
    if (!cols)
        return err_setf(err, errlen, "out of memory for a row image of %llu columns", (unsigned long long)n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (rd_column(&r, &cols[i]) < 0)
            rc = err_setf(err, errlen, "row image malformed or truncated in column %zu (%zu bytes)", i, len);
    if (rc == 0 && r.p != r.end)
        rc = err_setf(err, errlen, "row image has %zu bytes after its last column", (size_t)(r.end - r.p));
    size_t hint = 0;
    for (int i = 0; rc == 0 && i < t->ncols; i++) {
        const column_def *c = &t->cols[i];
        const image_col *ic = c->name ? find_column(cols, (size_t)n, &hint, c->name) : NULL;
        if (!ic) {
            memset(&vals[i], 0, sizeof vals[i]);
            vals[i].state = VALUE_IS_NULL;
            continue;
        }
        rc = convert(c, ic, &vals[i], a, err, errlen);
    }
    if (cols != local)
        free(cols);
    return rc;
}
