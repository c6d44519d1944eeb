/* silver_pair: one destination table's pair of silver Iceberg tables (the current state and the
 * SCD2 history, see silver_sink.h): their schemas derived from the source table's columns,
 * each change applied to both (row keys, unchanged TOAST values filled from the live row's
 * image, position deletes of replaced rows, closed history versions), and their commits.
 *
 * Columns (silver_layout.h): a new table gets the source columns with field ids 1..n
 * (primary-key columns required and, in the current table, the identifier fields; every other
 * column optional), the history table then valid_from, valid_to, is_current, op, lsn, txid.
 * When the source's columns change, the batch written so far is committed and both tables'
 * schemas evolve (new columns, promoted types, dropped columns kept optional); a change Iceberg
 * cannot follow is an error. Types: silver_value.h.
 *
 * Ownership: the env and everything it points to are borrowed and must outlive the pair; the
 * table definition is read during the calls only (names are copied). Errors: -1 with the
 * reason in err. */
#ifndef SLUICE_SINKS_LAKE_SILVER_PAIR_H
#define SLUICE_SINKS_LAKE_SILVER_PAIR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "objstore/objstore.h"
#include "pipeline/event.h"
#include "sinks/lake/iceberg_catalog.h"
#include "sinks/lake/parquet_writer.h"
#include "sinks/lake/silver_mark.h"
#include "sinks/lake/silver_state.h"

/* What the pairs did, for metrics (summed over pairs). */
typedef struct silver_counters {
    uint64_t rows;           /* rows appended to data files */
    uint64_t deletes;        /* position deletes */
    uint64_t skipped;        /* changes at or below a table's watermark (replays) */
    uint64_t lossy;          /* values with no representation in their column type, written as null */
    uint64_t toast_filled;   /* unchanged TOASTed values taken from the live row */
    uint64_t toast_missing;  /* unchanged TOASTed values with no live row to take them from (null) */
    uint64_t conflicts;      /* commits retried because another writer committed first */
} silver_counters;

typedef struct silver_pair_env {
    objstore *os;
    iceberg_catalog *catalog;
    silver_state *st;
    const char *source;          /* silver/<source>/<ns>/<table> */
    const char *writer;          /* this appliance's name in snapshot summaries (silver_table.h) */
    const char *base_uri;        /* the store's root as a URI, no trailing '/' */
    const char *spool_dir;
    parquet_options parquet;
    uint64_t file_bytes;
    int history;
    int retry_max_ms;
    volatile sig_atomic_t *stop;
    silver_counters *counters;
} silver_pair_env;

typedef struct silver_pair silver_pair;

/* The pair for destination ns.name with the columns of def, opening (creating) its tables.
 * NULL with err (also for a table without a primary key: see silver_pair_keyless). */
silver_pair *silver_pair_open(const silver_pair_env *env, const char *ns, const char *name, const table_def *def,
                              int64_t now_ms, char *err, size_t errlen);
void silver_pair_destroy(silver_pair *p);   /* accepts NULL; an uncommitted batch is dropped */

/* 1 when def has no primary key (silver needs one). */
int silver_pair_keyless(const table_def *def);

/* A primary-key change that arrives as two changes (from Kafka: Debezium's delete of the old key,
 * whose record carries __debezium.newkey, and create of the new key, carrying __debezium.oldkey,
 * in partitions read in no particular order). The delete leaves the old row's image in the index
 * for the create, which takes its unchanged TOASTed values from it. */
typedef struct silver_move {
    int from;                  /* this delete is the old key's half */
    const value *to_old_key;   /* this create is the new key's half: a key-only image of the old key */
} silver_move;

/* Apply one change (pos: where it comes from, silver_mark.h; mv: NULL, or its half of a key
 * change). Changes a table already holds are skipped. A truncate commits the open batch first.
 * 0, -1, or 1 when mv's create needs the old row's image and the old key's delete has not been
 * applied yet: nothing was applied; hand the create over again after that delete. */
int silver_pair_change(silver_pair *p, const event *ev, const silver_pos *pos, const silver_move *mv, int64_t now_ms,
                       char *err, size_t errlen);

/* Commit both tables' batches (up to the last change applied). 0 or -1. */
int silver_pair_commit(silver_pair *p, int64_t now_ms, char *err, size_t errlen);

/* Bytes in the open batches (0: nothing to commit). */
uint64_t silver_pair_batch_bytes(const silver_pair *p);
/* 1 when either table has uncommitted changes. */
int silver_pair_dirty(const silver_pair *p);

#endif
