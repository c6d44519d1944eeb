/* objstore_s3: the object store (objstore.h) on Amazon S3 or an S3-compatible store: every request
 * signed with SigV4 (the real payload hash in x-amz-content-sha256), http:// over TCP and
 * https:// over mbedTLS, one keep-alive connection reused between requests, path-style or
 * virtual-hosted addressing, multipart uploads, If-None-Match: * for create-only puts, SSE
 * headers, ListObjectsV2 pages, and retries with full-jitter exponential backoff on 5xx, 429,
 * SlowDown, timeouts and resets. 4xx errors come back as
 * "S3 PUT bucket/key: 403 SignatureDoesNotMatch: <message>". */
#ifndef SLUICE_OBJSTORE_OBJSTORE_S3_H
#define SLUICE_OBJSTORE_OBJSTORE_S3_H

#include <stddef.h>
#include <stdint.h>

#include "objstore/objstore.h"
#include "store/config.h"

typedef struct objstore_s3_options {
    const char *bucket;             /* required */
    const char *region;             /* NULL: us-east-1 */
    const char *endpoint;           /* "http://host:port" or "https://host[:port]"; NULL: AWS's
                                       https://s3.<region>.amazonaws.com */
    const char *prefix;             /* key prefix below the bucket ("lake" -> "lake/..."); NULL: none */
    int path_style;                 /* 1: host/bucket/key; 0: bucket.host/key (virtual-hosted) */
    const char *access_key_id;      /* NULL: the AWS credential chain (environment, shared file,
                                       container, instance role) */
    const char *secret_access_key;
    const char *session_token;
    const char *sse;                /* NULL or "none", "AES256", "aws:kms" */
    const char *sse_kms_key_id;     /* with aws:kms; NULL: the account's default key */
    const char *ca_file;            /* https: PEM CA bundle; NULL: the system's */
    int conditional_writes;         /* send If-None-Match: * for create-only puts; 0: emulate
                                       them with a HEAD first (racy, for stores without it) */
    long request_timeout_ms;        /* one attempt, connect to last byte; 0: 30000 */
    int max_retries;                /* retries after the first attempt; -1: the default (5) */
    long retry_base_ms;             /* backoff base; 0: S3_RETRY_BASE_MS */
    long retry_cap_ms;              /* longest single wait; 0: S3_RETRY_CAP_MS */
    size_t list_page_keys;          /* ListObjectsV2 max-keys; 0: 1000 */
    const char *connect_address;    /* "host:port" to connect to instead of the endpoint's host
                                       (like curl --resolve); the Host header and signature keep
                                       the endpoint's name. NULL: the endpoint's host */
    int64_t (*now_unix)(void *arg); /* clock for signing and credential expiry; NULL: time() */
    void *now_arg;
} objstore_s3_options;

/* Open the store; nothing is sent yet (the first request connects). NULL with the reason in err
 * (a bad endpoint, a missing bucket). */
objstore *objstore_s3_create(const objstore_s3_options *o, char *err, size_t errlen);

/* Fill o from the s3.* settings; the strings belong to cfg. */
void objstore_s3_options_from_config(const config *cfg, objstore_s3_options *o);

/* How a request for key ("" = the bucket itself) is addressed: the Host header and the
 * unencoded path that is signed and sent. Exposed for tests. 0, or -1 with err. */
int objstore_s3_address(const objstore *s, const char *key, char *host, size_t hostlen, char *path,
                        size_t pathlen, char *err, size_t errlen);

/* Counters for tests and metrics. */
typedef struct objstore_s3_stats {
    uint64_t requests;      /* HTTP exchanges attempted */
    uint64_t connects;      /* connections opened */
    uint64_t retries;       /* attempts after a failed one, backoff included */
    uint64_t reconnects;    /* transparent reconnects of a reused connection found closed */
} objstore_s3_stats;

void objstore_s3_stats_get(const objstore *s, objstore_s3_stats *out);

#endif
