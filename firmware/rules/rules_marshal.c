/* rules_marshal: events to Lua tables and back (see rules_marshal.h). What was pushed for every
 * column is remembered, so that a value the rule did not touch comes back as the original typed
 * value without any conversion; only changed and new values are converted. */
#include "rules/rules_marshal.h"

#include <inttypes.h>
#include <jansson.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pg_types.h"
#include "core/buf.h"
#include "core/errbuf.h"
#include "encode/debezium_json.h"
#include "rules/rules_json.h"

#define OID_BOOL 16
#define OID_INT8 20
#define OID_TEXT 25
#define OID_JSON 114
#define OID_FLOAT8 701

/* What was pushed for one column: its Lua type and content. */
typedef struct pushed {
    int ltype;          /* LUA_TNIL, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE */
    int is_int;         /* LUA_TNUMBER: an integer */
    int64_t i;
    double f;
    const char *s;
    size_t len;
} pushed;

struct rules_marshal {
    debezium_encoder *enc;   /* Debezium's text of the rarer types (timestamptz, money, arrays) */
    buf tmp;
    pushed *before, *after;  /* for the pushed event's columns */
};

/* ---- derived table definitions ----------------------------------------------------------------- */

typedef struct defs_entry {
    char *signature;
    table_def *def;
    struct defs_entry *next;
} defs_entry;

#define DEFS_BUCKETS 256

#define DEFS_RECENT 64   /* the last derived definition of each recent input, checked first */

struct rules_defs {
    defs_entry *buckets[DEFS_BUCKETS];
    struct {
        const table_def *in;
        table_def *def;
    } recent[DEFS_RECENT];
};

rules_defs *rules_defs_create(void)
{
    return calloc(1, sizeof(rules_defs));
}

static void def_free(table_def *t)
{
    for (int i = 0; t && i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type_name);
        free(t->cols[i].enum_labels);
    }
    if (t) {
        free(t->cols);
        free(t->schema);
        free(t->name);
    }
    free(t);
}

void rules_defs_destroy(rules_defs *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < DEFS_BUCKETS; i++) {
        for (defs_entry *e = d->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e->signature);
            def_free(e->def);
            free(e);
        }
    }
    free(d);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const table_def *defs_lookup(rules_defs *d, const table_def *in, const column_def *cols, int ncols);

/* Does def have exactly these columns (names, types)? */
static int defs_same(const table_def *def, const column_def *cols, int ncols)
{
    if (def->ncols != ncols)
        return 0;
    for (int i = 0; i < ncols; i++) {
        const column_def *x = &def->cols[i], *y = &cols[i];
        if (x->type_oid != y->type_oid || x->kind != y->kind || x->elem_kind != y->elem_kind ||
            strcmp(x->name, y->name) != 0)
            return 0;
    }
    return 1;
}

/* The definition of in's table with columns cols (made once per shape). NULL when out of memory. */
static const table_def *defs_get(rules_defs *d, const table_def *in, const column_def *cols, int ncols)
{
    size_t slot = ((uintptr_t)in >> 4) % DEFS_RECENT;
    if (d->recent[slot].in == in && defs_same(d->recent[slot].def, cols, ncols))
        return d->recent[slot].def;
    const table_def *found = defs_lookup(d, in, cols, ncols);
    if (found) {
        d->recent[slot].in = in;
        d->recent[slot].def = (table_def *)found;
    }
    return found;
}

/* defs_get without the recent-shape shortcut: by signature. */
static const table_def *defs_lookup(rules_defs *d, const table_def *in, const column_def *cols, int ncols)
{
    buf sig = BUF_INIT;
    buf_printf(&sig, "%p", (const void *)in);
    for (int i = 0; i < ncols; i++)
        buf_printf(&sig, "|%s:%u:%d:%d", cols[i].name, cols[i].type_oid, (int)cols[i].kind, (int)cols[i].elem_kind);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sig.len; i++)
        h = (h ^ (unsigned char)sig.data[i]) * 1099511628211ull;
    defs_entry **slot = &d->buckets[h % DEFS_BUCKETS];
    for (defs_entry *e = *slot; e; e = e->next) {
        if (strcmp(e->signature, sig.data) == 0) {
            buf_free(&sig);
            return e->def;
        }
    }
    defs_entry *e = calloc(1, sizeof *e);
    table_def *t = calloc(1, sizeof *t);
    if (!e || !t)
        goto fail;
    *t = *in;
    t->cols = NULL;
    t->ncols = 0;
    if (!(t->cols = calloc((size_t)ncols + 1, sizeof *t->cols)) || !(t->schema = dup_or_null(in->schema)) ||
        !(t->name = dup_or_null(in->name)))
        goto fail;
    for (int i = 0; i < ncols; i++) {
        t->cols[i] = cols[i];
        t->cols[i].name = dup_or_null(cols[i].name);
        t->cols[i].type_name = dup_or_null(cols[i].type_name);
        t->cols[i].enum_labels = dup_or_null(cols[i].enum_labels);
        t->ncols = i + 1;
    }
    e->signature = buf_take(&sig);
    e->def = t;
    e->next = *slot;
    *slot = e;
    return t;
fail:
    buf_free(&sig);
    def_free(t);
    free(e);
    return NULL;
}

/* ---- push -------------------------------------------------------------------------------------- */

rules_marshal *rules_marshal_create(void)
{
    rules_marshal *m = calloc(1, sizeof *m);
    debezium_options o = {.name = "sluice", .db = "", .decimal = DECIMAL_STRING, .time = TIME_ADAPTIVE_MICROSECONDS};
    if (!m || !(m->enc = debezium_encoder_create(&o))) {
        free(m);
        return NULL;
    }
    return m;
}

void rules_marshal_destroy(rules_marshal *m)
{
    if (!m)
        return;
    debezium_encoder_destroy(m->enc);
    buf_free(&m->tmp);
    free(m);
}

/* Microseconds of an interval as Debezium's MicroDuration counts them (a month is 30.4375 days). */
static int64_t interval_us(const value *v)
{
    return (int64_t)((double)v->v.interval.months * 30.4375 * 86400e6) + (int64_t)v->v.interval.days * 86400000000LL +
           v->v.interval.us;
}

static void push_string(lua_State *L, pushed *p, const char *s, size_t len)
{
    lua_pushlstring(L, s, len);
    p->ltype = LUA_TSTRING;
    p->s = s;
    p->len = len;
}

static void push_integer(lua_State *L, pushed *p, int64_t i)
{
    lua_pushinteger(L, (lua_Integer)i);
    p->ltype = LUA_TNUMBER;
    p->is_int = 1;
    p->i = i;
}

/* Debezium's text of the value: a JSON string unquoted (these never need escapes), or a decoded
 * array pushed as a list. */
static void push_encoded(rules_marshal *m, lua_State *L, const column_def *col, const value *v, pushed *p, arena *a)
{
    buf_reset(&m->tmp);
    debezium_encode_column(m->enc, &m->tmp, col, v);
    if (col->kind == VALUE_ARRAY) {
        json_t *j = json_loadb(m->tmp.data, m->tmp.len, JSON_DECODE_ANY, NULL);
        if (j && json_is_array(j)) {
            rules_json_push_value(L, j);
            p->ltype = LUA_TTABLE;
        } else {
            push_string(L, p, arena_strndup(a, v->s, v->len), v->len);
        }
        json_decref(j);
        return;
    }
    const char *s = m->tmp.data;
    size_t len = m->tmp.len;
    if (len >= 2 && s[0] == '"') {
        s++;
        len -= 2;
    }
    push_string(L, p, arena_strndup(a, s, len), len);
}

static void push_value(rules_marshal *m, lua_State *L, const column_def *col, const value *v, pushed *p, arena *a)
{
    memset(p, 0, sizeof *p);
    if (v->state == VALUE_IS_NULL) {
        lua_pushnil(L);
        p->ltype = LUA_TNIL;
        return;
    }
    if (v->state == VALUE_UNAVAILABLE) {
        push_string(L, p, DEBEZIUM_UNAVAILABLE, sizeof DEBEZIUM_UNAVAILABLE - 1);
        return;
    }
    switch (col->kind) {
    case VALUE_BOOL:
        lua_pushboolean(L, v->v.b);
        p->ltype = LUA_TBOOLEAN;
        p->i = v->v.b != 0;
        break;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP: push_integer(L, p, v->v.i); break;
    case VALUE_INTERVAL: push_integer(L, p, interval_us(v)); break;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
        lua_pushnumber(L, v->v.f);
        p->ltype = LUA_TNUMBER;
        p->f = v->v.f;
        break;
    case VALUE_MONEY:
    case VALUE_TIMETZ:
    case VALUE_TIMESTAMPTZ:
    case VALUE_ARRAY: push_encoded(m, L, col, v, p, a); break;
    default: push_string(L, p, v->s, v->len); break;   /* text, numeric, bytea (raw), json, uuid, inet */
    }
}

/* A row as {column = value}; remembers what was pushed in *out (NULL row: nil). */
static void push_row(rules_marshal *m, lua_State *L, const table_def *t, const value *row, pushed **out, arena *a)
{
    if (!row) {
        lua_pushnil(L);
        *out = NULL;
        return;
    }
    pushed *p = arena_alloc(a, ((size_t)t->ncols + 1) * sizeof *p);
    lua_createtable(L, 0, t->ncols);
    for (int i = 0; i < t->ncols; i++) {
        push_value(m, L, &t->cols[i], &row[i], &p[i], a);
        lua_setfield(L, -2, t->cols[i].name);
    }
    *out = p;
}

static const char *op_name(event_op op)
{
    switch (op) {
    case EVENT_CREATE: return "c";
    case EVENT_UPDATE: return "u";
    case EVENT_DELETE: return "d";
    case EVENT_READ: return "r";
    default: return "t";
    }
}

void rules_marshal_push(rules_marshal *m, lua_State *L, const event *ev, arena *a)
{
    const table_def *t = ev->table;
    lua_createtable(L, 0, 4);
    lua_pushstring(L, op_name(ev->op));
    lua_setfield(L, -2, "op");
    push_row(m, L, t, ev->before, &m->before, a);
    lua_setfield(L, -2, "before");
    push_row(m, L, t, ev->after, &m->after, a);
    lua_setfield(L, -2, "after");
    lua_createtable(L, 0, 7);
    lua_pushstring(L, t->schema);
    lua_setfield(L, -2, "schema");
    lua_pushstring(L, t->name);
    lua_setfield(L, -2, "table");
    lua_pushinteger(L, (lua_Integer)ev->lsn);
    lua_setfield(L, -2, "lsn");
    if (ev->tx && ev->tx->xid) {
        lua_pushinteger(L, (lua_Integer)ev->tx->xid);
        lua_setfield(L, -2, "txId");
    }
    if (ev->tx) {
        lua_pushinteger(L, (lua_Integer)(ev->tx->commit_time_us / 1000));
        lua_setfield(L, -2, "ts_ms");
    }
    lua_pushstring(L, ev->snapshot == SNAPSHOT_NONE ? "false" : ev->snapshot == SNAPSHOT_LAST ? "last"
                      : ev->snapshot == SNAPSHOT_INCREMENTAL                           ? "incremental"
                                                                                       : "true");
    lua_setfield(L, -2, "snapshot");
    lua_setfield(L, -2, "source");
}

/* ---- pull -------------------------------------------------------------------------------------- */

/* Is the value at idx what was pushed (so the original typed value stands)? */
static int same_as_pushed(lua_State *L, int idx, const pushed *p)
{
    int t = lua_type(L, idx);
    if (!p || p->ltype == LUA_TTABLE || t != p->ltype)
        return 0;
    switch (t) {
    case LUA_TNIL: return 1;
    case LUA_TBOOLEAN: return lua_toboolean(L, idx) == (int)p->i;
    case LUA_TNUMBER:
        if (p->is_int)
            return lua_isinteger(L, idx) && lua_tointeger(L, idx) == p->i;
        if (lua_isinteger(L, idx))
            return 0;
        double f = lua_tonumber(L, idx);
        return f == p->f || (isnan(f) && isnan(p->f));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        return len == p->len && (len == 0 || memcmp(s, p->s, len) == 0);
    }
    default: return 0;
    }
}

/* Append a Lua value as JSON (for json columns made from tables). -1 on unsupported content. */
static int lua_to_json(lua_State *L, int idx, buf *out, int depth)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL: buf_puts(out, "null"); return 0;
    case LUA_TBOOLEAN: buf_puts(out, lua_toboolean(L, idx) ? "true" : "false"); return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            buf_put_i64(out, (int64_t)lua_tointeger(L, idx));
        } else {
            double f = lua_tonumber(L, idx);
            if (!isfinite(f))
                return -1;
            buf_printf(out, "%.17g", f);
        }
        return 0;
    case LUA_TSTRING: buf_json_string(out, lua_tostring(L, idx)); return 0;
    case LUA_TTABLE: break;
    default: return -1;
    }
    if (depth > 32)
        return -1;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    int packed = lua_getfield(L, idx, "n") == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= n;
    if (packed)   /* table.pack's list: its length counts trailing NULLs (and {n = 0} is []) */
        n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n > 1000000)
        return -1;
    if (n > 0 || packed) {
        buf_puts(out, "[");
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1)
                buf_puts(out, ",");
            lua_rawgeti(L, idx, i);
            int rc = lua_to_json(L, -1, out, depth + 1);
            lua_pop(L, 1);
            if (rc < 0)
                return -1;
        }
        buf_puts(out, "]");
        return 0;
    }
    buf_puts(out, "{");
    int first = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            return -1;
        }
        if (!first)
            buf_puts(out, ",");
        first = 0;
        buf_json_string(out, lua_tostring(L, -2));
        buf_puts(out, ":");
        if (lua_to_json(L, -1, out, depth + 1) < 0) {
            lua_pop(L, 2);
            return -1;
        }
        lua_pop(L, 1);
    }
    buf_puts(out, "}");
    return 0;
}

/* Append a Lua list as a PostgreSQL array literal. -1 on unsupported content. */
static int lua_to_array_literal(lua_State *L, int idx, buf *out, int depth)
{
    idx = lua_absindex(L, idx);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (lua_getfield(L, idx, "n") == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) >= n)
        n = lua_tointeger(L, -1);   /* table.pack's length: trailing NULLs kept */
    lua_pop(L, 1);
    if (depth > 6 || n > 1000000)
        return -1;
    buf_puts(out, "{");
    for (lua_Integer i = 1; i <= n; i++) {
        if (i > 1)
            buf_puts(out, ",");
        lua_rawgeti(L, idx, i);
        int rc = 0;
        switch (lua_type(L, -1)) {
        case LUA_TNIL: buf_puts(out, "NULL"); break;
        case LUA_TBOOLEAN: buf_puts(out, lua_toboolean(L, -1) ? "t" : "f"); break;
        case LUA_TNUMBER:
            if (lua_isinteger(L, -1))
                buf_put_i64(out, (int64_t)lua_tointeger(L, -1));
            else
                buf_printf(out, "%.17g", lua_tonumber(L, -1));
            break;
        case LUA_TSTRING: {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            buf_puts(out, "\"");
            for (size_t k = 0; k < len; k++) {
                if (s[k] == '"' || s[k] == '\\')
                    buf_append(out, "\\", 1);
                buf_append(out, &s[k], 1);
            }
            buf_puts(out, "\"");
            break;
        }
        case LUA_TTABLE: rc = lua_to_array_literal(L, -1, out, depth + 1); break;
        default: rc = -1; break;
        }
        lua_pop(L, 1);
        if (rc < 0)
            return -1;
    }
    buf_puts(out, "}");
    return 0;
}

/* A string into a value of kind through PostgreSQL's text form; ISO-8601 'T' and 'Z' are
 * accepted for the zoned kinds. 0, or -1 when it is not a valid value of that kind. */
static int parse_as(value_kind kind, const char *s, size_t len, value *out, arena *a)
{
    if (kind == VALUE_TIMESTAMPTZ || kind == VALUE_TIMETZ) {
        char *t = arena_alloc(a, len + 3);
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
            t[n++] = (s[i] == 'T' && kind == VALUE_TIMESTAMPTZ) ? ' ' : s[i];
        if (n && t[n - 1] == 'Z') {
            memcpy(&t[n - 1], "+00", 3);
            n += 2;
        }
        s = t;
        len = n;
    }
    return pg_value_parse(kind, s, len, out, a, NULL, 0);
}

/* The value at idx as a value of col's type: 1 when it fits, 0 when the column must change type. */
static int convert_fitting(lua_State *L, int idx, const column_def *col, value *out, arena *a)
{
    int t = lua_type(L, idx);
    memset(out, 0, sizeof *out);
    out->state = VALUE_PRESENT;
    switch (col->kind) {
    case VALUE_BOOL:
        if (t != LUA_TBOOLEAN)
            return 0;
        out->v.b = lua_toboolean(L, idx);
        return 1;
    case VALUE_INT16:
    case VALUE_INT32:
    case VALUE_INT64:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_TIMESTAMP: {
        if (!lua_isinteger(L, idx))
            return 0;
        lua_Integer i = lua_tointeger(L, idx);
        if ((col->kind == VALUE_INT16 && (i < INT16_MIN || i > INT16_MAX)) ||
            (col->kind == VALUE_INT32 && (i < INT32_MIN || i > INT32_MAX)))
            return 0;
        out->v.i = (int64_t)i;
        return 1;
    }
    case VALUE_INTERVAL:
        if (!lua_isinteger(L, idx))
            return 0;
        out->v.interval.us = (int64_t)lua_tointeger(L, idx);
        return 1;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
        if (t != LUA_TNUMBER)
            return 0;
        out->v.f = lua_tonumber(L, idx);
        return 1;
    case VALUE_NUMERIC:
        if (t == LUA_TNUMBER) {
            char tmp[64];
            int n = lua_isinteger(L, idx) ? snprintf(tmp, sizeof tmp, "%" PRId64, (int64_t)lua_tointeger(L, idx))
                                          : snprintf(tmp, sizeof tmp, "%.17g", lua_tonumber(L, idx));
            return parse_as(VALUE_NUMERIC, tmp, (size_t)n, out, a) == 0;
        }
        break;
    case VALUE_ARRAY: {
        if (t != LUA_TTABLE)
            return 0;
        buf lit = BUF_INIT;
        int ok = lua_to_array_literal(L, idx, &lit, 0) == 0;
        if (ok) {
            out->s = arena_strndup(a, lit.data, lit.len);
            out->len = lit.len;
        }
        buf_free(&lit);
        return ok;
    }
    default: break;
    }
    if (t != LUA_TSTRING)
        return 0;
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    switch (col->kind) {
    case VALUE_NUMERIC:
    case VALUE_MONEY:
    case VALUE_TIMETZ:
    case VALUE_TIMESTAMPTZ:
    case VALUE_UUID: return parse_as(col->kind, s, len, out, a) == 0;
    default:   /* text, json, inet, bytea: the bytes as they are */
        out->s = arena_strndup(a, s, len);
        out->len = len;
        return 1;
    }
}

/* The value at idx in a column of its own type (a new column, or one whose type changed). */
static int convert_retyped(lua_State *L, int idx, column_def *col, value *out, arena *a, const char *where,
                           char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->state = VALUE_PRESENT;
    col->typmod = -1;
    col->elem_kind = VALUE_TEXT;
    col->enum_labels = NULL;
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        col->type_oid = OID_BOOL, col->kind = VALUE_BOOL;
        out->v.b = lua_toboolean(L, idx);
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            col->type_oid = OID_INT8, col->kind = VALUE_INT64;
            out->v.i = (int64_t)lua_tointeger(L, idx);
        } else {
            col->type_oid = OID_FLOAT8, col->kind = VALUE_FLOAT64;
            out->v.f = lua_tonumber(L, idx);
        }
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        col->type_oid = OID_TEXT, col->kind = VALUE_TEXT;
        out->s = arena_strndup(a, s, len);
        out->len = len;
        break;
    }
    case LUA_TTABLE: {
        buf j = BUF_INIT;
        int rc = lua_to_json(L, idx, &j, 0);
        if (rc == 0) {
            col->type_oid = OID_JSON, col->kind = VALUE_JSON;
            out->s = arena_strndup(a, j.data, j.len);
            out->len = j.len;
        }
        buf_free(&j);
        if (rc < 0)
            return err_setf(err, errlen, "%s: a table that is not JSON (functions, cycles, non-string keys, "
                            "infinite numbers or depth over 32) cannot be a column value", where);
        break;
    }
    default: return err_setf(err, errlen, "%s: a %s cannot be a column value", where, luaL_typename(L, idx));
    }
    const char *tn = pg_type_name(col->type_oid);
    col->type_name = (char *)(tn ? tn : "text");
    return 0;
}

/* One column of a row (table at idx): its value into *out, its (possibly retyped) definition
 * into *col. */
static int pull_value(lua_State *L, int row, const char *side, const pushed *p, const value *orig, column_def *col,
                      value *out, arena *a, char *err, size_t errlen)
{
    lua_getfield(L, row, col->name);
    int rc = 0;
    if (orig && same_as_pushed(L, -1, p)) {
        *out = *orig;
    } else if (lua_isnil(L, -1)) {
        memset(out, 0, sizeof *out);
        out->state = VALUE_IS_NULL;
    } else if (!convert_fitting(L, -1, col, out, a)) {
        char where[300];
        snprintf(where, sizeof where, "%s.%s", side, col->name);
        rc = convert_retyped(L, -1, col, out, a, where, err, errlen);
    }
    lua_pop(L, 1);
    return rc;
}

/* Push the table {column name = true} of t, made once per table definition and kept in the
 * state's registry (table_defs live as long as the pipeline). */
static void column_map(lua_State *L, const table_def *t)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, t) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_createtable(L, 0, t->ncols);
    for (int i = 0; i < t->ncols; i++) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, t->cols[i].name);
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, t);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of the row tables (after, before) that are not columns of t: new columns, sorted. */
static int new_columns(lua_State *L, int after, int before, const table_def *t, const char ***names, int *n,
                       arena *a, char *err, size_t errlen)
{
    int cap = 8, count = 0;
    const char **v = arena_alloc(a, (size_t)cap * sizeof *v);
    int rows[2] = {after, before};
    column_map(L, t);
    int map = lua_gettop(L);
    for (int r = 0; r < 2; r++) {
        if (!rows[r])
            continue;
        lua_pushnil(L);
        while (lua_next(L, rows[r])) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING) {
                lua_pop(L, 2);
                return err_setf(err, errlen, "%s: column names must be strings", r ? "before" : "after");
            }
            lua_pushvalue(L, -1);
            int known = lua_rawget(L, map) != LUA_TNIL;   /* a column of the table */
            lua_pop(L, 1);
            const char *k = lua_tostring(L, -1);
            for (int i = 0; i < count && !known; i++)
                known = strcmp(v[i], k) == 0;
            if (known)
                continue;
            if (count == cap) {
                const char **nv = arena_alloc(a, (size_t)cap * 2 * sizeof *nv);
                memcpy(nv, v, (size_t)cap * sizeof *v);
                v = nv;
                cap *= 2;
            }
            v[count++] = arena_strndup(a, k, strlen(k));
        }
    }
    lua_pop(L, 1);
    qsort(v, (size_t)count, sizeof *v, cmp_name);
    *names = v;
    *n = count;
    return 0;
}

/* The table's columns the result names in its drop field (a list of names, or a set of them
 * as keys): drop[i] set for each; the count, or -1 with err for a name that is no column. */
static int dropped_columns(lua_State *L, int idx, const table_def *t, char *drop, char *err, size_t errlen)
{
    int n = 0;
    memset(drop, 0, (size_t)t->ncols + 1);
    int type = lua_getfield(L, idx, "drop");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (type != LUA_TTABLE) {
        lua_pop(L, 1);
        return err_setf(err, errlen, "drop must be a list of column names");
    }
    int list = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, list)) {
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2)
                           : lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                            : NULL;
        int found = -1;
        for (int i = 0; name && i < t->ncols && found < 0; i++)
            if (strcmp(t->cols[i].name, name) == 0)
                found = i;
        if (found < 0) {
            err_setf(err, errlen, "drop: %s is not a column of %s.%s", name ? name : "(not a name)", t->schema, t->name);
            lua_pop(L, 3);
            return -1;
        }
        n += !drop[found];
        drop[found] = 1;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

static int op_parse(const char *s, event_op *op)
{
    static const char ops[] = "cudrt";
    if (!s || strlen(s) != 1 || !strchr(ops, s[0]))
        return -1;
    *op = (event_op)s[0];
    return 0;
}

/* The row field `side` of the result at idx: its stack index (0 when nil), or -1 for garbage. */
static int row_field(lua_State *L, int idx, const char *side, char *err, size_t errlen)
{
    int t = lua_getfield(L, idx, side);
    if (t == LUA_TNIL)
        return 0;
    if (t != LUA_TTABLE)
        return err_setf(err, errlen, "%s must be a table or nil, not a %s", side, luaL_typename(L, -1));
    return lua_gettop(L);
}

int rules_marshal_pull(rules_marshal *m, lua_State *L, int idx, const event *in, rules_defs *defs, event *out,
                       arena *a, char *err, size_t errlen)
{
    const table_def *t = in->table;
    int top = lua_gettop(L), rc = -1;
    idx = lua_absindex(L, idx);
    *out = *in;
    if (!lua_istable(L, idx)) {
        err_setf(err, errlen, "transform must return the event, nil or a list of events, not a %s",
                 luaL_typename(L, idx));
        goto out;
    }
    lua_getfield(L, idx, "op");
    if (op_parse(lua_tostring(L, -1), &out->op) < 0) {
        err_setf(err, errlen, "op must be one of c, u, d, r, t");
        goto out;
    }
    int after = row_field(L, idx, "after", err, errlen);
    int before = after < 0 ? -1 : row_field(L, idx, "before", err, errlen);
    if (after < 0 || before < 0)
        goto out;
    if ((out->op == EVENT_CREATE || out->op == EVENT_READ || out->op == EVENT_UPDATE) && !after) {
        err_setf(err, errlen, "an event with op %c needs after", (char)out->op);
        goto out;
    }
    if (out->op == EVENT_DELETE && !before) {
        err_setf(err, errlen, "a delete needs before");
        goto out;
    }
    const char **added = NULL;
    int nadded = 0;
    if (new_columns(L, after, before, t, &added, &nadded, a, err, errlen) < 0)
        goto out;
    char *drop = arena_alloc(a, (size_t)t->ncols + 1);
    int ndrop;
    if ((ndrop = dropped_columns(L, idx, t, drop, err, errlen)) < 0)
        goto out;
    int nin = t->ncols + nadded, ncols = nin - ndrop;
    column_def *cols = arena_alloc(a, ((size_t)ncols + 1) * sizeof *cols);
    value *av = after ? arena_alloc(a, ((size_t)ncols + 1) * sizeof *av) : NULL;
    value *bv = before ? arena_alloc(a, ((size_t)ncols + 1) * sizeof *bv) : NULL;
    int same_shape = nadded == 0 && ndrop == 0;
    for (int i = 0, k = 0; i < nin; i++) {
        column_def base;
        if (i < t->ncols) {
            if (drop[i])
                continue;
            base = t->cols[i];
        } else {   /* a new column: typed by its values (a string fits text, others retype it) */
            memset(&base, 0, sizeof base);
            base.name = (char *)added[i - t->ncols];
            base.kind = VALUE_TEXT;
        }
        column_def c = base;
        if (after && pull_value(L, after, "after", i < t->ncols && m->after ? &m->after[i] : NULL,
                                i < t->ncols && in->after ? &in->after[i] : NULL, &c, &av[k], a, err, errlen) < 0)
            goto out;
        if (after && !c.type_oid && av[k].state == VALUE_PRESENT) {   /* a new column holding a string */
            c.type_oid = OID_TEXT;
            c.type_name = (char *)"text";
        }
        if (before) {
            /* before takes after's type; its original value stands only if that type is the input's */
            column_def bc = after && c.type_oid ? c : base;
            int orig_type = i < t->ncols && bc.type_oid == t->cols[i].type_oid && bc.kind == t->cols[i].kind;
            if (pull_value(L, before, "before", orig_type && m->before ? &m->before[i] : NULL,
                           orig_type && in->before ? &in->before[i] : NULL, &bc, &bv[k], a, err, errlen) < 0)
                goto out;
            if (after && c.type_oid && bv[k].state == VALUE_PRESENT &&
                (bc.type_oid != c.type_oid || bc.kind != c.kind)) {
                err_setf(err, errlen, "column %s: before and after hold values of different types (%s, %s)", c.name,
                         bc.type_name ? bc.type_name : "?", c.type_name ? c.type_name : "?");
                goto out;
            }
            if (!after || !c.type_oid)
                c = bc;
        }
        if (!c.type_oid) {   /* a new column that is NULL everywhere */
            c.type_oid = OID_TEXT;
            c.type_name = (char *)"text";
        }
        cols[k] = c;
        if (i < t->ncols && (c.type_oid != t->cols[i].type_oid || c.kind != t->cols[i].kind))
            same_shape = 0;
        k++;
    }
    out->after = av;
    out->before = bv;
    out->before_key_only = in->before_key_only && bv != NULL;
    if (same_shape) {
        out->table = t;
    } else if (!(out->table = defs_get(defs, t, cols, ncols))) {
        err_setf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    lua_settop(L, top);
    return rc;
}
