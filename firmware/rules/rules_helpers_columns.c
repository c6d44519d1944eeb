/* rules_helpers_columns: the column helpers of the `sluice` table: sluice.rename(event, from, to)
 * and sluice.drop(event, name...) change an event's columns in both images (through the rows'
 * own indexing, so they work on lazy row views and plain tables alike), and sluice.cast(value,
 * type) converts a value to integer, number, string, boolean or decimal text (rules_cast.h), or
 * fails with a clear error (which makes the event a dead letter rather than a guess). */
#include <string.h>

#include <lauxlib.h>

#include "rules/rules_helpers_internal.h"
#include "rules/rules_cast.h"

/* Append the string at idx to event.drop (the event at 1), making the list when absent. */
static void columns_drop_add(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_getfield(L, 1, "drop") == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, 1, "drop");
    } else if (!lua_istable(L, -1)) {
        luaL_error(L, "drop: event.drop must be a list of column names, not a %s", luaL_typename(L, -1));
    }
    lua_Integer n = luaL_len(L, -1);
    lua_pushvalue(L, idx);
    lua_seti(L, -2, n + 1);
    lua_pop(L, 1);
}

/* sluice.rename(event, from, to): column `from` of the table becomes `to` in before and after. */
static int columns_rename(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkstring(L, 2);
    luaL_checkstring(L, 3);
    if (lua_rawequal(L, 2, 3))
        return 0;
    static const char *const sides[] = {"before", "after"};
    for (int s = 0; s < 2; s++) {
        if (lua_getfield(L, 1, sides[s]) != LUA_TTABLE) {
            lua_pop(L, 1);
            continue;
        }
        int row = lua_gettop(L);
        lua_pushvalue(L, 3);
        lua_pushvalue(L, 2);
        lua_gettable(L, row);
        lua_settable(L, row);   /* row[to] = row[from] */
        lua_pushvalue(L, 2);
        lua_pushnil(L);
        lua_settable(L, row);   /* row[from] = nil */
        lua_pop(L, 1);
    }
    columns_drop_add(L, 2);
    return 0;
}

/* sluice.drop(event, name...): the columns leave the event (both images). */
static int columns_drop(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int n = lua_gettop(L);
    for (int i = 2; i <= n; i++) {
        luaL_checkstring(L, i);
        columns_drop_add(L, i);
    }
    return 0;
}

/* sluice.cast(value, type): type is "integer" (or "int", "bigint"), "number" ("float",
 * "double"), "string" ("text"), "boolean" ("bool") or "decimal" ("numeric": exact decimal text);
 * nil stays nil. The conversions are rules_cast.h's, shared with the native steps. */
static int columns_cast(lua_State *L)
{
    const char *type = luaL_checkstring(L, 2);
    lua_settop(L, 2);
    rules_cast_type t;
    if (rules_cast_type_parse(type, &t) < 0)
        return luaL_error(L, "cast: unknown type '%s' (" RULES_CAST_TYPES ")", type);
    rules_scalar in, out;
    char tmp[RULES_CAST_TMP];
    if (rules_value_scalar_from_lua(L, 1, &in) < 0 || rules_cast_apply(&in, t, &out, tmp) < 0)
        return luaL_error(L, "cast: %s is not a valid %s", luaL_tolstring(L, 1, NULL), rules_cast_type_name(t));
    switch (out.type) {
    case RULES_SCALAR_NIL: lua_pushnil(L); break;
    case RULES_SCALAR_BOOL: lua_pushboolean(L, out.b); break;
    case RULES_SCALAR_INT: lua_pushinteger(L, (lua_Integer)out.i); break;
    case RULES_SCALAR_FLOAT: lua_pushnumber(L, (lua_Number)out.f); break;
    case RULES_SCALAR_STRING: lua_pushlstring(L, out.s, out.len); break;
    }
    return 1;
}

void rules_helpers_add_columns(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"rename", columns_rename},
        {"drop", columns_drop},
        {"cast", columns_cast},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
