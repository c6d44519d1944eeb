/* Unit tests for the Iceberg SQL catalog in SQLite and table commits: create, load, a
 * compare-and-swap against a stale location returns conflict and leaves the row as it was;
 * two appends through iceberg_table give two snapshots with parent links and sequence numbers
 * 1 and 2, the catalog's previous location, and a metadata JSON with the v2 fields; an append
 * whose catalog row moved on under it (a stale expected location) retries and still commits.
 * Row deltas: a commit of data and position-delete files (caller's snapshot id, extra summary
 * pairs) is an "overwrite", deletes alone a "delete", with added/total delete counts carried
 * from the parent; a reused snapshot id and an empty commit are refused; the metadata accessors
 * (has_snapshot, summary_get, schema_fields, last_column_id) and add_snapshot's checks
 * (operation against content, a summary key given twice). */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objstore/objstore_local.h"
#include "sinks/lake/iceberg_catalog_sqlite.h"
#include "sinks/lake/iceberg_table.h"
#include "support/store_fixture.h"

static int setup(void **state)
{
    *state = store_fixture_create("iceberg-catalog");
    return *state ? 0 : -1;
}

static void test_cas(void **state)
{
    store_fixture *f = *state;
    char err[256], *loc = NULL;
    iceberg_catalog *c = iceberg_catalog_sqlite_create(f->st, "sluice", err, sizeof err);
    assert_non_null(c);
    iceberg_table_ident t = {"shop", "orders"};
    assert_int_equal(iceberg_catalog_load_table(c, &t, &loc, err, sizeof err), ICEBERG_CATALOG_NOT_FOUND);
    assert_int_equal(iceberg_catalog_commit(c, &t, NULL, "file:///x/v1.metadata.json", err, sizeof err),
                     ICEBERG_CATALOG_OK);
    assert_int_equal(iceberg_catalog_commit(c, &t, NULL, "file:///x/v9.metadata.json", err, sizeof err),
                     ICEBERG_CATALOG_CONFLICT);
    assert_int_equal(iceberg_catalog_commit(c, &t, "file:///x/v1.metadata.json", "file:///x/v2.metadata.json",
                                            err, sizeof err),
                     ICEBERG_CATALOG_OK);
    /* A writer that started from v1 loses, and nothing changes. */
    assert_int_equal(iceberg_catalog_commit(c, &t, "file:///x/v1.metadata.json", "file:///x/v2b.metadata.json",
                                            err, sizeof err),
                     ICEBERG_CATALOG_CONFLICT);
    assert_non_null(strstr(err, "conflict"));
    assert_int_equal(iceberg_catalog_load_table(c, &t, &loc, err, sizeof err), ICEBERG_CATALOG_OK);
    assert_string_equal(loc, "file:///x/v2.metadata.json");
    free(loc);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->st),
                                        "SELECT previous_metadata_location FROM iceberg_tables"
                                        " WHERE catalog_name = 'sluice' AND table_namespace = 'shop'"
                                        " AND table_name = 'orders'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "file:///x/v1.metadata.json");
    sqlite3_finalize(q);
    /* Another catalog name is another namespace of tables. */
    iceberg_catalog *other = iceberg_catalog_sqlite_create(f->st, "other", err, sizeof err);
    assert_int_equal(iceberg_catalog_load_table(other, &t, &loc, err, sizeof err), ICEBERG_CATALOG_NOT_FOUND);
    iceberg_catalog_destroy(other);
    iceberg_catalog_destroy(c);
}

/* A catalog double that makes the first commit conflict after moving the row on itself. */
typedef struct racing {
    iceberg_catalog base;
    iceberg_catalog *inner;
    int raced;
} racing;

static int racing_load(iceberg_catalog *c, const iceberg_table_ident *t, char **loc, char *err, size_t errlen)
{
    return iceberg_catalog_load_table(((racing *)c)->inner, t, loc, err, errlen);
}

static int racing_commit(iceberg_catalog *c, const iceberg_table_ident *t, const char *expected,
                         const char *new_location, char *err, size_t errlen)
{
    racing *r = (racing *)c;
    if (!r->raced && expected) {
        r->raced = 1;
        return ICEBERG_CATALOG_CONFLICT;
    }
    return iceberg_catalog_commit(r->inner, t, expected, new_location, err, errlen);
}

static void racing_destroy(iceberg_catalog *c)
{
    (void)c;
}

static const iceberg_catalog_ops racing_ops = {racing_load, racing_commit, racing_destroy};

static void test_two_appends(void **state)
{
    store_fixture *f = *state;
    char err[256], dir[700], location[1200];
    snprintf(dir, sizeof dir, "%s/lake", f->dir);
    objstore *os = objstore_local_create(dir, err, sizeof err);
    assert_non_null(os);
    iceberg_catalog *cat = iceberg_catalog_sqlite_create(f->st, "sluice", err, sizeof err);
    racing rc = {{&racing_ops}, cat, 0};
    snprintf(location, sizeof location, "%s/db/t", objstore_describe(os));
    iceberg_table_ref t = {os, location, "db/t", &rc.base, {"db", "t"}};
    iceberg_schema_field fields[] = {{1, "id", true, "long", true}, {2, "name", false, "string", false}};
    iceberg_table_spec spec = {location, "11111111-2222-4333-8444-555555555555", fields, 2, NULL, 0};
    iceberg_commit_result res;
    assert_int_equal(iceberg_table_create(&t, &spec, 1000, &res, err, sizeof err), 0);
    assert_int_equal(res.version, 1);
    assert_int_equal(iceberg_table_create(&t, &spec, 1000, &res, err, sizeof err), -1);   /* exists */

    char path[1300];
    snprintf(path, sizeof path, "%s/data/a.parquet", location);
    iceberg_column_stats cs = {.field_id = 1, .has_value_count = true, .value_count = 10};
    iceberg_file_stats st = {.columns = &cs, .ncolumns = 1};
    iceberg_append_file file = {path, 10, 1234, &st};
    rc.raced = 1;   /* the first append goes through */
    assert_int_equal(iceberg_table_append(&t, &file, 1, "0/10", 2000, &res, err, sizeof err), 0);
    assert_int_equal(res.sequence_number, 1);
    assert_int_equal(res.version, 2);
    assert_int_equal(res.attempts, 1);
    int64_t first = res.snapshot_id;
    rc.raced = 0;   /* the second conflicts once and retries */
    iceberg_append_file file2 = {path, 5, 99, NULL};
    assert_int_equal(iceberg_table_append(&t, &file2, 1, NULL, 3000, &res, err, sizeof err), 0);
    assert_int_equal(res.attempts, 2);
    assert_int_equal(res.sequence_number, 2);

    char *loc = NULL;
    iceberg_metadata *m = iceberg_table_load(&t, &loc, err, sizeof err);
    assert_non_null(m);
    assert_string_equal(loc, res.metadata_location);
    iceberg_snapshot_info si;
    assert_int_equal(iceberg_metadata_current_snapshot(m, &si, err, sizeof err), 1);
    assert_true(si.snapshot_id == res.snapshot_id);
    assert_true(si.has_parent && si.parent_snapshot_id == first);
    assert_int_equal(si.sequence_number, 2);
    assert_int_equal(si.total_records, 15);
    assert_int_equal(si.total_data_files, 2);
    assert_null(si.lsn);
    assert_int_equal(iceberg_metadata_snapshot_count(m), 2);
    assert_int_equal(iceberg_metadata_last_sequence_number(m), 2);

    char *text = iceberg_metadata_dump(m);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    static const char *const keys[] = {"format-version", "table-uuid", "location", "last-sequence-number",
                                       "last-updated-ms", "last-column-id", "schemas", "current-schema-id",
                                       "partition-specs", "default-spec-id", "last-partition-id",
                                       "sort-orders", "default-sort-order-id", "properties",
                                       "current-snapshot-id", "refs", "snapshots", "snapshot-log",
                                       "metadata-log"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(json_object_get(j, keys[i]));
    assert_int_equal(json_integer_value(json_object_get(j, "format-version")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "table-uuid")), spec.table_uuid);
    assert_int_equal(json_integer_value(json_object_get(j, "last-column-id")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "metadata-log")), 2);
    json_t *s1 = json_array_get(json_object_get(j, "snapshots"), 0);
    assert_null(json_object_get(s1, "parent-snapshot-id"));
    assert_int_equal(json_integer_value(json_object_get(s1, "sequence-number")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(s1, "summary"), "sluice.lsn")), "0/10");
    assert_string_equal(json_string_value(json_object_get(json_object_get(s1, "summary"), "operation")), "append");
    json_t *ids = json_object_get(json_array_get(json_object_get(j, "schemas"), 0), "identifier-field-ids");
    assert_int_equal(json_integer_value(json_array_get(ids, 0)), 1);
    json_decref(j);
    free(text);
    free(loc);
    iceberg_metadata_destroy(m);
    iceberg_catalog_destroy(cat);
    objstore_destroy(os);
}

static void test_row_delta(void **state)
{
    store_fixture *f = *state;
    char err[256], dir[700], location[1200], pa[1300], pd[1300];
    snprintf(dir, sizeof dir, "%s/lake", f->dir);
    objstore *os = objstore_local_create(dir, err, sizeof err);
    assert_non_null(os);
    iceberg_catalog *cat = iceberg_catalog_sqlite_create(f->st, "sluice", err, sizeof err);
    racing rc = {{&racing_ops}, cat, 1};
    snprintf(location, sizeof location, "%s/db/d", objstore_describe(os));
    iceberg_table_ref t = {os, location, "db/d", &rc.base, {"db", "d"}};
    iceberg_schema_field fields[] = {{1, "id", true, "long", true}, {3, "name", false, "string", false}};
    iceberg_table_spec spec = {location, NULL, fields, 2, NULL, 0};
    assert_int_equal(iceberg_table_create(&t, &spec, 1000, NULL, err, sizeof err), 0);
    snprintf(pa, sizeof pa, "%s/data/a.parquet", location);
    snprintf(pd, sizeof pd, "%s/data/a-deletes.parquet", location);
    iceberg_append_file data = {pa, 10, 1000, NULL, NULL};
    iceberg_append_file dels = {pd, 3, 200, NULL, pa};
    iceberg_commit_result res;

    iceberg_commit_files empty = {0};
    assert_int_equal(iceberg_table_commit(&t, &empty, 2000, &res, err, sizeof err), -1);
    const char *pairs[] = {"sluice.seq", "7"};
    iceberg_commit_files c1 = {.snapshot_id = 77, .data = &data, .ndata = 1, .deletes = &dels, .ndeletes = 1,
                               .lsn = "0/20", .summary = pairs, .nsummary = 1};
    rc.raced = 0;   /* conflicts once: the manifests are reused, the backoff sleeps */
    assert_int_equal(iceberg_table_commit(&t, &c1, 2000, &res, err, sizeof err), 0);
    assert_int_equal(res.attempts, 2);
    assert_true(res.snapshot_id == 77);
    assert_int_equal(res.sequence_number, 1);
    assert_int_equal(iceberg_table_commit(&t, &c1, 2500, &res, err, sizeof err), -1);   /* id 77 again */
    assert_non_null(strstr(err, "77"));
    iceberg_commit_files c2 = {.deletes = &dels, .ndeletes = 1};
    assert_int_equal(iceberg_table_commit(&t, &c2, 3000, &res, err, sizeof err), 0);
    assert_int_equal(res.sequence_number, 2);

    iceberg_metadata *m = iceberg_table_load(&t, NULL, err, sizeof err);
    assert_non_null(m);
    iceberg_snapshot_info si;
    assert_int_equal(iceberg_metadata_current_snapshot(m, &si, err, sizeof err), 1);
    assert_string_equal(si.operation, "delete");
    assert_int_equal(si.total_delete_files, 2);
    assert_int_equal(si.total_position_deletes, 6);
    assert_int_equal(si.total_records, 10);
    assert_int_equal(si.total_data_files, 1);
    assert_int_equal(si.total_files_size, 1400);
    assert_true(iceberg_metadata_has_snapshot(m, 77));
    assert_true(iceberg_metadata_has_snapshot(m, res.snapshot_id));
    assert_false(iceberg_metadata_has_snapshot(m, 78));
    assert_string_equal(iceberg_metadata_summary_get(m, "added-position-deletes"), "3");
    assert_null(iceberg_metadata_summary_get(m, "added-data-files"));
    assert_null(iceberg_metadata_summary_get(m, "sluice.seq"));   /* the current snapshot's only */
    assert_int_equal(iceberg_metadata_last_column_id(m), 3);
    iceberg_schema_field *sf;
    size_t n;
    assert_int_equal(iceberg_metadata_schema_fields(m, &sf, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(sf[0].id, 1);
    assert_string_equal(sf[0].name, "id");
    assert_string_equal(sf[0].type, "long");
    assert_true(sf[0].required && sf[0].identifier);
    assert_int_equal(sf[1].id, 3);
    assert_string_equal(sf[1].name, "name");
    assert_string_equal(sf[1].type, "string");
    assert_false(sf[1].required || sf[1].identifier);
    free(sf);

    /* The first snapshot's summary, through the JSON. */
    char *text = iceberg_metadata_dump(m);
    json_t *j = json_loads(text, 0, NULL);
    json_t *s1 = json_object_get(json_array_get(json_object_get(j, "snapshots"), 0), "summary");
    assert_string_equal(json_string_value(json_object_get(s1, "operation")), "overwrite");
    assert_string_equal(json_string_value(json_object_get(s1, "added-delete-files")), "1");
    assert_string_equal(json_string_value(json_object_get(s1, "added-position-delete-files")), "1");
    assert_string_equal(json_string_value(json_object_get(s1, "added-position-deletes")), "3");
    assert_string_equal(json_string_value(json_object_get(s1, "added-files-size")), "1200");
    assert_string_equal(json_string_value(json_object_get(s1, "sluice.seq")), "7");
    assert_string_equal(json_string_value(json_object_get(s1, "sluice.lsn")), "0/20");
    json_decref(j);
    free(text);

    /* add_snapshot's checks. */
    iceberg_snapshot_add bad = {.snapshot_id = 5, .manifest_list = "file:///l.avro", .operation = "append",
                                .added_position_delete_files = 1, .added_position_deletes = 1};
    assert_int_equal(iceberg_metadata_add_snapshot(m, &bad, NULL, 4000, err, sizeof err), -1);
    assert_non_null(strstr(err, "append"));
    bad.operation = "merge";
    assert_int_equal(iceberg_metadata_add_snapshot(m, &bad, NULL, 4000, err, sizeof err), -1);
    const char *twice[] = {"total-records", "1"};
    bad.operation = NULL;
    bad.summary = twice;
    bad.nsummary = 1;
    assert_int_equal(iceberg_metadata_add_snapshot(m, &bad, NULL, 4000, err, sizeof err), -1);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(iceberg_metadata_snapshot_count(m), 2);
    iceberg_metadata_destroy(m);
    iceberg_catalog_destroy(cat);
    objstore_destroy(os);
}

static void test_metadata_errors(void **state)
{
    (void)state;
    char err[256];
    assert_null(iceberg_metadata_parse("{\"format-version\": 1}", 21, err, sizeof err));
    assert_non_null(strstr(err, "format-version 2"));
    iceberg_schema_field bad[] = {{1, "id", false, "long", true}};
    iceberg_table_spec spec = {"file:///t", NULL, bad, 1, NULL, 0};
    assert_null(iceberg_metadata_create(&spec, 0, err, sizeof err));
    assert_non_null(strstr(err, "identifier"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cas, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_two_appends, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_row_delta, setup, store_fixture_teardown),
        cmocka_unit_test(test_metadata_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
