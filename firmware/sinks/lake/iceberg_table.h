/* iceberg_table: creating an Iceberg v2 table and committing snapshots to it, through the
 * object store (metadata files, manifests, manifest lists) and a catalog (the commit). A commit
 * adds data files and/or position-delete files (merge-on-read: the deletes may target rows of
 * older data files and of data files added by the same commit, whose data sequence number is
 * the same). It writes one data manifest (content 0) of the new data files and one delete
 * manifest (content 1) of the new delete files, a manifest list of those then the current
 * snapshot's manifests (data and delete ones), and metadata/v<N+1>.metadata.json (created only
 * if absent), then swaps the catalog's location from the one it started from to the new file.
 * On a conflict (the catalog moved on, or another writer took v<N+1>), e.g. another appliance
 * committing to the same table through a shared catalog, it sleeps a short jittered backoff,
 * reloads the table and retries, reusing its manifests (the snapshot id stays, sequence numbers
 * are assigned by the list). After a commit metadata/version-hint.text is rewritten for readers
 * that open the table by path. A schema change is committed the same way, as a metadata file
 * without a new snapshot. Names follow Iceberg's writers: <uuid>-m0.avro (data),
 * <uuid>-m1.avro (deletes), snap-<snapshot id>-<attempt>-<uuid>.avro.
 *
 * Ownership: the ref's store, catalog and strings are borrowed during each call; files, their
 * statistics and the commit description are read during the call only. Errors: -1 with the
 * reason in err; objects written by a failed attempt are left as unreferenced garbage (never
 * visible to readers). */
#ifndef SLUICE_SINKS_LAKE_ICEBERG_TABLE_H
#define SLUICE_SINKS_LAKE_ICEBERG_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "objstore/objstore.h"
#include "sinks/lake/iceberg_catalog.h"
#include "sinks/lake/iceberg_metadata.h"
#include "sinks/lake/iceberg_parquet.h"

/* Where a table lives. location and key_prefix name the same place: its URI (as written into
 * metadata, e.g. "file:///var/lib/sluice/lake/silver/shop/orders") and its key in os
 * ("silver/shop/orders"; "" for the store's root). */
typedef struct iceberg_table_ref {
    objstore *os;
    const char *location;
    const char *key_prefix;
    iceberg_catalog *catalog;
    iceberg_table_ident ident;
} iceberg_table_ref;

/* One Parquet file to add (already stored): a data file, or a position-delete file (columns
 * file_path string, field id 2147483546, and pos long, field id 2147483545, rows sorted by
 * file_path then pos; record_count is its number of positions). */
typedef struct iceberg_append_file {
    const char *path;                  /* full URI */
    int64_t record_count;
    int64_t file_size;
    const iceberg_file_stats *stats;   /* NULL: no column statistics */
    const char *referenced_data_file;  /* position deletes all against this one data file; NULL otherwise */
} iceberg_append_file;

/* What one commit adds, as one snapshot: operation "append" (data files only), "overwrite"
 * (data and delete files) or "delete" (delete files only). */
typedef struct iceberg_commit_files {
    int64_t snapshot_id;                   /* chosen by the caller (so it can record it before
                                              committing and look for it after a crash); 0: random */
    const iceberg_append_file *data;
    size_t ndata;
    const iceberg_append_file *deletes;    /* position-delete files */
    size_t ndeletes;
    const char *lsn;                       /* summary "sluice.lsn" (NULL: none) */
    const char *const *summary;            /* extra summary pairs key, value, ... (e.g. "sluice.seq") */
    size_t nsummary;                       /* number of pairs */
} iceberg_commit_files;

/* What a commit did. */
typedef struct iceberg_commit_result {
    char metadata_location[1024];
    int version;                       /* N of metadata/vN.metadata.json */
    int64_t snapshot_id;               /* commits; schema changes: the current snapshot's (0: none) */
    int64_t sequence_number;
    int attempts;                      /* 1 without conflicts */
} iceberg_commit_result;

/* Attempts of a commit before it gives up on conflicts; between two, a random sleep of
 * 10 ms plus up to 40 ms * 2^attempt (capped at 2 s). */
#define ICEBERG_TABLE_COMMIT_ATTEMPTS 10

/* Create the table: metadata/v1.metadata.json (no snapshot) and the catalog row. Fails when
 * the catalog already has the table. res may be NULL. 0 or -1. */
int iceberg_table_create(const iceberg_table_ref *t, const iceberg_table_spec *spec, int64_t now_ms,
                         iceberg_commit_result *res, char *err, size_t errlen);

/* Commit c as one snapshot (at least one file; a snapshot id already in the table is refused).
 * res may be NULL. 0, or -1 (also after ICEBERG_TABLE_COMMIT_ATTEMPTS conflicts). */
int iceberg_table_commit(const iceberg_table_ref *t, const iceberg_commit_files *c, int64_t now_ms,
                         iceberg_commit_result *res, char *err, size_t errlen);

/* Append n data files as one snapshot (iceberg_table_commit with data files only, a random
 * snapshot id, summary "sluice.lsn" = lsn when not NULL). 0 or -1. */
int iceberg_table_append(const iceberg_table_ref *t, const iceberg_append_file *files, size_t n, const char *lsn,
                         int64_t now_ms, iceberg_commit_result *res, char *err, size_t errlen);

/* Make fields the table's current schema (iceberg_metadata_set_schema's rules; a refused change
 * writes nothing). When that changes the metadata, writes the next metadata file (metadata-log
 * entry for the one it replaces, last-updated-ms now_ms, no new snapshot) and swaps the catalog,
 * retrying on conflicts like a commit: reload, apply again; a reloaded table that already has
 * the schema as current is done. When nothing changes nothing is written: res's location is the
 * current file and version its N (0 when its name is not vN.metadata.json). res->snapshot_id is
 * the current snapshot's (0: none), sequence_number the table's last one. res may be NULL.
 * 0, or -1 (also after ICEBERG_TABLE_COMMIT_ATTEMPTS conflicts). */
int iceberg_table_set_schema(const iceberg_table_ref *t, const iceberg_schema_field *fields, size_t n,
                             int64_t now_ms, iceberg_commit_result *res, char *err, size_t errlen);

/* Load the table's current metadata through the catalog (and its location into *location,
 * malloc'd, when location is not NULL). NULL with err. */
iceberg_metadata *iceberg_table_load(const iceberg_table_ref *t, char **location, char *err, size_t errlen);

#endif
