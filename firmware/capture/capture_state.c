/* capture_state: per-slot snapshot bookkeeping in the store (see capture_state.h). */
#include "capture/capture_state.h"

#include <stdio.h>
#include <time.h>

#include "pipeline/event.h"

int capture_state_snapshot_done(store *st, const char *slot, int *done, char *err, size_t errlen)
{
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = NULL;
    sqlite3 *db = store_db(st);
    int rc = -1;
    *done = 0;
    if (sqlite3_prepare_v2(db, "SELECT snapshot_done FROM capture_state WHERE slot = ?", -1, &stmt,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(stmt, 1, slot, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        *done = sqlite3_column_int(stmt, 0) != 0;
    else if (step != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

int capture_state_record(store *st, const char *slot, int done, uint64_t consistent_lsn, char *err,
                         size_t errlen)
{
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = NULL;
    sqlite3 *db = store_db(st);
    char lsn[18];
    int rc = -1;
    lsn_format(consistent_lsn, lsn);
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO capture_state (slot, snapshot_done, consistent_lsn, updated_at) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT (slot) DO UPDATE SET "
                           "snapshot_done = excluded.snapshot_done, consistent_lsn = excluded.consistent_lsn, "
                           "updated_at = excluded.updated_at",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(stmt, 1, slot, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, done ? 1 : 0);
    sqlite3_bind_text(stmt, 3, lsn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)time(NULL));
    if (sqlite3_step(stmt) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        snprintf(err, errlen, "store: %s", sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}
