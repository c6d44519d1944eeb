/* kafka_embedded: the embedded broker (kafka.brokers = embedded): librdkafka's mock cluster
 * running inside the appliance, a real Kafka-protocol server on loopback ports that kcat and any
 * client can use. It keeps messages in memory only (at most about 100,000 message sets or 5 MiB
 * per partition) and loses them at exit: for the demo and trials, never for production.
 * Ownership: owned by the daemon so topics survive pipeline restarts. */
#ifndef SLUICE_SINKS_KAFKA_KAFKA_EMBEDDED_H
#define SLUICE_SINKS_KAFKA_KAFKA_EMBEDDED_H

#include <stddef.h>

typedef struct kafka_embedded kafka_embedded;

/* Start nbrokers brokers on loopback. NULL with the reason in err. */
kafka_embedded *kafka_embedded_create(int nbrokers, char *err, size_t errlen);
void kafka_embedded_destroy(kafka_embedded *k);   /* accepts NULL */
/* "127.0.0.1:port,..." */
const char *kafka_embedded_bootstraps(const kafka_embedded *k);
/* Create a topic (partitions, replication factor capped at the broker count). 0 or -1 + err. */
int kafka_embedded_topic_create(kafka_embedded *k, const char *topic, int partitions, int replication,
                                char *err, size_t errlen);

#endif
