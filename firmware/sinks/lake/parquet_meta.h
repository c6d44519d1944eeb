/* parquet_meta: serializing Parquet's Thrift metadata: page headers (data page v1, dictionary
 * page) and the footer (FileMetaData: schema with field ids and logical/converted types, row
 * groups and their column chunks with statistics and encoding stats, key-value metadata,
 * created_by, TypeDefinedOrder column orders). Plain descriptions in, compact Thrift bytes
 * appended to a caller-owned buf out. Nothing here is allocated beyond out. */
#ifndef SLUICE_SINKS_LAKE_PARQUET_META_H
#define SLUICE_SINKS_LAKE_PARQUET_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sinks/lake/parquet_types.h"

/* parquet.thrift enum Encoding and PageType values used here. */
enum {
    PARQUET_ENC_PLAIN = 0,
    PARQUET_ENC_RLE = 3,
    PARQUET_ENC_RLE_DICTIONARY = 8,
};
enum {
    PARQUET_PAGE_DATA = 0,
    PARQUET_PAGE_DICTIONARY = 2,
};

/* Statistics as written: counts and the encoded bounds (see parquet_stats_encode). */
typedef struct parquet_stats_bytes {
    int64_t null_count;
    bool has_bounds;
    const void *min, *max;
    size_t min_len, max_len;
    bool min_exact, max_exact;
} parquet_stats_bytes;

typedef struct parquet_page_header {
    int type;                  /* PARQUET_PAGE_DATA or PARQUET_PAGE_DICTIONARY */
    int32_t uncompressed_size, compressed_size;
    int32_t num_values;        /* data: values including nulls; dictionary: entries */
    int encoding;              /* of the values */
    const parquet_stats_bytes *stats;   /* data pages; NULL: none */
} parquet_page_header;

void parquet_meta_page_header(buf *out, const parquet_page_header *h);

/* One column chunk of a row group, as ColumnMetaData describes it. */
typedef struct parquet_chunk_meta {
    int64_t num_values;                 /* including nulls */
    int64_t total_uncompressed, total_compressed;   /* pages with their headers */
    int64_t data_page_offset;
    int64_t dictionary_page_offset;     /* -1: no dictionary page */
    int32_t dict_data_pages, plain_data_pages;
    parquet_stats_bytes stats;
} parquet_chunk_meta;

typedef struct parquet_row_group_meta {
    const parquet_chunk_meta *chunks;   /* one per column, schema order */
    int64_t num_rows;
    int64_t file_offset;                /* first page of the first column */
    int64_t total_uncompressed, total_compressed;
} parquet_row_group_meta;

typedef struct parquet_kv {
    const char *key, *value;
} parquet_kv;

typedef struct parquet_footer {
    const parquet_schema *schema;
    int codec;                          /* parquet_compression */
    int64_t num_rows;
    const parquet_row_group_meta *row_groups;
    size_t nrow_groups;
    const parquet_kv *kv;
    size_t nkv;
    const char *created_by;
} parquet_footer;

/* The FileMetaData struct (without the length and magic that follow it in a file). */
void parquet_meta_footer(buf *out, const parquet_footer *f);

#endif
