/* parquet_meta: Parquet page headers and footer in Thrift compact form (see parquet_meta.h).
 * Field ids are parquet.thrift's; each function writes one struct, fields in id order. */
#include "sinks/lake/parquet_meta.h"

#include "sinks/lake/parquet_thrift.h"

static void meta_statistics(parquet_thrift *t, int16_t id, const parquet_stats_bytes *s)
{
    parquet_thrift_field_struct_begin(t, id);
    parquet_thrift_field_i64(t, 3, s->null_count);
    if (s->has_bounds) {
        parquet_thrift_field_binary(t, 5, s->max, s->max_len);
        parquet_thrift_field_binary(t, 6, s->min, s->min_len);
        parquet_thrift_field_bool(t, 7, s->max_exact);
        parquet_thrift_field_bool(t, 8, s->min_exact);
    }
    parquet_thrift_struct_end(t);
}

void parquet_meta_page_header(buf *out, const parquet_page_header *h)
{
    parquet_thrift t;
    parquet_thrift_begin(&t, out);
    parquet_thrift_field_i32(&t, 1, h->type);
    parquet_thrift_field_i32(&t, 2, h->uncompressed_size);
    parquet_thrift_field_i32(&t, 3, h->compressed_size);
    if (h->type == PARQUET_PAGE_DATA) {
        parquet_thrift_field_struct_begin(&t, 5);   /* DataPageHeader */
        parquet_thrift_field_i32(&t, 1, h->num_values);
        parquet_thrift_field_i32(&t, 2, h->encoding);
        parquet_thrift_field_i32(&t, 3, PARQUET_ENC_RLE);   /* definition levels */
        parquet_thrift_field_i32(&t, 4, PARQUET_ENC_RLE);   /* repetition levels (none: flat) */
        if (h->stats)
            meta_statistics(&t, 5, h->stats);
        parquet_thrift_struct_end(&t);
    } else {
        parquet_thrift_field_struct_begin(&t, 7);   /* DictionaryPageHeader */
        parquet_thrift_field_i32(&t, 1, h->num_values);
        parquet_thrift_field_i32(&t, 2, h->encoding);
        parquet_thrift_struct_end(&t);
    }
    parquet_thrift_end(&t);
}

/* LogicalType (a union: one field) of a column, if it has one. */
static void meta_logical_type(parquet_thrift *t, const parquet_column_def *c)
{
    int field;
    switch (c->type) {
    case PARQUET_TYPE_STRING:
        field = 1;
        break;
    case PARQUET_TYPE_DECIMAL:
        field = 5;
        break;
    case PARQUET_TYPE_DATE:
        field = 6;
        break;
    case PARQUET_TYPE_TIME:
        field = 7;
        break;
    case PARQUET_TYPE_TIMESTAMP:
    case PARQUET_TYPE_TIMESTAMPTZ:
        field = 8;
        break;
    case PARQUET_TYPE_UUID:
        field = 14;
        break;
    default:
        return;
    }
    parquet_thrift_field_struct_begin(t, 10);
    parquet_thrift_field_struct_begin(t, (int16_t)field);
    if (c->type == PARQUET_TYPE_DECIMAL) {
        parquet_thrift_field_i32(t, 1, c->scale);
        parquet_thrift_field_i32(t, 2, c->precision);
    } else if (field == 7 || field == 8) {
        parquet_thrift_field_bool(t, 1, c->type == PARQUET_TYPE_TIMESTAMPTZ);   /* isAdjustedToUTC */
        parquet_thrift_field_struct_begin(t, 2);   /* TimeUnit */
        parquet_thrift_field_struct_begin(t, 2);   /* MICROS */
        parquet_thrift_struct_end(t);
        parquet_thrift_struct_end(t);
    }
    parquet_thrift_struct_end(t);
    parquet_thrift_struct_end(t);
}

static void meta_schema(parquet_thrift *t, const parquet_schema *s)
{
    parquet_thrift_field_list_begin(t, 2, PARQUET_THRIFT_STRUCT, s->ncolumns + 1);
    parquet_thrift_elem_struct_begin(t);   /* the root group */
    parquet_thrift_field_string(t, 4, "schema");
    parquet_thrift_field_i32(t, 5, (int32_t)s->ncolumns);
    parquet_thrift_struct_end(t);
    for (size_t i = 0; i < s->ncolumns; i++) {
        const parquet_column_def *c = &s->columns[i];
        parquet_thrift_elem_struct_begin(t);
        parquet_thrift_field_i32(t, 1, parquet_column_physical(c));
        int len = parquet_column_type_length(c);
        if (len)
            parquet_thrift_field_i32(t, 2, len);
        parquet_thrift_field_i32(t, 3, c->optional ? 1 : 0);
        parquet_thrift_field_string(t, 4, c->name);
        int conv = parquet_column_converted_type(c);
        if (conv >= 0)
            parquet_thrift_field_i32(t, 6, conv);
        if (c->type == PARQUET_TYPE_DECIMAL) {
            parquet_thrift_field_i32(t, 7, c->scale);
            parquet_thrift_field_i32(t, 8, c->precision);
        }
        if (c->field_id > 0)
            parquet_thrift_field_i32(t, 9, c->field_id);
        meta_logical_type(t, c);
        parquet_thrift_struct_end(t);
    }
}

static void meta_column_chunk(parquet_thrift *t, const parquet_column_def *c, const parquet_chunk_meta *m, int codec)
{
    parquet_thrift_elem_struct_begin(t);   /* ColumnChunk */
    parquet_thrift_field_i64(t, 2, 0);     /* file_offset: deprecated, 0 */
    parquet_thrift_field_struct_begin(t, 3);   /* ColumnMetaData */
    parquet_thrift_field_i32(t, 1, parquet_column_physical(c));
    int enc[3];
    size_t nenc = 0;
    if (m->plain_data_pages || m->dictionary_page_offset >= 0)
        enc[nenc++] = PARQUET_ENC_PLAIN;
    enc[nenc++] = PARQUET_ENC_RLE;   /* levels (and the dictionary indices' hybrid) */
    if (m->dict_data_pages)
        enc[nenc++] = PARQUET_ENC_RLE_DICTIONARY;
    parquet_thrift_field_list_begin(t, 2, PARQUET_THRIFT_I32, nenc);
    for (size_t i = 0; i < nenc; i++)
        parquet_thrift_elem_i32(t, enc[i]);
    parquet_thrift_field_list_begin(t, 3, PARQUET_THRIFT_BINARY, 1);
    parquet_thrift_elem_binary(t, c->name, strlen(c->name));
    parquet_thrift_field_i32(t, 4, codec);
    parquet_thrift_field_i64(t, 5, m->num_values);
    parquet_thrift_field_i64(t, 6, m->total_uncompressed);
    parquet_thrift_field_i64(t, 7, m->total_compressed);
    parquet_thrift_field_i64(t, 9, m->data_page_offset);
    if (m->dictionary_page_offset >= 0)
        parquet_thrift_field_i64(t, 11, m->dictionary_page_offset);
    meta_statistics(t, 12, &m->stats);
    /* encoding_stats: PageEncodingStats {page_type, encoding, count} */
    size_t nstats = (m->dictionary_page_offset >= 0) + (m->dict_data_pages > 0) + (m->plain_data_pages > 0);
    parquet_thrift_field_list_begin(t, 13, PARQUET_THRIFT_STRUCT, nstats);
    const int32_t rows[3][3] = {
        {PARQUET_PAGE_DICTIONARY, PARQUET_ENC_PLAIN, m->dictionary_page_offset >= 0},
        {PARQUET_PAGE_DATA, PARQUET_ENC_RLE_DICTIONARY, m->dict_data_pages},
        {PARQUET_PAGE_DATA, PARQUET_ENC_PLAIN, m->plain_data_pages},
    };
    for (int i = 0; i < 3; i++) {
        if (!rows[i][2])
            continue;
        parquet_thrift_elem_struct_begin(t);
        parquet_thrift_field_i32(t, 1, rows[i][0]);
        parquet_thrift_field_i32(t, 2, rows[i][1]);
        parquet_thrift_field_i32(t, 3, rows[i][2]);
        parquet_thrift_struct_end(t);
    }
    parquet_thrift_struct_end(t);   /* ColumnMetaData */
    parquet_thrift_struct_end(t);   /* ColumnChunk */
}

void parquet_meta_footer(buf *out, const parquet_footer *f)
{
    parquet_thrift t;
    parquet_thrift_begin(&t, out);
    parquet_thrift_field_i32(&t, 1, 1);   /* version */
    meta_schema(&t, f->schema);
    parquet_thrift_field_i64(&t, 3, f->num_rows);
    parquet_thrift_field_list_begin(&t, 4, PARQUET_THRIFT_STRUCT, f->nrow_groups);
    for (size_t g = 0; g < f->nrow_groups; g++) {
        const parquet_row_group_meta *rg = &f->row_groups[g];
        parquet_thrift_elem_struct_begin(&t);
        parquet_thrift_field_list_begin(&t, 1, PARQUET_THRIFT_STRUCT, f->schema->ncolumns);
        for (size_t c = 0; c < f->schema->ncolumns; c++)
            meta_column_chunk(&t, &f->schema->columns[c], &rg->chunks[c], f->codec);
        parquet_thrift_field_i64(&t, 2, rg->total_uncompressed);
        parquet_thrift_field_i64(&t, 3, rg->num_rows);
        parquet_thrift_field_i64(&t, 5, rg->file_offset);
        parquet_thrift_field_i64(&t, 6, rg->total_compressed);
        parquet_thrift_field_i16(&t, 7, (int16_t)(g < INT16_MAX ? g : INT16_MAX));
        parquet_thrift_struct_end(&t);
    }
    if (f->nkv) {
        parquet_thrift_field_list_begin(&t, 5, PARQUET_THRIFT_STRUCT, f->nkv);
        for (size_t i = 0; i < f->nkv; i++) {
            parquet_thrift_elem_struct_begin(&t);
            parquet_thrift_field_string(&t, 1, f->kv[i].key);
            if (f->kv[i].value)
                parquet_thrift_field_string(&t, 2, f->kv[i].value);
            parquet_thrift_struct_end(&t);
        }
    }
    if (f->created_by)
        parquet_thrift_field_string(&t, 6, f->created_by);
    parquet_thrift_field_list_begin(&t, 7, PARQUET_THRIFT_STRUCT, f->schema->ncolumns);
    for (size_t c = 0; c < f->schema->ncolumns; c++) {
        parquet_thrift_elem_struct_begin(&t);      /* ColumnOrder (union) */
        parquet_thrift_field_struct_begin(&t, 1);  /* TYPE_ORDER: TypeDefinedOrder {} */
        parquet_thrift_struct_end(&t);
        parquet_thrift_struct_end(&t);
    }
    parquet_thrift_end(&t);
}
