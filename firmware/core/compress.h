/* compress: streaming compression of a byte stream into a file descriptor, gzip (zlib, a
 * standard .gz member any gunzip or DuckDB reads) or zstd (one frame, with the content
 * checksum). Output is written through a fixed buffer, so memory stays constant whatever the
 * input size. Ownership: the writer borrows fd (the caller closes it). */
#ifndef SLUICE_CORE_COMPRESS_H
#define SLUICE_CORE_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

typedef enum compress_codec { COMPRESS_GZIP = 0, COMPRESS_ZSTD } compress_codec;

typedef struct compress_writer compress_writer;

/* "gzip" / "zstd" and the file name suffix of each (".gz", ".zst"). parse: 0 or -1. */
int compress_codec_parse(const char *s, compress_codec *out);
const char *compress_codec_suffix(compress_codec c);

/* A writer appending compressed output to fd. NULL with the reason in err. */
compress_writer *compress_writer_create(compress_codec codec, int fd, char *err, size_t errlen);
/* Compress len bytes. 0, or -1 with the reason in err (a write error names errno). */
int compress_writer_write(compress_writer *w, const void *data, size_t len, char *err, size_t errlen);
/* End the stream (trailer written, everything on fd). 0 or -1 with err. */
int compress_writer_finish(compress_writer *w, char *err, size_t errlen);
/* Bytes written to fd so far (compressed), and bytes taken in. */
uint64_t compress_writer_out_bytes(const compress_writer *w);
uint64_t compress_writer_in_bytes(const compress_writer *w);
void compress_writer_destroy(compress_writer *w);   /* accepts NULL */

#endif
