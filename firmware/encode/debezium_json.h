/* debezium_json: encodes change events as Debezium's PostgreSQL connector does in JSON (with
 * schemas.enable=false): the message key (the primary key as an object) and the value envelope
 * {before, after, source, op, ts_ms, ts_us, ts_ns, transaction}. Values follow Debezium's default
 * mappings (time.precision.mode=adaptive): date -> days, time -> MicroTime, timestamp ->
 * MicroTimestamp, timestamptz -> ZonedTimestamp string, timetz -> ZonedTime string, interval ->
 * MicroDuration, bytea -> base64, json/uuid/inet/enum -> string, numeric/money per
 * decimal.handling.mode, unavailable TOAST -> "__debezium_unavailable_value". */
#ifndef SLUICE_ENCODE_DEBEZIUM_JSON_H
#define SLUICE_ENCODE_DEBEZIUM_JSON_H

#include <stdint.h>
#include "core/buf.h"
#include "pipeline/event.h"

typedef enum { DECIMAL_STRING = 0, DECIMAL_DOUBLE, DECIMAL_PRECISE } decimal_mode;

typedef struct debezium_options {
    const char *name;        /* topic prefix / logical server name (source.name) */
    const char *db;          /* database name (source.db) */
    decimal_mode decimal;    /* DECIMAL_PRECISE is encoded as the string form until issue #4 */
} debezium_options;

#define DEBEZIUM_UNAVAILABLE "__debezium_unavailable_value"

/* Append the value envelope of ev; now_us is the processing time (ts_ms/us/ns). */
void debezium_json_value(buf *out, const event *ev, const debezium_options *o, int64_t now_us);
/* Append the key: {"col": value, ...} of the key columns, or null when the table has none. */
void debezium_json_key(buf *out, const event *ev, const debezium_options *o);

#endif
