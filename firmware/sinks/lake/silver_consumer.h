/* silver_consumer: the silver layer written from Kafka: a consumer reads topics of Debezium
 * events with Kafka Connect schemas (Sluice's with kafka.schemas_enable, or an existing Debezium
 * deployment's with schemas.enable), turns each record back into a typed change event
 * (debezium_decode.h) and hands it to the silver writer (silver_sink.h), positioned by its
 * topic, partition and offset (silver_mark.h). The guarantees are the capture-fed ones:
 *   - every snapshot records, per partition, the offset of the last record its table holds, so a
 *     record at or below it is never applied twice (after a crash, a rebalance, a restart);
 *   - the group's offsets are committed only after every open batch is committed (every
 *     silver.commit_interval), so nothing is skipped either.
 * Order: Debezium partitions by key, so each row's changes arrive in order; different rows'
 * changes interleave across partitions, which silver does not depend on, with one exception: a
 * primary-key change is a delete of the old key (header __debezium.newkey) and a create of the
 * new key (header __debezium.oldkey), usually in two partitions, and the create takes unchanged
 * TOASTed values from the old row. The delete leaves the old row's image in the index; a create
 * that needs it before the delete was read waits (its partition paused and rewound to it) until
 * the delete is applied (silver_pair.h, silver_move). A truncate has no key and lands on one
 * partition: changes of other partitions from before it that are read after it survive it
 * (produce truncates to one-partition topics, or skip them: Sluice's and Debezium's default).
 * One writer per group: the live-row index is this process's (silver.db), so a partition
 * cannot move to another process; an assignment that leaves any partition of an assigned topic
 * to another member stops the consumer with the reason (health "silver_kafka" down), and another
 * process opening tables this writer ("kafka/<group>") committed to is refused (silver_table.h).
 * Records that are not change events (tombstones, heartbeats, transaction metadata, values that
 * are not JSON envelopes) are skipped; a change event that cannot be decoded (no Connect schema,
 * an unsupported type) stops the consumer at that record with the reason, offsets not past it.
 * Metrics sluice_silver_kafka_*, and the silver writer's sluice_silver_*.
 * Ownership: the consumer owns its objstore and catalog (also on failure) and copies the option
 * strings; metrics and health are borrowed and must outlive it. */
#ifndef SLUICE_SINKS_LAKE_SILVER_CONSUMER_H
#define SLUICE_SINKS_LAKE_SILVER_CONSUMER_H

#include <stddef.h>

#include "core/health.h"
#include "core/metrics.h"
#include "objstore/objstore.h"
#include "sinks/kafka/kafka_conf.h"
#include "sinks/lake/iceberg_catalog.h"
#include "sinks/lake/silver_sink.h"
#include "store/config.h"
#include "store/store.h"

typedef struct silver_consumer_options {
    silver_sink_options silver;   /* the writer's options (writer: "kafka/<group>") */
    const char *topics;           /* comma-separated topic names and ^regexes */
    const char *group;            /* group.id */
    int session_timeout_ms;       /* 0 = 45 s */
    const char *bootstrap;        /* resolved broker list */
} silver_consumer_options;

typedef struct silver_consumer silver_consumer;

/* Open the writer, join the group and start the consumer thread. Takes objects and catalog
 * (destroyed on failure too). NULL with the reason in err. */
silver_consumer *silver_consumer_create(const silver_consumer_options *o, const kafka_options *kafka,
                                        objstore *objects, iceberg_catalog *catalog, metrics *m, health *h,
                                        char *err, size_t errlen);
/* Stop: commit the open batches (one attempt), commit the offsets, leave the group, free.
 * Accepts NULL. */
void silver_consumer_destroy(silver_consumer *c);

/* The daemon's entry: a consumer from the settings when a lake is configured, silver.enabled and
 * silver.kafka_topics set (st: the appliance's store, for the SQLite catalog; embedded_bootstrap:
 * the embedded broker's servers when kafka.brokers is `embedded`, else NULL). NULL with
 * err[0] == '\0' when it is not configured, or NULL with the reason in err (health
 * "silver_kafka" down). */
silver_consumer *silver_consumer_start(const config *cfg, const char *state_dir, store *st,
                                       const char *embedded_bootstrap, metrics *m, health *h, char *err,
                                       size_t errlen);

#endif
