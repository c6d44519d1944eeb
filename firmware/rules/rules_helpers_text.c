/* rules_helpers_text: the string helpers of the `sluice` table: masking (UTF-8 aware), e-mail and
 * phone masking, trim, and ASCII lower/upper. Argument checks and Lua strings only: the byte work
 * is rules_text.h's, shared with the native steps. */
#include <lauxlib.h>

#include "rules/rules_helpers_internal.h"
#include "rules/rules_text.h"

/* sluice.mask(s [, keep_start=0 [, keep_end=4 [, char='*']]]) */
static int text_mask(lua_State *L)
{
    size_t n, chlen;
    const char *s = luaL_checklstring(L, 1, &n);
    lua_Integer keep_start = luaL_optinteger(L, 2, 0);
    lua_Integer keep_end = luaL_optinteger(L, 3, 4);
    const char *ch = luaL_optlstring(L, 4, "*", &chlen);
    luaL_argcheck(L, keep_start >= 0, 2, "must not be negative");
    luaL_argcheck(L, keep_end >= 0, 3, "must not be negative");
    luaL_argcheck(L, rules_text_is_char(ch, chlen), 4, "must be a single character");
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, RULES_TEXT_MASK_MAX(n, chlen));
    luaL_pushresultsize(&b, rules_text_mask(s, n, (size_t)keep_start, (size_t)keep_end, ch, chlen, out));
    return 1;
}

/* sluice.mask_email(s): "john@example.com" -> "j***@example.com"; not an address: all masked. */
static int text_mask_email(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, RULES_TEXT_MASK_EMAIL_MAX(n));
    luaL_pushresultsize(&b, rules_text_mask_email(s, n, out));
    return 1;
}

/* sluice.mask_phone(s): digits but the last four become '*'. */
static int text_mask_phone(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, n);
    luaL_pushresultsize(&b, rules_text_mask_phone(s, n, out));
    return 1;
}

/* sluice.trim(s): without leading and trailing ASCII whitespace */
static int text_trim(lua_State *L)
{
    size_t n, from, len;
    const char *s = luaL_checklstring(L, 1, &n);
    rules_text_trim(s, n, &from, &len);
    lua_pushlstring(L, s + from, len);
    return 1;
}

static int text_case(lua_State *L, int upper)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, n);
    luaL_pushresultsize(&b, rules_text_case(s, n, upper, out));
    return 1;
}

/* sluice.lower(s) / sluice.upper(s): ASCII letters only; other bytes (UTF-8) pass through */
static int text_lower(lua_State *L)
{
    return text_case(L, 0);
}

static int text_upper(lua_State *L)
{
    return text_case(L, 1);
}

/* sluice.sha256(s) -> 64 lowercase hex digits */
static int text_sha256(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[RULES_TEXT_HEX_LEN];
    if (rules_text_sha256_hex(s, len, hex) < 0)
        return luaL_error(L, "sha256: hashing failed");
    lua_pushlstring(L, hex, sizeof hex);
    return 1;
}

/* sluice.hmac_sha256(key, s) -> 64 lowercase hex digits */
static int text_hmac_sha256(lua_State *L)
{
    size_t klen, len;
    const char *key = luaL_checklstring(L, 1, &klen);
    const char *s = luaL_checklstring(L, 2, &len);
    char hex[RULES_TEXT_HEX_LEN];
    if (rules_text_hmac_sha256_hex(key, klen, s, len, hex) < 0)
        return luaL_error(L, "hmac_sha256: hashing failed");
    lua_pushlstring(L, hex, sizeof hex);
    return 1;
}

void rules_helpers_add_text(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"mask", text_mask},   {"mask_email", text_mask_email}, {"mask_phone", text_mask_phone},
        {"trim", text_trim},   {"lower", text_lower},           {"upper", text_upper},
        {"sha256", text_sha256}, {"hmac_sha256", text_hmac_sha256},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
