/* lake_settings: the `lake.*`, `bronze.*` and `silver.*` configuration maps (validation, `sluice check`, the
 * settings API and docs/CONFIGURATION.md come from them). */
#include "sinks/lake/lake_settings.h"

#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A path component of object keys: letters, digits, '.', '_' and '-'. */
static int check_source_name(const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n == 0 || n > 100 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n ||
        strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
        snprintf(err, errlen, "'%s' cannot name the source in object keys: use letters, digits, '.', '_' or '-'", v);
        return -1;
    }
    return 0;
}

/* Topics to consume: a comma-separated list of topic names and regular expressions (which start
 * with '^', librdkafka's subscription syntax). */
static int check_kafka_topics(const char *v, char *err, size_t errlen)
{
    const char *p = v;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || (p[0] != '^' && strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)) {
            snprintf(err, errlen, "'%.*s' is neither a topic name nor a regular expression starting with '^'", (int)n, p);
            return -1;
        }
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

static const conf_setting lake_settings[] = {
    {"lake.store", CONF_ENUM, "none", 0, 0, "none|local|s3",
     "Where the lake is written: `local` (a directory on this machine, `lake.path`), `s3` (the bucket "
     "and prefix of the `s3.*` settings) or `none` (no lake).", NULL},
    {"lake.path", CONF_STRING, NULL, 0, 0, NULL,
     "Directory of the local lake (`lake.store = local`); unset uses `lake` in the state directory.", NULL},
    {"lake.source_name", CONF_STRING, "sluice", 0, 0, NULL,
     "Name of this source in object keys (`bronze/<source_name>/...`), so several appliances can share "
     "a bucket.", check_source_name},
};

static const conf_setting bronze_settings[] = {
    {"bronze.enabled", CONF_BOOL, "true", 0, 0, NULL,
     "Write every change as a raw Debezium event to the bronze layer when a lake is configured.", NULL},
    {"bronze.compression", CONF_ENUM, "gzip", 0, 0, "gzip|zstd",
     "Compression of bronze objects (`.jsonl.gz` or `.jsonl.zst`).", NULL},
    {"bronze.roll_size", CONF_INT, "64", 1, 4096, NULL,
     "MiB of compressed events after which a table's bronze object is closed and uploaded.", NULL},
    {"bronze.roll_age", CONF_DURATION, "60s", 1, 86400, NULL,
     "Age after which a table's open bronze object is closed and uploaded, however small. Changes are "
     "confirmed to PostgreSQL only once uploaded, so this bounds how far the slot lags.", NULL},
    {"bronze.retention_days", CONF_INT, "0", 0, 36500, NULL,
     "Delete bronze objects whose hour partition is older than this many days; `0` keeps them "
     "forever (or leave it to a bucket lifecycle rule).", NULL},
    {"bronze.spool_dir", CONF_STRING, NULL, 0, 0, NULL,
     "Directory for objects being written and waiting for upload; unset uses `spool` in the state "
     "directory.", NULL},
    {"bronze.spool_max", CONF_INT, "1024", 16, 1048576, NULL,
     "MiB of objects waiting for upload (while the store is unreachable) before the capture pauses; "
     "nothing is lost: PostgreSQL keeps the WAL meanwhile.", NULL},
    {"bronze.kafka_topics", CONF_STRING, NULL, 0, 0, NULL,
     "Write the bronze layer from these Kafka topics of Debezium events (from Sluice or from an existing "
     "Debezium deployment) instead of from this appliance's capture: a comma-separated list of topic names "
     "and regular expressions starting with `^`, e.g. `^sluice\\..*`. The brokers are `kafka.brokers`. "
     "Appliances sharing `bronze.kafka_group` split the partitions; offsets are committed only once the "
     "events are in the lake. Unset: off.", check_kafka_topics},
    {"bronze.kafka_group", CONF_STRING, "sluice-bronze", 0, 0, NULL,
     "Kafka consumer group of the bronze writers reading `bronze.kafka_topics`.", NULL},
    {"bronze.kafka_session_timeout", CONF_DURATION, "45s", 1, 3600, NULL,
     "How long the group waits for a silent bronze writer before its partitions move to the others "
     "(Kafka's `session.timeout.ms`; the brokers allow 6s to 30m by default).", NULL},
    {"bronze.decimal_handling_mode", CONF_ENUM, "string", 0, 0, "precise|double|string",
     "Debezium's `decimal.handling.mode` for numeric columns in bronze events; `string` keeps every "
     "digit and reads naturally in SQL.", NULL},
};

static const conf_setting silver_settings[] = {
    {"silver.enabled", CONF_BOOL, "false", 0, 0, NULL,
     "Write the silver layer when a lake is configured: per source table an Iceberg table of its current "
     "state and one of its history (SCD Type 2), in `silver/<source_name>/<schema>/`.", NULL},
    {"silver.history", CONF_BOOL, "true", 0, 0, NULL,
     "Also write `<table>_history`, every version of every row with `valid_from`, `valid_to`, "
     "`is_current`, `op`, `lsn` and `txid`.", NULL},
    {"silver.commit_interval", CONF_DURATION, "60s", 1, 86400, NULL,
     "How often a table's changes are committed as a new Iceberg snapshot (the lake's freshness). Changes "
     "are confirmed to PostgreSQL only once committed.", NULL},
    {"silver.commit_size", CONF_INT, "128", 1, 65536, NULL,
     "MiB of new data files after which a table's changes are committed before the interval is up.", NULL},
    {"silver.file_size", CONF_INT, "128", 1, 4096, NULL, "MiB at which a silver data file is closed and uploaded.",
     NULL},
    {"silver.row_group_size", CONF_INT, "16", 1, 1024, NULL,
     "MiB of a Parquet row group, which the writer holds in memory per open data file.", NULL},
    {"silver.compression", CONF_ENUM, "zstd", 0, 0, "zstd|snappy|none", "Compression of silver Parquet files.",
     NULL},
    {"silver.catalog", CONF_ENUM, "sqlite", 0, 0, "sqlite|postgresql",
     "Where the Iceberg tables are registered: `sqlite` (this appliance's store) or `postgresql` (a database "
     "several appliances share, `silver.catalog_conninfo`). Both use the Iceberg JDBC catalog's "
     "`iceberg_tables` layout, so Spark, Trino and pyiceberg can open the same catalog.", NULL},
    {"silver.catalog_conninfo", CONF_STRING, NULL, 0, 0, NULL,
     "libpq connection string of the PostgreSQL catalog (`silver.catalog = postgresql`), e.g. "
     "`host=catalog.internal dbname=iceberg user=sluice`.", NULL},
    {"silver.catalog_password", CONF_SECRET, NULL, 0, 0, NULL, "Password of the PostgreSQL catalog's user.", NULL},
    {"silver.catalog_name", CONF_STRING, NULL, 0, 0, NULL,
     "The catalog name of the tables (`catalog_name` in `iceberg_tables`); unset uses `lake.source_name`.", NULL},
    {"silver.kafka_topics", CONF_STRING, NULL, 0, 0, NULL,
     "Write the silver layer from these Kafka topics of Debezium events (from Sluice or from an existing "
     "Debezium deployment, with Kafka Connect schemas: `schemas.enable`) instead of from this appliance's "
     "capture: a comma-separated list of topic names and regular expressions starting with `^`. The brokers "
     "are `kafka.brokers`. One appliance per `silver.kafka_group`; offsets are committed once the changes are "
     "in committed snapshots, and each snapshot records its partitions' offsets so that nothing is applied "
     "twice. Unset: off.", check_kafka_topics},
    {"silver.kafka_group", CONF_STRING, "sluice-silver", 0, 0, NULL,
     "Kafka consumer group of the silver writer reading `silver.kafka_topics`; it also names the writer's "
     "snapshots (`kafka/<group>`).", NULL},
    {"silver.kafka_session_timeout", CONF_DURATION, "45s", 1, 3600, NULL,
     "How long the group waits for a silent silver writer (Kafka's `session.timeout.ms`): after a crash, "
     "the restarted writer gets its partitions back once this has passed.", NULL},
};

const conf_module lake_conf_module = {
    "lake", "The lake: where the bronze, silver and gold layers are written.", lake_settings, COUNT(lake_settings)};

const conf_module bronze_conf_module = {
    "bronze",
    "The bronze layer: every change as a raw Debezium event, newline-delimited JSON objects per table and hour.",
    bronze_settings, COUNT(bronze_settings)};

const conf_module silver_conf_module = {
    "silver",
    "The silver layer: Apache Iceberg tables of Parquet files per source table, its current state and its "
    "history (SCD Type 2).",
    silver_settings, COUNT(silver_settings)};
