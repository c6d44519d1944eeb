/* Unit tests for the Iceberg statistics of a written Parquet file (iceberg_parquet.h) under
 * Iceberg's truncate(16) metrics: string bounds keep 16 characters (not bytes: multi-byte UTF-8
 * is cut at a character boundary) and the upper bound is rounded up (the last kept character
 * incremented, carrying past U+10FFFF and skipping surrogates, or left out when nothing can be
 * incremented); binary bounds keep 16 bytes, the upper one incremented with carry; short values
 * and other types are kept whole; truncate 0 keeps full bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/byte_output.h"
#include "sinks/lake/iceberg_parquet.h"

static const parquet_column_def COLS[] = {
    {"s", 1, true, PARQUET_TYPE_STRING, 0, 0},
    {"b", 2, true, PARQUET_TYPE_BINARY, 0, 0},
    {"n", 3, true, PARQUET_TYPE_INT64, 0, 0},
};

/* Statistics of a file holding the rows (s, b) given, with truncate t. */
static iceberg_file_stats *stats_of(const char *const *s, const char *const *b, const size_t *blen, size_t n,
                                    size_t t)
{
    parquet_schema sch = {COLS, 3};
    buf out = BUF_INIT;
    byte_output bo = {byte_output_buf_write, &out};
    char err[256];
    parquet_writer *w = parquet_writer_create(&sch, NULL, &bo, err, sizeof err);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++) {
        parquet_value row[3] = {parquet_value_bytes(s[i], strlen(s[i])), parquet_value_bytes(b[i], blen[i]),
                                parquet_value_int64((int64_t)i)};
        assert_int_equal(parquet_writer_write_row(w, row, err, sizeof err), 0);
    }
    parquet_file_info info;
    assert_int_equal(parquet_writer_close(w, &info, err, sizeof err), 0);
    iceberg_file_stats *st = iceberg_file_stats_from_parquet(&sch, &info, t, err, sizeof err);
    assert_non_null(st);
    parquet_writer_destroy(w);
    buf_free(&out);
    return st;
}

static void assert_bound(const void *got, size_t got_len, const char *want, size_t want_len)
{
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
}

static void test_strings(void **state)
{
    (void)state;
    /* 20 characters each; the upper one has a multi-byte character at position 16. */
    const char *s[] = {"aaaaaaaaaaaaaaaaaaaa", "zzzzzzzzzzzzzzz\xc3\xa9zzzz"};
    const char *b[] = {"x", "y"};
    size_t bl[] = {1, 1};
    iceberg_file_stats *st = stats_of(s, b, bl, 2, ICEBERG_METRICS_TRUNCATE_DEFAULT);
    const iceberg_column_stats *c = &st->columns[0];
    assert_true(c->has_lower && c->has_upper);
    assert_bound(c->lower, c->lower_len, "aaaaaaaaaaaaaaaa", 16);
    assert_bound(c->upper, c->upper_len, "zzzzzzzzzzzzzzz\xc3\xaa", 17);   /* é + 1 = ê */
    /* the int column is untouched */
    assert_true(st->columns[2].has_lower && st->columns[2].lower_len == 8);
    iceberg_file_stats_destroy(st);

    /* Full bounds with truncate 0. */
    st = stats_of(s, b, bl, 2, 0);
    assert_bound(st->columns[0].lower, st->columns[0].lower_len, s[0], strlen(s[0]));
    assert_bound(st->columns[0].upper, st->columns[0].upper_len, s[1], strlen(s[1]));
    iceberg_file_stats_destroy(st);

    /* Short values stay whole. */
    const char *shortv[] = {"abc", "abd"};
    st = stats_of(shortv, b, bl, 2, 16);
    assert_bound(st->columns[0].upper, st->columns[0].upper_len, "abd", 3);
    iceberg_file_stats_destroy(st);
}

static void test_string_carry(void **state)
{
    (void)state;
    /* 17 characters: 15 'a', then U+10FFFF twice: the 16th cannot be incremented, so the 15th is. */
    const char *s[] = {"a", "aaaaaaaaaaaaaaa\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf"};
    const char *b[] = {"x", "y"};
    size_t bl[] = {1, 1};
    iceberg_file_stats *st = stats_of(s, b, bl, 2, 16);
    assert_bound(st->columns[0].upper, st->columns[0].upper_len, "aaaaaaaaaaaaaab", 15);
    iceberg_file_stats_destroy(st);

    /* Before a surrogate: U+D7FF + 1 is U+E000. */
    const char *sur[] = {"a", "aaaaaaaaaaaaaaa\xed\x9f\xbfzz"};
    st = stats_of(sur, b, bl, 2, 16);
    assert_bound(st->columns[0].upper, st->columns[0].upper_len, "aaaaaaaaaaaaaaa\xee\x80\x80", 18);
    iceberg_file_stats_destroy(st);

    /* Nothing to increment: no upper bound. */
    const char *top[] = {"a", "\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf"};
    st = stats_of(top, b, bl, 2, 2);
    assert_true(st->columns[0].has_lower);
    assert_false(st->columns[0].has_upper);
    iceberg_file_stats_destroy(st);
}

static void test_binary(void **state)
{
    (void)state;
    const char *s[] = {"a", "b"};
    const char lo[20] = {1, 2, 3};
    char hi[20];
    memset(hi, 0x7F, sizeof hi);
    hi[15] = (char)0xFF;
    const char *b[] = {lo, hi};
    size_t bl[] = {20, 20};
    iceberg_file_stats *st = stats_of(s, b, bl, 2, 16);
    assert_bound(st->columns[1].lower, st->columns[1].lower_len, lo, 16);
    char want[15];
    memset(want, 0x7F, sizeof want);
    want[14] = (char)0x80;   /* 0x7F..0x7F 0xFF: the 0xFF is dropped and the byte before carries */
    assert_bound(st->columns[1].upper, st->columns[1].upper_len, want, 15);
    iceberg_file_stats_destroy(st);

    char ff[20];
    memset(ff, 0xFF, sizeof ff);
    const char *b2[] = {lo, ff};
    st = stats_of(s, b2, bl, 2, 16);
    assert_false(st->columns[1].has_upper);
    iceberg_file_stats_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_string_carry),
        cmocka_unit_test(test_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
