/* pg_snapshot: the initial snapshot. Inside the snapshot exported by slot creation (SET
 * TRANSACTION SNAPSHOT in a REPEATABLE READ transaction) reads every table of the publication in
 * primary-key order through a cursor, FETCHing a bounded number of rows at a time, and hands each
 * row to the handler as a READ event (op 'r', snapshot true; the very last row: SNAPSHOT_LAST),
 * inside one synthetic transaction (xid 0, final/end LSN = the slot's consistent point).
 * Table definitions come from the catalogs through the schema registry, so snapshot and stream
 * events share schema versions. Progress metrics: sluice_snapshot_rows_total{table},
 * sluice_snapshot_tables_done, sluice_snapshot_tables_total. */
#ifndef SLUICE_CAPTURE_PG_SNAPSHOT_H
#define SLUICE_CAPTURE_PG_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "capture/pg_decode.h"
#include "capture/pg_schema.h"
#include "core/metrics.h"

typedef struct pg_snapshot_options {
    const char *snapshot_name;   /* exported snapshot; NULL: a fresh REPEATABLE READ snapshot */
    uint64_t consistent_lsn;
    const char *publication;     /* tables to read: those in this publication */
    size_t fetch_rows;           /* rows per FETCH; 0 = 10000 */
} pg_snapshot_options;

/* Run the snapshot on c (a normal connection, pg_conn_open'd). m may be NULL. 0 or -1 + reason.
 * stop (may be NULL) is checked between batches: when it becomes non-zero the snapshot ends with
 * -1 and "interrupted". */
int pg_snapshot_run(PGconn *c, pg_schema *schema, const pg_snapshot_options *opts,
                    const pg_decode_handler *h, metrics *m, volatile int *stop, char *err,
                    size_t errlen);

#endif
