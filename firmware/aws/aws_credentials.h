/* aws_credentials: AWS credentials from the standard chain, the same for S3 and MSK IAM:
 * explicit settings, then the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), then the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials, profile AWS_PROFILE or "default"), then container credentials (ECS task
 * role, EKS Pod Identity), then the EC2 instance role through IMDSv2 (token PUT, then the role's
 * credentials; they carry an expiry; skipped when AWS_EC2_METADATA_DISABLED=true, as in the AWS
 * SDKs).
 * Container credentials, as the AWS SDKs read them: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is a
 * path on the ECS agent, http://169.254.170.2<uri>; otherwise AWS_CONTAINER_CREDENTIALS_FULL_URI
 * is a whole http:// URL whose host must be a loopback address (localhost, 127.0.0.0/8, [::1]) or
 * the ECS/EKS agent (169.254.170.2, 169.254.170.23, [fd00:ec2::23]); https is not supported. The
 * request carries "Authorization: <token>" from the file named by
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on every fetch), else from
 * AWS_CONTAINER_AUTHORIZATION_TOKEN. The answer is the same JSON document as the instance role's.
 * When either URI variable is set and the fetch fails, resolving fails: the chain does not go on
 * to the instance role (which would be the host's identity, not the task's).
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
    char source[32];            /* "settings", "environment", "shared file", "container",
                                 * "instance role" */
} aws_credentials;

typedef struct aws_credential_source {
    const char *access_key_id;      /* explicit settings; NULL = go down the chain */
    const char *secret_access_key;
    const char *session_token;
    char *const *envp;              /* environment to read (NULL = the process's environ) */
    const char *imds_endpoint;      /* NULL = $AWS_EC2_METADATA_SERVICE_ENDPOINT, else
                                       http://169.254.169.254; "" = skip the instance role */
    int imds_timeout_ms;            /* 0 = 1000 */
    /* Where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is looked up, "http://host[:port]" (tests
     * serve one on loopback): NULL = http://169.254.170.2; "" = skip container credentials
     * (both URI variables). */
    const char *container_endpoint;
    int container_timeout_ms;       /* 0 = 1000 */
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
