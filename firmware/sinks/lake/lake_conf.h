/* lake_conf: the lake's settings (lake.*, bronze.*) as options for the object store and the
 * bronze writer, and opening the store they name (a local directory or S3 from s3.*).
 * Ownership: strings in a lake_conf point into the config or into the lake_conf itself. */
#ifndef SLUICE_SINKS_LAKE_LAKE_CONF_H
#define SLUICE_SINKS_LAKE_LAKE_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "objstore/objstore.h"
#include "sinks/lake/bronze_sink.h"
#include "store/config.h"

typedef struct lake_conf {
    const char *store;                /* "none", "local" or "s3" */
    char path[4096];                  /* the local lake's directory */
    char spool_dir[4096];
    int bronze;                       /* the capture writes bronze: a lake is configured, bronze.enabled
                                       * and bronze.kafka_topics unset */
    int bronze_kafka;                 /* a consumer group writes bronze from bronze.kafka_topics: a lake
                                       * is configured, bronze.enabled and bronze.kafka_topics set */
    const char *kafka_topics;         /* bronze.kafka_topics (NULL: unset) */
    const char *kafka_group;          /* bronze.kafka_group */
    int64_t kafka_session_timeout_ms; /* bronze.kafka_session_timeout */
    bronze_sink_options bronze_opts;
} lake_conf;

/* Read the settings; state_dir gives the defaults of lake.path and bronze.spool_dir, db the
 * database name of the events' source block. */
void lake_conf_from_config(const config *cfg, const char *state_dir, const char *db, lake_conf *out);

/* Open the store lc names. NULL with the reason in err (also when lc->store is "none"). */
objstore *lake_store_open(const config *cfg, const lake_conf *lc, char *err, size_t errlen);

#endif
