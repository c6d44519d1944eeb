/* compress: gzip and zstd stream writers into a file descriptor (see compress.h). */
#include "core/compress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/errbuf.h"

#define COMPRESS_OUT_SIZE (128 * 1024)
#define COMPRESS_GZIP_LEVEL 6
#define COMPRESS_ZSTD_LEVEL 3

struct compress_writer {
    compress_codec codec;
    int fd;
    int finished;
    z_stream z;
    ZSTD_CStream *zs;
    uint64_t in_bytes, out_bytes;
    unsigned char out[COMPRESS_OUT_SIZE];
};

int compress_codec_parse(const char *s, compress_codec *out)
{
    if (strcmp(s, "gzip") == 0)
        *out = COMPRESS_GZIP;
    else if (strcmp(s, "zstd") == 0)
        *out = COMPRESS_ZSTD;
    else
        return -1;
    return 0;
}

const char *compress_codec_suffix(compress_codec c)
{
    return c == COMPRESS_ZSTD ? ".zst" : ".gz";
}

static int compress_flush_out(compress_writer *w, size_t n, char *err, size_t errlen)
{
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(w->fd, w->out + off, n - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return err_setf(err, errlen, "writing compressed data: %s", strerror(errno));
        off += (size_t)k;
    }
    w->out_bytes += n;
    return 0;
}

compress_writer *compress_writer_create(compress_codec codec, int fd, char *err, size_t errlen)
{
    compress_writer *w = calloc(1, sizeof *w);
    if (!w) {
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    w->codec = codec;
    w->fd = fd;
    if (codec == COMPRESS_GZIP) {
        /* windowBits 15 + 16: a gzip wrapper instead of zlib's */
        if (deflateInit2(&w->z, COMPRESS_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            err_setf(err, errlen, "gzip: cannot initialise the compressor");
            free(w);
            return NULL;
        }
    } else {
        w->zs = ZSTD_createCStream();
        if (!w->zs || ZSTD_isError(ZSTD_CCtx_setParameter(w->zs, ZSTD_c_compressionLevel, COMPRESS_ZSTD_LEVEL)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(w->zs, ZSTD_c_checksumFlag, 1))) {
            err_setf(err, errlen, "zstd: cannot initialise the compressor");
            ZSTD_freeCStream(w->zs);
            free(w);
            return NULL;
        }
    }
    return w;
}

/* Run the compressor over input (NULL, 0 with finish to end the stream). */
static int compress_run(compress_writer *w, const void *data, size_t len, int finish, char *err, size_t errlen)
{
    if (w->codec == COMPRESS_GZIP) {
        w->z.next_in = (Bytef *)(uintptr_t)data;
        w->z.avail_in = (uInt)len;
        for (;;) {
            w->z.next_out = w->out;
            w->z.avail_out = sizeof w->out;
            int rc = deflate(&w->z, finish ? Z_FINISH : Z_NO_FLUSH);
            if (rc == Z_STREAM_ERROR)
                return err_setf(err, errlen, "gzip: compressor error");
            if (compress_flush_out(w, sizeof w->out - w->z.avail_out, err, errlen) < 0)
                return -1;
            if (finish ? rc == Z_STREAM_END : (w->z.avail_in == 0 && w->z.avail_out != 0))
                return 0;
        }
    }
    ZSTD_inBuffer in = {data, len, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->out, sizeof w->out, 0};
        size_t left = ZSTD_compressStream2(w->zs, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left))
            return err_setf(err, errlen, "zstd: %s", ZSTD_getErrorName(left));
        if (compress_flush_out(w, out.pos, err, errlen) < 0)
            return -1;
        if (finish ? left == 0 : in.pos == in.size)
            return 0;
    }
}

int compress_writer_write(compress_writer *w, const void *data, size_t len, char *err, size_t errlen)
{
    if (w->finished)
        return err_setf(err, errlen, "compressed stream already finished");
    /* zlib counts input in uInt: feed very large inputs in slices */
    const unsigned char *p = data;
    while (len > 0) {
        size_t n = len > (1u << 30) ? (1u << 30) : len;
        if (compress_run(w, p, n, 0, err, errlen) < 0)
            return -1;
        w->in_bytes += n;
        p += n;
        len -= n;
    }
    return 0;
}

int compress_writer_finish(compress_writer *w, char *err, size_t errlen)
{
    if (w->finished)
        return 0;
    if (compress_run(w, NULL, 0, 1, err, errlen) < 0)
        return -1;
    w->finished = 1;
    return 0;
}

uint64_t compress_writer_out_bytes(const compress_writer *w)
{
    return w->out_bytes;
}

uint64_t compress_writer_in_bytes(const compress_writer *w)
{
    return w->in_bytes;
}

void compress_writer_destroy(compress_writer *w)
{
    if (!w)
        return;
    if (w->codec == COMPRESS_GZIP)
        deflateEnd(&w->z);
    else
        ZSTD_freeCStream(w->zs);
    free(w);
}
