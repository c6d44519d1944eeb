/* Unit tests for rules/rules_vm: every sandbox escape of issue 6 is stopped with a clear error and
 * the vm still works afterwards (limits, removed globals, bytecode, locked string metatable, stack
 * overflow, separate states), plus error positions and the stack discipline of rules_vm_call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>

#include "rules/rules_vm.h"

static const char alive_src[] = "function alive(x) return x * 2 end\n";

static rules_vm *vm_new(uint64_t instructions, size_t memory)
{
    char err[256] = "";
    rules_limits lim = {instructions, memory};
    rules_vm *vm = rules_vm_create(&lim, NULL, err, sizeof err);
    if (!vm)
        fail_msg("rules_vm_create: %s", err);
    assert_int_equal(rules_vm_load(vm, "alive", alive_src, strlen(alive_src), err, sizeof err), 0);
    return vm;
}

/* The vm answers a simple call, its stack is empty and its memory under the cap. */
static void assert_alive(rules_vm *vm, size_t cap)
{
    char err[256] = "";
    lua_State *L = rules_vm_state(vm);
    assert_int_equal(lua_gettop(L), 0);
    lua_pushinteger(L, 21);
    if (rules_vm_call(vm, "alive", 1, 1, err, sizeof err) != 0)
        fail_msg("vm not alive: %s", err);
    assert_int_equal(lua_tointeger(L, -1), 42);
    lua_pop(L, 1);
    assert_int_equal(lua_gettop(L), 0);
    assert_true(rules_vm_memory(vm) <= cap);
}

static void load_ok(rules_vm *vm, const char *name, const char *src)
{
    char err[256] = "";
    if (rules_vm_load(vm, name, src, strlen(src), err, sizeof err) != 0)
        fail_msg("load %s: %s", name, err);
}

/* Load src (expected to fail) and check the error mentions want. */
static void load_fails(rules_vm *vm, const char *name, const char *src, const char *want)
{
    char err[512] = "";
    assert_int_equal(rules_vm_load(vm, name, src, strlen(src), err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("load %s: error '%s' lacks '%s'", name, err, want);
}

/* Call global fname with no arguments (expected to fail) and check the error mentions want. */
static void call_fails(rules_vm *vm, const char *fname, const char *want)
{
    char err[512] = "";
    assert_int_equal(rules_vm_call(vm, fname, 0, 1, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("call %s: error '%s' lacks '%s'", fname, err, want);
    assert_int_equal(lua_gettop(rules_vm_state(vm)), 0);
}

static void test_removed_globals(void **state)
{
    (void)state;
    rules_vm *vm = vm_new(0, 0);
    static const struct {
        const char *src, *want;
    } cases[] = {
        {"os.execute('id')", "esc:1: attempt to index a nil value (global 'os')"},
        {"io.open('/etc/passwd')", "esc:1: attempt to index a nil value (global 'io')"},
        {"require('os')", "esc:1: attempt to call a nil value (global 'require')"},
        {"load('return 1')()", "esc:1: attempt to call a nil value (global 'load')"},
        {"loadstring('return 1')()", "attempt to call a nil value (global 'loadstring')"},
        {"dofile('/etc/passwd')", "attempt to call a nil value (global 'dofile')"},
        {"loadfile('/etc/passwd')", "attempt to call a nil value (global 'loadfile')"},
        {"print('x')", "attempt to call a nil value (global 'print')"},
        {"collectgarbage('stop')", "attempt to call a nil value (global 'collectgarbage')"},
        {"coroutine.create(function() end)", "attempt to index a nil value (global 'coroutine')"},
        {"debug.getinfo(1)", "attempt to index a nil value (global 'debug')"},
        {"package.loaded.os.execute('id')", "attempt to index a nil value (global 'package')"},
        {"string.dump(alive)", "attempt to call a nil value (field 'dump')"},
        {"(''):dump()", "attempt to call a nil value (method 'dump')"},
        {"warn('@on')", "attempt to call a nil value (global 'warn')"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        load_fails(vm, "esc", cases[i].src, cases[i].want);
        assert_alive(vm, RULES_DEFAULT_MEMORY);
    }
    load_ok(vm, "g",
            "function globals() local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t)\n"
            "  return table.concat(t, ',') end\n");
    char err[256] = "";
    lua_State *L = rules_vm_state(vm);
    assert_int_equal(rules_vm_call(vm, "globals", 0, 1, err, sizeof err), 0);
    assert_string_equal(lua_tostring(L, -1),
                        "_G,_VERSION,alive,assert,error,getmetatable,globals,ipairs,math,next,pairs,pcall,"
                        "rawequal,rawget,rawlen,rawset,select,setmetatable,sluice,string,table,tonumber,"
                        "tostring,type,utf8,xpcall");
    lua_pop(L, 1);
    rules_vm_destroy(vm);
}

typedef struct dump_buf {
    char data[64 * 1024];
    size_t len;
} dump_buf;

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    (void)L;
    dump_buf *d = ud;
    if (sz > sizeof d->data - d->len)
        return 1;
    memcpy(d->data + d->len, p, sz);
    d->len += sz;
    return 0;
}

static void test_bytecode_refused(void **state)
{
    (void)state;
    rules_vm *vm = vm_new(0, 0);
    /* real bytecode, made by an unrestricted state */
    lua_State *H = luaL_newstate();
    assert_int_equal(luaL_loadstring(H, "alive = function() return 'hijacked' end"), LUA_OK);
    static dump_buf bc;
    bc.len = 0;
    assert_int_equal(lua_dump(H, dump_writer, &bc, 0), 0);
    assert_true(bc.len > 4 && memcmp(bc.data, LUA_SIGNATURE, 4) == 0);
    char err[256] = "";
    assert_int_equal(rules_vm_load(vm, "bc", bc.data, bc.len, err, sizeof err), -1);
    assert_non_null(strstr(err, "bc: precompiled bytecode is refused"));
    lua_close(H);
    assert_alive(vm, RULES_DEFAULT_MEMORY);
    load_fails(vm, "sig", "\x1bLua\x54\x00garbage", "precompiled bytecode is refused");
    assert_alive(vm, RULES_DEFAULT_MEMORY);
    /* text source cannot reach a loader either */
    load_fails(vm, "txt", "local f = load or loadstring; f('\\27Lua')", "attempt to call a nil value");
    assert_alive(vm, RULES_DEFAULT_MEMORY);
    rules_vm_destroy(vm);
}

static void test_memory_cap(void **state)
{
    (void)state;
    const size_t cap = 1024 * 1024;
    rules_vm *vm = vm_new(1000000000ULL, cap);
    assert_true(rules_vm_memory(vm) > 0);
    assert_true(rules_vm_memory(vm) < cap);
    load_ok(vm, "mem",
            "function rep() return string.rep('x', 1e9) end\n"
            "function grow() local t = {} for i = 1, 1e8 do t[i] = i end return #t end\n"
            "function concat() local s = 'x' while true do s = s .. s end end\n"
            "function keys() local t = {} for i = 1, 1e8 do t['k' .. i] = true end end\n"
            "function caught() local ok, e = pcall(string.rep, 'x', 1e9) return e end\n");
    const char *bombs[] = {"rep", "grow", "concat", "keys"};
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        call_fails(vm, bombs[i], "mem: not enough memory (limit 1048576 bytes)");
        assert_true(rules_vm_memory(vm) <= cap);
        assert_alive(vm, cap);
    }
    /* a rule may catch the error itself; the cap still held */
    char err[256] = "";
    lua_State *L = rules_vm_state(vm);
    assert_int_equal(rules_vm_call(vm, "caught", 0, 1, err, sizeof err), 0);
    assert_string_equal(lua_tostring(L, -1), "not enough memory");
    lua_pop(L, 1);
    assert_alive(vm, cap);
    /* a top-level bomb fails the load the same way */
    load_fails(vm, "top", "local t = {} for i = 1, 1e8 do t[i] = i end", "top: not enough memory");
    assert_alive(vm, cap);
    rules_vm_destroy(vm);

    /* a cap too small for the libraries fails cleanly */
    rules_limits tiny = {0, 4096};
    assert_null(rules_vm_create(&tiny, NULL, err, sizeof err));
    assert_non_null(strstr(err, "4096"));
}

static void test_instruction_limit(void **state)
{
    (void)state;
    rules_vm *vm = vm_new(100000, 0);
    load_ok(vm, "spin",
            "function spin()\n  while true do end\nend\n"
            "function count(n) for i = 1, n do end return n end\n"
            "function stubborn() while true do pcall(function() while true do end end) end end\n"
            "function handler() return xpcall(function() while true do end end, function(m) while true do end end) end\n"
            "function handler2() return xpcall(function() error('x') end, function(m) while true do end end) end\n"
            "function closer() local x <close> = setmetatable({}, {__close = function() while true do end end})\n"
            "  while true do end end\n"
            "function closer2() local x <close> = setmetatable({}, {__close = function() while true do end end})\n"
            "  error('e') end\n"
            "function xp() return xpcall(function(a, b) return a + b end, function(m) return 'H:' .. m end, 2, 3) end\n");
    call_fails(vm, "spin", "spin:2: instruction limit (100000) exceeded");
    assert_true(rules_vm_last_instructions(vm) >= 100000);
    assert_alive(vm, RULES_DEFAULT_MEMORY);
    call_fails(vm, "stubborn", "instruction limit (100000) exceeded");
    assert_alive(vm, RULES_DEFAULT_MEMORY);
    /* handlers and __close run after the error; they are still limited */
    const char *after[] = {"handler", "handler2", "closer", "closer2"};
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
        call_fails(vm, after[i], "instruction limit (100000) exceeded");
        assert_alive(vm, RULES_DEFAULT_MEMORY);
    }

    char xerr[256] = "";
    assert_int_equal(rules_vm_call(vm, "xp", 0, 2, xerr, sizeof xerr), 0);   /* xpcall still works */
    assert_true(lua_toboolean(rules_vm_state(vm), -2));
    assert_int_equal(lua_tointeger(rules_vm_state(vm), -1), 5);
    lua_settop(rules_vm_state(vm), 0);

    /* just under the limit succeeds, every time (the count is per call); just over fails */
    char err[256] = "";
    lua_State *L = rules_vm_state(vm);
    for (int round = 0; round < 3; round++) {
        lua_pushinteger(L, 99000);
        if (rules_vm_call(vm, "count", 1, 1, err, sizeof err) != 0)
            fail_msg("count under the limit: %s", err);
        assert_int_equal(lua_tointeger(L, -1), 99000);
        lua_pop(L, 1);
        assert_true(rules_vm_last_instructions(vm) >= 98000);
        assert_true(rules_vm_last_instructions(vm) < 100000);
    }
    lua_pushinteger(L, 101000);
    assert_int_equal(rules_vm_call(vm, "count", 1, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "instruction limit (100000) exceeded"));
    assert_int_equal(lua_gettop(L), 0);
    assert_alive(vm, RULES_DEFAULT_MEMORY);

    /* the top level of a chunk runs under the limit too */
    load_fails(vm, "top", "while true do end", "top:1: instruction limit (100000) exceeded");
    assert_alive(vm, RULES_DEFAULT_MEMORY);
    rules_vm_destroy(vm);
}

static void test_stack_overflow(void **state)
{
    (void)state;
    rules_vm *vm = vm_new(1000000000ULL, 256u * 1024 * 1024);
    load_ok(vm, "deep",
            "local function f() return f() + 1 end\n"
            "function lua_deep() return f() end\n"
            "function meta_deep() local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x end\n"
            "local function g(s) return (string.gsub(s, '.', g)) end\n"
            "function gsub_deep() return g('x') end\n"
            "function sort_deep() local function s(a, b) table.sort({3, 2, 1}, s) return a < b end\n"
            "  table.sort({3, 2, 1}, s) end\n");
    call_fails(vm, "lua_deep", "stack overflow");
    assert_alive(vm, 256u * 1024 * 1024);
    call_fails(vm, "meta_deep", "stack overflow");   /* "C stack overflow" */
    assert_alive(vm, 256u * 1024 * 1024);
    call_fails(vm, "gsub_deep", "stack overflow");
    assert_alive(vm, 256u * 1024 * 1024);
    call_fails(vm, "sort_deep", "stack overflow");
    assert_alive(vm, 256u * 1024 * 1024);
    /* under the default limits deep recursion is stopped by one of them, never a crash */
    rules_vm *small = vm_new(0, 0);
    load_ok(small, "deep", "local function f() return f() + 1 end\nfunction lua_deep() return f() end\n");
    char err[256] = "";
    assert_int_equal(rules_vm_call(small, "lua_deep", 0, 0, err, sizeof err), -1);
    assert_true(strstr(err, "stack overflow") || strstr(err, "not enough memory") ||
                strstr(err, "instruction limit"));
    assert_alive(small, RULES_DEFAULT_MEMORY);
    rules_vm_destroy(small);
    rules_vm_destroy(vm);
}

static void test_string_metatable_locked(void **state)
{
    (void)state;
    rules_vm *vm = vm_new(0, 0);
    load_fails(vm, "mt", "getmetatable('').__index = function() return 'pwned' end", "mt:1: the string metatable is locked");
    load_fails(vm, "mt", "getmetatable('').__index.upper = nil", "attempt to index a nil value");
    load_fails(vm, "mt", "debug.setmetatable('', {})", "attempt to index a nil value (global 'debug')");
    load_fails(vm, "mt", "setmetatable('', {})", "bad argument #1 to 'setmetatable' (table expected, got string)");
    load_fails(vm, "mt", "setmetatable(getmetatable(''), {})", "cannot change a protected metatable");
    load_fails(vm, "mt", "setmetatable({}, {__gc = function() end})", "__gc metamethods are not allowed");
    /* rawset reaches only the placeholder */
    load_ok(vm, "mt", "rawset(getmetatable(''), '__index', function() return 'pwned' end)\n"
                      "function probe() return ('abc'):upper() .. type(getmetatable('')) .. tostring(getmetatable(1)) end\n");
    char err[256] = "";
    lua_State *L = rules_vm_state(vm);
    assert_int_equal(rules_vm_call(vm, "probe", 0, 1, err, sizeof err), 0);
    assert_string_equal(lua_tostring(L, -1), "ABCtablenil");
    lua_pop(L, 1);
    /* tables still have ordinary metatables */
    load_ok(vm, "tmt", "function tbl() local t = setmetatable({}, {__index = function(_, k) return k .. '!' end})\n"
                       "  return t.hi, getmetatable(setmetatable({}, {__metatable = 'mine'})) end\n");
    assert_int_equal(rules_vm_call(vm, "tbl", 0, 2, err, sizeof err), 0);
    assert_string_equal(lua_tostring(L, -2), "hi!");
    assert_string_equal(lua_tostring(L, -1), "mine");
    lua_pop(L, 2);
    assert_alive(vm, RULES_DEFAULT_MEMORY);
    rules_vm_destroy(vm);
}

static void test_states_are_separate(void **state)
{
    (void)state;
    rules_vm *a = vm_new(0, 0), *b = vm_new(0, 0);
    load_ok(a, "a", "rawset(_G, 'shared', 42) _ENV.other = 1 string.upper = function() return 'evil' end\n"
                    "_G.alive = function(x) return x * 3 end\n");
    load_ok(b, "b", "function probe() return tostring(shared) .. tostring(other) .. ('x'):upper() end\n");
    char err[256] = "";
    lua_State *L = rules_vm_state(b);
    assert_int_equal(rules_vm_call(b, "probe", 0, 1, err, sizeof err), 0);
    assert_string_equal(lua_tostring(L, -1), "nilnilX");
    lua_pop(L, 1);
    assert_alive(b, RULES_DEFAULT_MEMORY);
    /* a hostile metatable on _G is not consulted by the host */
    load_ok(a, "a2", "setmetatable(_G, {__index = function() while true do end end})\n");
    assert_false(rules_vm_has_function(a, "missing"));
    assert_true(rules_vm_has_function(a, "alive"));
    call_fails(a, "missing", "global 'missing' is not a function (nil)");
    rules_vm_destroy(a);
    rules_vm_destroy(b);
}

static void test_error_positions(void **state)
{
    (void)state;
    rules_vm *vm = vm_new(0, 0);
    load_fails(vm, "syn", "x = 1\ny = 2\nlocal = 3\n", "syn:3: ");
    load_ok(vm, "rt",
            "function boom()\n  error('boom')\nend\n"
            "function plain()\n  error('plain', 0)\nend\n"
            "function obj()\n  error({})\nend\n"
            "function arith()\n  return {} + 1\nend\n"
            "function badarg()\n  return string.rep()\nend\n");
    call_fails(vm, "boom", "rt:2: boom");
    call_fails(vm, "plain", "rt:5: plain");
    call_fails(vm, "obj", "rt:8: (error object is a table value)");
    call_fails(vm, "arith", "rt:11: attempt to perform arithmetic on a table value");
    call_fails(vm, "badarg", "rt:14: bad argument #1 to 'rep'");
    call_fails(vm, "nothing", "global 'nothing' is not a function");
    assert_alive(vm, RULES_DEFAULT_MEMORY);
    rules_vm_destroy(vm);
}

static void test_call_stack_discipline(void **state)
{
    (void)state;
    rules_vm *vm = vm_new(0, 0);
    load_ok(vm, "s", "function pair(a, b) return b, a end\nfunction many() return 1, 2, 3 end\n"
                     "function fail(a, b) error('no') end\n");
    assert_true(rules_vm_has_function(vm, "pair"));
    assert_false(rules_vm_has_function(vm, "alivex"));
    lua_State *L = rules_vm_state(vm);
    char err[256] = "";
    lua_pushliteral(L, "below");
    lua_pushinteger(L, 1);
    lua_pushinteger(L, 2);
    assert_int_equal(rules_vm_call(vm, "pair", 2, 2, err, sizeof err), 0);
    assert_int_equal(lua_gettop(L), 3);
    assert_int_equal(lua_tointeger(L, 2), 2);
    assert_int_equal(lua_tointeger(L, 3), 1);
    lua_settop(L, 1);
    assert_int_equal(rules_vm_call(vm, "many", 0, LUA_MULTRET, err, sizeof err), 0);
    assert_int_equal(lua_gettop(L), 4);
    lua_settop(L, 1);
    lua_pushinteger(L, 1);
    lua_pushinteger(L, 2);
    assert_int_equal(rules_vm_call(vm, "fail", 2, 1, err, sizeof err), -1);
    assert_int_equal(lua_gettop(L), 1);
    assert_string_equal(lua_tostring(L, 1), "below");
    assert_int_equal(rules_vm_call(vm, "pair", 5, 1, err, sizeof err), -1);   /* too few on the stack */
    lua_settop(L, 0);
    assert_alive(vm, RULES_DEFAULT_MEMORY);
    rules_vm_destroy(vm);
    rules_vm_destroy(NULL);
}

/* [ud, t] -> t.op (runs t's __index) */
static int read_op(lua_State *L)
{
    assert_string_equal(lua_touserdata(L, 1), "ud");
    lua_getfield(L, 2, "op");
    return 1;
}

#define BIG_LEN (2u * 1024 * 1024)

/* [ud: BIG_LEN bytes] -> a string longer than the memory cap */
static int push_big(lua_State *L)
{
    lua_pushlstring(L, lua_touserdata(L, 1), BIG_LEN);
    return 1;
}

static void test_pcall_c(void **state)
{
    (void)state;
    const size_t cap = 1024 * 1024;
    rules_vm *vm = vm_new(100000, cap);
    load_ok(vm, "host", "function hostile() return setmetatable({}, {__index = function() while true do end end}) end\n"
                        "function failing() return setmetatable({}, {__index = function() error('nope') end}) end\n"
                        "function fine() return setmetatable({}, {__index = function(_, k) return k .. '!' end}) end\n");
    lua_State *L = rules_vm_state(vm);
    char err[256] = "";
    static const struct {
        const char *fn, *want;
    } cases[] = {
        {"hostile", "host:1: instruction limit (100000) exceeded"},
        {"failing", "host:2: nope"},
        {"fine", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(rules_vm_call(vm, cases[i].fn, 0, 1, err, sizeof err), 0);
        int rc = rules_vm_pcall_c(vm, read_op, "ud", 1, 1, err, sizeof err);
        if (cases[i].want) {
            assert_int_equal(rc, -1);
            if (!strstr(err, cases[i].want))
                fail_msg("%s: '%s' lacks '%s'", cases[i].fn, err, cases[i].want);
        } else {
            assert_int_equal(rc, 0);
            assert_string_equal(lua_tostring(L, -1), "op!");
            lua_pop(L, 1);
        }
        assert_alive(vm, cap);
    }
    char *big = calloc(1, BIG_LEN);
    assert_non_null(big);
    assert_int_equal(rules_vm_pcall_c(vm, push_big, big, 0, 1, err, sizeof err), -1);
    free(big);
    assert_non_null(strstr(err, "not enough memory (limit 1048576 bytes)"));
    assert_alive(vm, cap);
    rules_vm_destroy(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_removed_globals),
        cmocka_unit_test(test_bytecode_refused),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_instruction_limit),
        cmocka_unit_test(test_stack_overflow),
        cmocka_unit_test(test_string_metatable_locked),
        cmocka_unit_test(test_states_are_separate),
        cmocka_unit_test(test_error_positions),
        cmocka_unit_test(test_call_stack_discipline),
        cmocka_unit_test(test_pcall_c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
