/* parquet_rle: Parquet's RLE / bit-packed hybrid encoding, used for definition levels and
 * dictionary indices, and the plain bit-packing of booleans. Runs of 8 or more equal values
 * become RLE runs; the rest is bit-packed in groups of 8 (LSB first), the last group padded with
 * zeros (readers stop at the page's value count). Output is appended to a caller-owned buf. */
#ifndef SLUICE_SINKS_LAKE_PARQUET_RLE_H
#define SLUICE_SINKS_LAKE_PARQUET_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Bits needed for values 0..max_value (0 for max_value 0). */
int parquet_rle_bit_width(uint32_t max_value);

/* Append the hybrid encoding of n values (each < 2^bit_width, bit_width 0..32) to out,
 * without a length prefix or bit-width byte (the caller adds what the page layout needs). */
void parquet_rle_encode_u32(buf *out, const uint32_t *values, size_t n, int bit_width);
void parquet_rle_encode_u8(buf *out, const uint8_t *values, size_t n, int bit_width);

/* Append n booleans (0/1 bytes) bit-packed, LSB first, ceil(n / 8) bytes (PLAIN booleans). */
void parquet_bitpack_bools(buf *out, const uint8_t *values, size_t n);

#endif
