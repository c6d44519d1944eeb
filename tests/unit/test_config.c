/* Unit tests for store/config: the effective-value snapshot (defaults, store values, secrets
 * unsealed), typed accessors, diff, first-boot seeding, and export/import of the whole store
 * (no plaintext secrets, a faithful round trip, validation that changes nothing on failure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/config.h"
#include "store/secrets.h"
#include "store/store.h"
#include "store/users.h"
#include "support/store_fixture.h"

#define HASH_A "pbkdf2-sha256$210000$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g="
#define HASH_B "pbkdf2-sha256$210000$b3RoZXJzYWx0b3RoZXJzYQ==$b3RoZXJoYXNob3RoZXJoYXNob3RoZXJoYXNob3RoZXI="

static int fixture_setup(void **state)
{
    return (*state = store_fixture_create("config")) ? 0 : -1;
}

static void set(store *st, const char *key, const char *value)
{
    char err[512] = "";
    if (store_setting_set(st, key, value, err, sizeof err) < 0)
        fail_msg("store_setting_set %s: %s", key, err);
}

static void user_add(store *st, const char *name, const char *role, const char *hash, int must_change)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(st),
                                        "INSERT INTO users (name, role, password_hash, must_change, created_at, "
                                        "updated_at) VALUES (?1, ?2, ?3, ?4, 1, 1)",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, must_change);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
}

static char *export_text(store *st)
{
    buf out = BUF_INIT;
    char err[512] = "";
    if (config_export(st, &out, err, sizeof err) < 0)
        fail_msg("config_export: %s", err);
    return buf_take(&out);
}

static char *raw_setting(store *st, const char *key)
{
    sqlite3_stmt *stmt = NULL;
    char *out = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT value FROM settings WHERE key = ?1", -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        out = strdup((const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return out;
}

static void test_load_defaults_and_values(void **state)
{
    store_fixture *f = *state;
    char err[512] = "";
    config *c = config_load(f->st, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(config_get(c, "console.listen"), "127.0.0.1:8080");
    assert_string_equal(config_get(c, "log.level"), "info");
    assert_string_equal(config_get(c, "log.format"), "logfmt");
    assert_string_equal(config_get(c, "source.slot"), "sluice");
    assert_string_equal(config_get(c, "s3.region"), "us-east-1");
    assert_null(config_get(c, "source.conninfo"));
    assert_null(config_get(c, "source.password"));
    assert_null(config_get(c, "no.such_key"));
    assert_int_equal(config_duration_ms(c, "console.session_ttl"), 12LL * 3600 * 1000);
    assert_int_equal(config_duration_ms(c, "source.conninfo"), 0);
    assert_int_equal(config_bool(c, "source.conninfo"), 0);
    assert_int_equal(config_int(c, "source.conninfo"), 0);
    config_destroy(c);

    set(f->st, "console.session_ttl", "90m");
    set(f->st, "source.password", "pg-pass");
    set(f->st, "source.conninfo", "host=db dbname=app");
    c = config_load(f->st, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(config_duration_ms(c, "console.session_ttl"), 90LL * 60 * 1000);
    assert_string_equal(config_get(c, "source.password"), "pg-pass");
    assert_string_equal(config_get(c, "source.conninfo"), "host=db dbname=app");
    config_destroy(c);
    config_destroy(NULL);

    /* a setting no module declares any more is ignored; a bad stored value is reported */
    assert_int_equal(sqlite3_exec(store_db(f->st),
                                  "INSERT INTO settings VALUES ('old.gone', 'x', 1)", NULL, NULL, NULL),
                     SQLITE_OK);
    c = config_load(f->st, err, sizeof err);
    assert_non_null(c);
    config_destroy(c);
    assert_int_equal(sqlite3_exec(store_db(f->st),
                                  "UPDATE settings SET value = 'loud' WHERE key = 'console.session_ttl'", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    assert_null(config_load(f->st, err, sizeof err));
    assert_non_null(strstr(err, "console.session_ttl"));
}

static void test_diff(void **state)
{
    store_fixture *f = *state;
    char err[512] = "";
    buf out = BUF_INIT;
    config *a = config_load(f->st, err, sizeof err);
    config *b = config_load(f->st, err, sizeof err);
    config_diff(a, b, &out);
    assert_int_equal(out.len, 0);
    config_destroy(b);

    set(f->st, "log.level", "debug");
    set(f->st, "log.format", "logfmt");   /* same as the default: no change */
    set(f->st, "source.password", "x");
    b = config_load(f->st, err, sizeof err);
    config_diff(a, b, &out);
    assert_string_equal(out.data, "log.level,source.password");
    buf_free(&out);
    config_destroy(a);
    config_destroy(b);
}

static void test_seed(void **state)
{
    store_fixture *f = *state;
    char err[512] = "", *v = NULL;
    conf_entries e = {0};

    conf_entries_add(&e, "console.listen", "0.0.0.0:80", "f:1");
    conf_entries_add(&e, "s3.secret_access_key", "wJalrXUtnFEMI", "f:2");
    conf_entries_add(&e, "console.listen", "0.0.0.0:81", "environment SLUICE_CONSOLE_LISTEN");   /* env wins */
    assert_int_equal(store_is_seeded(f->st), 0);
    assert_int_equal(config_seed(f->st, &e, err, sizeof err), 0);
    assert_int_equal(store_is_seeded(f->st), 1);
    assert_int_equal(store_setting_get(f->st, "console.listen", &v, err, sizeof err), 0);
    assert_string_equal(v, "0.0.0.0:81");
    free(v);
    char *raw = raw_setting(f->st, "s3.secret_access_key");
    assert_true(secrets_is_sealed(raw));
    assert_null(strstr(raw, "wJalrXUtnFEMI"));
    free(raw);
    assert_int_equal(store_setting_get(f->st, "s3.secret_access_key", &v, err, sizeof err), 0);
    assert_string_equal(v, "wJalrXUtnFEMI");
    secrets_free_plain(v);

    /* only once */
    assert_int_equal(config_seed(f->st, &e, err, sizeof err), -1);
    assert_non_null(strstr(err, "already seeded"));
    conf_entries_free(&e);

    /* a bad entry applies nothing and leaves the store unseeded */
    store *st2 = store_fixture_open(f, "second.db");
    conf_entries_add(&e, "log.level", "debug", "f:1");
    conf_entries_add(&e, "log.levle", "debug", "f:2");
    assert_int_equal(config_seed(st2, &e, err, sizeof err), -1);
    assert_string_equal(err, "f:2: log.levle: unknown setting");
    assert_int_equal(store_is_seeded(st2), 0);
    assert_null(raw_setting(st2, "log.level"));
    conf_entries_free(&e);

    /* empty seed still marks the store seeded */
    assert_int_equal(config_seed(st2, &e, err, sizeof err), 0);
    assert_int_equal(store_is_seeded(st2), 1);
    store_close(st2);
}

static void populate(store *st)
{
    set(st, "console.listen", "0.0.0.0:8443");
    set(st, "source.conninfo", "postgresql://sluice@db/app");
    set(st, "source.password", "pg-secret-123");
    set(st, "s3.secret_access_key", "aws-secret-456");
    set(st, "s3.bucket", "my-lake");
    user_add(st, "admin", "admin", HASH_A, 0);
    user_add(st, "alice", "viewer", HASH_B, 1);
}

static void test_export(void **state)
{
    store_fixture *f = *state;
    populate(f->st);
    char *text = export_text(f->st);
    assert_null(strstr(text, "pg-secret-123"));
    assert_null(strstr(text, "aws-secret-456"));
    assert_non_null(strstr(text, "\"source.password\": \"enc:v1:"));
    assert_non_null(strstr(text, "\"s3.secret_access_key\": \"enc:v1:"));
    assert_non_null(strstr(text, "\"format\": \"sluice-store\""));
    assert_non_null(strstr(text, "\"version\": 1"));
    assert_non_null(strstr(text, "\"console.listen\": \"0.0.0.0:8443\""));
    assert_non_null(strstr(text, HASH_B));
    assert_non_null(strstr(text, "\"must_change\": true"));
    /* keys sorted: format < settings < users < version; settings in key order */
    char *fmt = strstr(text, "\"format\""), *settings = strstr(text, "\"settings\""),
         *users = strstr(text, "\"users\""), *version = strstr(text, "\"version\"");
    assert_true(fmt < settings && settings < users && users < version);
    assert_true(strstr(text, "\"console.listen\"") < strstr(text, "\"s3.bucket\""));
    assert_true(strstr(text, "\"s3.bucket\"") < strstr(text, "\"source.conninfo\""));
    assert_true(strstr(text, "\"admin\"") < strstr(text, "\"alice\""));
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
}

static void test_export_import_round_trip(void **state)
{
    store_fixture *f = *state;
    conf_problems p = {0};
    char err[512] = "", *v = NULL;
    populate(f->st);
    char *first = export_text(f->st);

    store *fresh = store_fixture_open(f, "fresh.db");
    if (config_import(fresh, first, &p) != 0) {
        conf_problems_print(&p, stderr);
        fail();
    }
    assert_int_equal(p.n, 0);
    char *second = export_text(fresh);
    assert_string_equal(first, second);
    assert_int_equal(store_is_seeded(fresh), 1);
    assert_int_equal(store_setting_get(fresh, "source.password", &v, err, sizeof err), 0);
    assert_string_equal(v, "pg-secret-123");
    secrets_free_plain(v);

    /* importing again over itself changes nothing either */
    assert_int_equal(config_import(fresh, second, &p), 0);
    char *third = export_text(fresh);
    assert_string_equal(first, third);
    store_close(fresh);
    free(first);
    free(second);
    free(third);
}

static void test_import_replaces(void **state)
{
    store_fixture *f = *state;
    conf_problems p = {0};
    char err[512] = "", *v = NULL;
    populate(f->st);
    set(f->st, "log.level", "debug");
    /* a session for alice, who is dropped by the import: it goes with her */
    assert_int_equal(sqlite3_exec(store_db(f->st),
                                  "INSERT INTO sessions VALUES ('h1', 'alice', 1, 99999999999);"
                                  "INSERT INTO sessions VALUES ('h2', 'admin', 1, 99999999999)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    const char *doc = "{\"format\": \"sluice-store\", \"version\": 1,"
                      " \"settings\": {\"s3.secret_access_key\": \"plain-text-key\", \"log.format\": \"json\"},"
                      " \"users\": [{\"name\": \"admin\", \"role\": \"admin\", \"password_hash\": \"" HASH_A "\","
                      " \"must_change\": false}, {\"name\": \"bob\", \"role\": \"operator\", \"password_hash\": \""
                      HASH_B "\"}]}";
    if (config_import(f->st, doc, &p) != 0) {
        conf_problems_print(&p, stderr);
        fail();
    }
    assert_null(raw_setting(f->st, "log.level"));          /* replaced, not merged */
    assert_null(raw_setting(f->st, "source.password"));
    v = raw_setting(f->st, "log.format");
    assert_string_equal(v, "json");
    free(v);
    v = raw_setting(f->st, "s3.secret_access_key");        /* plain text gets sealed */
    assert_true(secrets_is_sealed(v));
    free(v);
    assert_int_equal(store_setting_get(f->st, "s3.secret_access_key", &v, err, sizeof err), 0);
    assert_string_equal(v, "plain-text-key");
    secrets_free_plain(v);

    char *text = export_text(f->st);
    assert_null(strstr(text, "alice"));
    assert_non_null(strstr(text, "\"bob\""));
    assert_non_null(strstr(text, "\"operator\""));
    free(text);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->st), "SELECT group_concat(token_hash) FROM sessions", -1,
                                        &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "h2");   /* admin unchanged: kept */
    sqlite3_finalize(stmt);
}

/* Import doc into the fixture store; it must fail with a problem mentioning key and message,
 * and the store's export must be unchanged. */
static void expect_import_refused(store_fixture *f, const char *doc, const char *key, const char *message_part)
{
    conf_problems p = {0};
    char *before = export_text(f->st);
    assert_int_equal(config_import(f->st, doc, &p), -1);
    int found = 0;
    for (size_t i = 0; i < p.n; i++) {
        assert_string_equal(p.items[i].where, "import");
        if (((!key && !p.items[i].key) || (key && p.items[i].key && strcmp(key, p.items[i].key) == 0)) &&
            strstr(p.items[i].message, message_part))
            found = 1;
    }
    if (!found) {
        conf_problems_print(&p, stderr);
        fail_msg("no problem with key %s and message '%s'", key ? key : "(none)", message_part);
    }
    char *after = export_text(f->st);
    assert_string_equal(before, after);
    free(before);
    free(after);
    conf_problems_free(&p);
}

#define DOC_HEAD "{\"format\": \"sluice-store\", \"version\": 1, "
#define USERS_OK "\"users\": [{\"name\": \"admin\", \"role\": \"admin\", \"password_hash\": \"" HASH_A "\"}]"

static void test_import_refused(void **state)
{
    store_fixture *f = *state;
    populate(f->st);

    /* unknown key: nothing changes, even though the other values are fine */
    expect_import_refused(f,
                          DOC_HEAD "\"settings\": {\"log.level\": \"debug\", \"console.listn\": \"1.2.3.4:80\"}, "
                                   USERS_OK "}",
                          "console.listn", "unknown setting");
    expect_import_refused(f, DOC_HEAD "\"settings\": {\"console.session_ttl\": \"1s\"}, " USERS_OK "}",
                          "console.session_ttl", "out of range");
    expect_import_refused(f, DOC_HEAD "\"settings\": {\"log.level\": 3}, " USERS_OK "}", "log.level",
                          "must be a string");
    expect_import_refused(f, "{\"format\": \"other\", \"version\": 1, \"settings\": {}, " USERS_OK "}", NULL,
                          "not a Sluice export");
    expect_import_refused(f, "{\"format\": \"sluice-store\", \"version\": 2, \"settings\": {}, " USERS_OK "}",
                          NULL, "unsupported export version");
    expect_import_refused(f, DOC_HEAD "\"settings\": {}}", NULL, "\"users\" must be an array");
    expect_import_refused(f, DOC_HEAD "\"settings\": {}, " USERS_OK ", \"extra\": 1}", NULL,
                          "unknown member 'extra'");
    expect_import_refused(f, "{\"format\": ", NULL, "not valid JSON");
    expect_import_refused(f, "[1, 2]", NULL, "must be a JSON object");

    /* users */
    expect_import_refused(f,
                          DOC_HEAD "\"settings\": {}, \"users\": [{\"name\": \"root\", \"role\": \"god\", "
                                   "\"password_hash\": \"" HASH_A "\"}]}",
                          "users[0]", "\"role\" must be admin, operator or viewer");
    expect_import_refused(f,
                          DOC_HEAD "\"settings\": {}, \"users\": [{\"name\": \"admin\", \"role\": \"admin\", "
                                   "\"password_hash\": \"hunter2\"}]}",
                          "users[0]", "pbkdf2-sha256$");
    expect_import_refused(f,
                          DOC_HEAD "\"settings\": {}, \"users\": [{\"name\": \"admin\", \"role\": \"admin\", "
                                   "\"password_hash\": \"pbkdf2-sha256$x$YQ==$YQ==\"}]}",
                          "users[0]", "password_hash");
    expect_import_refused(f,
                          DOC_HEAD "\"settings\": {}, \"users\": [{\"name\": \"a\", \"role\": \"admin\", "
                                   "\"password_hash\": \"" HASH_A "\"}, {\"name\": \"a\", \"role\": \"viewer\", "
                                   "\"password_hash\": \"" HASH_A "\"}]}",
                          "users[1]", "duplicate user 'a'");
    expect_import_refused(f,
                          DOC_HEAD "\"settings\": {}, \"users\": [{\"name\": \"v\", \"role\": \"viewer\", "
                                   "\"password_hash\": \"" HASH_A "\"}]}",
                          NULL, "no user has the admin role");
}

/* A hash made by users.c passes the import's format check. */
static void test_import_real_hash(void **state)
{
    store_fixture *f = *state;
    conf_problems p = {0};
    char *hash = NULL, doc[1024];
    assert_int_equal(password_hash("a password", &hash), 0);
    snprintf(doc, sizeof doc,
             DOC_HEAD "\"settings\": {}, \"users\": [{\"name\": \"admin\", \"role\": \"admin\", "
                      "\"password_hash\": \"%s\", \"must_change\": true}]}",
             hash);
    if (config_import(f->st, doc, &p) != 0) {
        conf_problems_print(&p, stderr);
        fail();
    }
    char *text = export_text(f->st);
    assert_non_null(strstr(text, hash));
    free(text);
    free(hash);
}

static void test_import_foreign_secret(void **state)
{
    store_fixture *f = *state;
    char path[700], err[512] = "", *sealed = NULL, doc[2048];
    snprintf(path, sizeof path, "%s/other.key", f->dir);
    secrets *other = secrets_create(path, err, sizeof err);
    assert_non_null(other);
    assert_int_equal(secrets_seal(other, "from elsewhere", &sealed, err, sizeof err), 0);
    snprintf(doc, sizeof doc, DOC_HEAD "\"settings\": {\"source.password\": \"%s\"}, " USERS_OK "}", sealed);
    expect_import_refused(f, doc, "source.password", "does not decrypt with this key");
    free(sealed);
    secrets_destroy(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_defaults_and_values, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_diff, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_seed, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_export, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_export_import_round_trip, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_import_replaces, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_import_refused, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_import_real_hash, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_import_foreign_secret, fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
