/* rules_marshal: events to Lua tables and back (see rules_marshal.h). The rows are lazy views: a
 * column becomes a Lua value only when the rule reads it (the row's __index), and a value the
 * rule never read nor wrote comes back as the original typed value without touching Lua. What
 * was pushed for every column read is remembered, so that a value read and left as it was also
 * comes back exactly; only changed and new values are converted (rules_value.h). */
#include "rules/rules_marshal.h"

#include <jansson.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/errbuf.h"
#include "encode/debezium_json.h"
#include "rules/rules_json.h"
#include "rules/rules_value.h"

#define OID_TEXT 25

/* What was pushed for one column: its Lua type and content. */
typedef struct pushed {
    int ltype;          /* LUA_TNIL, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE; LUA_TNONE:
                         * written before it was read (nothing to compare with) */
    int is_int;         /* LUA_TNUMBER: an integer */
    int64_t i;
    double f;
    const char *s;
    size_t len;
} pushed;

enum { SIDE_BEFORE = 0, SIDE_AFTER = 1 };

/* The columns of one side of the pushed event the rule has touched. */
typedef struct side_state {
    pushed *p;           /* [ncols]: valid where loaded */
    uint8_t *loaded;     /* [ncols]: read into the view, or written */
} side_state;

struct rules_marshal {
    debezium_encoder *enc;   /* Debezium's text of the rarer types (timestamptz, money, arrays) */
    buf tmp;
    const event *ev;         /* the pushed event, while its views are live */
    arena *a;                /* its scratch */
    lua_State *live;         /* the state holding live views, or NULL */
    int source_loaded;       /* the source view holds the block */
    side_state side[2];
};

/* Per lua_State objects, in a registry table keyed by the marshal (the "kit"). */
enum { KIT_SOURCE_MT = 1, KIT_ROW_MT = 2 /* + side */, KIT_LIVE = 4, KIT_KEYS = 5 /* + key */ };
/* Strings the marshal uses as keys and values, interned once per state (a C string costs a lookup
 * in Lua's string cache at every use). */
enum { KEY_OP, KEY_BEFORE, KEY_AFTER, KEY_SOURCE, KEY_DROP, KEY_OP_C, KEY_OP_U, KEY_OP_D, KEY_OP_R, KEY_OP_T, KEY_COUNT };
static const char *const KEY_NAMES[KEY_COUNT] = {"op", "before", "after", "source", "drop", "c", "u", "d", "r", "t"};
/* The live table (an upvalue of every metamethod): the pushed event's column table and views. */
enum { LIVE_COLUMNS = 1, LIVE_SOURCE = 2, LIVE_ROW = 3 /* + side */ };

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

/* ---- one column into Lua ----------------------------------------------------------------------- */

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

/* ---- the views ---------------------------------------------------------------------------------- */

/* Upvalues of every metamethod: 1 the live table, 2 the marshal, 3 the side (rows) or -1 (source). */
#define UP_LIVE lua_upvalueindex(1)
#define UP_MARSHAL lua_upvalueindex(2)
#define UP_SIDE lua_upvalueindex(3)
#define SIDE_SOURCE (-1)

/* The marshal, when the view at 1 (of side s) belongs to the event being transformed; else a Lua
 * error: a view kept past its transform call must not read another event's data. */
static rules_marshal *view_check(lua_State *L, int s)
{
    rules_marshal *m = lua_touserdata(L, UP_MARSHAL);
    int current = 0;
    if (m->live == L) {
        lua_rawgeti(L, UP_LIVE, s == SIDE_SOURCE ? LIVE_SOURCE : LIVE_ROW + s);
        current = lua_rawequal(L, -1, 1);
        lua_pop(L, 1);
    }
    if (!current)
        luaL_error(L, "this row or source block belongs to a transform call that has returned: it can no longer "
                      "be read (keep copies of the values you need, not the event)");
    return m;
}

/* The index of the column named by the key at idx in the pushed event's table, or -1. */
static int view_column(lua_State *L, int idx)
{
    lua_rawgeti(L, UP_LIVE, LIVE_COLUMNS);
    lua_pushvalue(L, idx);
    int i = lua_rawget(L, -2) == LUA_TNUMBER ? (int)lua_tointeger(L, -1) - 1 : -1;
    lua_pop(L, 2);
    return i;
}

/* Push column i of side s into the view at idx (named by the key at key; absent for NULL), and
 * leave the value on the stack. */
static void view_load(rules_marshal *m, lua_State *L, int s, int idx, int key, int i)
{
    const event *ev = m->ev;
    const value *row = s == SIDE_AFTER ? ev->after : ev->before;
    push_value(m, L, &ev->table->cols[i], &row[i], &m->side[s].p[i], m->a);
    m->side[s].loaded[i] = 1;
    if (lua_isnil(L, -1))
        return;
    lua_pushvalue(L, key);
    lua_pushvalue(L, -2);
    lua_rawset(L, idx);
}

/* Load every column of side s not read yet into the view at idx. */
static void view_load_all(rules_marshal *m, lua_State *L, int s, int idx)
{
    lua_rawgeti(L, UP_LIVE, LIVE_COLUMNS);
    int cols = lua_gettop(L);
    for (int i = 0; i < m->ev->table->ncols; i++) {
        if (m->side[s].loaded[i])
            continue;
        lua_rawgeti(L, cols, (lua_Integer)i + 1);
        view_load(m, L, s, idx, lua_gettop(L), i);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
}

/* The source block {schema, table, lsn, txId, ts_ms, snapshot} of ev into the table at idx. */
static void source_fill(lua_State *L, int idx, const event *ev)
{
    const table_def *t = ev->table;
    lua_pushstring(L, t->schema);
    lua_setfield(L, idx, "schema");
    lua_pushstring(L, t->name);
    lua_setfield(L, idx, "table");
    lua_pushinteger(L, (lua_Integer)ev->lsn);
    lua_setfield(L, idx, "lsn");
    if (ev->tx && ev->tx->xid) {
        lua_pushinteger(L, (lua_Integer)ev->tx->xid);
        lua_setfield(L, idx, "txId");
    }
    if (ev->tx) {
        lua_pushinteger(L, (lua_Integer)(ev->tx->commit_time_us / 1000));
        lua_setfield(L, idx, "ts_ms");
    }
    lua_pushstring(L, ev->snapshot == SNAPSHOT_NONE ? "false" : ev->snapshot == SNAPSHOT_LAST ? "last"
                      : ev->snapshot == SNAPSHOT_INCREMENTAL                           ? "incremental"
                                                                                       : "true");
    lua_setfield(L, idx, "snapshot");
}

/* Load what the view at 1 has not loaded yet: every column of a row, or the source block. */
static void view_load_rest(lua_State *L, int s)
{
    rules_marshal *m = view_check(L, s);
    if (s != SIDE_SOURCE) {
        view_load_all(m, L, s, 1);
    } else if (!m->source_loaded) {
        m->source_loaded = 1;
        source_fill(L, 1, m->ev);
    }
}

/* __index(view, key): a column not read yet (a column read before and now absent is nil); a
 * source field (the whole block is loaded at the first). */
static int view_index(lua_State *L)
{
    int s = (int)lua_tointeger(L, UP_SIDE);
    rules_marshal *m = view_check(L, s);
    if (s == SIDE_SOURCE) {
        if (m->source_loaded)
            return 0;
        view_load_rest(L, s);
        lua_settop(L, 2);
        lua_rawget(L, 1);
        return 1;
    }
    int i = view_column(L, 2);
    if (i < 0 || m->side[s].loaded[i])
        return 0;
    view_load(m, L, s, 1, 2, i);
    return 1;
}

/* __newindex(view, key, value): a column written before it was read (or after it became nil). */
static int view_newindex(lua_State *L)
{
    int s = (int)lua_tointeger(L, UP_SIDE);
    rules_marshal *m = view_check(L, s);
    if (s == SIDE_SOURCE) {
        view_load_rest(L, s);
    } else {
        int i = view_column(L, 2);
        if (i >= 0 && !m->side[s].loaded[i]) {
            m->side[s].loaded[i] = 1;
            memset(&m->side[s].p[i], 0, sizeof m->side[s].p[i]);
            m->side[s].p[i].ltype = LUA_TNONE;
        }
    }
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
}

/* The materialize metafield: load everything into the view at 1. */
static int view_materialize(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    view_load_rest(L, (int)lua_tointeger(L, UP_SIDE));
    return 0;
}

static int view_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1))
        return 2;
    lua_pushnil(L);
    return 1;
}

/* __pairs(view): everything, loaded first. */
static int view_pairs(lua_State *L)
{
    view_load_rest(L, (int)lua_tointeger(L, UP_SIDE));
    lua_pushcfunction(L, view_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int op_key(event_op op)
{
    switch (op) {
    case EVENT_CREATE: return KEY_OP_C;
    case EVENT_UPDATE: return KEY_OP_U;
    case EVENT_DELETE: return KEY_OP_D;
    case EVENT_READ: return KEY_OP_R;
    default: return KEY_OP_T;
    }
}

/* Push the interned string k of the kit at kit. */
static void key_push(lua_State *L, int kit, int k)
{
    lua_rawgeti(L, kit, KIT_KEYS + k);
}

/* Push the kit of L (made at first use): the views' metatables and the live table. */
static void kit_push(rules_marshal *m, lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, m) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_createtable(L, KIT_KEYS + KEY_COUNT, 0);
    int kit = lua_gettop(L);
    for (int k = 0; k < KEY_COUNT; k++) {
        lua_pushstring(L, KEY_NAMES[k]);
        lua_rawseti(L, kit, KIT_KEYS + k);
    }
    lua_createtable(L, LIVE_ROW + SIDE_AFTER, 0);
    int live = lua_gettop(L);
    static const luaL_Reg fns[] = {{"__index", view_index}, {"__newindex", view_newindex}, {"__pairs", view_pairs},
                                   {RULES_MATERIALIZE_FIELD, view_materialize}, {NULL, NULL}};
    for (int s = SIDE_SOURCE; s <= SIDE_AFTER; s++) {
        lua_createtable(L, 0, 6);
        lua_pushvalue(L, live);
        lua_pushlightuserdata(L, m);
        lua_pushinteger(L, s);
        luaL_setfuncs(L, fns, 3);
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");   /* getmetatable gives false; setmetatable refuses */
        lua_rawseti(L, kit, s == SIDE_SOURCE ? KIT_SOURCE_MT : KIT_ROW_MT + s);
    }
    lua_rawseti(L, kit, KIT_LIVE);
    lua_pushvalue(L, kit);
    lua_rawsetp(L, LUA_REGISTRYINDEX, m);
}

/* Push the column table of t, made once per table definition and kept in the state's registry
 * (table_defs live as long as the pipeline): [i] = name of column i (from 1), [name] = i. */
static void columns_push(lua_State *L, const table_def *t)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, t) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_createtable(L, t->ncols, t->ncols);
    for (int i = 0; i < t->ncols; i++) {
        lua_pushstring(L, t->cols[i].name);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, (lua_Integer)i + 1);
        lua_pushinteger(L, (lua_Integer)i + 1);
        lua_rawset(L, -3);
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, t);
}

void rules_marshal_done(rules_marshal *m)
{
    m->live = NULL;
    m->ev = NULL;
}

/* A new view with the kit's metatable mt, stored in the live table's slot and left on the stack. */
static void view_new(lua_State *L, int kit, int mt, int live, int slot, int size)
{
    lua_createtable(L, 0, size);
    lua_rawgeti(L, kit, mt);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawseti(L, live, slot);
}

void rules_marshal_push(rules_marshal *m, lua_State *L, const event *ev, arena *a)
{
    rules_marshal_done(m);
    const table_def *t = ev->table;
    size_t n = (size_t)t->ncols + 1;
    kit_push(m, L);
    int kit = lua_gettop(L);
    lua_rawgeti(L, kit, KIT_LIVE);
    int live = kit + 1;
    columns_push(L, t);
    lua_rawseti(L, live, LIVE_COLUMNS);
    lua_createtable(L, 0, 4);
    int e = lua_gettop(L);
    key_push(L, kit, KEY_OP);
    key_push(L, kit, op_key(ev->op));
    lua_rawset(L, e);
    for (int s = SIDE_BEFORE; s <= SIDE_AFTER; s++) {
        const value *row = s == SIDE_AFTER ? ev->after : ev->before;
        if (!row)
            continue;
        m->side[s].p = arena_alloc(a, n * sizeof *m->side[s].p);
        m->side[s].loaded = arena_alloc(a, n);
        memset(m->side[s].loaded, 0, n);
        key_push(L, kit, s == SIDE_AFTER ? KEY_AFTER : KEY_BEFORE);
        /* room for the few columns a rule typically reads and adds (after; before is rarer) */
        view_new(L, kit, KIT_ROW_MT + s, live, LIVE_ROW + s, s == SIDE_AFTER ? (t->ncols < 4 ? t->ncols : 4) : 0);
        lua_rawset(L, e);
    }
    key_push(L, kit, KEY_SOURCE);
    view_new(L, kit, KIT_SOURCE_MT, live, LIVE_SOURCE, 0);
    lua_rawset(L, e);
    lua_replace(L, kit);
    lua_settop(L, kit);
    m->ev = ev;
    m->a = a;
    m->live = L;
    m->source_loaded = 0;
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

/* Where a result row's values come from: a live view of the pushed event (side s), or a table
 * the rule made (compared with what was pushed on its own side, where the rule read it). */
typedef struct row_src {
    int idx;                 /* stack index of the row; 0 when nil */
    int view;                /* a live view */
    int s;                   /* the pushed side it is compared with */
    const value *orig;       /* that side's input values, or NULL */
} row_src;

static void row_src_init(rules_marshal *m, lua_State *L, int kit, int idx, int field_side, const event *in,
                         row_src *r)
{
    r->idx = idx;
    r->view = 0;
    r->s = field_side;
    if (idx && lua_getmetatable(L, idx)) {
        for (int s = SIDE_BEFORE; s <= SIDE_AFTER && !r->view; s++) {
            lua_rawgeti(L, kit, KIT_ROW_MT + s);
            if (lua_rawequal(L, -1, -2))
                r->view = 1, r->s = s;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    r->orig = r->s == SIDE_AFTER ? in->after : in->before;
    if (m->ev != in) {   /* not the pushed event: nothing to compare with */
        r->orig = NULL;
        r->view = 0;
    }
}

/* The value on top of the stack (popped) into *out: orig when it is what was pushed (p), NULL
 * for nil, else converted to col's type, or retyping col. */
static int pull_top(lua_State *L, const char *side, const pushed *p, const value *orig, column_def *col, value *out,
                    arena *a, char *err, size_t errlen)
{
    int rc = 0;
    if (p && same_as_pushed(L, -1, p)) {
        *out = *orig;
    } else if (lua_isnil(L, -1)) {
        memset(out, 0, sizeof *out);
        out->state = VALUE_IS_NULL;
    } else if (!rules_value_convert_fitting(L, -1, col, out, a)) {
        char where[300];
        snprintf(where, sizeof where, "%s.%s", side, col->name);
        rc = rules_value_convert_retyped(L, -1, col, out, a, where, err, errlen);
    }
    lua_pop(L, 1);
    return rc;
}

/* Column i of a row (i < the input's ncols; keep_orig: an unchanged value may stay the input's):
 * its value into *out, its (possibly retyped) definition into *col. */
static int pull_value(rules_marshal *m, lua_State *L, const row_src *r, int cols, const char *side, int i,
                      int keep_orig, column_def *col, value *out, arena *a, char *err, size_t errlen)
{
    const pushed *p = NULL;
    if (r->view && !m->side[r->s].loaded[i]) {
        if (keep_orig) {   /* never read nor written */
            *out = r->orig[i];
            return 0;
        }
        lua_rawgeti(L, cols, (lua_Integer)i + 1);
        view_load(m, L, r->s, r->idx, lua_gettop(L), i);
        lua_remove(L, -2);
    } else if (r->view) {
        lua_rawgeti(L, cols, (lua_Integer)i + 1);
        lua_rawget(L, r->idx);
    } else {
        lua_getfield(L, r->idx, col->name);
    }
    if (keep_orig && r->orig && m->side[r->s].loaded[i])
        p = &m->side[r->s].p[i];
    return pull_top(L, side, p, p ? &r->orig[i] : NULL, col, out, a, err, errlen);
}

/* A new column's value in a row (nil: NULL). */
static int pull_new_value(lua_State *L, int row, const char *side, column_def *col, value *out, arena *a, char *err,
                          size_t errlen)
{
    lua_getfield(L, row, col->name);
    return pull_top(L, side, NULL, NULL, col, out, a, err, errlen);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of the result rows that are not columns of the input (the column table at cols): new
 * columns, sorted. A view holds only the columns read or written: a column the rule put there
 * with rawset counts as written. */
static int new_columns(rules_marshal *m, lua_State *L, const row_src rows[2], int cols, const char ***names, int *n,
                       arena *a, char *err, size_t errlen)
{
    int cap = 8, count = 0;
    const char **v = arena_alloc(a, (size_t)cap * sizeof *v);
    for (int r = 0; r < 2; r++) {
        if (!rows[r].idx)
            continue;
        lua_pushnil(L);
        while (lua_next(L, rows[r].idx)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING) {
                lua_pop(L, 1);
                return err_setf(err, errlen, "%s: column names must be strings", r ? "before" : "after");
            }
            lua_pushvalue(L, -1);
            int col = lua_rawget(L, cols) == LUA_TNUMBER ? (int)lua_tointeger(L, -1) - 1 : -1;
            lua_pop(L, 1);
            if (col >= 0) {
                side_state *ss = &m->side[rows[r].s];
                if (rows[r].view && !ss->loaded[col]) {
                    ss->loaded[col] = 1;
                    memset(&ss->p[col], 0, sizeof ss->p[col]);
                    ss->p[col].ltype = LUA_TNONE;
                }
                continue;
            }
            const char *k = lua_tostring(L, -1);
            int known = 0;
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
    if (count > 1)
        qsort(v, (size_t)count, sizeof *v, cmp_name);
    *names = v;
    *n = count;
    return 0;
}

/* The table's columns the result names in its drop field (a list of names, or a set of them
 * as keys): drop[i] set for each; the count, or -1 with err for a name that is no column. */
static int dropped_columns(lua_State *L, int kit, int idx, const table_def *t, char *drop, char *err, size_t errlen)
{
    int n = 0;
    memset(drop, 0, (size_t)t->ncols + 1);
    key_push(L, kit, KEY_DROP);
    int type = lua_gettable(L, idx);
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
static int row_field(lua_State *L, int kit, int idx, int key, char *err, size_t errlen)
{
    const char *side = KEY_NAMES[key];
    key_push(L, kit, key);
    int t = lua_gettable(L, idx);
    if (t == LUA_TNIL)
        return 0;
    if (t != LUA_TTABLE)
        return err_setf(err, errlen, "%s must be a table or nil, not a %s", side, luaL_typename(L, -1));
    return lua_gettop(L);
}

/* One column (input column i, or a new one) of the result rows into cols[k], av[k], bv[k]: after
 * decides the type, before takes it. 0, or -1 with err. */
static int pull_column(rules_marshal *m, lua_State *L, const row_src rows[2], int colt, const table_def *t, int i,
                       const char *added, column_def *c, value *av, value *bv, arena *a, char *err, size_t errlen)
{
    const row_src *after = &rows[0], *before = &rows[1];
    column_def base;
    if (i < t->ncols) {
        base = t->cols[i];
    } else {   /* a new column: typed by its values (a string fits text, others retype it) */
        memset(&base, 0, sizeof base);
        base.name = (char *)added;
        base.kind = VALUE_TEXT;
    }
    *c = base;
    if (after->idx) {
        int rc = i < t->ncols ? pull_value(m, L, after, colt, "after", i, 1, c, av, a, err, errlen)
                              : pull_new_value(L, after->idx, "after", c, av, a, err, errlen);
        if (rc < 0)
            return -1;
        if (!c->type_oid && av->state == VALUE_PRESENT) {   /* a new column holding a string */
            c->type_oid = OID_TEXT;
            c->type_name = (char *)"text";
        }
    }
    if (before->idx) {
        /* before takes after's type; its original value stands only if that type is the input's */
        column_def bc = after->idx && c->type_oid ? *c : base;
        int orig_type = i < t->ncols && bc.type_oid == t->cols[i].type_oid && bc.kind == t->cols[i].kind;
        int rc = i < t->ncols ? pull_value(m, L, before, colt, "before", i, orig_type, &bc, bv, a, err, errlen)
                              : pull_new_value(L, before->idx, "before", &bc, bv, a, err, errlen);
        if (rc < 0)
            return -1;
        if (after->idx && c->type_oid && bv->state == VALUE_PRESENT && (bc.type_oid != c->type_oid || bc.kind != c->kind))
            return err_setf(err, errlen, "column %s: before and after hold values of different types (%s, %s)", c->name,
                            bc.type_name ? bc.type_name : "?", c->type_name ? c->type_name : "?");
        if (!after->idx || !c->type_oid)
            *c = bc;
    }
    if (!c->type_oid) {   /* a new column that is NULL everywhere */
        c->type_oid = OID_TEXT;
        c->type_name = (char *)"text";
    }
    return 0;
}

/* Is input column i in every result row a view's column the rule neither read nor wrote? */
static int column_untouched(rules_marshal *m, const row_src rows[2], int i)
{
    for (int r = 0; r < 2; r++)
        if (rows[r].idx && (!rows[r].view || m->side[rows[r].s].loaded[i]))
            return 0;
    return 1;
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
    kit_push(m, L);
    int kit = lua_gettop(L);
    columns_push(L, t);
    int colt = lua_gettop(L);
    key_push(L, kit, KEY_OP);
    lua_gettable(L, idx);
    if (op_parse(lua_tostring(L, -1), &out->op) < 0) {
        err_setf(err, errlen, "op must be one of c, u, d, r, t");
        goto out;
    }
    int after = row_field(L, kit, idx, KEY_AFTER, err, errlen);
    int before = after < 0 ? -1 : row_field(L, kit, idx, KEY_BEFORE, err, errlen);
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
    row_src rows[2];
    row_src_init(m, L, kit, after, SIDE_AFTER, in, &rows[0]);
    row_src_init(m, L, kit, before, SIDE_BEFORE, in, &rows[1]);
    const char **added = NULL;
    int nadded = 0;
    if (new_columns(m, L, rows, colt, &added, &nadded, a, err, errlen) < 0)
        goto out;
    char *drop = arena_alloc(a, (size_t)t->ncols + 1);
    int ndrop;
    if ((ndrop = dropped_columns(L, kit, idx, t, drop, err, errlen)) < 0)
        goto out;
    int nin = t->ncols + nadded, ncols = nin - ndrop;
    column_def *cols = arena_alloc(a, ((size_t)ncols + 1) * sizeof *cols);
    value *av = after ? arena_alloc(a, ((size_t)ncols + 1) * sizeof *av) : NULL;
    value *bv = before ? arena_alloc(a, ((size_t)ncols + 1) * sizeof *bv) : NULL;
    value none;
    int same_shape = nadded == 0 && ndrop == 0;
    for (int i = 0, k = 0; i < nin; i++) {
        if (i < t->ncols && drop[i])
            continue;
        if (i < t->ncols && column_untouched(m, rows, i)) {   /* the input's, as it is */
            cols[k] = t->cols[i];
            if (av)
                av[k] = rows[0].orig[i];
            if (bv)
                bv[k] = rows[1].orig[i];
            k++;
            continue;
        }
        if (pull_column(m, L, rows, colt, t, i, i < t->ncols ? NULL : added[i - t->ncols], &cols[k],
                        av ? &av[k] : &none, bv ? &bv[k] : &none, a, err, errlen) < 0)
            goto out;
        if (i < t->ncols && (cols[k].type_oid != t->cols[i].type_oid || cols[k].kind != t->cols[i].kind))
            same_shape = 0;
        k++;
    }
    out->after = av;
    out->before = bv;
    out->before_key_only = in->before_key_only && bv != NULL;
    if (same_shape) {
        out->table = t;
    } else if (!(out->table = rules_defs_get(defs, t, cols, ncols))) {
        err_setf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    lua_settop(L, top);
    return rc;
}
