/* silver_state: the silver writer's live-row index and two-phase batch state in SQLite (see
 * silver_state.h). Tables:
 *   silver_tables (id, name, snapshot_id, pending_snapshot)
 *   silver_files  (id, tbl, path)                          data file URIs, named by id in rows
 *   silver_rows   (tbl, key, file, pos, image, extra)      committed live rows
 *   silver_delta  (tbl, key, deleted, file, pos, image, extra)   the open batch's changes
 * Writes happen inside one long SQLite transaction that silver_state_sync commits; WAL mode with
 * synchronous=FULL makes each of those commits durable. Each table's keys (committed and in the
 * delta) are also in a Bloom filter (silver_keyfilter.h), built at the table's first lookup, so
 * that a new key costs no lookup. */
#include "sinks/lake/silver_state.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "sinks/lake/silver_keyfilter.h"

#define ST_FILTER_MIN_CAPACITY 65536

enum {
    ST_TABLE_GET,
    ST_TABLE_ADD,
    ST_DELTA_FIND,
    ST_ROW_FIND,
    ST_DELTA_PUT,
    ST_DELTA_REMOVE,
    ST_FILE_ADD,
    ST_FILE_PATH,
    ST_PENDING_SET,
    ST_APPLY_PUT,
    ST_APPLY_REMOVE,
    ST_DELTA_CLEAR,
    ST_COMMITTED_SET,
    ST_ROWS_EACH,
    ST_ROWS_COUNT,
    ST_KEYS_ROWS,
    ST_KEYS_DELTA,
    ST_COUNT
};

static const char *const st_sql[ST_COUNT] = {
    [ST_TABLE_GET] = "SELECT id, snapshot_id, pending_snapshot FROM silver_tables WHERE name = ?1",
    [ST_TABLE_ADD] = "INSERT INTO silver_tables (name) VALUES (?1)",
    [ST_DELTA_FIND] = "SELECT deleted, file, pos, image, extra FROM silver_delta WHERE tbl = ?1 AND key = ?2",
    [ST_ROW_FIND] = "SELECT 0, file, pos, image, extra FROM silver_rows WHERE tbl = ?1 AND key = ?2",
    [ST_DELTA_PUT] = "INSERT OR REPLACE INTO silver_delta (tbl, key, deleted, file, pos, image, extra) "
                     "VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6)",
    [ST_DELTA_REMOVE] = "INSERT OR REPLACE INTO silver_delta (tbl, key, deleted) VALUES (?1, ?2, 1)",
    [ST_FILE_ADD] = "INSERT INTO silver_files (tbl, path) VALUES (?1, ?2)",
    [ST_FILE_PATH] = "SELECT path FROM silver_files WHERE id = ?1",
    [ST_PENDING_SET] = "UPDATE silver_tables SET pending_snapshot = ?2 WHERE id = ?1",
    [ST_APPLY_PUT] = "INSERT OR REPLACE INTO silver_rows (tbl, key, file, pos, image, extra) "
                     "SELECT tbl, key, file, pos, image, extra FROM silver_delta WHERE tbl = ?1 AND deleted = 0",
    [ST_APPLY_REMOVE] = "DELETE FROM silver_rows WHERE tbl = ?1 AND key IN "
                        "(SELECT key FROM silver_delta WHERE tbl = ?1 AND deleted = 1)",
    [ST_DELTA_CLEAR] = "DELETE FROM silver_delta WHERE tbl = ?1",
    [ST_COMMITTED_SET] = "UPDATE silver_tables SET snapshot_id = ?2, pending_snapshot = 0 WHERE id = ?1",
    [ST_ROWS_EACH] = "SELECT key, file, pos, image, extra FROM silver_rows WHERE tbl = ?1",
    [ST_ROWS_COUNT] = "SELECT (SELECT count(*) FROM silver_rows WHERE tbl = ?1) + "
                      "(SELECT count(*) FROM silver_delta WHERE tbl = ?1)",
    [ST_KEYS_ROWS] = "SELECT key FROM silver_rows WHERE tbl = ?1",
    [ST_KEYS_DELTA] = "SELECT key FROM silver_delta WHERE tbl = ?1",
};

static const char st_schema[] =
    "CREATE TABLE IF NOT EXISTS silver_tables (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
    "  snapshot_id INTEGER NOT NULL DEFAULT 0, pending_snapshot INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS silver_files (id INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, path TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS silver_rows (tbl INTEGER NOT NULL, key BLOB NOT NULL, file INTEGER NOT NULL, "
    "  pos INTEGER NOT NULL, image BLOB, extra BLOB, PRIMARY KEY (tbl, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS silver_delta (tbl INTEGER NOT NULL, key BLOB NOT NULL, deleted INTEGER NOT NULL, "
    "  file INTEGER, pos INTEGER, image BLOB, extra BLOB, PRIMARY KEY (tbl, key)) WITHOUT ROWID;";

struct silver_state {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    int in_tx;            /* the long transaction is open */
    silver_keyfilter **filters;   /* by table id; NULL until the table's first lookup */
    size_t nfilters;
};

static int st_fail(silver_state *s, char *err, size_t errlen)
{
    return err_setf(err, errlen, "silver state: %s", sqlite3_errmsg(s->db));
}

static int st_exec(silver_state *s, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_setf(err, errlen, "silver state: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* The cached statement k, reset and ready for binding; with the long transaction open. */
static sqlite3_stmt *st_stmt(silver_state *s, int k, char *err, size_t errlen)
{
    if (!s->in_tx) {
        if (st_exec(s, "BEGIN", err, errlen) < 0)
            return NULL;
        s->in_tx = 1;
    }
    sqlite3_stmt *stmt = s->stmt[k];
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return stmt;
}

/* Run a statement that returns no rows. */
static int st_done(silver_state *s, sqlite3_stmt *stmt, char *err, size_t errlen)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? 0 : st_fail(s, err, errlen);
}

silver_state *silver_state_open(const char *path, char *err, size_t errlen)
{
    silver_state *s = calloc(1, sizeof *s);
    if (!s) {
        err_setf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        err_setf(err, errlen, "silver state: cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* A 64 MiB page cache: the live-row index is read at every change (SQLite's default is 2 MiB). */
    if (st_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536", err, errlen) < 0 ||
        st_exec(s, st_schema, err, errlen) < 0)
        goto fail;
    for (int k = 0; k < ST_COUNT; k++) {
        if (sqlite3_prepare_v2(s->db, st_sql[k], -1, &s->stmt[k], NULL) != SQLITE_OK) {
            st_fail(s, err, errlen);
            goto fail;
        }
    }
    return s;
fail:
    silver_state_close(s);
    return NULL;
}

void silver_state_close(silver_state *s)
{
    if (!s)
        return;
    for (int k = 0; k < ST_COUNT; k++)
        sqlite3_finalize(s->stmt[k]);
    if (s->in_tx)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(s->db);
    for (size_t i = 0; i < s->nfilters; i++)
        silver_keyfilter_destroy(s->filters[i]);
    free(s->filters);
    free(s);
}

int silver_state_sync(silver_state *s, char *err, size_t errlen)
{
    if (!s->in_tx)
        return 0;
    for (int k = 0; k < ST_COUNT; k++)   /* a found row's statement may still hold its cursor */
        sqlite3_reset(s->stmt[k]);
    if (st_exec(s, "COMMIT", err, errlen) < 0)
        return -1;
    s->in_tx = 0;
    return 0;
}

int silver_state_table_get(silver_state *s, const char *name, silver_state_table *out, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        sqlite3_stmt *q = st_stmt(s, ST_TABLE_GET, err, errlen);
        if (!q)
            return -1;
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            out->id = sqlite3_column_int64(q, 0);
            out->snapshot_id = sqlite3_column_int64(q, 1);
            out->pending_snapshot = sqlite3_column_int64(q, 2);
            sqlite3_reset(q);
            return 0;
        }
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return st_fail(s, err, errlen);
        sqlite3_stmt *a = st_stmt(s, ST_TABLE_ADD, err, errlen);
        if (!a)
            return -1;
        sqlite3_bind_text(a, 1, name, -1, SQLITE_STATIC);
        if (st_done(s, a, err, errlen) < 0 || silver_state_sync(s, err, errlen) < 0)
            return -1;
    }
    return err_setf(err, errlen, "silver state: table %s could not be recorded", name);
}

/* Fill out from a row of (deleted, file, pos, image, extra) or (key, file, pos, image, extra). */
static void st_row_read(sqlite3_stmt *q, silver_state_row *out)
{
    out->file = sqlite3_column_int64(q, 1);
    out->pos = sqlite3_column_int64(q, 2);
    out->image = sqlite3_column_blob(q, 3);
    out->image_len = (size_t)sqlite3_column_bytes(q, 3);
    out->extra = sqlite3_column_blob(q, 4);
    out->extra_len = (size_t)sqlite3_column_bytes(q, 4);
}

/* Add the keys statement k returns for tbl to f. 0 or -1. */
static int st_filter_fill(silver_state *s, silver_keyfilter *f, int k, int64_t tbl, char *err, size_t errlen)
{
    sqlite3_stmt *q = st_stmt(s, k, err, errlen);
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, tbl);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        silver_keyfilter_add(f, sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0));
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : st_fail(s, err, errlen);
}

/* tbl's key filter, built (or rebuilt larger, once full) from its rows and delta. NULL when
 * there is none (out of memory): every key is then looked up. -1 in *failed on an error. */
static silver_keyfilter *st_filter(silver_state *s, int64_t tbl, int *failed, char *err, size_t errlen)
{
    *failed = 0;
    if (tbl < 0)
        return NULL;
    if ((size_t)tbl >= s->nfilters) {
        size_t n = (size_t)tbl + 8;
        silver_keyfilter **a = realloc(s->filters, n * sizeof *a);
        if (!a)
            return NULL;
        memset(a + s->nfilters, 0, (n - s->nfilters) * sizeof *a);
        s->filters = a;
        s->nfilters = n;
    }
    silver_keyfilter *f = s->filters[tbl];
    if (f && !silver_keyfilter_full(f))
        return f;
    silver_keyfilter_destroy(f);
    s->filters[tbl] = NULL;
    sqlite3_stmt *q = st_stmt(s, ST_ROWS_COUNT, err, errlen);
    if (!q) {
        *failed = 1;
        return NULL;
    }
    sqlite3_bind_int64(q, 1, tbl);
    int64_t n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_reset(q);
    if (n < 0) {
        *failed = 1;
        st_fail(s, err, errlen);
        return NULL;
    }
    size_t capacity = (size_t)n * 2 < ST_FILTER_MIN_CAPACITY ? ST_FILTER_MIN_CAPACITY : (size_t)n * 2;
    if (!(f = silver_keyfilter_create(capacity)))
        return NULL;
    if (st_filter_fill(s, f, ST_KEYS_ROWS, tbl, err, errlen) < 0 || st_filter_fill(s, f, ST_KEYS_DELTA, tbl, err, errlen) < 0) {
        silver_keyfilter_destroy(f);
        *failed = 1;
        return NULL;
    }
    return s->filters[tbl] = f;
}

int silver_state_row_find(silver_state *s, int64_t tbl, const void *key, size_t keylen, silver_state_row *out,
                          char *err, size_t errlen)
{
    int failed;
    const silver_keyfilter *f = st_filter(s, tbl, &failed, err, errlen);
    if (failed)
        return -1;
    if (f && !silver_keyfilter_maybe(f, key, keylen))
        return 0;
    const int order[2] = {ST_DELTA_FIND, ST_ROW_FIND};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *q = st_stmt(s, order[i], err, errlen);
        if (!q)
            return -1;
        sqlite3_bind_int64(q, 1, tbl);
        sqlite3_bind_blob(q, 2, key, (int)keylen, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            if (sqlite3_column_int(q, 0))   /* removed in the open batch */
                return 0;
            st_row_read(q, out);   /* valid until the statement's next reset */
            return 1;
        }
        if (rc != SQLITE_DONE)
            return st_fail(s, err, errlen);
    }
    return 0;
}

int silver_state_row_put(silver_state *s, int64_t tbl, const void *key, size_t keylen, const silver_state_row *row,
                         char *err, size_t errlen)
{
    sqlite3_stmt *q = st_stmt(s, ST_DELTA_PUT, err, errlen);
    if (!q)
        return -1;
    if (tbl >= 0 && (size_t)tbl < s->nfilters && s->filters[tbl])   /* else added when it is built */
        silver_keyfilter_add(s->filters[tbl], key, keylen);
    sqlite3_bind_int64(q, 1, tbl);
    sqlite3_bind_blob(q, 2, key, (int)keylen, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, row->file);
    sqlite3_bind_int64(q, 4, row->pos);
    sqlite3_bind_blob(q, 5, row->image ? row->image : "", (int)row->image_len, SQLITE_STATIC);
    sqlite3_bind_blob(q, 6, row->extra ? row->extra : "", (int)row->extra_len, SQLITE_STATIC);
    return st_done(s, q, err, errlen);
}

int silver_state_row_remove(silver_state *s, int64_t tbl, const void *key, size_t keylen, char *err, size_t errlen)
{
    sqlite3_stmt *q = st_stmt(s, ST_DELTA_REMOVE, err, errlen);
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, tbl);
    sqlite3_bind_blob(q, 2, key, (int)keylen, SQLITE_STATIC);
    return st_done(s, q, err, errlen);
}

int silver_state_rows_each(silver_state *s, int64_t tbl, silver_state_row_fn fn, void *arg, char *err,
                           size_t errlen)
{
    sqlite3_stmt *q = st_stmt(s, ST_ROWS_EACH, err, errlen);
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, tbl);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        silver_state_row row;
        st_row_read(q, &row);
        int stop = fn(arg, sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0), &row);
        if (stop) {
            sqlite3_reset(q);
            return stop;
        }
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : st_fail(s, err, errlen);
}

int silver_state_file_add(silver_state *s, int64_t tbl, const char *path, int64_t *id, char *err, size_t errlen)
{
    sqlite3_stmt *q = st_stmt(s, ST_FILE_ADD, err, errlen);
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, tbl);
    sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
    if (st_done(s, q, err, errlen) < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int silver_state_file_path(silver_state *s, int64_t id, char *out, size_t outlen, char *err, size_t errlen)
{
    sqlite3_stmt *q = st_stmt(s, ST_FILE_PATH, err, errlen);
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q), ret;
    if (rc == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(q, 0);
        ret = p && strlen(p) < outlen ? (strcpy(out, p), 0) : err_setf(err, errlen, "silver state: file %lld: "
                                                                       "path too long", (long long)id);
    } else {
        ret = rc == SQLITE_DONE ? err_setf(err, errlen, "silver state: no data file %lld", (long long)id)
                                : st_fail(s, err, errlen);
    }
    sqlite3_reset(q);
    return ret;
}

/* Run statement k with (tbl[, value]) bound. */
static int st_run(silver_state *s, int k, int64_t tbl, int bind_value, int64_t value, char *err, size_t errlen)
{
    sqlite3_stmt *q = st_stmt(s, k, err, errlen);
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, tbl);
    if (bind_value)
        sqlite3_bind_int64(q, 2, value);
    return st_done(s, q, err, errlen);
}

int silver_state_pending_set(silver_state *s, int64_t tbl, int64_t snapshot_id, char *err, size_t errlen)
{
    if (st_run(s, ST_PENDING_SET, tbl, 1, snapshot_id, err, errlen) < 0)
        return -1;
    return silver_state_sync(s, err, errlen);
}

int silver_state_apply(silver_state *s, int64_t tbl, int64_t snapshot_id, char *err, size_t errlen)
{
    if (st_run(s, ST_APPLY_PUT, tbl, 0, 0, err, errlen) < 0 || st_run(s, ST_APPLY_REMOVE, tbl, 0, 0, err, errlen) < 0 ||
        st_run(s, ST_DELTA_CLEAR, tbl, 0, 0, err, errlen) < 0 ||
        st_run(s, ST_COMMITTED_SET, tbl, 1, snapshot_id, err, errlen) < 0)
        return -1;
    return silver_state_sync(s, err, errlen);
}

int silver_state_discard(silver_state *s, int64_t tbl, char *err, size_t errlen)
{
    if (st_run(s, ST_DELTA_CLEAR, tbl, 0, 0, err, errlen) < 0 || st_run(s, ST_PENDING_SET, tbl, 1, 0, err, errlen) < 0)
        return -1;
    return silver_state_sync(s, err, errlen);
}

int silver_state_settle(silver_state *s, const silver_state_table *t, int pending_committed, char *err,
                        size_t errlen)
{
    if (t->pending_snapshot && pending_committed)
        return silver_state_apply(s, t->id, t->pending_snapshot, err, errlen);
    return silver_state_discard(s, t->id, err, errlen);
}
