/* rules_json: change events as JSON (jansson) to and from the Lua tables a rule sees (see
 * rules_json.h). Used by `sluice rules test` (fixtures) and the console's dry runs (the sample of
 * captured events, kept as Debezium JSON). */
#include "rules/rules_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "core/buf.h"
#include "rules/rules_helpers.h"
#include "rules/rules_route.h"
#include "rules/rules_steps.h"

#define NEST_MAX RULES_JSON_NEST_MAX

/* ---- JSON to Lua ---- */

static void push_json(lua_State *L, json_t *v, int depth);

void rules_json_push_value(lua_State *L, json_t *v)
{
    push_json(L, v, 0);
}

static void push_json(lua_State *L, json_t *v, int depth)
{
    const char *k;
    json_t *x;
    size_t i;

    if (depth > NEST_MAX)
        luaL_error(L, "event nested more than %d deep", NEST_MAX);
    luaL_checkstack(L, 3, "event nested too deeply");
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        lua_createtable(L, 0, (int)json_object_size(v));
        json_object_foreach(v, k, x) {
            if (json_is_null(x))
                continue;   /* SQL NULL: the column is nil */
            push_json(L, x, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    case JSON_ARRAY:   /* a list as table.pack makes it (as the pipeline does): NULLs are holes */
        lua_createtable(L, (int)json_array_size(v), 1);
        json_array_foreach(v, i, x) {
            if (json_is_null(x))
                continue;
            push_json(L, x, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_pushinteger(L, (lua_Integer)json_array_size(v));
        lua_setfield(L, -2, "n");
        break;
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        break;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        lua_pushboolean(L, json_is_true(v));
        break;
    case JSON_NULL:
        lua_pushnil(L);
        break;
    }
}

/* Protected (lua_pcall): the event table built from the JSON event passed as light userdata. */
static int rj_prepare(lua_State *L)
{
    json_t *ev = lua_touserdata(L, 1);
    lua_settop(L, 0);
    push_json(L, ev, 0);
    return 1;
}

int rules_json_push(lua_State *L, json_t *ev, char *err, size_t errlen)
{
    if (!lua_checkstack(L, 4)) {
        snprintf(err, errlen, "Lua stack exhausted");
        return -1;
    }
    lua_pushcfunction(L, rj_prepare);
    lua_pushlightuserdata(L, ev);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        const char *e = lua_tostring(L, -1);
        snprintf(err, errlen, "%s", e ? e : "(error)");
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

/* ---- Lua to JSON ---- */

/* What a value is expected to be, which settles what an ambiguous table means. */
typedef enum {
    AS_RESULT,   /* what transform returned: an event, or a list of events */
    AS_EVENT,    /* string keys; before, after and source are rows */
    AS_ROW,      /* column name -> value: always an object */
    AS_VALUE,    /* a column's value: a list (keys 1..n, and table.pack's n) or an object */
} json_as;

typedef struct to_json {
    lua_State *L;
    char *err;
    size_t errlen;
    int parents[NEST_MAX + 2];   /* stack indices of the tables being converted (cycles) */
} to_json;

static const char *path_or(const buf *path, const char *root)
{
    return path->len ? path->data : root;
}

static json_t *json_from_lua(to_json *c, int idx, buf *path, int depth, json_as as);

/* The list at idx (length len, NULL holes) as a JSON array. */
static json_t *json_from_list(to_json *c, int idx, lua_Integer len, buf *path, int depth, json_as elem)
{
    lua_State *L = c->L;
    size_t mark = path->len;
    json_t *out = json_array();
    for (lua_Integer i = 1; out && i <= len; i++) {
        lua_rawgeti(L, idx, i);
        buf_printf(path, "[%lld]", (long long)i);
        json_t *x = json_from_lua(c, lua_gettop(L), path, depth + 1, elem);
        lua_pop(L, 1);
        buf_truncate(path, mark);
        if (!x || json_array_append_new(out, x) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    if (!out)
        snprintf(c->err, c->errlen, "out of memory");
    return out;
}

/* The table at idx with string keys as a JSON object (nil and sluice.null members left out). */
static json_t *json_from_record(to_json *c, int idx, buf *path, int depth, json_as as)
{
    lua_State *L = c->L;
    size_t mark = path->len;
    json_t *out = json_object();
    if (!out) {
        snprintf(c->err, c->errlen, "out of memory");
        return NULL;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t klen;
        const char *k = lua_tolstring(L, -2, &klen);   /* a string key: no conversion happens */
        json_as member = AS_VALUE;
        if (as == AS_EVENT && (strcmp(k, "before") == 0 || strcmp(k, "after") == 0 || strcmp(k, "source") == 0))
            member = AS_ROW;
        if (mark)
            buf_puts(path, ".");
        buf_append(path, k, klen);
        json_t *x = json_from_lua(c, lua_gettop(L), path, depth + 1, member);
        if (x && !json_is_null(x) && json_object_setn_new(out, k, klen, x) < 0) {
            snprintf(c->err, c->errlen, "%s: the name is not valid UTF-8", path_or(path, "result"));
            x = NULL;
        } else if (x && json_is_null(x)) {
            json_decref(x);
        }
        buf_truncate(path, mark);
        if (!x) {
            lua_pop(L, 2);
            json_decref(out);
            return NULL;
        }
        lua_pop(L, 1);
    }
    return out;
}

/* The table at idx as JSON: a list (positive integer keys, and optionally table.pack's integer
 * n, which counts trailing NULLs) becomes an array, a table with string keys an object. */
static json_t *json_from_table(to_json *c, int idx, buf *path, int depth, json_as as)
{
    lua_State *L = c->L;
    const char *where = path_or(path, "result");
    size_t count = 0, strings = 0, others = 0;
    lua_Integer maxkey = 0, n = -1;

    if (depth > NEST_MAX) {
        snprintf(c->err, c->errlen, "%s: tables nested more than %d deep", where, NEST_MAX);
        return NULL;
    }
    for (int i = 0; i < depth; i++) {
        if (lua_rawequal(L, idx, c->parents[i])) {
            snprintf(c->err, c->errlen, "%s: a table that contains itself (a cycle)", where);
            return NULL;
        }
    }
    c->parents[depth] = idx;
    if (!lua_checkstack(L, 4)) {
        snprintf(c->err, c->errlen, "%s: Lua stack exhausted", where);
        return NULL;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        if (lua_type(L, -2) == LUA_TSTRING) {
            strings++;
            if (strcmp(lua_tostring(L, -2), "n") == 0 && lua_isinteger(L, -1))
                n = lua_tointeger(L, -1);
        } else if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1) {
            if (lua_tointeger(L, -2) > maxkey)
                maxkey = lua_tointeger(L, -2);
        } else {
            others++;
        }
        lua_pop(L, 1);
    }
    int list = others == 0 && (strings == 0 ? count > 0 : strings == 1 && n >= maxkey);
    if (as == AS_ROW || as == AS_EVENT)
        list = 0;
    if (list) {
        lua_Integer len = n > maxkey ? n : maxkey;
        if (len > 1000000) {
            snprintf(c->err, c->errlen, "%s: a list of %lld elements is too long", where, (long long)len);
            return NULL;
        }
        return json_from_list(c, idx, len, path, depth, as == AS_RESULT ? AS_EVENT : AS_VALUE);
    }
    if (count != strings) {
        snprintf(c->err, c->errlen, "%s: %s", where,
                 as == AS_ROW   ? "a row must have column names (strings) as keys"
                 : as == AS_VALUE ? "a table must be a list (keys 1..n) or have only string keys"
                                  : "an event must have string keys (op, before, after, source)");
        return NULL;
    }
    return json_from_record(c, idx, path, depth, as == AS_RESULT ? AS_EVENT : as);
}

/* The Lua value at absolute index idx as JSON (nil and sluice.null: null). NULL with the reason
 * (naming the path) in c->err. */
static json_t *json_from_lua(to_json *c, int idx, buf *path, int depth, json_as as)
{
    lua_State *L = c->L;
    json_t *out = NULL;

    if (rules_helpers_is_null(L, idx))
        return json_null();
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer((json_int_t)lua_tointeger(L, idx));
        if (!isfinite(lua_tonumber(L, idx))) {
            snprintf(c->err, c->errlen, "%s: %s has no JSON form", path_or(path, "result"),
                     isnan(lua_tonumber(L, idx)) ? "NaN" : "infinity");
            return NULL;
        }
        return json_real((double)lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (!(out = json_stringn(s, n)))
            snprintf(c->err, c->errlen, "%s: string is not valid UTF-8 (binary? encode it, e.g. as hex)",
                     path_or(path, "result"));
        return out;
    }
    case LUA_TTABLE:
        return json_from_table(c, idx, path, depth, as);
    default:
        snprintf(c->err, c->errlen, "%s: a %s cannot be a value", path_or(path, "result"),
                 lua_typename(L, lua_type(L, idx)));
        return NULL;
    }
}

/* An event as the pipeline needs it: an object with a valid op, before/after tables of columns. */
json_t *rules_json_from_lua(lua_State *L, int idx, char *err, size_t errlen)
{
    buf path = BUF_INIT;
    to_json conv = {.L = L, .err = err, .errlen = errlen};
    json_t *out = json_from_lua(&conv, lua_absindex(L, idx), &path, 0, AS_RESULT);
    buf_free(&path);
    return out;
}

/* An event as the pipeline needs it: an object with a valid op, before/after tables of columns. */
int rules_json_event_check(json_t *ev, const char *where, char *err, size_t errlen)
{
    static const char *const images[] = {"before", "after"};
    json_t *op = json_object_get(ev, "op");
    if (!json_is_object(ev)) {
        snprintf(err, errlen, "%s: an event must be a table (op, before, after, source)", where);
        return -1;
    }
    if (!json_is_string(op) || json_string_length(op) != 1 || !strchr("cudrt", json_string_value(op)[0])) {
        snprintf(err, errlen, "%s.op must be one of c, u, d, r, t", where);
        return -1;
    }
    for (size_t i = 0; i < 2; i++) {
        json_t *img = json_object_get(ev, images[i]);
        if (img && !json_is_object(img)) {
            snprintf(err, errlen, "%s.%s must be a table of columns", where, images[i]);
            return -1;
        }
    }
    /* drop: columns removed from the images, as the pipeline removes them */
    json_t *drop = json_object_get(ev, "drop");
    if (!drop)
        return 0;
    if (!json_is_array(drop) && !json_is_object(drop)) {
        snprintf(err, errlen, "%s.drop must be a list of column names", where);
        return -1;
    }
    const char *key;
    json_t *val;
    size_t i;
    json_array_foreach(drop, i, val) {
        if (!json_is_string(val)) {
            snprintf(err, errlen, "%s.drop must be a list of column names", where);
            return -1;
        }
        for (size_t k = 0; k < 2; k++)
            json_object_del(json_object_get(ev, images[k]), json_string_value(val));
    }
    json_object_foreach(drop, key, val) {
        for (size_t k = 0; k < 2; k++)
            json_object_del(json_object_get(ev, images[k]), key);
    }
    json_object_del(ev, "drop");
    return 0;
}

/* Call route on the event at absolute index idx; its answer (rules_route.h) into *out in the same
 * shape: null, the name (string) or an object {topic, table} of the fields given. */
static int route_one(rules_vm *vm, int idx, json_t **out, char *err, size_t errlen)
{
    lua_State *L = rules_vm_state(vm);
    char why[1024];
    rules_route rt;
    *out = NULL;
    if (!lua_checkstack(L, 2)) {
        snprintf(err, errlen, "route: Lua stack exhausted");
        return -1;
    }
    lua_pushvalue(L, idx);
    if (rules_vm_call(vm, "route", 1, 1, why, sizeof why) < 0) {
        snprintf(err, errlen, "route: %s", why);
        return -1;
    }
    if (rules_route_read(L, -1, &rt, err, errlen) == 0) {
        if (rt.form == RULES_ROUTE_DEFAULT) {
            *out = json_null();
        } else if (rt.form == RULES_ROUTE_NAME) {
            *out = json_stringn(rt.table, rt.table_len);
        } else {
            *out = json_object();
            if (rt.topic)
                json_object_set_new(*out, "topic", json_stringn(rt.topic, rt.topic_len));
            if (rt.table)
                json_object_set_new(*out, "table", json_stringn(rt.table, rt.table_len));
        }
        if (!*out)
            snprintf(err, errlen, "out of memory");
    }
    lua_pop(L, 1);
    return *out ? 0 : -1;
}

/* Run one case; 1 when it passed, else 0 with the reason in msg. */
int rules_json_transform(rules_vm *vm, int with_route, json_t **result, json_t **route, char *err, size_t errlen)
{
    lua_State *L = rules_vm_state(vm);
    int base = lua_gettop(L) - 1, failed = 0;   /* the event is on top */
    json_t *got = NULL, *routes = NULL;

    *result = NULL;
    if (route)
        *route = NULL;
    /* The steps first (on the event, in place), then transform: event -> result (at base + 1);
     * a rule without transform returns the stepped event. */
    rules_steps *steps = NULL;
    int has_transform = rules_vm_has_function(vm, "transform");
    failed = rules_steps_compile(vm, &steps, err, errlen) < 0 ||
             (steps && rules_steps_apply_lua(steps, vm, base + 1, err, errlen) < 0);
    int has_steps = steps != NULL;
    rules_steps_destroy(steps);
    if (failed || (!has_steps && !has_transform)) {
        if (!failed)
            snprintf(err, errlen, "the rule defines neither steps nor transform(event)");
        lua_settop(L, base);
        return -1;
    }
    if (has_transform && rules_vm_call(vm, "transform", 1, 1, err, errlen) < 0)
        return -1;
    if (!(got = rules_json_from_lua(L, base + 1, err, errlen))) {
        failed = 1;
    } else if (json_is_array(got) || (json_is_object(got) && json_object_size(got) == 0)) {
        /* A split (an empty table splits into nothing, like a drop). */
        if (json_is_object(got)) {
            json_decref(got);
            got = json_array();
        }
        routes = json_array();
        for (size_t i = 0; !failed && i < json_array_size(got); i++) {
            char where[32];
            json_t *r = NULL;
            snprintf(where, sizeof where, "result[%zu]", i + 1);
            if (rules_json_event_check(json_array_get(got, i), where, err, errlen) < 0)
                failed = 1;
            else if (with_route) {
                lua_rawgeti(L, base + 1, (lua_Integer)i + 1);
                failed = route_one(vm, lua_gettop(L), &r, err, errlen) < 0;
                lua_pop(L, 1);
                json_array_append_new(routes, r);
            }
        }
    } else if (json_is_object(got)) {
        if (rules_json_event_check(got, "result", err, errlen) < 0)
            failed = 1;
        else if (with_route)
            failed = route_one(vm, base + 1, &routes, err, errlen) < 0;
    } else if (!json_is_null(got)) {
        snprintf(err, errlen, "transform must return an event, a list of events or nil, not %s",
                 json_is_string(got) ? "a string" : json_is_boolean(got) ? "a boolean" : "a number");
        failed = 1;
    }
    lua_settop(L, base);
    if (failed) {
        json_decref(got);
        json_decref(routes);
        return -1;
    }
    *result = got;
    if (route && with_route)
        *route = routes;
    else
        json_decref(routes);
    return 0;
}
