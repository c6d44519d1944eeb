/* Unit tests for rules/rules_pattern: the sandbox's string.find, match, gmatch and gsub give the
 * results and errors of stock Lua 5.4 (a differential test against luaL_openlibs's string library
 * over hand-written edge cases and thousands of seeded random patterns), runaway patterns stop at
 * the instruction limit and leave the vm usable, normal matching costs little of the budget, and
 * a printed (not asserted) timing comparison for the patterns of bench/rules_overhead.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>

#include "rules/rules_pattern.h"
#include "rules/rules_vm.h"

/* ---- the differential harness ---- */

/* Runs one operation in whichever state loads it and serializes everything it returned (count,
 * types, values) or the error it raised, using no pattern function itself. */
static const char harness_src[] =
    "local T = {a = 'A', b = true, ab = false, [1] = 'one', [2] = 2.5, ['a.'] = {}, x = 7, ['('] = 'P'}\n"
    "local function F(...)\n"
    "  local a = ...\n"
    "  if a == 'a' then return nil end\n"
    "  if a == 'b' then return false end\n"
    "  if a == 'x' then return 42 end\n"
    "  if a == '(' then return {} end\n"
    "  local parts = {}\n"
    "  for i = 1, select('#', ...) do local v = select(i, ...) parts[i] = type(v):sub(1, 1) .. tostring(v) end\n"
    "  return '<' .. table.concat(parts, ',') .. '>'\n"
    "end\n"
    "local function ser(out, ...)\n"
    "  local n = select('#', ...)\n"
    "  out[#out + 1] = '#' .. n\n"
    "  for i = 1, n do\n"
    "    local v = select(i, ...)\n"
    "    local ty = type(v)\n"
    "    if ty == 'string' then out[#out + 1] = 's' .. #v .. ':' .. v\n"
    "    elseif ty == 'number' then out[#out + 1] = math.type(v) .. ':' .. tostring(v)\n"
    "    else out[#out + 1] = ty .. ':' .. tostring(v) end\n"
    "  end\n"
    "  return n\n"
    "end\n"
    "local function repl(rk, r)\n"
    "  if rk == 't' then return T elseif rk == 'f' then return F elseif rk == 'n' then return 7\n"
    "  elseif rk == 'b' then return true elseif rk == 's' then return r end\n"
    "  return nil\n"
    "end\n"
    "function run(op, s, p, init, plain, rk, r, maxn)\n"
    "  local out = {}\n"
    "  local ok, err = pcall(function()\n"
    "    if op == 'find' then ser(out, string.find(s, p, init, plain))\n"
    "    elseif op == 'mfind' then ser(out, s:find(p, init, plain))\n"
    "    elseif op == 'match' then ser(out, string.match(s, p, init))\n"
    "    elseif op == 'mmatch' then ser(out, s:match(p, init))\n"
    "    elseif op == 'gmatch' then\n"
    "      local it = string.gmatch(s, p, init)\n"
    "      for i = 1, 100 do if ser(out, it()) == 0 then break end end\n"
    "      ser(out, it())\n"
    "    elseif op == 'gsub' then ser(out, string.gsub(s, p, repl(rk, r), maxn))\n"
    "    end\n"
    "  end)\n"
    "  if not ok then out[#out + 1] = '\\1E\\1' .. tostring(err) end\n"
    "  return table.concat(out, '\\2')\n"
    "end\n";

enum { OP_FIND, OP_MFIND, OP_MATCH, OP_MMATCH, OP_GMATCH, OP_GSUB, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"find", "mfind", "match", "mmatch", "gmatch", "gsub"};

#define ARG_NONE INT64_MIN         /* init/maxn: pass nil */
#define ARG_FLOAT (INT64_MIN + 1)  /* init/maxn: pass 1.5 */
#define ARG_STRING (INT64_MIN + 2) /* init/maxn: pass the string "2" */

typedef struct pat_case {
    int op;
    const char *s;
    size_t ls;
    const char *p;
    size_t lp;
    int64_t init;
    int plain;   /* -1: nil, else a boolean */
    char rk;     /* gsub replacement: 's' string r, 'n' number, 't' table, 'f' function, 'b' true, 0 nil */
    const char *r;
    size_t lr;
    int64_t maxn;
    int s_number;   /* pass the subject as an integer */
} pat_case;

typedef struct diff_env {
    lua_State *ref;   /* stock string library */
    rules_vm *vm;     /* the sandbox, with ours */
    unsigned long seed;
    long runs, errors, matches;
} diff_env;

static void push_int_arg(lua_State *L, int64_t v)
{
    if (v == ARG_NONE)
        lua_pushnil(L);
    else if (v == ARG_FLOAT)
        lua_pushnumber(L, 1.5);
    else if (v == ARG_STRING)
        lua_pushliteral(L, "2");
    else
        lua_pushinteger(L, (lua_Integer)v);
}

/* Push `run` (ref only) and its 8 arguments for case c. */
static void push_case(lua_State *L, const pat_case *c)
{
    lua_pushstring(L, op_names[c->op]);
    if (c->s_number)
        lua_pushinteger(L, strtoll(c->s, NULL, 10));
    else
        lua_pushlstring(L, c->s, c->ls);
    lua_pushlstring(L, c->p, c->lp);
    push_int_arg(L, c->init);
    if (c->plain < 0)
        lua_pushnil(L);
    else
        lua_pushboolean(L, c->plain);
    char rk[2] = {c->rk, 0};
    lua_pushstring(L, rk);
    if (c->r)
        lua_pushlstring(L, c->r, c->lr);
    else
        lua_pushnil(L);
    push_int_arg(L, c->maxn);
}

/* Copy a result into a malloc'd buffer, dropping a "chunk:line: " prefix after an error mark. */
static char *result_copy(const char *s, size_t n, size_t *outlen)
{
    char *out = malloc(n + 1);
    assert_non_null(out);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (i + 3 <= n && memcmp(s + i, "\1E\1", 3) == 0) {
            memcpy(out + o, s + i, 3);
            o += 3;
            i += 3;
            size_t j = i;
            while (j < n && s[j] != ':' && s[j] != '\n')
                j++;
            size_t k = j + 1;
            while (k < n && s[k] >= '0' && s[k] <= '9')
                k++;
            if (j < n && s[j] == ':' && k > j + 1 && k + 1 < n && s[k] == ':' && s[k + 1] == ' ')
                i = k + 2;
            continue;
        }
        out[o++] = s[i++];
    }
    out[o] = 0;
    *outlen = o;
    return out;
}

static void print_escaped(const char *label, const char *s, size_t n)
{
    fprintf(stderr, "  %s: \"", label);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\" (%zu bytes)\n", n);
}

static void print_case(const pat_case *c)
{
    fprintf(stderr, "case %s init=%lld plain=%d rk=%c maxn=%lld s_number=%d\n", op_names[c->op],
            (long long)c->init, c->plain, c->rk ? c->rk : '0', (long long)c->maxn, c->s_number);
    print_escaped("subject", c->s, c->ls);
    print_escaped("pattern", c->p, c->lp);
    if (c->r)
        print_escaped("replacement", c->r, c->lr);
}

static int has_text(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return 1;
    return 0;
}

/* Run case c in both states and fail on any difference. */
static void diff_run(diff_env *env, const pat_case *c)
{
    lua_State *R = env->ref;
    lua_getglobal(R, "run");
    push_case(R, c);
    if (lua_pcall(R, 8, 1, 0) != LUA_OK)
        fail_msg("stock harness failed: %s", lua_tostring(R, -1));
    size_t nref, nours;
    const char *sref = lua_tolstring(R, -1, &nref);

    char err[512] = "";
    lua_State *L = rules_vm_state(env->vm);
    push_case(L, c);
    if (rules_vm_call(env->vm, "run", 8, 1, err, sizeof err) != 0) {
        print_case(c);
        fail_msg("sandbox harness failed (seed %lu): %s", env->seed, err);
    }
    const char *sours = lua_tolstring(L, -1, &nours);
    size_t la, lb;
    char *a = result_copy(sref, nref, &la);
    char *b = result_copy(sours, nours, &lb);
    int same = la == lb && memcmp(a, b, la) == 0;
    if (!same) {
        print_case(c);
        print_escaped("stock", a, la);
        print_escaped("ours ", b, lb);
        free(a);
        free(b);
        fail_msg("results differ (seed %lu)", env->seed);
    }
    env->runs++;
    if (has_text(a, la, "\1E\1"))
        env->errors++;
    else if (!has_text(a, la, "nil:nil") && strcmp(a, "#0") != 0)
        env->matches++;
    free(a);
    free(b);
    lua_pop(R, 1);
    lua_pop(L, 1);
    assert_int_equal(lua_gettop(L), 0);
}

static void diff_env_open(diff_env *env, unsigned long seed)
{
    memset(env, 0, sizeof *env);
    env->seed = seed;
    env->ref = luaL_newstate();
    assert_non_null(env->ref);
    luaL_openlibs(env->ref);
    if (luaL_dostring(env->ref, harness_src) != LUA_OK)
        fail_msg("stock harness: %s", lua_tostring(env->ref, -1));
    char err[256] = "";
    rules_limits lim = {1000000000ULL, 256u * 1024 * 1024};
    env->vm = rules_vm_create(&lim, NULL, err, sizeof err);
    if (!env->vm)
        fail_msg("rules_vm_create: %s", err);
    if (rules_vm_load(env->vm, "harness", harness_src, strlen(harness_src), err, sizeof err) != 0)
        fail_msg("sandbox harness: %s", err);
}

static void diff_env_close(diff_env *env)
{
    lua_close(env->ref);
    rules_vm_destroy(env->vm);
}

/* The replacements every gsub case is tried with. */
static const struct {
    char rk;
    const char *r;
    int64_t maxn;
} gsub_variants[] = {
    {'s', "x", ARG_NONE},    {'s', "%0", ARG_NONE},   {'s', "<%1>", ARG_NONE}, {'s', "%2", ARG_NONE},
    {'s', "%%", ARG_NONE},   {'s', "%", ARG_NONE},    {'s', "%a", ARG_NONE},   {'s', "[%1|%2]", ARG_NONE},
    {'s', "", ARG_NONE},     {'n', NULL, ARG_NONE},   {'t', NULL, ARG_NONE},   {'f', NULL, ARG_NONE},
    {0, NULL, ARG_NONE},     {'b', NULL, ARG_NONE},   {'s', "y", 0},           {'s', "y", 1},
    {'f', NULL, 2},          {'t', NULL, -1},         {'s', "y", ARG_FLOAT},   {'s', "y", ARG_STRING},
};

static const int64_t init_variants[] = {ARG_NONE, 0, 1, 2, 3, -1, -2, -100, 100, ARG_FLOAT, ARG_STRING};

/* Every operation on subject s and pattern p, with the init, plain and replacement variants. */
static void diff_all(diff_env *env, const char *s, size_t ls, const char *p, size_t lp)
{
    pat_case c = {.s = s, .ls = ls, .p = p, .lp = lp, .plain = -1, .maxn = ARG_NONE};
    int64_t extra[] = {(int64_t)ls, (int64_t)ls + 1, (int64_t)ls + 2, -(int64_t)ls, -(int64_t)ls - 1};
    for (int op = OP_FIND; op <= OP_GMATCH; op++) {
        c.op = op;
        for (size_t i = 0; i < sizeof init_variants / sizeof init_variants[0] + 5; i++) {
            size_t nv = sizeof init_variants / sizeof init_variants[0];
            c.init = i < nv ? init_variants[i] : extra[i - nv];
            c.plain = -1;
            diff_run(env, &c);
            if (op == OP_FIND && (i == 0 || i == 3)) {
                c.plain = 1;
                diff_run(env, &c);
                c.plain = 0;
                diff_run(env, &c);
            }
        }
    }
    c.op = OP_GSUB;
    c.init = ARG_NONE;
    c.plain = -1;
    for (size_t i = 0; i < sizeof gsub_variants / sizeof gsub_variants[0]; i++) {
        c.rk = gsub_variants[i].rk;
        c.r = gsub_variants[i].r;
        c.lr = c.r ? strlen(c.r) : 0;
        c.maxn = gsub_variants[i].maxn;
        diff_run(env, &c);
    }
}

#define S(lit) lit, sizeof(lit) - 1

static const struct {
    const char *s;
    size_t ls;
    const char *p;
    size_t lp;
} hand_cases[] = {
    /* empty subject and pattern, anchors */
    {S(""), S("")}, {S(""), S("a")}, {S(""), S(".*")}, {S(""), S("^$")}, {S(""), S("$")}, {S(""), S("^")},
    {S(""), S("()")}, {S(""), S("a*")}, {S(""), S("a-")}, {S(""), S("a?")}, {S(""), S("%f[%a]")},
    {S(""), S("%f[%z]")}, {S(""), S("%b()")}, {S(""), S("(.-)")}, {S("abc"), S("")}, {S("abc"), S("^")},
    {S("abc"), S("$")}, {S("abc"), S("^$")}, {S("abc"), S("^abc$")}, {S("abc"), S("^b")}, {S("abc"), S("c$")},
    {S("abc"), S("b$")}, {S("a^b"), S("^^")}, {S("a^b"), S("a^")}, {S("^a"), S("^^a")}, {S("a$b"), S("a$b")},
    {S("a$"), S("$$")}, {S("a$"), S("a$$")}, {S("$"), S("$")}, {S("ab$"), S("(b$)")}, {S("ab"), S("(b)$")},
    /* literals, dots, quantifiers */
    {S("hello world"), S("o")}, {S("hello world"), S("l+")}, {S("hello world"), S("o w")},
    {S("hello world"), S("x*")}, {S("hello world"), S("l*")}, {S("hello world"), S("l-")},
    {S("hello world"), S("l?")}, {S("hello world"), S(".-o")}, {S("hello world"), S(".*o")},
    {S("hello world"), S(".+")}, {S("hello world"), S(".")}, {S("hello world"), S("h.l")},
    {S("hello world"), S("l?lo")}, {S("hello world"), S("x?h")}, {S("aaab"), S("a-b")}, {S("aaab"), S("a*ab")},
    {S("aaab"), S("a+ab")}, {S("aaab"), S("a-ab")}, {S("aaab"), S("^a-$")}, {S("a**b"), S("a**")},
    {S("a++b"), S("a++")}, {S("a--b"), S("a--")}, {S("a??b"), S("a??")}, {S("*+-?"), S("*")}, {S("*+-?"), S("+")},
    {S("*+-?"), S("-")}, {S("*+-?"), S("?")}, {S("x-y"), S("x-y")}, {S("xy"), S("x-y")},
    {S("one two  three"), S("%a*")}, {S("one two  three"), S("%a+")}, {S("one two  three"), S("%a-")},
    {S("one two  three"), S(" *")}, {S("baaac"), S("a*")}, {S("baaac"), S("a-")}, {S("baaac"), S(".-")},
    {S("abc"), S("x*")}, {S("a,b,,c"), S("([^,]*)")}, {S("a,b,,c,"), S("[^,]*")}, {S("  x  "), S("^%s*(.-)%s*$")},
    {S("    "), S("^%s*(.-)%s*$")}, {S("abc"), S("^%s*(.-)%s*$")},
    /* character classes */
    {S("Hello, World 42!\t\n"), S("%a+")}, {S("Hello, World 42!\t\n"), S("%A+")},
    {S("Hello, World 42!\t\n"), S("%c")}, {S("Hello, World 42!\t\n"), S("%C+")},
    {S("Hello, World 42!\t\n"), S("%d+")}, {S("Hello, World 42!\t\n"), S("%D+")},
    {S("Hello, World 42!\t\n"), S("%g+")}, {S("Hello, World 42!\t\n"), S("%G+")},
    {S("Hello, World 42!\t\n"), S("%l+")}, {S("Hello, World 42!\t\n"), S("%L+")},
    {S("Hello, World 42!\t\n"), S("%p+")}, {S("Hello, World 42!\t\n"), S("%P+")},
    {S("Hello, World 42!\t\n"), S("%s+")}, {S("Hello, World 42!\t\n"), S("%S+")},
    {S("Hello, World 42!\t\n"), S("%u+")}, {S("Hello, World 42!\t\n"), S("%U+")},
    {S("Hello, World 42!\t\n"), S("%w+")}, {S("Hello, World 42!\t\n"), S("%W+")},
    {S("Hello, World 42! 0xBEEF"), S("%x+")}, {S("Hello, World 42! 0xBEEF"), S("%X+")},
    {S("a.b"), S("%.")}, {S("a%b"), S("%%")}, {S("a]b"), S("%]")}, {S("a(b"), S("%(")}, {S("a-b"), S("%-")},
    {S("a1b"), S("%1")}, {S("ayb"), S("%y")}, {S("aYb"), S("%Y")},
    /* sets */
    {S("a]b"), S("[]]")}, {S("a]b"), S("[^]]+")}, {S("a]b"), S("[]a]+")}, {S("a-b"), S("[a-]+")},
    {S("a-b"), S("[-a]+")}, {S("abcde-"), S("[a-c-e]+")}, {S("a]b"), S("[%]]")}, {S("a-b"), S("[%-]")},
    {S("a1 b"), S("[^%d%s]+")}, {S("a-z"), S("[a%-z]+")}, {S("abz"), S("[z-a]")}, {S("a-z"), S("[%a-z]+")},
    {S("a-b"), S("[-]")}, {S("a-b"), S("[^-]+")}, {S("a^b"), S("[^^]+")}, {S("a^b"), S("[%^]")},
    {S("a^b"), S("[b^]+")}, {S("hello world"), S("[aeiou]")}, {S("hello world"), S("[^aeiou ]+")},
    {S("hello world"), S("[a-f]")}, {S("hello world"), S("[%a]+")}, {S("hello world"), S("[%A]")},
    {S("x.y"), S("[.]")}, {S("x.y"), S("[%.]")}, {S("x%y"), S("[%%]")}, {S("[x]"), S("[[]")},
    {S("[x]"), S("[]]")}, {S("a[b"), S("[%[]")}, {S("abc"), S("[a-")}, {S("ab]"), S("[a-]]")},
    {S("09af"), S("[%x]+")}, {S("09af"), S("[^%X]+")}, {S("a\0b"), S("[%z]")}, {S("a\0b"), S("[^%z]+")},
    /* captures and position captures */
    {S("hello world"), S("(o)(r)")}, {S("hello world"), S("(%w+) (%w+)")}, {S("hello world"), S("()ll()")},
    {S("abc"), S("(a(b(c)))")}, {S("abc"), S("((a)(b))")}, {S("abc"), S("(a)(b)()")},
    {S("ab  c"), S("(a*(.)%w(%s*))")}, {S("abc"), S("()")}, {S("abc"), S("()()")}, {S("abc"), S("(()a())")},
    {S("abc"), S("()b")}, {S("abc"), S("b()")}, {S("abc"), S("()$")}, {S("abc"), S("(b)c()")},
    {S("key = value"), S("(%w+)%s*=%s*(%w+)")}, {S("a"), S("(a)")}, {S("aaa"), S("(a*)")},
    {S("x"), S("(x?)(x?)")},
    /* back-references */
    {S("abab"), S("(ab)%1")}, {S("aa bb cc"), S("(%a)%1")}, {S("xyzxyz"), S("(x(y)z)%1")},
    {S("xyzxyzy"), S("(x(y)z)%1%2")}, {S("abc"), S("()a%1")}, {S("a\"b\"c'd'"), S("([\"'])(.-)%1")},
    {S("aaa"), S("(a)%1%1")}, {S("aaaa"), S("(a*)%1")}, {S("abcabc"), S("(.-)%1$")}, {S("abab"), S("(a)(b)%2")},
    {S("aa"), S("(a%1)")}, {S("aa"), S("(a)%2")}, {S("aa"), S("%0")}, {S("aa"), S("(a)%0")}, {S("aa"), S("%1")},
    {S("aa"), S("%9")}, {S("aa"), S("a%1")}, {S("abc"), S("x%1")},
    /* %b */
    {S("(foo(bar))baz"), S("%b()")}, {S("(("), S("%b()")}, {S("))"), S("%b()")}, {S("x(a)(b)"), S("%b()%b()")},
    {S("[[x]]"), S("%b[]")}, {S("\"a\"b\""), S("%b\"\"")}, {S("aaa"), S("%baa")}, {S("(()"), S("%b()")},
    {S("(()"), S("%b()*")}, {S("f(a(b)c)d(e)"), S("%b()")}, {S("f(a(b)c)d(e)"), S("(%b())")},
    {S("abc"), S("%b")}, {S("abc"), S("%ba")}, {S("a(b"), S("%b(")}, {S("<a<b>>"), S("a(%b<>)")},
    /* %f */
    {S("THE (quick) fox"), S("%f[%a]%a+")}, {S("hello"), S("%f[%l]")}, {S("hello"), S("%f[%L]")},
    {S("hello"), S("%f[%z]")}, {S("hello"), S("%f[^%z]")}, {S("hello"), S("%f[%a]$")},
    {S("THE (quick) fox"), S("%f[%a%d]%w+%f[^%w]")}, {S("THE (quick) fox"), S("%f[%w]%w+")},
    {S("THE (quick) fox"), S("%f[%W]")}, {S("abc"), S("%f")}, {S("abc"), S("%fa")}, {S("abc"), S("%f[a")},
    {S("abc"), S("%f[]")}, {S("abc"), S("a%f")}, {S("aXb"), S("%f[%u]")}, {S("a\0b"), S("%f[%z]")},
    {S("a\0b"), S("%f[^%z]")},
    /* malformed patterns (errors only once the matcher reaches them) */
    {S("abc"), S("[a")}, {S("abc"), S("[")}, {S("abc"), S("[^")}, {S("abc"), S("[]")}, {S("abc"), S("[^]")},
    {S("abc"), S("%")}, {S("abc"), S("a%")}, {S("abc"), S("x%")}, {S("abc"), S("[%")}, {S("abc"), S("[a%]")},
    {S("abc"), S("(")}, {S("abc"), S("(()")}, {S("abc"), S(")")}, {S("abc"), S("a)")}, {S("abc"), S("x)")},
    {S("abc"), S("(a")}, {S("abc"), S("a(")}, {S("abc"), S("((a)")}, {S("abc"), S("(a))")},
    {S("abc"), S("[a-%]")}, {S("abc"), S("%[")}, {S("abc"), S("]")}, {S("a]"), S("]")}, {S("abc"), S("a[")},
    /* embedded NULs and bytes >= 0x80 */
    {S("a\0b\0c"), S("%z")}, {S("a\0b"), S("\0")}, {S("a\0b"), S("[\0]")}, {S("a\0b"), S("%Z+")},
    {S("a\0b"), S("a\0b")}, {S("a\0"), S(".$")}, {S("a\0b"), S("%\0")}, {S("a\0b"), S("(%z)(.)")},
    {S("a\0b"), S("[a\0]+")}, {S("\0\0"), S("\0*")}, {S("a\0b"), S("%b\0b")},
    {S("caf\xc3\xa9"), S("[\x80-\xff]+")}, {S("\xff\xfe"), S("\xff")}, {S("\xe9t\xe9"), S("%a+")},
    {S("\xe9t\xe9"), S("%A+")}, {S("\xff"), S("[^\x01-\x7f]")}, {S("\xe9t\xe9"), S("%g+")}, {S("\xe9t\xe9"), S("%p")},
    {S("\x80\xff"), S("[\x80]")}, {S("a\xff"), S("%f[\xff]")}, {S("\xff\xfe"), S("%b\xff\xfe")},
    /* patterns without specials (find searches them as text) */
    {S("a)b"), S(")")}, {S("a)b"), S("a)")}, {S("a]b"), S("]b")}, {S("abcabc"), S("bc")}, {S("abc"), S("abcd")},
    {S("aab"), S("ab")},
    /* gsub with table keys and function results */
    {S("a b x ( ab"), S("%S+")}, {S("a b x ( ab"), S("(%S)")}, {S("a b x ( ab"), S("()%S")},
    {S("a b x ( ab"), S("(%S)(%S)")}, {S("hello"), S("l")}, {S("a.b"), S("a.")},
};

static void test_differential_hand(void **state)
{
    (void)state;
    diff_env env;
    diff_env_open(&env, 0);
    for (size_t i = 0; i < sizeof hand_cases / sizeof hand_cases[0]; i++)
        diff_all(&env, hand_cases[i].s, hand_cases[i].ls, hand_cases[i].p, hand_cases[i].lp);

    /* every byte in one subject, against every class, its complement and a few sets */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    static const char *const class_pats[] = {
        "%a+", "%c+", "%d+", "%g+", "%l+", "%p+", "%s+", "%u+", "%w+", "%x+", "%z+", "%A+", "%C+", "%D+",
        "%G+", "%L+", "%P+", "%S+", "%U+", "%W+", "%X+", "%Z+", "[%a%d]+", "[^%a%d]+", "[%p%s]+", ".",
        "[\x80-\xff]+", "[^\x80-\xff]+", "[\x01-\x1f]+", "%f[%w]%w+", "%f[%W]", "[%w_]+", "(%l)(%u?)",
    };
    for (size_t i = 0; i < sizeof class_pats / sizeof class_pats[0]; i++)
        diff_all(&env, all, sizeof all, class_pats[i], strlen(class_pats[i]));

    /* subjects passed as numbers */
    pat_case num = {.op = OP_GSUB, .s = "12345", .ls = 5, .p = "x", .lp = 1, .init = ARG_NONE, .plain = -1,
                    .rk = 's', .r = "y", .lr = 1, .maxn = ARG_NONE, .s_number = 1};
    diff_run(&env, &num);
    num.p = "3";
    diff_run(&env, &num);
    num.op = OP_FIND;
    diff_run(&env, &num);
    num.op = OP_MATCH;
    num.p = "(%d)(%d)";
    num.lp = 8;
    diff_run(&env, &num);

    printf("hand-written cases: %ld runs in both states, %ld with errors, %ld with matches\n", env.runs,
           env.errors, env.matches);
    assert_true(env.errors > 100);
    assert_true(env.matches > 1000);
    diff_env_close(&env);
}

/* Patterns of n items repeated (e.g. "a?" n times) against long subjects: the recursion limit
 * ("pattern too complex") and the capture limit ("too many captures") fall where stock Lua's do. */
static void test_differential_limits(void **state)
{
    (void)state;
    diff_env env;
    diff_env_open(&env, 0);
    static const struct {
        const char *unit, *subject_unit;
    } reps[] = {
        {"a?", "a"}, {"a*", "a"}, {"a-", "a"}, {"()", "a"}, {"(a)", "a"}, {"(", "a"}, {"a+b?", "ab"},
        {"%f[a]a", "a"}, {"(a", "a"}, {"(a?)", "a"}, {"%b()?", "()"},
    };
    static const int counts[] = {0, 1, 31, 32, 33, 99, 100, 101, 198, 199, 200, 201, 202, 250};
    size_t cap = 4096;
    char *p = malloc(cap), *s = malloc(cap);
    assert_non_null(p);
    assert_non_null(s);
    for (size_t r = 0; r < sizeof reps / sizeof reps[0]; r++) {
        for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
            size_t lp = 0, ls = 0;
            for (int i = 0; i < counts[k]; i++) {
                memcpy(p + lp, reps[r].unit, strlen(reps[r].unit));
                lp += strlen(reps[r].unit);
            }
            for (int i = 0; i < counts[k] + 5 && ls + 4 < cap; i++) {
                memcpy(s + ls, reps[r].subject_unit, strlen(reps[r].subject_unit));
                ls += strlen(reps[r].subject_unit);
            }
            pat_case c = {.s = s, .ls = ls, .p = p, .lp = lp, .init = ARG_NONE, .plain = -1, .maxn = ARG_NONE};
            for (int op = OP_FIND; op <= OP_GSUB; op++) {
                c.op = op;
                c.rk = 's';
                c.r = "x";
                c.lr = 1;
                diff_run(&env, &c);
            }
            c.ls = 0;   /* and against an empty subject */
            c.op = OP_MATCH;
            diff_run(&env, &c);
        }
    }
    free(p);
    free(s);
    printf("limit cases: %ld runs, %ld with errors\n", env.runs, env.errors);
    assert_true(env.errors > 20);
    diff_env_close(&env);
}

/* A small deterministic generator (xorshift64*), so that a seed reproduces a failure. */
static uint64_t rng_state;

static uint32_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint32_t rng_below(uint32_t n)
{
    return rng_next() % n;
}

/* A random pattern over a small alphabet (many of them malformed) of at most max_items items into
 * buf; its length. */
static size_t random_pattern(char *buf, uint32_t max_items)
{
    static const char chars[] = "ab%.()[]^$*+-?";
    static const char *const tokens[] = {"%a", "%d", "%.", "%1", "%2", "%b()", "%f[ab]", "[a-b]", "[^a]", "()",
                                         "a", "b", ".", "%s", "%A", "[%d.]", "%f[%w]", "%b", "%z", "[]a]",
                                         "%f[^a]", "%3", ".-", "[^%d]", "%b[]", "[a-]", "%f"};
    size_t n = 0, items = rng_below(max_items + 1);
    for (size_t i = 0; i < items; i++) {
        if (rng_below(10) < 6) {
            buf[n++] = chars[rng_below(sizeof chars - 1)];
        } else {
            const char *t = tokens[rng_below(sizeof tokens / sizeof tokens[0])];
            memcpy(buf + n, t, strlen(t));
            n += strlen(t);
        }
    }
    return n;
}

/* A random subject of at most max_len bytes into buf; its length. */
static size_t random_subject(char *buf, uint32_t max_len)
{
    static const char chars[] = "aab.()1 [b]%-";
    size_t n = rng_below(max_len + 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rng_below(40);
        buf[i] = r == 0 ? '\0' : r == 1 ? '\xe9' : chars[rng_below(sizeof chars - 1)];
    }
    return n;
}

static int64_t random_int_arg(size_t ls)
{
    switch (rng_below(6)) {
    case 0: return ARG_NONE;
    case 1: return (int64_t)rng_below((uint32_t)ls + 3);
    case 2: return -(int64_t)rng_below((uint32_t)ls + 3);
    default: return ARG_NONE;
    }
}

static void test_differential_random(void **state)
{
    (void)state;
    const char *env_seed = getenv("SLUICE_TEST_SEED");
    unsigned long seed = env_seed ? strtoul(env_seed, NULL, 10) : (unsigned long)time(NULL);
    printf("random differential test: seed %lu (rerun with SLUICE_TEST_SEED=%lu)\n", seed, seed);
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    diff_env env;
    diff_env_open(&env, seed);
    static const char *const repls[] = {"x", "%0", "%1", "<%2>", "%%", "%", "%x", "[%1]"};
    char p[160], s[32];
    for (int i = 0; i < 4000; i++) {
        pat_case c = {.p = p, .s = s, .plain = -1, .maxn = ARG_NONE};
        int long_subject = rng_below(8) == 0;   /* then a shorter pattern: backtracking stays cheap */
        c.lp = random_pattern(p, long_subject ? 6 : 10);
        c.ls = random_subject(s, long_subject ? 30 : 12);
        for (int op = OP_FIND; op <= OP_GSUB; op++) {
            if (op == OP_MFIND || op == OP_MMATCH)
                continue;
            c.op = op;
            c.init = op == OP_GSUB ? ARG_NONE : random_int_arg(c.ls);
            c.plain = op == OP_FIND && rng_below(10) == 0 ? 1 : -1;
            uint32_t rk = rng_below(12);
            c.rk = rk < 8 ? 's' : rk < 10 ? 'f' : 't';
            c.r = rk < 8 ? repls[rk] : NULL;
            c.lr = c.r ? strlen(c.r) : 0;
            c.maxn = op == OP_GSUB && rng_below(5) == 0 ? (int64_t)rng_below(4) : ARG_NONE;
            diff_run(&env, &c);
        }
    }
    printf("random cases: %ld runs in both states, %ld with errors, %ld with matches\n", env.runs, env.errors,
           env.matches);
    assert_true(env.errors > 500);
    assert_true(env.matches > 2000);
    diff_env_close(&env);
}

/* ---- the budget ---- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static rules_vm *vm_with(const char *name, const char *src, uint64_t instructions)
{
    char err[512] = "";
    rules_limits lim = {instructions, 0};
    rules_vm *vm = rules_vm_create(&lim, NULL, err, sizeof err);
    if (!vm)
        fail_msg("rules_vm_create: %s", err);
    if (rules_vm_load(vm, name, src, strlen(src), err, sizeof err) != 0)
        fail_msg("load %s: %s", name, err);
    return vm;
}

/* A normal call still works afterwards and the stack is clean. */
static void assert_usable(rules_vm *vm)
{
    char err[512] = "";
    lua_State *L = rules_vm_state(vm);
    assert_int_equal(lua_gettop(L), 0);
    if (rules_vm_call(vm, "normal", 0, 1, err, sizeof err) != 0)
        fail_msg("vm not usable after a runaway pattern: %s", err);
    assert_string_equal(lua_tostring(L, -1), "example.com|hi|2");
    lua_pop(L, 1);
}

static const char runaway_src[] =
    "function normal()\n"
    "  local d = ('ann@example.com'):match('@([^@]+)$')\n"
    "  local t = ('  hi  '):match('^%s*(.-)%s*$')\n"
    "  local _, n = ('a1b2'):gsub('%d', '*')\n"
    "  return d .. '|' .. t .. '|' .. n\n"
    "end\n"
    "function spin() while true do end end\n"
    "function find_lazy() return string.rep('a', 20000):find('.-.-.-.-b') end\n"
    "function match_lazy() return ('a' .. (' '):rep(50000) .. 'a'):match('^%s*(.-)%s*$') end\n"
    "function match_anchored() return ('a'):rep(50000):match('^(a-)-b') end\n"
    "function match_linear() return #('a'):rep(100000):match('(.-)%s*$') end\n"
    "function gmatch_lazy() local n = 0 for w in ('a'):rep(50000):gmatch('a-b') do n = n + 1 end return n end\n"
    "function gsub_greedy() return (('a'):rep(50000):gsub('a*b', '')) end\n"
    "function balance() return (('('):rep(100000):find('%b()')) end\n"
    "function backref() return (('a'):rep(100000):find('(a*)%1b')) end\n"
    "function plain() local s = ('a'):rep(1000000) return s:find(('a'):rep(500000) .. 'b', 1, true) end\n"
    "function caught()\n"
    "  local ok, e = pcall(string.find, ('a'):rep(20000), '.-.-.-b')\n"
    "  local x = 0\n"
    "  for i = 1, 10 do x = x + 1 end\n"
    "  return ok, e, x\n"
    "end\n"
    "function in_callback()\n"
    "  return (('x'):rep(10):gsub('x', function(c) return (('a'):rep(20000):find('.-.-.-b')) end))\n"
    "end\n";

static void test_runaway_patterns_stopped(void **state)
{
    (void)state;
    rules_vm *vm = vm_with("runaway", runaway_src, 0);
    char err[512] = "";
    double t0 = now_seconds();
    assert_int_equal(rules_vm_call(vm, "spin", 0, 0, err, sizeof err), -1);
    double spin = now_seconds() - t0;
    printf("while true do end stopped after %.1f ms: %s\n", spin * 1e3, err);
    assert_usable(vm);

    static const struct {
        const char *fn, *want;
    } cases[] = {
        {"find_lazy", "runaway:8: string.find: pattern matching exceeded the instruction limit (1000000)"},
        {"match_lazy", "runaway:9: string.match: pattern matching exceeded the instruction limit (1000000)"},
        {"gmatch_lazy", "string.gmatch: pattern matching exceeded the instruction limit (1000000)"},
        {"gsub_greedy", "string.gsub: pattern matching exceeded the instruction limit (1000000)"},
        {"balance", "string.find: pattern matching exceeded the instruction limit (1000000)"},
        {"backref", "string.find: pattern matching exceeded the instruction limit (1000000)"},
        {"plain", "string.find: pattern matching exceeded the instruction limit (1000000)"},
        {"caught", "instruction limit (1000000) exceeded"},
        {"in_callback", "string.find: pattern matching exceeded the instruction limit (1000000)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t0 = now_seconds();
        int rc = rules_vm_call(vm, cases[i].fn, 0, 1, err, sizeof err);
        double took = now_seconds() - t0;
        printf("%-12s stopped after %7.1f ms (%llu instructions): %s\n", cases[i].fn, took * 1e3,
               (unsigned long long)rules_vm_last_instructions(vm), err);
        assert_int_equal(rc, -1);
        if (!strstr(err, cases[i].want))
            fail_msg("%s: error '%s' lacks '%s'", cases[i].fn, err, cases[i].want);
        /* over by at most two charging batches and a hook step */
        assert_true(rules_vm_last_instructions(vm) >= 1000000);
        assert_true(rules_vm_last_instructions(vm) < 1000000 + 2 * 1024 + 1000);
        assert_true(took < 5.0 + 20 * spin);   /* the stock matcher needs minutes for most of these */
        assert_usable(vm);
    }
    /* long but linear matches end within the budget */
    assert_int_equal(rules_vm_call(vm, "match_anchored", 0, 1, err, sizeof err), 0);
    assert_int_equal(lua_type(rules_vm_state(vm), -1), LUA_TNIL);
    lua_pop(rules_vm_state(vm), 1);
    if (rules_vm_call(vm, "match_linear", 0, 1, err, sizeof err) != 0)
        fail_msg("match_linear: %s", err);
    assert_int_equal(lua_tointeger(rules_vm_state(vm), -1), 100000);
    lua_pop(rules_vm_state(vm), 1);
    rules_vm_destroy(vm);
}

static const char budget_src[] =
    "local email = 'firstname.lastname.1234@example-domain.com'\n"
    "function many(n)\n"
    "  local last\n"
    "  for i = 1, n do last = email:match('@([^@]+)$') end\n"
    "  return last\n"
    "end\n"
    "function empty() return 1 end\n"
    "function trim(s) return (s:match('^%s*(.-)%s*$')) end\n"
    "function digits(s) return (s:find('%d')) end\n"
    "function domain(s) return (s:match('@([^@]+)$')) end\n";

/* Instructions one call of fname(arg) counts. */
static uint64_t call_cost(rules_vm *vm, const char *fname, const char *arg, size_t len)
{
    char err[512] = "";
    lua_State *L = rules_vm_state(vm);
    lua_pushlstring(L, arg, len);
    if (rules_vm_call(vm, fname, 1, 1, err, sizeof err) != 0)
        fail_msg("%s: %s", fname, err);
    lua_pop(L, 1);
    return rules_vm_last_instructions(vm);
}

static void test_normal_matching_budget(void **state)
{
    (void)state;
    rules_vm *vm = vm_with("budget", budget_src, 0);
    lua_State *L = rules_vm_state(vm);
    char err[512] = "";

    /* the installed functions are ours, for s:match too */
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "match");
    assert_ptr_equal(lua_tocfunction(L, -1), rules_pattern_match);
    lua_pop(L, 2);

    lua_pushinteger(L, 10000);
    if (rules_vm_call(vm, "many", 1, 1, err, sizeof err) != 0)
        fail_msg("10,000 email matches under the default limit: %s", err);
    assert_string_equal(lua_tostring(L, -1), "example-domain.com");
    lua_pop(L, 1);
    uint64_t many = rules_vm_last_instructions(vm);
    printf("10,000 email matches counted %llu of %llu instructions\n", (unsigned long long)many,
           (unsigned long long)RULES_DEFAULT_INSTRUCTIONS);
    assert_true(many < 800000);

    uint64_t base = call_cost(vm, "empty", "", 0);
    char text[101];
    memset(text, 'x', 100);
    memcpy(text, "   ", 3);
    memcpy(text + 97, "   ", 3);
    text[100] = 0;
    uint64_t trim = call_cost(vm, "trim", text, 100);
    uint64_t dom = call_cost(vm, "domain", "firstname.lastname.1234@example-domain.com", 42);
    printf("costs: empty call %llu, trim of 100 bytes %llu, email domain %llu\n", (unsigned long long)base,
           (unsigned long long)trim, (unsigned long long)dom);
    assert_true(trim < 600);
    assert_true(dom < 150);

    /* the matcher's steps are counted: scanning 10,000 letters for a digit costs >= 10,000 */
    char *letters = malloc(10000);
    assert_non_null(letters);
    memset(letters, 'q', 10000);
    uint64_t scan = call_cost(vm, "digits", letters, 10000);
    free(letters);
    printf("scanning 10,000 bytes for %%d counted %llu\n", (unsigned long long)scan);
    assert_true(scan >= 10000);
    assert_true(scan < 30000);
    rules_vm_destroy(vm);
}

/* ---- timing (printed, not asserted) ---- */

static const char bench_src[] =
    "local email = 'ann.7@example3.com'\n"
    "local name = '  Ann Smith 7 '\n"
    "local phone = '+1 (555) 012-3456'\n"
    "local rphone = phone:reverse()\n"
    "function b_email(n) local r for i = 1, n do r = email:match('@([^@]+)$') end return r end\n"
    "function b_trim(n) local r for i = 1, n do r = name:match('^%s*(.-)%s*$') end return r end\n"
    "function b_rfind(n) local r for i = 1, n do r = rphone:find('^%D*%d%D*%d%D*%d%D*%d') end return r end\n"
    "function b_gsub(n) local r for i = 1, n do r = phone:gsub('%d', '*') end return r end\n"
    "function b_empty(n) local r for i = 1, n do r = i end return r end\n";

/* Seconds for fname(n) in a plain state. */
static double time_plain(lua_State *L, const char *fname, int n)
{
    lua_getglobal(L, fname);
    lua_pushinteger(L, n);
    double t0 = now_seconds();
    if (lua_pcall(L, 1, 0, 0) != LUA_OK)
        fail_msg("%s: %s", fname, lua_tostring(L, -1));
    return now_seconds() - t0;
}

static double time_vm(rules_vm *vm, const char *fname, int n)
{
    char err[512] = "";
    lua_pushinteger(rules_vm_state(vm), n);
    double t0 = now_seconds();
    if (rules_vm_call(vm, fname, 1, 0, err, sizeof err) != 0)
        fail_msg("%s: %s", fname, err);
    return now_seconds() - t0;
}

static void test_timing(void **state)
{
    (void)state;
    lua_State *stock = luaL_newstate(), *ours = luaL_newstate();
    assert_non_null(stock);
    assert_non_null(ours);
    luaL_openlibs(stock);
    luaL_openlibs(ours);
    lua_getglobal(ours, "string");
    rules_pattern_install(ours, -1);
    lua_pop(ours, 1);
    assert_int_equal(luaL_dostring(stock, bench_src), LUA_OK);
    assert_int_equal(luaL_dostring(ours, bench_src), LUA_OK);
    rules_vm *vm = vm_with("bench", bench_src, 1000000000000ULL);
    static const char *const fns[] = {"b_email", "b_trim", "b_rfind", "b_gsub", "b_empty"};
    static const char *const labels[] = {"email:match('@([^@]+)$')", "s:match('^%s*(.-)%s*$')",
                                         "s:reverse():find('^%D*%d%D*%d%D*%d%D*%d')", "s:gsub('%d', '*')",
                                         "(loop overhead)"};
#ifdef __SANITIZE_ADDRESS__
    const int n = 50000;   /* instrumented: our code is slowed, liblua is not; numbers only indicative */
#else
    const int n = 200000;
#endif
    printf("timing, ns per call (best of 3, %d calls; a sanitizer build slows our code, not liblua):\n", n);
    printf("  %-44s %9s %9s %7s %9s\n", "pattern", "stock", "ours", "ratio", "sandbox");
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        double best[3] = {1e9, 1e9, 1e9};
        for (int round = 0; round < 3; round++) {
            double a = time_plain(stock, fns[i], n), b = time_plain(ours, fns[i], n), c = time_vm(vm, fns[i], n);
            best[0] = a < best[0] ? a : best[0];
            best[1] = b < best[1] ? b : best[1];
            best[2] = c < best[2] ? c : best[2];
        }
        printf("  %-44s %9.1f %9.1f %7.2f %9.1f\n", labels[i], best[0] * 1e9 / n, best[1] * 1e9 / n,
               best[1] / best[0], best[2] * 1e9 / n);
    }
    rules_vm_destroy(vm);
    lua_close(stock);
    lua_close(ours);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential_hand),
        cmocka_unit_test(test_differential_limits),
        cmocka_unit_test(test_differential_random),
        cmocka_unit_test(test_runaway_patterns_stopped),
        cmocka_unit_test(test_normal_matching_budget),
        cmocka_unit_test(test_timing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
