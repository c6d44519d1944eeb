/* iceberg_table: creating an Iceberg v2 table and appending data files to it, through the
 * object store (metadata files, manifests, manifest lists) and a catalog (the commit).
 * An append writes one manifest of the new files, a manifest list carrying over the current
 * snapshot's manifests, and metadata/v<N+1>.metadata.json (created only if absent), then swaps
 * the catalog's location from the one it started from to the new file. On a conflict (the
 * catalog moved on, or another writer took v<N+1>) it reloads the table and retries, reusing
 * its manifest (the snapshot id stays, sequence numbers are assigned by the list). After a
 * commit metadata/version-hint.text is rewritten for readers that open the table by path.
 * Names follow Iceberg's writers: <uuid>-m0.avro, snap-<snapshot id>-<attempt>-<uuid>.avro.
 *
 * Ownership: the ref's store, catalog and strings are borrowed during each call; files and their
 * statistics are read during the call only. Errors: -1 with the reason in err; objects written
 * by a failed attempt are left as unreferenced garbage (never visible to readers). */
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

/* One Parquet data file to add (already stored). */
typedef struct iceberg_append_file {
    const char *path;                  /* full URI */
    int64_t record_count;
    int64_t file_size;
    const iceberg_file_stats *stats;   /* NULL: no column statistics */
} iceberg_append_file;

/* What a commit did. */
typedef struct iceberg_commit_result {
    char metadata_location[1024];
    int version;                       /* N of metadata/vN.metadata.json */
    int64_t snapshot_id;               /* appends */
    int64_t sequence_number;
    int attempts;                      /* 1 without conflicts */
} iceberg_commit_result;

#define ICEBERG_TABLE_COMMIT_ATTEMPTS 5

/* Create the table: metadata/v1.metadata.json (no snapshot) and the catalog row. Fails when
 * the catalog already has the table. res may be NULL. 0 or -1. */
int iceberg_table_create(const iceberg_table_ref *t, const iceberg_table_spec *spec, int64_t now_ms,
                         iceberg_commit_result *res, char *err, size_t errlen);

/* Append n data files as one snapshot (operation append; summary "sluice.lsn" = lsn when not
 * NULL). res may be NULL. 0, or -1 (also after ICEBERG_TABLE_COMMIT_ATTEMPTS conflicts). */
int iceberg_table_append(const iceberg_table_ref *t, const iceberg_append_file *files, size_t n, const char *lsn,
                         int64_t now_ms, iceberg_commit_result *res, char *err, size_t errlen);

/* Load the table's current metadata through the catalog (and its location into *location,
 * malloc'd, when location is not NULL). NULL with err. */
iceberg_metadata *iceberg_table_load(const iceberg_table_ref *t, char **location, char *err, size_t errlen);

#endif
