/* byte_output: where a file writer's bytes go (the Parquet writer, the Avro container writer), as
 * an ops-style callback: a file descriptor, an in-memory buffer, later an object store multipart
 * upload. Writers call write with the file's bytes in order, never seeking. Ownership: the output
 * and its ctx are the caller's; a writer borrows them until it is closed or destroyed. */
#ifndef SLUICE_CORE_BYTE_OUTPUT_H
#define SLUICE_CORE_BYTE_OUTPUT_H

#include <stddef.h>

typedef struct byte_output {
    /* Append len bytes. 0, or -1 with the reason in err (the file is then unusable). */
    int (*write)(void *ctx, const void *data, size_t len, char *err, size_t errlen);
    void *ctx;
} byte_output;

/* Ready-made outputs: ctx is an int * (a file descriptor; short writes and EINTR retried) or a
 * buf * (core/buf.h; the bytes are appended). */
int byte_output_fd_write(void *ctx, const void *data, size_t len, char *err, size_t errlen);
int byte_output_buf_write(void *ctx, const void *data, size_t len, char *err, size_t errlen);

#endif
