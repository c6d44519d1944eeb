/* aws_credentials_provider: credentials from the chain (aws_credentials.h), cached, and resolved
 * again before they expire (temporary credentials from the instance role or a container carry an
 * expiry; they are refreshed AWS_CREDENTIALS_REFRESH_S before it, as the AWS SDKs do).
 * Time is passed in. Not thread-safe: one provider per user (S3 store, MSK IAM token).
 * Ownership: the provider copies the source's strings and its envp array (NULL envp stays NULL:
 * the process's environment as it is at each resolve). */
#ifndef SLUICE_AWS_AWS_CREDENTIALS_PROVIDER_H
#define SLUICE_AWS_AWS_CREDENTIALS_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "aws/aws_credentials.h"

#define AWS_CREDENTIALS_REFRESH_S 300

typedef struct aws_credentials_provider aws_credentials_provider;

/* src may be NULL (the whole chain from the environment). NULL when out of memory. */
aws_credentials_provider *aws_credentials_provider_create(const aws_credential_source *src);
void aws_credentials_provider_destroy(aws_credentials_provider *p);   /* accepts NULL */

/* The current credentials into *out: cached ones while they are valid for more than
 * AWS_CREDENTIALS_REFRESH_S seconds after now_unix (or never expire), else resolved again.
 * When a refresh fails but the cached credentials have not expired yet, those are returned with
 * 0 and the refresh failure left in err (the failure is retried on the next call). Freshly
 * resolved credentials that have already expired at now_unix count as a failed refresh.
 * 0, or -1 with the reason in err. */
int aws_credentials_provider_get(aws_credentials_provider *p, int64_t now_unix, aws_credentials *out, char *err,
                                 size_t errlen);

#endif
