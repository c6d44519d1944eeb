/* iceberg_manifest: writes one Iceberg v2 manifest (manifest_entry records in an Avro object
 * container) and gathers what its manifest_file summary needs: counts by status, the minimum
 * live sequence number and, per partition field, null/NaN flags and bounds (iceberg_manifest.h). */
#include "sinks/lake/iceberg_manifest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/errbuf.h"

/* What the summary keeps of one partition field across all entries. */
typedef struct part_stats {
    bool contains_null, contains_nan;
    bool has_bounds;
    iceberg_value min, max;   /* byte payloads point into min_buf / max_buf */
    buf min_buf, max_buf;
    buf lower, upper;         /* the bounds serialized at close */
} part_stats;

struct iceberg_manifest_writer {
    avro_ocf_writer *ocf;
    char *path;
    iceberg_partition_field *fields;   /* copies, names owned */
    size_t nfields;
    part_stats *parts;
    iceberg_field_summary *summaries;
    iceberg_manifest_content content;
    int32_t spec_id;
    int64_t snapshot_id;
    int64_t added_files, existing_files, deleted_files;
    int64_t added_rows, existing_rows, deleted_rows;
    bool has_min_seq;
    int64_t min_seq;
    buf scratch;                       /* NUL-terminated copies of strings for libavro */
    bool closed;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

iceberg_manifest_writer *iceberg_manifest_writer_create(const iceberg_manifest_options *opt,
                                                        const byte_output *out, char *err, size_t errlen)
{
    iceberg_manifest_writer *w = NULL;
    buf schema = BUF_INIT, spec = BUF_INIT;
    char schema_id[16], spec_id[16];
    if (!opt || !opt->path || !opt->path[0] || !opt->schema_json || !opt->schema_json[0]) {
        err_setf(err, errlen, "manifest: path and table schema are required");
        goto fail;
    }
    if (opt->content != ICEBERG_MANIFEST_DATA && opt->content != ICEBERG_MANIFEST_DELETES) {
        err_setf(err, errlen, "manifest: content %d is not data (0) or deletes (1)", (int)opt->content);
        goto fail;
    }
    if (iceberg_manifest_entry_schema(opt->partition_fields, opt->npartition_fields, &schema, err, errlen) < 0)
        goto fail;
    w = calloc(1, sizeof *w);
    if (!w) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    w->content = opt->content;
    w->spec_id = opt->partition_spec_id;
    w->snapshot_id = opt->snapshot_id;
    w->path = dup_str(opt->path);
    w->nfields = opt->npartition_fields;
    if (w->nfields) {
        w->fields = calloc(w->nfields, sizeof *w->fields);
        w->parts = calloc(w->nfields, sizeof *w->parts);
        w->summaries = calloc(w->nfields, sizeof *w->summaries);
    }
    if (!w->path || (w->nfields && (!w->fields || !w->parts || !w->summaries))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < w->nfields; i++) {
        w->fields[i] = opt->partition_fields[i];
        w->fields[i].name = dup_str(opt->partition_fields[i].name);
        if (!w->fields[i].name) {
            err_setf(err, errlen, "out of memory");
            goto fail;
        }
    }

    iceberg_partition_spec_json(opt->partition_fields, opt->npartition_fields, &spec);
    snprintf(schema_id, sizeof schema_id, "%d", (int)opt->schema_id);
    snprintf(spec_id, sizeof spec_id, "%d", (int)opt->partition_spec_id);
    const char *content = opt->content == ICEBERG_MANIFEST_DATA ? "data" : "deletes";
    avro_ocf_meta meta[] = {
        {"schema", opt->schema_json, strlen(opt->schema_json)},
        {"schema-id", schema_id, strlen(schema_id)},
        {"partition-spec", spec.data, spec.len},
        {"partition-spec-id", spec_id, strlen(spec_id)},
        {"format-version", "2", 1},
        {"content", content, strlen(content)},
    };
    avro_ocf_options o = {.codec = opt->codec, .block_bytes = opt->block_bytes, .meta = meta,
                          .nmeta = sizeof meta / sizeof meta[0], .sync = opt->sync};
    w->ocf = avro_ocf_writer_create(schema.data, schema.len, &o, out, err, errlen);
    if (!w->ocf)
        goto fail;
    buf_free(&schema);
    buf_free(&spec);
    return w;

fail:
    buf_free(&schema);
    buf_free(&spec);
    iceberg_manifest_writer_destroy(w);
    return NULL;
}

/* ---- checks ---- */

static int check_partition(const iceberg_manifest_writer *w, const iceberg_data_file *f, char *err, size_t errlen)
{
    if (f->npartition != w->nfields)
        return err_setf(err, errlen, "%s: %zu partition values for a spec of %zu fields", f->file_path, f->npartition,
                        w->nfields);
    for (size_t i = 0; i < w->nfields; i++) {
        const iceberg_partition_field *pf = &w->fields[i];
        const iceberg_value *v = &f->partition[i];
        if (v->type != pf->type)
            return err_setf(err, errlen, "%s: partition %s is %s, not %s", f->file_path, pf->name,
                            iceberg_type_name(pf->type), iceberg_type_name(v->type));
        if (v->is_null)
            continue;
        switch (pf->type) {
        case ICEBERG_TYPE_DECIMAL:
            if (!iceberg_decimal_fits(v->v.dec, pf->precision))
                return err_setf(err, errlen, "%s: partition %s: decimal out of range for precision %d", f->file_path,
                                pf->name, pf->precision);
            break;
        case ICEBERG_TYPE_UUID:
        case ICEBERG_TYPE_FIXED: {
            size_t want = pf->type == ICEBERG_TYPE_UUID ? 16 : (size_t)pf->length;
            if (v->v.bytes.len != want)
                return err_setf(err, errlen, "%s: partition %s: %zu bytes, not %zu", f->file_path, pf->name,
                                v->v.bytes.len, want);
        }
            /* fall through */
        case ICEBERG_TYPE_STRING:
        case ICEBERG_TYPE_BINARY:
            if (v->v.bytes.len && !v->v.bytes.ptr)
                return err_setf(err, errlen, "%s: partition %s: no bytes", f->file_path, pf->name);
            if (pf->type == ICEBERG_TYPE_STRING && v->v.bytes.len && memchr(v->v.bytes.ptr, 0, v->v.bytes.len))
                return err_setf(err, errlen, "%s: partition %s: a NUL in a string", f->file_path, pf->name);
            break;
        default:
            break;
        }
    }
    return 0;
}

static int check_columns(const iceberg_data_file *f, char *err, size_t errlen)
{
    for (size_t i = 0; i < f->ncolumns; i++) {
        const iceberg_column_stats *c = &f->columns[i];
        if ((c->has_column_size && c->column_size < 0) || (c->has_value_count && c->value_count < 0) ||
            (c->has_null_count && c->null_count < 0) || (c->has_nan_count && c->nan_count < 0))
            return err_setf(err, errlen, "%s: column %d: a negative count", f->file_path, (int)c->field_id);
        if ((c->has_lower && c->lower_len && !c->lower) || (c->has_upper && c->upper_len && !c->upper))
            return err_setf(err, errlen, "%s: column %d: a bound without bytes", f->file_path, (int)c->field_id);
        for (size_t j = 0; j < i; j++)
            if (f->columns[j].field_id == c->field_id)
                return err_setf(err, errlen, "%s: column %d has statistics twice", f->file_path, (int)c->field_id);
    }
    return 0;
}

static int check_entry(const iceberg_manifest_writer *w, const iceberg_manifest_entry *e, char *err, size_t errlen)
{
    const iceberg_data_file *f = e->file;
    if (!f || !f->file_path || !f->file_path[0])
        return err_setf(err, errlen, "manifest entry without a data file path");
    if (e->status != ICEBERG_STATUS_EXISTING && e->status != ICEBERG_STATUS_ADDED &&
        e->status != ICEBERG_STATUS_DELETED)
        return err_setf(err, errlen, "%s: status %d is not 0, 1 or 2", f->file_path, (int)e->status);
    if (e->status != ICEBERG_STATUS_ADDED &&
        (!e->has_snapshot_id || !e->has_sequence_number || !e->has_file_sequence_number))
        return err_setf(err, errlen, "%s: an existing or deleted entry needs its snapshot id and both sequence numbers",
                        f->file_path);
    bool data = f->content == ICEBERG_CONTENT_DATA;
    bool deletes = f->content == ICEBERG_CONTENT_POSITION_DELETES || f->content == ICEBERG_CONTENT_EQUALITY_DELETES;
    if ((w->content == ICEBERG_MANIFEST_DATA && !data) || (w->content == ICEBERG_MANIFEST_DELETES && !deletes))
        return err_setf(err, errlen, "%s: content %d does not belong in a %s manifest", f->file_path, (int)f->content,
                        w->content == ICEBERG_MANIFEST_DATA ? "data" : "deletes");
    if (f->record_count < 0 || f->file_size_in_bytes < 0)
        return err_setf(err, errlen, "%s: negative record count or file size", f->file_path);
    if (f->content == ICEBERG_CONTENT_EQUALITY_DELETES ? (!f->equality_ids || !f->nequality_ids)
                                                       : f->equality_ids != NULL)
        return err_setf(err, errlen, "%s: equality_ids are required for equality deletes and only for them",
                        f->file_path);
    for (size_t i = 1; i < f->nsplit_offsets; i++)
        if (f->split_offsets[i] < f->split_offsets[i - 1])
            return err_setf(err, errlen, "%s: split offsets are not ascending", f->file_path);
    if (f->key_metadata_len && !f->key_metadata)
        return err_setf(err, errlen, "%s: key metadata without bytes", f->file_path);
    if (check_partition(w, f, err, errlen) < 0 || check_columns(f, err, errlen) < 0)
        return -1;
    return 0;
}

/* ---- encoding with libavro ---- */

static int get(avro_value_t *rec, const char *name, avro_value_t *out)
{
    return avro_value_get_by_name(rec, name, out, NULL);
}

/* An optional ["null", T] field: branch 1 into *branch when present, else null. */
static int set_union(avro_value_t *rec, const char *name, bool present, avro_value_t *branch)
{
    avro_value_t f;
    if (get(rec, name, &f) || avro_value_set_branch(&f, present ? 1 : 0, branch))
        return -1;
    return present ? 0 : avro_value_set_null(branch);
}

static int set_opt_long(avro_value_t *rec, const char *name, bool present, int64_t v)
{
    avro_value_t b;
    return set_union(rec, name, present, &b) || (present && avro_value_set_long(&b, v));
}

static int set_string(avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t f;
    return get(rec, name, &f) || avro_value_set_string(&f, s);
}

static int set_partition_value(iceberg_manifest_writer *w, avro_value_t *b, const iceberg_partition_field *pf,
                               const iceberg_value *v)
{
    switch (pf->type) {
    case ICEBERG_TYPE_BOOLEAN: return avro_value_set_boolean(b, v->v.b);
    case ICEBERG_TYPE_INT:
    case ICEBERG_TYPE_DATE: return avro_value_set_int(b, v->v.i32);
    case ICEBERG_TYPE_LONG:
    case ICEBERG_TYPE_TIME:
    case ICEBERG_TYPE_TIMESTAMP:
    case ICEBERG_TYPE_TIMESTAMPTZ: return avro_value_set_long(b, v->v.i64);
    case ICEBERG_TYPE_FLOAT: return avro_value_set_float(b, v->v.f32);
    case ICEBERG_TYPE_DOUBLE: return avro_value_set_double(b, v->v.f64);
    case ICEBERG_TYPE_STRING:
        /* libavro's string length counts a NUL terminator: pass a terminated copy. */
        buf_reset(&w->scratch);
        buf_append(&w->scratch, v->v.bytes.ptr, v->v.bytes.len);
        return avro_value_set_string_len(b, w->scratch.data ? w->scratch.data : "", v->v.bytes.len + 1);
    case ICEBERG_TYPE_BINARY: return avro_value_set_bytes(b, (void *)(v->v.bytes.len ? v->v.bytes.ptr : ""), v->v.bytes.len);
    case ICEBERG_TYPE_UUID:
    case ICEBERG_TYPE_FIXED: return avro_value_set_fixed(b, (void *)v->v.bytes.ptr, v->v.bytes.len);
    case ICEBERG_TYPE_DECIMAL: {
        uint8_t be[16];
        size_t n = (size_t)iceberg_decimal_required_bytes(pf->precision);
        iceberg_decimal_to_be(v->v.dec, be, n);
        return avro_value_set_fixed(b, be, n);
    }
    }
    return -1;
}

static int set_partition(iceberg_manifest_writer *w, avro_value_t *df, const iceberg_data_file *f)
{
    avro_value_t part, field, b;
    if (get(df, "partition", &part))
        return -1;
    for (size_t i = 0; i < w->nfields; i++) {
        const iceberg_value *v = &f->partition[i];
        if (avro_value_get_by_index(&part, i, &field, NULL) || avro_value_set_branch(&field, v->is_null ? 0 : 1, &b))
            return -1;
        if (v->is_null ? avro_value_set_null(&b) : set_partition_value(w, &b, &w->fields[i], v))
            return -1;
    }
    return 0;
}

typedef enum stat_kind { STAT_SIZE, STAT_VALUES, STAT_NULLS, STAT_NANS, STAT_LOWER, STAT_UPPER } stat_kind;

static bool stat_present(const iceberg_column_stats *c, stat_kind k)
{
    switch (k) {
    case STAT_SIZE: return c->has_column_size;
    case STAT_VALUES: return c->has_value_count;
    case STAT_NULLS: return c->has_null_count;
    case STAT_NANS: return c->has_nan_count;
    case STAT_LOWER: return c->has_lower;
    case STAT_UPPER: return c->has_upper;
    }
    return false;
}

/* One map<int, long|binary> keyed by field id: null when no column has this statistic. */
static int set_stat_map(avro_value_t *df, const char *name, stat_kind k, const iceberg_data_file *f)
{
    bool any = false;
    for (size_t i = 0; i < f->ncolumns && !any; i++)
        any = stat_present(&f->columns[i], k);
    avro_value_t arr, el, key, val;
    if (set_union(df, name, any, &arr))
        return -1;
    for (size_t i = 0; any && i < f->ncolumns; i++) {
        const iceberg_column_stats *c = &f->columns[i];
        if (!stat_present(c, k))
            continue;
        if (avro_value_append(&arr, &el, NULL) || get(&el, "key", &key) || get(&el, "value", &val) ||
            avro_value_set_int(&key, c->field_id))
            return -1;
        int rc;
        switch (k) {
        case STAT_SIZE: rc = avro_value_set_long(&val, c->column_size); break;
        case STAT_VALUES: rc = avro_value_set_long(&val, c->value_count); break;
        case STAT_NULLS: rc = avro_value_set_long(&val, c->null_count); break;
        case STAT_NANS: rc = avro_value_set_long(&val, c->nan_count); break;
        case STAT_LOWER: rc = avro_value_set_bytes(&val, (void *)(c->lower_len ? c->lower : ""), c->lower_len); break;
        default: rc = avro_value_set_bytes(&val, (void *)(c->upper_len ? c->upper : ""), c->upper_len); break;
        }
        if (rc)
            return -1;
    }
    return 0;
}

static int set_data_file(iceberg_manifest_writer *w, avro_value_t *rec, const iceberg_data_file *f)
{
    avro_value_t df, v, b, el;
    if (get(rec, "data_file", &df) || get(&df, "content", &v) || avro_value_set_int(&v, (int32_t)f->content) ||
        set_string(&df, "file_path", f->file_path) ||
        set_string(&df, "file_format", f->file_format ? f->file_format : "PARQUET") || set_partition(w, &df, f) ||
        get(&df, "record_count", &v) || avro_value_set_long(&v, f->record_count) ||
        get(&df, "file_size_in_bytes", &v) || avro_value_set_long(&v, f->file_size_in_bytes) ||
        set_stat_map(&df, "column_sizes", STAT_SIZE, f) || set_stat_map(&df, "value_counts", STAT_VALUES, f) ||
        set_stat_map(&df, "null_value_counts", STAT_NULLS, f) || set_stat_map(&df, "nan_value_counts", STAT_NANS, f) ||
        set_stat_map(&df, "lower_bounds", STAT_LOWER, f) || set_stat_map(&df, "upper_bounds", STAT_UPPER, f))
        return -1;
    if (set_union(&df, "key_metadata", f->key_metadata != NULL, &b) ||
        (f->key_metadata && avro_value_set_bytes(&b, (void *)f->key_metadata, f->key_metadata_len)))
        return -1;
    if (set_union(&df, "split_offsets", f->split_offsets != NULL, &b))
        return -1;
    for (size_t i = 0; f->split_offsets && i < f->nsplit_offsets; i++)
        if (avro_value_append(&b, &el, NULL) || avro_value_set_long(&el, f->split_offsets[i]))
            return -1;
    if (set_union(&df, "equality_ids", f->equality_ids != NULL, &b))
        return -1;
    for (size_t i = 0; f->equality_ids && i < f->nequality_ids; i++)
        if (avro_value_append(&b, &el, NULL) || avro_value_set_int(&el, f->equality_ids[i]))
            return -1;
    if (set_union(&df, "sort_order_id", f->has_sort_order_id, &b) ||
        (f->has_sort_order_id && avro_value_set_int(&b, f->sort_order_id)))
        return -1;
    if (set_union(&df, "referenced_data_file", f->referenced_data_file != NULL, &b) ||
        (f->referenced_data_file && avro_value_set_string(&b, f->referenced_data_file)))
        return -1;
    return 0;
}

/* ---- summary ---- */

/* Keep v as the new min or max of one partition field (byte payloads copied). */
static void keep_bound(iceberg_value *dst, buf *store, const iceberg_value *v)
{
    *dst = *v;
    if (v->type == ICEBERG_TYPE_STRING || v->type == ICEBERG_TYPE_UUID || v->type == ICEBERG_TYPE_FIXED ||
        v->type == ICEBERG_TYPE_BINARY) {
        buf_reset(store);
        if (v->v.bytes.len)
            buf_append(store, v->v.bytes.ptr, v->v.bytes.len);
        dst->v.bytes.ptr = store->data ? store->data : "";
    }
}

static void update_summary(iceberg_manifest_writer *w, const iceberg_manifest_entry *e)
{
    const iceberg_data_file *f = e->file;
    switch (e->status) {
    case ICEBERG_STATUS_ADDED:
        w->added_files++;
        w->added_rows += f->record_count;
        break;
    case ICEBERG_STATUS_EXISTING:
        w->existing_files++;
        w->existing_rows += f->record_count;
        break;
    case ICEBERG_STATUS_DELETED:
        w->deleted_files++;
        w->deleted_rows += f->record_count;
        break;
    }
    if (e->status != ICEBERG_STATUS_DELETED && e->has_sequence_number &&
        (!w->has_min_seq || e->sequence_number < w->min_seq)) {
        w->has_min_seq = true;
        w->min_seq = e->sequence_number;
    }
    for (size_t i = 0; i < w->nfields; i++) {
        part_stats *p = &w->parts[i];
        const iceberg_value *v = &f->partition[i];
        if (v->is_null) {
            p->contains_null = true;
            continue;
        }
        if (iceberg_value_is_nan(v)) {
            p->contains_nan = true;
            continue;
        }
        if (!p->has_bounds || iceberg_value_compare(v, &p->min) < 0)
            keep_bound(&p->min, &p->min_buf, v);
        if (!p->has_bounds || iceberg_value_compare(v, &p->max) > 0)
            keep_bound(&p->max, &p->max_buf, v);
        p->has_bounds = true;
    }
}

int iceberg_manifest_writer_add(iceberg_manifest_writer *w, const iceberg_manifest_entry *e, char *err,
                                size_t errlen)
{
    if (w->closed)
        return err_setf(err, errlen, "manifest: already closed");
    if (check_entry(w, e, err, errlen) < 0)
        return -1;
    avro_value_t *rec = avro_ocf_writer_value(w->ocf), v;
    avro_value_reset(rec);
    if (get(rec, "status", &v) || avro_value_set_int(&v, (int32_t)e->status) ||
        set_opt_long(rec, "snapshot_id", e->has_snapshot_id, e->snapshot_id) ||
        set_opt_long(rec, "sequence_number", e->has_sequence_number, e->sequence_number) ||
        set_opt_long(rec, "file_sequence_number", e->has_file_sequence_number, e->file_sequence_number) ||
        set_data_file(w, rec, e->file))
        return err_setf(err, errlen, "%s: %s", e->file->file_path, avro_strerror());
    if (avro_ocf_writer_append(w->ocf, rec, err, errlen) < 0)
        return -1;
    update_summary(w, e);
    return 0;
}

int iceberg_manifest_writer_close(iceberg_manifest_writer *w, iceberg_manifest_file *summary, char *err,
                                  size_t errlen)
{
    uint64_t bytes = 0;
    if (w->closed)
        return err_setf(err, errlen, "manifest: already closed");
    if (w->added_files > INT32_MAX || w->existing_files > INT32_MAX || w->deleted_files > INT32_MAX)
        return err_setf(err, errlen, "manifest: more than %d files of one status", INT32_MAX);
    if (avro_ocf_writer_close(w->ocf, &bytes, err, errlen) < 0)
        return -1;
    w->closed = true;
    for (size_t i = 0; i < w->nfields; i++) {
        part_stats *p = &w->parts[i];
        iceberg_field_summary *s = &w->summaries[i];
        memset(s, 0, sizeof *s);
        s->contains_null = p->contains_null;
        s->has_contains_nan = true;
        s->contains_nan = p->contains_nan;
        if (p->has_bounds) {
            buf_reset(&p->lower);
            buf_reset(&p->upper);
            if (iceberg_value_serialize(&p->min, &p->lower, err, errlen) < 0 ||
                iceberg_value_serialize(&p->max, &p->upper, err, errlen) < 0)
                return -1;
            s->has_lower = s->has_upper = true;
            s->lower = p->lower.data ? p->lower.data : "";
            s->lower_len = p->lower.len;
            s->upper = p->upper.data ? p->upper.data : "";
            s->upper_len = p->upper.len;
        }
    }
    if (summary) {
        memset(summary, 0, sizeof *summary);
        summary->manifest_path = w->path;
        summary->manifest_length = (int64_t)bytes;
        summary->partition_spec_id = w->spec_id;
        summary->content = w->content;
        summary->has_min_sequence_number = w->has_min_seq;
        summary->min_sequence_number = w->min_seq;
        summary->added_snapshot_id = w->snapshot_id;
        summary->added_files_count = (int32_t)w->added_files;
        summary->existing_files_count = (int32_t)w->existing_files;
        summary->deleted_files_count = (int32_t)w->deleted_files;
        summary->added_rows_count = w->added_rows;
        summary->existing_rows_count = w->existing_rows;
        summary->deleted_rows_count = w->deleted_rows;
        summary->partitions = w->summaries;
        summary->npartitions = w->nfields;
    }
    return 0;
}

void iceberg_manifest_writer_destroy(iceberg_manifest_writer *w)
{
    if (!w)
        return;
    avro_ocf_writer_destroy(w->ocf);
    for (size_t i = 0; w->fields && i < w->nfields; i++)
        free((char *)w->fields[i].name);
    for (size_t i = 0; w->parts && i < w->nfields; i++) {
        buf_free(&w->parts[i].min_buf);
        buf_free(&w->parts[i].max_buf);
        buf_free(&w->parts[i].lower);
        buf_free(&w->parts[i].upper);
    }
    free(w->fields);
    free(w->parts);
    free(w->summaries);
    free(w->path);
    buf_free(&w->scratch);
    free(w);
}
