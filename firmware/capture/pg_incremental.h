/* pg_incremental: incremental snapshots of single tables while streaming continues, with the
 * watermark algorithm of DBLog (as Debezium does): for each chunk of a table, in primary-key
 * order, write a low watermark (a transactional logical message), read the chunk into memory,
 * write a high watermark. When the stream reaches the low watermark, keys of that table changed
 * in the stream are noted; at the high watermark, chunk rows whose key changed inside the window
 * are dropped (the streamed change wins) and the rest are emitted as READ events
 * (SNAPSHOT_INCREMENTAL) inside the watermark's transaction. Memory: one chunk.
 * Requests come from pg_incremental_request() or from a signal in the stream: a logical message
 * with prefix "sluice.signal" and content like Debezium's
 *   {"type":"execute-snapshot","data":{"data-collections":["public.orders"]}}
 * (`sluice snapshot TABLE` writes one).
 * Ownership: schema and metrics are borrowed. */
#ifndef SLUICE_CAPTURE_PG_INCREMENTAL_H
#define SLUICE_CAPTURE_PG_INCREMENTAL_H

#include <stddef.h>
#include <libpq-fe.h>
#include "capture/pg_decode.h"
#include "capture/pg_schema.h"
#include "core/metrics.h"

#define PG_INCREMENTAL_SIGNAL_PREFIX "sluice.signal"
#define PG_INCREMENTAL_WATERMARK_PREFIX "sluice.watermark"

typedef struct pg_incremental pg_incremental;

/* chunk_rows: rows per chunk (0 = 1024). m may be NULL. */
pg_incremental *pg_incremental_create(pg_schema *schema, size_t chunk_rows, metrics *m);
void pg_incremental_destroy(pg_incremental *inc);

/* Queue "schema.table" (or "table" for public). 0, or -1 with the reason (malformed name). */
int pg_incremental_request(pg_incremental *inc, const char *table, char *err, size_t errlen);
/* 1 while a table is queued or being read. */
int pg_incremental_busy(const pg_incremental *inc);

/* Called by the capture between polls of the stream, on the normal connection: when a table is
 * queued and no window is open, writes the low watermark, reads the next chunk, writes the high
 * watermark (three short transactions). Does nothing while a window is open. 0 or -1 + reason. */
int pg_incremental_step(pg_incremental *inc, PGconn *conn, char *err, size_t errlen);

/* Stream hooks, called by the capture for everything the decoder delivers, before the sinks see
 * it: changes (to note keys inside an open window) and logical messages (watermarks, signals).
 * At a high watermark, on_message emits the chunk's surviving rows through h->change. */
void pg_incremental_on_change(pg_incremental *inc, const event *ev);
int pg_incremental_on_message(pg_incremental *inc, const logical_message *m, const tx_info *tx,
                              const pg_decode_handler *h, char *err, size_t errlen);

/* A new session (reconnect): forget an open window; the chunk is read again. */
void pg_incremental_reset_window(pg_incremental *inc);

#endif
