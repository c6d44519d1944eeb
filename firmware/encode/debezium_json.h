/* debezium_json: encodes change events exactly as Debezium's PostgreSQL connector does with
 * Kafka Connect's JsonConverter: the message key (the primary key as an object) and the value
 * envelope {before, after, source, op, ts_ms, ts_us, ts_ns, transaction}; with schemas set, each
 * wrapped as {"schema": <Connect schema>, "payload": ...} (schemas.enable=true), using Debezium's
 * semantic type names. Also the heartbeat and transaction-metadata messages.
 * Values follow Debezium's mappings: time.precision.mode (adaptive, adaptive_time_microseconds,
 * connect), decimal.handling.mode (precise: Connect Decimal bytes / VariableScaleDecimal; double;
 * string), timestamptz -> ZonedTimestamp string, timetz -> ZonedTime string, interval ->
 * MicroDuration, bytea -> base64, json/uuid/inet/enum -> string, arrays -> JSON arrays, an
 * unavailable TOASTed value -> "__debezium_unavailable_value".
 * Output is compact JSON, byte for byte what Jackson writes, so message keys hash to the same
 * partitions as Debezium's.
 * Ownership: the encoder copies the option strings. It caches one Connect schema per table_def
 * (by pointer; table_defs live until the capture is destroyed), so the encoder must not outlive
 * the capture whose events it encodes. Not thread-safe: one encoder per sink. */
#ifndef SLUICE_ENCODE_DEBEZIUM_JSON_H
#define SLUICE_ENCODE_DEBEZIUM_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "pipeline/event.h"

typedef enum { DECIMAL_PRECISE = 0, DECIMAL_DOUBLE, DECIMAL_STRING } decimal_mode;
typedef enum { TIME_ADAPTIVE = 0, TIME_ADAPTIVE_MICROSECONDS, TIME_CONNECT } time_precision_mode;

typedef struct debezium_options {
    const char *name;            /* topic prefix / logical server name (source.name) */
    const char *db;              /* database name (source.db) */
    decimal_mode decimal;        /* decimal.handling.mode */
    time_precision_mode time;    /* time.precision.mode */
    int schemas;                 /* 1: {schema, payload} (JsonConverter schemas.enable=true) */
} debezium_options;

/* Names of the modes as Debezium spells them; parse returns 0 or -1. */
int debezium_decimal_mode_parse(const char *s, decimal_mode *out);
int debezium_time_mode_parse(const char *s, time_precision_mode *out);

#define DEBEZIUM_UNAVAILABLE "__debezium_unavailable_value"

typedef struct debezium_encoder debezium_encoder;

debezium_encoder *debezium_encoder_create(const debezium_options *o);   /* NULL: out of memory */
void debezium_encoder_destroy(debezium_encoder *e);                      /* accepts NULL */

/* The position of an event in its transaction, for the value's "transaction" block
 * (provide.transaction.metadata); pass NULL for "transaction": null. */
typedef struct debezium_tx_position {
    uint64_t total_order;        /* 1-based position among the transaction's events */
    uint64_t collection_order;   /* 1-based position among its events for this table */
} debezium_tx_position;

/* Append the value of ev. now_us is the processing time (the envelope's ts_ms/ts_us/ts_ns). */
/* Append one column's value as Debezium writes it in before/after (null, the unavailable
 * placeholder, or the converted value). */
void debezium_encode_column(debezium_encoder *e, buf *out, const column_def *col, const value *v);

void debezium_encode_value(debezium_encoder *e, buf *out, const event *ev, int64_t now_us,
                           const debezium_tx_position *txpos);
/* Append the key of ev: the key columns of ev->after (or ev->before when there is no after) as an
 * object. Returns 1, or 0 without appending anything when the table has no key (the Kafka
 * message then has a null key). */
int debezium_encode_key(debezium_encoder *e, buf *out, const event *ev);
/* 1 when an update changed the key (ev->before holds the old key and it differs from after's):
 * Debezium then emits delete + tombstone + create instead of the update. */
int debezium_key_changed(const event *ev);

/* The transaction id Debezium uses: "<txId>:<commit LSN as a decimal>". */
void debezium_tx_id(buf *out, const tx_info *tx);

/* Heartbeat message: key {"serverName": name}, value {"ts_ms": now}
 * (io.debezium.connector.common.ServerNameKey / Heartbeat). */
void debezium_encode_heartbeat_key(debezium_encoder *e, buf *out);
void debezium_encode_heartbeat_value(debezium_encoder *e, buf *out, int64_t now_us);

/* Transaction-metadata topic messages: key {"id": ...}; BEGIN value
 * {"status":"BEGIN","id":...,"event_count":null,"data_collections":null,"ts_ms":commit time}
 * (the field order of Debezium's TransactionMetadataValue schema, which JsonConverter follows);
 * END value adds the counts. Collections are named "schema.table". */
typedef struct debezium_collection_count {
    const char *schema, *table;
    uint64_t count;
} debezium_collection_count;
void debezium_encode_tx_key(debezium_encoder *e, buf *out, const tx_info *tx);
void debezium_encode_tx_begin(debezium_encoder *e, buf *out, const tx_info *tx);
void debezium_encode_tx_end(debezium_encoder *e, buf *out, const tx_info *tx, uint64_t event_count,
                            const debezium_collection_count *collections, size_t ncollections);

#endif
