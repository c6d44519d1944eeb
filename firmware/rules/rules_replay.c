/* rules_replay: requested, assigned and finished replays of dead letters in the store
 * (see rules_replay.h). */
#include "rules/rules_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errbuf.h"

static int rp_fail(store *st, char *err, size_t errlen)
{
    return err_setf(err, errlen, "dead letters: %s", sqlite3_errmsg(store_db(st)));
}

static sqlite3_stmt *rp_prepare(store *st, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) != SQLITE_OK) {
        rp_fail(st, err, errlen);
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

static int rp_exec(store *st, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(store_db(st), sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_setf(err, errlen, "dead letters: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Run stmt (bound) to completion; with out, the first column of the first row (def when none). */
static int rp_step(store *st, sqlite3_stmt *stmt, int64_t def, int64_t *out, char *err, size_t errlen)
{
    int step = sqlite3_step(stmt);
    if (out)
        *out = step == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL ? sqlite3_column_int64(stmt, 0) : def;
    while (step == SQLITE_ROW)
        step = sqlite3_step(stmt);
    int rc = step == SQLITE_DONE ? 0 : rp_fail(st, err, errlen);
    sqlite3_reset(stmt);
    return rc;
}

/* The single integer sql answers (def when no row), or -1; under the store's lock. */
static int64_t rp_query_int(store *st, const char *sql, int64_t def)
{
    int64_t c = -1;
    store_lock(st);
    sqlite3_stmt *stmt = rp_prepare(st, sql, NULL, 0);
    if (stmt && rp_step(st, stmt, def, &c, NULL, 0) < 0)
        c = -1;
    sqlite3_finalize(stmt);
    store_unlock(st);
    return c;
}

int64_t rules_replay_counter(store *st)
{
    return rp_query_int(st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'dead_letter_replays'", 0);
}

int64_t rules_replay_requested(store *st)
{
    return rp_query_int(st, "SELECT count(*) FROM dead_letters WHERE replay_state = 'requested'", 0);
}

/* Mark one dead letter by id (lock and transaction held). */
static int rp_request_id(store *st, sqlite3_stmt *get, sqlite3_stmt *mark, int64_t id, rules_replay_counts *c,
                         char *err, size_t errlen)
{
    sqlite3_bind_int64(get, 1, id);
    int step = sqlite3_step(get);
    if (step == SQLITE_DONE) {
        c->missing++;
    } else if (step != SQLITE_ROW) {
        sqlite3_reset(get);
        return rp_fail(st, err, errlen);
    } else if (strcmp((const char *)sqlite3_column_text(get, 0), "none") != 0) {
        c->already++;
    } else if (!sqlite3_column_int(get, 1)) {
        c->unreplayable++;
    } else {
        sqlite3_bind_int64(mark, 1, id);
        if (rp_step(st, mark, 0, NULL, err, errlen) < 0) {
            sqlite3_reset(get);
            return -1;
        }
        c->requested++;
    }
    sqlite3_reset(get);
    return 0;
}

/* Mark every dead letter of rule (NULL: all) and count the others (lock and transaction held). */
static int rp_request_all(store *st, const char *rule, rules_replay_counts *c, char *err, size_t errlen)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM dead_letters WHERE replay_state <> 'none' AND (?1 IS NULL OR rule = ?1)",
        "SELECT count(*) FROM dead_letters WHERE replay_state = 'none' AND event_typed IS NULL "
        "AND (?1 IS NULL OR rule = ?1)",
        "SELECT count(*) FROM dead_letters WHERE replay_state = 'none' AND event_typed IS NOT NULL "
        "AND (?1 IS NULL OR rule = ?1)",
        "UPDATE dead_letters SET replay_state = 'requested', replay_lsn = NULL, replay_seq = NULL, "
        "replay_result = NULL WHERE replay_state = 'none' AND event_typed IS NOT NULL AND (?1 IS NULL OR rule = ?1)",
    };
    int64_t v[3] = {0, 0, 0};
    for (int i = 0; i < 4; i++) {
        sqlite3_stmt *stmt = rp_prepare(st, sql[i], err, errlen);
        if (!stmt)
            return -1;
        sqlite3_bind_text(stmt, 1, rule, -1, SQLITE_STATIC);
        int rc = rp_step(st, stmt, 0, i < 3 ? &v[i] : NULL, err, errlen);
        sqlite3_finalize(stmt);
        if (rc < 0)
            return -1;
    }
    c->already = (long)v[0];
    c->unreplayable = (long)v[1];
    c->requested = (long)v[2];
    return 0;
}

int rules_replay_request(store *st, const int64_t *ids, size_t nids, const char *rule, int all,
                         rules_replay_counts *out, char *err, size_t errlen)
{
    sqlite3_stmt *get = NULL, *mark = NULL;
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (!nids && !rule && !all)
        return err_setf(err, errlen, "name the dead letters to replay: ids, a rule, or all");
    store_lock(st);
    if (rp_exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
        goto out;
    if (nids) {
        get = rp_prepare(st, "SELECT replay_state, event_typed IS NOT NULL FROM dead_letters WHERE id = ?1", err,
                         errlen);
        mark = rp_prepare(st,
                          "UPDATE dead_letters SET replay_state = 'requested', replay_lsn = NULL, replay_seq = NULL, "
                          "replay_result = NULL WHERE id = ?1",
                          err, errlen);
        if (!get || !mark)
            goto rollback;
        for (size_t i = 0; i < nids; i++)
            if (rp_request_id(st, get, mark, ids[i], out, err, errlen) < 0)
                goto rollback;
    } else if (rp_request_all(st, all ? NULL : rule, out, err, errlen) < 0) {
        goto rollback;
    }
    if (out->requested && rp_exec(st,
                                  "INSERT INTO meta (key, value) VALUES ('dead_letter_replays', '1') "
                                  "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                                  err, errlen) < 0)
        goto rollback;
    if (rp_exec(st, "COMMIT", err, errlen) < 0)
        goto rollback;
    rc = 0;
    goto out;
rollback:
    rp_exec(st, "ROLLBACK", NULL, 0);
out:
    sqlite3_finalize(get);
    sqlite3_finalize(mark);
    store_unlock(st);
    return rc;
}

int rules_replay_assigned(store *st, uint64_t **lsns, size_t *n, char *err, size_t errlen)
{
    uint64_t *v = NULL;
    size_t count = 0, cap = 0;
    int rc = -1, step;
    *lsns = NULL;
    *n = 0;
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = rp_prepare(st,
                                    "SELECT DISTINCT replay_lsn FROM dead_letters WHERE replay_lsn IS NOT NULL "
                                    "ORDER BY replay_lsn",
                                    err, errlen);
    if (!stmt) {
        store_unlock(st);
        return -1;
    }
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                err_setf(err, errlen, "out of memory");
                goto out;
            }
            v = nv;
            cap = ncap;
        }
        v[count++] = (uint64_t)sqlite3_column_int64(stmt, 0);
    }
    if (step != SQLITE_DONE) {
        rp_fail(st, err, errlen);
        goto out;
    }
    *lsns = v;
    *n = count;
    v = NULL;
    rc = 0;
out:
    free(v);
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

void rules_replay_items_free(rules_replay_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].typed);
        free(items[i].result);
    }
    free(items);
}

/* Append the rows of stmt (id, replay_seq, event_typed) to the list. */
static int rp_collect(store *st, sqlite3_stmt *stmt, rules_replay_item **items, size_t *n, size_t *cap, char *err,
                      size_t errlen)
{
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            rules_replay_item *nv = realloc(*items, ncap * sizeof *nv);
            if (!nv)
                return err_setf(err, errlen, "out of memory");
            *items = nv;
            *cap = ncap;
        }
        const char *typed = (const char *)sqlite3_column_text(stmt, 2);
        rules_replay_item *it = &(*items)[(*n)++];
        *it = (rules_replay_item){sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
                                  strdup(typed ? typed : ""), NULL};
        if (!it->typed)
            return err_setf(err, errlen, "out of memory");
    }
    return step == SQLITE_DONE ? 0 : rp_fail(st, err, errlen);
}

int rules_replay_take(store *st, uint64_t end_lsn, int take_new, rules_replay_item **items, size_t *n, int *more,
                      char *err, size_t errlen)
{
    rules_replay_item *v = NULL;
    size_t count = 0, cap = 0;
    sqlite3_stmt *old = NULL, *fresh = NULL, *assign = NULL;
    int rc = -1;
    *items = NULL;
    *n = 0;
    *more = 0;
    store_lock(st);
    if (rp_exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
        goto out;
    old = rp_prepare(st,
                     "SELECT id, replay_seq, event_typed FROM dead_letters WHERE replay_lsn = ?1 "
                     "ORDER BY replay_seq, id",
                     err, errlen);
    fresh = rp_prepare(st,
                       "SELECT id, -1, event_typed FROM dead_letters WHERE replay_state = 'requested' "
                       "AND replay_lsn IS NULL ORDER BY id LIMIT ?1",
                       err, errlen);
    assign = rp_prepare(st,
                        "UPDATE dead_letters SET replay_state = 'replayed', replay_lsn = ?2, replay_seq = ?3, "
                        "replayed_at = ?4, replay_result = 'replaying' WHERE id = ?1",
                        err, errlen);
    if (!old || !fresh || !assign)
        goto rollback;
    sqlite3_bind_int64(old, 1, (sqlite3_int64)end_lsn);
    if (rp_collect(st, old, &v, &count, &cap, err, errlen) < 0)
        goto rollback;
    if (take_new) {
        size_t first = count;
        int64_t next = count ? v[count - 1].seq + 1 : 0;
        sqlite3_bind_int(fresh, 1, RULES_REPLAY_BATCH + 1);
        if (rp_collect(st, fresh, &v, &count, &cap, err, errlen) < 0)
            goto rollback;
        if (count - first > RULES_REPLAY_BATCH) {
            free(v[--count].typed);
            *more = 1;
        }
        for (size_t i = first; i < count; i++) {
            v[i].seq = next++;
            sqlite3_bind_int64(assign, 1, v[i].id);
            sqlite3_bind_int64(assign, 2, (sqlite3_int64)end_lsn);
            sqlite3_bind_int64(assign, 3, v[i].seq);
            sqlite3_bind_int64(assign, 4, (sqlite3_int64)time(NULL));
            if (rp_step(st, assign, 0, NULL, err, errlen) < 0)
                goto rollback;
        }
    }
    if (rp_exec(st, "COMMIT", err, errlen) < 0)
        goto rollback;
    *items = v;
    *n = count;
    v = NULL;
    rc = 0;
    goto out;
rollback:
    rp_exec(st, "ROLLBACK", NULL, 0);
out:
    sqlite3_finalize(old);
    sqlite3_finalize(fresh);
    sqlite3_finalize(assign);
    store_unlock(st);
    rules_replay_items_free(v, count);
    return rc;
}

int rules_replay_done(store *st, const rules_replay_item *items, size_t n, char *err, size_t errlen)
{
    int rc = -1;
    store_lock(st);
    sqlite3_stmt *stmt = NULL;
    if (rp_exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
        goto out;
    if (!(stmt = rp_prepare(st, "UPDATE dead_letters SET replay_result = ?2 WHERE id = ?1", err, errlen)))
        goto rollback;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(stmt, 1, items[i].id);
        sqlite3_bind_text(stmt, 2, items[i].result ? items[i].result : "replayed", -1, SQLITE_STATIC);
        if (rp_step(st, stmt, 0, NULL, err, errlen) < 0)
            goto rollback;
    }
    if (rp_exec(st, "COMMIT", err, errlen) < 0)
        goto rollback;
    rc = 0;
    goto out;
rollback:
    rp_exec(st, "ROLLBACK", NULL, 0);
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}
