/* parquet_column: one column's pages, dictionary and statistics (see parquet_column.h).
 * A data page v1 body is: [definition levels: 4-byte length + RLE hybrid, optional columns only]
 * then the values: PLAIN, or one byte of bit width + the RLE hybrid of dictionary indices. */
#include "sinks/lake/parquet_column.h"

#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "sinks/lake/parquet_rle.h"

static void *col_grow(void *p, size_t *cap, size_t elem)
{
    *cap = *cap ? *cap * 2 : 4096;
    void *q = realloc(p, *cap * elem);
    if (!q)
        abort();
    return q;
}

void parquet_column_init(parquet_column *col, const parquet_column_def *def, const parquet_column_opts *opts,
                         parquet_codec *codec)
{
    memset(col, 0, sizeof *col);
    col->def = def;
    col->phys = parquet_column_physical(def);
    col->type_length = parquet_column_type_length(def);
    col->opts = *opts;
    col->codec = codec;
    col->dict.byte_array = col->phys == PARQUET_PHYS_BYTE_ARRAY;
    col->dict_mode = opts->dictionary && col->phys != PARQUET_PHYS_BOOLEAN;
}

void parquet_column_free(parquet_column *col)
{
    buf_free(&col->values);
    free(col->idx);
    free(col->levels);
    parquet_stats_free(&col->page_stats);
    parquet_dict_free(&col->dict);
    buf_free(&col->pages);
    parquet_stats_free(&col->chunk_stats);
    parquet_stats_free(&col->file_stats);
    buf_free(&col->body);
    buf_free(&col->packed);
    buf_free(&col->header);
    memset(col, 0, sizeof *col);
}

/* The bytes a value is keyed and PLAIN-encoded by (byte arrays: the contents, without the
 * length prefix). tmp holds fixed-width encodings. */
static const void *col_value_bytes(const parquet_column *col, const parquet_value *v, uint8_t tmp[16], size_t *len)
{
    switch (v->kind) {
    case PARQUET_VALUE_BOOL:
        tmp[0] = v->v.b;
        *len = 1;
        return tmp;
    case PARQUET_VALUE_INT32:
        *len = 4;
        return &v->v.i32;
    case PARQUET_VALUE_INT64:
        *len = 8;
        return &v->v.i64;
    case PARQUET_VALUE_FLOAT:
        *len = 4;
        return &v->v.f32;
    case PARQUET_VALUE_DOUBLE:
        *len = 8;
        return &v->v.f64;
    case PARQUET_VALUE_BYTES:
        *len = v->v.bytes.len;
        return v->v.bytes.ptr;
    case PARQUET_VALUE_DECIMAL:
        if (col->phys == PARQUET_PHYS_INT32) {
            int32_t x = (int32_t)v->v.dec.lo;
            memcpy(tmp, &x, 4);
            *len = 4;
        } else if (col->phys == PARQUET_PHYS_INT64) {
            memcpy(tmp, &v->v.dec.lo, 8);
            *len = 8;
        } else {
            parquet_decimal_to_be(v->v.dec, tmp, col->type_length);
            *len = (size_t)col->type_length;
        }
        return tmp;
    case PARQUET_VALUE_NULL:
        break;
    }
    *len = 0;
    return tmp;
}

static size_t col_page_estimate(const parquet_column *col)
{
    size_t n = col->values.len + col->nlevels / 8;
    if (col->dict_mode) {
        n += (col->nidx * (size_t)(col->dict_bw ? col->dict_bw : 1) + 7) / 8;
        /* The chunk's first page may turn out PLAIN (col_flush_page): count its dictionary too. */
        if (col->dict_data_pages == 0)
            n += col->dict.plain.len;
    }
    return n;
}

size_t parquet_column_buffered(const parquet_column *col)
{
    return col->pages.len + col_page_estimate(col) + col->dict.plain.len;
}

/* The page's values as PLAIN, from the dictionary entries its indices name (the first page of a
 * chunk whose dictionary does not pay). */
static void col_indices_to_plain(parquet_column *col)
{
    size_t prefix = col->dict.byte_array ? 4 : 0;
    buf_reset(&col->values);
    for (size_t i = 0; i < col->nidx; i++) {
        const parquet_dict_entry *e = &col->dict.entries[col->idx[i]];
        buf_append(&col->values, col->dict.plain.data + e->off - prefix, e->len + prefix);
    }
    col->nidx = 0;
    parquet_dict_reset(&col->dict);
    col->dict_mode = false;
}

/* A dictionary pays when values repeat: on average at least PARQUET_DICT_MIN_REPEAT times in
 * the chunk's first page (checked at its first DICT_CHECKPOINT values, then when it is cut).
 * High-cardinality columns stay PLAIN, which is smaller once compressed and much faster to write
 * (no hash table far bigger than the caches). */
#define PARQUET_DICT_MIN_REPEAT 4
#define DICT_CHECKPOINT 4096

static bool col_dict_pays(const parquet_column *col)
{
    return col->dict.count * PARQUET_DICT_MIN_REPEAT <= col->nidx;
}

static int col_flush_page(parquet_column *col, char *err, size_t errlen)
{
    /* A chunk's first page decides whether its dictionary pays (see col_dict_pays). */
    if (col->dict_mode && col->dict_data_pages == 0 && !col_dict_pays(col))
        col_indices_to_plain(col);
    bool dict = col->dict_mode && col->nidx > 0;
    buf *body = &col->body;
    buf_reset(body);
    if (col->def->optional) {
        uint32_t zero = 0;
        buf_append(body, &zero, 4);
        size_t start = body->len;
        parquet_rle_encode_u8(body, col->levels, col->nlevels, 1);
        uint32_t n = (uint32_t)(body->len - start);
        memcpy(body->data + start - 4, &n, 4);
    }
    if (dict) {
        int bw = col->dict_bw ? col->dict_bw : 1;
        uint8_t b = (uint8_t)bw;
        buf_append(body, &b, 1);
        parquet_rle_encode_u32(body, col->idx, col->nidx, bw);
    } else if (col->phys == PARQUET_PHYS_BOOLEAN) {
        parquet_bitpack_bools(body, (const uint8_t *)col->values.data, col->values.len);
    } else {
        buf_append(body, col->values.data, col->values.len);
    }
    if (parquet_codec_compress(col->codec, body->data, body->len, &col->packed, err, errlen) < 0)
        return -1;
    const buf *payload = &col->packed;

    buf min = BUF_INIT, max = BUF_INIT;
    parquet_stats_bytes sb = {.null_count = (int64_t)col->page_stats.nulls};
    sb.has_bounds = parquet_stats_encode(&col->page_stats, col->def, col->opts.stats_bytes, &min, &sb.min_exact, &max,
                                         &sb.max_exact);
    sb.min = min.data;
    sb.min_len = min.len;
    sb.max = max.data;
    sb.max_len = max.len;
    parquet_page_header h = {
        .type = PARQUET_PAGE_DATA,
        .uncompressed_size = (int32_t)body->len,
        .compressed_size = (int32_t)payload->len,
        .num_values = (int32_t)col->page_values,
        .encoding = dict ? PARQUET_ENC_RLE_DICTIONARY : PARQUET_ENC_PLAIN,
        .stats = &sb,
    };
    buf_reset(&col->header);
    parquet_meta_page_header(&col->header, &h);
    buf_free(&min);
    buf_free(&max);
    buf_append(&col->pages, col->header.data, col->header.len);
    buf_append(&col->pages, payload->data, payload->len);
    col->chunk_uncompressed += (int64_t)(col->header.len + body->len);
    col->chunk_values += col->page_values;
    if (dict)
        col->dict_data_pages++;
    else
        col->plain_data_pages++;
    parquet_stats_merge(&col->chunk_stats, &col->page_stats, col->def);
    parquet_stats_reset(&col->page_stats);
    buf_reset(&col->values);
    col->nidx = 0;
    col->nlevels = 0;
    col->page_values = 0;
    return 0;
}

int parquet_column_add(parquet_column *col, const parquet_value *v, char *err, size_t errlen)
{
    bool is_null = v->kind == PARQUET_VALUE_NULL;
    if (col->def->optional) {
        if (col->nlevels == col->levels_cap)
            col->levels = col_grow(col->levels, &col->levels_cap, 1);
        col->levels[col->nlevels++] = !is_null;
    }
    col->page_values++;
    parquet_stats_add(&col->page_stats, col->def, v);
    if (!is_null) {
        uint8_t tmp[16];
        size_t len;
        const void *bytes = col_value_bytes(col, v, tmp, &len);
        if (col->dict_mode) {
            uint32_t i = parquet_dict_insert(&col->dict, bytes, len);
            while (col->dict.count > (1ull << col->dict_bw))
                col->dict_bw++;
            if (col->nidx == col->idx_cap)
                col->idx = col_grow(col->idx, &col->idx_cap, sizeof *col->idx);
            col->idx[col->nidx++] = i;
            if (col->nidx == DICT_CHECKPOINT && col->dict_data_pages == 0 && !col_dict_pays(col)) {
                col_indices_to_plain(col);
            } else if (col->dict.plain.len > col->opts.dict_bytes) {
                /* The dictionary is full: this page keeps it, the rest of the chunk is PLAIN. */
                if (col_flush_page(col, err, errlen) < 0)
                    return -1;
                col->dict_mode = false;
                return 0;
            }
        } else {
            if (col->phys == PARQUET_PHYS_BYTE_ARRAY) {
                uint32_t l32 = (uint32_t)len;
                buf_append(&col->values, &l32, 4);
            }
            buf_append(&col->values, bytes, len);
        }
    }
    if (col_page_estimate(col) >= col->opts.page_bytes)
        return col_flush_page(col, err, errlen);
    return 0;
}

static int col_write(const byte_output *out, uint64_t *offset, const void *data, size_t len, char *err,
                     size_t errlen)
{
    if (out->write(out->ctx, data, len, err, errlen) < 0)
        return -1;
    *offset += len;
    return 0;
}

int parquet_column_finish_chunk(parquet_column *col, const byte_output *out, uint64_t *offset,
                                parquet_chunk_meta *meta, buf *bounds, char *err, size_t errlen)
{
    if (col->page_values > 0 && col_flush_page(col, err, errlen) < 0)
        return -1;
    memset(meta, 0, sizeof *meta);
    meta->dictionary_page_offset = -1;
    int64_t compressed = 0, uncompressed = col->chunk_uncompressed;
    if (col->dict_data_pages > 0) {
        if (parquet_codec_compress(col->codec, col->dict.plain.data, col->dict.plain.len, &col->packed, err,
                                   errlen) < 0)
            return -1;
        parquet_page_header h = {
            .type = PARQUET_PAGE_DICTIONARY,
            .uncompressed_size = (int32_t)col->dict.plain.len,
            .compressed_size = (int32_t)col->packed.len,
            .num_values = (int32_t)col->dict.count,
            .encoding = PARQUET_ENC_PLAIN,
        };
        buf_reset(&col->header);
        parquet_meta_page_header(&col->header, &h);
        meta->dictionary_page_offset = (int64_t)*offset;
        if (col_write(out, offset, col->header.data, col->header.len, err, errlen) < 0 ||
            col_write(out, offset, col->packed.data, col->packed.len, err, errlen) < 0)
            return -1;
        compressed += (int64_t)(col->header.len + col->packed.len);
        uncompressed += (int64_t)(col->header.len + col->dict.plain.len);
    }
    meta->data_page_offset = (int64_t)*offset;
    if (col_write(out, offset, col->pages.data, col->pages.len, err, errlen) < 0)
        return -1;
    compressed += (int64_t)col->pages.len;

    meta->num_values = col->chunk_values;
    meta->total_compressed = compressed;
    meta->total_uncompressed = uncompressed;
    meta->dict_data_pages = col->dict_data_pages;
    meta->plain_data_pages = col->plain_data_pages;
    parquet_stats_bytes *sb = &meta->stats;
    sb->null_count = (int64_t)col->chunk_stats.nulls;
    buf max = BUF_INIT;
    sb->has_bounds = parquet_stats_encode(&col->chunk_stats, col->def, col->opts.stats_bytes, bounds, &sb->min_exact,
                                          &max, &sb->max_exact);
    sb->min_len = bounds->len;
    buf_append(bounds, max.data, max.len);
    sb->max_len = max.len;
    buf_free(&max);
    sb->min = bounds->data;
    sb->max = bounds->data ? bounds->data + sb->min_len : NULL;

    col->file_compressed += (uint64_t)compressed;
    col->file_uncompressed += (uint64_t)uncompressed;
    parquet_stats_merge(&col->file_stats, &col->chunk_stats, col->def);

    /* A new chunk: empty pages, a fresh dictionary (tried again if enabled). */
    parquet_stats_reset(&col->chunk_stats);
    buf_reset(&col->pages);
    parquet_dict_reset(&col->dict);
    col->dict_bw = 0;
    col->dict_mode = col->opts.dictionary && col->phys != PARQUET_PHYS_BOOLEAN;
    col->chunk_values = col->chunk_uncompressed = 0;
    col->dict_data_pages = col->plain_data_pages = 0;
    return 0;
}
