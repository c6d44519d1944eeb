/* rules_steps_lua: a rule's steps on an event held as plain Lua tables (rules_json.h: dry runs
 * and `sluice rules test`), with the same operations as the native path (rules_steps_ops.c).
 * The rows carry no column types, so a NULL column and a missing one look alike (renaming or
 * dropping it does nothing) and a value keeps the type the operation gave it. */
#include <string.h>

#include <lauxlib.h>

#include "core/errbuf.h"
#include "encode/debezium_json.h"
#include "rules/rules_steps_internal.h"

typedef struct lua_steps_ctx {
    const rules_steps *p;
    arena *a;
    int failed;
    char err[1024];
} lua_steps_ctx;

/* One step on the row table at row. 0, or -1 with c->err. */
static int lua_step_row(lua_steps_ctx *c, lua_State *L, int row, const steps_step *st)
{
    switch (st->op) {
    case STEP_DROP:
        for (int d = 0; d < st->ndrops; d++) {
            lua_pushnil(L);
            lua_setfield(L, row, st->drops[d]);
        }
        return 0;
    case STEP_ADD:
    case STEP_RENAME: {
        const char *to = st->op == STEP_ADD ? st->col : st->to;
        int taken = lua_getfield(L, row, to) != LUA_TNIL;
        lua_pop(L, 1);
        if (taken)
            return err_setf(c->err, sizeof c->err, "steps[%d] %s %s: the row already has a column %s", st->index,
                            st->name, st->col, to);
        if (st->op == STEP_ADD) {
            const rules_scalar *k = &st->konst;
            if (k->type == RULES_SCALAR_BOOL)
                lua_pushboolean(L, k->b);
            else if (k->type == RULES_SCALAR_INT)
                lua_pushinteger(L, (lua_Integer)k->i);
            else if (k->type == RULES_SCALAR_FLOAT)
                lua_pushnumber(L, (lua_Number)k->f);
            else
                lua_pushlstring(L, k->s, k->len);
        } else {
            lua_getfield(L, row, st->col);
            lua_pushnil(L);
            lua_setfield(L, row, st->col);
        }
        lua_setfield(L, row, to);
        return 0;
    }
    default: break;
    }
    rules_scalar x, out;
    lua_getfield(L, row, st->col);
    int table = rules_value_scalar_from_lua(L, -1, &x) < 0;
    int skip = !table && (x.type == RULES_SCALAR_NIL ||
                          (x.type == RULES_SCALAR_STRING && x.len == sizeof DEBEZIUM_UNAVAILABLE - 1 &&
                           memcmp(x.s, DEBEZIUM_UNAVAILABLE, x.len) == 0));
    if (skip) {   /* NULL stays NULL, the TOAST placeholder stays */
        lua_pop(L, 1);
        return 0;
    }
    if (table) {
        x.type = RULES_SCALAR_NIL;
        x.s = NULL;
    }
    int rc = table && st->op == STEP_CAST
                 ? err_setf(c->err, sizeof c->err, "steps[%d] cast %s: a %s is not a valid %s", st->index, st->col,
                            luaL_typename(L, -1), st->cast_name)
                 : steps_value_apply(st, &x, table ? "a table" : steps_scalar_what(&x), &out, c->a, c->err, sizeof c->err);
    lua_pop(L, 1);
    if (rc < 0)
        return -1;
    switch (out.type) {
    case RULES_SCALAR_NIL: lua_pushnil(L); break;
    case RULES_SCALAR_BOOL: lua_pushboolean(L, out.b); break;
    case RULES_SCALAR_INT: lua_pushinteger(L, (lua_Integer)out.i); break;
    case RULES_SCALAR_FLOAT: lua_pushnumber(L, (lua_Number)out.f); break;
    case RULES_SCALAR_STRING: lua_pushlstring(L, out.s, out.len); break;
    }
    lua_setfield(L, row, st->col);
    return 0;
}

/* Protected: the steps on the event at 2. */
static int lua_steps_body(lua_State *L)
{
    lua_steps_ctx *c = lua_touserdata(L, 1);
    static const char *const sides[] = {"after", "before"};
    for (int k = 0; k < c->p->n && !c->failed; k++) {
        for (int s = 0; s < 2 && !c->failed; s++) {
            if (lua_getfield(L, 2, sides[s]) == LUA_TTABLE)
                c->failed = lua_step_row(c, L, lua_gettop(L), &c->p->steps[k]) < 0;
            lua_pop(L, 1);
        }
    }
    return 0;
}

int rules_steps_apply_lua(const rules_steps *p, rules_vm *vm, int idx, char *err, size_t errlen)
{
    lua_State *L = rules_vm_state(vm);
    lua_steps_ctx c = {.p = p, .a = arena_create(4096)};
    char why[1024];
    int rc = -1;
    if (!c.a || !lua_checkstack(L, 2)) {
        err_setf(err, errlen, "out of memory");
        goto out;
    }
    lua_pushvalue(L, idx);
    if (rules_vm_pcall_c(vm, lua_steps_body, &c, 1, 0, why, sizeof why) < 0)
        err_setf(err, errlen, "steps: %s", why);
    else if (c.failed)
        err_setf(err, errlen, "%s", c.err);
    else
        rc = 0;
out:
    arena_destroy(c.a);
    return rc;
}
