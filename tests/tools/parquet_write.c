/* parquet_write: writes a Parquet file with Sluice's writer (firmware/sinks/lake/parquet_*) from
 * a JSON description, so runtime tests can produce files for independent readers.
 *   parquet_write DESCRIPTION.json OUT.parquet [--info INFO.json]
 * DESCRIPTION: {"schema": [{"name", "type", "field_id", "optional", "precision", "scale"}...],
 *               "options": {"codec": "none|snappy|zstd", "dictionary": bool, "row_group_bytes",
 *                           "page_bytes", "dictionary_bytes", "stats_bytes", "metadata": {k: v}},
 *               "rows": [[value per column]...]}
 * Values: null; boolean: true/false; int32/int64/date (days)/time/timestamp/timestamptz
 * (microseconds): a JSON integer or a decimal string; float/double: a number or "NaN",
 * "Infinity", "-Infinity", "-0"; decimal: a decimal string ("-123.45"); string: a JSON string;
 * binary: a hex string; uuid: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
 * The file is written to OUT.parquet.tmp and renamed at the end: on any error (reported as
 * "parquet_write: row N: <reason>", exit status 1) no OUT.parquet exists. --info writes what the
 * writer reports at close (rows, bytes, row groups, per column counts and bounds) as JSON.
 *   parquet_write --bench ROWS OUT.parquet [--codec C] [--runs R]
 * writes the benchmark table of bench/parquet_write.sh instead (10 nullable columns of an orders
 * table, values computed from the row number exactly as the script's DuckDB query computes them)
 * R times (default 3) and prints "rows=N best_s=... runs_s=... rows_per_s=... bytes=..." (time
 * from the first row generated to the footer written, generation included, as in DuckDB's COPY). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "sinks/lake/parquet_writer.h"

__extension__ typedef __int128 i128;

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

/* Hex text (dashes skipped when skip_dash) into out. Bytes written, or -1. */
static long hex_decode(const char *s, uint8_t *out, size_t cap, bool skip_dash)
{
    size_t n = 0;
    while (*s) {
        if (skip_dash && *s == '-') {
            s++;
            continue;
        }
        int hi = hexval(s[0]), lo = s[1] ? hexval(s[1]) : -1;
        if (hi < 0 || lo < 0 || n == cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    return (long)n;
}

static int json_int64(json_t *j, int64_t *out)
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

static int json_double(json_t *j, double *out)
{
    if (json_is_number(j)) {
        *out = json_number_value(j);
        return 0;
    }
    if (!json_is_string(j))
        return -1;
    const char *s = json_string_value(j);
    if (strcmp(s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(s, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(s, "-Infinity") == 0)
        *out = -INFINITY;
    else if (strcmp(s, "-0") == 0)
        *out = -0.0;
    else
        return -1;
    return 0;
}

/* One JSON value to a parquet_value of column c; byte arrays decoded into scratch. */
static int value_from_json(const parquet_column_def *c, json_t *j, parquet_value *v, buf *scratch, char *err,
                           size_t errlen)
{
    if (json_is_null(j)) {
        *v = parquet_value_null();
        return 0;
    }
    int64_t i;
    double d;
    switch (c->type) {
    case PARQUET_TYPE_BOOLEAN:
        if (!json_is_boolean(j))
            goto bad;
        *v = parquet_value_bool(json_is_true(j));
        return 0;
    case PARQUET_TYPE_INT32:
    case PARQUET_TYPE_DATE:
        if (json_int64(j, &i) < 0 || i < INT32_MIN || i > INT32_MAX)
            goto bad;
        *v = parquet_value_int32((int32_t)i);
        return 0;
    case PARQUET_TYPE_INT64:
    case PARQUET_TYPE_TIME:
    case PARQUET_TYPE_TIMESTAMP:
    case PARQUET_TYPE_TIMESTAMPTZ:
        if (json_int64(j, &i) < 0)
            goto bad;
        *v = parquet_value_int64(i);
        return 0;
    case PARQUET_TYPE_FLOAT:
        if (json_double(j, &d) < 0)
            goto bad;
        *v = parquet_value_float((float)d);
        return 0;
    case PARQUET_TYPE_DOUBLE:
        if (json_double(j, &d) < 0)
            goto bad;
        *v = parquet_value_double(d);
        return 0;
    case PARQUET_TYPE_DECIMAL: {
        if (!json_is_string(j))
            goto bad;
        parquet_decimal dec;
        /* Parse at the widest precision: the writer itself checks the column's precision. */
        if (parquet_decimal_from_text(json_string_value(j), 38, c->scale, &dec, err, errlen) < 0)
            return -1;
        *v = parquet_value_decimal(dec);
        return 0;
    }
    case PARQUET_TYPE_STRING:
        if (!json_is_string(j))
            goto bad;
        *v = parquet_value_bytes(json_string_value(j), json_string_length(j));
        return 0;
    case PARQUET_TYPE_BINARY:
    case PARQUET_TYPE_UUID: {
        if (!json_is_string(j))
            goto bad;
        size_t cap = json_string_length(j) / 2 + 1;
        buf_reset(scratch);
        buf_append(scratch, NULL, 0);
        for (size_t k = 0; k < cap; k++)
            buf_append(scratch, "", 1);
        long n = hex_decode(json_string_value(j), (uint8_t *)scratch->data, cap, c->type == PARQUET_TYPE_UUID);
        if (n < 0)
            goto bad;
        *v = parquet_value_bytes(scratch->data, (size_t)n);
        return 0;
    }
    }
bad:
    snprintf(err, errlen, "column %s: cannot read this JSON value as %s", c->name, parquet_type_name(c->type));
    return -1;
}

static void decimal_text(buf *out, parquet_decimal d, int scale)
{
    i128 v = (i128)(((unsigned __int128)(uint64_t)d.hi << 64) | d.lo);
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    char digits[64];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n <= scale)
        digits[n++] = '0';
    if (neg)
        buf_puts(out, "-");
    for (int k = n - 1; k >= 0; k--) {
        char ch = digits[k];
        buf_append(out, &ch, 1);
        if (k == scale && scale > 0)
            buf_puts(out, ".");
    }
}

static json_t *value_to_json(const parquet_column_def *c, const parquet_value *v)
{
    buf b = BUF_INIT;
    json_t *j = NULL;
    switch (v->kind) {
    case PARQUET_VALUE_NULL:
        return json_null();
    case PARQUET_VALUE_BOOL:
        return json_boolean(v->v.b);
    case PARQUET_VALUE_INT32:
        return json_integer(v->v.i32);
    case PARQUET_VALUE_INT64:
        buf_put_i64(&b, v->v.i64);
        break;
    case PARQUET_VALUE_FLOAT:
        buf_printf(&b, "%.9g", (double)v->v.f32);
        break;
    case PARQUET_VALUE_DOUBLE:
        buf_printf(&b, "%.17g", v->v.f64);
        break;
    case PARQUET_VALUE_DECIMAL:
        decimal_text(&b, v->v.dec, c->scale);
        break;
    case PARQUET_VALUE_BYTES:
        if (c->type == PARQUET_TYPE_STRING) {
            j = json_stringn(v->v.bytes.ptr, v->v.bytes.len);
            break;
        }
        for (size_t k = 0; k < v->v.bytes.len; k++)
            buf_printf(&b, "%02x", ((const uint8_t *)v->v.bytes.ptr)[k]);
        break;
    }
    if (!j)
        j = json_string(b.data ? b.data : "");
    buf_free(&b);
    return j;
}

static int write_info(const char *path, const parquet_file_info *info, const parquet_schema *s)
{
    json_t *root = json_object(), *cols = json_array(), *offs = json_array();
    json_object_set_new(root, "rows", json_integer((json_int_t)info->rows));
    json_object_set_new(root, "bytes", json_integer((json_int_t)info->bytes));
    json_object_set_new(root, "row_groups", json_integer((json_int_t)info->row_groups));
    for (size_t g = 0; g < info->row_groups; g++)
        json_array_append_new(offs, json_integer((json_int_t)info->row_group_offsets[g]));
    json_object_set_new(root, "row_group_offsets", offs);
    for (size_t i = 0; i < info->ncolumns; i++) {
        const parquet_column_info *ci = &info->columns[i];
        json_t *c = json_object();
        json_object_set_new(c, "name", json_string(ci->name));
        json_object_set_new(c, "field_id", json_integer(ci->field_id));
        json_object_set_new(c, "compressed_bytes", json_integer((json_int_t)ci->compressed_bytes));
        json_object_set_new(c, "values", json_integer((json_int_t)ci->values));
        json_object_set_new(c, "nulls", json_integer((json_int_t)ci->nulls));
        json_object_set_new(c, "nans", json_integer((json_int_t)ci->nans));
        json_object_set_new(c, "min", value_to_json(&s->columns[i], &ci->min));
        json_object_set_new(c, "max", value_to_json(&s->columns[i], &ci->max));
        json_array_append_new(cols, c);
    }
    json_object_set_new(root, "columns", cols);
    int rc = json_dump_file(root, path, JSON_INDENT(1));
    json_decref(root);
    return rc;
}

/* ---- --bench ------------------------------------------------------------------------------- */

static const parquet_column_def bench_cols[] = {
    {.name = "id", .field_id = 1, .type = PARQUET_TYPE_INT64, .optional = true},
    {.name = "customer_id", .field_id = 2, .type = PARQUET_TYPE_INT32, .optional = true},
    {.name = "email", .field_id = 3, .type = PARQUET_TYPE_STRING, .optional = true},
    {.name = "amount", .field_id = 4, .type = PARQUET_TYPE_DECIMAL, .precision = 12, .scale = 2, .optional = true},
    {.name = "status", .field_id = 5, .type = PARQUET_TYPE_STRING, .optional = true},
    {.name = "created_at", .field_id = 6, .type = PARQUET_TYPE_TIMESTAMPTZ, .optional = true},
    {.name = "paid", .field_id = 7, .type = PARQUET_TYPE_BOOLEAN, .optional = true},
    {.name = "quantity", .field_id = 8, .type = PARQUET_TYPE_INT32, .optional = true},
    {.name = "score", .field_id = 9, .type = PARQUET_TYPE_DOUBLE, .optional = true},
    {.name = "note", .field_id = 10, .type = PARQUET_TYPE_STRING, .optional = true},
};

/* Decimal digits of v after prefix into out; returns the length. */
static size_t bench_text(char *out, const char *prefix, size_t plen, uint64_t v, const char *suffix, size_t slen)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, prefix, plen);
    size_t len = plen;
    while (n)
        out[len++] = digits[--n];
    memcpy(out + len, suffix, slen);
    return len + slen;
}

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_run(uint64_t nrows, const char *path, parquet_compression codec, double *secs, uint64_t *bytes,
                     char *err, size_t errlen)
{
    static const char *const statuses[] = {"pending", "paid", "shipped", "delivered", "cancelled"};
    int rc = -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    parquet_options o;
    parquet_options_default(&o);
    o.compression = codec;
    parquet_schema s = {bench_cols, sizeof bench_cols / sizeof bench_cols[0]};
    byte_output out = {byte_output_fd_write, &fd};
    double t0 = bench_now();
    parquet_writer *w = parquet_writer_create(&s, &o, &out, err, errlen);
    if (!w)
        goto done;
    char email[64], note[32];
    parquet_value row[10];
    for (uint64_t i = 0; i < nrows; i++) {
        size_t elen = bench_text(email, "user", 4, i % 50000, "@example.com", 12);
        size_t nlen = bench_text(note, "note ", 5, i % 1000, "", 0);
        const char *st = statuses[i % 5];
        row[0] = parquet_value_int64((int64_t)i);
        row[1] = parquet_value_int32((int32_t)((i * 7919) % 100000));
        row[2] = parquet_value_bytes(email, elen);
        row[3] = parquet_value_decimal64((int64_t)((i * 37) % 1000000));
        row[4] = parquet_value_bytes(st, strlen(st));
        row[5] = parquet_value_int64(1700000000000000 + (int64_t)i * 1000003);
        row[6] = parquet_value_bool(i % 3 == 0);
        row[7] = parquet_value_int32((int32_t)(i % 100 + 1));
        row[8] = parquet_value_double((double)(i % 1000) * 0.5);
        row[9] = i % 10 == 0 ? parquet_value_null() : parquet_value_bytes(note, nlen);
        if (parquet_writer_write_row(w, row, err, errlen) < 0)
            goto done;
    }
    parquet_file_info info;
    if (parquet_writer_close(w, &info, err, errlen) < 0)
        goto done;
    *secs = bench_now() - t0;
    *bytes = info.bytes;
    rc = 0;
done:
    parquet_writer_destroy(w);
    close(fd);
    return rc;
}

static int bench_main(int argc, char **argv)
{
    uint64_t nrows = 0;
    const char *path = NULL, *codec_name = "snappy";
    int runs = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc)
            nrows = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--codec") == 0 && i + 1 < argc)
            codec_name = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else
            path = argv[i];
    }
    parquet_compression codec;
    if (!nrows || !path || runs < 1 || parquet_compression_parse(codec_name, &codec) < 0) {
        fprintf(stderr, "usage: parquet_write --bench ROWS OUT.parquet [--codec none|snappy|zstd] [--runs R]\n");
        return 2;
    }
    char err[512] = "";
    double best = 0;
    uint64_t bytes = 0;
    buf all = BUF_INIT;
    for (int r = 0; r < runs; r++) {
        double secs;
        if (bench_run(nrows, path, codec, &secs, &bytes, err, sizeof err) < 0) {
            fprintf(stderr, "parquet_write: %s\n", err);
            buf_free(&all);
            return 1;
        }
        if (r == 0 || secs < best)
            best = secs;
        buf_printf(&all, "%s%.3f", r ? "," : "", secs);
    }
    printf("rows=%llu best_s=%.3f runs_s=%s rows_per_s=%.0f bytes=%llu\n", (unsigned long long)nrows, best, all.data,
           (double)nrows / best, (unsigned long long)bytes);
    buf_free(&all);
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bench") == 0)
            return bench_main(argc, argv);
    }
    const char *desc_path = NULL, *out_path = NULL, *info_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--info") == 0 && i + 1 < argc)
            info_path = argv[++i];
        else if (!desc_path)
            desc_path = argv[i];
        else if (!out_path)
            out_path = argv[i];
        else
            desc_path = NULL, i = argc;
    }
    if (!desc_path || !out_path) {
        fprintf(stderr, "usage: parquet_write DESCRIPTION.json OUT.parquet [--info INFO.json]\n");
        return 2;
    }
    int rc = 1, fd = -1;
    char err[8192] = "";
    char tmp_path[4096];
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp", out_path);
    json_t *root = NULL;
    parquet_column_def *defs = NULL;
    parquet_kv *kv = NULL;
    parquet_value *row = NULL;
    buf *scratch = NULL;
    parquet_writer *w = NULL;
    size_t ncols = 0;

    json_error_t jerr;
    root = json_load_file(desc_path, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        snprintf(err, sizeof err, "%s: %s (line %d)", desc_path, jerr.text, jerr.line);
        goto done;
    }
    json_t *schema = json_object_get(root, "schema"), *rows = json_object_get(root, "rows");
    json_t *opts = json_object_get(root, "options");
    if (!json_is_array(schema) || !json_is_array(rows)) {
        snprintf(err, sizeof err, "the description needs a \"schema\" array and a \"rows\" array");
        goto done;
    }
    ncols = json_array_size(schema);
    defs = calloc(ncols + 1, sizeof *defs);
    row = calloc(ncols + 1, sizeof *row);
    scratch = calloc(ncols + 1, sizeof *scratch);
    if (!defs || !row || !scratch) {
        snprintf(err, sizeof err, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ncols; i++) {
        json_t *c = json_array_get(schema, i);
        const char *type = json_string_value(json_object_get(c, "type"));
        defs[i].name = json_string_value(json_object_get(c, "name"));
        defs[i].field_id = (int32_t)json_integer_value(json_object_get(c, "field_id"));
        defs[i].optional = json_is_true(json_object_get(c, "optional"));
        defs[i].precision = (int)json_integer_value(json_object_get(c, "precision"));
        defs[i].scale = (int)json_integer_value(json_object_get(c, "scale"));
        if (!type || parquet_type_parse(type, &defs[i].type) < 0) {
            snprintf(err, sizeof err, "column %zu: unknown type '%s'", i, type ? type : "(none)");
            goto done;
        }
    }
    parquet_options o;
    parquet_options_default(&o);
    if (json_is_object(opts)) {
        const char *codec = json_string_value(json_object_get(opts, "codec"));
        if (codec && parquet_compression_parse(codec, &o.compression) < 0) {
            snprintf(err, sizeof err, "unknown codec '%s'", codec);
            goto done;
        }
        json_t *dict = json_object_get(opts, "dictionary");
        if (dict)
            o.dictionary = json_is_true(dict);
        o.row_group_bytes = (size_t)json_integer_value(json_object_get(opts, "row_group_bytes"));
        o.page_bytes = (size_t)json_integer_value(json_object_get(opts, "page_bytes"));
        o.dictionary_bytes = (size_t)json_integer_value(json_object_get(opts, "dictionary_bytes"));
        o.stats_bytes = (size_t)json_integer_value(json_object_get(opts, "stats_bytes"));
        json_t *md = json_object_get(opts, "metadata");
        if (json_is_object(md)) {
            kv = calloc(json_object_size(md) + 1, sizeof *kv);
            const char *k;
            json_t *val;
            json_object_foreach(md, k, val)
            {
                kv[o.nmetadata].key = k;
                kv[o.nmetadata++].value = json_string_value(val);
            }
            o.metadata = kv;
        }
    }
    fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, sizeof err, "%s: %s", tmp_path, strerror(errno));
        goto done;
    }
    parquet_schema s = {defs, ncols};
    byte_output out = {byte_output_fd_write, &fd};
    w = parquet_writer_create(&s, &o, &out, err, sizeof err);
    if (!w)
        goto done;
    for (size_t r = 0; r < json_array_size(rows); r++) {
        json_t *jr = json_array_get(rows, r);
        if (!json_is_array(jr) || json_array_size(jr) != ncols) {
            snprintf(err, sizeof err, "row %zu: not an array of %zu values", r, ncols);
            goto done;
        }
        char why[400] = "";
        for (size_t i = 0; i < ncols; i++) {
            if (value_from_json(&defs[i], json_array_get(jr, i), &row[i], &scratch[i], why, sizeof why) < 0) {
                snprintf(err, sizeof err, "row %zu: %s", r, why);
                goto done;
            }
        }
        if (parquet_writer_write_row(w, row, why, sizeof why) < 0) {
            snprintf(err, sizeof err, "row %zu: %s", r, why);
            goto done;
        }
    }
    parquet_file_info info;
    if (parquet_writer_close(w, &info, err, sizeof err) < 0)
        goto done;
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        snprintf(err, sizeof err, "%s: %s", tmp_path, strerror(errno));
        goto done;
    }
    fd = -1;
    if (info_path && write_info(info_path, &info, &s) < 0) {
        snprintf(err, sizeof err, "%s: cannot write", info_path);
        goto done;
    }
    if (rename(tmp_path, out_path) < 0) {
        snprintf(err, sizeof err, "rename to %s: %s", out_path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (rc != 0) {
        fprintf(stderr, "parquet_write: %s\n", err);
        unlink(tmp_path);
    }
    if (fd >= 0)
        close(fd);
    parquet_writer_destroy(w);
    for (size_t i = 0; scratch && i < ncols; i++)
        buf_free(&scratch[i]);
    free(scratch);
    free(row);
    free(kv);
    free(defs);
    json_decref(root);
    return rc;
}
