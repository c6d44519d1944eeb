/* parquet_column: one column of a Parquet file being written: the current data page's values
 * (PLAIN bytes or dictionary indices) and definition levels, the open row group's finished
 * pages (compressed, with their headers), the chunk's dictionary, and statistics per page,
 * chunk and file. Pages are cut at about page_bytes; the dictionary is abandoned for PLAIN when
 * it passes dict_bytes (later pages of the chunk) or when the chunk's first values show that
 * values repeat less than 4 times on average (those values are re-encoded, the chunk gets no
 * dictionary: see col_dict_pays in parquet_column.c). Memory: one page, one
 * dictionary and the row group's compressed pages of this column.
 * Ownership: the column borrows def (kept alive by the writer) and codec. */
#ifndef SLUICE_SINKS_LAKE_PARQUET_COLUMN_H
#define SLUICE_SINKS_LAKE_PARQUET_COLUMN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sinks/lake/parquet_codec.h"
#include "sinks/lake/parquet_dict.h"
#include "sinks/lake/parquet_meta.h"
#include "core/byte_output.h"
#include "sinks/lake/parquet_stats.h"
#include "sinks/lake/parquet_types.h"

typedef struct parquet_column_opts {
    bool dictionary;
    size_t page_bytes, dict_bytes, stats_bytes;
} parquet_column_opts;

typedef struct parquet_column {
    const parquet_column_def *def;
    parquet_physical phys;
    int type_length;
    parquet_column_opts opts;
    parquet_codec *codec;

    /* the current page */
    buf values;              /* PLAIN values (booleans: one byte each, bit-packed at the flush) */
    uint32_t *idx;           /* dictionary indices of the non-null values */
    size_t nidx, idx_cap;
    uint8_t *levels;         /* definition levels (optional columns) */
    size_t nlevels, levels_cap;
    int64_t page_values;     /* including nulls */
    parquet_stats page_stats;

    /* the current column chunk */
    bool dict_mode;          /* values go to the dictionary */
    int dict_bw;             /* bit width of the indices so far */
    parquet_dict dict;
    buf pages;               /* finished data pages, headers included */
    parquet_stats chunk_stats;
    int64_t chunk_values, chunk_uncompressed;
    int32_t dict_data_pages, plain_data_pages;

    /* the whole file (parquet_file_info) */
    parquet_stats file_stats;
    uint64_t file_compressed, file_uncompressed;

    buf body, packed, header;   /* scratch */
} parquet_column;

/* Set up col for def (zeroed memory in); parquet_column_free releases it. */
void parquet_column_init(parquet_column *col, const parquet_column_def *def, const parquet_column_opts *opts,
                         parquet_codec *codec);
void parquet_column_free(parquet_column *col);

/* Append one checked value (parquet_value_check). May finish a page. 0, or -1 with err
 * (compression failure). */
int parquet_column_add(parquet_column *col, const parquet_value *v, char *err, size_t errlen);

/* Bytes held for the open row group (finished pages, the page in progress, the dictionary). */
size_t parquet_column_buffered(const parquet_column *col);

/* End the column chunk: write its dictionary page and data pages through out, starting at file
 * offset *offset (advanced by the bytes written), describe it in meta (whose statistics bytes
 * are appended to bounds, an empty buf of this chunk's own that must not change while meta is
 * used), and start a new chunk.
 * 0, or -1 with err. */
int parquet_column_finish_chunk(parquet_column *col, const byte_output *out, uint64_t *offset,
                                parquet_chunk_meta *meta, buf *bounds, char *err, size_t errlen);

#endif
