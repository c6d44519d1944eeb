/* Unit tests for the Avro object container writer: the zigzag varint long encoding against the
 * Avro spec's examples, containers read back by libavro's own file reader (same records, null
 * and deflate codecs, empty files), the header map (avro.schema byte for byte with field-id
 * attributes, avro.codec, caller keys, the sync marker), block cutting at a size (parsed here
 * block by block), raw deflate blocks inflated with zlib, and the reasons bad input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "core/buf.h"
#include "sinks/lake/avro_ocf.h"

static const uint8_t SYNC[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static const char SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"row\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\",\"field-id\":1},"
    "{\"name\":\"name\",\"type\":\"string\",\"field-id\":2},"
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null,\"field-id\":3},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"int\",\"element-id\":5},\"field-id\":4}]}";

/* ---- a small reader of our own for the framing (the records are left to libavro) ---- */

typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static int64_t read_long(cursor *c)
{
    uint64_t z = 0;
    int shift = 0;
    for (;;) {
        assert_true(c->p < c->end);
        uint8_t b = *c->p++;
        z |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
        assert_true(shift < 64);
    }
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* The header's map: returns the value of key (NULL if absent), *len its length; *after points
 * past the sync marker, which must equal sync. */
static const uint8_t *header_value(const buf *file, const char *key, size_t *len, const uint8_t **after,
                                   const uint8_t *sync)
{
    cursor c = {(const uint8_t *)file->data, (const uint8_t *)file->data + file->len};
    const uint8_t *found = NULL;
    assert_true(file->len >= 4);
    assert_memory_equal(c.p, "Obj\x01", 4);
    c.p += 4;
    for (;;) {
        int64_t n = read_long(&c);
        if (n == 0)
            break;
        assert_true(n > 0);
        for (int64_t i = 0; i < n; i++) {
            int64_t kl = read_long(&c);
            const uint8_t *k = c.p;
            c.p += kl;
            int64_t vl = read_long(&c);
            if ((size_t)kl == strlen(key) && memcmp(k, key, (size_t)kl) == 0) {
                found = c.p;
                *len = (size_t)vl;
            }
            c.p += vl;
            assert_true(c.p <= c.end);
        }
    }
    assert_true(c.end - c.p >= 16);
    assert_memory_equal(c.p, sync, 16);
    if (after)
        *after = c.p + 16;
    return found;
}

typedef struct block_info {
    int64_t count, size;
    const uint8_t *data;
} block_info;

/* Walk the data blocks after the header; every one must end with the sync marker. */
static size_t read_blocks(const buf *file, block_info *out, size_t max)
{
    size_t len;
    const uint8_t *start;
    header_value(file, "avro.codec", &len, &start, SYNC);
    cursor c = {start, (const uint8_t *)file->data + file->len};
    size_t n = 0;
    while (c.p < c.end) {
        assert_true(n < max);
        out[n].count = read_long(&c);
        out[n].size = read_long(&c);
        out[n].data = c.p;
        assert_true(out[n].count > 0);
        assert_true(c.end - c.p >= out[n].size + 16);
        c.p += out[n].size;
        assert_memory_equal(c.p, SYNC, 16);
        c.p += 16;
        n++;
    }
    return n;
}

/* ---- helpers ---- */

static avro_ocf_writer *open_writer(buf *file, avro_ocf_codec codec, size_t block_bytes, const avro_ocf_meta *meta,
                                    size_t nmeta)
{
    char err[256] = "";
    avro_ocf_options o = {.codec = codec, .block_bytes = block_bytes, .meta = meta, .nmeta = nmeta, .sync = SYNC};
    byte_output out = {byte_output_buf_write, file};
    avro_ocf_writer *w = avro_ocf_writer_create(SCHEMA, strlen(SCHEMA), &o, &out, err, sizeof err);
    if (!w)
        fail_msg("create: %s", err);
    return w;
}

static void note_text(int i, char *out, size_t len)
{
    snprintf(out, len, "note %d: %s", i, i % 3 ? "héllo wörld" : "");
}

static void append_rows(avro_ocf_writer *w, int n)
{
    char err[256] = "", name[64], note[64];
    for (int i = 0; i < n; i++) {
        avro_value_t *v = avro_ocf_writer_value(w), f, b, el;
        avro_value_reset(v);
        snprintf(name, sizeof name, "row-%d", i);
        note_text(i, note, sizeof note);
        assert_int_equal(avro_value_get_by_name(v, "id", &f, NULL), 0);
        assert_int_equal(avro_value_set_long(&f, (int64_t)i * 1000003 - 5000000000LL), 0);
        assert_int_equal(avro_value_get_by_name(v, "name", &f, NULL), 0);
        assert_int_equal(avro_value_set_string(&f, name), 0);
        assert_int_equal(avro_value_get_by_name(v, "note", &f, NULL), 0);
        assert_int_equal(avro_value_set_branch(&f, i % 2, &b), 0);
        if (i % 2)
            assert_int_equal(avro_value_set_string(&b, note), 0);
        else
            assert_int_equal(avro_value_set_null(&b), 0);
        assert_int_equal(avro_value_get_by_name(v, "tags", &f, NULL), 0);
        for (int t = 0; t < i % 4; t++) {
            assert_int_equal(avro_value_append(&f, &el, NULL), 0);
            assert_int_equal(avro_value_set_int(&el, -t * 7), 0);
        }
        if (avro_ocf_writer_append(w, v, err, sizeof err) != 0)
            fail_msg("append %d: %s", i, err);
    }
}

static void write_temp(const buf *file, char *path, size_t len)
{
    const char *base = getenv("SLUICE_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    snprintf(path, len, "%s/avro_ocf-XXXXXX", base);
    int fd = mkstemp(path);
    if (fd < 0) {   /* SLUICE_TEST_TMP may not exist yet */
        snprintf(path, len, "/tmp/avro_ocf-XXXXXX");
        fd = mkstemp(path);
    }
    assert_true(fd >= 0);
    assert_int_equal(write(fd, file->data, file->len), (ssize_t)file->len);
    close(fd);
}

/* Read the file back with libavro's avro_file_reader and check every record. */
static void check_with_libavro(const buf *file, int n)
{
    char path[512];
    write_temp(file, path, sizeof path);
    avro_file_reader_t r;
    if (avro_file_reader(path, &r) != 0)
        fail_msg("avro_file_reader: %s", avro_strerror());
    avro_schema_t s = avro_file_reader_get_writer_schema(r);
    avro_value_iface_t *iface = avro_generic_class_from_schema(s);
    avro_value_t v;
    assert_int_equal(avro_generic_value_new(iface, &v), 0);
    int i = 0;
    while (avro_file_reader_read_value(r, &v) == 0) {
        avro_value_t f, b, el;
        int64_t id;
        const char *str;
        size_t sz, count;
        int disc, tag;
        char name[64], note[64];
        assert_int_equal(avro_value_get_by_name(&v, "id", &f, NULL), 0);
        assert_int_equal(avro_value_get_long(&f, &id), 0);
        assert_int_equal(id, (int64_t)i * 1000003 - 5000000000LL);
        snprintf(name, sizeof name, "row-%d", i);
        assert_int_equal(avro_value_get_by_name(&v, "name", &f, NULL), 0);
        assert_int_equal(avro_value_get_string(&f, &str, &sz), 0);
        assert_string_equal(str, name);
        assert_int_equal(avro_value_get_by_name(&v, "note", &f, NULL), 0);
        assert_int_equal(avro_value_get_discriminant(&f, &disc), 0);
        assert_int_equal(disc, i % 2);
        if (disc) {
            note_text(i, note, sizeof note);
            assert_int_equal(avro_value_get_current_branch(&f, &b), 0);
            assert_int_equal(avro_value_get_string(&b, &str, &sz), 0);
            assert_string_equal(str, note);
        }
        assert_int_equal(avro_value_get_by_name(&v, "tags", &f, NULL), 0);
        assert_int_equal(avro_value_get_size(&f, &count), 0);
        assert_int_equal(count, (size_t)(i % 4));
        for (size_t t = 0; t < count; t++) {
            assert_int_equal(avro_value_get_by_index(&f, t, &el, NULL), 0);
            assert_int_equal(avro_value_get_int(&el, &tag), 0);
            assert_int_equal(tag, -(int)t * 7);
        }
        i++;
    }
    assert_int_equal(i, n);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);
    avro_file_reader_close(r);
    unlink(path);
}

/* ---- tests ---- */

static void expect_zigzag(int64_t v, const char *hex_bytes, size_t n)
{
    uint8_t out[10];
    size_t got = avro_ocf_zigzag_encode(v, out);
    if (got != n || memcmp(out, hex_bytes, n) != 0)
        fail_msg("zigzag(%lld): %zu bytes, first %02x", (long long)v, got, out[0]);
}

static void test_zigzag_spec_examples(void **state)
{
    (void)state;
    /* The Avro 1.11 spec's table. */
    expect_zigzag(0, "\x00", 1);
    expect_zigzag(-1, "\x01", 1);
    expect_zigzag(1, "\x02", 1);
    expect_zigzag(-2, "\x03", 1);
    expect_zigzag(2, "\x04", 1);
    expect_zigzag(-64, "\x7f", 1);
    expect_zigzag(64, "\x80\x01", 2);
    /* Worked by hand: 27 -> 54 = 0x36 (the spec's record example); 8192 -> 16384; -65 -> 129. */
    expect_zigzag(27, "\x36", 1);
    expect_zigzag(8192, "\x80\x80\x01", 3);
    expect_zigzag(-65, "\x81\x01", 2);
    expect_zigzag(INT64_MAX, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
    expect_zigzag(INT64_MIN, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
}

static void test_header_and_libavro_roundtrip(void **state)
{
    (void)state;
    buf file = BUF_INIT;
    avro_ocf_meta meta[] = {{"format-version", "2", 1}, {"content", "data", 4}, {"bin", "\x00\xff\x01", 3}};
    avro_ocf_writer *w = open_writer(&file, AVRO_OCF_CODEC_NULL, 0, meta, 3);
    size_t header_len = file.len;
    assert_true(header_len > 0);   /* the header is written at create */
    append_rows(w, 25);
    char err[256] = "";
    uint64_t bytes = 0;
    assert_int_equal(avro_ocf_writer_close(w, &bytes, err, sizeof err), 0);
    assert_int_equal(bytes, file.len);
    assert_int_equal(avro_ocf_writer_records(w), 25);
    assert_int_equal(avro_ocf_writer_blocks(w), 1);
    avro_ocf_writer_destroy(w);

    size_t len;
    const uint8_t *v = header_value(&file, "avro.schema", &len, NULL, SYNC);
    assert_non_null(v);
    assert_int_equal(len, strlen(SCHEMA));
    assert_memory_equal(v, SCHEMA, len);   /* byte for byte: field-id and element-id kept */
    v = header_value(&file, "avro.codec", &len, NULL, SYNC);
    assert_non_null(v);
    assert_int_equal(len, 4);
    assert_memory_equal(v, "null", 4);
    v = header_value(&file, "format-version", &len, NULL, SYNC);
    assert_non_null(v);
    assert_int_equal(len, 1);
    assert_memory_equal(v, "2", 1);
    v = header_value(&file, "content", &len, NULL, SYNC);
    assert_non_null(v);
    assert_memory_equal(v, "data", 4);
    v = header_value(&file, "bin", &len, NULL, SYNC);
    assert_non_null(v);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "\x00\xff\x01", 3);
    assert_null(header_value(&file, "absent", &len, NULL, SYNC));

    block_info blocks[4];
    assert_int_equal(read_blocks(&file, blocks, 4), 1);
    assert_int_equal(blocks[0].count, 25);
    check_with_libavro(&file, 25);
    buf_free(&file);
}

static void test_block_cutting(void **state)
{
    (void)state;
    buf file = BUF_INIT;
    avro_ocf_writer *w = open_writer(&file, AVRO_OCF_CODEC_NULL, 200, NULL, 0);
    append_rows(w, 100);
    char err[256] = "";
    assert_int_equal(avro_ocf_writer_close(w, NULL, err, sizeof err), 0);
    uint64_t nblocks = avro_ocf_writer_blocks(w);
    avro_ocf_writer_destroy(w);

    block_info blocks[100];
    size_t n = read_blocks(&file, blocks, 100);
    assert_int_equal(n, nblocks);
    assert_true(n >= 10);   /* 100 records of 14-50 bytes, cut at 200 bytes */
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += blocks[i].count;
        if (i + 1 < n)
            assert_true(blocks[i].size >= 200);    /* cut once it reaches the size ... */
        assert_true(blocks[i].size < 200 + 64);    /* ... by the record that crossed it */
    }
    assert_int_equal(total, 100);
    check_with_libavro(&file, 100);

    /* An explicit flush cuts a block; flushing an empty block writes nothing. */
    buf_reset(&file);
    w = open_writer(&file, AVRO_OCF_CODEC_NULL, 0, NULL, 0);
    append_rows(w, 3);
    assert_int_equal(avro_ocf_writer_flush(w, err, sizeof err), 0);
    size_t after_flush = file.len;
    assert_int_equal(avro_ocf_writer_flush(w, err, sizeof err), 0);
    assert_int_equal(file.len, after_flush);
    assert_int_equal(avro_ocf_writer_close(w, NULL, err, sizeof err), 0);
    assert_int_equal(avro_ocf_writer_blocks(w), 1);
    avro_ocf_writer_destroy(w);
    buf_free(&file);
}

static void test_deflate_blocks(void **state)
{
    (void)state;
    buf plain = BUF_INIT, packed = BUF_INIT;
    char err[256] = "";
    avro_ocf_writer *w = open_writer(&plain, AVRO_OCF_CODEC_NULL, 1000, NULL, 0);
    append_rows(w, 200);
    assert_int_equal(avro_ocf_writer_close(w, NULL, err, sizeof err), 0);
    avro_ocf_writer_destroy(w);
    w = open_writer(&packed, AVRO_OCF_CODEC_DEFLATE, 1000, NULL, 0);
    append_rows(w, 200);
    assert_int_equal(avro_ocf_writer_close(w, NULL, err, sizeof err), 0);
    avro_ocf_writer_destroy(w);

    size_t len;
    const uint8_t *codec = header_value(&packed, "avro.codec", &len, NULL, SYNC);
    assert_non_null(codec);
    assert_int_equal(len, 7);
    assert_memory_equal(codec, "deflate", 7);

    /* Same cuts; each deflated block inflates (raw RFC 1951: windowBits -15) to the plain block. */
    block_info pb[64], db[64];
    size_t np = read_blocks(&plain, pb, 64), nd = read_blocks(&packed, db, 64);
    assert_int_equal(np, nd);
    assert_true(np > 3);
    for (size_t i = 0; i < np; i++) {
        assert_int_equal(pb[i].count, db[i].count);
        uint8_t out[4096];
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(inflateInit2(&z, -15), Z_OK);
        z.next_in = (unsigned char *)db[i].data;
        z.avail_in = (uInt)db[i].size;
        z.next_out = out;
        z.avail_out = sizeof out;
        assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
        assert_int_equal(z.avail_in, 0);
        assert_int_equal(sizeof out - z.avail_out, (size_t)pb[i].size);
        assert_memory_equal(out, pb[i].data, (size_t)pb[i].size);
        inflateEnd(&z);
    }
    assert_true(packed.len < plain.len);
    check_with_libavro(&packed, 200);
    buf_free(&plain);
    buf_free(&packed);
}

static void test_empty_file(void **state)
{
    (void)state;
    buf file = BUF_INIT;
    char err[256] = "";
    avro_ocf_writer *w = open_writer(&file, AVRO_OCF_CODEC_DEFLATE, 0, NULL, 0);
    uint64_t bytes = 0;
    assert_int_equal(avro_ocf_writer_close(w, &bytes, err, sizeof err), 0);
    assert_int_equal(avro_ocf_writer_blocks(w), 0);
    assert_int_equal(bytes, file.len);
    /* Closed: no more records. */
    assert_int_equal(avro_ocf_writer_append(w, avro_ocf_writer_value(w), err, sizeof err), -1);
    assert_string_equal(err, "avro container: already closed");
    avro_ocf_writer_destroy(w);
    block_info b[1];
    assert_int_equal(read_blocks(&file, b, 1), 0);
    check_with_libavro(&file, 0);
    buf_free(&file);
}

static void test_random_sync(void **state)
{
    (void)state;
    buf a = BUF_INIT, b = BUF_INIT;
    char err[256] = "";
    byte_output oa = {byte_output_buf_write, &a}, ob = {byte_output_buf_write, &b};
    avro_ocf_writer *wa = avro_ocf_writer_create(SCHEMA, strlen(SCHEMA), NULL, &oa, err, sizeof err);
    avro_ocf_writer *wb = avro_ocf_writer_create(SCHEMA, strlen(SCHEMA), NULL, &ob, err, sizeof err);
    assert_non_null(wa);
    assert_non_null(wb);
    assert_int_equal(a.len, b.len);
    /* The last 16 header bytes are the sync markers: two files, two random markers. */
    assert_memory_not_equal(a.data + a.len - 16, b.data + b.len - 16, 16);
    avro_ocf_writer_destroy(wa);
    avro_ocf_writer_destroy(wb);
    buf_free(&a);
    buf_free(&b);
}

static void test_large_record(void **state)
{
    (void)state;
    /* A 100 KB string: the record scratch buffer (4 KiB at first) grows until it fits. */
    buf file = BUF_INIT;
    char err[256] = "";
    size_t n = 100 * 1024;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    avro_ocf_writer *w = open_writer(&file, AVRO_OCF_CODEC_DEFLATE, 0, NULL, 0);
    avro_value_t *v = avro_ocf_writer_value(w), f, b;
    avro_value_reset(v);
    avro_value_get_by_name(v, "id", &f, NULL);
    avro_value_set_long(&f, 1);
    avro_value_get_by_name(v, "name", &f, NULL);
    avro_value_set_string(&f, big);
    avro_value_get_by_name(v, "note", &f, NULL);
    avro_value_set_branch(&f, 0, &b);
    avro_value_set_null(&b);
    assert_int_equal(avro_ocf_writer_append(w, v, err, sizeof err), 0);
    assert_int_equal(avro_ocf_writer_close(w, NULL, err, sizeof err), 0);
    avro_ocf_writer_destroy(w);

    char path[512];
    write_temp(&file, path, sizeof path);
    avro_file_reader_t r;
    assert_int_equal(avro_file_reader(path, &r), 0);
    avro_schema_t s = avro_file_reader_get_writer_schema(r);
    avro_value_iface_t *iface = avro_generic_class_from_schema(s);
    avro_value_t got;
    assert_int_equal(avro_generic_value_new(iface, &got), 0);
    assert_int_equal(avro_file_reader_read_value(r, &got), 0);
    const char *str;
    size_t len;
    avro_value_get_by_name(&got, "name", &f, NULL);
    assert_int_equal(avro_value_get_string(&f, &str, &len), 0);
    assert_int_equal(len, n + 1);   /* libavro counts the NUL */
    assert_memory_equal(str, big, n);
    assert_int_not_equal(avro_file_reader_read_value(r, &got), 0);
    avro_value_decref(&got);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);
    avro_file_reader_close(r);
    unlink(path);
    free(big);
    buf_free(&file);
}

static int failing_write(void *ctx, const void *data, size_t len, char *err, size_t errlen)
{
    int *calls = ctx;
    (void)data;
    (void)len;
    if ((*calls)++ == 0)
        return 0;   /* the header goes through */
    snprintf(err, errlen, "disk full");
    return -1;
}

static void test_refusals(void **state)
{
    (void)state;
    char err[256] = "";
    buf file = BUF_INIT;
    byte_output out = {byte_output_buf_write, &file};

    assert_null(avro_ocf_writer_create("{\"type\":\"recrod\"}", 17, NULL, &out, err, sizeof err));
    assert_non_null(strstr(err, "avro schema:"));

    avro_ocf_meta reserved[] = {{"avro.sync", "x", 1}};
    avro_ocf_options o = {.meta = reserved, .nmeta = 1};
    assert_null(avro_ocf_writer_create(SCHEMA, strlen(SCHEMA), &o, &out, err, sizeof err));
    assert_string_equal(err, "header metadata key 'avro.sync' is reserved (avro.*)");

    avro_ocf_meta twice[] = {{"k", "a", 1}, {"k", "b", 1}};
    o.meta = twice;
    o.nmeta = 2;
    assert_null(avro_ocf_writer_create(SCHEMA, strlen(SCHEMA), &o, &out, err, sizeof err));
    assert_string_equal(err, "header metadata key 'k' given twice");
    assert_int_equal(file.len, 0);   /* nothing written by refused creates */

    /* A value of another schema is refused; the writer stays usable. */
    avro_ocf_writer *w = open_writer(&file, AVRO_OCF_CODEC_NULL, 0, NULL, 0);
    avro_schema_t other = avro_schema_long();
    avro_value_iface_t *iface = avro_generic_class_from_schema(other);
    avro_value_t lv;
    assert_int_equal(avro_generic_value_new(iface, &lv), 0);
    assert_int_equal(avro_ocf_writer_append(w, &lv, err, sizeof err), -1);
    assert_string_equal(err, "avro container: the value is not of the file's schema");
    /* An unset union is refused by libavro's encoder, with its reason. */
    avro_value_t *v = avro_ocf_writer_value(w), f;
    avro_value_reset(v);
    avro_value_get_by_name(v, "name", &f, NULL);
    avro_value_set_string(&f, "x");
    assert_int_equal(avro_ocf_writer_append(w, v, err, sizeof err), -1);
    assert_non_null(strstr(err, "avro encode:"));
    append_rows(w, 2);
    assert_int_equal(avro_ocf_writer_close(w, NULL, err, sizeof err), 0);
    avro_ocf_writer_destroy(w);
    check_with_libavro(&file, 2);
    avro_value_decref(&lv);
    avro_value_iface_decref(iface);
    avro_schema_decref(other);

    /* An output failure fails the writer, for good. */
    int calls = 0;
    byte_output bad = {failing_write, &calls};
    o = (avro_ocf_options){.sync = SYNC};
    w = avro_ocf_writer_create(SCHEMA, strlen(SCHEMA), &o, &bad, err, sizeof err);
    assert_non_null(w);
    append_rows(w, 1);
    assert_int_equal(avro_ocf_writer_close(w, NULL, err, sizeof err), -1);
    assert_string_equal(err, "disk full");
    assert_int_equal(avro_ocf_writer_flush(w, err, sizeof err), -1);
    assert_string_equal(err, "disk full");
    avro_ocf_writer_destroy(w);
    avro_ocf_writer_destroy(NULL);

    avro_ocf_codec c;
    assert_int_equal(avro_ocf_codec_parse("deflate", &c), 0);
    assert_int_equal(c, AVRO_OCF_CODEC_DEFLATE);
    assert_int_equal(avro_ocf_codec_parse("snappy", &c), -1);
    buf_free(&file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zigzag_spec_examples),
        cmocka_unit_test(test_header_and_libavro_roundtrip),
        cmocka_unit_test(test_block_cutting),
        cmocka_unit_test(test_deflate_blocks),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_random_sync),
        cmocka_unit_test(test_large_record),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
