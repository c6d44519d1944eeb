/* byte_output: the ready-made outputs of the file writers (see byte_output.h). */
#include "core/byte_output.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/errbuf.h"

int byte_output_fd_write(void *ctx, const void *data, size_t len, char *err, size_t errlen)
{
    int fd = *(const int *)ctx;
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_setf(err, errlen, "write: %s", strerror(errno));
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int byte_output_buf_write(void *ctx, const void *data, size_t len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    buf_append(ctx, data, len);
    return 0;
}
