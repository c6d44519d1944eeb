/* silver_state: the silver writer's live-row index and two-phase batch state in SQLite (see
 * silver_state.h). Tables:
 *   silver_tables (id, name, snapshot_id, pending_snapshot, gen, touched)
 *   silver_files  (id, tbl, path)                          data file URIs, named by id in rows
 *   silver_rows   (tbl, key, file, pos, image, extra, gen)  live rows as the open batch sees them
 *   silver_undo   (tbl, key, file, pos, image, extra)      committed rows the open batch replaced
 *                                                          or removed (their first version)
 * The open batch writes silver_rows directly, with its table's generation `gen`; rows of earlier
 * generations are committed. A committed row the batch replaces or removes is first copied to
 * silver_undo. Applying the batch only moves the table to the next generation and empties its
 * undo rows (no row is copied); dropping it deletes the rows of the open generation and puts the
 * undo rows back (`touched` says whether there is anything to drop). Writes happen inside one
 * long SQLite transaction that silver_state_sync commits; WAL mode with synchronous=FULL makes
 * each of those commits durable. Each table's keys are also in a Bloom filter
 * (silver_keyfilter.h), built at the table's first lookup, so that a new key costs no lookup.
 * Databases of the first layout (an open batch in a silver_delta table) are converted when
 * opened (user_version 2). */
#include "sinks/lake/silver_state.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "sinks/lake/silver_keyfilter.h"

#define ST_FILTER_MIN_CAPACITY 65536
#define ST_USER_VERSION 2

enum {
    ST_TABLE_GET,
    ST_TABLE_ADD,
    ST_ROW_FIND,
    ST_UNDO_SAVE,
    ST_ROW_PUT,
    ST_ROW_REMOVE,
    ST_TOUCHED_SET,
    ST_DROPPED_SET,
    ST_FILE_ADD,
    ST_FILE_PATH,
    ST_PENDING_SET,
    ST_COMMITTED_SET,
    ST_UNDO_CLEAR,
    ST_OPEN_DROP,
    ST_UNDO_RESTORE,
    ST_ROWS_EACH,
    ST_ROWS_COUNT,
    ST_KEYS,
    ST_COUNT
};

static const char *const st_sql[ST_COUNT] = {
    [ST_TABLE_GET] = "SELECT id, snapshot_id, pending_snapshot, gen, touched FROM silver_tables WHERE name = ?1",
    [ST_TABLE_ADD] = "INSERT INTO silver_tables (name) VALUES (?1)",
    [ST_ROW_FIND] = "SELECT key, file, pos, image, extra FROM silver_rows WHERE tbl = ?1 AND key = ?2",
    /* the committed version of a key, before the open batch (generation ?3) first changes it */
    [ST_UNDO_SAVE] = "INSERT OR IGNORE INTO silver_undo (tbl, key, file, pos, image, extra) "
                     "SELECT tbl, key, file, pos, image, extra FROM silver_rows WHERE tbl = ?1 AND key = ?2 AND gen <> ?3",
    [ST_ROW_PUT] = "INSERT OR REPLACE INTO silver_rows (tbl, key, file, pos, image, extra, gen) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_ROW_REMOVE] = "DELETE FROM silver_rows WHERE tbl = ?1 AND key = ?2",
    [ST_TOUCHED_SET] = "UPDATE silver_tables SET touched = 1 WHERE id = ?1",
    [ST_DROPPED_SET] = "UPDATE silver_tables SET touched = 0, pending_snapshot = 0 WHERE id = ?1",
    [ST_FILE_ADD] = "INSERT INTO silver_files (tbl, path) VALUES (?1, ?2)",
    [ST_FILE_PATH] = "SELECT path FROM silver_files WHERE id = ?1",
    [ST_PENDING_SET] = "UPDATE silver_tables SET pending_snapshot = ?2 WHERE id = ?1",
    [ST_COMMITTED_SET] = "UPDATE silver_tables SET snapshot_id = ?2, pending_snapshot = 0, gen = gen + 1, touched = 0 "
                         "WHERE id = ?1",
    [ST_UNDO_CLEAR] = "DELETE FROM silver_undo WHERE tbl = ?1",
    [ST_OPEN_DROP] = "DELETE FROM silver_rows WHERE tbl = ?1 AND gen = ?2",
    [ST_UNDO_RESTORE] = "INSERT OR REPLACE INTO silver_rows (tbl, key, file, pos, image, extra, gen) "
                        "SELECT tbl, key, file, pos, image, extra, 0 FROM silver_undo WHERE tbl = ?1",
    [ST_ROWS_EACH] = "SELECT key, file, pos, image, extra FROM silver_rows WHERE tbl = ?1",
    [ST_ROWS_COUNT] = "SELECT count(*) FROM silver_rows WHERE tbl = ?1",
    [ST_KEYS] = "SELECT key FROM silver_rows WHERE tbl = ?1",
};

static const char st_schema[] =
    "CREATE TABLE IF NOT EXISTS silver_tables (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
    "  snapshot_id INTEGER NOT NULL DEFAULT 0, pending_snapshot INTEGER NOT NULL DEFAULT 0, "
    "  gen INTEGER NOT NULL DEFAULT 1, touched INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS silver_files (id INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, path TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS silver_rows (tbl INTEGER NOT NULL, key BLOB NOT NULL, file INTEGER NOT NULL, "
    "  pos INTEGER NOT NULL, image BLOB, extra BLOB, gen INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (tbl, key)) "
    "  WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS silver_undo (tbl INTEGER NOT NULL, key BLOB NOT NULL, file INTEGER NOT NULL, "
    "  pos INTEGER NOT NULL, image BLOB, extra BLOB, PRIMARY KEY (tbl, key)) WITHOUT ROWID;";

/* The first layout kept the open batch in silver_delta: its changes become the open generation
 * (1) of their tables, with the committed rows they replace or remove in silver_undo. */
static const char st_upgrade_v1[] =
    "ALTER TABLE silver_tables ADD COLUMN gen INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE silver_tables ADD COLUMN touched INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE silver_rows ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE silver_undo (tbl INTEGER NOT NULL, key BLOB NOT NULL, file INTEGER NOT NULL, "
    "  pos INTEGER NOT NULL, image BLOB, extra BLOB, PRIMARY KEY (tbl, key)) WITHOUT ROWID;"
    "INSERT INTO silver_undo SELECT r.tbl, r.key, r.file, r.pos, r.image, r.extra FROM silver_rows r "
    "  JOIN silver_delta d ON d.tbl = r.tbl AND d.key = r.key;"
    "DELETE FROM silver_rows WHERE EXISTS (SELECT 1 FROM silver_delta d WHERE d.tbl = silver_rows.tbl "
    "  AND d.key = silver_rows.key);"
    "INSERT INTO silver_rows SELECT tbl, key, file, pos, image, extra, 1 FROM silver_delta WHERE deleted = 0;"
    "UPDATE silver_tables SET touched = 1 WHERE id IN (SELECT tbl FROM silver_delta);"
    "DROP TABLE silver_delta;";

/* What the writer keeps in memory per table (by id). */
typedef struct st_table_info {
    int known;                    /* loaded by silver_state_table_get */
    int64_t gen;                  /* the open batch's generation */
    int touched;                  /* the open batch changed rows (recorded in silver_tables) */
    silver_keyfilter *filter;     /* NULL until the table's first lookup */
} st_table_info;

struct silver_state {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    int in_tx;            /* the long transaction is open */
    st_table_info *tables;
    size_t ntables;
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

/* The in-memory record of table tbl (grown as needed); NULL when out of memory or tbl < 0. */
static st_table_info *st_info(silver_state *s, int64_t tbl)
{
    if (tbl < 0)
        return NULL;
    if ((size_t)tbl >= s->ntables) {
        size_t n = (size_t)tbl + 8;
        st_table_info *a = realloc(s->tables, n * sizeof *a);
        if (!a)
            return NULL;
        memset(a + s->ntables, 0, (n - s->ntables) * sizeof *a);
        s->tables = a;
        s->ntables = n;
    }
    return &s->tables[tbl];
}

/* Create the tables, or convert a database of the first layout. */
static int st_schema_setup(silver_state *s, char *err, size_t errlen)
{
    sqlite3_stmt *q;
    int version = 0, v1 = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
        return st_fail(s, err, errlen);
    if (sqlite3_step(q) == SQLITE_ROW)
        version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (version >= ST_USER_VERSION)
        return st_exec(s, st_schema, err, errlen);
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'silver_delta'", -1, &q,
                           NULL) != SQLITE_OK)
        return st_fail(s, err, errlen);
    v1 = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d;", ST_USER_VERSION);
    if (st_exec(s, "BEGIN IMMEDIATE", err, errlen) < 0)
        return -1;
    if (st_exec(s, v1 ? st_upgrade_v1 : st_schema, err, errlen) < 0 || st_exec(s, pragma, err, errlen) < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return st_exec(s, "COMMIT", err, errlen);
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
        st_schema_setup(s, err, errlen) < 0)
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
    for (size_t i = 0; i < s->ntables; i++)
        silver_keyfilter_destroy(s->tables[i].filter);
    free(s->tables);
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
            st_table_info *t = st_info(s, out->id);
            if (t) {
                t->known = 1;
                t->gen = sqlite3_column_int64(q, 3);
                t->touched = sqlite3_column_int(q, 4);
            }
            sqlite3_reset(q);
            return t ? 0 : err_setf(err, errlen, "out of memory");
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

/* The record of a table silver_state_table_get returned; NULL with err otherwise. */
static st_table_info *st_known(silver_state *s, int64_t tbl, char *err, size_t errlen)
{
    st_table_info *t = tbl >= 0 && (size_t)tbl < s->ntables ? &s->tables[tbl] : NULL;
    if (!t || !t->known)
        err_setf(err, errlen, "silver state: table %lld was not opened", (long long)tbl);
    return t && t->known ? t : NULL;
}

/* Fill out from a row of (key, file, pos, image, extra). */
static void st_row_read(sqlite3_stmt *q, silver_state_row *out)
{
    out->file = sqlite3_column_int64(q, 1);
    out->pos = sqlite3_column_int64(q, 2);
    out->image = sqlite3_column_blob(q, 3);
    out->image_len = (size_t)sqlite3_column_bytes(q, 3);
    out->extra = sqlite3_column_blob(q, 4);
    out->extra_len = (size_t)sqlite3_column_bytes(q, 4);
}

/* t's key filter, built (or rebuilt larger, once full) from its rows. NULL when there is none
 * (out of memory: every key is then looked up) or on an error (*failed set). */
static silver_keyfilter *st_filter(silver_state *s, st_table_info *t, int64_t tbl, int *failed, char *err,
                                   size_t errlen)
{
    *failed = 0;
    if (t->filter && !silver_keyfilter_full(t->filter))
        return t->filter;
    silver_keyfilter_destroy(t->filter);
    t->filter = NULL;
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
    silver_keyfilter *f = silver_keyfilter_create(capacity);
    if (!f || !(q = st_stmt(s, ST_KEYS, err, errlen))) {
        *failed = f != NULL;
        silver_keyfilter_destroy(f);
        return NULL;
    }
    sqlite3_bind_int64(q, 1, tbl);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        silver_keyfilter_add(f, sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        silver_keyfilter_destroy(f);
        *failed = 1;
        st_fail(s, err, errlen);
        return NULL;
    }
    return t->filter = f;
}

int silver_state_row_find(silver_state *s, int64_t tbl, const void *key, size_t keylen, silver_state_row *out,
                          char *err, size_t errlen)
{
    st_table_info *t = st_known(s, tbl, err, errlen);
    int failed;
    if (!t)
        return -1;
    const silver_keyfilter *f = st_filter(s, t, tbl, &failed, err, errlen);
    if (failed)
        return -1;
    if (f && !silver_keyfilter_maybe(f, key, keylen))
        return 0;
    sqlite3_stmt *q = st_stmt(s, ST_ROW_FIND, err, errlen);
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, tbl);
    sqlite3_bind_blob(q, 2, key, (int)keylen, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        st_row_read(q, out);   /* valid until the statement's next reset */
        return 1;
    }
    return rc == SQLITE_DONE ? 0 : st_fail(s, err, errlen);
}

/* Before the open batch first changes key: keep its committed version (if any) for a rollback,
 * and record once that the batch changed rows. A key the filter has never seen has no version. */
static int st_undo_save(silver_state *s, st_table_info *t, int64_t tbl, const void *key, size_t keylen, char *err,
                        size_t errlen)
{
    int absent = t->filter && !silver_keyfilter_maybe(t->filter, key, keylen);
    if (!t->touched) {
        sqlite3_stmt *u = st_stmt(s, ST_TOUCHED_SET, err, errlen);
        if (!u)
            return -1;
        sqlite3_bind_int64(u, 1, tbl);
        if (st_done(s, u, err, errlen) < 0)
            return -1;
        t->touched = 1;
    }
    if (absent)
        return 0;
    sqlite3_stmt *q = st_stmt(s, ST_UNDO_SAVE, err, errlen);
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, tbl);
    sqlite3_bind_blob(q, 2, key, (int)keylen, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, t->gen);
    return st_done(s, q, err, errlen);
}

int silver_state_row_put(silver_state *s, int64_t tbl, const void *key, size_t keylen, const silver_state_row *row,
                         char *err, size_t errlen)
{
    st_table_info *t = st_known(s, tbl, err, errlen);
    if (!t || st_undo_save(s, t, tbl, key, keylen, err, errlen) < 0)
        return -1;
    sqlite3_stmt *q = st_stmt(s, ST_ROW_PUT, err, errlen);
    if (!q)
        return -1;
    if (t->filter)   /* else added when it is built */
        silver_keyfilter_add(t->filter, key, keylen);
    sqlite3_bind_int64(q, 1, tbl);
    sqlite3_bind_blob(q, 2, key, (int)keylen, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, row->file);
    sqlite3_bind_int64(q, 4, row->pos);
    sqlite3_bind_blob(q, 5, row->image ? row->image : "", (int)row->image_len, SQLITE_STATIC);
    sqlite3_bind_blob(q, 6, row->extra ? row->extra : "", (int)row->extra_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, t->gen);
    return st_done(s, q, err, errlen);
}

int silver_state_row_remove(silver_state *s, int64_t tbl, const void *key, size_t keylen, char *err, size_t errlen)
{
    st_table_info *t = st_known(s, tbl, err, errlen);
    if (!t || st_undo_save(s, t, tbl, key, keylen, err, errlen) < 0)
        return -1;
    sqlite3_stmt *q = st_stmt(s, ST_ROW_REMOVE, err, errlen);
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
    st_table_info *t = st_known(s, tbl, err, errlen);
    if (!t || st_run(s, ST_COMMITTED_SET, tbl, 1, snapshot_id, err, errlen) < 0 ||
        st_run(s, ST_UNDO_CLEAR, tbl, 0, 0, err, errlen) < 0 || silver_state_sync(s, err, errlen) < 0)
        return -1;
    t->gen++;
    t->touched = 0;
    return 0;
}

int silver_state_discard(silver_state *s, int64_t tbl, char *err, size_t errlen)
{
    st_table_info *t = st_known(s, tbl, err, errlen);
    if (!t)
        return -1;
    /* the open generation's rows go, the committed versions they replaced come back; the filter
     * may keep keys that are gone (it only ever says "maybe") */
    if ((t->touched && (st_run(s, ST_OPEN_DROP, tbl, 1, t->gen, err, errlen) < 0 ||
                        st_run(s, ST_UNDO_RESTORE, tbl, 0, 0, err, errlen) < 0 ||
                        st_run(s, ST_UNDO_CLEAR, tbl, 0, 0, err, errlen) < 0)) ||
        st_run(s, ST_DROPPED_SET, tbl, 0, 0, err, errlen) < 0 || silver_state_sync(s, err, errlen) < 0)
        return -1;
    t->touched = 0;
    return 0;
}

int silver_state_settle(silver_state *s, const silver_state_table *t, int pending_committed, char *err,
                        size_t errlen)
{
    if (t->pending_snapshot && pending_committed)
        return silver_state_apply(s, t->id, t->pending_snapshot, err, errlen);
    return silver_state_discard(s, t->id, err, errlen);
}
