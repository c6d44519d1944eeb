/* iceberg_manifest_schema: the Avro schemas (JSON text) of Iceberg format v2 manifests
 * (manifest_entry, its data_file and the partition struct of identity partition fields) and
 * manifest lists (manifest_file, field_summary), with Iceberg's field ids: field-id on record
 * fields (map keys and values included: maps are arrays of k<id>_v<id> records with logicalType
 * map) and element-id on lists. Also the partition-spec JSON for the manifest header.
 * Ownership: the caller's buf receives the text; fields are read during the call only. */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_MANIFEST_SCHEMA_H
#define SLUICE_SINKS_LAKE_ICEBERG_MANIFEST_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sinks/lake/iceberg_value.h"

/* One field of a partition spec with the identity transform: the partition value is the source
 * column's value, of the source column's type. */
typedef struct iceberg_partition_field {
    const char *name;      /* an Avro name: [A-Za-z_][A-Za-z0-9_]* */
    int32_t field_id;      /* the partition field id (1000, 1001, ... by convention) */
    int32_t source_id;     /* the table column's field id */
    iceberg_type type;     /* the source column's type */
    int precision, scale;  /* decimal only */
    int length;            /* fixed only */
} iceberg_partition_field;

/* Append the manifest_entry schema for a partition spec of these n fields (n 0: unpartitioned,
 * an empty partition struct). 0, or -1 with the reason (a bad name, id, type or decimal). */
int iceberg_manifest_entry_schema(const iceberg_partition_field *fields, size_t n, buf *out, char *err,
                                  size_t errlen);

/* The manifest_file schema of v2 manifest lists (static text). */
const char *iceberg_manifest_file_schema(void);

/* Append the manifest header's partition-spec value: the JSON array of the spec's fields,
 * [{"name":..., "transform":"identity", "source-id":..., "field-id":...}]. */
void iceberg_partition_spec_json(const iceberg_partition_field *fields, size_t n, buf *out);

/* Check the fields of a spec (names, unique ids and names, supported types, decimal precision,
 * fixed length). 0 or -1 with the reason. */
int iceberg_partition_fields_check(const iceberg_partition_field *fields, size_t n, char *err, size_t errlen);

#endif
