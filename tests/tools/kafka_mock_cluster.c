/* kafka_mock_cluster: a Kafka cluster for the runtime tests (label kafka). It runs librdkafka's
 * mock cluster, a real Kafka-protocol server on loopback ports that Sluice's producer and kcat
 * talk to, and lets a test script break it on command: brokers down and up, injected request
 * errors, round-trip delays. Not part of the appliance; see tests/runtime/kafka.bash.
 *
 *   kafka_mock_cluster [--brokers N] [--control FIFO]
 *
 * Prints `bootstrap=<host:port,...>` on stdout, then reads one command per line from stdin (or
 * from FIFO) until end of file or `quit`, answering each with one line, `ok` or `error: ...`:
 *   topic NAME PARTITIONS RF        create a topic
 *   down ID|all, up ID|all          take broker ID (1..N) off the network / bring it back
 *   errors APIKEY ERRCODE COUNT     the next COUNT requests of APIKEY fail with ERRCODE
 *                                   (APIKEY: a number or Produce, Fetch, Metadata, ...;
 *                                   ERRCODE: a number or a name such as NOT_ENOUGH_REPLICAS)
 *   rtt ID|all MS                   delay every response of broker ID by MS milliseconds
 *   topic_error TOPIC ERRCODE       metadata requests for TOPIC answer ERRCODE (0 clears)
 *   leader TOPIC PARTITION ID       move a partition's leadership to broker ID
 *   clear                           drop all injected request errors and topic errors
 *   quit                            stop the cluster and exit */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOPIC_ERRORS 64
#define MAX_API_KEY 80   /* above every ApiKey librdkafka 2.0 knows */

typedef struct mock_tool {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int nbrokers;
    char *topic_errors[MAX_TOPIC_ERRORS];   /* topics given a topic_error, for `clear` */
    int ntopic_errors;
} mock_tool;

static const struct {
    const char *name;
    int key;
} api_keys[] = {
    {"Produce", 0},        {"Fetch", 1},           {"ListOffsets", 2},     {"Metadata", 3},
    {"OffsetCommit", 8},   {"OffsetFetch", 9},     {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},     {"LeaveGroup", 13},     {"SyncGroup", 14},      {"ApiVersions", 18},
    {"CreateTopics", 19},  {"InitProducerId", 22}, {"AddPartitionsToTxn", 24}, {"EndTxn", 26},
};

/* Reply on stdout, flushed so a script waiting for it sees it at once. */
static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_api_key(const char *s, int *out)
{
    long v;
    if (parse_int(s, 0, MAX_API_KEY, &v) == 0) {
        *out = (int)v;
        return 0;
    }
    for (size_t i = 0; s && i < sizeof api_keys / sizeof api_keys[0]; i++) {
        if (strcasecmp(s, api_keys[i].name) == 0) {
            *out = api_keys[i].key;
            return 0;
        }
    }
    return -1;
}

/* A Kafka error code as a number, or its librdkafka name without the RD_KAFKA_RESP_ERR_ prefix. */
static int parse_error_code(const char *s, rd_kafka_resp_err_t *out)
{
    long v;
    if (parse_int(s, -200, 200, &v) == 0) {
        *out = (rd_kafka_resp_err_t)v;
        return 0;
    }
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; s && i < n; i++) {
        if (descs[i].name && strcasecmp(s, descs[i].name) == 0) {
            *out = descs[i].code;
            return 0;
        }
    }
    return -1;
}

/* A broker id 1..N, or `all` (-1). */
static int parse_broker(const mock_tool *t, const char *s, int32_t *out)
{
    long v;
    if (s && strcmp(s, "all") == 0) {
        *out = -1;
        return 0;
    }
    if (parse_int(s, 1, t->nbrokers, &v) < 0)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static void reply_err(rd_kafka_resp_err_t err)
{
    if (err)
        reply("error: %s", rd_kafka_err2str(err));
    else
        reply("ok");
}

static int remember_topic_error(mock_tool *t, const char *topic)
{
    for (int i = 0; i < t->ntopic_errors; i++)
        if (strcmp(t->topic_errors[i], topic) == 0)
            return 0;
    if (t->ntopic_errors == MAX_TOPIC_ERRORS)
        return -1;
    if (!(t->topic_errors[t->ntopic_errors] = strdup(topic)))
        return -1;
    t->ntopic_errors++;
    return 0;
}

/* Run one command line (already split into argv); answers it. 1 on quit. */
static int command_run(mock_tool *t, int argc, char **argv)
{
    long a, b;
    int32_t broker;
    int key;
    rd_kafka_resp_err_t code;

    if (argc == 0)
        return 0;
    const char *cmd = argv[0];
    if (strcmp(cmd, "quit") == 0 && argc == 1) {
        reply("ok");
        return 1;
    }
    if (strcmp(cmd, "topic") == 0 && argc == 4) {
        if (parse_int(argv[2], 1, 10000, &a) < 0 || parse_int(argv[3], 1, t->nbrokers, &b) < 0) {
            reply("error: usage: topic NAME PARTITIONS RF (RF at most %d)", t->nbrokers);
            return 0;
        }
        reply_err(rd_kafka_mock_topic_create(t->mc, argv[1], (int)a, (int)b));
        return 0;
    }
    if ((strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) && argc == 2) {
        if (parse_broker(t, argv[1], &broker) < 0) {
            reply("error: broker id must be 1..%d or all", t->nbrokers);
            return 0;
        }
        reply_err(cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(t->mc, broker)
                                : rd_kafka_mock_broker_set_up(t->mc, broker));
        return 0;
    }
    if (strcmp(cmd, "errors") == 0 && argc == 4) {
        if (parse_api_key(argv[1], &key) < 0 || parse_error_code(argv[2], &code) < 0 ||
            parse_int(argv[3], 1, 10000000, &a) < 0) {
            reply("error: usage: errors APIKEY ERRCODE COUNT");
            return 0;
        }
        rd_kafka_resp_err_t *errs = malloc((size_t)a * sizeof *errs);
        if (!errs) {
            reply("error: out of memory");
            return 0;
        }
        for (long i = 0; i < a; i++)
            errs[i] = code;
        rd_kafka_mock_push_request_errors_array(t->mc, (int16_t)key, (size_t)a, errs);
        free(errs);
        reply("ok");
        return 0;
    }
    if (strcmp(cmd, "rtt") == 0 && argc == 3) {
        if (parse_broker(t, argv[1], &broker) < 0 || parse_int(argv[2], 0, 600000, &a) < 0) {
            reply("error: usage: rtt ID|all MS");
            return 0;
        }
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (int32_t id = broker < 0 ? 1 : broker; id <= (broker < 0 ? t->nbrokers : broker) && !err; id++)
            err = rd_kafka_mock_broker_set_rtt(t->mc, id, (int)a);
        reply_err(err);
        return 0;
    }
    if (strcmp(cmd, "topic_error") == 0 && argc == 3) {
        if (parse_error_code(argv[2], &code) < 0) {
            reply("error: usage: topic_error TOPIC ERRCODE");
            return 0;
        }
        if (code && remember_topic_error(t, argv[1]) < 0) {
            reply("error: too many topic errors");
            return 0;
        }
        rd_kafka_mock_topic_set_error(t->mc, argv[1], code);
        reply("ok");
        return 0;
    }
    if (strcmp(cmd, "leader") == 0 && argc == 4) {
        if (parse_int(argv[2], 0, 9999, &a) < 0 || parse_broker(t, argv[3], &broker) < 0 || broker < 0) {
            reply("error: usage: leader TOPIC PARTITION ID");
            return 0;
        }
        reply_err(rd_kafka_mock_partition_set_leader(t->mc, argv[1], (int32_t)a, broker));
        return 0;
    }
    if (strcmp(cmd, "clear") == 0 && argc == 1) {
        for (int k = 0; k <= MAX_API_KEY; k++)
            rd_kafka_mock_clear_request_errors(t->mc, (int16_t)k);
        for (int i = 0; i < t->ntopic_errors; i++)
            rd_kafka_mock_topic_set_error(t->mc, t->topic_errors[i], RD_KAFKA_RESP_ERR_NO_ERROR);
        reply("ok");
        return 0;
    }
    reply("error: unknown command or wrong arguments: %s (try topic, down, up, errors, rtt, "
          "topic_error, leader, clear, quit)", cmd);
    return 0;
}

/* Split line in place on blanks; at most max words. */
static int split_words(char *line, char **argv, int max)
{
    int n = 0;
    for (char *save = NULL, *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == max)
            return -1;
        argv[n++] = w;
    }
    return n;
}

static int usage(void)
{
    fputs("usage: kafka_mock_cluster [--brokers N] [--control FIFO]\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    mock_tool t = {.nbrokers = 1};
    const char *control = NULL;
    char err[512];

    for (int i = 1; i < argc; i++) {
        long v;
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc && parse_int(argv[i + 1], 1, 16, &v) == 0) {
            t.nbrokers = (int)v;
            i++;
        } else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) {
            control = argv[++i];
        } else {
            return usage();
        }
    }

    /* The mock cluster needs a client handle to live in; this one never connects anywhere. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_mock_cluster: %s\n", err);
        return 1;
    }
    if (!(t.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err))) {
        fprintf(stderr, "kafka_mock_cluster: %s\n", err);
        return 1;
    }
    if (!(t.mc = rd_kafka_mock_cluster_new(t.rk, t.nbrokers))) {
        fprintf(stderr, "kafka_mock_cluster: cannot start the mock cluster\n");
        rd_kafka_destroy(t.rk);
        return 1;
    }
    reply("bootstrap=%s", rd_kafka_mock_cluster_bootstraps(t.mc));

    FILE *in = stdin;
    if (control && !(in = fopen(control, "r"))) {
        fprintf(stderr, "kafka_mock_cluster: cannot open %s: %s\n", control, strerror(errno));
        rd_kafka_mock_cluster_destroy(t.mc);
        rd_kafka_destroy(t.rk);
        return 1;
    }
    char line[4096];
    while (fgets(line, sizeof line, in)) {
        char *words[8];
        int n = split_words(line, words, 8);
        if (n < 0) {
            reply("error: too many words");
            continue;
        }
        if (command_run(&t, n, words))
            break;
    }
    if (in != stdin)
        fclose(in);
    for (int i = 0; i < t.ntopic_errors; i++)
        free(t.topic_errors[i]);
    rd_kafka_mock_cluster_destroy(t.mc);
    rd_kafka_destroy(t.rk);
    return 0;
}
