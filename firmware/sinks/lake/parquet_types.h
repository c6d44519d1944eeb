/* parquet_types: the column types the Parquet writer supports, their mapping to Parquet
 * physical, logical and legacy converted types, the values rows carry, and value checks
 * (type, nullability, decimal precision, UTF-8, UUID length). A flat schema: one level, each
 * column with a name, an Iceberg field id, required or optional, and a type.
 * Ownership: schemas and values are borrowed by the functions here; nothing is allocated. */
#ifndef SLUICE_SINKS_LAKE_PARQUET_TYPES_H
#define SLUICE_SINKS_LAKE_PARQUET_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum parquet_type {
    PARQUET_TYPE_BOOLEAN = 0,
    PARQUET_TYPE_INT32,
    PARQUET_TYPE_INT64,
    PARQUET_TYPE_FLOAT,
    PARQUET_TYPE_DOUBLE,
    PARQUET_TYPE_DECIMAL,      /* precision 1..38, scale 0..precision */
    PARQUET_TYPE_STRING,       /* UTF-8, checked */
    PARQUET_TYPE_BINARY,
    PARQUET_TYPE_UUID,         /* 16 bytes, big-endian as written in text */
    PARQUET_TYPE_DATE,         /* days since 1970-01-01 */
    PARQUET_TYPE_TIME,         /* microseconds since midnight, local */
    PARQUET_TYPE_TIMESTAMP,    /* microseconds since 1970-01-01 00:00:00, local (no zone) */
    PARQUET_TYPE_TIMESTAMPTZ,  /* microseconds since 1970-01-01 00:00:00 UTC */
} parquet_type;

/* Parquet's physical types (parquet.thrift enum Type). */
typedef enum parquet_physical {
    PARQUET_PHYS_BOOLEAN = 0,
    PARQUET_PHYS_INT32 = 1,
    PARQUET_PHYS_INT64 = 2,
    PARQUET_PHYS_FLOAT = 4,
    PARQUET_PHYS_DOUBLE = 5,
    PARQUET_PHYS_BYTE_ARRAY = 6,
    PARQUET_PHYS_FIXED = 7,
} parquet_physical;

typedef struct parquet_column_def {
    const char *name;
    int32_t field_id;     /* Iceberg field id (SchemaElement.field_id); <= 0: not written */
    bool optional;        /* nullable: definition levels with max level 1 */
    parquet_type type;
    int precision, scale; /* decimal only */
} parquet_column_def;

typedef struct parquet_schema {
    const parquet_column_def *columns;
    size_t ncolumns;
} parquet_schema;

/* What a value carries. A column accepts PARQUET_VALUE_NULL (optional columns only) and the kind
 * of its type: BOOL for boolean; INT32 for int32 and date; INT64 for int64, time, timestamp,
 * timestamptz; FLOAT; DOUBLE; BYTES for string, binary, uuid; DECIMAL for decimal. */
typedef enum parquet_value_kind {
    PARQUET_VALUE_NULL = 0,
    PARQUET_VALUE_BOOL,
    PARQUET_VALUE_INT32,
    PARQUET_VALUE_INT64,
    PARQUET_VALUE_FLOAT,
    PARQUET_VALUE_DOUBLE,
    PARQUET_VALUE_BYTES,
    PARQUET_VALUE_DECIMAL,
} parquet_value_kind;

/* A decimal's unscaled value, a 128-bit two's complement integer (hi: the upper 64 bits). */
typedef struct parquet_decimal {
    int64_t hi;
    uint64_t lo;
} parquet_decimal;

/* One value. BYTES point into caller memory, only read during the call that takes the value. */
typedef struct parquet_value {
    parquet_value_kind kind;
    union {
        bool b;
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        struct {
            const void *ptr;
            size_t len;
        } bytes;
        parquet_decimal dec;
    } v;
} parquet_value;

/* Constructors, for readable call sites. */
static inline parquet_value parquet_value_null(void)
{
    parquet_value v = {.kind = PARQUET_VALUE_NULL};
    return v;
}
static inline parquet_value parquet_value_bool(bool b)
{
    parquet_value v = {.kind = PARQUET_VALUE_BOOL, .v.b = b};
    return v;
}
static inline parquet_value parquet_value_int32(int32_t x)
{
    parquet_value v = {.kind = PARQUET_VALUE_INT32, .v.i32 = x};
    return v;
}
static inline parquet_value parquet_value_int64(int64_t x)
{
    parquet_value v = {.kind = PARQUET_VALUE_INT64, .v.i64 = x};
    return v;
}
static inline parquet_value parquet_value_float(float x)
{
    parquet_value v = {.kind = PARQUET_VALUE_FLOAT, .v.f32 = x};
    return v;
}
static inline parquet_value parquet_value_double(double x)
{
    parquet_value v = {.kind = PARQUET_VALUE_DOUBLE, .v.f64 = x};
    return v;
}
static inline parquet_value parquet_value_bytes(const void *ptr, size_t len)
{
    parquet_value v = {.kind = PARQUET_VALUE_BYTES};
    v.v.bytes.ptr = ptr;
    v.v.bytes.len = len;
    return v;
}
static inline parquet_value parquet_value_decimal(parquet_decimal d)
{
    parquet_value v = {.kind = PARQUET_VALUE_DECIMAL, .v.dec = d};
    return v;
}
static inline parquet_value parquet_value_decimal64(int64_t unscaled)
{
    parquet_decimal d = {unscaled < 0 ? -1 : 0, (uint64_t)unscaled};
    return parquet_value_decimal(d);
}

/* "boolean", "decimal", "timestamptz", ... and back (0 or -1). */
const char *parquet_type_name(parquet_type t);
int parquet_type_parse(const char *s, parquet_type *out);

/* Physical type, fixed length (FIXED_LEN_BYTE_ARRAY only, else 0) and value kind of a column. */
parquet_physical parquet_column_physical(const parquet_column_def *c);
int parquet_column_type_length(const parquet_column_def *c);
parquet_value_kind parquet_column_value_kind(const parquet_column_def *c);
/* Legacy ConvertedType (parquet.thrift enum ConvertedType) or -1 when there is none. */
int parquet_column_converted_type(const parquet_column_def *c);

/* Bytes of a FIXED_LEN_BYTE_ARRAY holding any decimal of this precision (1..38). */
int parquet_decimal_fixed_bytes(int precision);

/* A column definition is usable (name set, decimal precision/scale in range). 0 or -1 with err. */
int parquet_column_def_check(const parquet_column_def *c, char *err, size_t errlen);
/* The largest string or binary value: a page (one value and what precedes it) must stay below
 * 2 GiB, Parquet's page size limit. */
#define PARQUET_MAX_VALUE_BYTES ((size_t)1 << 30)

/* A value fits its column (kind, null in a required column, decimal precision, UTF-8 strings,
 * UUID length, at most PARQUET_MAX_VALUE_BYTES). 0 or -1 with the reason (naming the column). */
int parquet_value_check(const parquet_column_def *c, const parquet_value *v, char *err, size_t errlen);

/* Decimal text ("-123.45", "1e3" not accepted) to the unscaled value at scale; more fraction
 * digits than scale or more digits than precision is an error. 0 or -1 with err. */
int parquet_decimal_from_text(const char *text, int precision, int scale, parquet_decimal *out, char *err,
                              size_t errlen);
/* Signed comparison of two decimals: <0, 0, >0. */
int parquet_decimal_compare(parquet_decimal a, parquet_decimal b);
/* The decimal as n big-endian two's complement bytes (n 1..16; the value must fit). */
void parquet_decimal_to_be(parquet_decimal d, uint8_t *out, int n);

/* Is [s, s + len) valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF)? */
bool parquet_utf8_valid(const uint8_t *s, size_t len);

#endif
