/* kafka_embedded: librdkafka's mock cluster as the appliance's in-memory broker
 * (see kafka_embedded.h). The mock cluster runs on its own thread inside a dedicated client
 * handle, which it needs to exist; nothing is ever produced through that handle. */
#include "sinks/kafka/kafka_embedded.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kafka_embedded {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int nbrokers;
    char *bootstraps;
};

kafka_embedded *kafka_embedded_create(int nbrokers, char *err, size_t errlen)
{
    char rderr[256];
    kafka_embedded *k = calloc(1, sizeof *k);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!k) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    k->nbrokers = nbrokers > 0 ? nbrokers : 1;
    /* The handle's own logging would only repeat the mock's internals. */
    rd_kafka_conf_set(conf, "log_level", "3", rderr, sizeof rderr);
    if (!(k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof rderr))) {
        snprintf(err, errlen, "cannot start the embedded broker: %s", rderr);
        goto fail;
    }
    conf = NULL;
    if (!(k->mc = rd_kafka_mock_cluster_new(k->rk, k->nbrokers))) {
        snprintf(err, errlen, "cannot start the embedded broker (librdkafka mock cluster)");
        goto fail;
    }
    if (!(k->bootstraps = strdup(rd_kafka_mock_cluster_bootstraps(k->mc)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return k;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    kafka_embedded_destroy(k);
    return NULL;
}

void kafka_embedded_destroy(kafka_embedded *k)
{
    if (!k)
        return;
    if (k->mc)
        rd_kafka_mock_cluster_destroy(k->mc);
    if (k->rk)
        rd_kafka_destroy(k->rk);
    free(k->bootstraps);
    free(k);
}

const char *kafka_embedded_bootstraps(const kafka_embedded *k)
{
    return k->bootstraps;
}

int kafka_embedded_topic_create(kafka_embedded *k, const char *topic, int partitions, int replication,
                                char *err, size_t errlen)
{
    if (replication < 1 || replication > k->nbrokers)
        replication = k->nbrokers;
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(k->mc, topic, partitions > 0 ? partitions : 1, replication);
    if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        snprintf(err, errlen, "cannot create topic %s on the embedded broker: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}
