/* debezium_decode: a Kafka record of Debezium's PostgreSQL connector (Sluice's own, or Debezium's)
 * back into Sluice's typed change event. Key and value are JSON with Kafka Connect schemas
 * (JsonConverter, schemas.enable=true: {"schema": ..., "payload": ...}); the schema's types and
 * semantic names say what each column is, and each value is rebuilt as the text PostgreSQL prints
 * for it and parsed with the capture's own pg_value_parse (pg_types.h), so a decoded value equals
 * the captured one wherever Debezium's format keeps the information.
 *
 * The event:
 *   table      schema and name from source.schema / source.table; the columns from the value
 *              schema's "after" (or "before") struct; the key schema's fields are the primary key
 *              (is_pk = is_key = 1); not_null = the field is not optional. oid 0; replica_identity
 *              'd' (Debezium does not carry them); version: 1 for the first shape seen of a
 *              schema.table, 2 for the next different one, ...
 *   op         "c", "u", "d", "r", "t" (truncate: no images).
 *   snapshot   source.snapshot "true" / "first" / "first_in_data_collection" /
 *              "last_in_data_collection" / true -> SNAPSHOT_TRUE, "last" -> SNAPSHOT_LAST,
 *              "incremental" -> SNAPSHOT_INCREMENTAL, anything else -> SNAPSHOT_NONE.
 *   lsn        source.lsn (0 when null).
 *   tx         in the arena: xid = source.txId (low 32 bits; 0 for snapshot reads),
 *              commit_time_us = source.ts_us, else source.ts_ms * 1000; final_lsn = the LSN in
 *              transaction.id ("<txId>:<lsn>": the commit LSN in Sluice's records) when the record
 *              has a transaction block (provide.transaction.metadata), else source.lsn, the
 *              change's own LSN (Debezium's value has no commit LSN); end_lsn = final_lsn.
 *   seq        transaction.total_order - 1 when there is a transaction block, else 0. Without
 *              the block, (tx->final_lsn, seq) is unique per streamed change but not among
 *              snapshot reads, which share source.lsn.
 *   before     when every non-key column of an update's or delete's before image is null (and
 *              the table has a key and other columns), the image is taken as key-only
 *              (REPLICA IDENTITY DEFAULT): before_key_only = 1, the non-key values
 *              VALUE_UNAVAILABLE. (A REPLICA IDENTITY FULL row whose non-key columns are all
 *              NULL reads the same way: Debezium's JSON cannot tell them apart.) A delete
 *              without a before image gets a key-only one from the record key.
 *   values     JSON null -> VALUE_IS_NULL; Debezium's placeholder "__debezium_unavailable_value"
 *              (as a string, as its bytes for bytea, as ["<placeholder>"] or its bytes as
 *              numbers for arrays) -> VALUE_UNAVAILABLE.
 *
 * Types (Connect type + semantic name -> kind, PostgreSQL type name; what comes back exactly):
 *   boolean / int16 / int32 / int64     BOOL bool / INT16 int2 / INT32 int4 / INT64 int8: exact.
 *                                       (oid is int64 in Debezium: INT64 int8 unless the source
 *                                       type says oid.)
 *   float / double                      FLOAT32 float4 / FLOAT64 float8: exact, NaN and
 *                                       infinities included; the text is PostgreSQL's shortest form.
 *   string                              TEXT text: exact (varchar, bpchar, name, inet, cidr,
 *                                       macaddr, ranges, tsvector, ...: kind TEXT, type name text
 *                                       unless the source type says otherwise).
 *   bytes                               BYTES bytea: exact.
 *   Decimal (bytes, scale, connect.decimal.precision)
 *                                       NUMERIC numeric, typmod from precision and scale: exact.
 *                                       Without a precision and with scale 2 it is money (what
 *                                       Debezium and Sluice write for money): MONEY money, exact.
 *   VariableScaleDecimal {scale,value}  NUMERIC numeric, typmod -1: exact (the printed scale too).
 *                                       NaN / infinities are null in this format (lost).
 *   decimal.handling.mode double/string a double / string: FLOAT64 float8 / TEXT text, like real
 *                                       ones (no semantic name tells them apart), unless the
 *                                       source type says numeric or money: then string mode
 *                                       decodes to NUMERIC / MONEY exactly; double stays FLOAT64.
 *   io.debezium.time.Date, connect Date DATE date: exact, infinities included.
 *   io.debezium.time.Time (ms)          TIME time, typmod 3: exact for time(0..3).
 *   MicroTime / NanoTime                TIME time: exact (NanoTime to the microsecond).
 *   connect Time (ms)                   TIME time: truncated to milliseconds by the encoder.
 *   io.debezium.time.Timestamp (ms)     TIMESTAMP timestamp, typmod 3: exact for timestamp(0..3).
 *   MicroTimestamp / NanoTimestamp      TIMESTAMP timestamp: exact, infinities included.
 *   connect Timestamp (ms)              TIMESTAMP timestamp: truncated to milliseconds.
 *   ZonedTimestamp (ISO string)         TIMESTAMPTZ timestamptz: exact (any offset accepted,
 *                                       fractions past microseconds truncated), infinities.
 *   ZonedTime (ISO string)              TIMETZ timetz: Debezium writes the time in UTC, so the
 *                                       original offset is lost: decoded with the offset the
 *                                       string has (Z: 0); the UTC time of day is exact.
 *   MicroDuration (int64 us)            INTERVAL interval: months 0, days 0, us = the number:
 *                                       exact for intervals without months or days; Debezium
 *                                       counts a day as 24 h and a month as 30.4375 days, so
 *                                       those are not recovered.
 *   io.debezium.time.Interval (ISO)     INTERVAL interval (interval.handling.mode=string): exact.
 *   io.debezium.data.Uuid / Json        UUID uuid / JSON json (jsonb too): exact.
 *   io.debezium.data.Xml / Ltree        TEXT xml / ltree: exact.
 *   io.debezium.data.Enum               TEXT, enum_labels from "allowed": exact.
 *   io.debezium.data.Bits (length n)    TEXT bit (typmod n), n characters: exact for bit(n);
 *                                       varbit(n) reads as bit(n) (padded with leading zeros);
 *                                       length 2^31-1: varbit, leading zeros lost. bit(1) is a
 *                                       boolean: BOOL bool (unless the source type says bit).
 *   array (items)                       ARRAY with the items' kind as elem_kind, "_<elem type>";
 *                                       the value is PostgreSQL's array literal (quoting as
 *                                       array_out does; nested JSON arrays are dimensions):
 *                                       exact where the elements are.
 *   Refused (-1): struct other than VariableScaleDecimal (PostGIS geometry / geography / point),
 *   map (hstore as a map), nested Connect arrays, any other semantic name.
 * __debezium.source.column.type (column.propagate.source.type), when present, names the type
 * (type_name, and type_oid for built-in types) and refines the kind where the value allows an
 * exact reading (oid, inet/cidr/macaddr, uuid, jsonb, numeric and money in string mode, bit(1));
 * where it cannot (numeric in double mode) the kind stays what the value holds, so type_name may
 * name a type of another kind (kind FLOAT64, type_name "numeric").
 * __debezium.source.column.length gives varchar/bpchar their typmod. Otherwise typmod is -1
 * except for Decimal precision, Bits length and the millisecond time types.
 *
 * Ownership: the decoder owns every table_def it returns (one per distinct shape, kept until
 * debezium_decoder_destroy, so sinks may keep pointers to them); a decoded event's values, their
 * text and its tx_info live in the arena passed in. Not thread-safe: one decoder per consumer. */
#ifndef SLUICE_ENCODE_DEBEZIUM_DECODE_H
#define SLUICE_ENCODE_DEBEZIUM_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "pipeline/event.h"

typedef struct debezium_decoder debezium_decoder;

debezium_decoder *debezium_decoder_create(void);        /* NULL when out of memory */
void debezium_decoder_destroy(debezium_decoder *d);     /* accepts NULL */
/* Table definitions held (one per distinct shape). */
size_t debezium_decoder_table_count(const debezium_decoder *d);

/* Decode one Kafka record (key may be NULL / empty: a keyless table). Returns
 *   1   a change event in *out (values, text and tx in a; the table_def owned by d);
 *   0   not a change event, skip it: a tombstone (value NULL, empty or JSON null), a heartbeat,
 *       a transaction-metadata record, a schema-change record, a logical decoding message;
 *  -1   with the reason in err: not JSON, no Connect schema (schemas.enable=false: the types
 *       cannot be recovered), a payload that does not match its schema, a type that is not
 *       supported or a value that is not valid for its column. */
int debezium_decoder_decode(debezium_decoder *d, const void *key, size_t keylen, const void *val, size_t vallen,
                            arena *a, event *out, char *err, size_t errlen);

/* A record, with the header of a primary-key change. Debezium emits a key change as a delete of
 * the old key whose record carries the header __debezium.newkey, a tombstone, and a create of
 * the new key carrying __debezium.oldkey (the old key, as the record key is written); with
 * several partitions the two halves may arrive in either order. */
typedef struct debezium_record {
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const void *oldkey;          /* the __debezium.oldkey header's value, or NULL */
    size_t oldkey_len;
    const value *old_key_image;  /* out: for a create with oldkey, a key-only image of the old key
                                  * (the key columns' values, the others VALUE_UNAVAILABLE), in the
                                  * arena; else NULL */
} debezium_record;

/* debezium_decoder_decode, and for a create with oldkey the old key's image in r (so that a
 * writer can take the old row's unchanged TOASTed values). Same returns. */
int debezium_decoder_decode_record(debezium_decoder *d, debezium_record *r, arena *a, event *out, char *err,
                                   size_t errlen);

/* ---- shared by debezium_decode.c and debezium_decode_values.c (not a public API) ---------- */

struct json_t;

/* How a Connect value becomes PostgreSQL's text. */
typedef enum dbzd_conv {
    DBZD_BOOL,            /* true/false -> t/f */
    DBZD_BIT1,            /* a boolean that is bit(1) -> 1/0 */
    DBZD_INT,             /* integer in [min, max] */
    DBZD_FLOAT,           /* number or "NaN"/"Infinity"/"-Infinity" (kind FLOAT32 or FLOAT64) */
    DBZD_DECIMAL,         /* Connect Decimal: base64 two's complement, scale */
    DBZD_VSD,             /* VariableScaleDecimal {scale, value} */
    DBZD_DECIMAL_TEXT,    /* BigDecimal.toString (decimal.handling.mode=string) -> numeric */
    DBZD_MONEY_DECIMAL,   /* Decimal -> money */
    DBZD_MONEY_TEXT,      /* decimal string -> money */
    DBZD_STRING,          /* the string itself */
    DBZD_BYTES,           /* base64 */
    DBZD_BITS,            /* io.debezium.data.Bits, bits long */
    DBZD_DATE,            /* days */
    DBZD_TIME_MS, DBZD_TIME_US, DBZD_TIME_NS,
    DBZD_TS_MS, DBZD_TS_US, DBZD_TS_NS,
    DBZD_ZONED_TS,        /* ISO-8601 with offset */
    DBZD_ZONED_TIME,      /* ISO time with offset */
    DBZD_MICRO_DURATION,  /* microseconds */
    DBZD_ISO_INTERVAL,    /* P1Y2M3DT4H5M6.78S */
} dbzd_conv;

typedef struct dbzd_type {
    dbzd_conv conv;
    value_kind kind;      /* the kind the text is parsed as */
    int32_t scale;        /* DBZD_DECIMAL, DBZD_MONEY_DECIMAL */
    int32_t bits;         /* DBZD_BITS: the length parameter (INT32_MAX: varbit) */
    int64_t min, max;     /* DBZD_INT */
} dbzd_type;

/* One column's decoding: its value's type, or its array elements' type. */
typedef struct dbzd_column {
    dbzd_type t;
    int array;
} dbzd_column;

/* Scratch text of the decoder (reused across values). */
typedef struct dbzd_scratch {
    buf text;     /* the value's text */
    buf elem;     /* an array element's text */
    buf digits;   /* a decimal's digits */
} dbzd_scratch;

/* The value j of column name (decoded per c) into *out, text and bytes in a. 0, or -1 with err. */
int dbzd_value_read(const dbzd_column *c, const char *name, const struct json_t *j, dbzd_scratch *s, arena *a,
                    value *out, char *err, size_t errlen);

#endif
