/* cli_kafka: the Kafka sink of `sluice capture --format kafka`, built from the store's kafka.*
 * settings as the daemon's pipeline builds it, and the commit-to-ack summary printed at exit.
 * Ownership: the embedded broker (brokers "embedded") belongs to the caller, who destroys it
 * after the sink. */
#ifndef SLUICE_CLI_CLI_KAFKA_H
#define SLUICE_CLI_CLI_KAFKA_H

#include <signal.h>
#include <stddef.h>
#include "core/metrics.h"
#include "pipeline/ack.h"
#include "pipeline/sink.h"
#include "sinks/kafka/kafka_embedded.h"
#include "store/config.h"

typedef struct cli_kafka_options {
    const char *brokers;       /* --kafka-brokers: a broker list or "embedded"; NULL = kafka.brokers */
    const char *prefix;        /* --name: topic prefix; NULL = kafka.topic_prefix */
    const char *db;            /* source database name (source.db in events) */
} cli_kafka_options;

/* Create the sink (ack index 0) into out; with the embedded broker, start it into *embedded.
 * 0, or -1 with the reason in err. */
int cli_kafka_sink_create(const cli_kafka_options *o, const config *cfg, ack_tracker *ack, metrics *m,
                          volatile sig_atomic_t *stop, kafka_embedded **embedded, sink *out, char *err,
                          size_t errlen);

/* Log "commit-to-ack transactions=N p50_ms=X p90_ms=Y p99_ms=Z" from the sink's histogram. */
void cli_kafka_log_latency(metrics *m);

#endif
