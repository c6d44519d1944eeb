/* pg_schema: the registry of table definitions and schema versions (see pg_schema.h).
 * An open-addressing map from table oid to the current table_def; every table_def ever made is
 * kept until destroy so borrowed pointers stay valid. New versions are recorded in the store's
 * schema_versions table (columns as JSON); the first proposal for an oid in this process is
 * compared with the newest recorded version, so numbering continues across restarts. */
#include "capture/pg_schema.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct schema_slot {
    uint32_t oid;
    table_def *def;   /* NULL: empty slot */
} schema_slot;

struct pg_schema {
    store *st;
    schema_slot *slots;   /* power-of-two capacity, linear probing */
    size_t cap, used;
    table_def **all;      /* every table_def made, freed at destroy */
    size_t nall, capall;
};

static int schema_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int schema_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static char *schema_strdup(const char *s)
{
    return strdup(s ? s : "");
}

/* Deep copy of def (table_def_copy) with the given version and empty strings for missing names;
 * NULL on out-of-memory. */
static table_def *schema_def_copy(const table_def *def, uint32_t version)
{
    table_def *t = table_def_copy(def);
    if (!t)
        return NULL;
    t->version = version;
    int oom = (!t->schema && !(t->schema = schema_strdup(NULL))) || (!t->name && !(t->name = schema_strdup(NULL)));
    for (int i = 0; i < t->ncols; i++) {
        column_def *c = &t->cols[i];
        oom |= (!c->name && !(c->name = schema_strdup(NULL))) ||
               (!c->type_name && !(c->type_name = schema_strdup(NULL)));
    }
    if (oom) {
        table_def_free(t);
        return NULL;
    }
    return t;
}

static int str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Both NULL, or equal strings. */
static int opt_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Same columns (name, type, typmod, key flags, NOT NULL, enum labels) in the same order. */
static int columns_equal(const table_def *a, const table_def *b)
{
    if (a->ncols != b->ncols)
        return 0;
    for (int i = 0; i < a->ncols; i++) {
        const column_def *x = &a->cols[i], *y = &b->cols[i];
        if (x->type_oid != y->type_oid || x->typmod != y->typmod || !x->is_key != !y->is_key ||
            !x->is_pk != !y->is_pk || !x->not_null != !y->not_null || !str_eq(x->name, y->name) ||
            !opt_str_eq(x->enum_labels, y->enum_labels))
            return 0;
    }
    return 1;
}

static int defs_equal(const table_def *a, const table_def *b)
{
    return a->replica_identity == b->replica_identity && str_eq(a->schema, b->schema) &&
           str_eq(a->name, b->name) && columns_equal(a, b);
}

/* ---- the oid map -------------------------------------------------------------------------- */

static schema_slot *schema_slot_find(const pg_schema *s, uint32_t oid)
{
    size_t mask = s->cap - 1;
    for (size_t i = (oid * 2654435761u) & mask;; i = (i + 1) & mask)
        if (!s->slots[i].def || s->slots[i].oid == oid)
            return &s->slots[i];
}

static int schema_map_put(pg_schema *s, table_def *def)
{
    if ((s->used + 1) * 4 > s->cap * 3) {
        size_t ncap = s->cap * 2;
        schema_slot *old = s->slots, *ns = calloc(ncap, sizeof *ns);
        size_t ocap = s->cap;
        if (!ns)
            return -1;
        s->slots = ns;
        s->cap = ncap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].def)
                *schema_slot_find(s, old[i].oid) = old[i];
        free(old);
    }
    schema_slot *slot = schema_slot_find(s, def->oid);
    if (!slot->def)
        s->used++;
    slot->oid = def->oid;
    slot->def = def;
    return 0;
}

static int schema_keep(pg_schema *s, table_def *def)
{
    if (s->nall == s->capall) {
        size_t ncap = s->capall ? s->capall * 2 : 16;
        table_def **n = realloc(s->all, ncap * sizeof *n);
        if (!n)
            return -1;
        s->all = n;
        s->capall = ncap;
    }
    s->all[s->nall++] = def;
    return 0;
}

pg_schema *pg_schema_create(store *st)
{
    pg_schema *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->st = st;
    s->cap = 64;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return NULL;
    }
    return s;
}

void pg_schema_destroy(pg_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nall; i++)
        table_def_free(s->all[i]);
    free(s->all);
    free(s->slots);
    free(s);
}

const table_def *pg_schema_get(pg_schema *s, uint32_t oid)
{
    return schema_slot_find(s, oid)->def;
}

/* ---- the store ---------------------------------------------------------------------------- */

static char *columns_json(const table_def *def)
{
    json_t *arr = json_array();
    char *out = NULL;
    if (!arr)
        return NULL;
    for (int i = 0; i < def->ncols; i++) {
        const column_def *c = &def->cols[i];
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:b, s:b, s:b, s:s?}", "name", c->name ? c->name : "",
                              "type", c->type_name ? c->type_name : "", "type_oid", (json_int_t)c->type_oid,
                              "typmod", (json_int_t)c->typmod, "key", c->is_key ? 1 : 0, "pk",
                              c->is_pk ? 1 : 0, "not_null", c->not_null ? 1 : 0, "enum", c->enum_labels);
        if (!o || json_array_append_new(arr, o) < 0)
            goto out;
    }
    out = json_dumps(arr, JSON_COMPACT);
out:
    json_decref(arr);
    return out;
}

/* Do the recorded columns (JSON text) match def's? */
static int columns_json_equal(const char *text, const table_def *def)
{
    json_t *arr = json_loads(text, 0, NULL);
    int eq = 0;
    if (!json_is_array(arr) || json_array_size(arr) != (size_t)def->ncols)
        goto out;
    for (int i = 0; i < def->ncols; i++) {
        const column_def *c = &def->cols[i];
        json_t *o = json_array_get(arr, (size_t)i);
        const char *name = json_string_value(json_object_get(o, "name"));
        json_t *key = json_object_get(o, "key"), *pk = json_object_get(o, "pk");
        json_t *not_null = json_object_get(o, "not_null");
        if (!name || !str_eq(name, c->name) ||
            json_integer_value(json_object_get(o, "type_oid")) != (json_int_t)c->type_oid ||
            json_integer_value(json_object_get(o, "typmod")) != (json_int_t)c->typmod ||
            !json_is_boolean(key) || json_is_true(key) != !!c->is_key || !json_is_boolean(pk) ||
            json_is_true(pk) != !!c->is_pk || !json_is_boolean(not_null) ||
            json_is_true(not_null) != !!c->not_null ||
            !opt_str_eq(json_string_value(json_object_get(o, "enum")), c->enum_labels))
            goto out;
    }
    eq = 1;
out:
    json_decref(arr);
    return eq;
}

/* The newest recorded version of oid: *version 0 when none; *same 1 when it matches def. */
static int schema_store_latest(pg_schema *s, const table_def *def, uint32_t *version, int *same,
                               char *err, size_t errlen)
{
    store_lock(s->st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = NULL;
    int rc = -1, step;
    *version = 0;
    *same = 0;
    if (sqlite3_prepare_v2(store_db(s->st),
                           "SELECT version, schema_name, table_name, columns FROM schema_versions "
                           "WHERE table_oid = ? ORDER BY version DESC LIMIT 1",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(stmt, 1, def->oid);
    step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        const char *sn = (const char *)sqlite3_column_text(stmt, 1);
        const char *tn = (const char *)sqlite3_column_text(stmt, 2);
        const char *cols = (const char *)sqlite3_column_text(stmt, 3);
        sqlite3_int64 v = sqlite3_column_int64(stmt, 0);
        if (v < 0 || v >= UINT32_MAX) {
            schema_fail(err, errlen, "schema_versions: bad version %lld for table oid %u", (long long)v,
                        def->oid);
            goto out;
        }
        *version = (uint32_t)v;
        *same = sn && tn && cols && str_eq(sn, def->schema) && str_eq(tn, def->name) &&
                columns_json_equal(cols, def);
    } else if (step != SQLITE_DONE) {
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    schema_fail(err, errlen, "schema_versions: %s", sqlite3_errmsg(store_db(s->st)));
out:
    sqlite3_finalize(stmt);
    store_unlock(s->st);
    return rc;
}

static int schema_store_record(pg_schema *s, const table_def *def, uint64_t lsn, char *err, size_t errlen)
{
    store_lock(s->st);   /* the shared connection: not inside another thread's transaction */
    sqlite3_stmt *stmt = NULL;
    char lsn_text[18];
    char *cols = columns_json(def);
    int rc = -1;
    if (!cols) {
        schema_fail(err, errlen, "schema_versions: out of memory");
        goto out;
    }
    lsn_format(lsn, lsn_text);
    if (sqlite3_prepare_v2(store_db(s->st),
                           "INSERT INTO schema_versions (table_oid, version, schema_name, table_name, "
                           "columns, lsn, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(stmt, 1, def->oid);
    sqlite3_bind_int64(stmt, 2, def->version);
    sqlite3_bind_text(stmt, 3, def->schema ? def->schema : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, def->name ? def->name : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, cols, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, lsn_text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 7, (sqlite3_int64)time(NULL));
    if (sqlite3_step(stmt) != SQLITE_DONE)
        goto fail;
    rc = 0;
    goto out;
fail:
    schema_fail(err, errlen, "schema_versions: recording %s.%s version %u: %s", def->schema, def->name,
                def->version, sqlite3_errmsg(store_db(s->st)));
out:
    sqlite3_finalize(stmt);
    free(cols);
    store_unlock(s->st);
    return rc;
}

/* When the registry has no definition for an oid yet, the newest recorded version is the
 * baseline: an identical proposal gets that version again (nothing recorded) and counts as
 * changed, since it is new to this process; a different one gets the next number. */
const table_def *pg_schema_update(pg_schema *s, const table_def *def, uint64_t lsn, int *changed,
                                  char *err, size_t errlen)
{
    table_def *cur = schema_slot_find(s, def->oid)->def, *made = NULL;
    uint32_t version;
    int record = 1, same = 0;
    if (changed)
        *changed = 0;
    if (def->ncols < 0 || (def->ncols > 0 && !def->cols)) {
        schema_fail(err, errlen, "table %u: bad column list", def->oid);
        return NULL;
    }
    if (cur && defs_equal(cur, def))
        return cur;
    if (cur) {
        version = cur->version + 1;
    } else if (s->st) {
        if (schema_store_latest(s, def, &version, &same, err, errlen) < 0)
            return NULL;
        if (same)
            record = 0;
        else
            version++;
    } else {
        version = 1;
    }
    if (!(made = schema_def_copy(def, version))) {
        schema_fail(err, errlen, "out of memory copying table %u", def->oid);
        return NULL;
    }
    if (s->st && record && schema_store_record(s, made, lsn, err, errlen) < 0)
        goto fail;
    if (schema_keep(s, made) < 0) {
        schema_fail(err, errlen, "out of memory");
        goto fail;
    }
    if (schema_map_put(s, made) < 0) {
        s->nall--;
        schema_fail(err, errlen, "out of memory");
        goto fail;
    }
    if (changed)
        *changed = 1;
    return made;
fail:
    table_def_free(made);
    return NULL;
}
