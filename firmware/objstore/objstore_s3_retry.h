/* objstore_s3_retry: when the S3 store tries a request again (the wait is core/backoff.h's). */
#ifndef SLUICE_OBJSTORE_OBJSTORE_S3_RETRY_H
#define SLUICE_OBJSTORE_OBJSTORE_S3_RETRY_H

#include <stdint.h>

#define S3_RETRY_BASE_MS 100      /* default base */
#define S3_RETRY_CAP_MS 20000     /* no single wait is longer */

/* Is a response with this HTTP status and S3 error code ("" when none) worth trying again?
 * 5xx except 501 NotImplemented, 429, and the throttling and timeout codes S3 sends with 4xx
 * (SlowDown, RequestTimeout, Throttling, ...). */
int s3_retry_status(int status, const char *code);

#endif
