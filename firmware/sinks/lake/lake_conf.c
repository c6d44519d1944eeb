/* lake_conf: lake, bronze and silver settings into options; the lake's object store and the
 * silver catalog (see lake_conf.h). */
#include "sinks/lake/lake_conf.h"

#include <stdio.h>
#include <string.h>

#include "core/errbuf.h"
#include "objstore/objstore_local.h"
#include "objstore/objstore_s3.h"
#include "sinks/lake/iceberg_catalog_pg.h"
#include "sinks/lake/iceberg_catalog_sqlite.h"

void lake_conf_from_config(const config *cfg, const char *state_dir, const char *db, lake_conf *out)
{
    memset(out, 0, sizeof *out);
    out->store = config_get(cfg, "lake.store");
    const char *path = config_get(cfg, "lake.path"), *spool = config_get(cfg, "bronze.spool_dir");
    if (path)
        snprintf(out->path, sizeof out->path, "%s", path);
    else
        snprintf(out->path, sizeof out->path, "%s/lake", state_dir);
    if (spool)
        snprintf(out->spool_dir, sizeof out->spool_dir, "%s", spool);
    else
        snprintf(out->spool_dir, sizeof out->spool_dir, "%s/spool", state_dir);
    int lake_bronze = strcmp(out->store, "none") != 0 && config_bool(cfg, "bronze.enabled");
    out->kafka_topics = config_get(cfg, "bronze.kafka_topics");
    out->kafka_group = config_get(cfg, "bronze.kafka_group");
    out->kafka_session_timeout_ms = config_duration_ms(cfg, "bronze.kafka_session_timeout");
    /* With bronze.kafka_topics the lake writers read Kafka instead: writing the capture's events
     * directly as well would put each of them into the lake twice. */
    out->bronze = lake_bronze && !out->kafka_topics;
    out->bronze_kafka = lake_bronze && out->kafka_topics;

    bronze_sink_options *b = &out->bronze_opts;
    b->source = config_get(cfg, "lake.source_name");
    b->spool_dir = out->spool_dir;
    compress_codec_parse(config_get(cfg, "bronze.compression"), &b->codec);
    b->roll_bytes = (uint64_t)config_int(cfg, "bronze.roll_size") << 20;
    b->roll_age_ms = config_duration_ms(cfg, "bronze.roll_age");
    b->spool_max_bytes = (uint64_t)config_int(cfg, "bronze.spool_max") << 20;
    b->retention_days = (int)config_int(cfg, "bronze.retention_days");
    b->encoding.name = config_get(cfg, "kafka.topic_prefix");
    b->encoding.db = db;
    debezium_decimal_mode_parse(config_get(cfg, "bronze.decimal_handling_mode"), &b->encoding.decimal);
    b->encoding.time = TIME_ADAPTIVE;

    int lake_silver = strcmp(out->store, "none") != 0 && config_bool(cfg, "silver.enabled");
    out->silver_kafka_topics = config_get(cfg, "silver.kafka_topics");
    out->silver_kafka_group = config_get(cfg, "silver.kafka_group");
    out->silver_kafka_session_timeout_ms = config_duration_ms(cfg, "silver.kafka_session_timeout");
    out->silver = lake_silver && !out->silver_kafka_topics;   /* one feed: the capture or Kafka */
    out->silver_kafka = lake_silver && out->silver_kafka_topics;
    snprintf(out->silver_state, sizeof out->silver_state, "%s/silver.db", state_dir);
    snprintf(out->silver_spool, sizeof out->silver_spool, "%s/silver-spool", state_dir);
    out->silver_catalog = config_get(cfg, "silver.catalog");
    out->silver_catalog_conninfo = config_get(cfg, "silver.catalog_conninfo");
    out->silver_catalog_password = config_get(cfg, "silver.catalog_password");
    out->silver_catalog_name = config_get(cfg, "silver.catalog_name");
    if (!out->silver_catalog_name)
        out->silver_catalog_name = b->source;
    silver_sink_options *v = &out->silver_opts;
    v->source = b->source;
    if (out->silver_kafka)
        snprintf(out->silver_writer, sizeof out->silver_writer, "kafka/%s", out->silver_kafka_group);
    else
        snprintf(out->silver_writer, sizeof out->silver_writer, "%s/%s", db ? db : "",
                 config_get(cfg, "source.slot"));
    v->writer = out->silver_writer;
    v->state_path = out->silver_state;
    v->spool_dir = out->silver_spool;
    v->commit_interval_ms = config_duration_ms(cfg, "silver.commit_interval");
    v->commit_bytes = (uint64_t)config_int(cfg, "silver.commit_size") << 20;
    v->file_bytes = (uint64_t)config_int(cfg, "silver.file_size") << 20;
    v->row_group_bytes = (uint64_t)config_int(cfg, "silver.row_group_size") << 20;
    const char *codec = config_get(cfg, "silver.compression");
    v->compression = strcmp(codec, "snappy") == 0 ? PARQUET_COMPRESSION_SNAPPY
                     : strcmp(codec, "none") == 0 ? PARQUET_COMPRESSION_NONE
                                                  : PARQUET_COMPRESSION_ZSTD;
    v->history = config_bool(cfg, "silver.history");
}

iceberg_catalog *lake_silver_catalog_open(const lake_conf *lc, store *st, char *err, size_t errlen)
{
    if (strcmp(lc->silver_catalog, "postgresql") != 0)
        return iceberg_catalog_sqlite_create(st, lc->silver_catalog_name, err, errlen);
    if (!lc->silver_catalog_conninfo) {
        err_setf(err, errlen, "silver.catalog is postgresql but silver.catalog_conninfo is not set");
        return NULL;
    }
    return iceberg_catalog_pg_create(lc->silver_catalog_conninfo, lc->silver_catalog_password,
                                     lc->silver_catalog_name, err, errlen);
}

objstore *lake_store_open(const config *cfg, const lake_conf *lc, char *err, size_t errlen)
{
    if (strcmp(lc->store, "local") == 0)
        return objstore_local_create(lc->path, err, errlen);
    if (strcmp(lc->store, "s3") == 0) {
        objstore_s3_options o;
        objstore_s3_options_from_config(cfg, &o);
        return objstore_s3_create(&o, err, errlen);
    }
    err_setf(err, errlen, "no lake configured (lake.store = none)");
    return NULL;
}
