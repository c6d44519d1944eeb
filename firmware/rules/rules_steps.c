/* rules_steps: reading a rule's `steps` list into a plan (see rules_steps.h), checked step by
 * step with errors that name the step; the plan's lifetime; and the check of a rule's form
 * (steps, transform, or both). */
#include "rules/rules_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/errbuf.h"
#include "rules/rules_steps_internal.h"
#include "rules/rules_text.h"

#define STEPS_MAX 256

/* Operations, their argument counts (after the name) and what they take. */
static const struct {
    const char *name;
    steps_op op;
    int min, max;
    const char *usage;
} step_ops[] = {
    {"rename", STEP_RENAME, 2, 2, "a column and its new name"},
    {"cast", STEP_CAST, 2, 2, "a column and a type (" RULES_CAST_TYPES ")"},
    {"mask", STEP_MASK, 1, 4, "a column [, keep_start [, keep_end [, character]]]"},
    {"mask_email", STEP_MASK_EMAIL, 1, 1, "a column"},
    {"mask_phone", STEP_MASK_PHONE, 1, 1, "a column"},
    {"sha256", STEP_SHA256, 1, 1, "a column"},
    {"hmac_sha256", STEP_HMAC_SHA256, 2, 2, "a column and a key"},
    {"trim", STEP_TRIM, 1, 1, "a column"},
    {"lower", STEP_LOWER, 1, 1, "a column"},
    {"upper", STEP_UPPER, 1, 1, "a column"},
    {"add", STEP_ADD, 2, 2, "a column and its value (a string, number or boolean)"},
    {"drop", STEP_DROP, 1, 64, "one or more columns"},
};

static void step_free(steps_step *st)
{
    free(st->col);
    free(st->to);
    for (int i = 0; i < st->ndrops; i++)
        free(st->drops[i]);
    free(st->drops);
    free(st->cast_name);
    free(st->key);
    free(st->konst_s);
}

void rules_steps_destroy(rules_steps *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        step_free(&p->steps[i]);
    free(p->steps);
    for (size_t i = 0; i < p->cache_cap; i++)
        steps_table_free(p->cache[i]);
    free(p->cache);
    free(p);
}

/* Argument k (from 1) of the step at idx as a non-empty string copy: NULL when it is not one. */
static char *arg_string(lua_State *L, int idx, int k, size_t *len)
{
    size_t n;
    char *s = NULL;
    if (lua_rawgeti(L, idx, k + 1) == LUA_TSTRING) {
        const char *v = lua_tolstring(L, -1, &n);
        if (n > 0 && !memchr(v, '\0', n) && (s = malloc(n + 1))) {
            memcpy(s, v, n + 1);
            if (len)
                *len = n;
        }
    }
    lua_pop(L, 1);
    return s;
}

/* Argument k as a non-negative integer into *out: 0, or -1. */
static int arg_count(lua_State *L, int idx, int k, size_t *out)
{
    int ok = 0;
    lua_rawgeti(L, idx, k + 1);
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    ok = ok && lua_type(L, -1) == LUA_TNUMBER && v >= 0;
    lua_pop(L, 1);
    if (ok)
        *out = (size_t)v;
    return ok ? 0 : -1;
}

/* The step at idx (a list {"op", args...}) into *st. 0, or -1 with err. */
static int step_read(lua_State *L, int idx, int index, steps_step *st, char *err, size_t errlen)
{
    st->index = index;
    if (lua_type(L, idx) != LUA_TTABLE)
        return err_setf(err, errlen, "steps[%d]: a step must be a list {\"operation\", arguments...}, not a %s", index,
                        luaL_typename(L, idx));
    if (lua_rawgeti(L, idx, 1) != LUA_TSTRING) {
        lua_pop(L, 1);
        return err_setf(err, errlen, "steps[%d]: a step must start with the operation's name", index);
    }
    const char *name = lua_tostring(L, -1);
    int found = -1;
    for (size_t i = 0; i < sizeof step_ops / sizeof step_ops[0] && found < 0; i++)
        if (strcmp(step_ops[i].name, name) == 0)
            found = (int)i;
    if (found < 0) {
        err_setf(err, errlen, "steps[%d]: unknown operation '%.100s'", index, name);
        lua_pop(L, 1);
        return -1;
    }
    lua_pop(L, 1);
    st->op = step_ops[found].op;
    st->name = step_ops[found].name;
    int nargs = (int)lua_rawlen(L, idx) - 1, bad = nargs < step_ops[found].min || nargs > step_ops[found].max;
    size_t n;
    if (!bad && !(st->col = arg_string(L, idx, 1, NULL)))
        bad = 1;
    switch (st->op) {
    case STEP_RENAME:
        bad = bad || !(st->to = arg_string(L, idx, 2, NULL));
        if (!bad && strcmp(st->col, st->to) == 0)
            return err_setf(err, errlen, "steps[%d]: rename %s to itself", index, st->col);
        break;
    case STEP_CAST:
        bad = bad || !(st->cast_name = arg_string(L, idx, 2, NULL));
        if (!bad && rules_cast_type_parse(st->cast_name, &st->cast) < 0)
            return err_setf(err, errlen, "steps[%d]: cast %s: unknown type '%.100s' (" RULES_CAST_TYPES ")", index,
                            st->col, st->cast_name);
        break;
    case STEP_MASK: {
        st->keep_end = 4;
        memcpy(st->ch, "*", 2);
        st->chlen = 1;
        bad = bad || (nargs >= 2 && arg_count(L, idx, 2, &st->keep_start) < 0) ||
              (nargs >= 3 && arg_count(L, idx, 3, &st->keep_end) < 0);
        char *ch = !bad && nargs >= 4 ? arg_string(L, idx, 4, &n) : NULL;
        if (ch && (n >= sizeof st->ch || !rules_text_is_char(ch, n))) {
            free(ch);
            return err_setf(err, errlen, "steps[%d]: mask %s: the character must be a single character", index, st->col);
        }
        if (ch) {
            memcpy(st->ch, ch, n + 1);
            st->chlen = n;
            free(ch);
        } else if (nargs >= 4) {
            bad = 1;
        }
        break;
    }
    case STEP_HMAC_SHA256: bad = bad || !(st->key = arg_string(L, idx, 2, &st->keylen)); break;
    case STEP_ADD:
        if (bad)
            break;
        lua_rawgeti(L, idx, 3);
        switch (lua_type(L, -1)) {
        case LUA_TBOOLEAN: st->konst.type = RULES_SCALAR_BOOL, st->konst.b = lua_toboolean(L, -1); break;
        case LUA_TNUMBER:
            if (lua_isinteger(L, -1))
                st->konst.type = RULES_SCALAR_INT, st->konst.i = (int64_t)lua_tointeger(L, -1);
            else
                st->konst.type = RULES_SCALAR_FLOAT, st->konst.f = lua_tonumber(L, -1);
            break;
        case LUA_TSTRING: {
            const char *v = lua_tolstring(L, -1, &n);
            if ((st->konst_s = malloc(n + 1))) {
                memcpy(st->konst_s, v, n + 1);
                st->konst.type = RULES_SCALAR_STRING, st->konst.s = st->konst_s, st->konst.len = n;
            }
            break;
        }
        default: bad = 1; break;
        }
        lua_pop(L, 1);
        break;
    case STEP_DROP:
        if (bad)
            break;
        if (!(st->drops = calloc((size_t)nargs, sizeof *st->drops)))
            return err_setf(err, errlen, "out of memory");
        for (int k = 1; k <= nargs && !bad; k++, st->ndrops++)
            bad = !(st->drops[k - 1] = arg_string(L, idx, k, NULL));
        break;
    default: break;
    }
    if (bad)
        return err_setf(err, errlen, "steps[%d]: %s takes %s", index, st->name, step_ops[found].usage);
    return 0;
}

/* Protected: push the global `steps` (the globals table may have metamethods). */
static int steps_get_global(lua_State *L)
{
    lua_getglobal(L, "steps");
    return 1;
}

int rules_steps_compile(rules_vm *vm, rules_steps **out, char *err, size_t errlen)
{
    lua_State *L = rules_vm_state(vm);
    rules_steps *p = NULL;
    int top = lua_gettop(L), rc = -1;
    char why[512];
    *out = NULL;
    if (rules_vm_pcall_c(vm, steps_get_global, NULL, 0, 1, why, sizeof why) < 0) {
        err_setf(err, errlen, "steps: %s", why);
        goto out;
    }
    int list = lua_gettop(L);
    if (lua_isnil(L, list)) {
        rc = 0;
        goto out;
    }
    if (lua_type(L, list) != LUA_TTABLE) {
        err_setf(err, errlen, "steps must be a list of steps ({\"operation\", arguments...}), not a %s",
                 luaL_typename(L, list));
        goto out;
    }
    size_t n = lua_rawlen(L, list);
    if (n > STEPS_MAX) {
        err_setf(err, errlen, "steps: %zu steps, more than %d", n, STEPS_MAX);
        goto out;
    }
    if (!(p = calloc(1, sizeof *p)) || !(p->steps = calloc(n ? n : 1, sizeof *p->steps))) {
        err_setf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, list, (lua_Integer)i + 1);
        p->n = (int)i + 1;
        int bad = step_read(L, lua_gettop(L), (int)i + 1, &p->steps[i], err, errlen) < 0;
        lua_pop(L, 1);
        if (bad)
            goto out;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    rules_steps_destroy(p);
    lua_settop(L, top);
    return rc;
}

int rules_steps_check(rules_vm *vm, rules_steps **steps, int *has_transform, char *err, size_t errlen)
{
    rules_steps *p;
    if (rules_steps_compile(vm, &p, err, errlen) < 0)
        return -1;
    int transform = rules_vm_has_function(vm, "transform"), has_steps = p != NULL;
    if (has_transform)
        *has_transform = transform;
    if (!has_steps && !transform) {
        rules_steps_destroy(p);
        return err_setf(err, errlen, "it defines neither steps nor transform(event)");
    }
    if (steps)
        *steps = p;
    else
        rules_steps_destroy(p);
    return 0;
}
