/* silver_sink: the silver layer writer. Each destination table (a captured "schema.table", or
 * the table a rule routed its events to) becomes a pair of Iceberg tables under
 * silver/<source>/<namespace>/ in the lake, registered in the catalog as <namespace>.<table>:
 *   <table>          the current state: one row per primary key, equal to the source table.
 *                    Updates and deletes are merge-on-read: the replaced row's position goes
 *                    into a position-delete file (the writer indexes where each key's live row
 *                    is, silver_state.h); the primary key columns are the identifier fields.
 *   <table>_history  SCD Type 2: every version of every row, with valid_from (the change's
 *                    commit time), valid_to (the next version's, null while current),
 *                    is_current, op (c, u, r; d for the row a delete leaves, whose valid_from
 *                    and valid_to are the delete's time), lsn and txid. Closing a version
 *                    rewrites it (position delete + the closed copy), so readers see it closed.
 * A primary-key change is a delete of the old key and a create of the new one (as Debezium
 * emits it). A truncate deletes every row (history: op t for the rows it leaves). Unchanged
 * TOASTed values are taken from the row's current image, never written as placeholders.
 * Tables without a primary key are skipped (logged once, counted).
 *
 * Batches commit per table pair every silver.commit_interval or at silver.commit_size, at a
 * transaction boundary (a transaction larger than commit_size commits in parts), and at a
 * waiting flush; each commit is one snapshot per table whose summary carries the position of
 * its last change, so a replay skips what a table already holds. A transaction is acknowledged
 * once every pair's batches holding any of its changes are committed. Commits run on the
 * capture thread, retried with backoff while the store or catalog fails (nothing is confirmed
 * meanwhile).
 *
 * Ownership: options' strings are copied; the deps are borrowed and must outlive the sink (the
 * object store is used by this sink only). */
#ifndef SLUICE_SINKS_LAKE_SILVER_SINK_H
#define SLUICE_SINKS_LAKE_SILVER_SINK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/health.h"
#include "core/metrics.h"
#include "objstore/objstore.h"
#include "pipeline/ack.h"
#include "pipeline/sink.h"
#include "sinks/lake/iceberg_catalog.h"
#include "sinks/lake/parquet_codec.h"
#include "sinks/lake/silver_mark.h"
#include "sinks/lake/silver_pair.h"

typedef struct silver_sink_options {
    const char *source;           /* lake.source_name: silver/<source>/... */
    const char *writer;           /* names this appliance's snapshots ("<database>/<slot>"), so that
                                   * appliances can share tables (silver_table.h) */
    const char *state_path;       /* the live-row index database (silver.db) */
    const char *spool_dir;        /* open data files; created if missing */
    int64_t commit_interval_ms;
    uint64_t commit_bytes;        /* a pair's batch commits at this many bytes of data files */
    uint64_t file_bytes;          /* data files roll at this size */
    uint64_t row_group_bytes;
    parquet_compression compression;
    int history;                  /* write <table>_history */
    int retry_max_ms;             /* cap of the commit retry backoff; 0 = 30 s */
} silver_sink_options;

typedef struct silver_sink_deps {
    objstore *objects;            /* this sink's own store handle */
    iceberg_catalog *catalog;
    ack_tracker *ack;             /* NULL for the Kafka feed */
    size_t ack_index;
    metrics *metrics;             /* may be NULL */
    health *health;               /* component "silver"; may be NULL */
    volatile sig_atomic_t *stop;
} silver_sink_deps;

/* Fill *out with the sink. 0, or -1 with the reason in err. Free with out->ops->destroy. */
int silver_sink_create(const silver_sink_options *o, const silver_sink_deps *d, sink *out, char *err,
                       size_t errlen);

/* ---- the Kafka feed (silver_consumer.h) ------------------------------------------------------------
 * The same writer fed record by record: each change is positioned by its Kafka record (topic,
 * partition, offset; silver_mark.h), there are no transactions, and acknowledgement is the
 * caller's (Kafka offsets, committed after silver_sink_commit_all). */
typedef struct silver_sink silver_sink;

/* NULL with the reason in err. Free with silver_sink_close (uncommitted batches are dropped). */
silver_sink *silver_sink_open(const silver_sink_options *o, const silver_sink_deps *d, char *err, size_t errlen);
void silver_sink_close(silver_sink *s);   /* accepts NULL */
/* One change event decoded from the Kafka record at pos (mv: its half of a key change, or NULL).
 * 0, -1 (a table refused it), or 1: a key change's create waits for its old key's delete
 * (silver_pair_change); nothing was applied. */
int silver_sink_record(silver_sink *s, const event *ev, const silver_pos *pos, const silver_move *mv, char *err,
                       size_t errlen);
/* 1 when some batch has been open for commit_interval, or when no batch is open (the changes
 * handed over since the last commit were all skipped, or committed at commit_size). */
int silver_sink_due(const silver_sink *s);
/* Commit every open batch: then every change handed over is in committed snapshots. 0 or -1. */
int silver_sink_commit_all(silver_sink *s, char *err, size_t errlen);

#endif
