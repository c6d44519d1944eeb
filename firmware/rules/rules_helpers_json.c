/* rules_helpers_json: sluice.json_encode / sluice.json_decode through jansson. A table whose keys
 * are exactly 1..n (n >= 1) is an array, any other table (the empty one too) an object; sluice.null
 * stands for JSON null both ways. Cycles, nesting deeper than 64, NaN/inf and values JSON cannot
 * hold are errors; object keys come out sorted, so the text is deterministic. The jansson tree
 * is always reachable from one root that is freed on any error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "rules/rules_helpers.h"
#include "rules/rules_helpers_internal.h"
#include "rules/rules_value.h"

#define JSON_MAX_DEPTH 64

typedef struct json_ctx {
    json_t *root;    /* everything built so far hangs off this */
    char *text;      /* the dumped text, once encoded */
} json_ctx;

static int json_is_array_table(lua_State *L, int idx, size_t *len)
{
    lua_Integer count = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        lua_Integer k = lua_tointeger(L, -1);
        if (k < 1) {
            lua_pop(L, 1);
            return 0;
        }
        if (k > max)
            max = k;
        count++;
    }
    *len = (size_t)count;
    return count > 0 && max == count;
}

/* A table key as an object member name into kbuf (strings as they are, numbers as text). */
static const char *json_key(lua_State *L, int idx, char *kbuf, size_t buflen, size_t *len)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        return lua_tolstring(L, idx, len);
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            snprintf(kbuf, buflen, LUA_INTEGER_FMT, lua_tointeger(L, idx));
        else
            snprintf(kbuf, buflen, "%.17g", (double)lua_tonumber(L, idx));
        *len = strlen(kbuf);
        return kbuf;
    default:
        luaL_error(L, "json_encode: a %s cannot be an object key", luaL_typename(L, idx));
        return NULL;
    }
}

/* Set (array: append) child under parent; frees child and raises when that fails. */
static void json_attach(lua_State *L, json_t *parent, const char *key, size_t klen, json_t *child)
{
    if (!child)
        luaL_error(L, "json_encode: out of memory");
    int rc;
    if (json_is_array(parent))
        rc = json_array_append_new(parent, child);
    else
        rc = json_object_setn_new_nocheck(parent, key, klen, child);
    if (rc != 0)
        luaL_error(L, "json_encode: out of memory");
}

static json_t *json_scalar(lua_State *L, int idx)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer((json_int_t)lua_tointeger(L, idx));
        if (!isfinite(lua_tonumber(L, idx)))
            luaL_error(L, "json_encode: cannot encode a non-finite number (%s)", lua_tostring(L, idx));
        return json_real((double)lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        json_t *j = json_stringn(s, n);
        if (!j)
            luaL_error(L, "json_encode: string is not valid UTF-8");
        return j;
    }
    case LUA_TLIGHTUSERDATA:
        if (rules_helpers_is_null(L, idx))
            return json_null();
        /* fall through */
    default:
        luaL_error(L, "json_encode: cannot encode a %s value", luaL_typename(L, idx));
        return NULL;
    }
}

/* Encode the value at idx into a new node attached under parent (NULL: it becomes ctx->root).
 * seen (stack index) marks the tables on the current path. */
static void json_from_lua(lua_State *L, json_ctx *ctx, json_t *parent, const char *key, size_t klen, int idx,
                          int seen, int depth)
{
    if (lua_type(L, idx) != LUA_TTABLE) {
        json_t *j = json_scalar(L, idx);
        if (!parent)
            ctx->root = j;
        else
            json_attach(L, parent, key, klen, j);
        return;
    }
    if (depth >= JSON_MAX_DEPTH)
        luaL_error(L, "json_encode: nesting deeper than %d", JSON_MAX_DEPTH);
    luaL_checkstack(L, 6, "json_encode: nesting too deep");
    lua_pushvalue(L, idx);
    if (lua_rawget(L, seen) != LUA_TNIL)
        luaL_error(L, "json_encode: cycle detected (a table contains itself)");
    lua_pop(L, 1);
    rules_value_materialize(L, idx);   /* a lazy row view: every column */
    size_t len = 0;
    int array = json_is_array_table(L, idx, &len);
    json_t *node = array ? json_array() : json_object();
    if (!parent) {
        if (!node)
            luaL_error(L, "json_encode: out of memory");
        ctx->root = node;
    } else {
        json_attach(L, parent, key, klen, node);
    }
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, seen);
    if (array) {
        for (size_t i = 1; i <= len; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            json_from_lua(L, ctx, node, NULL, 0, lua_gettop(L), seen, depth + 1);
            lua_pop(L, 1);
        }
    } else {
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            char kbuf[64];
            size_t n;
            const char *k = json_key(L, -2, kbuf, sizeof kbuf, &n);
            json_from_lua(L, ctx, node, k, n, lua_gettop(L), seen, depth + 1);
            lua_pop(L, 1);
        }
    }
    lua_pushvalue(L, idx);
    lua_pushnil(L);
    lua_rawset(L, seen);
}

/* Protected body of json_encode: [ctx, value] -> text in ctx->text. */
static int json_encode_body(lua_State *L)
{
    json_ctx *ctx = lua_touserdata(L, 1);
    lua_newtable(L);   /* seen, index 3 */
    json_from_lua(L, ctx, NULL, NULL, 0, 2, 3, 0);
    ctx->text = json_dumps(ctx->root, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    if (!ctx->text)
        return luaL_error(L, "json_encode: out of memory");
    lua_pushstring(L, ctx->text);
    return 1;
}

/* sluice.json_encode(v) -> compact JSON text */
static int json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    json_ctx ctx = {NULL, NULL};
    lua_pushcfunction(L, json_encode_body);
    lua_pushlightuserdata(L, &ctx);
    lua_pushvalue(L, 1);
    int status = lua_pcall(L, 2, 1, 0);
    json_decref(ctx.root);
    free(ctx.text);
    if (status != LUA_OK)
        return lua_error(L);
    return 1;
}

static void json_to_lua(lua_State *L, json_t *j, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        luaL_error(L, "json_decode: nesting deeper than %d", JSON_MAX_DEPTH);
    luaL_checkstack(L, 4, "json_decode: nesting too deep");
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(j));
        for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it)) {
            lua_pushlstring(L, json_object_iter_key(it), json_object_iter_key_len(it));
            json_to_lua(L, json_object_iter_value(it), depth + 1);
            lua_rawset(L, -3);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        lua_createtable(L, n < 1u << 20 ? (int)n : 0, 0);
        for (size_t i = 0; i < n; i++) {
            json_to_lua(L, json_array_get(j, i), depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        break;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(j));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
        rules_helpers_push_null(L);
        break;
    }
}

/* Protected body of json_decode: [tree] -> value. */
static int json_decode_body(lua_State *L)
{
    json_to_lua(L, lua_touserdata(L, 1), 1);
    return 1;
}

/* sluice.json_decode(s) -> value (null as sluice.null) */
static int json_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    json_error_t jerr;
    json_t *root = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!root)
        return luaL_error(L, "json_decode: %s at line %d, column %d", jerr.text, jerr.line, jerr.column);
    lua_pushcfunction(L, json_decode_body);
    lua_pushlightuserdata(L, root);
    int status = lua_pcall(L, 1, 1, 0);
    json_decref(root);
    if (status != LUA_OK)
        return lua_error(L);
    return 1;
}

void rules_helpers_add_json(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"json_encode", json_encode},
        {"json_decode", json_decode},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
