/* Unit tests for silver_layout, source columns onto an Iceberg schema: a new table gets field
 * ids 1..n, required identifier key columns and then the writer's columns; an existing table
 * keeps ids and order, adds a new source column as an optional field after last-column-id,
 * promotes int to long, float to double and decimal(10,2) to decimal(12,2), keeps a wider column
 * for a narrower source type, keeps a dropped column as optional (written as null), and refuses
 * other type changes, a changed primary key and a new column named like a writer's column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "capture/pg_types.h"
#include "sinks/lake/silver_layout.h"

#define NUMERIC_TYPMOD(p, s) ((((p) << 16) | (s)) + 4)

static column_def col(const char *name, uint32_t oid, int32_t typmod, int pk)
{
    column_def c = {.name = (char *)name, .type_oid = oid, .typmod = typmod, .is_pk = (uint8_t)pk};
    c.kind = pg_type_kind(oid, &c.elem_kind);
    return c;
}

static const silver_system_column SYSTEM[] = {{"valid_from", PARQUET_TYPE_TIMESTAMPTZ, false},
                                              {"valid_to", PARQUET_TYPE_TIMESTAMPTZ, true}};

static void test_new_table(void **state)
{
    (void)state;
    column_def cols[] = {col("id", 23, -1, 1), col("amount", 1700, NUMERIC_TYPMOD(10, 2), 0), col("note", 25, -1, 0)};
    table_def def = {.schema = "public", .name = "t", .ncols = 3, .cols = cols};
    silver_layout l;
    char err[256];
    assert_int_equal(silver_layout_build(&l, &def, false, NULL, 0, 0, SYSTEM, 2, true, err, sizeof err), 0);
    assert_int_equal(l.ncolumns, 5);
    assert_int_equal(l.changed, 0);
    assert_string_equal(l.fields[0].type, "int");
    assert_true(l.fields[0].required && l.fields[0].identifier);
    assert_string_equal(l.fields[1].type, "decimal(10,2)");
    assert_false(l.fields[1].required);
    assert_string_equal(l.fields[3].name, "valid_from");
    assert_int_equal(l.fields[3].id, 4);
    assert_int_equal(l.source[3], SILVER_COLUMN_SYSTEM(0));
    assert_true(l.fields[3].required);
    assert_false(l.fields[4].required);
    assert_int_equal(l.columns[1].type, PARQUET_TYPE_DECIMAL);
    assert_int_equal(l.columns[1].precision, 10);
    assert_int_equal(l.columns[2].field_id, 3);
    assert_int_equal(silver_layout_column_of(&l, 2), 2);
    silver_layout_free(&l);

    column_def bad[] = {col("id", 23, -1, 1), col("valid_to", 25, -1, 0)};
    table_def named = {.schema = "public", .name = "t", .ncols = 2, .cols = bad};
    assert_int_equal(silver_layout_build(&l, &named, false, NULL, 0, 0, SYSTEM, 2, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "valid_to"));
}

static const iceberg_schema_field EXISTING[] = {
    {1, "id", true, "int", true},
    {2, "amount", false, "decimal(10,2)", false},
    {3, "ratio", false, "float", false},
    {4, "big", false, "long", false},
    {5, "gone", true, "string", false},
};

static void test_evolution(void **state)
{
    (void)state;
    /* id int -> bigint, amount widened, ratio float8, big now int4, gone dropped, extra added. */
    column_def cols[] = {col("extra", 1082, -1, 0), col("id", 20, -1, 1), col("amount", 1700, NUMERIC_TYPMOD(12, 2), 0),
                         col("ratio", 701, -1, 0), col("big", 23, -1, 0)};
    table_def def = {.schema = "public", .name = "t", .ncols = 5, .cols = cols};
    silver_layout l;
    char err[256];
    assert_int_equal(silver_layout_build(&l, &def, true, EXISTING, 5, 7, NULL, 0, true, err, sizeof err), 0);
    assert_int_equal(l.changed, 1);
    assert_int_equal(l.ncolumns, 6);
    assert_string_equal(l.fields[0].type, "long");
    assert_string_equal(l.fields[1].type, "decimal(12,2)");
    assert_string_equal(l.fields[2].type, "double");
    assert_string_equal(l.fields[3].type, "long");   /* kept wider */
    assert_int_equal(l.source[3], 4);
    assert_string_equal(l.fields[4].name, "gone");
    assert_false(l.fields[4].required);
    assert_int_equal(l.source[4], SILVER_COLUMN_DROPPED);
    assert_string_equal(l.fields[5].name, "extra");
    assert_int_equal(l.fields[5].id, 8);   /* after last-column-id 7 */
    assert_false(l.fields[5].required);
    assert_string_equal(l.fields[5].type, "date");
    assert_int_equal(silver_layout_column_of(&l, 0), 5);
    silver_layout_free(&l);

    /* The same columns again: nothing to change. */
    column_def same[] = {col("id", 23, -1, 1), col("amount", 1700, NUMERIC_TYPMOD(10, 2), 0), col("ratio", 700, -1, 0),
                         col("big", 20, -1, 0), col("gone", 25, -1, 0)};
    table_def unchanged = {.schema = "public", .name = "t", .ncols = 5, .cols = same};
    assert_int_equal(silver_layout_build(&l, &unchanged, true, EXISTING, 5, 5, NULL, 0, true, err, sizeof err), 0);
    assert_int_equal(l.changed, 0);
    silver_layout_free(&l);
}

static void test_refused(void **state)
{
    (void)state;
    silver_layout l;
    char err[256];
    column_def text_id[] = {col("id", 25, -1, 1)};
    table_def a = {.schema = "public", .name = "t", .ncols = 1, .cols = text_id};
    assert_int_equal(silver_layout_build(&l, &a, true, EXISTING, 1, 5, NULL, 0, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "changed type from int to string"));

    column_def scale[] = {col("id", 23, -1, 1), col("amount", 1700, NUMERIC_TYPMOD(12, 3), 0)};
    table_def b = {.schema = "public", .name = "t", .ncols = 2, .cols = scale};
    assert_int_equal(silver_layout_build(&l, &b, true, EXISTING, 2, 5, NULL, 0, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "amount"));

    column_def newkey[] = {col("id", 23, -1, 1), col("k2", 23, -1, 1)};
    table_def c = {.schema = "public", .name = "t", .ncols = 2, .cols = newkey};
    assert_int_equal(silver_layout_build(&l, &c, true, EXISTING, 1, 5, NULL, 0, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "primary key changed"));

    column_def nokey[] = {col("id", 23, -1, 0)};
    table_def d = {.schema = "public", .name = "t", .ncols = 1, .cols = nokey};
    assert_int_equal(silver_layout_build(&l, &d, true, EXISTING, 1, 5, NULL, 0, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "primary key changed"));

    column_def dropped_key[] = {col("amount", 1700, NUMERIC_TYPMOD(10, 2), 0)};
    table_def e = {.schema = "public", .name = "t", .ncols = 1, .cols = dropped_key};
    assert_int_equal(silver_layout_build(&l, &e, true, EXISTING, 2, 5, NULL, 0, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "primary-key column id was dropped"));

    column_def sysname[] = {col("id", 23, -1, 1), col("valid_from", 25, -1, 0)};
    table_def f = {.schema = "public", .name = "t", .ncols = 2, .cols = sysname};
    static const iceberg_schema_field hist[] = {{1, "id", true, "int", false}};
    assert_int_equal(silver_layout_build(&l, &f, true, hist, 1, 1, SYSTEM, 2, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "valid_from"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_table),
        cmocka_unit_test(test_evolution),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
