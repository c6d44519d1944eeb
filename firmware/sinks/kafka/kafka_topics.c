/* kafka_topics: topic handles, created on first use (see kafka_topics.h). */
#include "sinks/kafka/kafka_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define TOPIC_CREATE_TIMEOUT_MS 10000

typedef struct topic_entry {
    char *name;
    rd_kafka_topic_t *rkt;
} topic_entry;

struct kafka_topics {
    rd_kafka_t *rk;
    kafka_embedded *embedded;
    int partitions, replication;
    int no_admin;               /* the cluster has no CreateTopics: rely on auto-creation */
    topic_entry *items;
    size_t n, cap;
};

kafka_topics *kafka_topics_create(rd_kafka_t *rk, kafka_embedded *embedded, int partitions, int replication)
{
    kafka_topics *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->rk = rk;
    t->embedded = embedded;
    t->partitions = partitions > 0 ? partitions : 1;
    t->replication = replication;
    return t;
}

void kafka_topics_destroy(kafka_topics *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        rd_kafka_topic_destroy(t->items[i].rkt);
        free(t->items[i].name);
    }
    free(t->items);
    free(t);
}

/* 1 when the cluster already has the topic (asked without creating it: all-topics metadata). */
static int topics_exists(kafka_topics *t, const char *name)
{
    const struct rd_kafka_metadata *md = NULL;
    int found = 0;
    if (rd_kafka_metadata(t->rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    for (int i = 0; i < md->topic_cnt && !found; i++)
        found = strcmp(md->topics[i].topic, name) == 0 && !md->topics[i].err;
    rd_kafka_metadata_destroy(md);
    return found;
}

/* CreateTopics through the Admin API, waiting for the result. */
static int topics_admin_create(kafka_topics *t, const char *name, char *err, size_t errlen)
{
    char rderr[256];
    int rc = -1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(t->rk);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, t->partitions, t->replication, rderr, sizeof rderr);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(t->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_event_t *ev = NULL;
    if (!nt) {
        snprintf(err, errlen, "cannot create topic %s: %s", name, rderr);
        goto out;
    }
    rd_kafka_AdminOptions_set_operation_timeout(opts, TOPIC_CREATE_TIMEOUT_MS, NULL, 0);
    rd_kafka_AdminOptions_set_request_timeout(opts, TOPIC_CREATE_TIMEOUT_MS, NULL, 0);
    rd_kafka_CreateTopics(t->rk, &nt, 1, opts, q);
    ev = rd_kafka_queue_poll(q, TOPIC_CREATE_TIMEOUT_MS + 5000);
    if (!ev) {
        snprintf(err, errlen, "cannot create topic %s: no answer from the cluster within %d s", name,
                 TOPIC_CREATE_TIMEOUT_MS / 1000);
        goto out;
    }
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    const char *why = rd_kafka_event_error_string(ev);
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t nres = 0;
    const rd_kafka_topic_result_t **tr = res ? rd_kafka_CreateTopics_result_topics(res, &nres) : NULL;
    if (!e && nres == 1) {
        e = rd_kafka_topic_result_error(tr[0]);
        why = rd_kafka_topic_result_error_string(tr[0]);
    }
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        if (!e)
            log_info("kafka", "created topic %s (%d partitions)", name, t->partitions);
        rc = 0;
    } else if (e == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || e == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
               e == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        /* No CreateTopics (or no controller answering it, as librdkafka's mock cluster): the
         * brokers' own auto-creation is the only way left; a topic it refuses fails delivery. */
        log_warn("kafka", "cannot create topic %s through the Admin API (%s); relying on the brokers' automatic "
                 "topic creation from now on", name, why && *why ? why : rd_kafka_err2str(e));
        t->no_admin = 1;
        rc = 0;
    } else {
        snprintf(err, errlen, "cannot create topic %s: %s", name, why && *why ? why : rd_kafka_err2str(e));
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (nt)
        rd_kafka_NewTopic_destroy(nt);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return rc;
}

rd_kafka_topic_t *kafka_topics_get(kafka_topics *t, const char *name, char *err, size_t errlen)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->items[i].name, name) == 0)
            return t->items[i].rkt;
    if (t->embedded) {
        if (kafka_embedded_topic_create(t->embedded, name, t->partitions, t->replication, err, errlen) < 0)
            return NULL;
    } else if (!t->no_admin && !topics_exists(t, name) && topics_admin_create(t, name, err, errlen) < 0) {
        return NULL;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        topic_entry *items = realloc(t->items, cap * sizeof *items);
        if (!items) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        t->items = items;
        t->cap = cap;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(t->rk, name, NULL);
    char *copy = strdup(name);
    if (!rkt || !copy) {
        snprintf(err, errlen, "cannot open topic %s: %s", name, rd_kafka_err2str(rd_kafka_last_error()));
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        free(copy);
        return NULL;
    }
    t->items[t->n++] = (topic_entry){copy, rkt};
    return rkt;
}
