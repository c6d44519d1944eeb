/* silver_mark: what a silver table already holds (its watermark) and where a change comes from,
 * for the two ways changes reach silver:
 *   from the capture   the change's transaction commit LSN and its sequence in the transaction;
 *                      the watermark is the last such position (snapshot summary "sluice.lsn",
 *                      "sluice.seq");
 *   from Kafka         the record's topic, partition and offset; the watermark is, per topic
 *                      partition, the offset of the last record the table holds (summary
 *                      "sluice.kafka.offsets" = "topic:partition=offset,...", topics in Kafka's
 *                      legal characters, so ':' '=' ',' cannot occur in them). A table spans
 *                      partitions, so no single position would do.
 * A change at or below the watermark is in the table already (a replay) and is skipped.
 *
 * Ownership: a mark owns its topic names (copied); free with silver_mark_free. A pos borrows its
 * topic. Errors: -1 with the reason in err. */
#ifndef SLUICE_SINKS_LAKE_SILVER_MARK_H
#define SLUICE_SINKS_LAKE_SILVER_MARK_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sinks/lake/bronze_state.h"

#define SILVER_MARK_SUMMARY_KAFKA "sluice.kafka.offsets"

/* One change's position: wal for the capture (topic NULL), or a Kafka record. */
typedef struct silver_pos {
    bronze_pos wal;
    const char *topic;      /* NULL: from the capture */
    int32_t partition;
    int64_t offset;
} silver_pos;

typedef struct silver_mark_part {
    char *topic;
    int32_t partition;
    int64_t offset;         /* the last record held */
} silver_mark_part;

typedef struct silver_mark {
    bronze_pos wal;             /* {0, 0}: nothing from the capture */
    silver_mark_part *parts;    /* Kafka partitions, in the order first seen */
    size_t nparts, capparts;
} silver_mark;

void silver_mark_free(silver_mark *m);   /* frees the parts; leaves an empty mark */

/* 1 when the change at p is at or below the watermark m (in the table already), else 0. */
int silver_mark_holds(const silver_mark *m, const silver_pos *p);

/* Raise m to include p. 0, or -1 when out of memory. */
int silver_mark_advance(silver_mark *m, const silver_pos *p, char *err, size_t errlen);

/* Raise m to include everything in other (per partition the larger offset). 0 or -1. */
int silver_mark_merge(silver_mark *m, const silver_mark *other, char *err, size_t errlen);

/* Append the Kafka offsets as the summary value to out (nothing when there are none). */
void silver_mark_kafka_format(const silver_mark *m, buf *out);

/* Add the offsets of a summary value to m. 0, or -1 with the reason (a malformed value). */
int silver_mark_kafka_parse(silver_mark *m, const char *s, char *err, size_t errlen);

#endif
