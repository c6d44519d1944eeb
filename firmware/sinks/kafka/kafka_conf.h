/* kafka_conf: the `kafka.*` settings as a typed struct, and librdkafka configurations built from
 * them for the producer, the console's message browser (a consumer) and the admin client.
 * Security: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL with PLAIN or SCRAM-SHA-256/512, and
 * AWS MSK IAM (SASL/OAUTHBEARER with a SigV4-signed token from the AWS credential chain).
 * Ownership: kafka_options borrows its strings from the config snapshot it was read from. */
#ifndef SLUICE_SINKS_KAFKA_KAFKA_CONF_H
#define SLUICE_SINKS_KAFKA_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include "encode/debezium_json.h"
#include "store/config.h"

#define KAFKA_EMBEDDED "embedded"   /* kafka.brokers value: the in-process, in-memory broker */

typedef struct kafka_options {
    const char *brokers;             /* bootstrap servers, or KAFKA_EMBEDDED; NULL = Kafka off */
    const char *topic_prefix;        /* topic.prefix: topics are <prefix>.<schema>.<table> */
    int partitions;                  /* for topics Sluice creates */
    int replication_factor;          /* for topics Sluice creates; -1 = the broker's default */
    const char *compression;         /* none|gzip|snappy|lz4|zstd */
    int tombstones;                  /* tombstones.on.delete */
    const char *skipped_operations;  /* skipped.operations, e.g. "t" */
    int transaction_metadata;        /* provide.transaction.metadata */
    long heartbeat_ms;               /* heartbeat.interval.ms, 0 = off */
    const char *heartbeat_prefix;    /* heartbeat.topics.prefix */
    const char *dlq_topic;           /* dead letters' topic; NULL: <prefix>.dlq, "": none */
    long buffer_kib;                 /* bound on memory held by messages not yet acknowledged */
    long linger_ms;
    debezium_options encoding;       /* decimal/time modes, schemas.enable; name = topic_prefix */
    const char *security_protocol;   /* plaintext|ssl|sasl_plaintext|sasl_ssl */
    const char *sasl_mechanism;      /* PLAIN|SCRAM-SHA-256|SCRAM-SHA-512|AWS_MSK_IAM */
    const char *sasl_username, *sasl_password;
    const char *ssl_ca_location;
    const char *aws_region;          /* AWS_MSK_IAM: region of the cluster */
    const char *properties;          /* extra librdkafka properties "k=v,k=v" (expert) */
} kafka_options;

/* Read the kafka.* settings. brokers is NULL when Kafka is off. db is the source database name
 * (source.db in events), borrowed. */
void kafka_options_from_config(const config *cfg, const char *db, kafka_options *o);

typedef enum { KAFKA_CLIENT_PRODUCER, KAFKA_CLIENT_CONSUMER, KAFKA_CLIENT_ADMIN } kafka_client_kind;

/* A librdkafka configuration for kind, connecting to bootstrap (the resolved broker list: for
 * the embedded broker, its bootstraps). The producer is idempotent with acks=all, the Java
 * client's murmur2 partitioner, the configured compression and buffer bound, and retries that
 * never give up (a message is delivered, or the producer fails fatally). Consumer and admin get
 * the connection and security settings only; the caller adds its own. NULL with the reason in
 * err (e.g. an unknown property in kafka.properties). */
rd_kafka_conf_t *kafka_conf_build(const kafka_options *o, const char *bootstrap, kafka_client_kind kind,
                                  char *err, size_t errlen);

#endif
