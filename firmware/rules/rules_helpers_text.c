/* rules_helpers_text: string helpers for rules: masking (UTF-8 aware: counts code points, an
 * invalid byte counts as one), e-mail and phone masking, trim, and ASCII lower/upper that pass
 * every other byte through unchanged. */
#include <string.h>

#include <lauxlib.h>

#include "rules/rules_helpers_internal.h"

/* Length in bytes of the UTF-8 sequence at s (n bytes left): 1 for an invalid or truncated one. */
static size_t text_u8len(const unsigned char *s, size_t n)
{
    size_t len;
    if (s[0] < 0x80)
        return 1;
    else if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 1;
    if (len > n)
        return 1;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 1;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) || (s[0] == 0xf0 && s[1] < 0x90) ||
        (s[0] == 0xf4 && s[1] > 0x8f))
        return 1;   /* overlong, surrogate or beyond U+10FFFF */
    return len;
}

static size_t text_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i += text_u8len((const unsigned char *)s + i, n - i))
        count++;
    return count;
}

/* Byte offset of code point number cp (0-based) in s. */
static size_t text_offset(const char *s, size_t n, size_t cp)
{
    size_t i = 0;
    while (cp-- > 0 && i < n)
        i += text_u8len((const unsigned char *)s + i, n - i);
    return i;
}

/* Add s with its code points from keep_start up to count - keep_end replaced by ch; when nothing
 * would be masked (the string is no longer than keep_start + keep_end) everything is masked. */
static void text_mask_into(luaL_Buffer *b, const char *s, size_t n, lua_Integer keep_start, lua_Integer keep_end,
                           const char *ch, size_t chlen)
{
    size_t count = text_count(s, n);
    if ((lua_Unsigned)keep_start + (lua_Unsigned)keep_end >= count)
        keep_start = keep_end = 0;
    size_t from = text_offset(s, n, (size_t)keep_start);
    size_t to = text_offset(s, n, count - (size_t)keep_end);
    luaL_addlstring(b, s, from);
    for (size_t i = (size_t)keep_start; i < count - (size_t)keep_end; i++)
        luaL_addlstring(b, ch, chlen);
    luaL_addlstring(b, s + to, n - to);
}

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
    luaL_argcheck(L, chlen > 0 && text_u8len((const unsigned char *)ch, chlen) == chlen, 4,
                  "must be a single character");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    text_mask_into(&b, s, n, keep_start, keep_end, ch, chlen);
    luaL_pushresult(&b);
    return 1;
}

static int text_is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* local@domain with one '@', a non-empty local part, and a domain with an inner dot, no spaces. */
static int text_email_valid(const char *s, size_t n, size_t *at)
{
    const char *a = memchr(s, '@', n);
    if (!a || a == s || memchr(a + 1, '@', n - (size_t)(a - s) - 1))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (text_is_space((unsigned char)s[i]) || s[i] == '\0')
            return 0;
    const char *dom = a + 1;
    size_t dlen = n - (size_t)(dom - s);
    const char *dot = dlen ? memchr(dom + 1, '.', dlen - 1) : NULL;
    if (!dot || dom[dlen - 1] == '.')
        return 0;
    *at = (size_t)(a - s);
    return 1;
}

/* sluice.mask_email(s): "john@example.com" -> "j***@example.com" (always three stars, so the length
 * of the local part is hidden); anything that is not an address is masked entirely. */
static int text_mask_email(lua_State *L)
{
    size_t n, at;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (text_email_valid(s, n, &at)) {
        luaL_addlstring(&b, s, text_u8len((const unsigned char *)s, at));
        luaL_addstring(&b, "***");
        luaL_addlstring(&b, s + at, n - at);
    } else {
        text_mask_into(&b, s, n, 0, 0, "*", 1);
    }
    luaL_pushresult(&b);
    return 1;
}

/* sluice.mask_phone(s): digits but the last four become '*', everything else is kept
 * ("+1 (555) 123-4567" -> "+* (***) ***-4567"); with four digits or fewer all are masked. */
static int text_mask_phone(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    size_t digits = 0;
    for (size_t i = 0; i < n; i++)
        digits += s[i] >= '0' && s[i] <= '9';
    size_t keep_from = digits > 4 ? digits - 4 : digits;
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, n);
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = s[i];
        if (s[i] >= '0' && s[i] <= '9' && seen++ < keep_from)
            out[i] = '*';
    }
    luaL_pushresultsize(&b, n);
    return 1;
}

/* sluice.trim(s): without leading and trailing ASCII whitespace */
static int text_trim(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    size_t from = 0;
    while (from < n && text_is_space((unsigned char)s[from]))
        from++;
    while (n > from && text_is_space((unsigned char)s[n - 1]))
        n--;
    lua_pushlstring(L, s + from, n - from);
    return 1;
}

static int text_case(lua_State *L, int upper)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, n);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        out[i] = c;
    }
    luaL_pushresultsize(&b, n);
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

void rules_helpers_add_text(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"mask", text_mask},   {"mask_email", text_mask_email}, {"mask_phone", text_mask_phone},
        {"trim", text_trim},   {"lower", text_lower},           {"upper", text_upper},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
