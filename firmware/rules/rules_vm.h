/* rules_vm: the Lua 5.4 sandbox a rule runs in. Each rule gets its own lua_State whose globals
 * hold only what a transformation needs: the safe base functions (assert, error, ipairs, next,
 * pairs, pcall, select, tonumber, tostring, type, xpcall, rawequal, rawlen, rawget, rawset,
 * setmetatable/getmetatable on tables only), the string, table, math and utf8 libraries, and
 * Sluice's helpers under `sluice` (rules_helpers.h). No io, os, debug, package/require, load,
 * loadstring, dofile, loadfile, collectgarbage or string.dump; source is only ever loaded as text
 * ("t" mode: precompiled bytecode is refused). The shared string metatable is locked
 * (getmetatable("") returns a placeholder, its __index cannot be replaced).
 * Limits: an instruction-count hook stops a call after `instructions` VM instructions (the string
 * library's pattern matching, rules_pattern.h, counts its steps against the same limit), and the
 * allocator refuses to grow the state beyond `memory_bytes`; either ends the call with a clear
 * error, after which the state is still usable. Errors carry the chunk name and line.
 * Not thread-safe: one thread uses a vm at a time. Ownership: rules_vm_destroy frees the state. */
#ifndef SLUICE_RULES_RULES_VM_H
#define SLUICE_RULES_RULES_VM_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#define RULES_DEFAULT_INSTRUCTIONS 1000000ULL   /* per call */
#define RULES_DEFAULT_MEMORY (16u * 1024 * 1024)  /* per rule state */

typedef struct rules_limits {
    uint64_t instructions;   /* per call; 0 = RULES_DEFAULT_INSTRUCTIONS */
    size_t memory_bytes;     /* whole state; 0 = RULES_DEFAULT_MEMORY */
} rules_limits;

/* What the helpers may look up (sluice.lookup(table, key)); NULL when the rule has no lookups. */
typedef struct rules_lookup_ops {
    /* The value of key in reference table `table` into *out (malloc'd, caller frees), or NULL when
     * absent. 0, or -1 with the reason in err. */
    int (*get)(void *arg, const char *table, const char *key, char **out, char *err, size_t errlen);
    void *arg;
} rules_lookup_ops;

typedef struct rules_vm rules_vm;

/* A fresh sandbox with the limits (NULL: defaults) and lookups (NULL: sluice.lookup errors).
 * NULL with the reason in err. */
rules_vm *rules_vm_create(const rules_limits *lim, const rules_lookup_ops *lookups, char *err, size_t errlen);
void rules_vm_destroy(rules_vm *vm);   /* accepts NULL */

/* Load and run source as chunk `name` (its top level runs once, under the limits: it defines
 * functions such as transform and route as globals). 0, or -1 with the reason in err
 * ("name:3: unexpected symbol near 'x'", "name: instruction limit (1000000) exceeded", ...). */
int rules_vm_load(rules_vm *vm, const char *name, const char *source, size_t len, char *err, size_t errlen);

/* The underlying state, for marshalling arguments and results (rules_marshal.c). */
lua_State *rules_vm_state(rules_vm *vm);

/* Is global function fname defined? */
int rules_vm_has_function(rules_vm *vm, const char *fname);

/* Call global function fname with the nargs values on top of the stack, under the limits;
 * leaves nresults results (LUA_MULTRET allowed) on success. 0, or -1 with the reason in err (the
 * arguments are popped either way and the stack is as before them). */
int rules_vm_call(rules_vm *vm, const char *fname, int nargs, int nresults, char *err, size_t errlen);

/* Like rules_vm_call, for host C code that works on rule-made values: call fn with ud (a light
 * userdata) as its first argument followed by the nargs values on top of the stack, protected and
 * under the limits, so that a memory error, an error or endless loop in a metamethod the rule set
 * (lua_getfield on a table the rule returned runs its __index) ends the call with -1 and the reason
 * instead of Lua's panic (abort). Leaves fn's nresults results (LUA_MULTRET allowed) on success;
 * the arguments are popped either way. */
int rules_vm_pcall_c(rules_vm *vm, lua_CFunction fn, void *ud, int nargs, int nresults, char *err, size_t errlen);

/* Charge `steps` units of work done in C on the rule's behalf (the pattern matcher of
 * rules_pattern.c) to the current call's instruction count, as if they were VM instructions.
 * Past the limit it raises the Lua error "<what> exceeded the instruction limit (N)" (so call it
 * only from a lua_CFunction running inside the vm's protected calls), and every further VM
 * instruction of the call fails as with the count hook. On a state that is not a rules_vm sandbox
 * it does nothing. */
void rules_vm_charge(lua_State *L, uint64_t steps, const char *what);

/* Bytes the state uses now, and the instructions the last call ran, pattern matching steps
 * included (for tests and metrics). */
size_t rules_vm_memory(const rules_vm *vm);
uint64_t rules_vm_last_instructions(const rules_vm *vm);

#endif
