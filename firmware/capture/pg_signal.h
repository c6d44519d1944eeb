/* pg_signal: requests to a running capture that travel through the source's WAL, so the capture
 * sees them in order with the changes: an incremental snapshot request is a transactional logical
 * message (prefix "sluice.signal", Debezium's execute-snapshot content) that pg_incremental picks
 * up from the stream. Used by `sluice snapshot` and the console API. */
#ifndef SLUICE_CAPTURE_PG_SIGNAL_H
#define SLUICE_CAPTURE_PG_SIGNAL_H

#include <stddef.h>
#include <libpq-fe.h>

/* Check that table ([schema.]table) can be snapshotted incrementally: it exists, has a primary
 * key or replica identity index to read it in chunks, and publication (when non-NULL and
 * existing) captures it. 0, or -1 with the reason in err. */
int pg_signal_check_table(PGconn *c, const char *table, const char *publication, char *err,
                          size_t errlen);
/* Write one execute-snapshot signal for the n tables; lsn receives the message's LSN text.
 * 0, or -1 with the reason in err. */
int pg_signal_execute_snapshot(PGconn *c, const char *const *tables, size_t n, char lsn[32],
                               char *err, size_t errlen);

#endif
