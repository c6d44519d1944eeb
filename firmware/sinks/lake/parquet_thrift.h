/* parquet_thrift: the subset of the Thrift Compact Protocol that Parquet's metadata needs
 * (FileMetaData, PageHeader and what they hold): structs with field-id deltas, i32/i64 as zigzag
 * varints, binary/string, bool, lists and nested structs (unions are structs with one field).
 * Encodes into a caller-owned buf; no reading side (readers are the independent peers).
 * Usage: parquet_thrift_begin(&t, &out); fields...; parquet_thrift_end(&t) (the root's stop). */
#ifndef SLUICE_SINKS_LAKE_PARQUET_THRIFT_H
#define SLUICE_SINKS_LAKE_PARQUET_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Compact protocol type ids (field headers and list element types). */
enum {
    PARQUET_THRIFT_TRUE = 1,
    PARQUET_THRIFT_FALSE = 2,
    PARQUET_THRIFT_BYTE = 3,
    PARQUET_THRIFT_I16 = 4,
    PARQUET_THRIFT_I32 = 5,
    PARQUET_THRIFT_I64 = 6,
    PARQUET_THRIFT_DOUBLE = 7,
    PARQUET_THRIFT_BINARY = 8,
    PARQUET_THRIFT_LIST = 9,
    PARQUET_THRIFT_STRUCT = 12,
};

#define PARQUET_THRIFT_MAX_DEPTH 16

/* An encoder: the output buffer (borrowed) and, per open struct, the last field id written. */
typedef struct parquet_thrift {
    buf *out;
    int depth;
    int16_t last[PARQUET_THRIFT_MAX_DEPTH];
} parquet_thrift;

/* Unsigned LEB128 varint, and zigzag for signed values (also used by the RLE encoder). */
void parquet_varint_put(buf *out, uint64_t v);
static inline uint64_t parquet_zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

/* Start the root struct (appending to out) / write its stop byte. Nesting deeper than
 * PARQUET_THRIFT_MAX_DEPTH is a programming error (abort). */
void parquet_thrift_begin(parquet_thrift *t, buf *out);
void parquet_thrift_end(parquet_thrift *t);

/* Fields of the struct being written, in increasing id order. */
void parquet_thrift_field_i32(parquet_thrift *t, int16_t id, int32_t v);
void parquet_thrift_field_i16(parquet_thrift *t, int16_t id, int16_t v);
void parquet_thrift_field_i64(parquet_thrift *t, int16_t id, int64_t v);
void parquet_thrift_field_bool(parquet_thrift *t, int16_t id, bool v);
void parquet_thrift_field_binary(parquet_thrift *t, int16_t id, const void *data, size_t len);
void parquet_thrift_field_string(parquet_thrift *t, int16_t id, const char *s);
/* A nested struct (or union): begin writes the field header, end its stop byte. */
void parquet_thrift_field_struct_begin(parquet_thrift *t, int16_t id);
void parquet_thrift_struct_end(parquet_thrift *t);
/* A list field of count elements of elem_type (PARQUET_THRIFT_I32, _BINARY, _STRUCT); then the
 * elements: parquet_thrift_elem_* or, for structs, parquet_thrift_elem_struct_begin/_struct_end. */
void parquet_thrift_field_list_begin(parquet_thrift *t, int16_t id, int elem_type, size_t count);
void parquet_thrift_elem_i32(parquet_thrift *t, int32_t v);
void parquet_thrift_elem_binary(parquet_thrift *t, const void *data, size_t len);
void parquet_thrift_elem_struct_begin(parquet_thrift *t);

#endif
