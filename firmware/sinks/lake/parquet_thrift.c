/* parquet_thrift: Thrift Compact Protocol encoding of Parquet metadata (see parquet_thrift.h).
 * Field header: one byte (id delta << 4 | type) when the delta from the previous field of the
 * same struct is 1..15, else the type byte then the id as a zigzag varint. */
#include "sinks/lake/parquet_thrift.h"

#include <stdlib.h>

void parquet_varint_put(buf *out, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    buf_append(out, tmp, n);
}

static void thrift_push(parquet_thrift *t)
{
    if (t->depth + 1 >= PARQUET_THRIFT_MAX_DEPTH)
        abort();
    t->last[++t->depth] = 0;
}

static void thrift_field_header(parquet_thrift *t, int16_t id, int type)
{
    int delta = id - t->last[t->depth];
    if (delta > 0 && delta <= 15) {
        uint8_t b = (uint8_t)(delta << 4 | type);
        buf_append(t->out, &b, 1);
    } else {
        uint8_t b = (uint8_t)type;
        buf_append(t->out, &b, 1);
        parquet_varint_put(t->out, parquet_zigzag64(id));
    }
    t->last[t->depth] = id;
}

void parquet_thrift_begin(parquet_thrift *t, buf *out)
{
    t->out = out;
    t->depth = 0;
    t->last[0] = 0;
}

void parquet_thrift_end(parquet_thrift *t)
{
    uint8_t stop = 0;
    buf_append(t->out, &stop, 1);
}

void parquet_thrift_field_i32(parquet_thrift *t, int16_t id, int32_t v)
{
    thrift_field_header(t, id, PARQUET_THRIFT_I32);
    parquet_varint_put(t->out, parquet_zigzag64(v));
}

void parquet_thrift_field_i16(parquet_thrift *t, int16_t id, int16_t v)
{
    thrift_field_header(t, id, PARQUET_THRIFT_I16);
    parquet_varint_put(t->out, parquet_zigzag64(v));
}

void parquet_thrift_field_i64(parquet_thrift *t, int16_t id, int64_t v)
{
    thrift_field_header(t, id, PARQUET_THRIFT_I64);
    parquet_varint_put(t->out, parquet_zigzag64(v));
}

void parquet_thrift_field_bool(parquet_thrift *t, int16_t id, bool v)
{
    thrift_field_header(t, id, v ? PARQUET_THRIFT_TRUE : PARQUET_THRIFT_FALSE);
}

void parquet_thrift_elem_binary(parquet_thrift *t, const void *data, size_t len)
{
    parquet_varint_put(t->out, len);
    buf_append(t->out, data, len);
}

void parquet_thrift_field_binary(parquet_thrift *t, int16_t id, const void *data, size_t len)
{
    thrift_field_header(t, id, PARQUET_THRIFT_BINARY);
    parquet_thrift_elem_binary(t, data, len);
}

void parquet_thrift_field_string(parquet_thrift *t, int16_t id, const char *s)
{
    parquet_thrift_field_binary(t, id, s, strlen(s));
}

void parquet_thrift_field_struct_begin(parquet_thrift *t, int16_t id)
{
    thrift_field_header(t, id, PARQUET_THRIFT_STRUCT);
    thrift_push(t);
}

void parquet_thrift_struct_end(parquet_thrift *t)
{
    uint8_t stop = 0;
    buf_append(t->out, &stop, 1);
    if (t->depth > 0)
        t->depth--;
}

void parquet_thrift_field_list_begin(parquet_thrift *t, int16_t id, int elem_type, size_t count)
{
    thrift_field_header(t, id, PARQUET_THRIFT_LIST);
    if (count < 15) {
        uint8_t b = (uint8_t)(count << 4 | (size_t)elem_type);
        buf_append(t->out, &b, 1);
    } else {
        uint8_t b = (uint8_t)(0xF0 | elem_type);
        buf_append(t->out, &b, 1);
        parquet_varint_put(t->out, count);
    }
}

void parquet_thrift_elem_i32(parquet_thrift *t, int32_t v)
{
    parquet_varint_put(t->out, parquet_zigzag64(v));
}

void parquet_thrift_elem_struct_begin(parquet_thrift *t)
{
    thrift_push(t);
}
