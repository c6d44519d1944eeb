/* debezium_schema: the Kafka Connect schemas Debezium's PostgreSQL connector declares, as
 * JsonConverter (schemas.enable=true) writes them: keys in its order ("type", "fields" or
 * "items", "optional", "name", "version", "doc", "parameters", "default", then "field"), the
 * table's Key and Value structs, the Envelope with the Source and transaction blocks, and the
 * heartbeat and transaction-metadata schemas. Built once per table and cached by the encoder. */
#include "encode/debezium_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dbz_time_precision(const column_def *col)
{
    return col->typmod < 0 ? 6 : col->typmod;
}

int dbz_numeric_typmod(int32_t typmod, int *precision, int *scale)
{
    if (typmod < 4)
        return 0;
    int32_t t = typmod - 4;
    *precision = (t >> 16) & 0xffff;
    *scale = ((t & 0x7ff) ^ 1024) - 1024;   /* PostgreSQL 15 allows negative scales */
    return 1;
}

int32_t dbz_bits_length(const column_def *col)
{
    if (col->typmod > 0)
        return col->typmod;
    return col->type_oid == DBZ_OID_BIT ? 1 : 2147483647;
}

/* "type", then "optional", then the semantic name and version: the common shape. */
static void simple(buf *out, const char *type, int optional, const char *name)
{
    PUT_LIT(out, "{\"type\":\"");
    buf_puts(out, type);
    if (optional)
        PUT_LIT(out, "\",\"optional\":true");
    else
        PUT_LIT(out, "\",\"optional\":false");
    if (name) {
        PUT_LIT(out, ",\"name\":\"");
        buf_puts(out, name);
        PUT_LIT(out, "\",\"version\":1");
    }
}

static void decimal_schema(buf *out, int optional, int scale, int precision)
{
    char t[64];
    simple(out, "bytes", optional, "org.apache.kafka.connect.data.Decimal");
    int n = snprintf(t, sizeof t, ",\"parameters\":{\"scale\":\"%d\"", scale);
    buf_append(out, t, (size_t)n);
    if (precision >= 0) {
        n = snprintf(t, sizeof t, ",\"connect.decimal.precision\":\"%d\"", precision);
        buf_append(out, t, (size_t)n);
    }
    PUT_LIT(out, "}");
}

/* The schema object of a value of kind, without its closing brace (a field adds "field"). */
static void kind_schema(const debezium_encoder *e, buf *out, const column_def *col, value_kind kind, int in_array,
                        int optional)
{
    time_precision_mode tm = e->o.time;
    int precision, scale;
    switch (kind) {
    case VALUE_BOOL: simple(out, "boolean", optional, NULL); break;
    case VALUE_INT16: simple(out, "int16", optional, NULL); break;
    case VALUE_INT32:
        /* oid is INT64 in Debezium */
        simple(out, (in_array ? col->type_oid == DBZ_OID_OID_ARRAY : col->type_oid == DBZ_OID_OID) ? "int64" : "int32",
               optional, NULL);
        break;
    case VALUE_INT64: simple(out, "int64", optional, NULL); break;
    case VALUE_FLOAT32: simple(out, "float", optional, NULL); break;
    case VALUE_FLOAT64: simple(out, "double", optional, NULL); break;
    case VALUE_NUMERIC:
        if (e->o.decimal == DECIMAL_DOUBLE) {
            simple(out, "double", optional, NULL);
        } else if (e->o.decimal == DECIMAL_STRING) {
            simple(out, "string", optional, NULL);
        } else if (dbz_numeric_typmod(col->typmod, &precision, &scale)) {
            decimal_schema(out, optional, scale, precision);
        } else {
            PUT_LIT(out, "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
                         "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]");
            if (optional)
                PUT_LIT(out, ",\"optional\":true");
            else
                PUT_LIT(out, ",\"optional\":false");
            PUT_LIT(out, ",\"name\":\"io.debezium.data.VariableScaleDecimal\",\"version\":1,"
                         "\"doc\":\"Variable scaled decimal\"");
        }
        break;
    case VALUE_MONEY:
        if (e->o.decimal == DECIMAL_DOUBLE)
            simple(out, "double", optional, NULL);
        else if (e->o.decimal == DECIMAL_STRING)
            simple(out, "string", optional, NULL);
        else
            decimal_schema(out, optional, 2, -1);   /* Decimal.builder(money.fraction.digits) */
        break;
    case VALUE_BYTES: simple(out, "bytes", optional, NULL); break;
    case VALUE_DATE:
        simple(out, "int32", optional, tm == TIME_CONNECT ? "org.apache.kafka.connect.data.Date" : "io.debezium.time.Date");
        break;
    case VALUE_TIME:
        if (tm == TIME_CONNECT)
            simple(out, "int32", optional, "org.apache.kafka.connect.data.Time");
        else if (tm == TIME_ADAPTIVE && dbz_time_precision(col) <= 3)
            simple(out, "int32", optional, "io.debezium.time.Time");
        else
            simple(out, "int64", optional, "io.debezium.time.MicroTime");
        break;
    case VALUE_TIMETZ: simple(out, "string", optional, "io.debezium.time.ZonedTime"); break;
    case VALUE_TIMESTAMP:
        if (tm == TIME_CONNECT)
            simple(out, "int64", optional, "org.apache.kafka.connect.data.Timestamp");
        else if (dbz_time_precision(col) <= 3)
            simple(out, "int64", optional, "io.debezium.time.Timestamp");
        else
            simple(out, "int64", optional, "io.debezium.time.MicroTimestamp");
        break;
    case VALUE_TIMESTAMPTZ: simple(out, "string", optional, "io.debezium.time.ZonedTimestamp"); break;
    case VALUE_INTERVAL: simple(out, "int64", optional, "io.debezium.time.MicroDuration"); break;
    case VALUE_UUID: simple(out, "string", optional, "io.debezium.data.Uuid"); break;
    case VALUE_JSON: simple(out, "string", optional, "io.debezium.data.Json"); break;
    case VALUE_ARRAY:
        PUT_LIT(out, "{\"type\":\"array\",\"items\":");
        kind_schema(e, out, col, col->elem_kind, 1, 1);
        PUT_LIT(out, "}");
        if (optional)
            PUT_LIT(out, ",\"optional\":true");
        else
            PUT_LIT(out, ",\"optional\":false");
        break;
    case VALUE_TEXT:
        if (!in_array && col->type_oid == DBZ_OID_XML) {
            simple(out, "string", optional, "io.debezium.data.Xml");
            break;
        }
        if (!in_array && (col->type_oid == DBZ_OID_BIT || col->type_oid == DBZ_OID_VARBIT)) {
            int32_t len = dbz_bits_length(col);
            if (len == 1) {
                simple(out, "boolean", optional, NULL);
            } else {
                char t[64];
                simple(out, "bytes", optional, "io.debezium.data.Bits");
                int n = snprintf(t, sizeof t, ",\"parameters\":{\"length\":\"%d\"}", (int)len);
                buf_append(out, t, (size_t)n);
            }
            break;
        }
        if (!in_array && col->enum_labels) {
            simple(out, "string", optional, "io.debezium.data.Enum");
            PUT_LIT(out, ",\"parameters\":{\"allowed\":");
            dbz_json_cstr(out, col->enum_labels);
            PUT_LIT(out, "}");
            break;
        }
        simple(out, "string", optional, NULL);
        break;
    case VALUE_INET:
    default: simple(out, "string", optional, NULL); break;
    }
}

void dbz_schema_field(const debezium_encoder *e, buf *out, const column_def *col, int optional)
{
    kind_schema(e, out, col, col->kind, 0, optional);
    PUT_LIT(out, ",\"field\":");
    dbz_json_cstr(out, col->name);
    PUT_LIT(out, "}");
}

/* "<name>.<schema>.<table><suffix>" as a JSON string. */
static void table_schema_name(const debezium_encoder *e, buf *out, const table_def *t, const char *suffix)
{
    buf n = BUF_INIT;
    buf_puts(&n, e->o.name);
    buf_append(&n, ".", 1);
    buf_puts(&n, t->schema);
    buf_append(&n, ".", 1);
    buf_puts(&n, t->name);
    buf_puts(&n, suffix);
    dbz_json_text(out, n.data, n.len);
    buf_free(&n);
}

char *dbz_schema_key(const debezium_encoder *e, const table_def *t)
{
    buf out = BUF_INIT;
    int first = 1;
    PUT_LIT(&out, "{\"type\":\"struct\",\"fields\":[");
    for (int i = 0; i < t->ncols; i++) {
        if (!t->cols[i].is_pk)
            continue;
        if (!first)
            PUT_LIT(&out, ",");
        first = 0;
        dbz_schema_field(e, &out, &t->cols[i], 0);
    }
    PUT_LIT(&out, "],\"optional\":false,\"name\":");
    table_schema_name(e, &out, t, ".Key");
    PUT_LIT(&out, "}");
    return buf_take(&out);
}

/* The row struct (before/after), without its closing brace. */
static void row_schema(const debezium_encoder *e, buf *out, const table_def *t)
{
    PUT_LIT(out, "{\"type\":\"struct\",\"fields\":[");
    for (int i = 0; i < t->ncols; i++) {
        if (i)
            PUT_LIT(out, ",");
        dbz_schema_field(e, out, &t->cols[i], !t->cols[i].not_null);
    }
    PUT_LIT(out, "],\"optional\":true,\"name\":");
    table_schema_name(e, out, t, ".Value");
}

#define SOURCE_SCHEMA                                                                                      \
    "{\"type\":\"struct\",\"fields\":["                                                                    \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"                                      \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"                                    \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"                                         \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"                                         \
    "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"             \
    "\"parameters\":{\"allowed\":\"true,last,false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"}," \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"                                           \
    "{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"                                      \
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"                                          \
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"                                          \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"                                       \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"                                        \
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"                                           \
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},"                                            \
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"}],"                                          \
    "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"}"

#define TX_BLOCK_SCHEMA                                                                                    \
    "{\"type\":\"struct\",\"fields\":["                                                                    \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"                                           \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"                                   \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],"                        \
    "\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}"

char *dbz_schema_envelope(const debezium_encoder *e, const table_def *t)
{
    buf out = BUF_INIT;
    PUT_LIT(&out, "{\"type\":\"struct\",\"fields\":[");
    row_schema(e, &out, t);
    PUT_LIT(&out, ",\"field\":\"before\"},");
    row_schema(e, &out, t);
    PUT_LIT(&out, ",\"field\":\"after\"}," SOURCE_SCHEMA ","
                  "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
                  "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
                  "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
                  "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}," TX_BLOCK_SCHEMA
                  "],\"optional\":false,\"name\":");
    table_schema_name(e, &out, t, ".Envelope");
    PUT_LIT(&out, ",\"version\":1}");
    return buf_take(&out);
}

const char dbz_schema_heartbeat_key[] =
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"serverName\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.common.ServerNameKey\",\"version\":1}";

const char dbz_schema_heartbeat_value[] =
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.common.Heartbeat\",\"version\":1}";

const char dbz_schema_tx_key[] =
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1}";

const char dbz_schema_tx_value[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
    "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
    "\"optional\":true,\"name\":\"event.collection\",\"version\":1},\"optional\":true,\"field\":\"data_collections\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}";
