/* kafka_topics: the producer's topic handles by name, each created on the cluster at first use:
 * on the embedded broker directly, elsewhere with the Admin API (CreateTopics with the
 * configured partitions and replication factor; an existing topic is used as it is). A topic that
 * cannot be created is an error naming the topic and the broker's reason. If the cluster does not
 * offer CreateTopics, the broker's automatic topic creation is relied on (logged once).
 * Ownership: rk and embedded are borrowed; handles are owned and destroyed with the registry. */
#ifndef SLUICE_SINKS_KAFKA_KAFKA_TOPICS_H
#define SLUICE_SINKS_KAFKA_KAFKA_TOPICS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include "sinks/kafka/kafka_embedded.h"

typedef struct kafka_topics kafka_topics;

kafka_topics *kafka_topics_create(rd_kafka_t *rk, kafka_embedded *embedded, int partitions, int replication);
void kafka_topics_destroy(kafka_topics *t);   /* accepts NULL; before rd_kafka_destroy */
/* The handle for name, creating the topic when first seen. NULL with the reason in err. */
rd_kafka_topic_t *kafka_topics_get(kafka_topics *t, const char *name, char *err, size_t errlen);

#endif
