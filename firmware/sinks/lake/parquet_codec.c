/* parquet_codec: page compression (see parquet_codec.h). zstd pages are single frames from a
 * reused context; snappy pages are raw snappy blocks (not the framing format), as Parquet wants. */
#include "sinks/lake/parquet_codec.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/errbuf.h"

struct parquet_codec {
    parquet_compression kind;
    int level;
    ZSTD_CCtx *zctx;
};

int parquet_compression_parse(const char *s, parquet_compression *out)
{
    if (strcmp(s, "none") == 0 || strcmp(s, "uncompressed") == 0)
        *out = PARQUET_COMPRESSION_NONE;
    else if (strcmp(s, "snappy") == 0)
        *out = PARQUET_COMPRESSION_SNAPPY;
    else if (strcmp(s, "zstd") == 0)
        *out = PARQUET_COMPRESSION_ZSTD;
    else
        return -1;
    return 0;
}

const char *parquet_compression_name(parquet_compression c)
{
    switch (c) {
    case PARQUET_COMPRESSION_NONE:
        return "none";
    case PARQUET_COMPRESSION_SNAPPY:
        return "snappy";
    case PARQUET_COMPRESSION_ZSTD:
        return "zstd";
    }
    return "?";
}

parquet_codec *parquet_codec_create(parquet_compression c, int level, char *err, size_t errlen)
{
    parquet_codec *codec = NULL;
    if (c != PARQUET_COMPRESSION_NONE && c != PARQUET_COMPRESSION_SNAPPY && c != PARQUET_COMPRESSION_ZSTD) {
        err_setf(err, errlen, "unsupported compression codec %d", (int)c);
        goto fail;
    }
    codec = calloc(1, sizeof *codec);
    if (!codec) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    codec->kind = c;
    codec->level = level ? level : 3;
    if (c == PARQUET_COMPRESSION_ZSTD) {
        codec->zctx = ZSTD_createCCtx();
        if (!codec->zctx) {
            err_setf(err, errlen, "zstd: cannot create a compression context");
            goto fail;
        }
    }
    return codec;
fail:
    parquet_codec_destroy(codec);
    return NULL;
}

void parquet_codec_destroy(parquet_codec *codec)
{
    if (!codec)
        return;
    ZSTD_freeCCtx(codec->zctx);
    free(codec);
}

/* Make room for n bytes in out (contents discarded). */
static void codec_reserve(buf *out, size_t n)
{
    if (out->cap < n + 1) {
        char *p = realloc(out->data, n + 1);
        if (!p)
            abort();
        out->data = p;
        out->cap = n + 1;
    }
    out->len = 0;
    out->data[0] = '\0';
}

int parquet_codec_compress(parquet_codec *codec, const void *src, size_t len, buf *out, char *err, size_t errlen)
{
    switch (codec->kind) {
    case PARQUET_COMPRESSION_NONE:
        buf_reset(out);
        buf_append(out, src, len);
        return 0;
    case PARQUET_COMPRESSION_SNAPPY: {
        size_t n = snappy_max_compressed_length(len);
        codec_reserve(out, n);
        if (snappy_compress(src, len, out->data, &n) != SNAPPY_OK)
            return err_setf(err, errlen, "snappy: compression failed");
        out->len = n;
        out->data[n] = '\0';
        return 0;
    }
    case PARQUET_COMPRESSION_ZSTD: {
        size_t n = ZSTD_compressBound(len);
        codec_reserve(out, n);
        size_t r = ZSTD_compressCCtx(codec->zctx, out->data, n, src, len, codec->level);
        if (ZSTD_isError(r))
            return err_setf(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
        out->len = r;
        out->data[r] = '\0';
        return 0;
    }
    }
    return err_setf(err, errlen, "unsupported compression codec");
}
