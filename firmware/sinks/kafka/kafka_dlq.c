/* kafka_dlq: the dead-letter topic's name and Kafka Connect's dead-letter context headers
 * (see kafka_dlq.h). */
#include "sinks/kafka/kafka_dlq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kafka_dlq_topic(const char *setting, const char *prefix, char **out)
{
    *out = NULL;
    if (setting && !*setting)
        return 0;
    if (setting)
        return (*out = strdup(setting)) ? 0 : -1;
    size_t n = strlen(prefix) + sizeof ".dlq";
    if (!(*out = malloc(n)))
        return -1;
    snprintf(*out, n, "%s.dlq", prefix);
    return 0;
}

rd_kafka_headers_t *kafka_dlq_headers(const sink_dead_letter *dl, const char *topic, const char *connector)
{
    char version[16];
    snprintf(version, sizeof version, "%" PRIu32, dl->version);
    const char *const h[][2] = {
        {"__connect.errors.topic", topic},
        {"__connect.errors.connector.name", connector},
        {"__connect.errors.stage", KAFKA_DLQ_STAGE},
        {"__connect.errors.class.name", dl->rule},
        {"__connect.errors.exception.class.name", KAFKA_DLQ_EXCEPTION_CLASS},
        {"__connect.errors.exception.message", dl->error},
        {"sluice.rule.version", version},
    };
    size_t n = sizeof h / sizeof h[0];
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(n);
    for (size_t i = 0; hdrs && i < n; i++) {
        const char *v = h[i][1] ? h[i][1] : "";
        if (rd_kafka_header_add(hdrs, h[i][0], -1, v, (ssize_t)strlen(v)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_headers_destroy(hdrs);
            return NULL;
        }
    }
    return hdrs;
}
