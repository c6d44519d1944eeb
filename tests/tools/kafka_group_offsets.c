/* kafka_group_offsets: a consumer group's committed offsets, for the runtime tests (label lake):
 * an independent look at what the bronze consumer committed, and a way to leave the state a
 * crashed group member would have left. Not part of the appliance.
 *
 *   kafka_group_offsets BOOTSTRAP GROUP list TOPIC...
 *       one line per partition: TOPIC PARTITION COMMITTED HIGH METADATA
 *       (COMMITTED -1 when none; METADATA "-" when empty)
 *   kafka_group_offsets BOOTSTRAP GROUP commit TOPIC PARTITION OFFSET [METADATA]
 *       commit OFFSET (with METADATA) for the group, as a member outside the group would
 *   kafka_group_offsets BOOTSTRAP GROUP rewind TOPIC...
 *       join the group (which must have no other member), and once it has been given every
 *       partition of the topics, commit offset 0 for each of them and leave: what an operator's
 *       `kafka-consumer-groups --reset-offsets --to-earliest` does (a group that has had members
 *       takes commits from its members only)
 * Exit status 0, or 1 with the reason on stderr. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 10000

static rd_kafka_t *client(const char *bootstrap, const char *group)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) != RD_KAFKA_CONF_OK ||
        /* short timeouts: should a rewind's member linger, the group drops it soon */
        rd_kafka_conf_set(conf, "session.timeout.ms", "6000", err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "max.poll.interval.ms", "6000", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "conf: %s\n", err);
        exit(1);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "consumer: %s\n", err);
        exit(1);
    }
    return rk;
}

static int list(rd_kafka_t *rk, int ntopics, char **topics)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int t = 0; t < ntopics; t++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topics[t], NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, TIMEOUT_MS);
        if (e || md->topic_cnt != 1 || md->topics[0].err) {
            fprintf(stderr, "metadata of %s: %s\n", topics[t],
                    rd_kafka_err2str(e ? e : md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
            return 1;
        }
        for (int p = 0; p < md->topics[0].partition_cnt; p++)
            rd_kafka_topic_partition_list_add(l, topics[t], md->topics[0].partitions[p].id);
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
    }
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, TIMEOUT_MS);
    if (e) {
        fprintf(stderr, "committed: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &l->elems[i];
        int64_t lo = 0, hi = 0;
        e = rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, TIMEOUT_MS);
        if (e || tp->err) {
            fprintf(stderr, "%s [%d]: %s\n", tp->topic, (int)tp->partition, rd_kafka_err2str(e ? e : tp->err));
            return 1;
        }
        printf("%s %d %lld %lld ", tp->topic, (int)tp->partition, (long long)(tp->offset >= 0 ? tp->offset : -1),
               (long long)hi);
        if (tp->metadata_size)
            fwrite(tp->metadata, 1, tp->metadata_size, stdout);
        else
            fputc('-', stdout);
        fputc('\n', stdout);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return 0;
}

static int commit(rd_kafka_t *rk, const char *topic, int partition, long long offset, const char *meta)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, topic, partition);
    tp->offset = offset;
    if (meta && *meta) {
        tp->metadata = strdup(meta);
        tp->metadata_size = strlen(meta);
    }
    rd_kafka_resp_err_t e = rd_kafka_commit(rk, l, 0);
    if (!e)
        e = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        fprintf(stderr, "commit: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    return 0;
}

static int rewind_all(rd_kafka_t *rk, int ntopics, char **topics)
{
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(ntopics);
    for (int t = 0; t < ntopics; t++)
        rd_kafka_topic_partition_list_add(sub, topics[t], RD_KAFKA_PARTITION_UA);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        fprintf(stderr, "subscribe: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    rd_kafka_topic_partition_list_t *have = NULL;
    for (int i = 0; i < 600 && (!have || have->cnt == 0); i++) {   /* up to a minute */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m)
            rd_kafka_message_destroy(m);
        if (have)
            rd_kafka_topic_partition_list_destroy(have);
        have = NULL;
        if (rd_kafka_assignment(rk, &have))
            have = NULL;
    }
    if (!have || have->cnt == 0) {
        fprintf(stderr, "rewind: the group gave no partitions within a minute\n");
        return 1;
    }
    for (int i = 0; i < have->cnt; i++)
        have->elems[i].offset = 0;
    e = rd_kafka_commit(rk, have, 0);
    for (int i = 0; !e && i < have->cnt; i++)
        e = have->elems[i].err;
    int n = have->cnt;
    rd_kafka_topic_partition_list_destroy(have);
    if (e) {
        fprintf(stderr, "commit: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    printf("rewound %d partition(s)\n", n);
    rd_kafka_consumer_close(rk);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[3], "list") == 0) {
        rd_kafka_t *rk = client(argv[1], argv[2]);
        int rc = list(rk, argc - 4, argv + 4);
        rd_kafka_destroy(rk);
        return rc;
    }
    if ((argc == 7 || argc == 8) && strcmp(argv[3], "commit") == 0) {
        rd_kafka_t *rk = client(argv[1], argv[2]);
        int rc = commit(rk, argv[4], atoi(argv[5]), atoll(argv[6]), argc == 8 ? argv[7] : NULL);
        rd_kafka_destroy(rk);
        return rc;
    }
    if (argc >= 5 && strcmp(argv[3], "rewind") == 0) {
        rd_kafka_t *rk = client(argv[1], argv[2]);
        int rc = rewind_all(rk, argc - 4, argv + 4);
        rd_kafka_destroy(rk);
        return rc;
    }
    fprintf(stderr, "usage: kafka_group_offsets BOOTSTRAP GROUP list TOPIC...\n"
                    "       kafka_group_offsets BOOTSTRAP GROUP rewind TOPIC...\n"
                    "       kafka_group_offsets BOOTSTRAP GROUP commit TOPIC PARTITION OFFSET [METADATA]\n");
    return 1;
}
