/* kafka_conf: kafka.* settings to kafka_options, and kafka_options to librdkafka configurations
 * for the producer, the message browser's consumer and the admin client (see kafka_conf.h). */
#include "sinks/kafka/kafka_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws_credentials.h"
#include "aws/aws_msk_iam.h"
#include "core/log.h"

void kafka_options_from_config(const config *cfg, const char *db, kafka_options *o)
{
    memset(o, 0, sizeof *o);
    o->brokers = config_get(cfg, "kafka.brokers");
    o->topic_prefix = config_get(cfg, "kafka.topic_prefix");
    o->partitions = (int)config_int(cfg, "kafka.partitions");
    o->replication_factor = (int)config_int(cfg, "kafka.replication_factor");
    o->compression = config_get(cfg, "kafka.compression");
    o->tombstones = config_bool(cfg, "kafka.tombstones_on_delete");
    o->skipped_operations = config_get(cfg, "kafka.skipped_operations");
    o->transaction_metadata = config_bool(cfg, "kafka.transaction_metadata");
    o->heartbeat_ms = (long)config_duration_ms(cfg, "kafka.heartbeat_interval");
    o->heartbeat_prefix = config_get(cfg, "kafka.heartbeat_topics_prefix");
    o->dlq_topic = config_get(cfg, "kafka.dlq_topic");
    o->buffer_kib = (long)config_int(cfg, "kafka.buffer_size");
    o->linger_ms = (long)config_int(cfg, "kafka.linger_ms");
    o->encoding.name = o->topic_prefix;
    o->encoding.db = db;
    debezium_decimal_mode_parse(config_get(cfg, "kafka.decimal_handling_mode"), &o->encoding.decimal);
    debezium_time_mode_parse(config_get(cfg, "kafka.time_precision_mode"), &o->encoding.time);
    o->encoding.schemas = config_bool(cfg, "kafka.schemas_enable");
    o->security_protocol = config_get(cfg, "kafka.security_protocol");
    o->sasl_mechanism = config_get(cfg, "kafka.sasl_mechanism");
    o->sasl_username = config_get(cfg, "kafka.sasl_username");
    o->sasl_password = config_get(cfg, "kafka.sasl_password");
    o->ssl_ca_location = config_get(cfg, "kafka.ssl_ca_location");
    o->aws_region = config_get(cfg, "kafka.aws_region");
    if (!o->aws_region)
        o->aws_region = config_get(cfg, "s3.region");
    o->properties = config_get(cfg, "kafka.properties");
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, char *err, size_t errlen)
{
    char rderr[256];
    if (rd_kafka_conf_set(conf, key, val, rderr, sizeof rderr) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "Kafka property %s=%s: %s", key, val, rderr);
        return -1;
    }
    return 0;
}

/* "k=v,k=v" onto conf. */
static int conf_set_list(rd_kafka_conf_t *conf, const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list), *save = NULL;
    int rc = copy ? 0 : -1;
    if (!copy)
        snprintf(err, errlen, "out of memory");
    for (char *kv = copy ? strtok_r(copy, ",", &save) : NULL; kv && rc == 0; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            snprintf(err, errlen, "kafka.properties: '%s' is not key=value", kv);
            rc = -1;
            break;
        }
        *eq = '\0';
        rc = conf_set(conf, kv, eq + 1, err, errlen);
    }
    free(copy);
    return rc;
}

/* librdkafka asks for an OAUTHBEARER token (at start and before the last one expires): an Amazon
 * MSK IAM token signed with the credentials from the AWS chain. sasl.oauthbearer.config holds
 * "region=<region>". */
static void kafka_msk_iam_refresh(rd_kafka_t *rk, const char *oauthbearer_config, void *opaque)
{
    (void)opaque;
    char err[512], region[64] = "";
    const char *r = oauthbearer_config ? strstr(oauthbearer_config, "region=") : NULL;
    if (r)
        snprintf(region, sizeof region, "%.*s", (int)strcspn(r + 7, " ,;"), r + 7);
    aws_credentials creds;
    aws_credential_source src = {0};
    buf token = BUF_INIT;
    int64_t expires_ms = 0;
    if (!region[0]) {
        snprintf(err, sizeof err, "no AWS region for MSK IAM: set kafka.aws_region");
    } else if (aws_credentials_resolve(&src, &creds, err, sizeof err) == 0 &&
               aws_msk_iam_token(region, &creds, (int64_t)time(NULL), &token, &expires_ms, err, sizeof err) == 0) {
        char rderr[256];
        if (rd_kafka_oauthbearer_set_token(rk, token.data, expires_ms, "sluice", NULL, 0, rderr, sizeof rderr) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            buf_free(&token);
            return;
        }
        snprintf(err, sizeof err, "librdkafka refused the MSK IAM token: %s", rderr);
    }
    buf_free(&token);
    log_error("kafka", "MSK IAM authentication: %s", err);
    rd_kafka_oauthbearer_set_token_failure(rk, err);
}

static int conf_security(rd_kafka_conf_t *conf, const kafka_options *o, char *err, size_t errlen)
{
    if (o->security_protocol && conf_set(conf, "security.protocol", o->security_protocol, err, errlen) < 0)
        return -1;
    if (!o->security_protocol || strncmp(o->security_protocol, "sasl", 4) != 0)
        return o->ssl_ca_location ? conf_set(conf, "ssl.ca.location", o->ssl_ca_location, err, errlen) : 0;
    if (o->ssl_ca_location && conf_set(conf, "ssl.ca.location", o->ssl_ca_location, err, errlen) < 0)
        return -1;
    if (o->sasl_mechanism && strcmp(o->sasl_mechanism, "AWS_MSK_IAM") == 0) {
        char cfgstr[96];
        snprintf(cfgstr, sizeof cfgstr, "region=%s", o->aws_region ? o->aws_region : "");
        if (conf_set(conf, "sasl.mechanisms", "OAUTHBEARER", err, errlen) < 0 ||
            conf_set(conf, "sasl.oauthbearer.config", cfgstr, err, errlen) < 0)
            return -1;
        rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, kafka_msk_iam_refresh);
        return 0;
    }
    if (conf_set(conf, "sasl.mechanisms", o->sasl_mechanism ? o->sasl_mechanism : "SCRAM-SHA-512", err, errlen) < 0)
        return -1;
    if (!o->sasl_username || !o->sasl_password) {
        snprintf(err, errlen, "%s needs kafka.sasl_username and kafka.sasl_password", o->security_protocol);
        return -1;
    }
    return conf_set(conf, "sasl.username", o->sasl_username, err, errlen) < 0 ||
                   conf_set(conf, "sasl.password", o->sasl_password, err, errlen) < 0
               ? -1
               : 0;
}

static int conf_producer(rd_kafka_conf_t *conf, const kafka_options *o, char *err, size_t errlen)
{
    char kib[32], linger[32];
    snprintf(kib, sizeof kib, "%ld", o->buffer_kib > 0 ? o->buffer_kib : 65536);
    snprintf(linger, sizeof linger, "%ld", o->linger_ms);
    const char *const props[][2] = {
        {"enable.idempotence", "true"},       /* no duplicates or reordering on retries */
        {"acks", "all"},
        {"partitioner", "murmur2_random"},    /* Java's default partitioner for keyed messages */
        {"compression.type", o->compression ? o->compression : "lz4"},
        {"queue.buffering.max.kbytes", kib},
        {"queue.buffering.max.messages", "2000000"},
        {"linger.ms", linger},
        {"message.timeout.ms", "0"},          /* retry until delivered or the producer fails */
        {"topic.metadata.refresh.interval.ms", "10000"},
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (conf_set(conf, props[i][0], props[i][1], err, errlen) < 0)
            return -1;
    return 0;
}

rd_kafka_conf_t *kafka_conf_build(const kafka_options *o, const char *bootstrap, kafka_client_kind kind,
                                  char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (conf_set(conf, "bootstrap.servers", bootstrap, err, errlen) < 0 ||
        conf_set(conf, "client.id", "sluice", err, errlen) < 0 || conf_security(conf, o, err, errlen) < 0)
        goto fail;
    if (kind == KAFKA_CLIENT_PRODUCER && conf_producer(conf, o, err, errlen) < 0)
        goto fail;
    /* Expert overrides apply to the producer only: consumer and admin keep their own settings. */
    if (kind == KAFKA_CLIENT_PRODUCER && o->properties && conf_set_list(conf, o->properties, err, errlen) < 0)
        goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
