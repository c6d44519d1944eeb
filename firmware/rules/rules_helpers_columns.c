/* rules_helpers_columns: the column helpers of the `sluice` table: sluice.rename(event, from, to)
 * and sluice.drop(event, name...) change an event's columns in both images (through the rows'
 * own indexing, so they work on lazy row views and plain tables alike), and sluice.cast(value,
 * type) converts a value to integer, number, string, boolean or decimal text, or fails with a
 * clear error (which makes the event a dead letter rather than a guess). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "rules/rules_helpers_internal.h"
#include "rules/rules_value.h"

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

/* Is s[0..len) a decimal literal ([+-]digits[.digits][e[+-]digits])? */
static int cast_is_decimal(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < len && isdigit((unsigned char)s[i]); i++)
        digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && isdigit((unsigned char)s[i]); i++)
            digits++;
    if (digits && i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp = 0;
        if (++i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < len && isdigit((unsigned char)s[i]); i++)
            exp++;
        if (!exp)
            return 0;
    }
    return digits > 0 && i == len;
}

static int cast_fail(lua_State *L, const char *type)
{
    return luaL_error(L, "cast: %s is not a valid %s", luaL_tolstring(L, 1, NULL), type);
}

static int cast_boolean(lua_State *L)
{
    static const char *const yes[] = {"t", "true", "y", "yes", "on", "1"}, *const no[] = {"f", "false", "n", "no", "off", "0"};
    if (lua_isboolean(L, 1)) {
        lua_pushvalue(L, 1);
        return 1;
    }
    if (lua_isinteger(L, 1) && (lua_tointeger(L, 1) == 0 || lua_tointeger(L, 1) == 1)) {
        lua_pushboolean(L, lua_tointeger(L, 1) == 1);
        return 1;
    }
    if (lua_type(L, 1) == LUA_TSTRING) {
        const char *s = lua_tostring(L, 1);
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
                lua_pushboolean(L, strcasecmp(s, yes[i]) == 0);
                return 1;
            }
        }
    }
    return cast_fail(L, "boolean");
}

/* sluice.cast(value, type): type is "integer" (or "int", "bigint"), "number" ("float",
 * "double"), "string" ("text"), "boolean" ("bool") or "decimal" ("numeric": exact decimal text);
 * nil stays nil. */
static int columns_cast(lua_State *L)
{
    const char *type = luaL_checkstring(L, 2);
    lua_settop(L, 2);
    if (lua_isnil(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    int t = lua_type(L, 1);
    if (!strcmp(type, "integer") || !strcmp(type, "int") || !strcmp(type, "bigint")) {
        if (t != LUA_TNUMBER && t != LUA_TSTRING)
            return cast_fail(L, "integer");
        lua_pushvalue(L, 1);
        if (t == LUA_TSTRING && !lua_stringtonumber(L, lua_tostring(L, 1)))
            return cast_fail(L, "integer");
        lua_Integer i;
        int ok;
        i = lua_tointegerx(L, -1, &ok);   /* 3.0 -> 3; 3.5 is no integer */
        if (!ok)
            return cast_fail(L, "integer");
        lua_pushinteger(L, i);
        return 1;
    }
    if (!strcmp(type, "number") || !strcmp(type, "float") || !strcmp(type, "double")) {
        if (t == LUA_TNUMBER) {
            lua_pushnumber(L, lua_tonumber(L, 1));
            return 1;
        }
        if (t != LUA_TSTRING || !lua_stringtonumber(L, lua_tostring(L, 1)))
            return cast_fail(L, "number");
        lua_pushnumber(L, lua_tonumber(L, -1));
        return 1;
    }
    if (!strcmp(type, "string") || !strcmp(type, "text")) {
        if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN)
            return cast_fail(L, "string");
        luaL_tolstring(L, 1, NULL);
        return 1;
    }
    if (!strcmp(type, "boolean") || !strcmp(type, "bool"))
        return cast_boolean(L);
    if (!strcmp(type, "decimal") || !strcmp(type, "numeric")) {
        if (lua_isinteger(L, 1)) {
            lua_pushfstring(L, "%I", lua_tointeger(L, 1));
            return 1;
        }
        if (t == LUA_TNUMBER) {
            char text[64];
            double f = lua_tonumber(L, 1);
            if (f != f || f - f != 0)   /* NaN and infinities are no decimal */
                return cast_fail(L, "decimal");
            lua_pushlstring(L, text, (size_t)rules_value_format_double(f, text, sizeof text));
            return 1;
        }
        size_t len;
        const char *s = t == LUA_TSTRING ? lua_tolstring(L, 1, &len) : NULL;
        if (!s || !cast_is_decimal(s, len))
            return cast_fail(L, "decimal");
        lua_pushvalue(L, 1);
        return 1;
    }
    return luaL_error(L, "cast: unknown type '%s' (integer, number, string, boolean or decimal)", type);
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
