/* aws_credentials: AWS credentials from the standard chain, the same for S3 and MSK IAM:
 * explicit settings, then the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), then the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials, profile AWS_PROFILE or "default"), then the EC2 instance role through
 * IMDSv2 (token PUT, then the role's credentials; they carry an expiry; skipped when
 * AWS_EC2_METADATA_DISABLED=true, as in the AWS SDKs).
 * Time is passed in; nothing here keeps global state. */
#ifndef SLUICE_AWS_AWS_CREDENTIALS_H
#define SLUICE_AWS_AWS_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>

typedef struct aws_credentials {
    char access_key_id[128];
    char secret_access_key[128];
    char session_token[4096];   /* "" when none */
    int64_t expires_unix;       /* 0 = does not expire */
    char source[32];            /* "settings", "environment", "shared file", "instance role" */
} aws_credentials;

typedef struct aws_credential_source {
    const char *access_key_id;      /* explicit settings; NULL = go down the chain */
    const char *secret_access_key;
    const char *session_token;
    char *const *envp;              /* environment to read (NULL = the process's environ) */
    const char *imds_endpoint;      /* NULL = http://169.254.169.254; "" = skip the instance role */
    int imds_timeout_ms;            /* 0 = 1000 */
} aws_credential_source;

/* Resolve credentials. 0, or -1 with the reason in err naming every place that was tried. */
int aws_credentials_resolve(const aws_credential_source *src, aws_credentials *out, char *err,
                            size_t errlen);

/* Parse the instance metadata service's role credentials document (JSON with Code, AccessKeyId,
 * SecretAccessKey, Token, Expiration as ISO-8601) into out (source "instance role").
 * 0, or -1 with the reason in err. */
int aws_credentials_from_imds_json(const char *json, size_t len, aws_credentials *out, char *err,
                                   size_t errlen);

#endif
