/* store: opens the appliance's SQLite database (WAL, foreign keys, busy timeout), migrates it
 * with the versioned steps of migrations.c, and implements settings (typed, secrets sealed),
 * the seeded flag and the audit log on top of it. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/confmap.h"
#include "store/migrations.h"

struct store {
    sqlite3 *db;
    secrets *sec;               /* borrowed */
    pthread_mutex_t mu;         /* recursive: store functions lock it too */
    int version;
};

int store_schema_latest(void)
{
    int v = 0;
    for (size_t i = 0; i < store_migrations_count; i++)
        if (store_migrations[i].version > v)
            v = store_migrations[i].version;
    return v;
}

/* Run one statement that returns at most one integer. */
static int store_pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        goto out;
    *out = sqlite3_column_int(stmt, 0);
    rc = 0;
out:
    sqlite3_finalize(stmt);
    return rc;
}

/* Apply every migration newer than the database, each in its own transaction. */
static int store_migrate(store *st, char *err, size_t errlen)
{
    int current = 0, latest = store_schema_latest();
    char sql[64];

    if (store_pragma_int(st->db, "PRAGMA user_version", &current) < 0) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(st->db));
        return -1;
    }
    if (current > latest) {
        snprintf(err, errlen, "database schema version %d is newer than this sluice supports (%d): "
                 "it was written by a newer release; run that release or restore a backup", current, latest);
        return -1;
    }
    for (size_t i = 0; i < store_migrations_count; i++) {
        const store_migration *m = &store_migrations[i];
        char *msg = NULL;
        if (m->version <= current)
            continue;
        if (m->version != current + 1) {
            snprintf(err, errlen, "migration list has a gap: %d follows %d", m->version, current);
            return -1;
        }
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->version);
        if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(st->db, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration to schema version %d (%s) failed: %s", m->version,
                     m->description, msg ? msg : sqlite3_errmsg(st->db));
            sqlite3_free(msg);
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        current = m->version;
    }
    st->version = current;
    return 0;
}

/* Create the file owner-only before SQLite does, so the database never exists with a looser
 * mode (the -wal and -shm files take the database file's mode). */
static int store_file_precreate(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        snprintf(err, errlen, "cannot create database %s: %s", path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static int store_configure(store *st, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    char *msg = NULL;
    int rc = -1;

    sqlite3_busy_timeout(st->db, 5000);
    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW) {
        snprintf(err, errlen, "cannot enable WAL mode: %s", sqlite3_errmsg(st->db));
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(stmt, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        snprintf(err, errlen, "cannot enable WAL mode (journal mode is %s)", mode ? mode : "unknown");
        goto out;
    }
    if (sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", NULL, NULL, &msg) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot configure the database: %s", msg ? msg : sqlite3_errmsg(st->db));
        goto out;
    }
    rc = 0;
out:
    sqlite3_free(msg);
    sqlite3_finalize(stmt);
    return rc;
}

store *store_open(const char *path, secrets *sec, char *err, size_t errlen)
{
    pthread_mutexattr_t attr;
    char reason[384];
    store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->sec = sec;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&st->mu, &attr);
    pthread_mutexattr_destroy(&attr);

    if (store_file_precreate(path, err, errlen) < 0)
        goto fail;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    if (store_configure(st, reason, sizeof reason) < 0 || store_migrate(st, reason, sizeof reason) < 0) {
        snprintf(err, errlen, "%s: %s", path, reason);
        goto fail;
    }
    return st;
fail:
    store_close(st);
    return NULL;
}

void store_close(store *st)
{
    if (!st)
        return;
    sqlite3_close_v2(st->db);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

sqlite3 *store_db(store *st)
{
    return st->db;
}

secrets *store_secrets(store *st)
{
    return st->sec;
}

void store_lock(store *st)
{
    pthread_mutex_lock(&st->mu);
}

void store_unlock(store *st)
{
    pthread_mutex_unlock(&st->mu);
}

int store_schema_version(store *st)
{
    return st->version;
}

int store_setting_get(store *st, const char *key, char **value, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    const conf_setting *s = confmap_find(key);
    int rc = -1, step;

    *value = NULL;
    if (!s) {
        snprintf(err, errlen, "%s: unknown setting", key);
        return -1;
    }
    store_lock(st);
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM settings WHERE key = ?1", -1, &stmt, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(st->db));
        goto out;
    }
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        rc = 0;
        goto out;
    }
    if (step != SQLITE_ROW) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(st->db));
        goto out;
    }
    const char *v = (const char *)sqlite3_column_text(stmt, 0);
    if (s->type == CONF_SECRET) {
        char reason[256];
        if (secrets_unseal(st->sec, v ? v : "", value, reason, sizeof reason) < 0) {
            snprintf(err, errlen, "%s: %s", key, reason);
            goto out;
        }
    } else if (!(*value = strdup(v ? v : ""))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

int store_setting_set(store *st, const char *key, const char *value, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    const conf_setting *s = confmap_find(key);
    char *sealed = NULL, reason[256];
    int rc = -1;

    if (!s) {
        snprintf(err, errlen, "%s: unknown setting", key);
        return -1;
    }
    if (value && confmap_check(s, value, reason, sizeof reason) < 0) {
        snprintf(err, errlen, "%s: %s", key, s->type == CONF_SECRET ? "invalid secret value" : reason);
        return -1;
    }
    if (value && s->type == CONF_SECRET) {
        if (secrets_seal(st->sec, value, &sealed, reason, sizeof reason) < 0) {
            snprintf(err, errlen, "%s: %s", key, reason);
            return -1;
        }
        value = sealed;
    }
    store_lock(st);
    const char *sql = value ? "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
                            : "DELETE FROM settings WHERE key = ?1";
    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(st->db));
        goto out;
    }
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    if (value) {
        sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
    }
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(st->db));
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    free(sealed);
    return rc;
}

int store_is_seeded(store *st)
{
    sqlite3_stmt *stmt = NULL;
    int seeded = 0;
    store_lock(st);
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'seeded'", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(stmt, 0);
        seeded = v && strcmp(v, "1") == 0;
    }
    sqlite3_finalize(stmt);
    store_unlock(st);
    return seeded;
}

int store_audit(store *st, const char *actor, const char *action, const char *detail)
{
    sqlite3_stmt *stmt = NULL;
    int rc = -1;
    store_lock(st);
    if (sqlite3_prepare_v2(st->db, "INSERT INTO audit (ts, actor, action, detail) VALUES (?1, ?2, ?3, ?4)", -1,
                           &stmt, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)time(NULL));
    sqlite3_bind_text(stmt, 2, actor ? actor : "system", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, action ? action : "", -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(stmt, 4, detail, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 4);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}
