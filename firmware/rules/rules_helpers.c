/* rules_helpers: builds the read-only `sluice` table (see rules_helpers.h) and holds the small
 * helpers: lookups through the caller's ops and the null sentinel. Text and hashing, JSON, time
 * and column helpers live in rules_helpers_{text,json,time,columns}.c. */
#include "rules/rules_helpers.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "rules/rules_helpers_internal.h"

/* Its address is sluice.null; the value is never read or written. */
static const char helpers_null_tag = 0;

void rules_helpers_push_null(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&helpers_null_tag);
}

int rules_helpers_is_null(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == (const void *)&helpers_null_tag;
}

/* Push the malloc'd string at index 1 (a light userdata); run protected so that a memory error
 * cannot leak it. */
static int helpers_push_cstring(lua_State *L)
{
    lua_pushstring(L, lua_touserdata(L, 1));
    return 1;
}

/* sluice.lookup(table, key) -> value (string) or nil when absent. Upvalue 1: a copy of the ops
 * (full userdata), or nil when the rule has no lookups. */
static int helpers_lookup(lua_State *L)
{
    size_t tlen, klen;
    const char *table = luaL_checklstring(L, 1, &tlen);
    const char *key = luaL_checklstring(L, 2, &klen);
    luaL_argcheck(L, strlen(table) == tlen, 1, "contains a NUL byte");
    luaL_argcheck(L, strlen(key) == klen, 2, "contains a NUL byte");
    const rules_lookup_ops *ops = lua_touserdata(L, lua_upvalueindex(1));
    if (!ops || !ops->get)
        return luaL_error(L, "lookup: no lookup tables are configured for this rule");
    char err[256] = "";
    char *out = NULL;
    if (ops->get(ops->arg, table, key, &out, err, sizeof err) != 0) {
        free(out);
        return luaL_error(L, "lookup(%s, %s): %s", table, key, err[0] ? err : "failed");
    }
    if (!out) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushcfunction(L, helpers_push_cstring);
    lua_pushlightuserdata(L, out);
    int status = lua_pcall(L, 1, 1, 0);
    free(out);
    if (status != LUA_OK)
        return lua_error(L);
    return 1;
}

static int helpers_readonly(lua_State *L)
{
    return luaL_error(L, "sluice is read-only (cannot set '%s')", luaL_tolstring(L, 2, NULL));
}

void rules_helpers_open(lua_State *L, const rules_lookup_ops *lookups)
{
    lua_newtable(L);   /* the proxy a rule sees */
    lua_newtable(L);   /* the helpers */
    rules_helpers_add_text(L);
    rules_helpers_add_json(L);
    rules_helpers_add_time(L);
    rules_helpers_add_columns(L);
    if (lookups) {
        rules_lookup_ops *copy = lua_newuserdatauv(L, sizeof *copy, 0);
        *copy = *lookups;
    } else {
        lua_pushnil(L);
    }
    lua_pushcclosure(L, helpers_lookup, 1);
    lua_setfield(L, -2, "lookup");
    rules_helpers_push_null(L);
    lua_setfield(L, -2, "null");
    lua_createtable(L, 0, 3);   /* the proxy's metatable */
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, helpers_readonly);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_setglobal(L, "sluice");
}
