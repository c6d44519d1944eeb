/* kafka_sink: the Debezium-compatible Kafka producer. Each change becomes a message on
 * <prefix>.<schema>.<table> (or where a rule routed it: the exact topic ev->route_topic, else
 * <prefix>.<ev->route_table>) with the primary key as its key and Debezium's envelope as its
 * value, whose source block names the captured table either way; deletes are followed by a tombstone, a key change becomes delete + tombstone + create
 * (with __debezium.newkey / __debezium.oldkey headers), heartbeats and transaction metadata go
 * to their own topics; dead letters of the rules go to the dead-letter topic with Kafka
 * Connect's context headers (kafka_dlq.h) and count in their transaction's acknowledgement like
 * its changes. Topics are created on first use (partitions, replication factor).
 * Delivery: idempotent, acks=all, ordered per partition; a delivery report thread counts the
 * acknowledgements of each transaction and reports to the ack tracker only over transactions
 * whose every message (and every earlier transaction's) is acknowledged. A full buffer blocks
 * the capture (backpressure); a permanent delivery failure or fatal producer error fails the
 * sink: no later position is ever acknowledged, and the capture stops with the reason.
 * Ownership: options strings are copied; ack and stop are borrowed and must outlive the sink. */
#ifndef SLUICE_SINKS_KAFKA_KAFKA_SINK_H
#define SLUICE_SINKS_KAFKA_KAFKA_SINK_H

#include <signal.h>
#include <stddef.h>
#include "core/health.h"
#include "core/metrics.h"
#include "pipeline/ack.h"
#include "pipeline/sink.h"
#include "sinks/kafka/kafka_conf.h"
#include "sinks/kafka/kafka_embedded.h"

typedef struct kafka_sink_deps {
    ack_tracker *ack;
    size_t ack_index;
    metrics *metrics;                  /* may be NULL */
    health *health;                    /* component "kafka"; may be NULL */
    kafka_embedded *embedded;          /* when o->brokers is KAFKA_EMBEDDED; else NULL */
    volatile sig_atomic_t *stop;       /* set when the pipeline stops: a blocked send gives up */
} kafka_sink_deps;

int kafka_sink_create(const kafka_options *o, const kafka_sink_deps *deps, sink *out, char *err,
                      size_t errlen);

#endif
