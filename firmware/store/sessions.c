/* sessions: console login sessions in the store's sessions table (see sessions.h).
 * The browser holds a random token; the table holds only the hex SHA-256 of it, so reading the
 * database never yields a usable cookie. Expiry compares against the time the caller passes. */
#include "store/sessions.h"

#include <mbedtls/sha256.h>
#include <stdio.h>
#include <string.h>

#include "core/random.h"

/* A well-formed token: exactly SESSION_TOKEN_LEN characters of [A-Za-z0-9]. */
static int sessions_token_valid(const char *token)
{
    size_t n = 0;
    if (!token)
        return 0;
    for (; token[n]; n++) {
        char c = token[n];
        if (n >= SESSION_TOKEN_LEN ||
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return n == SESSION_TOKEN_LEN;
}

/* Lower-case hex SHA-256 of token into out (65 bytes). 0 or -1. */
static int sessions_token_hash(const char *token, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[32];
    if (mbedtls_sha256_ret((const unsigned char *)token, strlen(token), digest, 0) != 0)
        return -1;
    for (size_t i = 0; i < sizeof digest; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
    return 0;
}

/* Step a DELETE ... RETURNING to the end; the number of rows it removed, or -1. (Counting
 * with sqlite3_changes() would race: the connection is shared between threads.) */
static int sessions_count_rows(sqlite3_stmt *stmt)
{
    int n = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW)
        n++;
    return step == SQLITE_DONE ? n : -1;
}

int sessions_create(store *st, const char *user, time_t now, long ttl,
                    char token[SESSION_TOKEN_LEN + 1])
{
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = NULL;
    char hash[65];
    int rc = -1;
    token[0] = '\0';
    if (!user || ttl <= 0 || random_token(token, SESSION_TOKEN_LEN) < 0 ||
        sessions_token_hash(token, hash) < 0)
        goto out;
    if (sqlite3_prepare_v2(store_db(st),
                           "INSERT INTO sessions (token_hash, user_name, created_at, expires_at) "
                           "VALUES (?, ?, ?, ?)",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)now);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)now + ttl);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(stmt);
    if (rc < 0)
        memset(token, 0, SESSION_TOKEN_LEN + 1);
    store_unlock(st);
    return rc;
}

int sessions_lookup(store *st, const char *token, time_t now, user_info *out)
{
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = NULL;
    char hash[65];
    int rc = -1;
    if (!sessions_token_valid(token)) {
        rc = 0;
        goto out;
    }
    if (sessions_token_hash(token, hash) < 0)
        goto out;
    if (sqlite3_prepare_v2(store_db(st),
                           "SELECT u.name, u.role, u.must_change FROM sessions s "
                           "JOIN users u ON u.name = s.user_name "
                           "WHERE s.token_hash = ? AND s.expires_at > ?",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)now);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        rc = 0;
        goto out;
    }
    if (step != SQLITE_ROW)
        goto out;
    user_info info;
    memset(&info, 0, sizeof info);
    const char *name = (const char *)sqlite3_column_text(stmt, 0);
    snprintf(info.name, sizeof info.name, "%s", name ? name : "");
    info.role = user_role_parse((const char *)sqlite3_column_text(stmt, 1));
    info.must_change = sqlite3_column_int(stmt, 2) != 0;
    if (info.role == ROLE_NONE) {
        rc = 0;
        goto out;
    }
    if (out)
        *out = info;
    rc = 1;
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

int sessions_delete(store *st, const char *token)
{
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = NULL;
    char hash[65];
    int rc = -1;
    if (!sessions_token_valid(token)) {
        rc = 0;
        goto out;
    }
    if (sessions_token_hash(token, hash) < 0 ||
        sqlite3_prepare_v2(store_db(st), "DELETE FROM sessions WHERE token_hash = ?", -1, &stmt,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

int sessions_delete_user(store *st, const char *user, const char *keep_token)
{
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = NULL;
    char hash[65] = "";
    int rc = -1;
    if (keep_token && sessions_token_valid(keep_token) && sessions_token_hash(keep_token, hash) < 0)
        goto out;
    if (sqlite3_prepare_v2(store_db(st),
                           "DELETE FROM sessions WHERE user_name = ? AND token_hash <> ? RETURNING 1",
                           -1, &stmt,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(stmt, 1, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC);
    rc = sessions_count_rows(stmt);
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

int sessions_expire(store *st, time_t now)
{
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(store_db(st), "DELETE FROM sessions WHERE expires_at <= ? RETURNING 1", -1, &stmt,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)now);
    rc = sessions_count_rows(stmt);
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}
