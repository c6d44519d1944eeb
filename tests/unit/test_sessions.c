/* Unit tests for store/sessions: create, look up and expire sessions with controlled time, the
 * token stored only as its SHA-256, logout, and sessions ending when a password is reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mbedtls/sha256.h>

#include "store/secrets.h"
#include "store/sessions.h"
#include "store/store.h"
#include "store/users.h"
#include "support/store_fixture.h"

static int fixture_setup(void **state)
{
    store_fixture *f = store_fixture_create("sessions");
    char err[256] = "";
    if (!f)
        return -1;
    if (users_create(f->st, "ann", ROLE_OPERATOR, "ann's long password", 0, err, sizeof err) < 0 ||
        users_create(f->st, "ben", ROLE_VIEWER, "ben's long password", 1, err, sizeof err) < 0) {
        fprintf(stderr, "users_create: %s\n", err);
        store_fixture_destroy(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int count_sessions(store *st)
{
    sqlite3_stmt *stmt = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(store_db(st), "SELECT count(*) FROM sessions", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

static void test_create_lookup_expire(void **state)
{
    store_fixture *f = *state;
    char token[SESSION_TOKEN_LEN + 1];
    user_info u;
    assert_int_equal(sessions_create(f->st, "ann", 1000, 60, token), 0);
    assert_int_equal(strlen(token), SESSION_TOKEN_LEN);
    for (const char *p = token; *p; p++)
        assert_true((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'));

    memset(&u, 0, sizeof u);
    assert_int_equal(sessions_lookup(f->st, token, 1000, &u), 1);
    assert_string_equal(u.name, "ann");
    assert_int_equal(u.role, ROLE_OPERATOR);
    assert_int_equal(u.must_change, 0);
    assert_int_equal(sessions_lookup(f->st, token, 1059, &u), 1);
    assert_int_equal(sessions_lookup(f->st, token, 1060, &u), 0);   /* expired at created + ttl */
    assert_int_equal(sessions_lookup(f->st, token, 5000, &u), 0);

    assert_int_equal(count_sessions(f->st), 1);
    assert_int_equal(sessions_expire(f->st, 1059), 0);
    assert_int_equal(count_sessions(f->st), 1);
    assert_int_equal(sessions_expire(f->st, 1060), 1);
    assert_int_equal(count_sessions(f->st), 0);
    assert_int_equal(sessions_lookup(f->st, token, 1000, &u), 0);
}

static void test_token_not_stored(void **state)
{
    store_fixture *f = *state;
    char token[SESSION_TOKEN_LEN + 1];
    sqlite3_stmt *stmt = NULL;
    unsigned char digest[32];
    char hex[65];
    assert_int_equal(sessions_create(f->st, "ann", 1000, 600, token), 0);
    assert_int_equal(sqlite3_prepare_v2(store_db(f->st), "SELECT token_hash FROM sessions", -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    const char *stored = (const char *)sqlite3_column_text(stmt, 0);
    assert_non_null(stored);
    assert_null(strstr(stored, token));
    assert_int_equal(mbedtls_sha256_ret((const unsigned char *)token, strlen(token), digest, 0), 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    assert_string_equal(stored, hex);
    sqlite3_finalize(stmt);

    /* Presenting the stored hash as a cookie must not work. */
    user_info u;
    assert_int_equal(sessions_lookup(f->st, hex, 1000, &u), 0);
}

static void test_bad_tokens_and_logout(void **state)
{
    store_fixture *f = *state;
    char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1];
    user_info u;
    assert_int_equal(sessions_lookup(f->st, NULL, 1000, &u), 0);
    assert_int_equal(sessions_lookup(f->st, "", 1000, &u), 0);
    assert_int_equal(sessions_lookup(f->st, "short", 1000, &u), 0);
    assert_int_equal(sessions_lookup(f->st, "' OR 1=1 --aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1000, &u), 0);

    assert_int_equal(sessions_create(f->st, "ann", 1000, 600, a), 0);
    assert_int_equal(sessions_create(f->st, "ann", 1000, 600, b), 0);
    assert_string_not_equal(a, b);
    char wrong[SESSION_TOKEN_LEN + 1];
    memcpy(wrong, a, sizeof wrong);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    assert_int_equal(sessions_lookup(f->st, wrong, 1000, &u), 0);

    assert_int_equal(sessions_delete(f->st, a), 0);
    assert_int_equal(sessions_lookup(f->st, a, 1000, &u), 0);
    assert_int_equal(sessions_lookup(f->st, b, 1000, &u), 1);
    assert_int_equal(sessions_delete(f->st, "not-a-token"), 0);
}

static void test_must_change_and_password_events(void **state)
{
    store_fixture *f = *state;
    char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1], c[SESSION_TOKEN_LEN + 1];
    char err[256] = "";
    user_info u;
    assert_int_equal(sessions_create(f->st, "ben", 1000, 600, a), 0);
    assert_int_equal(sessions_lookup(f->st, a, 1000, &u), 1);
    assert_int_equal(u.must_change, 1);
    assert_int_equal(u.role, ROLE_VIEWER);

    /* The lookup reflects the user's current state, not the one at login. */
    assert_int_equal(users_set_password(f->st, "ben", "ben's new password", 0, err, sizeof err), 0);
    assert_int_equal(sessions_lookup(f->st, a, 1000, &u), 1);
    assert_int_equal(u.must_change, 0);

    /* A password change ends every other session of the user. */
    assert_int_equal(sessions_create(f->st, "ben", 1000, 600, b), 0);
    assert_int_equal(sessions_create(f->st, "ann", 1000, 600, c), 0);
    assert_int_equal(sessions_delete_user(f->st, "ben", a), 1);
    assert_int_equal(sessions_lookup(f->st, a, 1000, &u), 1);
    assert_int_equal(sessions_lookup(f->st, b, 1000, &u), 0);
    assert_int_equal(sessions_lookup(f->st, c, 1000, &u), 1);

    /* A reset by an administrator ends all of them. */
    char *onetime = NULL;
    assert_int_equal(users_reset_password(f->st, "ben", &onetime, err, sizeof err), 0);
    free(onetime);
    assert_int_equal(sessions_lookup(f->st, a, 1000, &u), 0);
    assert_int_equal(sessions_lookup(f->st, c, 1000, &u), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_lookup_expire, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_token_not_stored, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bad_tokens_and_logout, fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_must_change_and_password_events, fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
