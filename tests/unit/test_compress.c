/* Unit tests for core/compress: gzip and zstd streams written through a descriptor decode, with
 * the libraries' own decoders (zlib's inflate with gzip framing, zstd's frame decoder), to
 * exactly the bytes put in, for empty, tiny, large and incompressible inputs fed in pieces; the
 * counters; and a write error reported with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "core/compress.h"

/* Compress in (fed in pieces of step bytes) into a temporary file; returns its bytes. */
static unsigned char *compress_to_memory(compress_codec codec, const unsigned char *in, size_t len, size_t step,
                                         size_t *outlen)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    char err[256];
    compress_writer *w = compress_writer_create(codec, fileno(f), err, sizeof err);
    assert_non_null(w);
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        assert_int_equal(compress_writer_write(w, in + off, n, err, sizeof err), 0);
    }
    assert_int_equal(compress_writer_finish(w, err, sizeof err), 0);
    assert_int_equal(compress_writer_finish(w, err, sizeof err), 0);   /* idempotent */
    assert_int_equal(compress_writer_in_bytes(w), len);
    long size = ftell(f);
    assert_true(size > 0);
    assert_int_equal((uint64_t)size, compress_writer_out_bytes(w));
    compress_writer_destroy(w);
    unsigned char *out = malloc((size_t)size);
    assert_non_null(out);
    rewind(f);
    assert_int_equal(fread(out, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *outlen = (size_t)size;
    return out;
}

static unsigned char *gunzip(const unsigned char *in, size_t len, size_t cap, size_t *outlen)
{
    unsigned char *out = malloc(cap + 1);
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap + 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0);   /* one member, nothing after it */
    *outlen = z.total_out;
    inflateEnd(&z);
    return out;
}

static unsigned char *unzstd(const unsigned char *in, size_t len, size_t cap, size_t *outlen)
{
    unsigned char *out = malloc(cap + 1);
    size_t n = ZSTD_decompress(out, cap + 1, in, len);
    assert_false(ZSTD_isError(n));
    *outlen = n;
    return out;
}

static void round_trip(compress_codec codec, const unsigned char *in, size_t len, size_t step)
{
    size_t clen, dlen;
    unsigned char *c = compress_to_memory(codec, in, len, step, &clen);
    if (codec == COMPRESS_GZIP) {
        assert_true(clen >= 18 && c[0] == 0x1f && c[1] == 0x8b);
    } else {
        assert_true(clen >= 4 && c[0] == 0x28 && c[1] == 0xb5 && c[2] == 0x2f && c[3] == 0xfd);
    }
    unsigned char *d = codec == COMPRESS_GZIP ? gunzip(c, clen, len, &dlen) : unzstd(c, clen, len, &dlen);
    assert_int_equal(dlen, len);
    if (len)
        assert_memory_equal(d, in, len);
    free(c);
    free(d);
}

static void test_round_trips(void **state)
{
    (void)state;
    size_t big = 3 * 1024 * 1024 + 17;
    unsigned char *text = malloc(big), *noise = malloc(big);
    uint32_t x = 12345;
    for (size_t i = 0; i < big; i++) {
        text[i] = (unsigned char)("{\"op\":\"c\",\"after\":{\"id\":42}}\n"[i % 30]);
        x = x * 1664525u + 1013904223u;
        noise[i] = (unsigned char)(x >> 24);
    }
    for (int codec = COMPRESS_GZIP; codec <= COMPRESS_ZSTD; codec++) {
        round_trip((compress_codec)codec, text, 0, 1);
        round_trip((compress_codec)codec, text, 1, 1);
        round_trip((compress_codec)codec, text, 1000, 7);
        round_trip((compress_codec)codec, text, big, 65536);
        round_trip((compress_codec)codec, noise, big, big);   /* output larger than the buffer at once */
    }
    free(text);
    free(noise);
}

static void test_codec_names(void **state)
{
    (void)state;
    compress_codec c;
    assert_int_equal(compress_codec_parse("gzip", &c), 0);
    assert_int_equal(c, COMPRESS_GZIP);
    assert_int_equal(compress_codec_parse("zstd", &c), 0);
    assert_int_equal(c, COMPRESS_ZSTD);
    assert_int_equal(compress_codec_parse("lz4", &c), -1);
    assert_string_equal(compress_codec_suffix(COMPRESS_GZIP), ".gz");
    assert_string_equal(compress_codec_suffix(COMPRESS_ZSTD), ".zst");
}

static void test_write_error(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[1]);
    char err[256] = "";
    compress_writer *w = compress_writer_create(COMPRESS_GZIP, p[0], err, sizeof err);   /* read end */
    assert_non_null(w);
    unsigned char junk[4096];
    memset(junk, 'a', sizeof junk);
    int rc = compress_writer_write(w, junk, sizeof junk, err, sizeof err);
    if (rc == 0)
        rc = compress_writer_finish(w, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "writing compressed data: Bad file descriptor"));
    compress_writer_destroy(w);
    close(p[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_codec_names),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
