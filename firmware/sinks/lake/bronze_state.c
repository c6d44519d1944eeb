/* bronze_state: per-table watermarks and upload intents in the store (see bronze_state.h). */
#include "sinks/lake/bronze_state.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errbuf.h"

int bronze_pos_cmp(bronze_pos a, bronze_pos b)
{
    if (a.lsn != b.lsn)
        return a.lsn < b.lsn ? -1 : 1;
    if (a.seq != b.seq)
        return a.seq < b.seq ? -1 : 1;
    return 0;
}

/* Prepare sql; NULL with SQLite's reason in err. */
static sqlite3_stmt *state_prepare(store *st, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) != SQLITE_OK) {
        err_setf(err, errlen, "bronze state: %s", sqlite3_errmsg(store_db(st)));
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

/* Step a statement that returns no rows, then finalize it. */
static int state_exec(store *st, sqlite3_stmt *stmt, char *err, size_t errlen)
{
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : err_setf(err, errlen, "bronze state: %s",
                                                               sqlite3_errmsg(store_db(st)));
    sqlite3_finalize(stmt);
    return rc;
}

static int state_watermark(store *st, const char *source, const char *table, bronze_pos *out, char *err,
                           size_t errlen)
{
    sqlite3_stmt *stmt = state_prepare(
        st, "SELECT done_lsn, done_seq FROM bronze_tables WHERE source = ? AND table_name = ?", err, errlen);
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt), rc = 0;
    *out = (bronze_pos){0, 0};
    if (step == SQLITE_ROW)
        *out = (bronze_pos){(uint64_t)sqlite3_column_int64(stmt, 0), (uint64_t)sqlite3_column_int64(stmt, 1)};
    else if (step != SQLITE_DONE)
        rc = err_setf(err, errlen, "bronze state: %s", sqlite3_errmsg(store_db(st)));
    sqlite3_finalize(stmt);
    return rc;
}

static int state_intend(store *st, const char *source, const char *table, const char *key, bronze_pos last,
                        char *err, size_t errlen)
{
    sqlite3_stmt *stmt = state_prepare(
        st,
        "INSERT INTO bronze_tables (source, table_name, done_lsn, done_seq, pending_key, pending_lsn, "
        "pending_seq, updated_at) VALUES (?1, ?2, 0, 0, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (source, table_name) DO UPDATE SET pending_key = ?3, pending_lsn = ?4, pending_seq = ?5, "
        "updated_at = ?6",
        err, errlen);
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)last.lsn);
    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)last.seq);
    sqlite3_bind_int64(stmt, 6, (sqlite3_int64)time(NULL));
    return state_exec(st, stmt, err, errlen);
}

static int state_done(store *st, const char *source, const char *table, bronze_pos last, char *err,
                      size_t errlen)
{
    sqlite3_stmt *stmt = state_prepare(
        st,
        "INSERT INTO bronze_tables (source, table_name, done_lsn, done_seq, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT (source, table_name) DO UPDATE SET done_lsn = ?3, done_seq = ?4, pending_key = NULL, "
        "pending_lsn = NULL, pending_seq = NULL, updated_at = ?5",
        err, errlen);
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)last.lsn);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)last.seq);
    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)time(NULL));
    return state_exec(st, stmt, err, errlen);
}

static int state_forget(store *st, const char *source, const char *table, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = state_prepare(st,
                                       "UPDATE bronze_tables SET pending_key = NULL, pending_lsn = NULL, "
                                       "pending_seq = NULL WHERE source = ? AND table_name = ?",
                                       err, errlen);
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
    return state_exec(st, stmt, err, errlen);
}

typedef struct state_intent {
    char *table, *key;
    bronze_pos last;
} state_intent;

int bronze_state_recover(store *st, const char *source, bronze_exists_fn exists, void *arg, char *err,
                         size_t errlen)
{
    state_intent *v = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, step, locked = 1;
    store_lock(st);   /* the rows only: not across the object store's answers below */
    sqlite3_stmt *stmt = state_prepare(st,
                                       "SELECT table_name, pending_key, pending_lsn, pending_seq FROM bronze_tables "
                                       "WHERE source = ? AND pending_key IS NOT NULL",
                                       err, errlen);
    if (!stmt) {
        store_unlock(st);
        return -1;
    }
    sqlite3_bind_text(stmt, 1, source, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            state_intent *nv = realloc(v, ncap * sizeof *v);
            if (!nv) {
                err_setf(err, errlen, "out of memory");
                goto out;
            }
            v = nv;
            cap = ncap;
        }
        v[n].table = strdup((const char *)sqlite3_column_text(stmt, 0));
        v[n].key = strdup((const char *)sqlite3_column_text(stmt, 1));
        v[n].last = (bronze_pos){(uint64_t)sqlite3_column_int64(stmt, 2), (uint64_t)sqlite3_column_int64(stmt, 3)};
        n++;
        if (!v[n - 1].table || !v[n - 1].key) {
            err_setf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        err_setf(err, errlen, "bronze state: %s", sqlite3_errmsg(store_db(st)));
        goto out;
    }
    sqlite3_finalize(stmt);
    stmt = NULL;
    store_unlock(st);
    locked = 0;
    for (size_t i = 0; i < n; i++) {
        int yes = exists(arg, v[i].key, err, errlen);
        if (yes < 0)
            goto out;
        store_lock(st);
        int done = yes ? state_done(st, source, v[i].table, v[i].last, err, errlen)
                       : state_forget(st, source, v[i].table, err, errlen);
        store_unlock(st);
        if (done < 0)
            goto out;
    }
    rc = (int)n;
out:
    sqlite3_finalize(stmt);
    if (locked)
        store_unlock(st);
    for (size_t i = 0; i < n; i++) {
        free(v[i].table);
        free(v[i].key);
    }
    free(v);
    return rc;
}

/* The store's one SQLite connection is shared by threads (capture, uploader, API): every statement
 * runs under the store's lock, so that none lands inside another thread's open transaction. */
int bronze_state_watermark(store *st, const char *source, const char *table, bronze_pos *out, char *err,
                           size_t errlen)
{
    store_lock(st);
    int rc = state_watermark(st, source, table, out, err, errlen);
    store_unlock(st);
    return rc;
}

int bronze_state_intend(store *st, const char *source, const char *table, const char *key, bronze_pos last,
                        char *err, size_t errlen)
{
    store_lock(st);
    int rc = state_intend(st, source, table, key, last, err, errlen);
    store_unlock(st);
    return rc;
}

int bronze_state_done(store *st, const char *source, const char *table, bronze_pos last, char *err,
                      size_t errlen)
{
    store_lock(st);
    int rc = state_done(st, source, table, last, err, errlen);
    store_unlock(st);
    return rc;
}
