/* iceberg_value: Iceberg primitive types and single values as manifests need them: the binary
 * single-value serialization of Iceberg's Appendix D (the bytes of lower/upper bounds and of
 * partition summaries), and the type-defined order that picks a partition field's bounds.
 * Ownership: an iceberg_value's bytes point into caller memory, read only during the call. */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_VALUE_H
#define SLUICE_SINKS_LAKE_ICEBERG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum iceberg_type {
    ICEBERG_TYPE_BOOLEAN = 0,
    ICEBERG_TYPE_INT,
    ICEBERG_TYPE_LONG,
    ICEBERG_TYPE_FLOAT,
    ICEBERG_TYPE_DOUBLE,
    ICEBERG_TYPE_DECIMAL,       /* decimal(P,S), P 1..38 */
    ICEBERG_TYPE_DATE,          /* days from 1970-01-01 */
    ICEBERG_TYPE_TIME,          /* microseconds from midnight */
    ICEBERG_TYPE_TIMESTAMP,     /* microseconds from 1970-01-01 00:00:00 */
    ICEBERG_TYPE_TIMESTAMPTZ,   /* microseconds from 1970-01-01 00:00:00 UTC */
    ICEBERG_TYPE_STRING,
    ICEBERG_TYPE_UUID,          /* 16 bytes, big-endian (the text's order) */
    ICEBERG_TYPE_FIXED,         /* fixed(L) */
    ICEBERG_TYPE_BINARY,
} iceberg_type;

/* A decimal's unscaled value as a 128-bit two's complement integer (hi: the upper 64 bits). */
typedef struct iceberg_decimal {
    int64_t hi;
    uint64_t lo;
} iceberg_decimal;

/* One value of a primitive type (or null). Which member is used follows the type: b boolean;
 * i32 int, date; i64 long, time, timestamp, timestamptz; f32 float; f64 double; dec decimal;
 * bytes string (UTF-8), uuid (16), fixed, binary. */
typedef struct iceberg_value {
    iceberg_type type;
    bool is_null;
    union {
        bool b;
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        iceberg_decimal dec;
        struct {
            const void *ptr;
            size_t len;
        } bytes;
    } v;
} iceberg_value;

/* Constructors, for readable call sites. */
iceberg_value iceberg_value_null(iceberg_type t);
iceberg_value iceberg_value_boolean(bool b);
iceberg_value iceberg_value_int(int32_t v);
iceberg_value iceberg_value_long(int64_t v);
iceberg_value iceberg_value_float(float v);
iceberg_value iceberg_value_double(double v);
iceberg_value iceberg_value_decimal(iceberg_decimal d);
iceberg_value iceberg_value_decimal64(int64_t unscaled);
iceberg_value iceberg_value_date(int32_t days);
iceberg_value iceberg_value_time(int64_t micros);
iceberg_value iceberg_value_timestamp(int64_t micros);
iceberg_value iceberg_value_timestamptz(int64_t micros);
iceberg_value iceberg_value_string(const char *s, size_t len);
iceberg_value iceberg_value_uuid(const uint8_t *be16);
iceberg_value iceberg_value_fixed(const void *p, size_t len);
iceberg_value iceberg_value_binary(const void *p, size_t len);

/* The type's name in Iceberg schemas ("boolean", "int", "decimal", "timestamptz", ...), and
 * back from such a name (0, or -1 for an unknown one). */
const char *iceberg_type_name(iceberg_type t);
int iceberg_type_parse(const char *name, iceberg_type *out);

/* Appendix D, binary single-value serialization, appended to out: boolean 1 byte (0x00/0x01);
 * int, date 4 bytes little-endian; long, time, timestamp(tz) 8 bytes LE; float, double IEEE 754
 * LE; string UTF-8 bytes; uuid 16 bytes big-endian; fixed, binary as is; decimal the unscaled
 * value as big-endian two's complement in the minimum number of bytes. 0, or -1 with the reason
 * (a null value, a uuid that is not 16 bytes). */
int iceberg_value_serialize(const iceberg_value *v, buf *out, char *err, size_t errlen);

/* The pieces, for callers that hold plain C values. */
void iceberg_serialize_int(buf *out, int32_t v);
void iceberg_serialize_long(buf *out, int64_t v);
void iceberg_serialize_float(buf *out, float v);
void iceberg_serialize_double(buf *out, double v);
void iceberg_serialize_decimal(buf *out, iceberg_decimal d);

/* A decimal written in exactly n big-endian two's complement bytes (n 1..16; the value must
 * fit), as Avro fixed decimals are. */
void iceberg_decimal_to_be(iceberg_decimal d, uint8_t *out, size_t n);
/* Bytes of the smallest Avro fixed / Parquet fixed_len_byte_array that holds any decimal of
 * precision p (1..38): 1 for 1-2 digits ... 16 for 38. */
int iceberg_decimal_required_bytes(int precision);
/* The unscaled value has at most precision digits. */
bool iceberg_decimal_fits(iceberg_decimal d, int precision);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex, either case) into 16 big-endian bytes. 0 or -1. */
int iceberg_uuid_parse(const char *text, uint8_t out[16]);

/* Order of two non-null values of the same type: signed for numbers, dates, times, timestamps
 * and decimals; IEEE for floats with -0.0 before +0.0 (NaNs are not ordered: callers exclude
 * them); false before true; unsigned byte-wise for strings, uuids, fixed and binary. <0, 0, >0. */
int iceberg_value_compare(const iceberg_value *a, const iceberg_value *b);

/* A float or double NaN. */
bool iceberg_value_is_nan(const iceberg_value *v);

#endif
