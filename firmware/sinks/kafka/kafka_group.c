/* kafka_group: the lake writers' consumer-group member (see kafka_group.h). */
#include "sinks/kafka/kafka_group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "core/log.h"

/* librdkafka's log lines, with the client's name ("sluice-bronze#consumer-1"). */
static void kg_on_log(const rd_kafka_t *rk, int level, const char *fac, const char *text)
{
    if (level <= 4)
        log_warn("kafka_group", "%s: librdkafka %s: %s", rd_kafka_name(rk), fac, text);
    else
        log_debug("kafka_group", "%s: librdkafka %s: %s", rd_kafka_name(rk), fac, text);
}

static int kg_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
    char rderr[256];
    if (rd_kafka_conf_set(conf, k, v, rderr, sizeof rderr) != RD_KAFKA_CONF_OK)
        return err_setf(err, errlen, "Kafka property %s=%s: %s", k, v, rderr);
    return 0;
}

static int kg_subscribe(rd_kafka_t *rk, const char *topics, char *err, size_t errlen)
{
    char *copy = strdup(topics), *save = NULL;
    if (!copy)
        return err_setf(err, errlen, "out of memory");
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        rd_kafka_topic_partition_list_add(l, t, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    free(copy);
    if (e)
        return err_setf(err, errlen, "cannot subscribe to %s: %s", topics, rd_kafka_err2str(e));
    return 0;
}

rd_kafka_t *kafka_group_join(const kafka_options *kafka, const kafka_group_options *o, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = kafka_conf_build(kafka, o->bootstrap, KAFKA_CLIENT_CONSUMER, err, errlen);
    if (!conf)
        return NULL;
    int session = o->session_timeout_ms > 0 ? o->session_timeout_ms : 45000;
    char session_s[32], heartbeat_s[32];
    snprintf(session_s, sizeof session_s, "%d", session);
    snprintf(heartbeat_s, sizeof heartbeat_s, "%d", session / 3 < 3000 ? session / 3 : 3000);
    const char *const props[][2] = {
        {"group.id", o->group},
        {"client.id", o->client_id},
        {"enable.auto.commit", "false"},        /* offsets move only once records are in the lake */
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"isolation.level", "read_committed"},
        {"partition.assignment.strategy", "range,roundrobin"},   /* eager */
        {"session.timeout.ms", session_s},
        {"heartbeat.interval.ms", heartbeat_s},
        {"topic.metadata.refresh.interval.ms", "10000"},   /* new topics matching a regex join soon */
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        if (kg_conf_set(conf, props[i][0], props[i][1], err, errlen) < 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_opaque(conf, o->opaque);
    if (o->rebalance)
        rd_kafka_conf_set_rebalance_cb(conf, o->rebalance);
    if (o->error)
        rd_kafka_conf_set_error_cb(conf, o->error);
    rd_kafka_conf_set_log_cb(conf, kg_on_log);
    char rderr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof rderr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        err_setf(err, errlen, "cannot create the Kafka consumer: %s", rderr);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    if (kg_subscribe(rk, o->topics, err, errlen) < 0) {
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}
