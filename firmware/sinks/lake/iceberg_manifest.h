/* iceberg_manifest: Iceberg format v2 manifest files and manifest lists, written as Avro object
 * containers (avro_ocf) with the Iceberg header keys and field ids. A manifest lists data or
 * delete files (manifest_entry: status, snapshot and sequence numbers, data_file with partition
 * tuple and per-column statistics keyed by field id); closing it yields its manifest_file
 * summary (counts, sequence numbers, partition field summaries) for the manifest list, which
 * lists the manifests of one snapshot. Implemented in iceberg_manifest.c (manifests) and
 * iceberg_manifest_list.c (manifest lists).
 *
 * Ownership: writers copy what they keep (path, schema, partition spec); entries, data files
 * and statistics are read during the add call only; the outputs (and their ctx) are borrowed
 * until destroy. The manifest_file filled by iceberg_manifest_writer_close points into the
 * writer: valid until iceberg_manifest_writer_destroy.
 * Errors: 0/-1 with the reason in the caller's err. A refused entry leaves the writer usable;
 * an output failure makes it failed. */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_MANIFEST_H
#define SLUICE_SINKS_LAKE_ICEBERG_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/lake/avro_ocf.h"
#include "sinks/lake/iceberg_manifest_schema.h"
#include "sinks/lake/iceberg_value.h"

/* data_file.content */
typedef enum iceberg_content {
    ICEBERG_CONTENT_DATA = 0,
    ICEBERG_CONTENT_POSITION_DELETES = 1,
    ICEBERG_CONTENT_EQUALITY_DELETES = 2,
} iceberg_content;

/* The files a manifest tracks (header "content", manifest_file.content). */
typedef enum iceberg_manifest_content {
    ICEBERG_MANIFEST_DATA = 0,
    ICEBERG_MANIFEST_DELETES = 1,
} iceberg_manifest_content;

/* manifest_entry.status */
typedef enum iceberg_entry_status {
    ICEBERG_STATUS_EXISTING = 0,
    ICEBERG_STATUS_ADDED = 1,
    ICEBERG_STATUS_DELETED = 2,
} iceberg_entry_status;

/* One column's statistics in a data file, keyed by the column's field id (what the Parquet
 * writer reports per column). Each has_* says whether the value goes into its map; bounds are
 * Appendix D bytes (iceberg_value_serialize), an empty string's bound being 0 bytes. */
typedef struct iceberg_column_stats {
    int32_t field_id;
    bool has_column_size;
    int64_t column_size;        /* column_sizes: bytes on disk of all the column's regions */
    bool has_value_count;
    int64_t value_count;        /* value_counts: values including nulls and NaNs */
    bool has_null_count;
    int64_t null_count;         /* null_value_counts */
    bool has_nan_count;
    int64_t nan_count;          /* nan_value_counts (float and double columns) */
    bool has_lower;
    const void *lower;          /* lower_bounds */
    size_t lower_len;
    bool has_upper;
    const void *upper;          /* upper_bounds */
    size_t upper_len;
} iceberg_column_stats;

/* A data or delete file (data_file). Optional fields are left out (written as null) when
 * their pointer is NULL / has_* is false. */
typedef struct iceberg_data_file {
    iceberg_content content;
    const char *file_path;             /* full URI with the scheme */
    const char *file_format;           /* NULL: "PARQUET" */
    const iceberg_value *partition;    /* one value per partition field, in spec order (may be null values) */
    size_t npartition;
    int64_t record_count;
    int64_t file_size_in_bytes;
    const iceberg_column_stats *columns;   /* the maps' entries, in this order; field ids unique */
    size_t ncolumns;
    const void *key_metadata;
    size_t key_metadata_len;
    const int64_t *split_offsets;      /* ascending */
    size_t nsplit_offsets;
    const int32_t *equality_ids;       /* required for equality deletes, NULL otherwise */
    size_t nequality_ids;
    bool has_sort_order_id;
    int32_t sort_order_id;
    const char *referenced_data_file;  /* position deletes against a single data file */
} iceberg_data_file;

/* A manifest_entry. New files: status ADDED with snapshot id and sequence numbers left to be
 * inherited (has_* false). EXISTING and DELETED entries must carry both sequence numbers. */
typedef struct iceberg_manifest_entry {
    iceberg_entry_status status;
    bool has_snapshot_id;
    int64_t snapshot_id;
    bool has_sequence_number;
    int64_t sequence_number;
    bool has_file_sequence_number;
    int64_t file_sequence_number;
    const iceberg_data_file *file;
} iceberg_manifest_entry;

/* One partition field's summary in a manifest_file (field_summary); bounds in Appendix D bytes. */
typedef struct iceberg_field_summary {
    bool contains_null;
    bool has_contains_nan;
    bool contains_nan;
    bool has_lower;
    const void *lower;
    size_t lower_len;
    bool has_upper;
    const void *upper;
    size_t upper_len;
} iceberg_field_summary;

/* A manifest_file record of a manifest list. has_sequence_number / has_min_sequence_number
 * false: a manifest new in this snapshot, whose numbers are the snapshot's sequence number
 * (assigned when the list is written, so a manifest can be reused across commit retries). */
typedef struct iceberg_manifest_file {
    const char *manifest_path;
    int64_t manifest_length;
    int32_t partition_spec_id;
    iceberg_manifest_content content;
    bool has_sequence_number;
    int64_t sequence_number;
    bool has_min_sequence_number;
    int64_t min_sequence_number;
    int64_t added_snapshot_id;
    int32_t added_files_count, existing_files_count, deleted_files_count;
    int64_t added_rows_count, existing_rows_count, deleted_rows_count;
    const iceberg_field_summary *partitions;   /* one per partition field; none for unpartitioned */
    size_t npartitions;
    const void *key_metadata;
    size_t key_metadata_len;
} iceberg_manifest_file;

/* ---- manifests ---- */

typedef struct iceberg_manifest_options {
    const char *path;                  /* the manifest's location: manifest_path in the summary */
    const char *schema_json;           /* the table schema as JSON (header "schema") */
    int32_t schema_id;
    int32_t partition_spec_id;
    const iceberg_partition_field *partition_fields;   /* identity fields; none: unpartitioned */
    size_t npartition_fields;
    iceberg_manifest_content content;
    int64_t snapshot_id;               /* the snapshot adding the manifest (added_snapshot_id) */
    avro_ocf_codec codec;
    size_t block_bytes;                /* 0: avro_ocf's default */
    const uint8_t *sync;               /* 16 bytes; NULL: random */
} iceberg_manifest_options;

typedef struct iceberg_manifest_writer iceberg_manifest_writer;

/* A manifest writer into out; writes the Avro header (schema, schema-id, partition-spec,
 * partition-spec-id, format-version "2", content). NULL with the reason in err. */
iceberg_manifest_writer *iceberg_manifest_writer_create(const iceberg_manifest_options *opt,
                                                        const byte_output *out, char *err, size_t errlen);

/* Add one entry (checked: status, content against the manifest's, partition values against
 * the spec, unique stat field ids, sequence numbers of existing/deleted entries). 0 or -1. */
int iceberg_manifest_writer_add(iceberg_manifest_writer *w, const iceberg_manifest_entry *e, char *err,
                                size_t errlen);

/* Finish the file and fill *summary (when set) with its manifest_file record: length, counts,
 * min sequence number of the live entries that carry one, partition summaries. 0 or -1. */
int iceberg_manifest_writer_close(iceberg_manifest_writer *w, iceberg_manifest_file *summary, char *err,
                                  size_t errlen);

void iceberg_manifest_writer_destroy(iceberg_manifest_writer *w);   /* accepts NULL */

/* ---- manifest lists ---- */

typedef struct iceberg_manifest_list_options {
    int64_t snapshot_id;
    bool has_parent_snapshot_id;       /* false: header "parent-snapshot-id" is "null" */
    int64_t parent_snapshot_id;
    int64_t sequence_number;           /* the snapshot's (optimistic) sequence number */
    avro_ocf_codec codec;
    size_t block_bytes;
    const uint8_t *sync;
} iceberg_manifest_list_options;

typedef struct iceberg_manifest_list_writer iceberg_manifest_list_writer;

/* A manifest list writer into out; writes the header (snapshot-id, parent-snapshot-id,
 * sequence-number, format-version "2"). NULL with the reason in err. */
iceberg_manifest_list_writer *iceberg_manifest_list_writer_create(const iceberg_manifest_list_options *opt,
                                                                  const byte_output *out, char *err,
                                                                  size_t errlen);

/* Add one manifest. Unassigned sequence numbers become the list's; that is only allowed for a
 * manifest added by this snapshot. 0 or -1 with the reason. */
int iceberg_manifest_list_writer_add(iceberg_manifest_list_writer *w, const iceberg_manifest_file *m, char *err,
                                     size_t errlen);

/* Finish the file; *bytes (when set) gets its size. 0 or -1. */
int iceberg_manifest_list_writer_close(iceberg_manifest_list_writer *w, uint64_t *bytes, char *err, size_t errlen);

void iceberg_manifest_list_writer_destroy(iceberg_manifest_list_writer *w);   /* accepts NULL */

#endif
