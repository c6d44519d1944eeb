/* kafka_dlq: dead letters on Kafka. An event a transformation rule could not transform goes to the
 * dead-letter topic (kafka.dlq_topic, by default <prefix>.dlq) keyed and encoded as on its own
 * topic, with the headers of Kafka Connect's dead-letter queue context
 * (errors.deadletterqueue.context.headers.enable): __connect.errors.topic (the topic it would
 * have gone to), __connect.errors.connector.name, __connect.errors.stage ("TRANSFORMATION"),
 * __connect.errors.class.name (the rule), __connect.errors.exception.class.name,
 * __connect.errors.exception.message (the rule's error), plus sluice.rule.version. Values are
 * UTF-8 text, as Connect writes them. The Kafka sink produces them inside the transaction the
 * event came from (kafka_sink.c), so they count in its acknowledgement.
 * Ownership: the topic name is malloc'd (caller frees); headers pass to librdkafka with the
 * message (or are destroyed by the caller). */
#ifndef SLUICE_SINKS_KAFKA_KAFKA_DLQ_H
#define SLUICE_SINKS_KAFKA_KAFKA_DLQ_H

#include <librdkafka/rdkafka.h>

#include "pipeline/sink.h"

#define KAFKA_DLQ_STAGE "TRANSFORMATION"
#define KAFKA_DLQ_EXCEPTION_CLASS "io.sluice.rules.RuleError"

/* The dead-letter topic for the setting (NULL: unset) and topic prefix into *out: NULL when the
 * setting is empty (no dead-letter topic). 0, or -1 when out of memory. */
int kafka_dlq_topic(const char *setting, const char *prefix, char **out);

/* The context headers of dl, which would have gone to topic; connector names the producer
 * (the topic prefix). NULL when out of memory. */
rd_kafka_headers_t *kafka_dlq_headers(const sink_dead_letter *dl, const char *topic, const char *connector);

#endif
