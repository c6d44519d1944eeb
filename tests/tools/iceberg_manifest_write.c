/* iceberg_manifest_write: writes an Iceberg v2 manifest and a manifest list with Sluice's writers
 * (firmware/sinks/lake/iceberg_manifest*, avro_ocf) from a JSON description, so runtime tests
 * can check them with independent Avro readers.
 *   iceberg_manifest_write DESCRIPTION.json OUTDIR      -> OUTDIR/manifest.avro, OUTDIR/list.avro
 * DESCRIPTION: {"manifest": {"path", "content": "data|deletes", "schema_id", "spec_id",
 *                 "table_schema": {...}, "partition_fields": [{"name", "field_id", "source_id",
 *                 "type", "precision", "scale", "length"}], "snapshot_id", "codec": "null|deflate",
 *                 "block_bytes", "entries": [entry...]},
 *               "list": {"snapshot_id", "parent_snapshot_id" (or null), "sequence_number", "codec",
 *                 "block_bytes", "extra_manifests": [manifest_file...]}}
 * entry: {"status", "snapshot_id", "sequence_number", "file_sequence_number" (null: inherited),
 *         "file": {"content", "path", "format", "partition": [value per field], "record_count",
 *         "file_size", "columns": [{"id", "column_size", "value_count", "null_count", "nan_count",
 *         "lower": typed, "upper": typed}], "key_metadata": hex, "split_offsets": [...],
 *         "equality_ids": [...], "sort_order_id", "referenced_data_file"}} (absent: null)
 * typed: {"type": "<iceberg type>", "scale": n, "value": v}; values: integers as JSON numbers or
 * decimal strings, floats as numbers or "NaN"/"-0"/"Infinity"/"-Infinity", decimals as text
 * ("-12.34"), uuids as text, binary and fixed as hex.
 * manifest_file: {"path", "length", "spec_id", "content", "sequence_number",
 *         "min_sequence_number", "added_snapshot_id", "added_files", "existing_files",
 *         "deleted_files", "added_rows", "existing_rows", "deleted_rows", "partitions":
 *         [{"contains_null", "contains_nan", "lower": hex, "upper": hex}], "key_metadata": hex}
 * The manifest written here goes first in the list (its summary from the writer), then the extra
 * ones. Errors: "iceberg_manifest_write: <reason>" on stderr, exit status 1. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "sinks/lake/iceberg_manifest.h"

__extension__ typedef __int128 i128;

static char err[512];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, sizeof err, fmt, ap);
    va_end(ap);
    return -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex text into arena bytes. 0 or -1. */
static int hex_bytes(arena *a, json_t *j, const void **out, size_t *len)
{
    const char *s = json_string_value(j);
    if (!s || strlen(s) % 2)
        return fail("bad hex string %s", s ? s : "(not a string)");
    size_t n = strlen(s) / 2;
    uint8_t *p = arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail("bad hex string %s", s);
        p[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = p;
    *len = n;
    return 0;
}

static int json_i64(json_t *j, int64_t *out)
{
    if (json_is_integer(j)) {
        *out = json_integer_value(j);
        return 0;
    }
    if (json_is_string(j)) {
        char *end;
        errno = 0;
        long long v = strtoll(json_string_value(j), &end, 10);
        if (errno || *end || end == json_string_value(j))
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

static int json_f64(json_t *j, double *out)
{
    if (json_is_number(j)) {
        *out = json_number_value(j);
        return 0;
    }
    const char *s = json_string_value(j);
    if (!s)
        return -1;
    if (strcmp(s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(s, "-0") == 0)
        *out = -0.0;
    else if (strcmp(s, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(s, "-Infinity") == 0)
        *out = -INFINITY;
    else
        return -1;
    return 0;
}

/* "-123.45" at the given scale into an unscaled 128-bit value. */
static int decimal_text(const char *s, int scale, iceberg_decimal *out)
{
    bool neg = *s == '-';
    if (neg || *s == '+')
        s++;
    i128 v = 0;
    int frac = -1;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (frac >= 0 && ++frac > scale)
            return -1;
    }
    for (int i = frac < 0 ? 0 : frac; i < scale; i++)
        v *= 10;
    if (neg)
        v = -v;
    out->hi = (int64_t)(v >> 64);
    out->lo = (uint64_t)v;
    return 0;
}

/* One JSON value of type t into *v (byte payloads in the arena). */
static int value_from_json(arena *a, iceberg_type t, int scale, json_t *j, iceberg_value *v)
{
    int64_t i;
    double d;
    const char *s = json_string_value(j);
    if (json_is_null(j)) {
        *v = iceberg_value_null(t);
        return 0;
    }
    switch (t) {
    case ICEBERG_TYPE_BOOLEAN:
        if (!json_is_boolean(j))
            break;
        *v = iceberg_value_boolean(json_is_true(j));
        return 0;
    case ICEBERG_TYPE_INT:
    case ICEBERG_TYPE_DATE:
        if (json_i64(j, &i) < 0 || i < INT32_MIN || i > INT32_MAX)
            break;
        *v = t == ICEBERG_TYPE_INT ? iceberg_value_int((int32_t)i) : iceberg_value_date((int32_t)i);
        return 0;
    case ICEBERG_TYPE_LONG:
    case ICEBERG_TYPE_TIME:
    case ICEBERG_TYPE_TIMESTAMP:
    case ICEBERG_TYPE_TIMESTAMPTZ:
        if (json_i64(j, &i) < 0)
            break;
        *v = iceberg_value_long(i);
        v->type = t;
        return 0;
    case ICEBERG_TYPE_FLOAT:
    case ICEBERG_TYPE_DOUBLE:
        if (json_f64(j, &d) < 0)
            break;
        *v = t == ICEBERG_TYPE_FLOAT ? iceberg_value_float((float)d) : iceberg_value_double(d);
        return 0;
    case ICEBERG_TYPE_DECIMAL: {
        iceberg_decimal dec;
        if (!s || decimal_text(s, scale, &dec) < 0)
            break;
        *v = iceberg_value_decimal(dec);
        return 0;
    }
    case ICEBERG_TYPE_STRING:
        if (!s)
            break;
        *v = iceberg_value_string(arena_strndup(a, s, strlen(s)), strlen(s));
        return 0;
    case ICEBERG_TYPE_UUID: {
        uint8_t *u = arena_alloc(a, 16);
        if (!s || iceberg_uuid_parse(s, u) < 0)
            break;
        *v = iceberg_value_uuid(u);
        return 0;
    }
    case ICEBERG_TYPE_FIXED:
    case ICEBERG_TYPE_BINARY: {
        const void *p;
        size_t n;
        if (hex_bytes(a, j, &p, &n) < 0)
            return -1;
        *v = t == ICEBERG_TYPE_FIXED ? iceberg_value_fixed(p, n) : iceberg_value_binary(p, n);
        return 0;
    }
    }
    return fail("cannot read a value of type %s", iceberg_type_name(t));
}

/* {"type", "scale", "value"} into Appendix D bytes in the arena. */
static int bound_from_json(arena *a, json_t *j, const void **out, size_t *len)
{
    iceberg_type t;
    iceberg_value v;
    if (iceberg_type_parse(json_string_value(json_object_get(j, "type")), &t) < 0)
        return fail("bound: unknown type %s", json_string_value(json_object_get(j, "type")));
    if (value_from_json(a, t, (int)json_integer_value(json_object_get(j, "scale")), json_object_get(j, "value"), &v) < 0)
        return -1;
    buf b = BUF_INIT;
    int rc = iceberg_value_serialize(&v, &b, err, sizeof err);
    if (rc == 0) {
        *len = b.len;
        *out = memcpy(arena_alloc(a, b.len + 1), b.data ? b.data : "", b.len);
    }
    buf_free(&b);
    return rc;
}

static int parse_fields(arena *a, json_t *j, iceberg_partition_field **out, size_t *n)
{
    *n = json_array_size(j);
    *out = arena_alloc(a, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        json_t *f = json_array_get(j, i);
        iceberg_partition_field *p = &(*out)[i];
        memset(p, 0, sizeof *p);
        p->name = json_string_value(json_object_get(f, "name"));
        p->field_id = (int32_t)json_integer_value(json_object_get(f, "field_id"));
        p->source_id = (int32_t)json_integer_value(json_object_get(f, "source_id"));
        p->precision = (int)json_integer_value(json_object_get(f, "precision"));
        p->scale = (int)json_integer_value(json_object_get(f, "scale"));
        p->length = (int)json_integer_value(json_object_get(f, "length"));
        if (iceberg_type_parse(json_string_value(json_object_get(f, "type")), &p->type) < 0)
            return fail("partition field: unknown type %s", json_string_value(json_object_get(f, "type")));
    }
    return 0;
}

static bool opt_i64(json_t *j, int64_t *out)
{
    return j && !json_is_null(j) && json_i64(j, out) == 0;
}

static int parse_columns(arena *a, json_t *j, iceberg_data_file *f)
{
    size_t n = json_array_size(j);
    iceberg_column_stats *c = arena_alloc(a, (n + 1) * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(j, i);
        memset(&c[i], 0, sizeof c[i]);
        c[i].field_id = (int32_t)json_integer_value(json_object_get(o, "id"));
        c[i].has_column_size = opt_i64(json_object_get(o, "column_size"), &c[i].column_size);
        c[i].has_value_count = opt_i64(json_object_get(o, "value_count"), &c[i].value_count);
        c[i].has_null_count = opt_i64(json_object_get(o, "null_count"), &c[i].null_count);
        c[i].has_nan_count = opt_i64(json_object_get(o, "nan_count"), &c[i].nan_count);
        json_t *lo = json_object_get(o, "lower"), *hi = json_object_get(o, "upper");
        if (lo && !json_is_null(lo)) {
            c[i].has_lower = true;
            if (bound_from_json(a, lo, &c[i].lower, &c[i].lower_len) < 0)
                return -1;
        }
        if (hi && !json_is_null(hi)) {
            c[i].has_upper = true;
            if (bound_from_json(a, hi, &c[i].upper, &c[i].upper_len) < 0)
                return -1;
        }
    }
    f->columns = c;
    f->ncolumns = n;
    return 0;
}

static int parse_entry(arena *a, json_t *j, const iceberg_partition_field *fields, size_t nfields,
                       iceberg_manifest_entry *e)
{
    json_t *fj = json_object_get(j, "file"), *x;
    iceberg_data_file *f = arena_alloc(a, sizeof *f);
    memset(f, 0, sizeof *f);
    memset(e, 0, sizeof *e);
    e->file = f;
    e->status = (iceberg_entry_status)json_integer_value(json_object_get(j, "status"));
    e->has_snapshot_id = opt_i64(json_object_get(j, "snapshot_id"), &e->snapshot_id);
    e->has_sequence_number = opt_i64(json_object_get(j, "sequence_number"), &e->sequence_number);
    e->has_file_sequence_number = opt_i64(json_object_get(j, "file_sequence_number"), &e->file_sequence_number);
    f->content = (iceberg_content)json_integer_value(json_object_get(fj, "content"));
    f->file_path = json_string_value(json_object_get(fj, "path"));
    f->file_format = json_string_value(json_object_get(fj, "format"));
    f->record_count = json_integer_value(json_object_get(fj, "record_count"));
    f->file_size_in_bytes = json_integer_value(json_object_get(fj, "file_size"));
    json_t *part = json_object_get(fj, "partition");
    f->npartition = json_array_size(part);
    iceberg_value *pv = arena_alloc(a, (f->npartition + 1) * sizeof *pv);
    for (size_t i = 0; i < f->npartition; i++) {
        if (i >= nfields)
            return fail("%s: more partition values than fields", f->file_path);
        if (value_from_json(a, fields[i].type, fields[i].scale, json_array_get(part, i), &pv[i]) < 0)
            return -1;
    }
    f->partition = pv;
    if (parse_columns(a, json_object_get(fj, "columns"), f) < 0)
        return -1;
    if ((x = json_object_get(fj, "key_metadata")) && !json_is_null(x) &&
        hex_bytes(a, x, &f->key_metadata, &f->key_metadata_len) < 0)
        return -1;
    if ((x = json_object_get(fj, "split_offsets")) && json_is_array(x)) {
        int64_t *o = arena_alloc(a, (json_array_size(x) + 1) * sizeof *o);
        for (size_t i = 0; i < json_array_size(x); i++)
            json_i64(json_array_get(x, i), &o[i]);
        f->split_offsets = o;
        f->nsplit_offsets = json_array_size(x);
    }
    if ((x = json_object_get(fj, "equality_ids")) && json_is_array(x)) {
        int32_t *o = arena_alloc(a, (json_array_size(x) + 1) * sizeof *o);
        for (size_t i = 0; i < json_array_size(x); i++)
            o[i] = (int32_t)json_integer_value(json_array_get(x, i));
        f->equality_ids = o;
        f->nequality_ids = json_array_size(x);
    }
    int64_t sort;
    if ((f->has_sort_order_id = opt_i64(json_object_get(fj, "sort_order_id"), &sort)))
        f->sort_order_id = (int32_t)sort;
    f->referenced_data_file = json_string_value(json_object_get(fj, "referenced_data_file"));
    return 0;
}

static int parse_manifest_file(arena *a, json_t *j, iceberg_manifest_file *m)
{
    memset(m, 0, sizeof *m);
    m->manifest_path = json_string_value(json_object_get(j, "path"));
    json_i64(json_object_get(j, "length"), &m->manifest_length);
    m->partition_spec_id = (int32_t)json_integer_value(json_object_get(j, "spec_id"));
    m->content = (iceberg_manifest_content)json_integer_value(json_object_get(j, "content"));
    m->has_sequence_number = opt_i64(json_object_get(j, "sequence_number"), &m->sequence_number);
    m->has_min_sequence_number = opt_i64(json_object_get(j, "min_sequence_number"), &m->min_sequence_number);
    json_i64(json_object_get(j, "added_snapshot_id"), &m->added_snapshot_id);
    m->added_files_count = (int32_t)json_integer_value(json_object_get(j, "added_files"));
    m->existing_files_count = (int32_t)json_integer_value(json_object_get(j, "existing_files"));
    m->deleted_files_count = (int32_t)json_integer_value(json_object_get(j, "deleted_files"));
    m->added_rows_count = json_integer_value(json_object_get(j, "added_rows"));
    m->existing_rows_count = json_integer_value(json_object_get(j, "existing_rows"));
    m->deleted_rows_count = json_integer_value(json_object_get(j, "deleted_rows"));
    json_t *parts = json_object_get(j, "partitions"), *x;
    m->npartitions = json_array_size(parts);
    iceberg_field_summary *s = arena_alloc(a, (m->npartitions + 1) * sizeof *s);
    for (size_t i = 0; i < m->npartitions; i++) {
        json_t *p = json_array_get(parts, i);
        memset(&s[i], 0, sizeof s[i]);
        s[i].contains_null = json_is_true(json_object_get(p, "contains_null"));
        x = json_object_get(p, "contains_nan");
        s[i].has_contains_nan = x && json_is_boolean(x);
        s[i].contains_nan = json_is_true(x);
        if ((x = json_object_get(p, "lower")) && !json_is_null(x)) {
            s[i].has_lower = true;
            if (hex_bytes(a, x, &s[i].lower, &s[i].lower_len) < 0)
                return -1;
        }
        if ((x = json_object_get(p, "upper")) && !json_is_null(x)) {
            s[i].has_upper = true;
            if (hex_bytes(a, x, &s[i].upper, &s[i].upper_len) < 0)
                return -1;
        }
    }
    m->partitions = s;
    if ((x = json_object_get(j, "key_metadata")) && !json_is_null(x) &&
        hex_bytes(a, x, &m->key_metadata, &m->key_metadata_len) < 0)
        return -1;
    return 0;
}

static int open_out(const char *dir, const char *name, int *fd)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    return *fd < 0 ? fail("cannot create %s", path) : 0;
}

static int codec_of(json_t *j, avro_ocf_codec *c)
{
    const char *s = json_string_value(j);
    return avro_ocf_codec_parse(s ? s : "null", c) < 0 ? fail("unknown codec %s", s) : 0;
}

static int run(json_t *desc, const char *dir, arena *a)
{
    json_t *mj = json_object_get(desc, "manifest"), *lj = json_object_get(desc, "list");
    iceberg_manifest_writer *mw = NULL;
    iceberg_manifest_list_writer *lw = NULL;
    int mfd = -1, lfd = -1, rc = -1;
    char *schema = NULL;
    iceberg_manifest_options mo = {0};
    iceberg_manifest_list_options lo = {0};
    iceberg_partition_field *fields = NULL;
    size_t nfields = 0;
    iceberg_manifest_file summary;

    if (!json_is_object(mj) || !json_is_object(lj)) {
        fail("%s", "the description needs \"manifest\" and \"list\" objects");
        goto out;
    }
    if (parse_fields(a, json_object_get(mj, "partition_fields"), &fields, &nfields) < 0 ||
        codec_of(json_object_get(mj, "codec"), &mo.codec) < 0 || codec_of(json_object_get(lj, "codec"), &lo.codec) < 0)
        goto out;
    schema = json_dumps(json_object_get(mj, "table_schema"), JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *content = json_string_value(json_object_get(mj, "content"));
    mo.path = json_string_value(json_object_get(mj, "path"));
    mo.schema_json = schema;
    mo.schema_id = (int32_t)json_integer_value(json_object_get(mj, "schema_id"));
    mo.partition_spec_id = (int32_t)json_integer_value(json_object_get(mj, "spec_id"));
    mo.partition_fields = fields;
    mo.npartition_fields = nfields;
    mo.content = content && strcmp(content, "deletes") == 0 ? ICEBERG_MANIFEST_DELETES : ICEBERG_MANIFEST_DATA;
    json_i64(json_object_get(mj, "snapshot_id"), &mo.snapshot_id);
    mo.block_bytes = (size_t)json_integer_value(json_object_get(mj, "block_bytes"));
    if (open_out(dir, "manifest.avro", &mfd) < 0)
        goto out;
    byte_output mout = {byte_output_fd_write, &mfd};
    if (!(mw = iceberg_manifest_writer_create(&mo, &mout, err, sizeof err)))
        goto out;
    json_t *entries = json_object_get(mj, "entries");
    for (size_t i = 0; i < json_array_size(entries); i++) {
        iceberg_manifest_entry e;
        if (parse_entry(a, json_array_get(entries, i), fields, nfields, &e) < 0 ||
            iceberg_manifest_writer_add(mw, &e, err, sizeof err) < 0)
            goto out;
    }
    if (iceberg_manifest_writer_close(mw, &summary, err, sizeof err) < 0)
        goto out;

    json_i64(json_object_get(lj, "snapshot_id"), &lo.snapshot_id);
    lo.has_parent_snapshot_id = opt_i64(json_object_get(lj, "parent_snapshot_id"), &lo.parent_snapshot_id);
    json_i64(json_object_get(lj, "sequence_number"), &lo.sequence_number);
    lo.block_bytes = (size_t)json_integer_value(json_object_get(lj, "block_bytes"));
    if (open_out(dir, "list.avro", &lfd) < 0)
        goto out;
    byte_output lout = {byte_output_fd_write, &lfd};
    if (!(lw = iceberg_manifest_list_writer_create(&lo, &lout, err, sizeof err)) ||
        iceberg_manifest_list_writer_add(lw, &summary, err, sizeof err) < 0)
        goto out;
    json_t *extra = json_object_get(lj, "extra_manifests");
    for (size_t i = 0; i < json_array_size(extra); i++) {
        iceberg_manifest_file m;
        if (parse_manifest_file(a, json_array_get(extra, i), &m) < 0 ||
            iceberg_manifest_list_writer_add(lw, &m, err, sizeof err) < 0)
            goto out;
    }
    if (iceberg_manifest_list_writer_close(lw, NULL, err, sizeof err) < 0)
        goto out;
    rc = 0;

out:
    iceberg_manifest_writer_destroy(mw);
    iceberg_manifest_list_writer_destroy(lw);
    if (mfd >= 0)
        close(mfd);
    if (lfd >= 0)
        close(lfd);
    free(schema);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: iceberg_manifest_write DESCRIPTION.json OUTDIR\n");
        return 2;
    }
    json_error_t je;
    json_t *desc = json_load_file(argv[1], 0, &je);
    if (!desc) {
        fprintf(stderr, "iceberg_manifest_write: %s: %s (line %d)\n", argv[1], je.text, je.line);
        return 1;
    }
    arena *a = arena_create(64 * 1024);
    int rc = run(desc, argv[2], a);
    if (rc < 0)
        fprintf(stderr, "iceberg_manifest_write: %s\n", err);
    arena_destroy(a);
    json_decref(desc);
    return rc < 0 ? 1 : 0;
}
