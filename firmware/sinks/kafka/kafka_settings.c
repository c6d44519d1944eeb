/* kafka_settings: the `kafka.*` configuration map (validation, `sluice check`, the settings API
 * and docs/CONFIGURATION.md come from it). Names follow Debezium's connector properties where
 * one exists (tombstones.on.delete, skipped.operations, decimal.handling.mode, ...). */
#include "sinks/kafka/kafka_settings.h"

#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* "host:port,host:port" or "embedded". */
static int check_brokers(const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "embedded") == 0)
        return 0;
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *colon = memchr(p, ':', n);
        if (n == 0 || !colon || colon == p || (size_t)(colon - p) == n - 1 ||
            strspn(colon + 1, "0123456789") != n - (size_t)(colon - p) - 1) {
            snprintf(err, errlen, "'%.*s' is not a broker address: write host:port, comma-separated, or "
                     "`embedded` for the in-memory demo broker", (int)n, p);
            return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* A Kafka topic name part: letters, digits, '.', '_' and '-'. */
static int check_topic_part(const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n == 0 || n > 200 ||
        strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
        snprintf(err, errlen, "'%s' cannot be part of a topic name: use letters, digits, '.', '_' or '-'", v);
        return -1;
    }
    return 0;
}

/* A whole topic name (at most 249 of Kafka's topic characters, not "." or ".."), or empty. */
static int check_dlq_topic(const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n == 0)
        return 0;
    if (n > 249 || strcmp(v, ".") == 0 || strcmp(v, "..") == 0 ||
        strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
        snprintf(err, errlen, "'%s' is not a topic name: use up to 249 letters, digits, '.', '_' or '-' (empty: no "
                 "dead-letter topic)", v);
        return -1;
    }
    return 0;
}

/* Letters of the operations c, u, d, t, comma-separated ("t", "c,d"), or "none". */
static int check_operations(const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "none") == 0)
        return 0;
    for (const char *p = v; *p; p++) {
        if (*p == ',' || *p == ' ')
            continue;
        if (!strchr("cudt", *p)) {
            snprintf(err, errlen, "'%s': list operations as c, u, d, t separated by commas, or `none`", v);
            return -1;
        }
    }
    return 0;
}

/* "key=value,key=value" */
static int check_properties(const char *v, char *err, size_t errlen)
{
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        if (!eq || eq == p) {
            snprintf(err, errlen, "'%.*s' is not key=value", (int)n, p);
            return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static const conf_setting kafka_settings[] = {
    {"kafka.brokers", CONF_STRING, NULL, 0, 0, NULL,
     "Kafka bootstrap servers (`host:port,host:port`); unset turns the Kafka producer off. `embedded` "
     "runs an in-memory broker inside the appliance (librdkafka's mock cluster): for the demo and "
     "trials only, its messages are lost at exit.", check_brokers},
    {"kafka.topic_prefix", CONF_STRING, "sluice", 0, 0, NULL,
     "Debezium's `topic.prefix`: changes go to `<prefix>.<schema>.<table>` and it is `source.name` in "
     "every event.", check_topic_part},
    {"kafka.partitions", CONF_INT, "1", 1, 10000, NULL,
     "Partitions of the topics Sluice creates (existing topics are used as they are).", NULL},
    {"kafka.replication_factor", CONF_INT, "-1", -1, 32, NULL,
     "Replication factor of the topics Sluice creates; `-1` takes the broker's default.", NULL},
    {"kafka.compression", CONF_ENUM, "lz4", 0, 0, "none|gzip|snappy|lz4|zstd",
     "Compression of produced message batches.", NULL},
    {"kafka.tombstones_on_delete", CONF_BOOL, "true", 0, 0, NULL,
     "Debezium's `tombstones.on.delete`: follow each delete with a tombstone (null value) so log "
     "compaction can remove the key.", NULL},
    {"kafka.skipped_operations", CONF_STRING, "t", 0, 0, NULL,
     "Debezium's `skipped.operations`: operations not sent to Kafka, comma-separated letters c "
     "(create), u (update), d (delete), t (truncate), or `none`. Debezium skips truncates by default.",
     check_operations},
    {"kafka.transaction_metadata", CONF_BOOL, "false", 0, 0, NULL,
     "Debezium's `provide.transaction.metadata`: add the `transaction` block to every event and write "
     "BEGIN/END records to `<prefix>.transaction`.", NULL},
    {"kafka.heartbeat_interval", CONF_DURATION, "0s", 0, 86400, NULL,
     "Debezium's `heartbeat.interval.ms`: how often a heartbeat record goes to "
     "`<heartbeat_topics_prefix>.<prefix>`; `0s` turns heartbeats off.", NULL},
    {"kafka.heartbeat_topics_prefix", CONF_STRING, "__debezium-heartbeat", 0, 0, NULL,
     "Debezium's `heartbeat.topics.prefix`.", check_topic_part},
    {"kafka.dlq_topic", CONF_STRING, NULL, 0, 0, NULL,
     "Dead-letter topic: an event a transformation rule could not transform goes here, keyed and encoded "
     "as on its own topic, with Kafka Connect's dead-letter context headers (`__connect.errors.topic`, "
     "`__connect.errors.exception.message`, ...). Unset: `<prefix>.dlq`; empty: no dead-letter topic "
     "(dead letters stay in the store only).", check_dlq_topic},
    {"kafka.decimal_handling_mode", CONF_ENUM, "precise", 0, 0, "precise|double|string",
     "Debezium's `decimal.handling.mode` for numeric and money: `precise` (Connect Decimal bytes), "
     "`double` or `string`.", NULL},
    {"kafka.time_precision_mode", CONF_ENUM, "adaptive", 0, 0, "adaptive|adaptive_time_microseconds|connect",
     "Debezium's `time.precision.mode` for date, time and timestamp columns.", NULL},
    {"kafka.schemas_enable", CONF_BOOL, "false", 0, 0, NULL,
     "Kafka Connect JsonConverter's `schemas.enable`: wrap keys and values as `{schema, payload}` "
     "with Connect schemas.", NULL},
    {"kafka.buffer_size", CONF_INT, "65536", 1024, 2097151, NULL,
     "KiB of messages the producer may hold before they are acknowledged; when full, the capture "
     "waits (backpressure) instead of using more memory.", NULL},
    {"kafka.linger_ms", CONF_INT, "5", 0, 1000, NULL,
     "Milliseconds the producer waits to fill a batch before sending it.", NULL},
    {"kafka.security_protocol", CONF_ENUM, "plaintext", 0, 0, "plaintext|ssl|sasl_plaintext|sasl_ssl",
     "How to connect to the brokers.", NULL},
    {"kafka.sasl_mechanism", CONF_ENUM, "SCRAM-SHA-512", 0, 0, "PLAIN|SCRAM-SHA-256|SCRAM-SHA-512|AWS_MSK_IAM",
     "SASL mechanism for the sasl_* protocols; `AWS_MSK_IAM` signs an Amazon MSK IAM token with "
     "the AWS credentials (s3.access_key_id, the environment, ~/.aws/credentials or the instance role).",
     NULL},
    {"kafka.sasl_username", CONF_STRING, NULL, 0, 0, NULL, "SASL user name (PLAIN and SCRAM).", NULL},
    {"kafka.sasl_password", CONF_SECRET, NULL, 0, 0, NULL, "SASL password; stored encrypted.", NULL},
    {"kafka.ssl_ca_location", CONF_STRING, NULL, 0, 0, NULL,
     "File of CA certificates to verify the brokers with; unset uses the system's.", NULL},
    {"kafka.aws_region", CONF_STRING, NULL, 0, 0, NULL,
     "Region of the Amazon MSK cluster (AWS_MSK_IAM); unset uses `s3.region`.", NULL},
    {"kafka.properties", CONF_STRING, NULL, 0, 0, NULL,
     "Extra librdkafka producer properties, `key=value,key=value` (expert; they override Sluice's).",
     check_properties},
};

const conf_module kafka_conf_module = {
    "kafka",
    "The Kafka producer: captured changes as Debezium events on `<prefix>.<schema>.<table>` topics.",
    kafka_settings, COUNT(kafka_settings)};
