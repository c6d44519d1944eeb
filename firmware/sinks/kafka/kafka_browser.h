/* kafka_browser: the console's read-only view of the Kafka cluster Sluice produces to: the topic
 * list with per-partition watermarks, and the messages of one partition from an offset. It reads
 * with librdkafka's simple (legacy) consumer on one partition at a time: no group is joined and no
 * offset is ever committed, so browsing never disturbs real consumers.
 * Thread-safe: civetweb serves requests on several threads; metadata and watermark queries run
 * concurrently, reads of messages are serialised by a mutex (one partition read at a time).
 * Every call answers within KAFKA_BROWSE_TIMEOUT_MS.
 * Ownership: the browser owns its librdkafka handle; create copies what it keeps (bootstrap),
 * the kafka_options are only read during create. */
#ifndef SLUICE_SINKS_KAFKA_KAFKA_BROWSER_H
#define SLUICE_SINKS_KAFKA_KAFKA_BROWSER_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "pipeline/event_route.h"
#include "sinks/kafka/kafka_conf.h"

#define KAFKA_BROWSE_LIMIT_DEFAULT 20
#define KAFKA_BROWSE_LIMIT_MAX 100
#define KAFKA_BROWSE_VALUE_MAX (64 * 1024)   /* keys, values and header values are cut here */
#define KAFKA_BROWSE_TIMEOUT_MS 5000         /* upper bound of one call */
#define KAFKA_TOPIC_NAME_MAX EVENT_ROUTE_TOPIC_MAX   /* Kafka's own limit */

typedef struct kafka_browser kafka_browser;

typedef enum {
    KAFKA_BROWSE_OK = 0,
    KAFKA_BROWSE_BAD_REQUEST,   /* a parameter is invalid or out of range (err says which) */
    KAFKA_BROWSE_NOT_FOUND,     /* the topic does not exist */
    KAFKA_BROWSE_UNREACHABLE,   /* the cluster did not answer: "Kafka is not reachable: ..." */
    KAFKA_BROWSE_FAILED,        /* any other error */
} kafka_browse_rc;

/* Which messages to read: the partition's messages from offset on, at most limit of them. */
typedef struct kafka_browse_query {
    const char *topic;
    int32_t partition;   /* 0 for single-partition topics */
    int64_t offset;      /* first offset to read; -1: the last `limit` messages */
    int limit;           /* 1..KAFKA_BROWSE_LIMIT_MAX */
} kafka_browse_query;

/* A browser of the cluster at bootstrap ("host:port,..."), with the connection and security
 * settings of o (kafka_conf_build, consumer kind). embedded: the cluster is the in-process,
 * in-memory broker (the console labels it as not durable). NULL with the reason in err. */
kafka_browser *kafka_browser_create(const kafka_options *o, const char *bootstrap, int embedded, char *err,
                                    size_t errlen);
/* Close the connections and free the browser. Accepts NULL. No call may be in flight. */
void kafka_browser_destroy(kafka_browser *kb);

int kafka_browser_embedded(const kafka_browser *kb);

/* Append the topic list as a JSON object to out:
 *   {"embedded": bool, "bootstrap": "h:p,...", "hidden_internal": n,
 *    "topics": [{"name", "partitions": n, "messages": n,
 *                "partition_offsets": [{"partition", "low", "high", "messages"}],
 *                "error"?: "..."}]}
 * sorted by name. Topics whose names start with "__" are left out (and counted in
 * hidden_internal) unless include_internal. "messages" is high - low: the offsets the partition
 * holds. On an error nothing is appended and err holds the reason. */
kafka_browse_rc kafka_browser_topics(kafka_browser *kb, int include_internal, buf *out, char *err, size_t errlen);

/* Append the messages q asks for as a JSON object to out:
 *   {"topic", "partition", "low", "high", "offset": first offset read, "limit",
 *    "next_offset": the offset after the last one read,
 *    "older_offset": where the page before this one starts, or null at the low watermark,
 *    "messages": [{"offset", "partition", "timestamp": ms since the epoch or null,
 *                  "timestamp_type": "create"|"log_append"|null,
 *                  "key": text or null, "key_escaped", "key_truncated", "key_size",
 *                  "value": text or null (a tombstone), "value_escaped", "value_truncated",
 *                  "value_size",
 *                  "headers": [{"key", "value": text or null, "escaped"}]}]}
 * in offset order. Text that is not valid UTF-8 is shown with its bytes escaped as \xNN (and a
 * backslash as \\), flagged *_escaped; text longer than KAFKA_BROWSE_VALUE_MAX bytes is cut
 * there, flagged *_truncated (*_size is the full length). An offset below the low watermark
 * starts at the low watermark; one at or past the high watermark gives no messages.
 * On an error nothing is appended and err holds the reason. */
kafka_browse_rc kafka_browser_messages(kafka_browser *kb, const kafka_browse_query *q, buf *out, char *err,
                                       size_t errlen);

/* 1 when name is a legal Kafka topic name (1..249 of [A-Za-z0-9._-], not "." or ".."; the check
 * rules use for routes, event_route.h). */
int kafka_topic_name_valid(const char *name);

/* Append data[0..len) to out as a JSON string: valid UTF-8 as it is (JSON-escaped), otherwise with
 * invalid bytes as \xNN and backslashes as \\ (*escaped = 1). At most max bytes of data are
 * used, cut at a character boundary (*truncated = 1). Exposed for the unit tests. */
void kafka_browser_json_text(buf *out, const void *data, size_t len, size_t max, int *escaped, int *truncated);

#endif
