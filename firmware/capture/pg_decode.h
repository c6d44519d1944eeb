/* pg_decode: the pgoutput logical replication protocol decoder (protocol versions 1 and 2).
 * Input: the payload of one XLogData message; output: calls on a handler with transactions,
 * change events (event.h), schema changes and logical decoding messages. Every length is checked
 * before it is read; malformed input is an error naming the message type and LSN, never a crash.
 * Relation messages go through the schema registry (pg_schema.h). Values are parsed with
 * pg_types.h into the decoder's arena, which is reset at the start of each message: events
 * handed to the handler are valid only during the call. */
#ifndef SLUICE_CAPTURE_PG_DECODE_H
#define SLUICE_CAPTURE_PG_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "capture/pg_schema.h"
#include "core/arena.h"
#include "capture/pg_spill.h"
#include "pipeline/event.h"

/* A logical decoding message (pg_logical_emit_message). */
typedef struct logical_message {
    uint64_t lsn;
    int transactional;
    const char *prefix;
    const uint8_t *content;
    size_t len;
} logical_message;

/* Handler callbacks; any may be NULL. A non-zero return stops decoding: pg_decoder_feed then
 * returns -1 with "handler failed" unless the handler wrote its own reason into err. */
typedef struct pg_decode_handler {
    void *arg;
    int (*begin)(void *arg, const tx_info *tx, char *err, size_t errlen);
    int (*change)(void *arg, const event *ev, char *err, size_t errlen);
    int (*commit)(void *arg, const tx_info *tx, char *err, size_t errlen);
    /* A table's definition changed (new schema version), before its next change. */
    int (*schema)(void *arg, const table_def *def, char *err, size_t errlen);
    int (*message)(void *arg, const logical_message *m, char *err, size_t errlen);
    /* Complete a Relation message's table with what pgoutput does not send (column_def is_pk,
     * not_null, enum_labels; strings allocated in a), e.g. pg_catalog_table_complete. 1 when
     * done, 0 when the table is unknown, -1 to stop decoding. Without it, or on 0, a table keeps
     * what its previous version said about a column of the same name, and a new table under
     * REPLICA IDENTITY DEFAULT takes its replica identity (its primary key) as the key. */
    int (*complete)(void *arg, table_def *def, arena *a, char *err, size_t errlen);
} pg_decode_handler;

typedef struct pg_decoder pg_decoder;

/* schema is borrowed and must outlive the decoder. */
pg_decoder *pg_decoder_create(pg_schema *schema);
void pg_decoder_destroy(pg_decoder *d);

/* Decode one pgoutput message found at WAL position lsn. Returns 0, or -1 with the reason in err
 * (e.g. "malformed Update message at 0/16B3748: tuple column 3 length 900 exceeds message"). */
int pg_decoder_feed(pg_decoder *d, uint64_t lsn, const uint8_t *data, size_t len,
                    const pg_decode_handler *h, char *err, size_t errlen);

/* Bytes the decoder currently holds (arena and buffered streamed transactions), for memory
 * bounds. */
size_t pg_decoder_footprint(const pg_decoder *d);

/* Bound the memory of streamed (protocol v2) transactions: their buffered messages stay in memory
 * up to threshold bytes for all of them together (default PG_SPILL_DEFAULT_THRESHOLD, 8 MiB);
 * beyond it the largest move to a temporary file in dir (NULL: $TMPDIR or /tmp), one per
 * top-level xid, unlinked as soon as it is made. Spilled bytes are not part of
 * pg_decoder_footprint. Applies from the next message on. 0, or -1 when out of memory. */
int pg_decoder_set_spill(pg_decoder *d, const char *dir, size_t threshold);

/* Spill counters (transactions and bytes spilled, system calls, open files), for metrics. */
void pg_decoder_spill_stats(const pg_decoder *d, pg_spill_stats *out);

#endif
