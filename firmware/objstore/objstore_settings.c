/* objstore_settings: the `s3.*` configuration map (validation, `sluice check`, the settings API
 * and docs/CONFIGURATION.md come from it); objstore_s3_options_from_config() reads it. */
#include "objstore/objstore_settings.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* S3 bucket naming rules: 3 to 63 lower-case letters, digits, dots and hyphens, starting and
 * ending with a letter or digit. */
static int check_bucket(const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n < 3 || n > 63 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n ||
        !isalnum((unsigned char)v[0]) || !isalnum((unsigned char)v[n - 1])) {
        snprintf(err, errlen, "'%s' is not a valid bucket name: 3 to 63 lower-case letters, digits, dots "
                 "or hyphens, beginning and ending with a letter or digit", v);
        return -1;
    }
    return 0;
}

/* http:// or https:// followed by host[:port], nothing after it but an optional '/'. */
static int check_endpoint(const char *v, char *err, size_t errlen)
{
    const char *rest = strncmp(v, "https://", 8) == 0 ? v + 8 : strncmp(v, "http://", 7) == 0 ? v + 7 : NULL;
    size_t hl = rest ? strcspn(rest, "/?#@ ") : 0;
    if (!rest || hl == 0 || (rest[hl] && strcmp(rest + hl, "/") != 0)) {
        snprintf(err, errlen, "'%s' is not an endpoint URL: write http://host:port or https://host[:port] "
                 "without a path", v);
        return -1;
    }
    return 0;
}

/* A key prefix: printable, no leading '/', no '.' or '..' segment. */
static int check_prefix(const char *v, char *err, size_t errlen)
{
    int ok = v[0] != '/' && strlen(v) <= 512;
    for (const unsigned char *p = (const unsigned char *)v; ok && *p; p++)
        ok = *p >= 0x20 && *p != 0x7f && *p != '&';
    for (const char *p = v; ok && *p;) {
        size_t n = strcspn(p, "/");
        ok = !((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) && (n > 0 || !p[n + 1]);
        p += n;
        if (*p == '/')
            p++;
    }
    if (!ok) {
        snprintf(err, errlen, "'%s' is not a key prefix: no leading '/', no '.' or '..' or empty segment, "
                 "no control characters or '&'", v);
        return -1;
    }
    return 0;
}

/* A region name: lower-case letters, digits and hyphens. */
static int check_region(const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n == 0 || n > 40 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != n) {
        snprintf(err, errlen, "'%s' is not a region name (e.g. us-east-1, eu-west-3)", v);
        return -1;
    }
    return 0;
}

static const conf_setting s3_settings[] = {
    {"s3.access_key_id", CONF_STRING, NULL, 0, 0, NULL,
     "Access key ID the lake writers sign S3 requests with; unset uses the AWS credential chain "
     "(AWS_* environment variables, the shared credentials file, ECS container credentials, the EC2 "
     "instance role).", NULL},
    {"s3.secret_access_key", CONF_SECRET, NULL, 0, 0, NULL,
     "Secret access key belonging to `s3.access_key_id`; stored encrypted.", NULL},
    {"s3.endpoint", CONF_STRING, NULL, 0, 0, NULL,
     "S3 endpoint URL for S3-compatible stores (e.g. `http://minio:9000`); unset uses AWS, "
     "`https://s3.<region>.amazonaws.com`.", check_endpoint},
    {"s3.region", CONF_STRING, "us-east-1", 0, 0, NULL,
     "Region of the bucket, used for request signing and AWS's endpoint.", check_region},
    {"s3.bucket", CONF_STRING, NULL, 0, 0, NULL,
     "Bucket the lake writers put the bronze, silver and gold layers in.", check_bucket},
    {"s3.prefix", CONF_STRING, NULL, 0, 0, NULL,
     "Key prefix inside the bucket under which everything is written (`lake` puts objects under "
     "`lake/`); unset writes at the top of the bucket.", check_prefix},
    {"s3.path_style", CONF_BOOL, "false", 0, 0, NULL,
     "Address the bucket in the path (`host/bucket/key`) instead of the host name "
     "(`bucket.host/key`, AWS's virtual-hosted style). `true` is typical for custom endpoints "
     "(MinIO and other S3-compatible stores). Buckets with dots use the path over HTTPS anyway.", NULL},
    {"s3.sse", CONF_ENUM, "none", 0, 0, "none|AES256|aws:kms",
     "Server-side encryption requested for new objects: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS); "
     "`none` leaves it to the bucket's default.", NULL},
    {"s3.sse_kms_key_id", CONF_STRING, NULL, 0, 0, NULL,
     "KMS key (id, alias or ARN) for `s3.sse=aws:kms`; unset uses the account's AWS managed key.", NULL},
    {"s3.ca_file", CONF_STRING, NULL, 0, 0, NULL,
     "PEM file of CA certificates to verify an https endpoint with; unset uses the system's bundle. "
     "Verification cannot be turned off.", NULL},
    {"s3.conditional_writes", CONF_BOOL, "true", 0, 0, NULL,
     "Send `If-None-Match: *` for writes that must not replace an object (AWS S3 supports it since "
     "2024). Set `false` for stores that answer 501 NotImplemented: the object is then looked up "
     "first, which is not safe against concurrent writers.", NULL},
    {"s3.request_timeout", CONF_DURATION, "30s", 1, 3600, NULL,
     "Longest time one S3 request attempt may take, from connecting to the last byte of the answer; "
     "a timed-out attempt is retried.", NULL},
    {"s3.max_retries", CONF_INT, "5", 0, 50, NULL,
     "How often a failed S3 request (5xx, 429/SlowDown, a timeout or a reset connection) is tried "
     "again, waiting a random time up to 0.1 s, 0.2 s, 0.4 s, ... (at most 20 s) before each.", NULL},
};

const conf_module s3_conf_module = {
    "s3", "Object storage used by the lake writers (AWS S3 or an S3-compatible store).", s3_settings,
    COUNT(s3_settings)};
