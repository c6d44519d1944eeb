/* objstore_put_fd: storing a local file (a spool file of the bronze or silver writers) as one
 * object: a single put when small, a multipart upload in OBJSTORE_FD_PART_BYTES parts otherwise,
 * so memory stays bounded by one part whatever the file's size. */
#include "objstore/objstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert(OBJSTORE_FD_PART_BYTES >= OBJSTORE_PART_MIN, "parts must meet the store's minimum");

/* Read len bytes at off from fd into dst. 0 or -1 with err. */
static int fd_read_at(int fd, char *dst, uint64_t off, size_t len, char *err, size_t errlen)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, dst + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "reading the spool file: %s", n < 0 ? strerror(errno) : "short file");
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

int objstore_put_fd(objstore *s, const char *key, int fd, uint64_t size, const objstore_put_options *o, char *err,
                    size_t errlen)
{
    size_t chunk = size <= OBJSTORE_FD_PUT_MAX ? (size_t)size : OBJSTORE_FD_PART_BYTES;
    char *mem = malloc(chunk ? chunk : 1);
    int rc = OBJSTORE_ERR;
    if (!mem) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    if (size <= OBJSTORE_FD_PUT_MAX) {
        if (fd_read_at(fd, mem, 0, chunk, err, errlen) == 0)
            rc = objstore_put(s, key, mem, chunk, o, err, errlen);
        goto out;
    }
    objstore_upload *u = s->ops->upload_begin(s, key, o, err, errlen);
    if (!u)
        goto out;
    for (uint64_t off = 0; off < size; off += OBJSTORE_FD_PART_BYTES) {
        size_t n = size - off < OBJSTORE_FD_PART_BYTES ? (size_t)(size - off) : OBJSTORE_FD_PART_BYTES;
        if (fd_read_at(fd, mem, off, n, err, errlen) < 0 || s->ops->upload_part(s, u, mem, n, err, errlen) < 0) {
            s->ops->upload_abort(s, u);
            goto out;
        }
    }
    rc = s->ops->upload_complete(s, u, err, errlen);
out:
    free(mem);
    return rc;
}
