/* parquet_writer: one Parquet file (see parquet_writer.h). Layout: "PAR1", row groups (each
 * column chunk: dictionary page, data pages), the FileMetaData footer, its 4-byte little-endian
 * length, "PAR1". Row groups are cut when the columns' buffered bytes reach row_group_bytes. */
#include "sinks/lake/parquet_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "sinks/lake/parquet_column.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "dev"
#endif

/* A finished row group's description, kept for the footer. */
typedef struct writer_row_group {
    parquet_row_group_meta meta;
    parquet_chunk_meta *chunks;
    buf *bounds;   /* statistics bytes, one buf per chunk */
} writer_row_group;

struct parquet_writer {
    parquet_schema schema;
    parquet_column_def *defs;
    parquet_options opts;
    parquet_kv *kv;
    char *created_by;
    byte_output out;
    parquet_codec *codec;
    parquet_column *cols;

    uint64_t offset;          /* bytes written */
    uint64_t rows, rg_rows;
    size_t unchecked_bytes;   /* value bytes added since the row group's size was last summed */
    writer_row_group *groups;
    uint64_t *group_offsets;
    size_t ngroups, groups_cap;

    bool closed, failed;
    char fail_reason[256];
    parquet_column_info *info_cols;
};

void parquet_options_default(parquet_options *o)
{
    memset(o, 0, sizeof *o);
    o->compression = PARQUET_COMPRESSION_ZSTD;
    o->dictionary = true;
}

static char *writer_strdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

static int writer_fail(parquet_writer *w, const char *reason, char *err, size_t errlen)
{
    w->failed = true;
    snprintf(w->fail_reason, sizeof w->fail_reason, "%s", reason);
    return err_setf(err, errlen, "%s", reason);
}

static int writer_emit(parquet_writer *w, const void *data, size_t len, char *err, size_t errlen)
{
    char why[256] = "";
    if (w->out.write(w->out.ctx, data, len, why, sizeof why) < 0)
        return writer_fail(w, why[0] ? why : "output write failed", err, errlen);
    w->offset += len;
    return 0;
}

parquet_writer *parquet_writer_create(const parquet_schema *s, const parquet_options *o, const byte_output *out,
                                      char *err, size_t errlen)
{
    parquet_writer *w = NULL;
    if (!s || !s->ncolumns || !s->columns) {
        err_setf(err, errlen, "the schema has no columns");
        goto fail;
    }
    if (!out || !out->write) {
        err_setf(err, errlen, "no output");
        goto fail;
    }
    for (size_t i = 0; i < s->ncolumns; i++) {
        if (parquet_column_def_check(&s->columns[i], err, errlen) < 0)
            goto fail;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->columns[i].name, s->columns[j].name) == 0) {
                err_setf(err, errlen, "column %s appears twice", s->columns[i].name);
                goto fail;
            }
        }
    }
    w = calloc(1, sizeof *w);
    if (!w) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    if (o)
        w->opts = *o;
    else
        parquet_options_default(&w->opts);
    if (!w->opts.row_group_bytes)
        w->opts.row_group_bytes = 128u << 20;
    if (!w->opts.page_bytes)
        w->opts.page_bytes = 1u << 20;
    if (!w->opts.dictionary_bytes)
        w->opts.dictionary_bytes = 1u << 20;
    if (!w->opts.stats_bytes)
        w->opts.stats_bytes = 64;
    w->out = *out;

    w->defs = calloc(s->ncolumns, sizeof *w->defs);
    w->cols = calloc(s->ncolumns, sizeof *w->cols);
    w->kv = calloc(w->opts.nmetadata + 1, sizeof *w->kv);
    if (!w->defs || !w->cols || !w->kv) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    w->schema.columns = w->defs;
    w->schema.ncolumns = s->ncolumns;
    for (size_t i = 0; i < s->ncolumns; i++) {
        w->defs[i] = s->columns[i];
        w->defs[i].name = writer_strdup(s->columns[i].name);
    }
    for (size_t i = 0; i < w->opts.nmetadata; i++) {
        w->kv[i].key = writer_strdup(w->opts.metadata[i].key);
        w->kv[i].value = w->opts.metadata[i].value ? writer_strdup(w->opts.metadata[i].value) : NULL;
    }
    w->opts.metadata = w->kv;
    if (w->opts.created_by) {
        w->created_by = writer_strdup(w->opts.created_by);
    } else {
        w->created_by = writer_strdup("sluice version " SLUICE_VERSION);
    }
    w->opts.created_by = w->created_by;

    w->codec = parquet_codec_create(w->opts.compression, w->opts.compression_level, err, errlen);
    if (!w->codec)
        goto fail;
    parquet_column_opts co = {
        .dictionary = w->opts.dictionary,
        .page_bytes = w->opts.page_bytes,
        .dict_bytes = w->opts.dictionary_bytes,
        .stats_bytes = w->opts.stats_bytes,
    };
    for (size_t i = 0; i < s->ncolumns; i++)
        parquet_column_init(&w->cols[i], &w->defs[i], &co, w->codec);
    if (writer_emit(w, "PAR1", 4, err, errlen) < 0)
        goto fail;
    return w;
fail:
    parquet_writer_destroy(w);
    return NULL;
}

static int writer_usable(const parquet_writer *w, char *err, size_t errlen)
{
    if (w->failed)
        return err_setf(err, errlen, "%s", w->fail_reason);
    if (w->closed)
        return err_setf(err, errlen, "the Parquet file is closed");
    return 0;
}

static int writer_cut_row_group(parquet_writer *w, char *err, size_t errlen)
{
    if (w->rg_rows == 0)
        return 0;
    if (w->ngroups == w->groups_cap) {
        size_t cap = w->groups_cap ? w->groups_cap * 2 : 8;
        writer_row_group *g = realloc(w->groups, cap * sizeof *g);
        uint64_t *off = g ? realloc(w->group_offsets, cap * sizeof *off) : NULL;
        if (g)
            w->groups = g;
        if (off)
            w->group_offsets = off;
        if (!g || !off)
            return writer_fail(w, "out of memory", err, errlen);
        w->groups_cap = cap;
    }
    size_t n = w->schema.ncolumns;
    writer_row_group *g = &w->groups[w->ngroups];
    memset(g, 0, sizeof *g);
    g->chunks = calloc(n, sizeof *g->chunks);
    g->bounds = calloc(n, sizeof *g->bounds);
    if (!g->chunks || !g->bounds) {
        free(g->chunks);
        free(g->bounds);
        return writer_fail(w, "out of memory", err, errlen);
    }
    w->ngroups++;   /* counted now so destroy frees it, whatever happens below */
    g->meta.chunks = g->chunks;
    g->meta.num_rows = (int64_t)w->rg_rows;
    g->meta.file_offset = (int64_t)w->offset;
    w->group_offsets[w->ngroups - 1] = w->offset;
    for (size_t i = 0; i < n; i++) {
        char why[256] = "";
        if (parquet_column_finish_chunk(&w->cols[i], &w->out, &w->offset, &g->chunks[i], &g->bounds[i], why,
                                        sizeof why) < 0)
            return writer_fail(w, why, err, errlen);
        g->meta.total_uncompressed += g->chunks[i].total_uncompressed;
        g->meta.total_compressed += g->chunks[i].total_compressed;
    }
    w->rg_rows = 0;
    return 0;
}

uint64_t parquet_writer_bytes_buffered(const parquet_writer *w)
{
    uint64_t n = 0;
    for (size_t i = 0; i < w->schema.ncolumns; i++)
        n += parquet_column_buffered(&w->cols[i]);
    return n;
}

int parquet_writer_write_row(parquet_writer *w, const parquet_value *row, char *err, size_t errlen)
{
    if (writer_usable(w, err, errlen) < 0)
        return -1;
    size_t n = w->schema.ncolumns;
    for (size_t i = 0; i < n; i++) {
        if (parquet_value_check(&w->defs[i], &row[i], err, errlen) < 0)
            return -1;
    }
    size_t approx = 0;
    for (size_t i = 0; i < n; i++) {
        char why[256];
        if (parquet_column_add(&w->cols[i], &row[i], why, sizeof why) < 0)
            return writer_fail(w, why, err, errlen);
        approx += row[i].kind == PARQUET_VALUE_BYTES ? row[i].v.bytes.len + 4 : 8;
    }
    w->rows++;
    w->rg_rows++;
    /* Sum the columns' buffers every 64 rows, or sooner after large values. */
    w->unchecked_bytes += approx;
    if (w->rg_rows % 64 == 0 || w->unchecked_bytes >= 65536) {
        w->unchecked_bytes = 0;
        if (parquet_writer_bytes_buffered(w) >= w->opts.row_group_bytes)
            return writer_cut_row_group(w, err, errlen);
    }
    return 0;
}

int parquet_writer_flush(parquet_writer *w, char *err, size_t errlen)
{
    if (writer_usable(w, err, errlen) < 0)
        return -1;
    return writer_cut_row_group(w, err, errlen);
}

uint64_t parquet_writer_bytes_written(const parquet_writer *w)
{
    return w->offset;
}

uint64_t parquet_writer_rows(const parquet_writer *w)
{
    return w->rows;
}

static void writer_fill_info(parquet_writer *w, parquet_file_info *info)
{
    for (size_t i = 0; i < w->schema.ncolumns; i++) {
        const parquet_column *c = &w->cols[i];
        parquet_column_info *ci = &w->info_cols[i];
        ci->name = w->defs[i].name;
        ci->field_id = w->defs[i].field_id;
        ci->compressed_bytes = c->file_compressed;
        ci->uncompressed_bytes = c->file_uncompressed;
        ci->values = c->file_stats.values + c->file_stats.nulls;
        ci->nulls = c->file_stats.nulls;
        ci->nans = c->file_stats.nans;
        ci->min = c->file_stats.has_minmax ? c->file_stats.min : parquet_value_null();
        ci->max = c->file_stats.has_minmax ? c->file_stats.max : parquet_value_null();
    }
    info->rows = w->rows;
    info->bytes = w->offset;
    info->row_groups = w->ngroups;
    info->row_group_offsets = w->group_offsets;
    info->ncolumns = w->schema.ncolumns;
    info->columns = w->info_cols;
}

int parquet_writer_close(parquet_writer *w, parquet_file_info *info, char *err, size_t errlen)
{
    buf footer = BUF_INIT;
    int rc = -1;
    if (writer_usable(w, err, errlen) < 0)
        goto done;
    if (writer_cut_row_group(w, err, errlen) < 0)
        goto done;
    parquet_row_group_meta *metas = calloc(w->ngroups + 1, sizeof *metas);
    if (!metas) {
        writer_fail(w, "out of memory", err, errlen);
        goto done;
    }
    for (size_t g = 0; g < w->ngroups; g++)
        metas[g] = w->groups[g].meta;
    parquet_footer f = {
        .schema = &w->schema,
        .codec = w->opts.compression,
        .num_rows = (int64_t)w->rows,
        .row_groups = metas,
        .nrow_groups = w->ngroups,
        .kv = w->kv,
        .nkv = w->opts.nmetadata,
        .created_by = w->created_by,
    };
    parquet_meta_footer(&footer, &f);
    free(metas);
    uint32_t len = (uint32_t)footer.len;
    buf_append(&footer, &len, 4);
    buf_append(&footer, "PAR1", 4);
    if (writer_emit(w, footer.data, footer.len, err, errlen) < 0)
        goto done;
    w->closed = true;
    w->info_cols = calloc(w->schema.ncolumns, sizeof *w->info_cols);
    if (!w->info_cols) {
        writer_fail(w, "out of memory", err, errlen);
        goto done;
    }
    if (info)
        writer_fill_info(w, info);
    rc = 0;
done:
    buf_free(&footer);
    return rc;
}

void parquet_writer_destroy(parquet_writer *w)
{
    if (!w)
        return;
    for (size_t g = 0; g < w->ngroups; g++) {
        for (size_t i = 0; i < w->schema.ncolumns; i++)
            buf_free(&w->groups[g].bounds[i]);
        free(w->groups[g].bounds);
        free(w->groups[g].chunks);
    }
    free(w->groups);
    free(w->group_offsets);
    if (w->cols) {
        for (size_t i = 0; i < w->schema.ncolumns; i++)
            parquet_column_free(&w->cols[i]);
    }
    free(w->cols);
    if (w->defs) {
        for (size_t i = 0; i < w->schema.ncolumns; i++)
            free((char *)w->defs[i].name);
    }
    free(w->defs);
    if (w->kv) {
        for (size_t i = 0; i < w->opts.nmetadata; i++) {
            free((char *)w->kv[i].key);
            free((char *)w->kv[i].value);
        }
    }
    free(w->kv);
    free(w->created_by);
    parquet_codec_destroy(w->codec);
    free(w->info_cols);
    free(w);
}
