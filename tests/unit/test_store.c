/* Unit tests for store/store: migrations (fresh, reopen, refusal of a newer schema), WAL and
 * foreign keys on, owner-only database file, typed settings (unknown keys and bad values
 * refused), secrets sealed at rest, the seeded flag and the audit log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "store/migrations.h"
#include "store/secrets.h"
#include "store/store.h"
#include "support/store_fixture.h"

static int fixture_setup(void **state)
{
    return (*state = store_fixture_create("store")) ? 0 : -1;
}

/* First column of the first row of sql as text (malloc'd), NULL when no row. */
static char *query_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    char *out = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
        out = strdup((const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return out;
}

static void test_fresh_database(void **state)
{
    store_fixture *f = *state;
    struct stat sb;
    char *v;

    assert_true(store_schema_latest() >= 1);
    assert_int_equal(store_schema_latest(), store_migrations[store_migrations_count - 1].version);
    assert_int_equal(store_schema_version(f->st), store_schema_latest());
    v = query_text(store_db(f->st), "PRAGMA user_version");
    assert_int_equal(atoi(v), store_schema_latest());
    free(v);

    v = query_text(store_db(f->st), "PRAGMA journal_mode");
    assert_string_equal(v, "wal");
    free(v);
    v = query_text(store_db(f->st), "PRAGMA foreign_keys");
    assert_string_equal(v, "1");
    free(v);
    v = query_text(store_db(f->st), "PRAGMA synchronous");
    assert_string_equal(v, "1");   /* NORMAL */
    free(v);

    /* every table of schema v1 exists */
    const char *tables[] = {"meta", "settings", "users", "sessions", "audit"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT name FROM sqlite_master WHERE type='table' AND name='%s'", tables[i]);
        v = query_text(store_db(f->st), sql);
        assert_non_null(v);
        free(v);
    }

    assert_int_equal(stat(f->db_path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_ptr_equal(store_secrets(f->st), f->sec);
    assert_int_equal(store_is_seeded(f->st), 0);
}

static void test_reopen_is_noop(void **state)
{
    store_fixture *f = *state;
    char err[512] = "", *v = NULL;
    assert_int_equal(store_setting_set(f->st, "log.level", "debug", err, sizeof err), 0);
    store_close(f->st);
    f->st = store_open(f->db_path, f->sec, err, sizeof err);
    assert_non_null(f->st);
    assert_int_equal(store_schema_version(f->st), store_schema_latest());
    assert_int_equal(store_setting_get(f->st, "log.level", &v, err, sizeof err), 0);
    assert_string_equal(v, "debug");
    free(v);
    /* a second open alongside the first (another process, the CLI) works too */
    store *other = store_open(f->db_path, f->sec, err, sizeof err);
    assert_non_null(other);
    assert_int_equal(store_schema_version(other), store_schema_latest());
    store_close(other);
    store_close(NULL);
}

static void test_newer_schema_refused(void **state)
{
    store_fixture *f = *state;
    char err[512] = "", sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_schema_latest() + 1);
    assert_int_equal(sqlite3_exec(store_db(f->st), sql, NULL, NULL, NULL), SQLITE_OK);
    store_close(f->st);
    f->st = store_open(f->db_path, f->sec, err, sizeof err);
    assert_null(f->st);
    assert_non_null(strstr(err, "newer than this sluice supports"));
    assert_non_null(strstr(err, f->db_path));

    /* put it back so teardown can close a store */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_schema_latest());
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    f->st = store_open(f->db_path, f->sec, err, sizeof err);
    assert_non_null(f->st);
}

static void test_open_errors(void **state)
{
    store_fixture *f = *state;
    char path[700], err[512] = "";
    snprintf(path, sizeof path, "%s/no/such/dir/sluice.db", f->dir);
    assert_null(store_open(path, f->sec, err, sizeof err));
    assert_non_null(strstr(err, "cannot create database"));

    /* a file that is not a database */
    snprintf(path, sizeof path, "%s/garbage.db", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an sqlite database ", fp);
    fclose(fp);
    err[0] = '\0';
    assert_null(store_open(path, f->sec, err, sizeof err));
    assert_non_null(strstr(err, path));
}

static void test_settings(void **state)
{
    store_fixture *f = *state;
    char err[512] = "", *v = (char *)"untouched";

    assert_int_equal(store_setting_get(f->st, "console.listen", &v, err, sizeof err), 0);
    assert_null(v);   /* unset: the default applies elsewhere */
    assert_int_equal(store_setting_set(f->st, "console.listen", "0.0.0.0:9000", err, sizeof err), 0);
    assert_int_equal(store_setting_get(f->st, "console.listen", &v, err, sizeof err), 0);
    assert_string_equal(v, "0.0.0.0:9000");
    free(v);
    assert_int_equal(store_setting_set(f->st, "console.listen", "[::]:9001", err, sizeof err), 0);
    assert_int_equal(store_setting_get(f->st, "console.listen", &v, err, sizeof err), 0);
    assert_string_equal(v, "[::]:9001");
    free(v);

    /* unknown key and bad value: refused, nothing stored */
    assert_int_equal(store_setting_set(f->st, "console.listn", "0.0.0.0:9000", err, sizeof err), -1);
    assert_string_equal(err, "console.listn: unknown setting");
    assert_int_equal(store_setting_get(f->st, "console.listn", &v, err, sizeof err), -1);
    assert_int_equal(store_setting_set(f->st, "console.session_ttl", "10s", err, sizeof err), -1);
    assert_non_null(strstr(err, "console.session_ttl: 10s is out of range"));
    assert_int_equal(store_setting_set(f->st, "log.level", "loud", err, sizeof err), -1);
    assert_int_equal(store_setting_get(f->st, "log.level", &v, err, sizeof err), 0);
    assert_null(v);

    /* NULL removes */
    assert_int_equal(store_setting_set(f->st, "console.listen", NULL, err, sizeof err), 0);
    assert_int_equal(store_setting_get(f->st, "console.listen", &v, err, sizeof err), 0);
    assert_null(v);
    char *count = query_text(store_db(f->st), "SELECT count(*) FROM settings");
    assert_string_equal(count, "0");
    free(count);
}

static void test_secret_sealed_at_rest(void **state)
{
    store_fixture *f = *state;
    char err[512] = "", *v = NULL;
    const char *plain = "correct horse battery staple";

    assert_int_equal(store_setting_set(f->st, "source.password", plain, err, sizeof err), 0);
    char *raw = query_text(store_db(f->st), "SELECT value FROM settings WHERE key = 'source.password'");
    assert_non_null(raw);
    assert_int_equal(strncmp(raw, "enc:v1:", 7), 0);
    assert_null(strstr(raw, plain));
    assert_null(strstr(raw, "horse"));
    free(raw);
    assert_int_equal(store_setting_get(f->st, "source.password", &v, err, sizeof err), 0);
    assert_string_equal(v, plain);
    secrets_free_plain(v);

    /* a tampered row is reported, not returned */
    assert_int_equal(sqlite3_exec(store_db(f->st),
                                  "UPDATE settings SET value = 'enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' "
                                  "WHERE key = 'source.password'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    v = NULL;
    assert_int_equal(store_setting_get(f->st, "source.password", &v, err, sizeof err), -1);
    assert_null(v);
    assert_non_null(strstr(err, "source.password"));

    /* a store opened without secrets cannot write or read secrets, but other settings work */
    store *nosec = store_open(f->db_path, NULL, err, sizeof err);
    assert_non_null(nosec);
    assert_int_equal(store_setting_set(nosec, "s3.secret_access_key", "abc", err, sizeof err), -1);
    assert_non_null(strstr(err, "no secrets key"));
    assert_int_equal(store_setting_set(nosec, "s3.region", "eu-west-1", err, sizeof err), 0);
    store_close(nosec);
}

static void test_seeded_and_audit(void **state)
{
    store_fixture *f = *state;
    assert_int_equal(store_is_seeded(f->st), 0);
    assert_int_equal(sqlite3_exec(store_db(f->st), "INSERT INTO meta (key, value) VALUES ('seeded', '1')", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(store_is_seeded(f->st), 1);

    assert_int_equal(store_audit(f->st, "admin", "setting.set", "console.listen"), 0);
    assert_int_equal(store_audit(f->st, "system", "boot", NULL), 0);
    char *v = query_text(store_db(f->st), "SELECT actor || ' ' || action || ' ' || detail FROM audit ORDER BY id");
    assert_string_equal(v, "admin setting.set console.listen");
    free(v);
    v = query_text(store_db(f->st), "SELECT count(*) FROM audit WHERE detail IS NULL AND ts > 0");
    assert_string_equal(v, "1");
    free(v);

    /* the lock is recursive: held around multi-statement work, store calls still succeed */
    store_lock(f->st);
    assert_int_equal(store_audit(f->st, "system", "nested", NULL), 0);
    store_unlock(f->st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_database, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_is_noop, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_settings, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_secret_sealed_at_rest, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_seeded_and_audit, fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
