/* Unit tests for the Parquet writer's behaviour: file framing (magic, footer length, the
 * TypeDefinedOrder column orders closing the footer), rejected rows leaving the writer usable,
 * output failures making it fail cleanly with the reason, row groups cut by size with memory
 * bounded by the row group, and the per-column report close gives for Iceberg manifests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "sinks/lake/parquet_writer.h"

static const parquet_column_def cols[] = {
    {.name = "id", .field_id = 1, .type = PARQUET_TYPE_INT64},
    {.name = "name", .field_id = 2, .type = PARQUET_TYPE_STRING, .optional = true},
    {.name = "amount", .field_id = 3, .type = PARQUET_TYPE_DECIMAL, .precision = 10, .scale = 2, .optional = true},
};
static const parquet_schema schema = {cols, 3};

static void row_of(parquet_value *row, int64_t id, const char *name, int64_t cents)
{
    row[0] = parquet_value_int64(id);
    row[1] = name ? parquet_value_bytes(name, strlen(name)) : parquet_value_null();
    row[2] = parquet_value_decimal64(cents);
}

static void test_framing_and_column_orders(void **state)
{
    (void)state;
    buf out = BUF_INIT;
    byte_output o = {byte_output_buf_write, &out};
    parquet_options opts;
    parquet_options_default(&opts);
    opts.compression = PARQUET_COMPRESSION_NONE;
    char err[256];
    parquet_writer *w = parquet_writer_create(&schema, &opts, &o, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(out.len, 4);
    parquet_value row[3];
    row_of(row, 1, "a", 100);
    assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), 0);
    parquet_file_info info;
    assert_int_equal(parquet_writer_close(w, &info, err, sizeof err), 0);
    assert_int_equal(info.bytes, out.len);
    assert_memory_equal(out.data, "PAR1", 4);
    assert_memory_equal(out.data + out.len - 4, "PAR1", 4);
    uint32_t flen;
    memcpy(&flen, out.data + out.len - 8, 4);
    assert_true(flen > 0 && flen < out.len - 12);
    /* The footer ends with field 7 (delta 1 after created_by: 0x19), a list of 3 ColumnOrder
     * unions (0x3c), each {1: TypeDefinedOrder {}} = 1c 00 00, then the stop byte. */
    const uint8_t tail[] = {0x19, 0x3c, 0x1c, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00};
    assert_memory_equal(out.data + out.len - 8 - sizeof tail, tail, sizeof tail);
    /* created_by is right before it */
    bool found = false;
    for (size_t k = out.len - 8 - flen; k + 15 <= out.len && !found; k++)
        found = memcmp(out.data + k, "sluice version ", 15) == 0;
    assert_true(found);
    assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), -1);
    assert_non_null(strstr(err, "closed"));
    parquet_writer_destroy(w);
    buf_free(&out);
}

static void test_rejected_row_keeps_writer_usable(void **state)
{
    (void)state;
    buf out = BUF_INIT;
    byte_output o = {byte_output_buf_write, &out};
    char err[256];
    parquet_writer *w = parquet_writer_create(&schema, NULL, &o, err, sizeof err);
    assert_non_null(w);
    parquet_value row[3];
    row_of(row, 1, "a", 100);
    assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), 0);
    row_of(row, 2, "b", 100000000000);   /* 11 digits in decimal(10,2) */
    assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), -1);
    assert_non_null(strstr(err, "amount: decimal value out of range for precision 10"));
    row_of(row, 3, "c", 5);
    row[0] = parquet_value_null();
    assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), -1);
    assert_non_null(strstr(err, "id is required"));
    row[0] = parquet_value_int32(3);
    assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), -1);
    assert_non_null(strstr(err, "int32 value where int64"));
    row_of(row, 4, NULL, -7);
    assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), 0);
    parquet_file_info info;
    assert_int_equal(parquet_writer_close(w, &info, err, sizeof err), 0);
    assert_int_equal(info.rows, 2);
    assert_int_equal(info.ncolumns, 3);
    assert_int_equal(info.columns[1].field_id, 2);
    assert_int_equal(info.columns[1].values, 2);
    assert_int_equal(info.columns[1].nulls, 1);
    assert_int_equal(info.columns[0].min.v.i64, 1);
    assert_int_equal(info.columns[0].max.v.i64, 4);
    assert_int_equal((int64_t)info.columns[2].min.v.dec.lo, -7);
    assert_int_equal(info.columns[1].min.v.bytes.len, 1);
    assert_memory_equal(info.columns[1].min.v.bytes.ptr, "a", 1);
    assert_true(info.columns[0].compressed_bytes > 0);
    parquet_writer_destroy(w);
    buf_free(&out);
}

/* An output that fails once more than limit bytes were written. */
typedef struct failing_out {
    size_t written, limit;
} failing_out;

static int failing_write(void *ctx, const void *data, size_t len, char *err, size_t errlen)
{
    (void)data;
    failing_out *f = ctx;
    if (f->written + len > f->limit) {
        snprintf(err, errlen, "disk full");
        return -1;
    }
    f->written += len;
    return 0;
}

static void test_output_failure(void **state)
{
    (void)state;
    failing_out f = {0, 4096};
    byte_output o = {failing_write, &f};
    parquet_options opts;
    parquet_options_default(&opts);
    opts.row_group_bytes = 2048;
    char err[256];
    parquet_writer *w = parquet_writer_create(&schema, &opts, &o, err, sizeof err);
    assert_non_null(w);
    parquet_value row[3];
    char name[32];
    int rc = 0, i;
    for (i = 0; i < 100000 && rc == 0; i++) {
        snprintf(name, sizeof name, "name-%d", i);
        row_of(row, i, name, i);
        rc = parquet_writer_write_row(w, row, err, sizeof err);
    }
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "disk full"));
    err[0] = '\0';
    assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), -1);
    assert_non_null(strstr(err, "disk full"));
    assert_int_equal(parquet_writer_close(w, NULL, err, sizeof err), -1);
    parquet_writer_destroy(w);

    /* Failing at the very start: create reports it. */
    failing_out none = {0, 0};
    byte_output o2 = {failing_write, &none};
    assert_null(parquet_writer_create(&schema, NULL, &o2, err, sizeof err));
    assert_non_null(strstr(err, "disk full"));
}

static void test_row_groups_and_bounded_memory(void **state)
{
    (void)state;
    buf out = BUF_INIT;
    byte_output o = {byte_output_buf_write, &out};
    parquet_options opts;
    parquet_options_default(&opts);
    opts.compression = PARQUET_COMPRESSION_SNAPPY;
    opts.row_group_bytes = 64 * 1024;
    opts.page_bytes = 8 * 1024;
    char err[256];
    parquet_writer *w = parquet_writer_create(&schema, &opts, &o, err, sizeof err);
    assert_non_null(w);
    parquet_value row[3];
    char name[64];
    uint64_t max_buffered = 0, last_written = 0;
    for (int i = 0; i < 50000; i++) {
        snprintf(name, sizeof name, "customer-%d-%d", i % 977, i);
        row_of(row, i, i % 5 ? name : NULL, i * 3);
        assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), 0);
        uint64_t b = parquet_writer_bytes_buffered(w);
        if (b > max_buffered)
            max_buffered = b;
        assert_true(parquet_writer_bytes_written(w) >= last_written);
        last_written = parquet_writer_bytes_written(w);
    }
    /* The size is summed every 64 rows (or 64 KiB of values): a little over the target at most. */
    assert_true(max_buffered < opts.row_group_bytes + 8192);
    parquet_file_info info;
    assert_int_equal(parquet_writer_close(w, &info, err, sizeof err), 0);
    assert_true(info.row_groups >= 5);
    assert_int_equal(info.row_group_offsets[0], 4);
    for (size_t g = 1; g < info.row_groups; g++)
        assert_true(info.row_group_offsets[g] > info.row_group_offsets[g - 1]);
    assert_int_equal(info.rows, 50000);
    assert_int_equal(info.columns[1].nulls, 10000);
    assert_int_equal(info.bytes, out.len);
    parquet_writer_destroy(w);
    buf_free(&out);
}

static void test_schema_errors(void **state)
{
    (void)state;
    buf out = BUF_INIT;
    byte_output o = {byte_output_buf_write, &out};
    char err[256];
    parquet_column_def dup[] = {{.name = "a", .type = PARQUET_TYPE_INT32}, {.name = "a", .type = PARQUET_TYPE_INT64}};
    parquet_schema s = {dup, 2};
    assert_null(parquet_writer_create(&s, NULL, &o, err, sizeof err));
    assert_non_null(strstr(err, "appears twice"));
    parquet_column_def dec[] = {{.name = "d", .type = PARQUET_TYPE_DECIMAL, .precision = 10, .scale = 11}};
    parquet_schema s2 = {dec, 1};
    assert_null(parquet_writer_create(&s2, NULL, &o, err, sizeof err));
    assert_non_null(strstr(err, "scale"));
    parquet_schema s3 = {dup, 0};
    assert_null(parquet_writer_create(&s3, NULL, &o, err, sizeof err));
    parquet_writer_destroy(NULL);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing_and_column_orders),
        cmocka_unit_test(test_rejected_row_keeps_writer_usable),
        cmocka_unit_test(test_output_failure),
        cmocka_unit_test(test_row_groups_and_bounded_memory),
        cmocka_unit_test(test_schema_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
