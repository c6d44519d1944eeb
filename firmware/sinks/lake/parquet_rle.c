/* parquet_rle: the RLE / bit-packed hybrid encoder (see parquet_rle.h). A run header is the
 * varint (count << 1) followed by the value in ceil(bit_width / 8) little-endian bytes; a
 * bit-packed header is the varint (groups << 1 | 1) followed by groups * bit_width bytes. */
#include "sinks/lake/parquet_rle.h"

#include "sinks/lake/parquet_thrift.h"

int parquet_rle_bit_width(uint32_t max_value)
{
    int w = 0;
    while (max_value) {
        w++;
        max_value >>= 1;
    }
    return w;
}

/* The values are read through a getter so one encoder serves u8 and u32 arrays. */
typedef struct rle_src {
    const uint32_t *u32;
    const uint8_t *u8;
} rle_src;

static inline uint32_t rle_get(const rle_src *s, size_t i)
{
    return s->u32 ? s->u32[i] : s->u8[i];
}

static void rle_put_run(buf *out, uint32_t value, size_t count, int bit_width)
{
    parquet_varint_put(out, (uint64_t)count << 1);
    uint8_t b[4];
    int nbytes = (bit_width + 7) / 8;
    for (int i = 0; i < nbytes; i++)
        b[i] = (uint8_t)(value >> (8 * i));
    buf_append(out, b, (size_t)nbytes);
}

/* Bit-pack values [from, from + n) in ceil(n / 8) groups of 8, zero-padded. */
static void rle_put_packed(buf *out, const rle_src *s, size_t from, size_t n, int bit_width)
{
    size_t groups = (n + 7) / 8;
    parquet_varint_put(out, (uint64_t)groups << 1 | 1);
    if (bit_width == 0)
        return;
    uint8_t group[32];
    for (size_t g = 0; g < groups; g++) {
        memset(group, 0, (size_t)bit_width);
        uint64_t acc = 0;
        int bits = 0;
        size_t pos = 0;
        for (size_t k = 0; k < 8; k++) {
            size_t i = g * 8 + k;
            uint64_t v = i < n ? rle_get(s, from + i) : 0;
            acc |= v << bits;
            bits += bit_width;
            while (bits >= 8) {
                group[pos++] = (uint8_t)acc;
                acc >>= 8;
                bits -= 8;
            }
        }
        buf_append(out, group, (size_t)bit_width);
    }
}

static void rle_encode(buf *out, const rle_src *s, size_t n, int bit_width)
{
    size_t lit_start = 0;   /* values [lit_start, i) wait to be bit-packed */
    size_t i = 0;
    while (i < n) {
        uint32_t v = rle_get(s, i);
        size_t run = 1;
        while (i + run < n && rle_get(s, i + run) == v)
            run++;
        size_t lit = i - lit_start;
        size_t pad = (8 - lit % 8) % 8;   /* values of the run that complete the last group */
        if (run >= pad + 8) {
            if (lit + pad)
                rle_put_packed(out, s, lit_start, lit + pad, bit_width);
            rle_put_run(out, v, run - pad, bit_width);
            lit_start = i + run;
        }
        i += run;
    }
    if (n > lit_start)
        rle_put_packed(out, s, lit_start, n - lit_start, bit_width);
}

void parquet_rle_encode_u32(buf *out, const uint32_t *values, size_t n, int bit_width)
{
    rle_src s = {values, NULL};
    rle_encode(out, &s, n, bit_width);
}

void parquet_rle_encode_u8(buf *out, const uint8_t *values, size_t n, int bit_width)
{
    rle_src s = {NULL, values};
    rle_encode(out, &s, n, bit_width);
}

void parquet_bitpack_bools(buf *out, const uint8_t *values, size_t n)
{
    uint8_t chunk[256];
    size_t used = 0;
    for (size_t i = 0; i < n; i += 8) {
        uint8_t b = 0;
        for (size_t k = 0; k < 8 && i + k < n; k++)
            b |= (uint8_t)((values[i + k] & 1) << k);
        chunk[used++] = b;
        if (used == sizeof chunk) {
            buf_append(out, chunk, used);
            used = 0;
        }
    }
    buf_append(out, chunk, used);
}
