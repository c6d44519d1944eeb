/* errbuf: writing a failure's reason into the caller's err buffer, the project's error style. */
#ifndef SLUICE_CORE_ERRBUF_H
#define SLUICE_CORE_ERRBUF_H

#include <stddef.h>

/* printf into err (when err and errlen are set) and return -1, so `return err_setf(...)` reads
 * as a failure. */
int err_setf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
