/* pipeline: the daemon's data path. Builds the enabled sinks from the settings (the file sink
 * with file.path, the Kafka producer with kafka.brokers, the bronze writer with lake.store), an
 * ack tracker over them, and the
 * capture, and runs the capture on its own thread until stopped. Without a source or without any
 * sink the pipeline is off and the capture's health says why.
 * Ownership: config, store, metrics, health and the embedded broker are borrowed and must
 * outlive the pipeline. */
#ifndef SLUICE_PIPELINE_PIPELINE_H
#define SLUICE_PIPELINE_PIPELINE_H

#include <stddef.h>
#include "core/health.h"
#include "core/metrics.h"
#include "rules/rules_sample.h"
#include "sinks/kafka/kafka_embedded.h"
#include "store/config.h"
#include "store/store.h"

typedef struct pipeline pipeline;

/* Build and start the pipeline. Returns NULL with err empty when it is off (nothing configured),
 * NULL with the reason in err on failure. */
typedef struct pipeline_deps {
    store *store;
    metrics *metrics;
    health *health;
    kafka_embedded *kafka_embedded;   /* the embedded broker when kafka.brokers = embedded */
    const char *state_dir;            /* defaults of lake.path and bronze.spool_dir */
    rules_sample *rules_sample;       /* recent events for the console's rule dry runs; may be NULL */
} pipeline_deps;

pipeline *pipeline_start(const config *cfg, const pipeline_deps *deps, char *err, size_t errlen);
/* Stop the capture (flushing sinks and confirming what is durable), join its thread, free all.
 * Accepts NULL. */
void pipeline_stop(pipeline *p);

#endif
