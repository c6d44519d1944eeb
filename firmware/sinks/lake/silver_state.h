/* silver_state: what the silver writer knows about its Iceberg tables' live rows, in a SQLite
 * database of its own (state_dir/silver.db, one connection, the capture thread's): for each
 * table and row key, where the live row is (data file and position, for position deletes), the
 * row's image (silver_image, for unchanged TOASTed values and for closing SCD2 versions) and
 * writer-defined extra bytes (the history table's version columns).
 *
 * Committing a batch is two-phase, because the catalog (SQLite or PostgreSQL) is not this
 * database: the open batch's changes are kept apart from the committed rows (a generation of
 * rows, with the committed versions they replace saved for a rollback); before the catalog swap
 * the batch's snapshot id is recorded as pending (durably); after the swap the batch is applied
 * and the snapshot becomes the committed one. After a crash, silver_state_settle() decides from
 * the table itself: if the pending snapshot is in the table, the batch is applied; otherwise it
 * is dropped (the changes come again from the slot). So the committed rows always describe
 * exactly the table's current snapshot.
 *
 * Ownership: silver_state_close frees everything. A found row's image and extra point into the
 * state and are valid until the next call on it. Errors: -1 with SQLite's reason in err. */
#ifndef SLUICE_SINKS_LAKE_SILVER_STATE_H
#define SLUICE_SINKS_LAKE_SILVER_STATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct silver_state silver_state;

/* Open (creating) the database at path. NULL with the reason in err. */
silver_state *silver_state_open(const char *path, char *err, size_t errlen);
void silver_state_close(silver_state *s);   /* accepts NULL; an open batch is dropped */

/* A table's committed position. */
typedef struct silver_state_table {
    int64_t id;                 /* the table's id in this database */
    int64_t snapshot_id;        /* the Iceberg snapshot the committed rows describe (0: none yet) */
    int64_t pending_snapshot;   /* a commit in flight (0: none) */
} silver_state_table;

/* The table named name ("ns.table"), created on first use. 0 or -1. */
int silver_state_table_get(silver_state *s, const char *name, silver_state_table *out, char *err, size_t errlen);

/* A live row. */
typedef struct silver_state_row {
    int64_t file;               /* silver_state_file_add's id of its data file */
    int64_t pos;                /* its position in that file */
    const void *image;
    size_t image_len;
    const void *extra;
    size_t extra_len;
} silver_state_row;

/* The live row of key as the open batch sees it (its changes over the committed rows): 1 found
 * (out filled), 0 none, -1 error. tbl must come from silver_state_table_get. */
int silver_state_row_find(silver_state *s, int64_t tbl, const void *key, size_t keylen, silver_state_row *out,
                          char *err, size_t errlen);
/* Set or remove key's live row in the open batch. 0 or -1. */
int silver_state_row_put(silver_state *s, int64_t tbl, const void *key, size_t keylen, const silver_state_row *row,
                         char *err, size_t errlen);
int silver_state_row_remove(silver_state *s, int64_t tbl, const void *key, size_t keylen, char *err, size_t errlen);

/* Visit every committed live row of tbl (the open batch must have no changes: commit first).
 * fn returns 0 to go on; its non-zero value stops the walk and is returned. */
typedef int (*silver_state_row_fn)(void *arg, const void *key, size_t keylen, const silver_state_row *row);
int silver_state_rows_each(silver_state *s, int64_t tbl, silver_state_row_fn fn, void *arg, char *err,
                           size_t errlen);

/* Record a data file's URI; *id names it in rows. 0 or -1. */
int silver_state_file_add(silver_state *s, int64_t tbl, const char *path, int64_t *id, char *err, size_t errlen);
/* The URI of file id into out (outlen bytes). 0 or -1 (unknown id, too long). */
int silver_state_file_path(silver_state *s, int64_t id, char *out, size_t outlen, char *err, size_t errlen);

/* Make the open batch's changes durable so far (a SQLite commit; the batch itself stays open). */
int silver_state_sync(silver_state *s, char *err, size_t errlen);

/* Phase one: the batch of tbl is about to become snapshot_id (durable when this returns). */
int silver_state_pending_set(silver_state *s, int64_t tbl, int64_t snapshot_id, char *err, size_t errlen);
/* Phase two: the catalog has snapshot_id; apply tbl's batch and make snapshot_id committed. */
int silver_state_apply(silver_state *s, int64_t tbl, int64_t snapshot_id, char *err, size_t errlen);
/* Forget tbl's open batch (its changes and pending mark). */
int silver_state_discard(silver_state *s, int64_t tbl, char *err, size_t errlen);

/* After a restart: pending_committed tells whether t's pending snapshot made it into the table;
 * its batch is applied if so, else dropped (also when nothing was pending). 0 or -1. */
int silver_state_settle(silver_state *s, const silver_state_table *t, int pending_committed, char *err,
                        size_t errlen);

#endif
