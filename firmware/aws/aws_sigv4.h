/* aws_sigv4: AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/
 * reference_sigv4-signed-request-overview.html): canonical request, string to sign, signing key
 * (HMAC-SHA256 chain over date, region, service, "aws4_request"), as an Authorization header or
 * as a presigned URL's query string. Used by the S3 object store and the MSK IAM token.
 * Pure functions of their inputs (the time is passed in); SHA-256/HMAC from mbedTLS. */
#ifndef SLUICE_AWS_AWS_SIGV4_H
#define SLUICE_AWS_AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include "aws/aws_credentials.h"
#include "core/buf.h"

typedef struct aws_sigv4_header {
    const char *name;    /* any case; signed lower-cased and trimmed */
    const char *value;
} aws_sigv4_header;

typedef struct aws_sigv4_request {
    const char *method;            /* "GET", "PUT", ... */
    const char *host;              /* host[:port] as sent in the Host header */
    const char *path;              /* absolute path, not yet URI-encoded ("/bucket/key with space") */
    const char *query;             /* "a=1&b=x y" unencoded pairs ('&' splits, the first '='
                                      ends the name), or NULL */
    const aws_sigv4_header *headers;  /* extra headers to sign (host is always signed; host,
                                          x-amz-date, x-amz-security-token, authorization are
                                          the signer's own and refused here) */
    size_t nheaders;
    const char *payload_sha256;    /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"; NULL = of "" */
    const char *region;
    const char *service;           /* "s3", "kafka-cluster" */
    int64_t now_unix;
    int s3_path_encoding;          /* 1 for S3: the path is encoded once, not twice, and not
                                      normalized; the Authorization also signs
                                      x-amz-content-sha256 (the payload hash) */
} aws_sigv4_request;

/* Lower-case hex SHA-256 of data into out (65 bytes). */
void aws_sha256_hex(const void *data, size_t len, char out[65]);

/* Append s URI-encoded as SigV4 wants it: every byte except the RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - _ . ~) becomes %XY (upper-case hex); '/' is kept when keep_slash (a path). */
void aws_uri_encode(buf *out, const char *s, int keep_slash);

/* Append the canonical form of an unencoded query string ("a=1&b=x y"; a name without '=' has
 * the value ""): names and values URI-encoded, sorted by name, then value. Sending exactly this
 * on the wire makes the request's query the one that was signed. */
void aws_sigv4_query_encode(const char *query, buf *out);

/* Append the Authorization header value; also returns the x-amz-date value (16 bytes + NUL)
 * that must be sent with the request (and x-amz-security-token when the credentials have one,
 * x-amz-content-sha256 for S3). 0, or -1 with the reason in err. */
int aws_sigv4_authorization(const aws_sigv4_request *r, const aws_credentials *c, buf *out,
                            char amz_date[17], char *err, size_t errlen);

/* Append the presigned query string (the request's own query plus X-Amz-Algorithm, -Credential,
 * -Date, -Expires, -SignedHeaders, [-Security-Token], -Signature), URI-encoded, sorted.
 * Signs host (and the extra headers, which the user of the URL must then send); the payload hash
 * is payload_sha256 ("UNSIGNED-PAYLOAD" for S3) or that of "". expires_s: 1 to 604800. */
int aws_sigv4_presign(const aws_sigv4_request *r, const aws_credentials *c, int expires_s, buf *out,
                      char *err, size_t errlen);

#endif
