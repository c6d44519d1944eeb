/* Unit tests for silver_state, the silver writer's live-row index: the open batch's changes are
 * seen through the delta (put, remove, put again) but do not touch the committed rows until
 * applied; apply moves them and records the snapshot; discard drops them; settle after a
 * "crash" (the database closed and reopened) applies a batch whose pending snapshot made it into
 * the table and drops one that did not; rows_each walks the committed rows; data file ids map
 * back to their paths; tables are independent of one another. The key filter in front of the
 * lookups never hides a row: keys put before and after the filter is built, keys only in the
 * delta when it is built, keys past its first capacity (a rebuild), after apply and after a
 * reopen are all found, and keys never put are not. Dropping a batch that replaced a committed
 * row twice, or removed one and put it again, brings back the committed version. A database of
 * the first layout (the open batch in a silver_delta table) is converted when opened: its batch is
 * applied or dropped by settle like any other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "sinks/lake/silver_state.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    silver_state *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/silver-state-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/silver.db", f->dir);
    char err[256];
    f->s = silver_state_open(f->path, err, sizeof err);
    *state = f;
    return f->s ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    silver_state_close(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    char err[256];
    silver_state_close(f->s);
    f->s = silver_state_open(f->path, err, sizeof err);
    assert_non_null(f->s);
}

static void put(fixture *f, int64_t tbl, const char *key, int64_t file, int64_t pos, const char *image)
{
    char err[256];
    silver_state_row r = {file, pos, image, strlen(image), "x", 1};
    assert_int_equal(silver_state_row_put(f->s, tbl, key, strlen(key), &r, err, sizeof err), 0);
}

/* 1 with *pos (and the image checked) when key is live, 0 when not. */
static int find(fixture *f, int64_t tbl, const char *key, int64_t *pos, const char *image)
{
    char err[256];
    silver_state_row r;
    int rc = silver_state_row_find(f->s, tbl, key, strlen(key), &r, err, sizeof err);
    assert_true(rc >= 0);
    if (rc == 1) {
        *pos = r.pos;
        if (image) {
            assert_int_equal(r.image_len, strlen(image));
            assert_memory_equal(r.image, image, r.image_len);
        }
        assert_int_equal(r.extra_len, 1);
    }
    return rc;
}

static void test_batch_apply_and_discard(void **state)
{
    fixture *f = *state;
    char err[256];
    silver_state_table t, u;
    int64_t pos;
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    assert_int_equal(silver_state_table_get(f->s, "public.line", &u, err, sizeof err), 0);
    assert_true(t.id != u.id);
    assert_int_equal(t.snapshot_id, 0);
    assert_int_equal(t.pending_snapshot, 0);

    put(f, t.id, "k1", 1, 10, "one");
    put(f, t.id, "k2", 1, 11, "two");
    put(f, u.id, "k1", 2, 0, "other table");
    assert_int_equal(find(f, t.id, "k1", &pos, "one"), 1);
    assert_int_equal(pos, 10);
    assert_int_equal(silver_state_row_remove(f->s, t.id, "k2", 2, err, sizeof err), 0);
    assert_int_equal(find(f, t.id, "k2", &pos, NULL), 0);
    put(f, t.id, "k1", 1, 12, "one again");
    assert_int_equal(find(f, t.id, "k1", &pos, "one again"), 1);
    assert_int_equal(pos, 12);

    assert_int_equal(silver_state_pending_set(f->s, t.id, 77, err, sizeof err), 0);
    assert_int_equal(silver_state_apply(f->s, t.id, 77, err, sizeof err), 0);
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    assert_int_equal(t.snapshot_id, 77);
    assert_int_equal(t.pending_snapshot, 0);
    assert_int_equal(find(f, t.id, "k1", &pos, "one again"), 1);
    assert_int_equal(find(f, t.id, "k2", &pos, NULL), 0);

    /* A batch that is dropped leaves the committed rows as they were. */
    assert_int_equal(silver_state_row_remove(f->s, t.id, "k1", 2, err, sizeof err), 0);
    put(f, t.id, "k3", 1, 13, "three");
    assert_int_equal(silver_state_discard(f->s, t.id, err, sizeof err), 0);
    assert_int_equal(find(f, t.id, "k1", &pos, "one again"), 1);
    assert_int_equal(find(f, t.id, "k3", &pos, NULL), 0);
    /* The other table's batch is its own. */
    assert_int_equal(find(f, u.id, "k1", &pos, "other table"), 1);
}

static void test_settle_after_crash(void **state)
{
    fixture *f = *state;
    char err[256];
    silver_state_table t;
    int64_t pos;
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    put(f, t.id, "a", 1, 0, "A");
    assert_int_equal(silver_state_pending_set(f->s, t.id, 5, err, sizeof err), 0);
    reopen(f);   /* the commit's answer never came */
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    assert_int_equal(t.pending_snapshot, 5);
    assert_int_equal(silver_state_settle(f->s, &t, 1, err, sizeof err), 0);   /* snapshot 5 is in the table */
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    assert_int_equal(t.snapshot_id, 5);
    assert_int_equal(find(f, t.id, "a", &pos, "A"), 1);

    put(f, t.id, "b", 1, 1, "B");
    assert_int_equal(silver_state_pending_set(f->s, t.id, 6, err, sizeof err), 0);
    reopen(f);
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    assert_int_equal(silver_state_settle(f->s, &t, 0, err, sizeof err), 0);   /* snapshot 6 is not */
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    assert_int_equal(t.snapshot_id, 5);
    assert_int_equal(t.pending_snapshot, 0);
    assert_int_equal(find(f, t.id, "b", &pos, NULL), 0);

    /* Changes never marked pending vanish with the crash. */
    put(f, t.id, "c", 1, 2, "C");
    assert_int_equal(silver_state_sync(f->s, err, sizeof err), 0);
    reopen(f);
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    assert_int_equal(silver_state_settle(f->s, &t, 0, err, sizeof err), 0);
    assert_int_equal(find(f, t.id, "c", &pos, NULL), 0);
    assert_int_equal(find(f, t.id, "a", &pos, "A"), 1);
}

static void test_discard_restores_first_version(void **state)
{
    fixture *f = *state;
    char err[256];
    silver_state_table t;
    int64_t pos;
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    put(f, t.id, "x", 1, 1, "x1");
    put(f, t.id, "y", 1, 2, "y1");
    assert_int_equal(silver_state_pending_set(f->s, t.id, 3, err, sizeof err), 0);
    assert_int_equal(silver_state_apply(f->s, t.id, 3, err, sizeof err), 0);
    put(f, t.id, "x", 2, 5, "x2");
    put(f, t.id, "x", 2, 6, "x3");
    assert_int_equal(silver_state_row_remove(f->s, t.id, "y", 1, err, sizeof err), 0);
    put(f, t.id, "y", 2, 7, "y2");
    put(f, t.id, "z", 2, 8, "z1");
    assert_int_equal(silver_state_row_remove(f->s, t.id, "z", 1, err, sizeof err), 0);
    assert_int_equal(silver_state_sync(f->s, err, sizeof err), 0);
    reopen(f);   /* a crash after a sync in the middle of the batch */
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    assert_int_equal(silver_state_settle(f->s, &t, 0, err, sizeof err), 0);
    assert_int_equal(find(f, t.id, "x", &pos, "x1"), 1);
    assert_int_equal(pos, 1);
    assert_int_equal(find(f, t.id, "y", &pos, "y1"), 1);
    assert_int_equal(find(f, t.id, "z", &pos, NULL), 0);
    /* the next batch is applied as usual */
    put(f, t.id, "x", 3, 9, "x4");
    assert_int_equal(silver_state_pending_set(f->s, t.id, 4, err, sizeof err), 0);
    assert_int_equal(silver_state_apply(f->s, t.id, 4, err, sizeof err), 0);
    assert_int_equal(silver_state_discard(f->s, t.id, err, sizeof err), 0);   /* nothing open: no change */
    assert_int_equal(find(f, t.id, "x", &pos, "x4"), 1);
    assert_int_equal(find(f, t.id, "y", &pos, "y1"), 1);
}

/* A database of the first layout with committed rows a (tbl 1), b (tbl 1) and an open batch that
 * replaced a, removed b and added c, pending as snapshot 9. */
static void v1_create(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *sql =
        "CREATE TABLE silver_tables (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
        "  snapshot_id INTEGER NOT NULL DEFAULT 0, pending_snapshot INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE silver_files (id INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, path TEXT NOT NULL);"
        "CREATE TABLE silver_rows (tbl INTEGER NOT NULL, key BLOB NOT NULL, file INTEGER NOT NULL, "
        "  pos INTEGER NOT NULL, image BLOB, extra BLOB, PRIMARY KEY (tbl, key)) WITHOUT ROWID;"
        "CREATE TABLE silver_delta (tbl INTEGER NOT NULL, key BLOB NOT NULL, deleted INTEGER NOT NULL, "
        "  file INTEGER, pos INTEGER, image BLOB, extra BLOB, PRIMARY KEY (tbl, key)) WITHOUT ROWID;"
        "INSERT INTO silver_tables VALUES (1, 'public.acct', 8, 9);"
        "INSERT INTO silver_rows VALUES (1, CAST('a' AS BLOB), 1, 1, CAST('A' AS BLOB), CAST('x' AS BLOB));"
        "INSERT INTO silver_rows VALUES (1, CAST('b' AS BLOB), 1, 2, CAST('B' AS BLOB), CAST('x' AS BLOB));"
        "INSERT INTO silver_delta VALUES (1, CAST('a' AS BLOB), 0, 2, 1, CAST('A2' AS BLOB), CAST('x' AS BLOB));"
        "INSERT INTO silver_delta VALUES (1, CAST('b' AS BLOB), 1, NULL, NULL, NULL, NULL);"
        "INSERT INTO silver_delta VALUES (1, CAST('c' AS BLOB), 0, 2, 2, CAST('C' AS BLOB), CAST('x' AS BLOB));";
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_first_layout_converted(void **state)
{
    fixture *f = *state;
    char err[256];
    silver_state_table t;
    int64_t pos;
    for (int committed = 0; committed < 2; committed++) {
        char side[160];
        silver_state_close(f->s);
        unlink(f->path);
        snprintf(side, sizeof side, "%s-wal", f->path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", f->path);
        unlink(side);
        v1_create(f->path);
        f->s = silver_state_open(f->path, err, sizeof err);
        if (!f->s)
            fail_msg("%s", err);
        assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
        assert_int_equal(t.snapshot_id, 8);
        assert_int_equal(t.pending_snapshot, 9);
        assert_int_equal(silver_state_settle(f->s, &t, committed, err, sizeof err), 0);
        if (committed) {
            assert_int_equal(find(f, t.id, "a", &pos, "A2"), 1);
            assert_int_equal(find(f, t.id, "b", &pos, NULL), 0);
            assert_int_equal(find(f, t.id, "c", &pos, "C"), 1);
        } else {
            assert_int_equal(find(f, t.id, "a", &pos, "A"), 1);
            assert_int_equal(find(f, t.id, "b", &pos, "B"), 1);
            assert_int_equal(find(f, t.id, "c", &pos, NULL), 0);
        }
        /* and it goes on like a new one: a batch, reopened */
        put(f, t.id, "d", 3, 1, "D");
        assert_int_equal(silver_state_pending_set(f->s, t.id, 10, err, sizeof err), 0);
        assert_int_equal(silver_state_apply(f->s, t.id, 10, err, sizeof err), 0);
        reopen(f);
        assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
        assert_int_equal(silver_state_settle(f->s, &t, 0, err, sizeof err), 0);
        assert_int_equal(find(f, t.id, "d", &pos, "D"), 1);
        assert_int_equal(find(f, t.id, "a", &pos, committed ? "A2" : "A"), 1);
    }
}

static int count_row(void *arg, const void *key, size_t keylen, const silver_state_row *row)
{
    (void)key, (void)keylen, (void)row;
    (*(int *)arg)++;
    return 0;
}

static void test_rows_each_and_files(void **state)
{
    fixture *f = *state;
    char err[256], path[256];
    silver_state_table t;
    int64_t a, b;
    assert_int_equal(silver_state_table_get(f->s, "public.acct", &t, err, sizeof err), 0);
    assert_int_equal(silver_state_file_add(f->s, t.id, "file:///lake/t/data/x-00000.parquet", &a, err, sizeof err), 0);
    assert_int_equal(silver_state_file_add(f->s, t.id, "file:///lake/t/data/x-00001.parquet", &b, err, sizeof err), 0);
    assert_true(a != b);
    assert_int_equal(silver_state_file_path(f->s, b, path, sizeof path, err, sizeof err), 0);
    assert_string_equal(path, "file:///lake/t/data/x-00001.parquet");
    assert_int_equal(silver_state_file_path(f->s, b + 100, path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "no data file"));
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        put(f, t.id, key, a, i, "v");
    }
    assert_int_equal(silver_state_pending_set(f->s, t.id, 9, err, sizeof err), 0);
    assert_int_equal(silver_state_apply(f->s, t.id, 9, err, sizeof err), 0);
    int n = 0;
    assert_int_equal(silver_state_rows_each(f->s, t.id, count_row, &n, err, sizeof err), 0);
    assert_int_equal(n, 50);
}

static void test_key_filter_never_hides_a_row(void **state)
{
    fixture *f = *state;
    char err[256], key[32];
    silver_state_table t;
    int64_t pos;
    assert_int_equal(silver_state_table_get(f->s, "public.big", &t, err, sizeof err), 0);
    /* committed keys 0..99999, then delta keys 100000..100099 before the first lookup */
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "%d", i);
        put(f, t.id, key, 1, i, "v");
    }
    assert_int_equal(silver_state_pending_set(f->s, t.id, 5, err, sizeof err), 0);
    assert_int_equal(silver_state_apply(f->s, t.id, 5, err, sizeof err), 0);
    for (int i = 100000; i < 100100; i++) {
        snprintf(key, sizeof key, "%d", i);
        put(f, t.id, key, 2, i, "w");
    }
    assert_int_equal(find(f, t.id, "100050", &pos, "w"), 1);   /* the filter is built here */
    assert_int_equal(pos, 100050);
    /* puts after the build: past the first capacity (2 x 100100), so it is rebuilt on the way */
    for (int i = 100100; i < 330000; i++) {
        snprintf(key, sizeof key, "%d", i);
        put(f, t.id, key, 3, i, "x");
        if (i % 50000 == 0) {
            assert_int_equal(find(f, t.id, key, &pos, "x"), 1);
            assert_int_equal(pos, i);
        }
    }
    for (int i = 0; i < 330000; i += 997) {
        snprintf(key, sizeof key, "%d", i);
        assert_int_equal(find(f, t.id, key, &pos, NULL), 1);
        assert_int_equal(pos, i);
    }
    int absent = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "n%d", i);
        absent += find(f, t.id, key, &pos, NULL) == 0;
    }
    assert_int_equal(absent, 1000);
    assert_int_equal(silver_state_pending_set(f->s, t.id, 6, err, sizeof err), 0);
    assert_int_equal(silver_state_apply(f->s, t.id, 6, err, sizeof err), 0);
    reopen(f);
    assert_int_equal(silver_state_table_get(f->s, "public.big", &t, err, sizeof err), 0);
    for (int i = 1; i < 330000; i += 1009) {
        snprintf(key, sizeof key, "%d", i);
        assert_int_equal(find(f, t.id, key, &pos, NULL), 1);
        assert_int_equal(pos, i);
    }
    assert_int_equal(find(f, t.id, "330000", &pos, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_apply_and_discard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settle_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_each_and_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_filter_never_hides_a_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discard_restores_first_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_layout_converted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
