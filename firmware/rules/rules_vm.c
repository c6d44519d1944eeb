/* rules_vm: the Lua 5.4 sandbox a rule runs in (see rules_vm.h). A counting allocator caps the
 * state's memory, a count hook caps instructions per call, the globals are pruned to an allow-list
 * and every entry into Lua goes through lua_pcall, so a failing rule never takes the process down.
 * getmetatable, setmetatable and xpcall are replaced by stricter versions (see each below), and the
 * string library's pattern functions by rules_pattern.c's, which charge their work to the budget. */
#include "rules/rules_vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/errbuf.h"
#include "rules/rules_helpers.h"
#include "rules/rules_pattern.h"
#include "rules/rules_pool.h"

#define VM_HOOK_STEP 1000u   /* instructions between two count-hook calls */
#define VM_NAME_MAX 128

struct rules_vm {
    lua_State *L;
    rules_pool pool;        /* small blocks of L */
    size_t mem_used;
    size_t mem_limit;
    uint64_t insn_limit;
    uint64_t insn_count;    /* instructions counted by the hook in the current/last call */
    unsigned hook_step;     /* the count the hook is installed with now */
    int limit_hit;          /* the current call exceeded insn_limit */
    const rules_lookup_ops *lookups;   /* only during rules_vm_create */
    char name[VM_NAME_MAX];            /* chunk name of the last load, for position-less errors */
};

/* Globals a rule keeps; everything else the libraries define is removed. */
static const char *const vm_allowed_globals[] = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring", "type",
    "xpcall", "rawequal", "rawlen", "rawget", "rawset", "setmetatable", "getmetatable",
    "string", "table", "math", "utf8", "sluice", "_G", "_VERSION", NULL,
};

/* The allocator: counts the bytes of live blocks (pooled ones at their class's size) and refuses
 * growth beyond mem_limit (Lua then runs an emergency collection and retries, and raises "not
 * enough memory" if still refused). Small blocks come from the state's pool (rules_pool.h).
 * For a new block ptr is NULL and osize is a type tag, not a size. */
static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    rules_vm *vm = ud;
    size_t old = ptr ? osize : 0, oldb = rules_pool_block_size(old), newb = rules_pool_block_size(nsize);
    if (nsize == 0) {
        if (RULES_POOL_OWNS(old))
            rules_pool_free(&vm->pool, ptr, old);
        else
            free(ptr);
        vm->mem_used -= oldb;
        return NULL;
    }
    if (newb > oldb && (newb - oldb > vm->mem_limit || vm->mem_used + (newb - oldb) > vm->mem_limit))
        return NULL;
    void *p;
    if (RULES_POOL_OWNS(old) && oldb == newb) {
        p = ptr;   /* the same size class */
        rules_pool_resized(p, old, nsize);
    } else if (!RULES_POOL_OWNS(old) && !RULES_POOL_OWNS(nsize)) {
        if (!(p = realloc(ptr, nsize)))
            return NULL;
    } else {
        if (!(p = RULES_POOL_OWNS(nsize) ? rules_pool_alloc(&vm->pool, nsize) : malloc(nsize)))
            return NULL;
        if (ptr) {
            memcpy(p, ptr, old < nsize ? old : nsize);
            if (RULES_POOL_OWNS(old))
                rules_pool_free(&vm->pool, ptr, old);
            else
                free(ptr);
        }
    }
    vm->mem_used = vm->mem_used - oldb + newb;
    return p;
}

static rules_vm *vm_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static void vm_hook(lua_State *L, lua_Debug *ar);

/* (Re)install the count hook to fire after `step` more instructions. */
static void vm_hook_arm(rules_vm *vm, lua_State *L, uint64_t step)
{
    if (step > VM_HOOK_STEP)
        step = VM_HOOK_STEP;
    if (step == 0)
        step = 1;
    vm->hook_step = (unsigned)step;
    lua_sethook(L, vm_hook, LUA_MASKCOUNT, (int)step);
}

/* The count hook: accumulates instructions and, past the limit, raises an error at every further
 * instruction, so a rule that catches the error with pcall cannot keep running. The last step
 * before the limit is shortened so the limit is exact to the instruction. */
static void vm_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    rules_vm *vm = vm_of(L);
    vm->insn_count += vm->hook_step;
    if (vm->insn_count >= vm->insn_limit) {
        vm->limit_hit = 1;
        if (vm->hook_step != 1)
            vm_hook_arm(vm, L, 1);
        lua_pushfstring(L, "instruction limit (%I) exceeded", (lua_Integer)vm->insn_limit);
        lua_error(L);
    }
    uint64_t left = vm->insn_limit - vm->insn_count;
    if (left < vm->hook_step)
        vm_hook_arm(vm, L, left);
}

/* See rules_vm.h. Like the hook, it shortens the hook's next step when fewer instructions than
 * that are left; re-arming forgets the instructions run since the hook last fired (fewer than
 * VM_HOOK_STEP), so a call that matches patterns may overrun the limit by that much. */
void rules_vm_charge(lua_State *L, uint64_t steps, const char *what)
{
    void *ud = NULL;
    if (lua_getallocf(L, &ud) != vm_alloc || !ud)
        return;
    rules_vm *vm = ud;
    vm->insn_count = steps > UINT64_MAX - vm->insn_count ? UINT64_MAX : vm->insn_count + steps;
    if (vm->insn_count >= vm->insn_limit) {
        vm->limit_hit = 1;
        vm_hook_arm(vm, L, 1);
        luaL_error(L, "%s exceeded the instruction limit (%I)", what ? what : "C code",
                   (lua_Integer)vm->insn_limit);
        return;
    }
    uint64_t left = vm->insn_limit - vm->insn_count;
    if (left < vm->hook_step)
        vm_hook_arm(vm, L, left);
}

/* Message handler: turns any error value into "chunk:line: message" (no traceback). The position
 * is the innermost Lua function on the stack; errors raised where there is none get the name of
 * the last loaded chunk. */
static int vm_msgh(lua_State *L)
{
    const char *msg;
    if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER)
        msg = lua_tostring(L, 1);
    else   /* no __tostring: the handler runs no rule code */
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0) {
            size_t n = strlen(ar.short_src);
            if (strncmp(msg, ar.short_src, n) == 0 && msg[n] == ':')
                lua_pushstring(L, msg);
            else
                lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
            return 1;
        }
    }
    rules_vm *vm = vm_of(L);
    size_t n = strlen(vm->name);
    if (strncmp(msg, vm->name, n) == 0 && msg[n] == ':')
        lua_pushstring(L, msg);
    else
        lua_pushfstring(L, "%s: %s", vm->name, msg);
    return 1;
}

/* getmetatable for tables only: a table's metatable (or its __metatable field) as usual; any other
 * value with a metatable (the shared string metatable) gives the placeholder, never the real one. */
static int vm_getmetatable(lua_State *L)
{
    luaL_checkany(L, 1);
    if (!lua_getmetatable(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    if (lua_type(L, 1) != LUA_TTABLE) {
        lua_getfield(L, LUA_REGISTRYINDEX, "sluice.string_mt_placeholder");
        return 1;
    }
    luaL_getmetafield(L, 1, "__metatable");
    return 1;
}

/* setmetatable for tables only; refuses protected metatables and __gc (finalizers would run at
 * unpredictable times, outside the call that made them). */
static int vm_setmetatable(lua_State *L)
{
    luaL_argexpected(L, lua_type(L, 1) == LUA_TTABLE, 1, "table");
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_pushliteral(L, "__gc");
    if (t == LUA_TTABLE && lua_rawget(L, 2) != LUA_TNIL)
        return luaL_error(L, "__gc metamethods are not allowed in rules");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* The message handler a rule gave xpcall, called through this C one. Past the instruction limit
 * the rule's handler is skipped: limit errors are raised from the count hook, where Lua runs a
 * message handler with hooks disabled, so a looping handler would never be stopped. */
static int vm_xpcall_msgh(lua_State *L)
{
    if (vm_of(L)->limit_hit)
        return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* xpcall(f, msgh, ...) as in the base library, with msgh wrapped by vm_xpcall_msgh. */
static int vm_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, vm_xpcall_msgh, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);   /* f, msgh, true, f, args... */
    if (lua_pcall(L, n - 2, LUA_MULTRET, 2) != LUA_OK) {
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - 2;
}

static int vm_locked_newindex(lua_State *L)
{
    return luaL_error(L, "the string metatable is locked");
}

/* Lock the shared string metatable: getmetatable("") returns a frozen placeholder table. */
static void vm_lock_string_metatable(lua_State *L)
{
    lua_newtable(L);                       /* placeholder */
    lua_newtable(L);                       /* its metatable */
    lua_pushcfunction(L, vm_locked_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "sluice.string_mt_placeholder");
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushvalue(L, -3);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
}

static int vm_allowed(const char *k)
{
    for (int i = 0; vm_allowed_globals[i]; i++)
        if (strcmp(k, vm_allowed_globals[i]) == 0)
            return 1;
    return 0;
}

/* Remove every global not in the allow-list (collect first: no edits while traversing). */
static void vm_prune_globals(lua_State *L)
{
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    lua_newtable(L);
    int doomed = lua_gettop(L);
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, g)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING || !vm_allowed(lua_tostring(L, -1))) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, doomed, ++n);
        }
    }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, doomed, i);
        lua_pushnil(L);
        lua_rawset(L, g);
    }
    lua_pop(L, 2);
}

/* Protected setup of a new state: libraries, helpers, pruning, wrappers, lock. */
static int vm_setup(lua_State *L)
{
    rules_vm *vm = vm_of(L);
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},         {LUA_STRLIBNAME, luaopen_string}, {LUA_TABLIBNAME, luaopen_table},
        {LUA_MATHLIBNAME, luaopen_math},   {LUA_UTF8LIBNAME, luaopen_utf8}, {NULL, NULL},
    };
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    rules_helpers_open(L, vm->lookups);
    vm_prune_globals(L);
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    rules_pattern_install(L, -1);   /* find, match, gmatch, gsub charged to the budget */
    lua_pop(L, 1);
    lua_pushcfunction(L, vm_getmetatable);
    lua_setglobal(L, "getmetatable");
    lua_pushcfunction(L, vm_setmetatable);
    lua_setglobal(L, "setmetatable");
    lua_pushcfunction(L, vm_xpcall);
    lua_setglobal(L, "xpcall");
    vm_lock_string_metatable(L);
    return 0;
}

rules_vm *rules_vm_create(const rules_limits *lim, const rules_lookup_ops *lookups, char *err, size_t errlen)
{
    rules_vm *vm = calloc(1, sizeof *vm);
    if (!vm) {
        err_setf(err, errlen, "rules vm: out of memory");
        return NULL;
    }
    vm->insn_limit = lim && lim->instructions ? lim->instructions : RULES_DEFAULT_INSTRUCTIONS;
    vm->mem_limit = lim && lim->memory_bytes ? lim->memory_bytes : RULES_DEFAULT_MEMORY;
    vm->lookups = lookups;
    strcpy(vm->name, "rule");
    vm->L = lua_newstate(vm_alloc, vm);
    if (!vm->L) {
        err_setf(err, errlen, "rules vm: cannot create a Lua state within %zu bytes", vm->mem_limit);
        rules_vm_destroy(vm);
        return NULL;
    }
    lua_pushcfunction(vm->L, vm_setup);
    if (lua_pcall(vm->L, 0, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(vm->L, -1);
        err_setf(err, errlen, "rules vm: setup failed (memory limit %zu bytes): %s", vm->mem_limit,
                 m ? m : "unknown error");
        rules_vm_destroy(vm);
        return NULL;
    }
    vm->lookups = NULL;
    lua_gc(vm->L, LUA_GCCOLLECT);
    vm_hook_arm(vm, vm->L, vm->insn_limit);
    return vm;
}

void rules_vm_destroy(rules_vm *vm)
{
    if (!vm)
        return;
    if (vm->L)
        lua_close(vm->L);
    rules_pool_release(&vm->pool);
    free(vm);
}

lua_State *rules_vm_state(rules_vm *vm)
{
    return vm->L;
}

size_t rules_vm_memory(const rules_vm *vm)
{
    return vm->mem_used;
}

uint64_t rules_vm_last_instructions(const rules_vm *vm)
{
    return vm->insn_count;
}

static void vm_limits_reset(rules_vm *vm)
{
    vm->insn_count = 0;
    vm->limit_hit = 0;
    vm_hook_arm(vm, vm->L, vm->insn_limit);
}

/* The reason for a failed protected call (message on top of the stack) into err. */
static void vm_error(rules_vm *vm, int status, char *err, size_t errlen)
{
    lua_State *L = vm->L;
    const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (status == LUA_ERRMEM)
        err_setf(err, errlen, "%s: not enough memory (limit %zu bytes)", vm->name, vm->mem_limit);
    else if (vm->limit_hit)
        err_setf(err, errlen, "%s", m && strstr(m, "instruction limit") ? m : "instruction limit exceeded");
    else if (status == LUA_ERRERR)
        err_setf(err, errlen, "%s: error in error handling%s%s", vm->name, m ? ": " : "", m ? m : "");
    else
        err_setf(err, errlen, "%s", m ? m : "unknown error");
}

int rules_vm_load(rules_vm *vm, const char *name, const char *source, size_t len, char *err, size_t errlen)
{
    lua_State *L = vm->L;
    snprintf(vm->name, sizeof vm->name, "%s", name && *name ? name : "rule");
    if (len > 0 && source[0] == LUA_SIGNATURE[0])
        return err_setf(err, errlen, "%s: precompiled bytecode is refused (rules are loaded as text)", vm->name);
    if (!lua_checkstack(L, 3))
        return err_setf(err, errlen, "%s: Lua stack exhausted", vm->name);
    char chunk[VM_NAME_MAX + 1];
    snprintf(chunk, sizeof chunk, "=%s", vm->name);
    int base = lua_gettop(L);
    lua_pushcfunction(L, vm_msgh);
    vm_limits_reset(vm);
    int status = luaL_loadbufferx(L, source, len, chunk, "t");
    if (status != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        size_t n = strlen(vm->name);
        if (status == LUA_ERRMEM)
            err_setf(err, errlen, "%s: not enough memory (limit %zu bytes)", vm->name, vm->mem_limit);
        else if (m && strncmp(m, vm->name, n) == 0 && m[n] == ':')
            err_setf(err, errlen, "%s", m);
        else
            err_setf(err, errlen, "%s: %s", vm->name, m ? m : "cannot load");
        lua_settop(L, base);
        lua_gc(L, LUA_GCCOLLECT);
        return -1;
    }
    status = lua_pcall(L, 0, 0, base + 1);
    if (status != LUA_OK) {
        vm_error(vm, status, err, errlen);
        lua_settop(L, base);
        lua_gc(L, LUA_GCCOLLECT);
        return -1;
    }
    lua_settop(L, base);
    return 0;
}

/* Protected lookup of a global (raw: a metatable on _G is not consulted). */
static int vm_get_global(lua_State *L)
{
    const char *fname = lua_touserdata(L, 1);
    lua_pushglobaltable(L);
    lua_pushstring(L, fname);
    lua_rawget(L, -2);
    return 1;
}

int rules_vm_has_function(rules_vm *vm, const char *fname)
{
    lua_State *L = vm->L;
    if (!fname || !lua_checkstack(L, 2))
        return 0;
    lua_pushcfunction(L, vm_get_global);
    lua_pushlightuserdata(L, (void *)fname);
    int ok = lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TFUNCTION;
    lua_pop(L, 1);
    return ok;
}

/* Protected trampoline: [fname, args...] -> results of the global function fname(args...). */
static int vm_call_trampoline(lua_State *L)
{
    const char *fname = lua_touserdata(L, 1);
    lua_pushglobaltable(L);
    lua_pushstring(L, fname);
    if (lua_rawget(L, -2) != LUA_TFUNCTION)
        return luaL_error(L, "global '%s' is not a function (%s)", fname, luaL_typename(L, -1));
    lua_replace(L, 1);
    lua_pop(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Call fn(ud, args...) protected, under the limits, with vm_msgh; the common body of
 * rules_vm_call and rules_vm_pcall_c. */
static int vm_pcall(rules_vm *vm, lua_CFunction fn, void *ud, int nargs, int nresults, char *err, size_t errlen)
{
    lua_State *L = vm->L;
    if (nargs < 0 || lua_gettop(L) < nargs)
        return err_setf(err, errlen, "%s: a call with %d arguments on a stack of %d", vm->name, nargs,
                        lua_gettop(L));
    int base = lua_gettop(L) - nargs;
    if (!lua_checkstack(L, 3 + (nresults > 0 ? nresults : 0))) {
        lua_settop(L, base);
        return err_setf(err, errlen, "%s: Lua stack exhausted", vm->name);
    }
    lua_pushcfunction(L, vm_msgh);
    lua_pushcfunction(L, fn);
    lua_pushlightuserdata(L, ud);
    lua_rotate(L, base + 1, 3);   /* msgh, fn, ud, args... */
    vm_limits_reset(vm);
    int status = lua_pcall(L, nargs + 1, nresults, base + 1);
    if (status == LUA_OK && vm->limit_hit) {
        /* cannot normally happen (every instruction past the limit raises); refuse the results */
        lua_settop(L, base + 1);
        lua_pushfstring(L, "%s: instruction limit (%I) exceeded", vm->name, (lua_Integer)vm->insn_limit);
        status = LUA_ERRRUN;
    }
    if (status != LUA_OK) {
        vm_error(vm, status, err, errlen);
        lua_settop(L, base);
        lua_gc(L, LUA_GCCOLLECT);
        return -1;
    }
    lua_remove(L, base + 1);
    return 0;
}

int rules_vm_call(rules_vm *vm, const char *fname, int nargs, int nresults, char *err, size_t errlen)
{
    if (!fname) {
        if (nargs > 0 && lua_gettop(vm->L) >= nargs)
            lua_pop(vm->L, nargs);
        return err_setf(err, errlen, "%s: no function name", vm->name);
    }
    return vm_pcall(vm, vm_call_trampoline, (void *)fname, nargs, nresults, err, errlen);
}

int rules_vm_pcall_c(rules_vm *vm, lua_CFunction fn, void *ud, int nargs, int nresults, char *err, size_t errlen)
{
    if (!fn) {
        if (nargs > 0 && lua_gettop(vm->L) >= nargs)
            lua_pop(vm->L, nargs);
        return err_setf(err, errlen, "%s: no function", vm->name);
    }
    return vm_pcall(vm, fn, ud, nargs, nresults, err, errlen);
}
