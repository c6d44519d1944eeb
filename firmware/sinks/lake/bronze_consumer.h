/* bronze_consumer: the bronze layer written from Kafka (the scale-out path): a consumer group
 * reads topics of Debezium events (written by Sluice or by an existing Debezium deployment; the
 * value is the envelope, or {schema, payload} with schemas.enable; tombstones and records that
 * are not change events are skipped) and writes each partition's events into bronze objects
 * (bronze_object.h), one open object per partition, rolled at roll_size, roll_age, and when the
 * table (source.schema/db + source.table) or the hour of source.ts_ms changes, named
 *   bronze/<source>/<schema>.<table>/date=YYYY-MM-DD/hour=HH/k<topic>.<partition>_<first>-<last>.jsonl.gz
 * Several processes in one group split the partitions.
 * Exactly once, with no shared state but Kafka's: before uploading an object holding offsets
 * [f, l] of a partition, offset f is committed with the metadata "sluice-bronze pending <l> <key>"
 * (the intent); after the upload, l+1 with no metadata. Whoever is assigned the partition next
 * settles an intent before reading: when the object exists its records are skipped (l+1 is
 * committed); when it does not, reading starts at f and the first object is cut at exactly l
 * under the intended key, so an upload by a stalled former owner overwrites the same object with
 * the same records instead of adding a second copy. Offsets only move past records once they are
 * durable in the lake (or skipped). On a rebalance the open objects of revoked partitions are
 * dropped unwritten (the next owner reads them again); at stop they are uploaded first.
 * One thread does everything (poll, write, upload, commit), so a rebalance never races an upload.
 * Health component "bronze_kafka", metrics sluice_bronze_kafka_*.
 * Ownership: the consumer owns its objstore (also on failure) and copies the option strings;
 * metrics and health are borrowed and must outlive it. */
#ifndef SLUICE_SINKS_LAKE_BRONZE_CONSUMER_H
#define SLUICE_SINKS_LAKE_BRONZE_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/compress.h"
#include "core/health.h"
#include "core/metrics.h"
#include "objstore/objstore.h"
#include "sinks/kafka/kafka_conf.h"
#include "store/config.h"

#define BRONZE_INTENT_PREFIX "sluice-bronze pending "

typedef struct bronze_consumer_options {
    const char *source;           /* lake.source_name: bronze/<source>/... */
    const char *spool_dir;        /* created if missing */
    compress_codec codec;
    uint64_t roll_bytes;          /* compressed bytes per object */
    int64_t roll_age_ms;
    uint64_t spool_max_bytes;     /* closed objects waiting for upload before reading pauses */
    int retry_max_ms;             /* cap of the upload retry backoff; 0 = 30 s */
    int stop_wait_ms;             /* at stop, how long uploads of what is open may take; 0 = 30 s */
    int retention_days;           /* bronze.retention_days: 0 = keep */
    const char *topics;           /* comma-separated topic names and ^regexes */
    const char *group;            /* group.id */
    int session_timeout_ms;       /* 0 = librdkafka's default */
    const char *bootstrap;        /* resolved broker list */
} bronze_consumer_options;

typedef struct bronze_consumer bronze_consumer;

/* Join the group and start the consumer thread. kafka gives the connection and security settings
 * (kafka_conf_build, consumer kind). Takes objects (destroyed on failure too). NULL with the reason
 * in err. */
bronze_consumer *bronze_consumer_create(const bronze_consumer_options *o, const kafka_options *kafka,
                                        objstore *objects, metrics *m, health *h, char *err, size_t errlen);
/* Stop: upload the open objects (for a bounded time), commit, leave the group, free. Accepts NULL. */
void bronze_consumer_destroy(bronze_consumer *c);

/* The daemon's entry: a consumer from the settings when a lake is configured, bronze.enabled and
 * bronze.kafka_topics set (embedded_bootstrap: the embedded broker's servers when kafka.brokers is
 * `embedded`, else NULL). NULL with err[0] == '\0' when it is not configured, or NULL with the
 * reason in err (health "bronze_kafka" down). */
bronze_consumer *bronze_consumer_start(const config *cfg, const char *state_dir, const char *embedded_bootstrap,
                                       metrics *m, health *h, char *err, size_t errlen);

/* Split an intent's metadata ("sluice-bronze pending <last> <key>") into last and key (copied into
 * key, keylen bytes). 1 when meta is an intent, 0 when not (no or other metadata). Exposed for the
 * unit tests. */
int bronze_consumer_intent_parse(const char *meta, size_t len, int64_t *last, char *key, size_t keylen);

/* One Kafka record's value as a bronze line: the Debezium envelope (the payload when wrapped as
 * {schema, payload}), on one line without the newline, into line; its table ("schema.table",
 * source.schema or else source.db, then source.table) into table; the Unix hour of source.ts_ms
 * (else of fallback_ms, the record's timestamp) into hour. 1 for a change event, 0 for a value to
 * skip (null, not JSON, not an envelope), with the reason in why. Exposed for the unit tests. */
int bronze_consumer_record(const char *val, size_t len, int64_t fallback_ms, buf *line, char *table,
                           size_t tablelen, int64_t *hour, char *why, size_t whylen);

#endif
