/* rules_history: the console's read-only views of the rules in the store (see rules_history.h). */
#include "rules/rules_history.h"

#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "pipeline/event.h"

static sqlite3_stmt *rh_prepare(store *st, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) != SQLITE_OK) {
        err_setf(err, errlen, "rules: %s", sqlite3_errmsg(store_db(st)));
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

/* Column c of the current row as JSON: integer, text or null. */
static json_t *rh_col(sqlite3_stmt *stmt, int c)
{
    switch (sqlite3_column_type(stmt, c)) {
    case SQLITE_INTEGER:
        return json_integer((json_int_t)sqlite3_column_int64(stmt, c));
    case SQLITE_NULL:
        return json_null();
    default:
        return json_string((const char *)sqlite3_column_text(stmt, c));
    }
}

/* Every row of stmt as an object with the given member names (one per column), appended to arr.
 * 0, or -1 with err. */
static int rh_rows(store *st, sqlite3_stmt *stmt, const char *const *names, json_t *arr, char *err, size_t errlen)
{
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int c = 0; o && names[c]; c++) {
            json_t *v = rh_col(stmt, c);
            if (!v && sqlite3_column_type(stmt, c) == SQLITE_TEXT)
                v = json_string("(not UTF-8)");
            json_object_set_new(o, names[c], v ? v : json_null());
        }
        if (!o || json_array_append_new(arr, o) < 0)
            return err_setf(err, errlen, "out of memory");
    }
    if (step != SQLITE_DONE)
        return err_setf(err, errlen, "rules: %s", sqlite3_errmsg(store_db(st)));
    return 0;
}

json_t *rules_history_list(store *st, char *err, size_t errlen)
{
    static const char *const names[] = {"name", "pattern", "position", "active_version", "latest", "versions",
                                        "updated_at", NULL};
    json_t *arr = json_array();
    store_lock(st);
    sqlite3_stmt *stmt = rh_prepare(st,
                                    "SELECT r.name, r.pattern, r.position, r.active_version, max(v.version), "
                                    "count(v.version), r.updated_at FROM rules r "
                                    "LEFT JOIN rule_versions v ON v.name = r.name "
                                    "GROUP BY r.name ORDER BY r.position, r.name",
                                    err, errlen);
    int rc = stmt && arr ? rh_rows(st, stmt, names, arr, err, errlen) : -1;
    sqlite3_finalize(stmt);
    store_unlock(st);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int rules_history_rule(store *st, const char *name, uint32_t only, json_t **out, char *err, size_t errlen)
{
    static const char *const rnames[] = {"name", "pattern", "position", "active_version", "latest", "updated_at",
                                         NULL};
    static const char *const vnames[] = {"version", "author", "created_at", "comment", "active", "source", NULL};
    json_t *rows = json_array(), *versions = json_array();
    sqlite3_stmt *r = NULL, *v = NULL;
    int rc = -1;
    *out = NULL;
    store_lock(st);
    r = rh_prepare(st,
                   "SELECT r.name, r.pattern, r.position, r.active_version, "
                   "(SELECT max(version) FROM rule_versions WHERE name = r.name), r.updated_at "
                   "FROM rules r WHERE r.name = ?1",
                   err, errlen);
    v = rh_prepare(st,
                   "SELECT v.version, v.author, v.created_at, v.comment, "
                   "CASE WHEN r.active_version = v.version THEN 'true' ELSE 'false' END, v.source "
                   "FROM rule_versions v JOIN rules r ON r.name = v.name "
                   "WHERE v.name = ?1 AND (?2 = 0 OR v.version = ?2) ORDER BY v.version DESC",
                   err, errlen);
    if (!r || !v || !rows || !versions)
        goto out;
    sqlite3_bind_text(r, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(v, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(v, 2, (sqlite3_int64)only);
    if (rh_rows(st, r, rnames, rows, err, errlen) < 0 || rh_rows(st, v, vnames, versions, err, errlen) < 0)
        goto out;
    if (json_array_size(rows) == 0) {
        rc = RULES_HISTORY_NO_RULE;
        goto out;
    }
    if (only && json_array_size(versions) == 0) {
        rc = RULES_HISTORY_NO_VERSION;
        goto out;
    }
    size_t i;
    json_t *ver;
    json_array_foreach(versions, i, ver) {   /* the CASE above yields the text "true"/"false" */
        json_t *a = json_object_get(ver, "active");
        json_object_set_new(ver, "active", json_boolean(json_is_string(a) && !strcmp(json_string_value(a), "true")));
    }
    *out = json_incref(json_array_get(rows, 0));
    json_object_set(*out, "versions", versions);
    rc = 0;
out:
    sqlite3_finalize(r);
    sqlite3_finalize(v);
    store_unlock(st);
    json_decref(rows);
    json_decref(versions);
    return rc;
}

int rules_history_source(store *st, const char *name, uint32_t version, char **source, char **pattern, char *err,
                         size_t errlen)
{
    json_t *rule = NULL;
    if (source)
        *source = NULL;
    if (pattern)
        *pattern = NULL;
    int rc = rules_history_rule(st, name, version, &rule, err, errlen);
    if (rc != 0)
        return rc;
    json_t *ver = json_array_get(json_object_get(rule, "versions"), 0);
    const char *src = json_string_value(json_object_get(ver, "source"));
    const char *pat = json_string_value(json_object_get(rule, "pattern"));
    if (source && !(*source = strdup(src ? src : "")))
        rc = -1;
    if (pattern && !(*pattern = strdup(pat ? pat : "")))
        rc = -1;
    json_decref(rule);
    if (rc < 0) {
        if (source) {
            free(*source);
            *source = NULL;
        }
        if (pattern) {
            free(*pattern);
            *pattern = NULL;
        }
        return err_setf(err, errlen, "out of memory");
    }
    return 0;
}

json_t *rules_history_dead_letters(store *st, int limit, char *err, size_t errlen)
{
    static const char *const names[] = {"id",         "ts",          "rule",          "version",    "error",
                                        "table",      "lsn",         "event",         "replayable", "replay_state",
                                        "replay_lsn", "replayed_at", "replay_result", "replay_of",  NULL};
    json_t *arr = json_array();
    store_lock(st);
    sqlite3_stmt *stmt = rh_prepare(st,
                                    "SELECT id, ts, rule, version, error, table_name, lsn, event, "
                                    "event_typed IS NOT NULL, replay_state, replay_lsn, replayed_at, replay_result, "
                                    "replay_of FROM dead_letters ORDER BY id DESC LIMIT ?1",
                                    err, errlen);
    int rc = -1;
    if (stmt && arr) {
        sqlite3_bind_int(stmt, 1, limit);
        rc = rh_rows(st, stmt, names, arr, err, errlen);
    }
    sqlite3_finalize(stmt);
    store_unlock(st);
    if (rc < 0) {
        json_decref(arr);
        return NULL;
    }
    size_t i;
    json_t *dl;
    json_array_foreach(arr, i, dl) {   /* the event as a JSON value rather than text, the LSN as text */
        const char *text = json_string_value(json_object_get(dl, "event"));
        json_t *ev = text ? json_loads(text, 0, NULL) : NULL;
        if (ev)
            json_object_set_new(dl, "event", ev);
        json_object_set_new(dl, "replayable", json_boolean(json_integer_value(json_object_get(dl, "replayable"))));
        json_t *rl = json_object_get(dl, "replay_lsn");
        if (json_is_integer(rl)) {
            char lsn[18];
            lsn_format((uint64_t)json_integer_value(rl), lsn);
            json_object_set_new(dl, "replay_lsn", json_string(lsn));
        }
    }
    return arr;
}
