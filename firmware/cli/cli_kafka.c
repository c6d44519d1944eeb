/* cli_kafka: the Kafka sink of `sluice capture --format kafka` and its latency summary
 * (see cli_kafka.h). Mirrors the daemon's pipeline: kafka.* settings, the options override
 * kafka.brokers and the topic prefix. */
#include "cli/cli_kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "sinks/kafka/kafka_sink.h"
#include "store/confmap.h"

#define CLI_KAFKA_LATENCY "sluice_kafka_commit_to_ack_seconds"

int cli_kafka_sink_create(const cli_kafka_options *o, const config *cfg, ack_tracker *ack, metrics *m,
                          volatile sig_atomic_t *stop, kafka_embedded **embedded, sink *out, char *err,
                          size_t errlen)
{
    char why[512];
    kafka_options ko;
    kafka_options_from_config(cfg, o->db, &ko);
    /* Options obey the same rules as the settings they override. */
    if (o->brokers && confmap_check(confmap_find("kafka.brokers"), o->brokers, why, sizeof why) < 0) {
        snprintf(err, errlen, "--kafka-brokers: %s", why);
        return -1;
    }
    if (o->prefix && confmap_check(confmap_find("kafka.topic_prefix"), o->prefix, why, sizeof why) < 0) {
        snprintf(err, errlen, "--name: %s", why);
        return -1;
    }
    if (o->brokers)
        ko.brokers = o->brokers;
    if (o->prefix)
        ko.topic_prefix = ko.encoding.name = o->prefix;
    if (!ko.brokers) {
        snprintf(err, errlen, "no Kafka brokers: give --kafka-brokers or set kafka.brokers");
        return -1;
    }
    int embed = strcmp(ko.brokers, KAFKA_EMBEDDED) == 0;
    if (embed && !(*embedded = kafka_embedded_create(1, err, errlen)))
        return -1;
    kafka_sink_deps kd = {.ack = ack, .ack_index = 0, .metrics = m, .embedded = embed ? *embedded : NULL,
                          .stop = stop};
    if (kafka_sink_create(&ko, &kd, out, err, errlen) < 0)
        return -1;
    log_info("capture", "sink: kafka %s, topics %s.<schema>.<table>",
             embed ? kafka_embedded_bootstraps(*embedded) : ko.brokers, ko.topic_prefix);
    return 0;
}

void cli_kafka_log_latency(metrics *m)
{
    /* The histogram is the sink's (found by name, bounds ignored); its count is only rendered. */
    metric *h = metrics_histogram(m, CLI_KAFKA_LATENCY, NULL, NULL, NULL, 0);
    static const char count_line[] = "\n" CLI_KAFKA_LATENCY "_count ";
    buf text = BUF_INIT;
    metrics_render(m, &text);
    const char *count = text.data ? strstr(text.data, count_line) : NULL;
    unsigned long long n = count ? strtoull(count + sizeof count_line - 1, NULL, 10) : 0;
    buf_free(&text);
    log_info("capture", "commit-to-ack transactions=%llu p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f", n,
             metric_quantile(h, 0.50) * 1000, metric_quantile(h, 0.90) * 1000, metric_quantile(h, 0.99) * 1000);
}
