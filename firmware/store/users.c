/* users: console accounts in the store's users table (see users.h). Passwords are hashed with
 * PBKDF2-HMAC-SHA256 (mbedTLS) and a 16-byte random salt; verification is constant time, and
 * authenticating an unknown user costs the same work as a known one. */
#include "store/users.h"

#include <mbedtls/base64.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/random.h"

#define USERS_SALT_LEN 16
#define USERS_HASH_LEN 32
#define USERS_HASH_MAX 64              /* longest derived key accepted when verifying */
#define USERS_ITERATIONS_MAX 10000000u  /* refuse absurd counts in a stored hash */
#define USERS_ONETIME_LEN 20
#define USERS_PASSWORD_MIN 12
#define USERS_PASSWORD_MAX 1024
#define USERS_HASH_PREFIX "pbkdf2-sha256$"

/* Used for unknown users so that authentication spends the same PBKDF2 work. */
static const char users_dummy_hash[] =
    "pbkdf2-sha256$210000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

const char *user_role_name(user_role r)
{
    switch (r) {
    case ROLE_VIEWER:
        return "viewer";
    case ROLE_OPERATOR:
        return "operator";
    case ROLE_ADMIN:
        return "admin";
    default:
        return "none";
    }
}

user_role user_role_parse(const char *s)
{
    if (!s)
        return ROLE_NONE;
    if (strcmp(s, "viewer") == 0)
        return ROLE_VIEWER;
    if (strcmp(s, "operator") == 0)
        return ROLE_OPERATOR;
    if (strcmp(s, "admin") == 0)
        return ROLE_ADMIN;
    return ROLE_NONE;
}

/* PBKDF2-HMAC-SHA256 of password with salt into out (outlen bytes). 0 or -1. */
static int users_pbkdf2(const char *password, const unsigned char *salt, size_t saltlen,
                        unsigned iterations, unsigned char *out, size_t outlen)
{
    mbedtls_md_context_t md;
    int rc = -1;
    mbedtls_md_init(&md);
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (!info || mbedtls_md_setup(&md, info, 1) != 0)
        goto out;
    if (mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, strlen(password), salt,
                                  saltlen, iterations, (uint32_t)outlen, out) != 0)
        goto out;
    rc = 0;
out:
    mbedtls_md_free(&md);
    return rc;
}

int password_hash(const char *password, char **out)
{
    unsigned char salt[USERS_SALT_LEN], dk[USERS_HASH_LEN];
    unsigned char salt64[32], dk64[64];
    size_t salt64len = 0, dk64len = 0;
    int rc = -1;
    *out = NULL;
    if (!password || random_bytes(salt, sizeof salt) < 0)
        goto out;
    if (users_pbkdf2(password, salt, sizeof salt, USERS_PBKDF2_ITERATIONS, dk, sizeof dk) < 0)
        goto out;
    if (mbedtls_base64_encode(salt64, sizeof salt64, &salt64len, salt, sizeof salt) != 0 ||
        mbedtls_base64_encode(dk64, sizeof dk64, &dk64len, dk, sizeof dk) != 0)
        goto out;
    size_t need = strlen(USERS_HASH_PREFIX) + 12 + salt64len + dk64len + 3;
    *out = malloc(need);
    if (!*out)
        goto out;
    snprintf(*out, need, USERS_HASH_PREFIX "%u$%.*s$%.*s", (unsigned)USERS_PBKDF2_ITERATIONS,
             (int)salt64len, (const char *)salt64, (int)dk64len, (const char *)dk64);
    rc = 0;
out:
    mbedtls_platform_zeroize(dk, sizeof dk);
    return rc;
}

int password_verify(const char *stored, const char *password)
{
    unsigned char salt[64], want[USERS_HASH_MAX + 8], got[USERS_HASH_MAX];
    size_t saltlen = 0, wantlen = 0;
    int rc = -1;
    if (!stored || !password || strncmp(stored, USERS_HASH_PREFIX, strlen(USERS_HASH_PREFIX)) != 0)
        goto out;
    const char *p = stored + strlen(USERS_HASH_PREFIX);
    char *end = NULL;
    unsigned long iterations = strtoul(p, &end, 10);
    if (end == p || *end != '$' || iterations < 1 || iterations > USERS_ITERATIONS_MAX)
        goto out;
    const char *salt64 = end + 1;
    const char *dollar = strchr(salt64, '$');
    if (!dollar)
        goto out;
    const char *dk64 = dollar + 1;
    if (mbedtls_base64_decode(salt, sizeof salt, &saltlen, (const unsigned char *)salt64,
                              (size_t)(dollar - salt64)) != 0 ||
        saltlen == 0)
        goto out;
    if (mbedtls_base64_decode(want, sizeof want, &wantlen, (const unsigned char *)dk64,
                              strlen(dk64)) != 0 ||
        wantlen < 16 || wantlen > USERS_HASH_MAX)
        goto out;
    if (users_pbkdf2(password, salt, saltlen, (unsigned)iterations, got, wantlen) < 0)
        goto out;
    rc = mbedtls_ct_memcmp(got, want, wantlen) == 0 ? 1 : 0;
out:
    mbedtls_platform_zeroize(got, sizeof got);
    return rc;
}

/* A user name: 1..USERS_NAME_MAX characters from [A-Za-z0-9._@-]. */
static int users_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > USERS_NAME_MAX)
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@'))
            return 0;
    }
    return 1;
}

static int users_password_check(const char *password, char *err, size_t errlen)
{
    size_t n = password ? strlen(password) : 0;
    if (n < USERS_PASSWORD_MIN) {
        snprintf(err, errlen, "password must be at least %d characters", USERS_PASSWORD_MIN);
        return -1;
    }
    if (n > USERS_PASSWORD_MAX) {
        snprintf(err, errlen, "password must be at most %d characters", USERS_PASSWORD_MAX);
        return -1;
    }
    return 0;
}

int users_create(store *st, const char *name, user_role role, const char *password, int must_change,
                 char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    char *hash = NULL;
    int rc = -1, locked = 0;
    if (!users_name_valid(name)) {
        snprintf(err, errlen, "invalid user name (1-%d characters of A-Z a-z 0-9 . _ - @)",
                 USERS_NAME_MAX);
        goto out;
    }
    if (role == ROLE_NONE) {
        snprintf(err, errlen, "invalid role");
        goto out;
    }
    if (users_password_check(password, err, errlen) < 0)
        goto out;
    if (password_hash(password, &hash) < 0) {
        snprintf(err, errlen, "cannot hash password");
        goto out;
    }
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    locked = 1;
    sqlite3 *db = store_db(st);
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO users (name, role, password_hash, must_change, created_at, "
                           "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &stmt, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, user_role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, must_change ? 1 : 0);
    sqlite3_bind_int64(stmt, 5, now);
    sqlite3_bind_int64(stmt, 6, now);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_CONSTRAINT) {
        snprintf(err, errlen, "user %s already exists", name);
        goto out;
    }
    if (step != SQLITE_DONE) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(stmt);
    if (locked)
        store_unlock(st);
    free(hash);
    return rc;
}

int users_set_password(store *st, const char *name, const char *password, int must_change,
                       char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    char *hash = NULL;
    int rc = -1, locked = 0;
    if (users_password_check(password, err, errlen) < 0)
        goto out;
    if (password_hash(password, &hash) < 0) {
        snprintf(err, errlen, "cannot hash password");
        goto out;
    }
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    locked = 1;
    sqlite3 *db = store_db(st);
    if (sqlite3_prepare_v2(db,
                           "UPDATE users SET password_hash = ?, must_change = ?, updated_at = ? "
                           "WHERE name = ? RETURNING 1",
                           -1, &stmt, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, must_change ? 1 : 0);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
    sqlite3_bind_text(stmt, 4, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);   /* a row back means the user exists */
    if (step == SQLITE_DONE) {
        snprintf(err, errlen, "no such user: %s", name);
        goto out;
    }
    if (step != SQLITE_ROW || sqlite3_step(stmt) != SQLITE_DONE) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(stmt);
    if (locked)
        store_unlock(st);
    free(hash);
    return rc;
}

/* Remove every session of name (its credentials changed). */
static void users_sessions_drop(store *st, const char *name)
{
    sqlite3_stmt *stmt = NULL;
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    if (sqlite3_prepare_v2(store_db(st), "DELETE FROM sessions WHERE user_name = ?", -1, &stmt,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
        sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    store_unlock(st);
}

int users_reset_password(store *st, const char *name, char **onetime, char *err, size_t errlen)
{
    char pw[USERS_ONETIME_LEN + 1];
    int rc = -1;
    *onetime = NULL;
    if (random_token(pw, USERS_ONETIME_LEN) < 0) {
        snprintf(err, errlen, "cannot read random bytes");
        goto out;
    }
    if (users_set_password(st, name, pw, 1, err, errlen) < 0)
        goto out;
    users_sessions_drop(st, name);
    *onetime = strdup(pw);
    if (!*onetime) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    mbedtls_platform_zeroize(pw, sizeof pw);
    return rc;
}

int users_ensure_admin(store *st, char **onetime, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    char pw[USERS_ONETIME_LEN + 1];
    int rc = -1;
    *onetime = NULL;
    store_lock(st);
    sqlite3 *db = store_db(st);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM users", -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_column_int64(stmt, 0) > 0) {
        rc = 0;
        goto out;
    }
    if (random_token(pw, USERS_ONETIME_LEN) < 0) {
        snprintf(err, errlen, "cannot read random bytes");
        goto out;
    }
    if (users_create(st, "admin", ROLE_ADMIN, pw, 1, err, errlen) < 0)
        goto out;
    store_audit(st, "system", "user.create", "admin (first boot, one-time password)");
    *onetime = strdup(pw);
    if (!*onetime) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    mbedtls_platform_zeroize(pw, sizeof pw);
    return rc;
}

/* Read name's row: 1 and *out (and *hash, malloc'd, when hash is not NULL), 0 absent, -1 error. */
static int users_row(store *st, const char *name, user_info *out, char **hash)
{
    sqlite3_stmt *stmt = NULL;
    int rc = -1;
    if (hash)
        *hash = NULL;
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    if (sqlite3_prepare_v2(store_db(st),
                           "SELECT name, role, must_change, password_hash FROM users WHERE name = ?",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        rc = 0;
        goto out;
    }
    if (step != SQLITE_ROW)
        goto out;
    if (out) {
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(stmt, 0));
        out->role = user_role_parse((const char *)sqlite3_column_text(stmt, 1));
        out->must_change = sqlite3_column_int(stmt, 2) != 0;
    }
    if (hash) {
        const char *h = (const char *)sqlite3_column_text(stmt, 3);
        *hash = strdup(h ? h : "");
        if (!*hash)
            goto out;
    }
    rc = 1;
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

int users_get(store *st, const char *name, user_info *out)
{
    if (!users_name_valid(name))
        return 0;
    return users_row(st, name, out, NULL);
}

int users_authenticate(store *st, const char *name, const char *password, user_info *out)
{
    user_info info;
    char *hash = NULL;
    int found = 0, rc = -1;
    if (!password)
        goto out;
    if (users_name_valid(name)) {
        found = users_row(st, name, &info, &hash);
        if (found < 0)
            goto out;
    }
    int ok = password_verify(found ? hash : users_dummy_hash, password);
    if (ok < 0 && found) {
        rc = -1;   /* a stored hash we cannot read */
        goto out;
    }
    if (!found || ok != 1 || info.role == ROLE_NONE) {
        rc = 0;
        goto out;
    }
    if (out)
        *out = info;
    rc = 1;
out:
    free(hash);
    return rc;
}
