/* iceberg_manifest_schema: the Avro schema texts of v2 manifests and manifest lists, with the
 * record names and field ids Iceberg's own writers use (see iceberg_manifest_schema.h). */
#include "sinks/lake/iceberg_manifest_schema.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/errbuf.h"

static bool avro_name_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!alpha && !(p != s && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

int iceberg_partition_fields_check(const iceberg_partition_field *fields, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const iceberg_partition_field *f = &fields[i];
        if (!avro_name_ok(f->name))
            return err_setf(err, errlen, "partition field %zu: '%s' is not an Avro name ([A-Za-z_][A-Za-z0-9_]*)", i,
                            f->name ? f->name : "");
        if (f->field_id < 0 || f->source_id < 0)
            return err_setf(err, errlen, "partition field %s: negative field or source id", f->name);
        if ((int)f->type < (int)ICEBERG_TYPE_BOOLEAN || (int)f->type > (int)ICEBERG_TYPE_BINARY)
            return err_setf(err, errlen, "partition field %s: unknown type %d", f->name, (int)f->type);
        if (f->type == ICEBERG_TYPE_DECIMAL &&
            (f->precision < 1 || f->precision > 38 || f->scale < 0 || f->scale > f->precision))
            return err_setf(err, errlen, "partition field %s: decimal(%d,%d) is not valid", f->name, f->precision,
                            f->scale);
        if (f->type == ICEBERG_TYPE_FIXED && f->length < 1)
            return err_setf(err, errlen, "partition field %s: fixed length %d is not valid", f->name, f->length);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(fields[j].name, f->name) == 0)
                return err_setf(err, errlen, "partition field name '%s' used twice", f->name);
            if (fields[j].field_id == f->field_id)
                return err_setf(err, errlen, "partition field id %d used twice", (int)f->field_id);
        }
    }
    return 0;
}

/* The Avro type of an identity partition value. Named (fixed) types are defined once, then
 * referred to by name; defined holds the names already defined, one per line. */
static void partition_avro_type(const iceberg_partition_field *f, buf *out, buf *defined)
{
    char name[64] = "";
    switch (f->type) {
    case ICEBERG_TYPE_BOOLEAN: buf_puts(out, "\"boolean\""); return;
    case ICEBERG_TYPE_INT: buf_puts(out, "\"int\""); return;
    case ICEBERG_TYPE_LONG: buf_puts(out, "\"long\""); return;
    case ICEBERG_TYPE_FLOAT: buf_puts(out, "\"float\""); return;
    case ICEBERG_TYPE_DOUBLE: buf_puts(out, "\"double\""); return;
    case ICEBERG_TYPE_STRING: buf_puts(out, "\"string\""); return;
    case ICEBERG_TYPE_BINARY: buf_puts(out, "\"bytes\""); return;
    case ICEBERG_TYPE_DATE: buf_puts(out, "{\"type\":\"int\",\"logicalType\":\"date\"}"); return;
    case ICEBERG_TYPE_TIME: buf_puts(out, "{\"type\":\"long\",\"logicalType\":\"time-micros\"}"); return;
    case ICEBERG_TYPE_TIMESTAMP:
    case ICEBERG_TYPE_TIMESTAMPTZ:
        buf_printf(out, "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\",\"adjust-to-utc\":%s}",
                   f->type == ICEBERG_TYPE_TIMESTAMPTZ ? "true" : "false");
        return;
    case ICEBERG_TYPE_UUID: snprintf(name, sizeof name, "uuid_fixed"); break;
    case ICEBERG_TYPE_FIXED: snprintf(name, sizeof name, "fixed_%d", f->length); break;
    case ICEBERG_TYPE_DECIMAL: snprintf(name, sizeof name, "decimal_%d_%d", f->precision, f->scale); break;
    }
    char line[70];
    snprintf(line, sizeof line, "\n%s\n", name);
    if (defined->data && strstr(defined->data, line)) {
        buf_printf(out, "\"%s\"", name);
        return;
    }
    buf_printf(defined, "\n%s\n", name);
    if (f->type == ICEBERG_TYPE_UUID)
        buf_puts(out, "{\"type\":\"fixed\",\"name\":\"uuid_fixed\",\"size\":16,\"logicalType\":\"uuid\"}");
    else if (f->type == ICEBERG_TYPE_FIXED)
        buf_printf(out, "{\"type\":\"fixed\",\"name\":\"%s\",\"size\":%d}", name, f->length);
    else
        buf_printf(out, "{\"type\":\"fixed\",\"name\":\"%s\",\"size\":%d,\"logicalType\":\"decimal\",\"precision\":%d,\"scale\":%d}",
                   name, iceberg_decimal_required_bytes(f->precision), f->precision, f->scale);
}

/* An optional map<int, value_type> field, stored as an array of key/value records. */
static void map_field(buf *b, const char *name, int id, int key_id, int value_id, const char *value_type)
{
    buf_printf(b,
               ",{\"name\":\"%s\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":\"record\","
               "\"name\":\"k%d_v%d\",\"fields\":[{\"name\":\"key\",\"type\":\"int\",\"field-id\":%d},"
               "{\"name\":\"value\",\"type\":\"%s\",\"field-id\":%d}]},\"logicalType\":\"map\"}],"
               "\"default\":null,\"field-id\":%d}",
               name, key_id, value_id, key_id, value_type, value_id, id);
}

/* An optional list<element_type> field. */
static void list_field(buf *b, const char *name, int id, int element_id, const char *element_type)
{
    buf_printf(b,
               ",{\"name\":\"%s\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"%s\",\"element-id\":%d}],"
               "\"default\":null,\"field-id\":%d}",
               name, element_type, element_id, id);
}

static void optional_field(buf *b, const char *name, int id, const char *type)
{
    buf_printf(b, ",{\"name\":\"%s\",\"type\":[\"null\",\"%s\"],\"default\":null,\"field-id\":%d}", name, type, id);
}

int iceberg_manifest_entry_schema(const iceberg_partition_field *fields, size_t n, buf *out, char *err,
                                  size_t errlen)
{
    if (iceberg_partition_fields_check(fields, n, err, errlen) < 0)
        return -1;
    buf defined = BUF_INIT;
    buf_puts(out,
             "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
             "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0},"
             "{\"name\":\"snapshot_id\",\"type\":[\"null\",\"long\"],\"default\":null,\"field-id\":1},"
             "{\"name\":\"sequence_number\",\"type\":[\"null\",\"long\"],\"default\":null,\"field-id\":3},"
             "{\"name\":\"file_sequence_number\",\"type\":[\"null\",\"long\"],\"default\":null,\"field-id\":4},"
             "{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\",\"fields\":["
             "{\"name\":\"content\",\"type\":\"int\",\"field-id\":134},"
             "{\"name\":\"file_path\",\"type\":\"string\",\"field-id\":100},"
             "{\"name\":\"file_format\",\"type\":\"string\",\"field-id\":101},"
             "{\"name\":\"partition\",\"type\":{\"type\":\"record\",\"name\":\"r102\",\"fields\":[");
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "%s{\"name\":\"%s\",\"type\":[\"null\",", i ? "," : "", fields[i].name);
        partition_avro_type(&fields[i], out, &defined);
        buf_printf(out, "],\"default\":null,\"field-id\":%d}", (int)fields[i].field_id);
    }
    buf_puts(out,
             "]},\"field-id\":102},"
             "{\"name\":\"record_count\",\"type\":\"long\",\"field-id\":103},"
             "{\"name\":\"file_size_in_bytes\",\"type\":\"long\",\"field-id\":104}");
    map_field(out, "column_sizes", 108, 117, 118, "long");
    map_field(out, "value_counts", 109, 119, 120, "long");
    map_field(out, "null_value_counts", 110, 121, 122, "long");
    map_field(out, "nan_value_counts", 137, 138, 139, "long");
    map_field(out, "lower_bounds", 125, 126, 127, "bytes");
    map_field(out, "upper_bounds", 128, 129, 130, "bytes");
    optional_field(out, "key_metadata", 131, "bytes");
    list_field(out, "split_offsets", 132, 133, "long");
    list_field(out, "equality_ids", 135, 136, "int");
    optional_field(out, "sort_order_id", 140, "int");
    optional_field(out, "referenced_data_file", 143, "string");
    buf_puts(out, "]},\"field-id\":2}]}");
    buf_free(&defined);
    return 0;
}

const char *iceberg_manifest_file_schema(void)
{
    return "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
           "{\"name\":\"manifest_path\",\"type\":\"string\",\"field-id\":500},"
           "{\"name\":\"manifest_length\",\"type\":\"long\",\"field-id\":501},"
           "{\"name\":\"partition_spec_id\",\"type\":\"int\",\"field-id\":502},"
           "{\"name\":\"content\",\"type\":\"int\",\"field-id\":517},"
           "{\"name\":\"sequence_number\",\"type\":\"long\",\"field-id\":515},"
           "{\"name\":\"min_sequence_number\",\"type\":\"long\",\"field-id\":516},"
           "{\"name\":\"added_snapshot_id\",\"type\":\"long\",\"field-id\":503},"
           "{\"name\":\"added_files_count\",\"type\":\"int\",\"field-id\":504},"
           "{\"name\":\"existing_files_count\",\"type\":\"int\",\"field-id\":505},"
           "{\"name\":\"deleted_files_count\",\"type\":\"int\",\"field-id\":506},"
           "{\"name\":\"added_rows_count\",\"type\":\"long\",\"field-id\":512},"
           "{\"name\":\"existing_rows_count\",\"type\":\"long\",\"field-id\":513},"
           "{\"name\":\"deleted_rows_count\",\"type\":\"long\",\"field-id\":514},"
           "{\"name\":\"partitions\",\"type\":[\"null\",{\"type\":\"array\",\"items\":{\"type\":\"record\","
           "\"name\":\"r508\",\"fields\":["
           "{\"name\":\"contains_null\",\"type\":\"boolean\",\"field-id\":509},"
           "{\"name\":\"contains_nan\",\"type\":[\"null\",\"boolean\"],\"default\":null,\"field-id\":518},"
           "{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":510},"
           "{\"name\":\"upper_bound\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":511}]},"
           "\"element-id\":508}],\"default\":null,\"field-id\":507},"
           "{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"field-id\":519}]}";
}

void iceberg_partition_spec_json(const iceberg_partition_field *fields, size_t n, buf *out)
{
    buf_puts(out, "[");
    for (size_t i = 0; i < n; i++) {
        buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        buf_json_string(out, fields[i].name);
        buf_printf(out, ",\"transform\":\"identity\",\"source-id\":%d,\"field-id\":%d}", (int)fields[i].source_id,
                   (int)fields[i].field_id);
    }
    buf_puts(out, "]");
}
