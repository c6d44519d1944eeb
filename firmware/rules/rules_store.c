/* rules_store: versioned rules, dead letters and reference data in SQLite (see rules_store.h). */
#include "rules/rules_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/errbuf.h"
#include "rules/rules_typed.h"

static int rs_fail(store *st, char *err, size_t errlen)
{
    return err_setf(err, errlen, "rules: %s", sqlite3_errmsg(store_db(st)));
}

static sqlite3_stmt *rs_prepare(store *st, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(store_db(st), sql, -1, &stmt, NULL) != SQLITE_OK) {
        rs_fail(st, err, errlen);
        sqlite3_finalize(stmt);
        return NULL;
    }
    return stmt;
}

/* Run sql with text parameters (NULL binds NULL), no rows expected. */
static int rs_exec(store *st, const char *sql, int n, const char *const *params, char *err, size_t errlen)
{
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    int rc = -1;
    sqlite3_stmt *stmt = rs_prepare(st, sql, err, errlen);
    if (stmt) {
        for (int i = 0; i < n; i++)
            sqlite3_bind_text(stmt, i + 1, params[i], -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : rs_fail(st, err, errlen);
    }
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

/* One integer from a query with text parameters; def when there is no row. -1 with err on error. */
static int rs_int(store *st, const char *sql, int n, const char *const *params, int64_t def, int64_t *out, char *err,
                  size_t errlen)
{
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    int rc = -1;
    sqlite3_stmt *stmt = rs_prepare(st, sql, err, errlen);
    if (stmt) {
        for (int i = 0; i < n; i++)
            sqlite3_bind_text(stmt, i + 1, params[i], -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(stmt);
        rc = 0;
        if (step == SQLITE_ROW)
            *out = sqlite3_column_type(stmt, 0) == SQLITE_NULL ? def : sqlite3_column_int64(stmt, 0);
        else if (step == SQLITE_DONE)
            *out = def;
        else
            rc = rs_fail(st, err, errlen);
    }
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

int rules_store_add_version(store *st, const char *name, const char *pattern, const char *source,
                            const char *author, const char *comment, uint32_t *version, char *err, size_t errlen)
{
    char now[32], ver[32];
    int64_t v = 0;
    int rc = -1;
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    store_lock(st);
    if (rs_exec(st, "BEGIN IMMEDIATE", 0, NULL, err, errlen) < 0)
        goto out;
    const char *up[] = {name, pattern, now};
    if (rs_exec(st,
                "INSERT INTO rules (name, pattern, position, updated_at) VALUES (?1, ?2, "
                "(SELECT coalesce(max(position), 0) + 1 FROM rules), ?3) "
                "ON CONFLICT (name) DO UPDATE SET pattern = ?2, updated_at = ?3",
                3, up, err, errlen) < 0 ||
        rs_int(st, "SELECT max(version) FROM rule_versions WHERE name = ?1", 1, (const char *const[]){name}, 0, &v,
               err, errlen) < 0)
        goto rollback;
    snprintf(ver, sizeof ver, "%lld", (long long)(v + 1));
    const char *ins[] = {name, ver, source, author, comment ? comment : "", now};
    if (rs_exec(st,
                "INSERT INTO rule_versions (name, version, source, author, comment, created_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                6, ins, err, errlen) < 0 ||
        rs_exec(st, "COMMIT", 0, NULL, err, errlen) < 0)
        goto rollback;
    *version = (uint32_t)(v + 1);
    rc = 0;
    goto out;
rollback:
    rs_exec(st, "ROLLBACK", 0, NULL, NULL, 0);
out:
    store_unlock(st);
    return rc;
}

int rules_store_activate(store *st, const char *name, uint32_t version, char *err, size_t errlen)
{
    char ver[32], now[32];
    int64_t found = 0;
    int rc = -1;
    snprintf(ver, sizeof ver, "%" PRIu32, version);
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    store_lock(st);
    if (rs_exec(st, "BEGIN IMMEDIATE", 0, NULL, err, errlen) < 0)
        goto out;
    if (rs_int(st, "SELECT count(*) FROM rules WHERE name = ?1", 1, (const char *const[]){name}, 0, &found, err,
               errlen) < 0)
        goto rollback;
    if (!found) {
        err_setf(err, errlen, "no rule named %s", name);
        goto rollback;
    }
    if (version && (rs_int(st, "SELECT count(*) FROM rule_versions WHERE name = ?1 AND version = ?2", 2,
                           (const char *const[]){name, ver}, 0, &found, err, errlen) < 0 ||
                    !found)) {
        if (!found)
            err_setf(err, errlen, "rule %s has no version %s", name, ver);
        goto rollback;
    }
    const char *act[] = {name, version ? ver : NULL, now};
    if (rs_exec(st, "UPDATE rules SET active_version = ?2, updated_at = ?3 WHERE name = ?1", 3, act, err, errlen) < 0 ||
        rs_exec(st,
                "INSERT INTO meta (key, value) VALUES ('rules_generation', '1') "
                "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                0, NULL, err, errlen) < 0 ||
        rs_exec(st, "COMMIT", 0, NULL, err, errlen) < 0)
        goto rollback;
    rc = 0;
    goto out;
rollback:
    rs_exec(st, "ROLLBACK", 0, NULL, NULL, 0);
out:
    store_unlock(st);
    return rc;
}

int64_t rules_store_generation(store *st)
{
    int64_t g = 0;
    if (rs_int(st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'rules_generation'", 0, NULL, 0, &g, NULL, 0) < 0)
        return -1;
    return g;
}

void rules_store_specs_free(rule_spec *specs, size_t n)
{
    for (size_t i = 0; specs && i < n; i++) {
        free((char *)specs[i].name);
        free((char *)specs[i].pattern);
        free((char *)specs[i].source);
    }
    free(specs);
}

int rules_store_active(store *st, rule_spec **specs, size_t *n, int64_t *generation, char *err, size_t errlen)
{
    rule_spec *v = NULL;
    size_t count = 0, cap = 0;
    int rc = -1, step;
    store_lock(st);   /* the generation and the rules, read together */
    *generation = rules_store_generation(st);
    sqlite3_stmt *stmt = rs_prepare(st,
                                    "SELECT r.name, r.pattern, v.version, v.source FROM rules r "
                                    "JOIN rule_versions v ON v.name = r.name AND v.version = r.active_version "
                                    "ORDER BY r.position, r.name",
                                    err, errlen);
    if (!stmt || *generation < 0)
        goto out;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            rule_spec *nv = realloc(v, ncap * sizeof *v);
            if (!nv)
                goto oom;
            v = nv;
            cap = ncap;
        }
        rule_spec *s = &v[count++];
        memset(s, 0, sizeof *s);
        s->name = strdup((const char *)sqlite3_column_text(stmt, 0));
        s->pattern = strdup((const char *)sqlite3_column_text(stmt, 1));
        s->version = (uint32_t)sqlite3_column_int64(stmt, 2);
        s->source = strdup((const char *)sqlite3_column_text(stmt, 3));
        if (!s->name || !s->pattern || !s->source)
            goto oom;
    }
    if (step != SQLITE_DONE) {
        rs_fail(st, err, errlen);
        goto out;
    }
    *specs = v;
    *n = count;
    v = NULL;
    rc = 0;
    goto out;
oom:
    err_setf(err, errlen, "out of memory");
out:
    sqlite3_finalize(stmt);
    store_unlock(st);
    rules_store_specs_free(v, count);
    return rc;
}

int rules_store_dead_letter_add(store *st, const rules_dead_letter *dl, const char *event_json,
                                const char *event_typed, int64_t replay_of, int64_t *id, char *err, size_t errlen)
{
    char now[32], ver[32], lsn[18], table[600], key[65], of[32];
    int64_t found = 0, got = 0;
    int rc = -1;
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    snprintf(ver, sizeof ver, "%" PRIu32, dl->version);
    snprintf(of, sizeof of, "%lld", (long long)replay_of);
    lsn_format(dl->ev->lsn, lsn);
    snprintf(table, sizeof table, "%s.%s", dl->ev->table->schema, dl->ev->table->name);
    rules_typed_key(event_typed, key);
    const char *p[] = {now, dl->rule, ver, dl->error, table, lsn, event_json, event_typed, key, replay_of ? of : NULL};
    store_lock(st);   /* the look-up and the insert together */
    if (rs_int(st, "SELECT id FROM dead_letters WHERE event_key = ?1 ORDER BY id LIMIT 1", 1,
               (const char *const[]){key}, 0, &found, err, errlen) < 0)
        goto out;
    if (found) {
        got = found;
        rc = 1;
        goto out;
    }
    if (rs_int(st,
               "INSERT INTO dead_letters (ts, rule, version, error, table_name, lsn, event, event_typed, event_key, "
               "replay_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
               10, p, 0, &got, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    store_unlock(st);
    if (id)
        *id = got;
    return rc;
}

static int rs_lookup(void *arg, const char *table, const char *key, char **out, char *err, size_t errlen)
{
    store *st = arg;
    *out = NULL;
    store_lock(st);   /* the shared connection: not inside another thread's transaction */
    int rc = -1;
    sqlite3_stmt *stmt = rs_prepare(st, "SELECT value FROM reference_data WHERE table_name = ?1 AND key = ?2", err,
                                    errlen);
    if (stmt) {
        sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
        int step = sqlite3_step(stmt);
        rc = 0;
        if (step == SQLITE_ROW) {
            if (!(*out = strdup((const char *)sqlite3_column_text(stmt, 0))))
                rc = err_setf(err, errlen, "out of memory");
        } else if (step != SQLITE_DONE) {
            rc = rs_fail(st, err, errlen);
        }
    }
    sqlite3_finalize(stmt);
    store_unlock(st);
    return rc;
}

rules_lookup_ops rules_store_lookups(store *st)
{
    return (rules_lookup_ops){rs_lookup, st};
}

int rules_store_reference_set(store *st, const char *table, const char *key, const char *val, char *err,
                              size_t errlen)
{
    const char *p[] = {table, key, val};
    if (!val)
        return rs_exec(st, "DELETE FROM reference_data WHERE table_name = ?1 AND key = ?2", 2, p, err, errlen);
    return rs_exec(st,
                   "INSERT INTO reference_data (table_name, key, value) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT (table_name, key) DO UPDATE SET value = ?3",
                   3, p, err, errlen);
}
