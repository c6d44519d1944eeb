/* kafka_group: a consumer-group member for the lake writers fed from Kafka (bronze_consumer.h,
 * silver_consumer.h): offsets move only when the writer commits them (no auto-commit, no
 * auto-store), new groups start at the earliest offset, read_committed, the eager assignors (a
 * revocation takes every partition, an assignment gives the whole set), and a subscription to a
 * comma-separated list of topic names and ^regexes. librdkafka's log lines go to the log
 * component "kafka_group" with the client's name.
 * Ownership: the returned handle is the caller's (rd_kafka_consumer_close, rd_kafka_destroy);
 * option strings are copied by librdkafka. Errors: NULL with the reason in err. */
#ifndef SLUICE_SINKS_KAFKA_KAFKA_GROUP_H
#define SLUICE_SINKS_KAFKA_KAFKA_GROUP_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "sinks/kafka/kafka_conf.h"

typedef struct kafka_group_options {
    const char *bootstrap;        /* resolved broker list */
    const char *group;            /* group.id */
    const char *client_id;        /* "sluice-bronze" */
    const char *topics;           /* comma-separated topic names and ^regexes */
    int session_timeout_ms;       /* 0 = 45 s */
    void *opaque;                 /* handed to the callbacks */
    void (*rebalance)(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *parts, void *opaque);
    void (*error)(rd_kafka_t *rk, int e, const char *reason, void *opaque);
} kafka_group_options;

/* Create the consumer (security and connection settings from kafka) and subscribe it. */
rd_kafka_t *kafka_group_join(const kafka_options *kafka, const kafka_group_options *o, char *err, size_t errlen);

#endif
