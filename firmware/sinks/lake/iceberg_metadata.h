/* iceberg_metadata: an Iceberg format v2 table metadata file (metadata/vN.metadata.json), built
 * and parsed with jansson: a new table (one schema with field ids and optional identifier
 * fields, the unpartitioned spec 0, the unsorted order 0), and adding a snapshot to it
 * (snapshots, refs.main, snapshot-log, metadata-log, last-sequence-number, the summary: the
 * operation, added and total counts of data files, records, bytes, delete files and position
 * deletes, Sluice's "sluice.lsn" watermark and the caller's own pairs). Parsing reads back what a
 * commit and a writer need: the current snapshot, its totals and summary values, whether a
 * snapshot id is in the table, the last sequence number, the current schema (as JSON, or as
 * its top-level fields) and the last column id. Schema evolution: making a list of top-level
 * fields the current schema (a new entry in schemas, or an earlier one again) under the spec's
 * evolution rules (add optional columns, drop, rename, reorder, safe type promotions).
 *
 * Ownership: an iceberg_metadata owns its JSON tree; create/parse copy their inputs; strings
 * returned by getters point into the metadata and are valid until the next change or destroy.
 * iceberg_metadata_dump returns malloc'd text and iceberg_metadata_schema_fields one malloc'd
 * block, both freed by the caller with free(). Errors: NULL / -1 with the reason in the
 * caller's err. */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_METADATA_H
#define SLUICE_SINKS_LAKE_ICEBERG_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* One top-level column of the table schema. type is the Iceberg type text: "long", "string",
 * "decimal(10,2)", "fixed[16]", "timestamptz", ... (a struct, list or map: its JSON). Field ids
 * are 1..ICEBERG_MAX_FIELD_ID; identifier fields must be required and not float or double. */
#define ICEBERG_MAX_FIELD_ID 2147483447   /* higher ids are reserved for metadata columns */

typedef struct iceberg_schema_field {
    int32_t id;
    const char *name;
    bool required;
    const char *type;
    bool identifier;   /* part of identifier-field-ids (must then be required) */
} iceberg_schema_field;

/* The table a new metadata file describes. */
typedef struct iceberg_table_spec {
    const char *location;        /* the table's base URI, no trailing '/': "file:///lake/db/t" */
    const char *table_uuid;      /* NULL: a random UUID */
    const iceberg_schema_field *fields;
    size_t nfields;
    const char *const *properties;   /* key, value, key, value ... (may be NULL) */
    size_t nproperties;              /* number of pairs */
} iceberg_table_spec;

/* What a new snapshot adds: data files and position-delete files (counts, records, bytes). */
typedef struct iceberg_snapshot_add {
    int64_t snapshot_id;
    const char *manifest_list;   /* its full URI */
    const char *operation;       /* NULL: "append" without delete files, "delete" without data files,
                                    "overwrite" with both; else "append", "overwrite", "delete" or "replace" */
    int64_t added_data_files;
    int64_t added_records;       /* rows of the added data files */
    int64_t added_files_size;    /* bytes of the added data and delete files */
    int64_t added_position_delete_files;
    int64_t added_position_deletes;   /* rows of the added position-delete files */
    const char *lsn;             /* Sluice's committed LSN watermark (summary "sluice.lsn"); NULL: none */
    const char *const *summary;  /* extra summary pairs: key, value, key, value ... (may be NULL); a key
                                    the summary already has is refused */
    size_t nsummary;             /* number of pairs */
} iceberg_snapshot_add;

/* The current snapshot as parsed. Totals absent from its summary read as 0. */
typedef struct iceberg_snapshot_info {
    int64_t snapshot_id;
    bool has_parent;
    int64_t parent_snapshot_id;
    int64_t sequence_number;
    int64_t timestamp_ms;
    const char *manifest_list;
    const char *operation;       /* NULL when the summary has none */
    int64_t total_records, total_data_files, total_files_size;
    int64_t total_delete_files, total_position_deletes, total_equality_deletes;
    const char *lsn;             /* NULL when the summary has no "sluice.lsn" */
} iceberg_snapshot_info;

typedef struct iceberg_metadata iceberg_metadata;

/* Metadata of a new table with no snapshot (last-sequence-number 0). NULL with err. */
iceberg_metadata *iceberg_metadata_create(const iceberg_table_spec *spec, int64_t now_ms, char *err,
                                          size_t errlen);

/* Parse a metadata file (format version 2 only). NULL with err. */
iceberg_metadata *iceberg_metadata_parse(const char *json, size_t len, char *err, size_t errlen);

void iceberg_metadata_destroy(iceberg_metadata *m);   /* accepts NULL */

/* Add a snapshot as the current one (parent: the previous current snapshot; sequence number:
 * last-sequence-number + 1; summary totals: the parent's plus what it adds, a total the parent
 * lacks counting as 0), and record the metadata file this one replaces (previous_location, NULL
 * for none) in metadata-log. Refused: a snapshot id already in the table, negative counts, an
 * unknown operation or one that does not match (an "append" with delete files), a summary key
 * given twice. 0 or -1. */
int iceberg_metadata_add_snapshot(iceberg_metadata *m, const iceberg_snapshot_add *add,
                                  const char *previous_location, int64_t now_ms, char *err, size_t errlen);

/* The current snapshot: 1 (filled), 0 (none), -1 (malformed, err). */
int iceberg_metadata_current_snapshot(const iceberg_metadata *m, iceberg_snapshot_info *out, char *err,
                                      size_t errlen);

/* 1 when a snapshot with this id is in the table (current or not), 0 otherwise. */
int iceberg_metadata_has_snapshot(const iceberg_metadata *m, int64_t snapshot_id);

/* 1 when snapshot_id is the current snapshot or one of its ancestors (through parent ids), 0
 * when not (or the table has no snapshot). */
int iceberg_metadata_is_ancestor(const iceberg_metadata *m, int64_t snapshot_id);

/* 1 when some snapshot's summary has key = value (e.g. an appliance's "sluice.appliance"), else 0. */
int iceberg_metadata_any_snapshot_with(const iceberg_metadata *m, const char *key, const char *value);

/* Snapshot snapshot_id's summary value for key; NULL when absent or no such snapshot. */
const char *iceberg_metadata_snapshot_summary_get(const iceberg_metadata *m, int64_t snapshot_id, const char *key);

/* The current snapshot's summary value of key (e.g. "sluice.lsn", "total-records"); NULL when
 * the table has no snapshot or the summary lacks the key (or it is not a string). */
const char *iceberg_metadata_summary_get(const iceberg_metadata *m, const char *key);

/* The current schema's top-level fields, in schema order, for writers that map their columns to
 * the table's field ids: *fields is one malloc'd block holding the array and its strings (free
 * it with free(); NULL when *n is 0). type is the Iceberg type text for a primitive ("long",
 * "decimal(10,2)") and the type's compact JSON for a struct, list or map; identifier: listed in
 * identifier-field-ids. 0 or -1 (no current schema, a malformed field, out of memory). */
int iceberg_metadata_schema_fields(const iceberg_metadata *m, iceberg_schema_field **fields, size_t *n, char *err,
                                   size_t errlen);

/* Make fields (at least one) the table's current schema, checked against the current one with
 * Iceberg's evolution rules: a field whose id is in the current schema keeps it and may be renamed,
 * reordered, go from required to optional and change type only by a safe promotion (int to long,
 * float to double, decimal(P,S) to decimal(P',S) with P' > P); a new field has an id above
 * last-column-id, is optional and of a primitive type; a field dropped earlier (an id at or below
 * last-column-id that an older schema has) may come back optional, as it was, with its old type
 * or a promotion of it; fields of the current schema left out are dropped. Ids and names are
 * unique; identifier fields (identifier-field-ids) are required and not float or double.
 * Fields equal to the current schema's (ids, names, types, required, identifier flags, order;
 * "decimal(10, 2)" equals "decimal(10,2)"): nothing changes. Equal to an older schema in schemas:
 * that one becomes current again. Otherwise a new schema (schema-id: the highest + 1) is added
 * and made current, fields kept from the current schema keep their other attributes ("doc"), and
 * last-column-id becomes the highest id assigned. So current-schema-id changes exactly when the
 * call changed something. last-updated-ms and metadata-log are left to the writer of the new file
 * (iceberg_metadata_log_previous). 0, or -1 with the reason (naming the column) and m unchanged. */
int iceberg_metadata_set_schema(iceberg_metadata *m, const iceberg_schema_field *fields, size_t n, char *err,
                                size_t errlen);

/* For a metadata file written without a new snapshot (a schema change): record the file this one
 * replaces (previous_location, NULL for none) in metadata-log, stamped with its last-updated-ms,
 * and set last-updated-ms to now_ms (never going back). 0 or -1 (out of memory). */
int iceberg_metadata_log_previous(iceberg_metadata *m, const char *previous_location, int64_t now_ms, char *err,
                                  size_t errlen);

/* The highest field id assigned in the table (last-column-id). */
int32_t iceberg_metadata_last_column_id(const iceberg_metadata *m);

int64_t iceberg_metadata_last_sequence_number(const iceberg_metadata *m);
int32_t iceberg_metadata_current_schema_id(const iceberg_metadata *m);
int iceberg_metadata_schema_count(const iceberg_metadata *m);   /* entries in schemas */
int iceberg_metadata_snapshot_count(const iceberg_metadata *m);
const char *iceberg_metadata_location(const iceberg_metadata *m);
const char *iceberg_metadata_table_uuid(const iceberg_metadata *m);

/* Append the current schema's JSON (as manifests' "schema" header wants it). 0 or -1. */
int iceberg_metadata_schema_json(const iceberg_metadata *m, buf *out, char *err, size_t errlen);

/* The whole metadata file as JSON text (malloc'd), NULL on out-of-memory. */
char *iceberg_metadata_dump(const iceberg_metadata *m);

/* A random (version 4) UUID as text into out (37 bytes). 0 or -1. */
int iceberg_uuid_random(char out[37]);

#endif
