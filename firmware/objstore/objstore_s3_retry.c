/* objstore_s3_retry: which S3 answers are worth another attempt (see objstore_s3_retry.h). */
#include "objstore/objstore_s3_retry.h"

#include <string.h>


int s3_retry_status(int status, const char *code)
{
    static const char *const codes[] = {"SlowDown", "RequestTimeout", "Throttling", "ThrottlingException",
                                        "InternalError", "ServiceUnavailable",
                                        "RequestLimitExceeded", "TooManyRequestsException", NULL};
    if (status == 501)
        return 0;
    if (status >= 500 || status == 429)
        return 1;
    for (int i = 0; code && codes[i]; i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}
