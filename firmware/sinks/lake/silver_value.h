/* silver_value: how the silver (Iceberg) writer stores a source column: the Parquet/Iceberg
 * column type of a captured column (from its value kind and typmod), and one value of the column
 * as the parquet_value the writer takes.
 *
 *   source kind (event.h)           column type              value
 *   ------------------------------  -----------------------  ---------------------------------
 *   BOOL                            boolean                  b
 *   INT16, INT32                    int                      i (int32 range)
 *   INT32 of type oid (26)          long                     i (oid is unsigned 32-bit)
 *   INT64                           long                     i
 *   FLOAT32                         float                    f
 *   FLOAT64                         double                   f (NaN, infinities kept)
 *   NUMERIC(p,s), p 1..38, 0<=s<=p  decimal(p,s)             text exactly at scale s; NaN and
 *                                                            +-Infinity: null (returns 1)
 *   NUMERIC(p,s), s > p (PG 15)     decimal(s,s) if s <= 38  as above
 *   NUMERIC(p,s), s < 0 (PG 15)     decimal(p-s,0) if <= 38  as above
 *   NUMERIC otherwise (no typmod,   string                   PostgreSQL's text
 *     or too wide for 38 digits)
 *   MONEY                           decimal(19,2)            i (cents)
 *   BYTES                           binary                   s/len (the decoded bytes)
 *   UUID                            uuid                     the 16 bytes
 *   DATE                            date                     i (days); +-infinity: null (1)
 *   TIME                            time                     i (microseconds)
 *   TIMESTAMP                       timestamp                i (us); +-infinity: null (1)
 *   TIMESTAMPTZ                     timestamptz              i (us, UTC); +-infinity: null (1)
 *   TEXT (enums too), JSON, INET,   string                   the server text s
 *     ARRAY, INTERVAL, TIMETZ,
 *     any other kind
 *
 * Conversion follows the target column type rather than the source kind, so a column kept at a
 * wider type (Iceberg's promotions: int -> long, float -> double, a decimal of larger precision)
 * still takes the values of the narrower source type; a string column takes any value with text.
 * A value that needs its text for the column type but has none (a rule that set an interval
 * column from an integer: rules_value.c) gets the text PostgreSQL would print for the typed value
 * (encode/pg_text.h); kinds whose text the typed value does not determine are an error.
 * Ownership: nothing is kept; byte values point into the value or into scratch. */
#ifndef SLUICE_SINKS_LAKE_SILVER_VALUE_H
#define SLUICE_SINKS_LAKE_SILVER_VALUE_H

#include <stddef.h>

#include "core/arena.h"
#include "pipeline/event.h"
#include "sinks/lake/parquet_types.h"

/* The Parquet type a source column is written as (out->type, precision, scale; name, field_id
 * and optional untouched). 0, or -1 with err (no column is refused today: a kind this module
 * does not know is a string). */
int silver_value_column_type(const column_def *c, parquet_column_def *out, char *err, size_t errlen);

/* v (a value of column c, state VALUE_PRESENT or VALUE_IS_NULL) as the Parquet value for the
 * column type pc (normally the one chosen above). Byte values point into v or into scratch.
 * Returns 0 (exact), 1 (the value has no representation in the column type and is written as
 * null: NaN/+-Infinity numeric in a decimal column, +-infinity date/timestamp), or -1 with err (a
 * value the type cannot take, e.g. numeric text that does not fit the decimal, money in a
 * narrower decimal, a value without the text its column type needs). VALUE_UNAVAILABLE is an error
 * (-1): the caller fills those first. */
int silver_value_to_parquet(const column_def *c, const parquet_column_def *pc, const value *v, parquet_value *out,
                            arena *scratch, char *err, size_t errlen);

#endif
