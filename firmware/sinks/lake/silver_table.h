/* silver_table: one Iceberg table the silver writer maintains (a source table's current state,
 * or its SCD2 history), written in batches: rows go into Parquet data files (spooled locally,
 * uploaded when they roll at a size), replaced rows into a list of position deletes, and a
 * commit turns the batch into one snapshot (data files + one position-delete file) through the
 * catalog, two-phase with the live-row index in silver_state (silver_state.h). The snapshot's
 * summary carries the table's watermark, the position of the last change it holds (silver_mark.h:
 * "sluice.lsn" and "sluice.seq" for changes from the capture, "sluice.kafka.offsets" for changes
 * from Kafka): changes at or below it are already in the table, which makes replays after a crash
 * idempotent.
 *
 * Several writers (appliances capturing different sources, each with its own index and
 * watermark) may share a table through a shared catalog: each snapshot names its writer
 * ("sluice.appliance"), commits rebase on the others', and a writer's watermark is read from its own
 * last snapshot. Their rows must not share keys: each one's index knows only its own rows.
 * Opening a table creates it when the catalog lacks it, settles a commit a crash interrupted,
 * and refuses a table that no longer descends from the writer's last snapshot (rolled back,
 * expired), or that holds the writer's snapshots while its index is empty (silver.db lost).
 *
 * Ownership: options' strings and schema are copied; store, catalog and state are borrowed and
 * must outlive the table. Errors: -1 with the reason in err; a commit retries failed steps with
 * backoff until it succeeds or *stop is set. */
#ifndef SLUICE_SINKS_LAKE_SILVER_TABLE_H
#define SLUICE_SINKS_LAKE_SILVER_TABLE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "sinks/lake/bronze_state.h"
#include "sinks/lake/iceberg_table.h"
#include "sinks/lake/parquet_writer.h"
#include "sinks/lake/silver_mark.h"
#include "sinks/lake/silver_state.h"

typedef struct silver_table_options {
    objstore *os;
    iceberg_catalog *catalog;
    const char *ns, *name;              /* the catalog identifier */
    const char *writer;                 /* this writer's name in snapshot summaries */
    const char *location;               /* the table's URI ("file:///.../silver/src/public/orders") */
    const char *key_prefix;             /* its key in os ("silver/src/public/orders") */
    const iceberg_schema_field *fields; /* the schema; field ids and types must match columns */
    const parquet_column_def *columns;  /* the data files' columns, one per field, same order */
    size_t ncolumns;
    parquet_options parquet;            /* compression and sizes of data files */
    uint64_t file_bytes;                /* a data file is closed and uploaded at this size */
    const char *spool_dir;              /* where open data files are written */
    volatile sig_atomic_t *stop;        /* set when the writer must give up retrying */
    int retry_max_ms;                   /* longest wait between retries */
} silver_table_options;

typedef struct silver_table silver_table;

/* Open (creating if absent) the table o names. NULL with the reason in err. */
silver_table *silver_table_open(const silver_table_options *o, silver_state *st, int64_t now_ms, char *err,
                                size_t errlen);
void silver_table_destroy(silver_table *t);   /* accepts NULL; an uncommitted batch is dropped */

/* The table's id in silver_state, and its watermark (changes at or below it are in the table;
 * owned by the table, valid until the next commit). */
int64_t silver_table_state_id(const silver_table *t);
const silver_mark *silver_table_watermark(const silver_table *t);

/* Append a row (ncolumns values) to the batch; *file and *pos say where it went (for
 * silver_state rows and later position deletes). 0 or -1 (a refused row leaves the batch usable). */
int silver_table_row_append(silver_table *t, const parquet_value *row, int64_t *file, int64_t *pos, char *err,
                            size_t errlen);
/* Delete the row at pos of data file file (an id from silver_state) in this batch. 0 or -1. */
int silver_table_row_delete(silver_table *t, int64_t file, int64_t pos, char *err, size_t errlen);

/* Size of the open batch: bytes of its data files (written and buffered), rows and deletes. */
uint64_t silver_table_batch_bytes(const silver_table *t);
uint64_t silver_table_batch_changes(const silver_table *t);

/* Commit the batch as one snapshot whose watermark is the table's raised to upto (nothing to do
 * when the batch is empty: the watermark just moves). Retries failing steps until done or
 * *stop. 0 or -1. */
int silver_table_commit(silver_table *t, const silver_mark *upto, int64_t now_ms, char *err, size_t errlen);

/* Committed snapshots, and commits retried because another writer committed first (metrics). */
uint64_t silver_table_commits(const silver_table *t);
uint64_t silver_table_conflicts(const silver_table *t);

#endif
