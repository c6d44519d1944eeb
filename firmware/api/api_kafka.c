/* api_kafka: the console's Kafka message browser (viewer). GET /api/v1/kafka/topics[?internal=true]
 * lists topics with per-partition watermarks; GET /api/v1/kafka/topics/{topic}/messages
 * ?partition=P&offset=O&limit=N reads one partition from offset O (default: its last N messages).
 * Answers 409 when Kafka is off, 400 for bad parameters, 404 for an unknown topic, 502 when the
 * cluster does not answer. Reads only: nothing is audited. The shapes are in kafka_browser.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "sinks/kafka/kafka_browser.h"

/* The flag parameter name: 1 for true/1/yes, 0 for false/0/no or absent, -1 when invalid (sent). */
static int api_kafka_flag_param(api_request *req, const char *name)
{
    const char *qs = mg_get_request_info(req->conn)->query_string;
    char text[16];
    if (!qs || mg_get_var(qs, strlen(qs), name, text, sizeof text) == -1)
        return 0;
    if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "yes"))
        return 1;
    if (!strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "no"))
        return 0;
    api_send_error(req, 400, "%s must be true or false", name);
    return -1;
}

/* Answer err with the HTTP status for rc. */
static void api_kafka_fail(api_request *req, kafka_browse_rc rc, const char *err)
{
    int status = rc == KAFKA_BROWSE_BAD_REQUEST ? 400
                 : rc == KAFKA_BROWSE_NOT_FOUND ? 404
                 : rc == KAFKA_BROWSE_UNREACHABLE ? 502
                                                  : 500;
    api_send_error(req, status, "%s", err);
}

static kafka_browser *api_kafka_browser(api_request *req)
{
    kafka_browser *kb = req->deps->kafka;
    if (!kb)
        api_send_error(req, 409, "Kafka is not configured");
    return kb;
}

void api_kafka_topics(api_request *req)
{
    char err[1024];
    buf out = BUF_INIT;
    kafka_browser *kb = api_kafka_browser(req);
    if (!kb)
        return;
    int internal = api_kafka_flag_param(req, "internal");
    if (internal < 0)
        return;
    kafka_browse_rc rc = kafka_browser_topics(kb, internal, &out, err, sizeof err);
    if (rc == KAFKA_BROWSE_OK)
        api_send_json(req, 200, &out, NULL);
    else
        api_kafka_fail(req, rc, err);
    buf_free(&out);
}

void api_kafka_messages(api_request *req)
{
    char err[1024];
    buf out = BUF_INIT;
    long long partition = 0, offset = -1, limit = KAFKA_BROWSE_LIMIT_DEFAULT;
    kafka_browser *kb = api_kafka_browser(req);
    if (!kb)
        return;
    if (api_query_int(req, "partition", 0, INT32_MAX, &partition) < 0 ||
        api_query_int(req, "offset", 0, INT64_MAX, &offset) < 0 ||
        api_query_int(req, "limit", 1, KAFKA_BROWSE_LIMIT_MAX, &limit) < 0)
        return;
    if (!kafka_topic_name_valid(req->param)) {
        api_send_error(req, 400, "not a Kafka topic name: use 1 to %d letters, digits, '.', '_' or '-'",
                       KAFKA_TOPIC_NAME_MAX);
        return;
    }
    kafka_browse_query q = {req->param, (int32_t)partition, offset, (int)limit};
    kafka_browse_rc rc = kafka_browser_messages(kb, &q, &out, err, sizeof err);
    if (rc == KAFKA_BROWSE_OK)
        api_send_json(req, 200, &out, NULL);
    else
        api_kafka_fail(req, rc, err);
    buf_free(&out);
}
