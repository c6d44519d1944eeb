/* Unit tests for store/users: PBKDF2 hash format and cost, verification, salting, first-boot
 * admin creation, one-time (must_change) passwords and authentication of unknown users. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <mbedtls/base64.h>

#include "store/secrets.h"
#include "store/store.h"
#include "store/users.h"
#include "support/store_fixture.h"

static int fixture_setup(void **state)
{
    return (*state = store_fixture_create("users")) ? 0 : -1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_hash_format_and_cost(void **state)
{
    (void)state;
    char *h = NULL;
    assert_int_equal(password_hash("correct horse battery", &h), 0);
    assert_non_null(h);
    /* pbkdf2-sha256$<iterations>$<salt>$<hash> */
    char *copy = strdup(h), *save = NULL;
    char *scheme = strtok_r(copy, "$", &save);
    char *iter = strtok_r(NULL, "$", &save);
    char *salt = strtok_r(NULL, "$", &save);
    char *dk = strtok_r(NULL, "$", &save);
    assert_non_null(dk);
    assert_null(strtok_r(NULL, "$", &save));
    assert_string_equal(scheme, "pbkdf2-sha256");
    assert_true(atol(iter) >= 100000);
    assert_int_equal(atol(iter), USERS_PBKDF2_ITERATIONS);
    unsigned char raw[64];
    size_t n = 0;
    assert_int_equal(mbedtls_base64_decode(raw, sizeof raw, &n, (unsigned char *)salt, strlen(salt)), 0);
    assert_int_equal(n, 16);
    assert_int_equal(mbedtls_base64_decode(raw, sizeof raw, &n, (unsigned char *)dk, strlen(dk)), 0);
    assert_int_equal(n, 32);
    assert_null(strstr(h, "correct horse"));
    free(copy);
    free(h);
}

static void test_verify_right_wrong_malformed(void **state)
{
    (void)state;
    char *h = NULL;
    assert_int_equal(password_hash("s3cret-passw0rd", &h), 0);
    assert_int_equal(password_verify(h, "s3cret-passw0rd"), 1);
    assert_int_equal(password_verify(h, "s3cret-passw0rD"), 0);
    assert_int_equal(password_verify(h, ""), 0);
    assert_int_equal(password_verify("md5$abc", "x"), -1);
    assert_int_equal(password_verify("pbkdf2-sha256$zz$AAAA$AAAA", "x"), -1);
    assert_int_equal(password_verify("pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==", "x"), -1);
    assert_int_equal(password_verify("", "x"), -1);
    free(h);
}

static void test_same_password_different_salt(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL;
    assert_int_equal(password_hash("same password twice", &a), 0);
    assert_int_equal(password_hash("same password twice", &b), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(password_verify(a, "same password twice"), 1);
    assert_int_equal(password_verify(b, "same password twice"), 1);
    free(a);
    free(b);
}

static void test_roles(void **state)
{
    (void)state;
    assert_int_equal(user_role_parse("admin"), ROLE_ADMIN);
    assert_int_equal(user_role_parse("operator"), ROLE_OPERATOR);
    assert_int_equal(user_role_parse("viewer"), ROLE_VIEWER);
    assert_int_equal(user_role_parse("root"), ROLE_NONE);
    assert_int_equal(user_role_parse(NULL), ROLE_NONE);
    assert_string_equal(user_role_name(ROLE_OPERATOR), "operator");
    assert_true(ROLE_ADMIN > ROLE_OPERATOR && ROLE_OPERATOR > ROLE_VIEWER);
}

static void test_ensure_admin_once(void **state)
{
    store_fixture *f = *state;
    char err[256] = "";
    char *pw = NULL;
    user_info u;
    assert_int_equal(users_ensure_admin(f->st, &pw, err, sizeof err), 0);
    assert_non_null(pw);
    assert_int_equal(strlen(pw), 20);
    for (const char *p = pw; *p; p++)
        assert_true((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'));
    assert_int_equal(users_get(f->st, "admin", &u), 1);
    assert_string_equal(u.name, "admin");
    assert_int_equal(u.role, ROLE_ADMIN);
    assert_int_equal(u.must_change, 1);
    assert_int_equal(users_authenticate(f->st, "admin", pw, &u), 1);
    assert_int_equal(u.must_change, 1);

    char *again = (char *)"untouched";
    assert_int_equal(users_ensure_admin(f->st, &again, err, sizeof err), 0);
    assert_null(again);
    /* The first password still works: nothing was replaced. */
    assert_int_equal(users_authenticate(f->st, "admin", pw, NULL), 1);
    free(pw);
}

static void test_must_change_and_set_password(void **state)
{
    store_fixture *f = *state;
    char err[256] = "";
    user_info u;
    assert_int_equal(users_create(f->st, "alice", ROLE_OPERATOR, "first password 1", 1, err, sizeof err), 0);
    assert_int_equal(users_authenticate(f->st, "alice", "first password 1", &u), 1);
    assert_int_equal(u.must_change, 1);
    assert_int_equal(u.role, ROLE_OPERATOR);

    assert_int_equal(users_set_password(f->st, "alice", "short", 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "12"));
    assert_int_equal(users_set_password(f->st, "alice", "second password 2", 0, err, sizeof err), 0);
    assert_int_equal(users_authenticate(f->st, "alice", "first password 1", &u), 0);
    assert_int_equal(users_authenticate(f->st, "alice", "second password 2", &u), 1);
    assert_int_equal(u.must_change, 0);
    assert_int_equal(users_set_password(f->st, "nobody", "whatever password", 0, err, sizeof err), -1);

    char *onetime = NULL;
    assert_int_equal(users_reset_password(f->st, "alice", &onetime, err, sizeof err), 0);
    assert_non_null(onetime);
    assert_int_equal(strlen(onetime), 20);
    assert_int_equal(users_authenticate(f->st, "alice", "second password 2", &u), 0);
    assert_int_equal(users_authenticate(f->st, "alice", onetime, &u), 1);
    assert_int_equal(u.must_change, 1);
    free(onetime);
}

static void test_create_validation(void **state)
{
    store_fixture *f = *state;
    char err[256] = "";
    assert_int_equal(users_create(f->st, "bob", ROLE_VIEWER, "long enough password", 0, err, sizeof err), 0);
    assert_int_equal(users_create(f->st, "bob", ROLE_VIEWER, "long enough password", 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "exists"));
    assert_int_equal(users_create(f->st, "", ROLE_VIEWER, "long enough password", 0, err, sizeof err), -1);
    assert_int_equal(users_create(f->st, "bad name", ROLE_VIEWER, "long enough password", 0, err, sizeof err), -1);
    assert_int_equal(users_create(f->st, "carol", ROLE_NONE, "long enough password", 0, err, sizeof err), -1);
    assert_int_equal(users_create(f->st, "carol", ROLE_VIEWER, "short", 0, err, sizeof err), -1);
    user_info u;
    assert_int_equal(users_get(f->st, "carol", &u), 0);
    assert_int_equal(users_get(f->st, "bob", &u), 1);
    assert_int_equal(u.role, ROLE_VIEWER);
}

static void test_hash_stored_not_password(void **state)
{
    store_fixture *f = *state;
    char err[256] = "";
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(users_create(f->st, "dave", ROLE_ADMIN, "plain text never stored", 0, err, sizeof err), 0);
    assert_int_equal(sqlite3_prepare_v2(store_db(f->st), "SELECT password_hash FROM users WHERE name = 'dave'",
                                        -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    const char *h = (const char *)sqlite3_column_text(stmt, 0);
    assert_non_null(h);
    assert_int_equal(strncmp(h, "pbkdf2-sha256$", 14), 0);
    assert_null(strstr(h, "plain text"));
    assert_int_equal(password_verify(h, "plain text never stored"), 1);
    sqlite3_finalize(stmt);
}

static void test_unknown_user_same_work(void **state)
{
    store_fixture *f = *state;
    char err[256] = "";
    assert_int_equal(users_create(f->st, "erin", ROLE_VIEWER, "erin's password", 0, err, sizeof err), 0);
    double t0 = now_seconds();
    assert_int_equal(users_authenticate(f->st, "erin", "wrong password!", NULL), 0);
    double known = now_seconds() - t0;
    t0 = now_seconds();
    assert_int_equal(users_authenticate(f->st, "nobody-here", "wrong password!", NULL), 0);
    double unknown = now_seconds() - t0;
    t0 = now_seconds();
    assert_int_equal(users_authenticate(f->st, "not a valid name!", "wrong password!", NULL), 0);
    double invalid = now_seconds() - t0;
    /* Both paths run the full PBKDF2; generous bounds keep this stable on a busy machine. */
    assert_true(unknown > known * 0.4);
    assert_true(invalid > known * 0.4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_format_and_cost),
        cmocka_unit_test(test_verify_right_wrong_malformed),
        cmocka_unit_test(test_same_password_different_salt),
        cmocka_unit_test(test_roles),
        cmocka_unit_test_setup_teardown(test_ensure_admin_once, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_must_change_and_set_password, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_create_validation, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_hash_stored_not_password, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_user_same_work, fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
