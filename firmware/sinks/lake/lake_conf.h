/* lake_conf: the lake's settings (lake.*, bronze.*, silver.*) as options for the object store
 * and the bronze and silver writers, and opening what they name: the store (a local directory
 * or S3 from s3.*) and the silver tables' Iceberg catalog (SQLite or PostgreSQL).
 * Ownership: strings in a lake_conf point into the config or into the lake_conf itself. */
#ifndef SLUICE_SINKS_LAKE_LAKE_CONF_H
#define SLUICE_SINKS_LAKE_LAKE_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "objstore/objstore.h"
#include "sinks/lake/bronze_sink.h"
#include "sinks/lake/silver_sink.h"
#include "store/config.h"
#include "store/store.h"

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
    int silver;                       /* the capture writes silver: a lake is configured, silver.enabled
                                       * and silver.kafka_topics unset */
    int silver_kafka;                 /* a consumer writes silver from silver.kafka_topics: a lake is
                                       * configured, silver.enabled and silver.kafka_topics set */
    const char *silver_kafka_topics;  /* silver.kafka_topics (NULL: unset) */
    const char *silver_kafka_group;   /* silver.kafka_group */
    int64_t silver_kafka_session_timeout_ms;
    char silver_state[4096];          /* the silver writer's index: silver.db in the state directory */
    char silver_spool[4096];          /* its open data files: silver-spool in the state directory */
    const char *silver_catalog;       /* "sqlite" or "postgresql" */
    const char *silver_catalog_conninfo;
    const char *silver_catalog_password;
    const char *silver_catalog_name;  /* silver.catalog_name, else lake.source_name */
    char silver_writer[512];          /* names this appliance's snapshots: "<database>/<source.slot>",
                                       * or "kafka/<silver.kafka_group>" */
    silver_sink_options silver_opts;
} lake_conf;

/* Read the settings; state_dir gives the defaults of lake.path and bronze.spool_dir, db the
 * database name of the events' source block. */
void lake_conf_from_config(const config *cfg, const char *state_dir, const char *db, lake_conf *out);

/* Open the Iceberg catalog of the silver tables lc names (st: the appliance's store, for the
 * SQLite catalog). NULL with the reason in err. */
iceberg_catalog *lake_silver_catalog_open(const lake_conf *lc, store *st, char *err, size_t errlen);

/* Open the store lc names. NULL with the reason in err (also when lc->store is "none"). */
objstore *lake_store_open(const config *cfg, const lake_conf *lc, char *err, size_t errlen);

#endif
