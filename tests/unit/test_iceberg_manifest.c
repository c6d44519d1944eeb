/* Unit tests for Iceberg manifests: Appendix D single-value serialization of every type against
 * hand-computed bytes (little-endian numbers and timestamps, minimal big-endian decimals,
 * big-endian uuids), decimal sizes and the bound order; the manifest_entry / manifest_file Avro
 * schemas (every field id, element id and map key/value id where the spec puts them); a
 * partitioned manifest and a manifest list written and read back with libavro's file reader
 * (every field, header keys, the manifest_file summary: counts, sequence numbers, partition
 * bounds); and the reasons bad entries are refused. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "sinks/lake/iceberg_manifest.h"

static const uint8_t SYNC[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static const char TABLE_SCHEMA[] =
    "{\"type\":\"struct\",\"schema-id\":3,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"region\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"day\",\"required\":false,\"type\":\"date\"},"
    "{\"id\":4,\"name\":\"amount\",\"required\":false,\"type\":\"decimal(9,2)\"}]}";

/* ---- single values ---- */

static void expect_bytes(iceberg_value v, const char *bytes, size_t n)
{
    buf out = BUF_INIT;
    char err[128] = "";
    if (iceberg_value_serialize(&v, &out, err, sizeof err) != 0)
        fail_msg("serialize %s: %s", iceberg_type_name(v.type), err);
    if (out.len != n || (n && memcmp(out.data, bytes, n) != 0)) {
        char hex[80] = "";
        for (size_t i = 0; i < out.len && i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", (unsigned char)out.data[i]);
        fail_msg("%s: got %zu bytes %s, want %zu", iceberg_type_name(v.type), out.len, hex, n);
    }
    buf_free(&out);
}

static iceberg_decimal dec(int64_t hi, uint64_t lo)
{
    iceberg_decimal d = {hi, lo};
    return d;
}

static void test_single_values(void **state)
{
    (void)state;
    expect_bytes(iceberg_value_boolean(true), "\x01", 1);
    expect_bytes(iceberg_value_boolean(false), "\x00", 1);
    expect_bytes(iceberg_value_int(1), "\x01\x00\x00\x00", 4);
    expect_bytes(iceberg_value_int(-1), "\xff\xff\xff\xff", 4);
    expect_bytes(iceberg_value_long(1), "\x01\x00\x00\x00\x00\x00\x00\x00", 8);
    expect_bytes(iceberg_value_long(INT64_MIN), "\x00\x00\x00\x00\x00\x00\x00\x80", 8);
    expect_bytes(iceberg_value_date(19000), "\x38\x4a\x00\x00", 4);   /* 2022-01-08 */
    expect_bytes(iceberg_value_time(45296789012), "\x14\x26\xe6\x8b\x0a\x00\x00\x00", 8);   /* 12:34:56.789012 */
    expect_bytes(iceberg_value_timestamp(1700000000123456), "\x40\x22\x20\x18\x24\x0a\x06\x00", 8);
    expect_bytes(iceberg_value_timestamptz(1700000000123456), "\x40\x22\x20\x18\x24\x0a\x06\x00", 8);
    expect_bytes(iceberg_value_float(1.5f), "\x00\x00\xc0\x3f", 4);
    expect_bytes(iceberg_value_float(-0.0f), "\x00\x00\x00\x80", 4);
    expect_bytes(iceberg_value_double(-2.5), "\x00\x00\x00\x00\x00\x00\x04\xc0", 8);
    expect_bytes(iceberg_value_string("h\xc3\xa9llo", 6), "h\xc3\xa9llo", 6);
    expect_bytes(iceberg_value_string("", 0), "", 0);
    expect_bytes(iceberg_value_binary("\x00\x01\xff", 3), "\x00\x01\xff", 3);
    expect_bytes(iceberg_value_fixed("abcd", 4), "abcd", 4);

    /* Decimals: the unscaled value, big-endian two's complement, minimal bytes. */
    expect_bytes(iceberg_value_decimal64(-1), "\xff", 1);
    expect_bytes(iceberg_value_decimal64(1234), "\x04\xd2", 2);   /* 12.34 as decimal(4,2) */
    expect_bytes(iceberg_value_decimal64(0), "\x00", 1);
    expect_bytes(iceberg_value_decimal64(127), "\x7f", 1);
    expect_bytes(iceberg_value_decimal64(128), "\x00\x80", 2);
    expect_bytes(iceberg_value_decimal64(-128), "\x80", 1);
    expect_bytes(iceberg_value_decimal64(-129), "\xff\x7f", 2);
    expect_bytes(iceberg_value_decimal(dec(0, 0x8000000000000000ULL)), "\x00\x80\x00\x00\x00\x00\x00\x00\x00", 9);
    expect_bytes(iceberg_value_decimal(dec(-1, 0x7fffffffffffffffULL)), "\xff\x7f\xff\xff\xff\xff\xff\xff\xff", 9);
    /* 10^38 - 1 and its negation (precision 38: all 16 bytes). */
    expect_bytes(iceberg_value_decimal(dec(0x4b3b4ca85a86c47aLL, 0x098a223fffffffffULL)),
                 "\x4b\x3b\x4c\xa8\x5a\x86\xc4\x7a\x09\x8a\x22\x3f\xff\xff\xff\xff", 16);
    expect_bytes(iceberg_value_decimal(dec(-5421010862427522171LL, 0xf675ddc000000001ULL)),
                 "\xb4\xc4\xb3\x57\xa5\x79\x3b\x85\xf6\x75\xdd\xc0\x00\x00\x00\x01", 16);

    /* UUIDs: 16 bytes in the text's (big-endian) order. */
    uint8_t u[16];
    assert_int_equal(iceberg_uuid_parse("f79c3e09-677c-4bbd-a479-3f349cb785e7", u), 0);
    expect_bytes(iceberg_value_uuid(u), "\xf7\x9c\x3e\x09\x67\x7c\x4b\xbd\xa4\x79\x3f\x34\x9c\xb7\x85\xe7", 16);
    assert_int_equal(iceberg_uuid_parse("F79C3E09-677C-4BBD-A479-3F349CB785E7", u), 0);
    assert_int_equal(u[0], 0xf7);
    assert_int_equal(iceberg_uuid_parse("f79c3e09677c-4bbd-a479-3f349cb785e7x", u), -1);
    assert_int_equal(iceberg_uuid_parse("f79c3e09-677c-4bbd-a479-3f349cb785e", u), -1);
    assert_int_equal(iceberg_uuid_parse("g79c3e09-677c-4bbd-a479-3f349cb785e7", u), -1);

    /* Refused: a null, a uuid of the wrong size. */
    buf out = BUF_INIT;
    char err[128] = "";
    iceberg_value v = iceberg_value_null(ICEBERG_TYPE_LONG);
    assert_int_equal(iceberg_value_serialize(&v, &out, err, sizeof err), -1);
    assert_string_equal(err, "a null long has no single-value serialization");
    v = iceberg_value_uuid(u);
    v.v.bytes.len = 15;
    assert_int_equal(iceberg_value_serialize(&v, &out, err, sizeof err), -1);
    assert_string_equal(err, "a uuid is 16 bytes, not 15");
    assert_int_equal(out.len, 0);
    buf_free(&out);

    /* The plain-value helpers match. */
    iceberg_serialize_int(&out, 7);
    iceberg_serialize_long(&out, -2);
    assert_int_equal(out.len, 12);
    assert_memory_equal(out.data, "\x07\x00\x00\x00\xfe\xff\xff\xff\xff\xff\xff\xff", 12);
    buf_free(&out);
}

static void test_decimal_sizes_and_order(void **state)
{
    (void)state;
    static const int want[][2] = {{1, 1}, {2, 1}, {3, 2}, {4, 2}, {5, 3}, {9, 4}, {10, 5},
                                  {18, 8}, {19, 9}, {28, 12}, {38, 16}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (iceberg_decimal_required_bytes(want[i][0]) != want[i][1])
            fail_msg("precision %d: %d bytes, want %d", want[i][0], iceberg_decimal_required_bytes(want[i][0]),
                     want[i][1]);
    assert_int_equal(iceberg_decimal_required_bytes(39), -1);
    assert_true(iceberg_decimal_fits(dec(0, 99999), 5));
    assert_false(iceberg_decimal_fits(dec(0, 100000), 5));
    assert_true(iceberg_decimal_fits(iceberg_value_decimal64(-99999).v.dec, 5));
    assert_false(iceberg_decimal_fits(iceberg_value_decimal64(-100000).v.dec, 5));
    assert_true(iceberg_decimal_fits(dec(0x4b3b4ca85a86c47aLL, 0x098a223fffffffffULL), 38));
    assert_false(iceberg_decimal_fits(dec(0x4b3b4ca85a86c47aLL, 0x098a224000000000ULL), 38));

    /* Fixed-size decimal bytes (Avro fixed in partition tuples): sign-extended. */
    uint8_t be[4];
    iceberg_decimal_to_be(iceberg_value_decimal64(-2).v.dec, be, 4);
    assert_memory_equal(be, "\xff\xff\xff\xfe", 4);

    iceberg_value a = iceberg_value_double(-0.0), b = iceberg_value_double(0.0);
    assert_true(iceberg_value_compare(&a, &b) < 0);
    a = iceberg_value_string("\xc3\xa9", 2);
    b = iceberg_value_string("z", 1);
    assert_true(iceberg_value_compare(&a, &b) > 0);   /* unsigned bytes */
    b = iceberg_value_string("\xc3\xa9x", 3);
    assert_true(iceberg_value_compare(&a, &b) < 0);   /* a prefix first */
    a = iceberg_value_decimal64(-5);
    b = iceberg_value_decimal64(3);
    assert_true(iceberg_value_compare(&a, &b) < 0);
    a = iceberg_value_long(INT64_MIN);
    b = iceberg_value_long(0);
    assert_true(iceberg_value_compare(&a, &b) < 0);
    a = iceberg_value_float(NAN);
    assert_true(iceberg_value_is_nan(&a));
}

/* ---- schemas ---- */

static json_t *field_named(json_t *record, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(record, "fields"), i, f)
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            return f;
    fail_msg("no field %s", name);
    return NULL;
}

static int field_id(json_t *record, const char *name)
{
    json_t *id = json_object_get(field_named(record, name), "field-id");
    if (!json_is_integer(id))
        fail_msg("field %s has no field-id", name);
    return (int)json_integer_value(id);
}

/* The non-null branch of an optional field's type. */
static json_t *optional_type(json_t *field)
{
    json_t *t = json_object_get(field, "type");
    assert_true(json_is_array(t));
    assert_int_equal(json_array_size(t), 2);
    assert_string_equal(json_string_value(json_array_get(t, 0)), "null");
    assert_true(json_is_null(json_object_get(field, "default")));
    return json_array_get(t, 1);
}

static void check_map(json_t *record, const char *name, int id, int key_id, int value_id, const char *value_type)
{
    json_t *f = field_named(record, name);
    assert_int_equal(field_id(record, name), id);
    json_t *arr = optional_type(f);
    assert_string_equal(json_string_value(json_object_get(arr, "type")), "array");
    assert_string_equal(json_string_value(json_object_get(arr, "logicalType")), "map");
    json_t *kv = json_object_get(arr, "items");
    char rname[32];
    snprintf(rname, sizeof rname, "k%d_v%d", key_id, value_id);
    assert_string_equal(json_string_value(json_object_get(kv, "name")), rname);
    assert_int_equal(json_array_size(json_object_get(kv, "fields")), 2);
    assert_int_equal(field_id(kv, "key"), key_id);
    assert_int_equal(field_id(kv, "value"), value_id);
    assert_string_equal(json_string_value(json_object_get(field_named(kv, "key"), "type")), "int");
    assert_string_equal(json_string_value(json_object_get(field_named(kv, "value"), "type")), value_type);
}

static void check_list(json_t *record, const char *name, int id, int element_id)
{
    assert_int_equal(field_id(record, name), id);
    json_t *arr = optional_type(field_named(record, name));
    assert_string_equal(json_string_value(json_object_get(arr, "type")), "array");
    assert_int_equal(json_integer_value(json_object_get(arr, "element-id")), element_id);
}

static const iceberg_partition_field PARTITION[] = {
    {.name = "region", .field_id = 1000, .source_id = 2, .type = ICEBERG_TYPE_STRING},
    {.name = "day", .field_id = 1001, .source_id = 3, .type = ICEBERG_TYPE_DATE},
    {.name = "amount", .field_id = 1002, .source_id = 4, .type = ICEBERG_TYPE_DECIMAL, .precision = 9, .scale = 2},
};

static void test_manifest_entry_schema(void **state)
{
    (void)state;
    buf s = BUF_INIT;
    char err[256] = "";
    assert_int_equal(iceberg_manifest_entry_schema(PARTITION, 3, &s, err, sizeof err), 0);
    avro_schema_t parsed;
    if (avro_schema_from_json_length(s.data, s.len, &parsed) != 0)
        fail_msg("libavro refuses the schema: %s", avro_strerror());
    avro_schema_decref(parsed);
    json_error_t je;
    json_t *root = json_loads(s.data, 0, &je);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "name")), "manifest_entry");
    assert_int_equal(field_id(root, "status"), 0);
    assert_int_equal(field_id(root, "snapshot_id"), 1);
    assert_int_equal(field_id(root, "sequence_number"), 3);
    assert_int_equal(field_id(root, "file_sequence_number"), 4);
    assert_int_equal(field_id(root, "data_file"), 2);
    optional_type(field_named(root, "snapshot_id"));
    json_t *df = json_object_get(field_named(root, "data_file"), "type");
    assert_string_equal(json_string_value(json_object_get(df, "name")), "r2");
    static const struct {
        const char *name;
        int id;
    } ids[] = {{"content", 134}, {"file_path", 100}, {"file_format", 101}, {"partition", 102},
               {"record_count", 103}, {"file_size_in_bytes", 104}, {"key_metadata", 131},
               {"sort_order_id", 140}, {"referenced_data_file", 143}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        assert_int_equal(field_id(df, ids[i].name), ids[i].id);
    assert_int_equal(json_array_size(json_object_get(df, "fields")), 17);
    check_map(df, "column_sizes", 108, 117, 118, "long");
    check_map(df, "value_counts", 109, 119, 120, "long");
    check_map(df, "null_value_counts", 110, 121, 122, "long");
    check_map(df, "nan_value_counts", 137, 138, 139, "long");
    check_map(df, "lower_bounds", 125, 126, 127, "bytes");
    check_map(df, "upper_bounds", 128, 129, 130, "bytes");
    check_list(df, "split_offsets", 132, 133);
    check_list(df, "equality_ids", 135, 136);

    json_t *part = json_object_get(field_named(df, "partition"), "type");
    assert_string_equal(json_string_value(json_object_get(part, "name")), "r102");
    assert_int_equal(field_id(part, "region"), 1000);
    assert_int_equal(field_id(part, "day"), 1001);
    assert_int_equal(field_id(part, "amount"), 1002);
    assert_string_equal(json_string_value(optional_type(field_named(part, "region"))), "string");
    json_t *day = optional_type(field_named(part, "day"));
    assert_string_equal(json_string_value(json_object_get(day, "logicalType")), "date");
    json_t *amount = optional_type(field_named(part, "amount"));
    assert_string_equal(json_string_value(json_object_get(amount, "type")), "fixed");
    assert_int_equal(json_integer_value(json_object_get(amount, "size")), 4);
    assert_int_equal(json_integer_value(json_object_get(amount, "precision")), 9);
    json_decref(root);

    /* Unpartitioned: an empty partition struct, still a valid schema. */
    buf_reset(&s);
    assert_int_equal(iceberg_manifest_entry_schema(NULL, 0, &s, err, sizeof err), 0);
    assert_non_null(strstr(s.data, "{\"type\":\"record\",\"name\":\"r102\",\"fields\":[]}"));
    assert_int_equal(avro_schema_from_json_length(s.data, s.len, &parsed), 0);
    avro_schema_decref(parsed);

    /* Two decimal(9,2) fields: the named fixed type is defined once, then referred to. */
    iceberg_partition_field two[] = {PARTITION[2], PARTITION[2]};
    two[1].name = "amount2";
    two[1].field_id = 1003;
    buf_reset(&s);
    assert_int_equal(iceberg_manifest_entry_schema(two, 2, &s, err, sizeof err), 0);
    assert_int_equal(avro_schema_from_json_length(s.data, s.len, &parsed), 0);
    avro_schema_decref(parsed);

    /* Refused specs. */
    iceberg_partition_field bad = {.name = "no-dash", .field_id = 1000, .type = ICEBERG_TYPE_INT};
    assert_int_equal(iceberg_manifest_entry_schema(&bad, 1, &s, err, sizeof err), -1);
    assert_string_equal(err, "partition field 0: 'no-dash' is not an Avro name ([A-Za-z_][A-Za-z0-9_]*)");
    iceberg_partition_field dup[] = {PARTITION[0], PARTITION[1]};
    dup[1].field_id = 1000;
    assert_int_equal(iceberg_manifest_entry_schema(dup, 2, &s, err, sizeof err), -1);
    assert_string_equal(err, "partition field id 1000 used twice");
    bad = (iceberg_partition_field){.name = "d", .field_id = 1, .type = ICEBERG_TYPE_DECIMAL, .precision = 40};
    assert_int_equal(iceberg_manifest_entry_schema(&bad, 1, &s, err, sizeof err), -1);
    assert_string_equal(err, "partition field d: decimal(40,0) is not valid");

    /* The manifest list's schema. */
    const char *ml = iceberg_manifest_file_schema();
    assert_int_equal(avro_schema_from_json_length(ml, strlen(ml), &parsed), 0);
    avro_schema_decref(parsed);
    root = json_loads(ml, 0, &je);
    assert_non_null(root);
    static const struct {
        const char *name;
        int id;
    } mids[] = {{"manifest_path", 500}, {"manifest_length", 501}, {"partition_spec_id", 502},
                {"content", 517}, {"sequence_number", 515}, {"min_sequence_number", 516},
                {"added_snapshot_id", 503}, {"added_files_count", 504}, {"existing_files_count", 505},
                {"deleted_files_count", 506}, {"added_rows_count", 512}, {"existing_rows_count", 513},
                {"deleted_rows_count", 514}, {"partitions", 507}, {"key_metadata", 519}};
    for (size_t i = 0; i < sizeof mids / sizeof mids[0]; i++)
        assert_int_equal(field_id(root, mids[i].name), mids[i].id);
    check_list(root, "partitions", 507, 508);
    json_t *fs = json_object_get(optional_type(field_named(root, "partitions")), "items");
    assert_string_equal(json_string_value(json_object_get(fs, "name")), "r508");
    assert_int_equal(field_id(fs, "contains_null"), 509);
    assert_int_equal(field_id(fs, "contains_nan"), 518);
    assert_int_equal(field_id(fs, "lower_bound"), 510);
    assert_int_equal(field_id(fs, "upper_bound"), 511);
    json_decref(root);

    buf_reset(&s);
    iceberg_partition_spec_json(PARTITION, 2, &s);
    assert_string_equal(s.data, "[{\"name\":\"region\",\"transform\":\"identity\",\"source-id\":2,\"field-id\":1000},"
                                "{\"name\":\"day\",\"transform\":\"identity\",\"source-id\":3,\"field-id\":1001}]");
    buf_free(&s);
}

/* ---- files read back with libavro ---- */

/* An Avro long (zigzag varint) at *p, which is advanced. */
static int64_t read_long(const uint8_t **p, const uint8_t *end)
{
    uint64_t z = 0;
    int shift = 0;
    for (;;) {
        assert_true(*p < end && shift < 64);
        uint8_t b = *(*p)++;
        z |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* The value of one key of the container header's metadata map (NULL when absent). */
static const uint8_t *header_value(const buf *file, const char *key, size_t *len)
{
    const uint8_t *p = (const uint8_t *)file->data, *end = p + file->len, *found = NULL;
    assert_true(file->len > 4);
    assert_memory_equal(p, "Obj\x01", 4);
    p += 4;
    for (int64_t n; (n = read_long(&p, end)) != 0;) {
        assert_true(n > 0);
        for (int64_t i = 0; i < n; i++) {
            size_t kl = (size_t)read_long(&p, end);
            const uint8_t *k = p;
            p += kl;
            size_t vl = (size_t)read_long(&p, end);
            if (kl == strlen(key) && memcmp(k, key, kl) == 0) {
                found = p;
                *len = vl;
            }
            p += vl;
            assert_true(p <= end);
        }
    }
    assert_true(end - p >= 16);
    assert_memory_equal(p, SYNC, 16);
    return found;
}

static void expect_header(const buf *file, const char *key, const char *want)
{
    size_t len = 0;
    const uint8_t *v = header_value(file, key, &len);
    if (!v)
        fail_msg("header key %s missing", key);
    if (len != strlen(want) || memcmp(v, want, len) != 0)
        fail_msg("header %s: '%.*s', want '%s'", key, (int)len, (const char *)v, want);
}

typedef struct reader {
    char path[512];
    avro_file_reader_t r;
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t v;
} reader;

static void reader_open(reader *rd, const buf *file)
{
    snprintf(rd->path, sizeof rd->path, "/tmp/iceberg_manifest-XXXXXX");
    int fd = mkstemp(rd->path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, file->data, file->len), (ssize_t)file->len);
    close(fd);
    if (avro_file_reader(rd->path, &rd->r) != 0)
        fail_msg("avro_file_reader: %s", avro_strerror());
    rd->schema = avro_file_reader_get_writer_schema(rd->r);
    rd->iface = avro_generic_class_from_schema(rd->schema);
    assert_int_equal(avro_generic_value_new(rd->iface, &rd->v), 0);
}

static bool reader_next(reader *rd)
{
    return avro_file_reader_read_value(rd->r, &rd->v) == 0;
}

static void reader_close(reader *rd)
{
    avro_value_decref(&rd->v);
    avro_value_iface_decref(rd->iface);
    avro_schema_decref(rd->schema);
    avro_file_reader_close(rd->r);
    unlink(rd->path);
}

static avro_value_t sub(avro_value_t *rec, const char *name)
{
    avro_value_t f;
    if (avro_value_get_by_name(rec, name, &f, NULL) != 0)
        fail_msg("no field %s", name);
    return f;
}

static int64_t get_long(avro_value_t *rec, const char *name)
{
    avro_value_t f = sub(rec, name);
    int64_t x;
    assert_int_equal(avro_value_get_long(&f, &x), 0);
    return x;
}

static int32_t get_int(avro_value_t *rec, const char *name)
{
    avro_value_t f = sub(rec, name);
    int32_t x;
    assert_int_equal(avro_value_get_int(&f, &x), 0);
    return x;
}

/* An optional field: false when null, else its branch in *out. */
static bool get_opt(avro_value_t *rec, const char *name, avro_value_t *out)
{
    avro_value_t f = sub(rec, name);
    int disc;
    assert_int_equal(avro_value_get_discriminant(&f, &disc), 0);
    if (disc == 0)
        return false;
    assert_int_equal(avro_value_get_current_branch(&f, out), 0);
    return true;
}

static const char *get_str(avro_value_t *rec, const char *name)
{
    avro_value_t f = sub(rec, name);
    const char *s;
    size_t n;
    assert_int_equal(avro_value_get_string(&f, &s, &n), 0);
    return s;
}

/* The map<int,long> of a data file, as "id=value,..." text (or "null"). */
static void map_text(avro_value_t *df, const char *name, char *out, size_t len)
{
    avro_value_t arr, el, k, v;
    size_t n, used = 0;
    if (!get_opt(df, name, &arr)) {
        snprintf(out, len, "null");
        return;
    }
    out[0] = '\0';
    assert_int_equal(avro_value_get_size(&arr, &n), 0);
    for (size_t i = 0; i < n; i++) {
        int32_t key;
        assert_int_equal(avro_value_get_by_index(&arr, i, &el, NULL), 0);
        k = sub(&el, "key");
        v = sub(&el, "value");
        assert_int_equal(avro_value_get_int(&k, &key), 0);
        if (avro_value_get_type(&v) == AVRO_INT64) {
            int64_t x;
            avro_value_get_long(&v, &x);
            used += (size_t)snprintf(out + used, len - used, "%s%d=%lld", i ? "," : "", key, (long long)x);
        } else {
            const void *p;
            size_t sz;
            avro_value_get_bytes(&v, &p, &sz);
            used += (size_t)snprintf(out + used, len - used, "%s%d=", i ? "," : "", key);
            for (size_t j = 0; j < sz; j++)
                used += (size_t)snprintf(out + used, len - used, "%02x", ((const uint8_t *)p)[j]);
        }
    }
}

typedef struct fixture_files {
    buf manifest, list;
    iceberg_manifest_file summary;
    iceberg_manifest_writer *mw;
} fixture_files;

/* Three entries: an added file (two row groups, stats for 4 columns), an existing one (explicit
 * snapshot and sequence numbers, null region), a deleted one. */
static void write_manifest(fixture_files *ff, avro_ocf_codec codec)
{
    char err[256] = "";
    iceberg_manifest_options o = {.path = "s3://lake/t/metadata/m0.avro",
                                  .schema_json = TABLE_SCHEMA,
                                  .schema_id = 3,
                                  .partition_spec_id = 1,
                                  .partition_fields = PARTITION,
                                  .npartition_fields = 3,
                                  .content = ICEBERG_MANIFEST_DATA,
                                  .snapshot_id = 7001,
                                  .codec = codec,
                                  .sync = SYNC};
    byte_output out = {byte_output_buf_write, &ff->manifest};
    ff->mw = iceberg_manifest_writer_create(&o, &out, err, sizeof err);
    if (!ff->mw)
        fail_msg("create: %s", err);

    buf lo_id = BUF_INIT, hi_id = BUF_INIT, lo_amt = BUF_INIT, hi_amt = BUF_INIT;
    iceberg_serialize_long(&lo_id, -5);
    iceberg_serialize_long(&hi_id, 1LL << 40);
    iceberg_serialize_decimal(&lo_amt, iceberg_value_decimal64(-1).v.dec);
    iceberg_serialize_decimal(&hi_amt, iceberg_value_decimal64(1234).v.dec);
    iceberg_column_stats cols[] = {
        {.field_id = 1, .has_column_size = true, .column_size = 120, .has_value_count = true, .value_count = 10,
         .has_null_count = true, .null_count = 0, .has_lower = true, .lower = lo_id.data, .lower_len = lo_id.len,
         .has_upper = true, .upper = hi_id.data, .upper_len = hi_id.len},
        {.field_id = 2, .has_column_size = true, .column_size = 64, .has_value_count = true, .value_count = 10,
         .has_null_count = true, .null_count = 3, .has_lower = true, .lower = "", .lower_len = 0,
         .has_upper = true, .upper = "z\xc3\xa9", .upper_len = 3},
        {.field_id = 4, .has_value_count = true, .value_count = 10, .has_null_count = true, .null_count = 10},
        {.field_id = 5, .has_nan_count = true, .nan_count = 2, .has_lower = true, .lower = lo_amt.data,
         .lower_len = lo_amt.len, .has_upper = true, .upper = hi_amt.data, .upper_len = hi_amt.len},
    };
    int64_t splits[] = {4, 70000};
    iceberg_value part_a[] = {iceberg_value_string("eu", 2), iceberg_value_date(19000), iceberg_value_decimal64(1234)};
    iceberg_value part_b[] = {iceberg_value_null(ICEBERG_TYPE_STRING), iceberg_value_date(18000),
                              iceberg_value_decimal64(-99)};
    iceberg_value part_c[] = {iceberg_value_string("us", 2), iceberg_value_date(20000),
                              iceberg_value_null(ICEBERG_TYPE_DECIMAL)};
    iceberg_data_file a = {.file_path = "s3://lake/t/data/a.parquet", .partition = part_a, .npartition = 3,
                           .record_count = 10, .file_size_in_bytes = 4096, .columns = cols, .ncolumns = 4,
                           .split_offsets = splits, .nsplit_offsets = 2, .has_sort_order_id = true,
                           .sort_order_id = 0};
    iceberg_data_file b = {.file_path = "s3://lake/t/data/b.parquet", .file_format = "PARQUET", .partition = part_b,
                           .npartition = 3, .record_count = 5, .file_size_in_bytes = 999};
    iceberg_data_file c = {.file_path = "s3://lake/t/data/c.parquet", .partition = part_c, .npartition = 3,
                           .record_count = 7, .file_size_in_bytes = 1234, .key_metadata = "\x01\x02",
                           .key_metadata_len = 2};
    iceberg_manifest_entry entries[] = {
        {.status = ICEBERG_STATUS_ADDED, .file = &a},
        {.status = ICEBERG_STATUS_EXISTING, .has_snapshot_id = true, .snapshot_id = 6000, .has_sequence_number = true,
         .sequence_number = 4, .has_file_sequence_number = true, .file_sequence_number = 5, .file = &b},
        {.status = ICEBERG_STATUS_DELETED, .has_snapshot_id = true, .snapshot_id = 7001, .has_sequence_number = true,
         .sequence_number = 2, .has_file_sequence_number = true, .file_sequence_number = 2, .file = &c},
    };
    for (size_t i = 0; i < 3; i++)
        if (iceberg_manifest_writer_add(ff->mw, &entries[i], err, sizeof err) != 0)
            fail_msg("add %zu: %s", i, err);
    buf_free(&lo_id);
    buf_free(&hi_id);
    buf_free(&lo_amt);
    buf_free(&hi_amt);
    if (iceberg_manifest_writer_close(ff->mw, &ff->summary, err, sizeof err) != 0)
        fail_msg("close: %s", err);
}

static void check_manifest(const buf *file)
{
    expect_header(file, "schema", TABLE_SCHEMA);
    expect_header(file, "schema-id", "3");
    expect_header(file, "partition-spec",
                  "[{\"name\":\"region\",\"transform\":\"identity\",\"source-id\":2,\"field-id\":1000},"
                  "{\"name\":\"day\",\"transform\":\"identity\",\"source-id\":3,\"field-id\":1001},"
                  "{\"name\":\"amount\",\"transform\":\"identity\",\"source-id\":4,\"field-id\":1002}]");
    expect_header(file, "partition-spec-id", "1");
    expect_header(file, "format-version", "2");
    expect_header(file, "content", "data");

    reader rd;
    reader_open(&rd, file);
    char text[512];
    avro_value_t b, df, part, pv;
    const void *p;
    size_t sz;

    /* Entry 0: added, inherited snapshot id and sequence numbers. */
    assert_true(reader_next(&rd));
    assert_int_equal(get_int(&rd.v, "status"), 1);
    assert_false(get_opt(&rd.v, "snapshot_id", &b));
    assert_false(get_opt(&rd.v, "sequence_number", &b));
    assert_false(get_opt(&rd.v, "file_sequence_number", &b));
    df = sub(&rd.v, "data_file");
    assert_int_equal(get_int(&df, "content"), 0);
    assert_string_equal(get_str(&df, "file_path"), "s3://lake/t/data/a.parquet");
    assert_string_equal(get_str(&df, "file_format"), "PARQUET");
    assert_int_equal(get_long(&df, "record_count"), 10);
    assert_int_equal(get_long(&df, "file_size_in_bytes"), 4096);
    part = sub(&df, "partition");
    assert_true(get_opt(&part, "region", &pv));
    assert_int_equal(avro_value_get_string(&pv, (const char **)&p, &sz), 0);
    assert_string_equal((const char *)p, "eu");
    assert_true(get_opt(&part, "day", &pv));
    int32_t day;
    avro_value_get_int(&pv, &day);
    assert_int_equal(day, 19000);
    assert_true(get_opt(&part, "amount", &pv));
    assert_int_equal(avro_value_get_fixed(&pv, &p, &sz), 0);
    assert_int_equal(sz, 4);
    assert_memory_equal(p, "\x00\x00\x04\xd2", 4);
    map_text(&df, "column_sizes", text, sizeof text);
    assert_string_equal(text, "1=120,2=64");
    map_text(&df, "value_counts", text, sizeof text);
    assert_string_equal(text, "1=10,2=10,4=10");
    map_text(&df, "null_value_counts", text, sizeof text);
    assert_string_equal(text, "1=0,2=3,4=10");
    map_text(&df, "nan_value_counts", text, sizeof text);
    assert_string_equal(text, "5=2");
    map_text(&df, "lower_bounds", text, sizeof text);
    assert_string_equal(text, "1=fbffffffffffffff,2=,5=ff");
    map_text(&df, "upper_bounds", text, sizeof text);
    assert_string_equal(text, "1=0000000000010000,2=7ac3a9,5=04d2");
    assert_false(get_opt(&df, "key_metadata", &b));
    assert_true(get_opt(&df, "split_offsets", &b));
    assert_int_equal(avro_value_get_size(&b, &sz), 0);
    assert_int_equal(sz, 2);
    avro_value_t el;
    int64_t off;
    avro_value_get_by_index(&b, 1, &el, NULL);
    avro_value_get_long(&el, &off);
    assert_int_equal(off, 70000);
    assert_false(get_opt(&df, "equality_ids", &b));
    assert_true(get_opt(&df, "sort_order_id", &b));
    assert_false(get_opt(&df, "referenced_data_file", &b));

    /* Entry 1: existing, explicit numbers, null region, no stats at all. */
    assert_true(reader_next(&rd));
    assert_int_equal(get_int(&rd.v, "status"), 0);
    assert_true(get_opt(&rd.v, "snapshot_id", &b));
    avro_value_get_long(&b, &off);
    assert_int_equal(off, 6000);
    assert_true(get_opt(&rd.v, "sequence_number", &b));
    avro_value_get_long(&b, &off);
    assert_int_equal(off, 4);
    assert_true(get_opt(&rd.v, "file_sequence_number", &b));
    avro_value_get_long(&b, &off);
    assert_int_equal(off, 5);
    df = sub(&rd.v, "data_file");
    part = sub(&df, "partition");
    assert_false(get_opt(&part, "region", &pv));
    assert_true(get_opt(&part, "amount", &pv));
    avro_value_get_fixed(&pv, &p, &sz);
    assert_memory_equal(p, "\xff\xff\xff\x9d", 4);   /* -99 sign-extended to the fixed size */
    map_text(&df, "column_sizes", text, sizeof text);
    assert_string_equal(text, "null");
    assert_false(get_opt(&df, "split_offsets", &b));
    assert_false(get_opt(&df, "sort_order_id", &b));

    /* Entry 2: deleted, with key metadata. */
    assert_true(reader_next(&rd));
    assert_int_equal(get_int(&rd.v, "status"), 2);
    df = sub(&rd.v, "data_file");
    assert_true(get_opt(&df, "key_metadata", &b));
    avro_value_get_bytes(&b, &p, &sz);
    assert_int_equal(sz, 2);
    assert_memory_equal(p, "\x01\x02", 2);
    assert_false(reader_next(&rd));
    reader_close(&rd);
}

static void check_summary(const iceberg_manifest_file *s, const buf *file)
{
    assert_string_equal(s->manifest_path, "s3://lake/t/metadata/m0.avro");
    assert_int_equal(s->manifest_length, file->len);
    assert_int_equal(s->partition_spec_id, 1);
    assert_int_equal(s->content, ICEBERG_MANIFEST_DATA);
    assert_false(s->has_sequence_number);
    assert_true(s->has_min_sequence_number);
    assert_int_equal(s->min_sequence_number, 4);   /* the deleted entry's 2 does not count */
    assert_int_equal(s->added_snapshot_id, 7001);
    assert_int_equal(s->added_files_count, 1);
    assert_int_equal(s->existing_files_count, 1);
    assert_int_equal(s->deleted_files_count, 1);
    assert_int_equal(s->added_rows_count, 10);
    assert_int_equal(s->existing_rows_count, 5);
    assert_int_equal(s->deleted_rows_count, 7);
    assert_int_equal(s->npartitions, 3);
    /* region: eu, null, us */
    assert_true(s->partitions[0].contains_null);
    assert_false(s->partitions[0].contains_nan);
    assert_int_equal(s->partitions[0].lower_len, 2);
    assert_memory_equal(s->partitions[0].lower, "eu", 2);
    assert_memory_equal(s->partitions[0].upper, "us", 2);
    /* day: 19000, 18000, 20000 */
    assert_false(s->partitions[1].contains_null);
    assert_memory_equal(s->partitions[1].lower, "\x50\x46\x00\x00", 4);
    assert_memory_equal(s->partitions[1].upper, "\x20\x4e\x00\x00", 4);
    /* amount: 12.34, -0.99, null */
    assert_true(s->partitions[2].contains_null);
    assert_int_equal(s->partitions[2].lower_len, 1);
    assert_memory_equal(s->partitions[2].lower, "\x9d", 1);
    assert_int_equal(s->partitions[2].upper_len, 2);
    assert_memory_equal(s->partitions[2].upper, "\x04\xd2", 2);
}

static void test_manifest_roundtrip(void **state)
{
    (void)state;
    for (int codec = 0; codec < 2; codec++) {
        fixture_files ff = {0};
        write_manifest(&ff, codec ? AVRO_OCF_CODEC_DEFLATE : AVRO_OCF_CODEC_NULL);
        expect_header(&ff.manifest, "avro.codec", codec ? "deflate" : "null");
        check_manifest(&ff.manifest);
        check_summary(&ff.summary, &ff.manifest);
        iceberg_manifest_writer_destroy(ff.mw);
        buf_free(&ff.manifest);
    }
}

static void test_manifest_list_roundtrip(void **state)
{
    (void)state;
    fixture_files ff = {0};
    char err[256] = "";
    write_manifest(&ff, AVRO_OCF_CODEC_NULL);

    iceberg_field_summary old_parts[] = {{.contains_null = false, .has_contains_nan = false, .has_lower = true,
                                          .lower = "ap", .lower_len = 2, .has_upper = true, .upper = "eu",
                                          .upper_len = 2},
                                         {.contains_null = true},
                                         {.contains_null = true, .has_contains_nan = true}};
    iceberg_manifest_file old = {.manifest_path = "s3://lake/t/metadata/old.avro", .manifest_length = 5555,
                                 .partition_spec_id = 1, .content = ICEBERG_MANIFEST_DELETES,
                                 .has_sequence_number = true, .sequence_number = 3,
                                 .has_min_sequence_number = true, .min_sequence_number = 1,
                                 .added_snapshot_id = 6000, .added_files_count = 2, .existing_files_count = 0,
                                 .deleted_files_count = 0, .added_rows_count = 20, .partitions = old_parts,
                                 .npartitions = 3, .key_metadata = "k", .key_metadata_len = 1};
    iceberg_manifest_list_options o = {.snapshot_id = 7001, .has_parent_snapshot_id = true,
                                       .parent_snapshot_id = 6000, .sequence_number = 6, .sync = SYNC};
    byte_output out = {byte_output_buf_write, &ff.list};
    iceberg_manifest_list_writer *lw = iceberg_manifest_list_writer_create(&o, &out, err, sizeof err);
    assert_non_null(lw);
    assert_int_equal(iceberg_manifest_list_writer_add(lw, &ff.summary, err, sizeof err), 0);
    assert_int_equal(iceberg_manifest_list_writer_add(lw, &old, err, sizeof err), 0);
    /* Unassigned sequence numbers from another snapshot are refused. */
    iceberg_manifest_file foreign = ff.summary;
    foreign.added_snapshot_id = 1;
    assert_int_equal(iceberg_manifest_list_writer_add(lw, &foreign, err, sizeof err), -1);
    assert_string_equal(err, "manifest list: s3://lake/t/metadata/m0.avro: sequence numbers unassigned but the "
                             "manifest was added by snapshot 1, not this one (7001)");
    uint64_t bytes = 0;
    assert_int_equal(iceberg_manifest_list_writer_close(lw, &bytes, err, sizeof err), 0);
    assert_int_equal(bytes, ff.list.len);
    iceberg_manifest_list_writer_destroy(lw);

    expect_header(&ff.list, "snapshot-id", "7001");
    expect_header(&ff.list, "parent-snapshot-id", "6000");
    expect_header(&ff.list, "sequence-number", "6");
    expect_header(&ff.list, "format-version", "2");

    reader rd;
    reader_open(&rd, &ff.list);
    avro_value_t b, el, f;
    const void *p;
    size_t sz;
    int flag;
    assert_true(reader_next(&rd));
    assert_string_equal(get_str(&rd.v, "manifest_path"), "s3://lake/t/metadata/m0.avro");
    assert_int_equal(get_long(&rd.v, "manifest_length"), ff.manifest.len);
    assert_int_equal(get_int(&rd.v, "partition_spec_id"), 1);
    assert_int_equal(get_int(&rd.v, "content"), 0);
    assert_int_equal(get_long(&rd.v, "sequence_number"), 6);      /* assigned: the list's */
    assert_int_equal(get_long(&rd.v, "min_sequence_number"), 4);  /* from the existing entry */
    assert_int_equal(get_long(&rd.v, "added_snapshot_id"), 7001);
    assert_int_equal(get_int(&rd.v, "added_files_count"), 1);
    assert_int_equal(get_int(&rd.v, "existing_files_count"), 1);
    assert_int_equal(get_int(&rd.v, "deleted_files_count"), 1);
    assert_int_equal(get_long(&rd.v, "added_rows_count"), 10);
    assert_int_equal(get_long(&rd.v, "existing_rows_count"), 5);
    assert_int_equal(get_long(&rd.v, "deleted_rows_count"), 7);
    assert_true(get_opt(&rd.v, "partitions", &b));
    assert_int_equal(avro_value_get_size(&b, &sz), 0);
    assert_int_equal(sz, 3);
    avro_value_get_by_index(&b, 1, &el, NULL);
    f = sub(&el, "contains_null");
    avro_value_get_boolean(&f, &flag);
    assert_false(flag);
    assert_true(get_opt(&el, "contains_nan", &f));
    assert_true(get_opt(&el, "lower_bound", &f));
    avro_value_get_bytes(&f, &p, &sz);
    assert_int_equal(sz, 4);
    assert_memory_equal(p, "\x50\x46\x00\x00", 4);
    assert_false(get_opt(&rd.v, "key_metadata", &f));

    assert_true(reader_next(&rd));
    assert_string_equal(get_str(&rd.v, "manifest_path"), "s3://lake/t/metadata/old.avro");
    assert_int_equal(get_int(&rd.v, "content"), 1);
    assert_int_equal(get_long(&rd.v, "sequence_number"), 3);
    assert_int_equal(get_long(&rd.v, "min_sequence_number"), 1);
    assert_int_equal(get_long(&rd.v, "added_snapshot_id"), 6000);
    assert_true(get_opt(&rd.v, "partitions", &b));
    avro_value_get_by_index(&b, 0, &el, NULL);
    assert_false(get_opt(&el, "contains_nan", &f));
    assert_true(get_opt(&el, "upper_bound", &f));
    avro_value_get_bytes(&f, &p, &sz);
    assert_memory_equal(p, "eu", 2);
    avro_value_get_by_index(&b, 1, &el, NULL);
    assert_false(get_opt(&el, "lower_bound", &f));
    assert_true(get_opt(&rd.v, "key_metadata", &f));
    assert_false(reader_next(&rd));
    reader_close(&rd);

    /* No parent: "null", as Iceberg's Java writer has it. */
    buf nop = BUF_INIT;
    o.has_parent_snapshot_id = false;
    out.ctx = &nop;
    lw = iceberg_manifest_list_writer_create(&o, &out, err, sizeof err);
    assert_non_null(lw);
    assert_int_equal(iceberg_manifest_list_writer_close(lw, NULL, err, sizeof err), 0);
    iceberg_manifest_list_writer_destroy(lw);
    expect_header(&nop, "parent-snapshot-id", "null");
    buf_free(&nop);

    iceberg_manifest_writer_destroy(ff.mw);
    buf_free(&ff.manifest);
    buf_free(&ff.list);
}

static void test_refused_entries(void **state)
{
    (void)state;
    char err[256] = "";
    buf file = BUF_INIT;
    byte_output out = {byte_output_buf_write, &file};
    iceberg_manifest_options o = {.path = "m.avro", .schema_json = TABLE_SCHEMA, .partition_fields = PARTITION,
                                  .npartition_fields = 2, .content = ICEBERG_MANIFEST_DATA, .snapshot_id = 1,
                                  .sync = SYNC};
    iceberg_manifest_writer *w = iceberg_manifest_writer_create(&o, &out, err, sizeof err);
    assert_non_null(w);
    iceberg_value part[] = {iceberg_value_string("eu", 2), iceberg_value_date(1)};
    iceberg_data_file f = {.file_path = "a.parquet", .partition = part, .npartition = 2, .record_count = 1,
                           .file_size_in_bytes = 10};
    iceberg_manifest_entry e = {.status = ICEBERG_STATUS_ADDED, .file = &f};

    f.content = ICEBERG_CONTENT_POSITION_DELETES;
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), -1);
    assert_string_equal(err, "a.parquet: content 1 does not belong in a data manifest");
    f.content = ICEBERG_CONTENT_DATA;

    part[1] = iceberg_value_long(1);
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), -1);
    assert_string_equal(err, "a.parquet: partition day is date, not long");
    part[1] = iceberg_value_date(1);

    f.npartition = 1;
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), -1);
    assert_string_equal(err, "a.parquet: 1 partition values for a spec of 2 fields");
    f.npartition = 2;

    e.status = ICEBERG_STATUS_EXISTING;
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), -1);
    assert_string_equal(err, "a.parquet: an existing or deleted entry needs its snapshot id and both sequence numbers");
    e.status = ICEBERG_STATUS_ADDED;

    iceberg_column_stats twice[] = {{.field_id = 1}, {.field_id = 1}};
    f.columns = twice;
    f.ncolumns = 2;
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), -1);
    assert_string_equal(err, "a.parquet: column 1 has statistics twice");
    f.columns = NULL;
    f.ncolumns = 0;

    int32_t ids[] = {1};
    f.equality_ids = ids;
    f.nequality_ids = 1;
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), -1);
    assert_string_equal(err, "a.parquet: equality_ids are required for equality deletes and only for them");
    f.equality_ids = NULL;

    /* Still usable: a good entry goes in, and the summary counts only it. */
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), 0);
    iceberg_manifest_file s;
    assert_int_equal(iceberg_manifest_writer_close(w, &s, err, sizeof err), 0);
    assert_int_equal(s.added_files_count, 1);
    assert_false(s.has_min_sequence_number);
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), -1);
    assert_string_equal(err, "manifest: already closed");
    iceberg_manifest_writer_destroy(w);
    iceberg_manifest_writer_destroy(NULL);

    /* Decimal partition values beyond the precision are refused. */
    buf_reset(&file);
    o.npartition_fields = 3;
    w = iceberg_manifest_writer_create(&o, &out, err, sizeof err);
    assert_non_null(w);
    iceberg_value p3[] = {iceberg_value_string("eu", 2), iceberg_value_date(1), iceberg_value_decimal64(1000000000)};
    f.partition = p3;
    f.npartition = 3;
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), -1);
    assert_string_equal(err, "a.parquet: partition amount: decimal out of range for precision 9");
    iceberg_manifest_writer_destroy(w);

    /* A deletes manifest takes equality deletes with their ids. */
    buf_reset(&file);
    o.content = ICEBERG_MANIFEST_DELETES;
    o.npartition_fields = 0;
    w = iceberg_manifest_writer_create(&o, &out, err, sizeof err);
    assert_non_null(w);
    iceberg_data_file d = {.content = ICEBERG_CONTENT_EQUALITY_DELETES, .file_path = "d.parquet", .record_count = 1,
                           .file_size_in_bytes = 1, .equality_ids = ids, .nequality_ids = 1};
    e.file = &d;
    assert_int_equal(iceberg_manifest_writer_add(w, &e, err, sizeof err), 0);
    assert_int_equal(iceberg_manifest_writer_close(w, NULL, err, sizeof err), 0);
    iceberg_manifest_writer_destroy(w);
    expect_header(&file, "content", "deletes");
    expect_header(&file, "partition-spec", "[]");

    o.schema_json = NULL;
    assert_null(iceberg_manifest_writer_create(&o, &out, err, sizeof err));
    assert_string_equal(err, "manifest: path and table schema are required");
    buf_free(&file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_values),
        cmocka_unit_test(test_decimal_sizes_and_order),
        cmocka_unit_test(test_manifest_entry_schema),
        cmocka_unit_test(test_manifest_roundtrip),
        cmocka_unit_test(test_manifest_list_roundtrip),
        cmocka_unit_test(test_refused_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
