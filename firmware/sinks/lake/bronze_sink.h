/* bronze_sink: the bronze layer writer. Every change becomes one line of Debezium JSON (the
 * value envelope) in the open object of its destination table (bronze_object.h): its own
 * "schema.table", or the table a rule routed it to (event.h route_table), each destination one
 * stream of objects whatever the source tables of its events; an object is closed at
 * bronze.roll_size, at bronze.roll_age, when the commit hour changes, and at a waiting flush,
 * then an uploader thread puts it into the object store. Exactly once: before each upload the
 * object's key and last position are recorded as an intent, after it the table's watermark
 * moves (bronze_state.h); events at or below a destination's watermark are skipped (its events
 * arrive in (commit LSN, seq) order, also when several tables feed it), so a replay from
 * the slot after a crash writes nothing twice, and a retried upload overwrites itself.
 * Acknowledgement: a transaction is reported durable only once every object holding any of its
 * events (and every earlier one's) is uploaded. While the store is unreachable uploads are
 * retried with backoff (component "bronze" degraded on /readyz, sluice_bronze_upload_failures
 * counting) and closed objects wait in the spool; when the spool holds bronze.spool_max bytes
 * the capture pauses until uploads catch up. Nothing is acknowledged meanwhile, so PostgreSQL
 * keeps the WAL. Optionally, objects older than retention_days are deleted hourly.
 * Ownership: options strings are copied; the deps are borrowed and must outlive the sink. */
#ifndef SLUICE_SINKS_LAKE_BRONZE_SINK_H
#define SLUICE_SINKS_LAKE_BRONZE_SINK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compress.h"
#include "core/health.h"
#include "core/metrics.h"
#include "encode/debezium_json.h"
#include "objstore/objstore.h"
#include "pipeline/ack.h"
#include "pipeline/sink.h"
#include "store/store.h"

typedef struct bronze_sink_options {
    const char *source;           /* lake.source_name: bronze/<source>/... */
    const char *spool_dir;        /* created if missing */
    compress_codec codec;
    uint64_t roll_bytes;          /* compressed bytes per object */
    int64_t roll_age_ms;
    uint64_t spool_max_bytes;     /* closed objects waiting for upload */
    int retention_days;           /* 0 = keep */
    int retry_max_ms;             /* cap of the upload retry backoff; 0 = 30 s */
    debezium_options encoding;
} bronze_sink_options;

typedef struct bronze_sink_deps {
    objstore *objects;            /* used by the uploader thread only */
    store *st;                    /* watermarks and intents */
    ack_tracker *ack;
    size_t ack_index;
    metrics *metrics;             /* may be NULL */
    health *health;               /* component "bronze"; may be NULL */
    volatile sig_atomic_t *stop;  /* set when the pipeline stops: waits give up */
} bronze_sink_deps;

/* Fill *out with the sink and start its uploader. 0, or -1 with the reason in err.
 * Free with out->ops->destroy(out->self). */
int bronze_sink_create(const bronze_sink_options *o, const bronze_sink_deps *d, sink *out, char *err,
                       size_t errlen);

#endif
