/* parquet_output: where a Parquet file's bytes go, as an ops-style callback (a file descriptor,
 * an in-memory buffer, later an object store multipart upload). The writer calls write with the
 * file's bytes in order, never seeking. Ownership: the output and its ctx are the caller's; the
 * writer borrows them until parquet_writer_close/destroy. */
#ifndef SLUICE_SINKS_LAKE_PARQUET_OUTPUT_H
#define SLUICE_SINKS_LAKE_PARQUET_OUTPUT_H

#include <stddef.h>

typedef struct parquet_output {
    /* Append len bytes. 0, or -1 with the reason in err (the file is then unusable). */
    int (*write)(void *ctx, const void *data, size_t len, char *err, size_t errlen);
    void *ctx;
} parquet_output;

/* Ready-made outputs: ctx is an int * (a file descriptor; short writes and EINTR retried) or a
 * buf * (core/buf.h; the bytes are appended). */
int parquet_output_fd_write(void *ctx, const void *data, size_t len, char *err, size_t errlen);
int parquet_output_buf_write(void *ctx, const void *data, size_t len, char *err, size_t errlen);

#endif
