/* libFuzzer target: the rules sandbox's own Lua pattern matcher (rules/rules_pattern.c) against
 * stock Lua 5.4's, differentially. Each input is a call of string.find, match, gmatch or gsub
 * (pattern, subject, init, replacement chosen from the bytes) made in two plain states, one with
 * the stock string library and one with ours installed: both must fail, or both succeed with the
 * same results (types and values); any difference aborts. Subjects are cut so that the number of
 * quantifiers cannot make the stock matcher run for long (it has no step limit). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "rules/rules_pattern.h"

static lua_State *stock, *ours;

static lua_State *state_new(int with_ours)
{
    lua_State *L = luaL_newstate();
    if (!L)
        abort();
    luaL_openlibs(L);
    if (with_ours) {
        lua_getglobal(L, "string");
        rules_pattern_install(L, lua_gettop(L));
        lua_pop(L, 1);
    }
    return L;
}

static const char *const FN[] = {"find", "match", "gmatch", "gsub"};
static const char *const REPL[] = {"%0-%1", "x", "%%", "%2", "<%1>", "", "%9", "%"};

/* Push the call's arguments: subject, pattern, init (or the gsub replacement), plain/max. */
static int push_args(lua_State *L, int fn, const char *pat, size_t plen, const char *subj, size_t slen, int init,
                     int variant)
{
    lua_pushlstring(L, subj, slen);
    lua_pushlstring(L, pat, plen);
    if (fn == 3) {
        switch (variant % 4) {
        case 0: lua_pushstring(L, REPL[(variant / 4) % 8]); break;
        case 1:   /* a table: captures "a" and "b" replaced, others kept */
            lua_createtable(L, 0, 2);
            lua_pushliteral(L, "A");
            lua_setfield(L, -2, "a");
            lua_pushboolean(L, 0);
            lua_setfield(L, -2, "b");
            break;
        case 2: luaL_dostring(L, "return function(c, ...) if c == 'a' then return false end return tostring(c) .. select('#', ...) end"); break;
        default: luaL_dostring(L, "return function() return nil end"); break;
        }
        lua_pushinteger(L, init < 0 ? -init : init);   /* max replacements */
        return 4;
    }
    lua_pushinteger(L, init);
    if (fn == 0) {
        lua_pushboolean(L, variant & 1);
        return 4;
    }
    return 3;
}

/* Call string.FN with the arguments; for gmatch, call the iterator up to 40 times and keep every
 * result. Returns the Lua status; the results (or the error) are left on the stack. */
static int call(lua_State *L, int fn, const char *pat, size_t plen, const char *subj, size_t slen, int init, int variant)
{
    lua_settop(L, 0);
    lua_getglobal(L, "string");
    lua_getfield(L, -1, FN[fn]);
    lua_remove(L, 1);
    int nargs = push_args(L, fn, pat, plen, subj, slen, init, variant);
    int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
    if (status != LUA_OK || fn != 2)
        return status;
    lua_settop(L, 1);   /* the iterator */
    for (int k = 0; k < 40; k++) {
        int base = lua_gettop(L);
        lua_pushvalue(L, 1);
        status = lua_pcall(L, 0, LUA_MULTRET, 0);
        if (status != LUA_OK || lua_isnil(L, base + 1))
            return status;
    }
    return LUA_OK;
}

/* Are the values on the two stacks the same (types and values)? Functions are not compared. */
static int same_results(void)
{
    int n = lua_gettop(stock);
    if (n != lua_gettop(ours))
        return 0;
    for (int i = 1; i <= n; i++) {
        int t = lua_type(stock, i);
        if (t != lua_type(ours, i))
            return 0;
        if (t == LUA_TSTRING) {
            size_t a, b;
            const char *x = lua_tolstring(stock, i, &a), *y = lua_tolstring(ours, i, &b);
            if (a != b || memcmp(x, y, a) != 0)
                return 0;
        } else if (t == LUA_TNUMBER) {
            if (lua_isinteger(stock, i) != lua_isinteger(ours, i) || lua_tonumber(stock, i) != lua_tonumber(ours, i))
                return 0;
        } else if (t == LUA_TBOOLEAN && lua_toboolean(stock, i) != lua_toboolean(ours, i)) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!stock) {
        stock = state_new(0);
        ours = state_new(1);
    }
    if (size < 3)
        return 0;
    int fn = data[0] % 4, variant = data[0] / 4, init = (int8_t)data[1] % 24;
    size_t plen = data[2] % 48;
    data += 3, size -= 3;
    if (plen > size)
        plen = size;
    const char *pat = (const char *)data, *subj = (const char *)data + plen;
    size_t slen = size - plen;
    /* (slen + 1) ^ quantifiers steps at worst for the stock matcher: keep it near a million */
    int q = 0;
    for (size_t i = 0; i < plen; i++)
        q += pat[i] == '*' || pat[i] == '+' || pat[i] == '-';
    size_t cap = 64;
    if (q > 0) {
        for (cap = 0; cap < 64; cap++) {
            double w = 1;
            for (int j = 0; j < q; j++)
                w *= (double)(cap + 3);
            if (w > 2e6)
                break;
        }
    }
    if (slen > cap)
        slen = cap;
    int s1 = call(stock, fn, pat, plen, subj, slen, init, variant);
    int s2 = call(ours, fn, pat, plen, subj, slen, init, variant);
    if ((s1 == LUA_OK) != (s2 == LUA_OK) || (s1 == LUA_OK && !same_results())) {
        fprintf(stderr, "rules_pattern differs from stock Lua: string.%s(%.*s, %.*s, %d) variant %d: stock %s, ours %s\n",
                FN[fn], (int)slen, subj, (int)plen, pat, init, variant, s1 == LUA_OK ? "ok" : lua_tostring(stock, -1),
                s2 == LUA_OK ? "ok" : lua_tostring(ours, -1));
        abort();
    }
    lua_settop(stock, 0);
    lua_settop(ours, 0);
    lua_gc(stock, LUA_GCSTEP, 0);
    lua_gc(ours, LUA_GCSTEP, 0);
    return 0;
}
