/* Unit tests for store/secrets: key file creation and its permission and size checks,
 * seal/unseal round trips, fresh nonces, and refusal of tampered values and wrong keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/secrets.h"
#include "support/store_fixture.h"

static void tmpdir_make(char *dir, size_t len)
{
    assert_non_null(store_fixture_tmpdir(dir, len, "secrets"));
}

static secrets *key_open(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return secrets_create(path, err, errlen);
}

static void test_key_created_owner_only(void **state)
{
    (void)state;
    char dir[600], path[1024], err[256] = "";
    struct stat sb;
    tmpdir_make(dir, sizeof dir);
    secrets *s = key_open(dir, "secret.key", err, sizeof err);
    assert_non_null(s);
    snprintf(path, sizeof path, "%s/secret.key", dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 32);
    secrets_destroy(s);
    secrets_destroy(NULL);
}

static void test_round_trip(void **state)
{
    (void)state;
    char dir[600], err[256] = "";
    char *sealed = NULL, *sealed2 = NULL, *plain = NULL;
    tmpdir_make(dir, sizeof dir);
    secrets *s = key_open(dir, "secret.key", err, sizeof err);
    assert_non_null(s);

    const char *values[] = {"hunter2", "", "p@ss w0rd with \"quotes\" and unicode \xc3\xa9",
                            "a much longer secret value that spans more than one AES block of sixteen bytes"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        assert_int_equal(secrets_seal(s, values[i], &sealed, err, sizeof err), 0);
        assert_true(secrets_is_sealed(sealed));
        assert_int_equal(strncmp(sealed, "enc:v1:", 7), 0);
        if (values[i][0])
            assert_null(strstr(sealed, values[i]));
        assert_int_equal(secrets_unseal(s, sealed, &plain, err, sizeof err), 0);
        assert_string_equal(plain, values[i]);
        secrets_free_plain(plain);
        free(sealed);
    }

    /* a fresh nonce each time: the same value seals differently */
    assert_int_equal(secrets_seal(s, "same", &sealed, err, sizeof err), 0);
    assert_int_equal(secrets_seal(s, "same", &sealed2, err, sizeof err), 0);
    assert_string_not_equal(sealed, sealed2);
    free(sealed);
    free(sealed2);

    /* reopening the same key file reads the same key */
    assert_int_equal(secrets_seal(s, "persisted", &sealed, err, sizeof err), 0);
    secrets_destroy(s);
    s = key_open(dir, "secret.key", err, sizeof err);
    assert_non_null(s);
    assert_int_equal(secrets_unseal(s, sealed, &plain, err, sizeof err), 0);
    assert_string_equal(plain, "persisted");
    secrets_free_plain(plain);
    free(sealed);
    secrets_free_plain(NULL);
    secrets_destroy(s);
}

static void test_is_sealed(void **state)
{
    (void)state;
    assert_true(secrets_is_sealed("enc:v1:AAAA"));
    assert_false(secrets_is_sealed("enc:v2:AAAA"));
    assert_false(secrets_is_sealed("hunter2"));
    assert_false(secrets_is_sealed(NULL));
}

static void test_tampered_rejected(void **state)
{
    (void)state;
    char dir[600], err[256] = "";
    char *sealed = NULL, *plain = NULL;
    tmpdir_make(dir, sizeof dir);
    secrets *s = key_open(dir, "secret.key", err, sizeof err);
    assert_non_null(s);
    assert_int_equal(secrets_seal(s, "top secret value", &sealed, err, sizeof err), 0);

    /* flip one base64 character in the ciphertext part (after prefix and nonce) */
    size_t pos = 7 + 20;
    char *bad = strdup(sealed);
    bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
    err[0] = '\0';
    assert_int_equal(secrets_unseal(s, bad, &plain, err, sizeof err), -1);
    assert_null(plain);
    assert_non_null(strstr(err, "does not decrypt"));
    free(bad);

    /* truncated, not base64, not sealed at all */
    bad = strdup(sealed);
    bad[strlen(bad) - 8] = '\0';
    assert_int_equal(secrets_unseal(s, bad, &plain, err, sizeof err), -1);
    free(bad);
    assert_int_equal(secrets_unseal(s, "enc:v1:AAAA", &plain, err, sizeof err), -1);
    assert_non_null(strstr(err, "too short"));
    assert_int_equal(secrets_unseal(s, "enc:v1:!!!not base64!!!", &plain, err, sizeof err), -1);
    assert_non_null(strstr(err, "base64"));
    assert_int_equal(secrets_unseal(s, "hunter2", &plain, err, sizeof err), -1);
    assert_non_null(strstr(err, "not sealed"));
    assert_null(plain);
    free(sealed);
    secrets_destroy(s);
}

static void test_wrong_key_rejected(void **state)
{
    (void)state;
    char dir[600], err[256] = "";
    char *sealed = NULL, *plain = NULL;
    tmpdir_make(dir, sizeof dir);
    secrets *a = key_open(dir, "a.key", err, sizeof err);
    secrets *b = key_open(dir, "b.key", err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(secrets_seal(a, "for a only", &sealed, err, sizeof err), 0);
    assert_int_equal(secrets_unseal(b, sealed, &plain, err, sizeof err), -1);
    assert_null(plain);
    assert_non_null(strstr(err, "wrong key"));
    free(sealed);
    secrets_destroy(a);
    secrets_destroy(b);
}

static void test_key_file_checks(void **state)
{
    (void)state;
    char dir[600], path[1024], err[512] = "";
    tmpdir_make(dir, sizeof dir);
    secrets *s = key_open(dir, "secret.key", err, sizeof err);
    assert_non_null(s);
    secrets_destroy(s);
    snprintf(path, sizeof path, "%s/secret.key", dir);

    /* readable by group and others: refused, with the mode and the fix in the message */
    assert_int_equal(chmod(path, 0644), 0);
    err[0] = '\0';
    assert_null(key_open(dir, "secret.key", err, sizeof err));
    assert_non_null(strstr(err, "0644"));
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(path, 0640), 0);
    assert_null(key_open(dir, "secret.key", err, sizeof err));
    assert_int_equal(chmod(path, 0600), 0);

    /* wrong size */
    snprintf(path, sizeof path, "%s/short.key", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("only sixteen byt", f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    err[0] = '\0';
    assert_null(key_open(dir, "short.key", err, sizeof err));
    assert_non_null(strstr(err, "16 bytes, expected 32"));

    /* a directory where the key should be */
    snprintf(path, sizeof path, "%s/dir.key", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_null(key_open(dir, "dir.key", err, sizeof err));

    /* a key file in a directory that does not exist */
    assert_null(key_open(dir, "missing/secret.key", err, sizeof err));
    assert_non_null(strstr(err, "missing"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_created_owner_only),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_is_sealed),
        cmocka_unit_test(test_tampered_rejected),
        cmocka_unit_test(test_wrong_key_rejected),
        cmocka_unit_test(test_key_file_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
