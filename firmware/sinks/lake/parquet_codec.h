/* parquet_codec: page compression for the Parquet writer: none, zstd (libzstd) or snappy
 * (libsnappy's C API), one codec per file. Ownership: the codec owns its compression context
 * (parquet_codec_destroy); output goes into a caller-owned buf. */
#ifndef SLUICE_SINKS_LAKE_PARQUET_CODEC_H
#define SLUICE_SINKS_LAKE_PARQUET_CODEC_H

#include <stddef.h>

#include "core/buf.h"

/* Values of parquet.thrift's CompressionCodec. */
typedef enum parquet_compression {
    PARQUET_COMPRESSION_NONE = 0,
    PARQUET_COMPRESSION_SNAPPY = 1,
    PARQUET_COMPRESSION_ZSTD = 6,
} parquet_compression;

typedef struct parquet_codec parquet_codec;

/* "none" (or "uncompressed"), "snappy", "zstd" and back. parse: 0 or -1. */
int parquet_compression_parse(const char *s, parquet_compression *out);
const char *parquet_compression_name(parquet_compression c);

/* A codec; level applies to zstd (0: its default, 3). NULL with the reason in err. */
parquet_codec *parquet_codec_create(parquet_compression c, int level, char *err, size_t errlen);
void parquet_codec_destroy(parquet_codec *codec);   /* accepts NULL */

/* Replace out's contents with src compressed (a copy for none). 0, or -1 with err. */
int parquet_codec_compress(parquet_codec *codec, const void *src, size_t len, buf *out, char *err, size_t errlen);

#endif
