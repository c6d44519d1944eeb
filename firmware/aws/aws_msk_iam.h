/* aws_msk_iam: the token for Amazon MSK IAM authentication (SASL/OAUTHBEARER), as the
 * aws-msk-iam-sasl-signer libraries build it: a SigV4-presigned GET of
 * https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect (service "kafka-cluster",
 * expiry 900 s), plus User-Agent=<agent>, base64url-encoded without padding. */
#ifndef SLUICE_AWS_AWS_MSK_IAM_H
#define SLUICE_AWS_AWS_MSK_IAM_H

#include <stddef.h>
#include <stdint.h>
#include "aws/aws_credentials.h"
#include "core/buf.h"

/* Append the token; *expires_ms receives its lifetime end (Unix ms) for librdkafka.
 * The user agent is "sluice/<version>". */
int aws_msk_iam_token(const char *region, const aws_credentials *c, int64_t now_unix, buf *out,
                      int64_t *expires_ms, char *err, size_t errlen);

/* The same with the User-Agent query value given (tests pin it so the token stays fixed). */
int aws_msk_iam_token_build(const char *region, const aws_credentials *c, int64_t now_unix,
                            const char *user_agent, buf *out, int64_t *expires_ms, char *err,
                            size_t errlen);

#endif
