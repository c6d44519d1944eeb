/* rules_engine: rule sets applied to events (see rules_engine.h). Each rule has its own sandbox;
 * the rule for a table is looked up once per table definition and cached. A rule's native steps
 * (rules_steps.h) run first, in C; then transform, if the rule has one, on the stepped event. The
 * results of one transform are all converted before any is emitted, so a failure part way emits
 * nothing. */
#include "rules/rules_engine.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/errbuf.h"
#include "rules/rules_route.h"
#include "rules/rules_steps.h"

#define RULES_MAX_SPLIT 1024   /* events one transform may return */

typedef struct rule {
    rule_spec spec;            /* strings owned */
    rules_vm *vm;
    rules_steps *steps;        /* its native steps, or NULL */
    int has_transform;
    int has_route;
} rule;

typedef struct table_rule {
    const table_def *t;
    rule *r;                   /* NULL: no rule for the table */
} table_rule;

struct rules_set {
    rule *rules;
    size_t n;
    rules_defs *defs;
    rules_marshal *marshal;
    arena *mem;                /* values of the events of one apply */
    table_rule *cache;         /* open addressing by table_def pointer */
    size_t cache_cap, cache_used;
    event *outs;               /* RULES_MAX_SPLIT results of one apply (routes in mem) */
};

static void rule_free(rule *r)
{
    rules_vm_destroy(r->vm);
    rules_steps_destroy(r->steps);
    free((char *)r->spec.name);
    free((char *)r->spec.pattern);
    free((char *)r->spec.source);
}

void rules_set_destroy(rules_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        rule_free(&s->rules[i]);
    free(s->rules);
    rules_marshal_destroy(s->marshal);
    arena_destroy(s->mem);
    free(s->cache);
    free(s->outs);
    free(s);
}

rules_set *rules_set_compile(const rule_spec *specs, size_t n, const rules_limits *lim,
                             const rules_lookup_ops *lookups, rules_defs *defs, char *err, size_t errlen)
{
    rules_set *s = calloc(1, sizeof *s);
    if (!s || !(s->rules = calloc(n ? n : 1, sizeof *s->rules)) || !(s->marshal = rules_marshal_create()) ||
        !(s->mem = arena_create(64 * 1024)) || !(s->outs = calloc(RULES_MAX_SPLIT, sizeof *s->outs))) {
        err_setf(err, errlen, "out of memory");
        goto fail;
    }
    s->defs = defs;
    for (size_t i = 0; i < n; i++) {
        rule *r = &s->rules[i];
        char why[1024];
        s->n = i + 1;
        r->spec.version = specs[i].version;
        if (!(r->spec.name = strdup(specs[i].name)) || !(r->spec.pattern = strdup(specs[i].pattern)) ||
            !(r->spec.source = strdup(specs[i].source))) {
            err_setf(err, errlen, "out of memory");
            goto fail;
        }
        if (!(r->vm = rules_vm_create(lim, lookups, why, sizeof why)) ||
            rules_vm_load(r->vm, r->spec.name, r->spec.source, strlen(r->spec.source), why, sizeof why) < 0) {
            err_setf(err, errlen, "rule %s: %s", r->spec.name, why);
            goto fail;
        }
        if (rules_steps_check(r->vm, &r->steps, &r->has_transform, why, sizeof why) < 0) {
            err_setf(err, errlen, "rule %s: %s", r->spec.name, why);
            goto fail;
        }
        r->has_route = rules_vm_has_function(r->vm, "route");
    }
    return s;
fail:
    rules_set_destroy(s);
    return NULL;
}

const rule_spec *rules_set_match(rules_set *s, const char *schema, const char *table)
{
    char name[600];
    snprintf(name, sizeof name, "%s.%s", schema, table);
    for (size_t i = 0; i < s->n; i++)
        if (fnmatch(s->rules[i].spec.pattern, name, 0) == 0)
            return &s->rules[i].spec;
    return NULL;
}

/* The rule of t, looked up once per table definition. */
static rule *set_rule_for(rules_set *s, const table_def *t)
{
    if (s->cache_cap) {
        for (size_t i = ((uintptr_t)t >> 4) & (s->cache_cap - 1);; i = (i + 1) & (s->cache_cap - 1)) {
            if (!s->cache[i].t)
                break;
            if (s->cache[i].t == t)
                return s->cache[i].r;
        }
    }
    const rule_spec *spec = rules_set_match(s, t->schema, t->name);
    rule *r = spec ? (rule *)((const char *)spec - offsetof(rule, spec)) : NULL;
    if ((s->cache_used + 1) * 2 > s->cache_cap) {
        size_t cap = s->cache_cap ? s->cache_cap * 2 : 64;
        table_rule *nc = calloc(cap, sizeof *nc);
        if (!nc)
            return r;   /* uncached, still right */
        for (size_t i = 0; i < s->cache_cap; i++) {
            if (!s->cache[i].t)
                continue;
            size_t j = ((uintptr_t)s->cache[i].t >> 4) & (cap - 1);
            while (nc[j].t)
                j = (j + 1) & (cap - 1);
            nc[j] = s->cache[i];
        }
        free(s->cache);
        s->cache = nc;
        s->cache_cap = cap;
    }
    size_t j = ((uintptr_t)t >> 4) & (s->cache_cap - 1);
    while (s->cache[j].t)
        j = (j + 1) & (s->cache_cap - 1);
    s->cache[j] = (table_rule){t, r};
    s->cache_used++;
    return r;
}

/* One transform, run as a C function inside the rule's protected call (rules_vm_pcall_c): the
 * marshalling and every access to what the rule returned (whose metamethods are rule code) then
 * stay under the limits, and a Lua error anywhere ends the call instead of the process. */
typedef struct transform_ctx {
    rules_set *s;
    rule *r;
    const event *ev;
    long n;                 /* results converted */
    int failed;             /* a result was not an event: the reason is in err */
    char err[1024];
} transform_ctx;

/* Call route on the event table at idx and set out's route from its answer (names in mem). */
static int set_route(transform_ctx *c, lua_State *L, int idx, event *out)
{
    rules_set *s = c->s;
    out->route_topic = out->route_table = NULL;   /* the pull copies the input's */
    if (!c->r->has_route)
        return 0;
    lua_getglobal(L, "route");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    rules_route rt;
    if (rules_route_read(L, -1, &rt, c->err, sizeof c->err) < 0)
        return -1;   /* the protected call's end clears the stack */
    if (rt.topic)
        out->route_topic = arena_strndup(s->mem, rt.topic, rt.topic_len);
    if (rt.table)
        out->route_table = arena_strndup(s->mem, rt.table, rt.table_len);
    lua_pop(L, 1);
    return 0;
}

/* Convert the result at idx (an event table) into s->outs[k], with its route (names in mem). */
static int set_take(transform_ctx *c, lua_State *L, int idx, size_t k)
{
    rules_set *s = c->s;
    if (rules_marshal_pull(s->marshal, L, idx, c->ev, s->defs, &s->outs[k], s->mem, c->err, sizeof c->err) < 0)
        return -1;
    return set_route(c, L, idx, &s->outs[k]);
}

static int transform_body(lua_State *L)
{
    transform_ctx *c = lua_touserdata(L, 1);
    if (!c->r->has_transform) {   /* steps and route: the stepped event is the result */
        rules_marshal_push(c->s->marshal, L, c->ev, c->s->mem);
        c->s->outs[0] = *c->ev;
        c->failed = set_route(c, L, lua_gettop(L), &c->s->outs[0]) < 0;
        c->n = 1;
        rules_marshal_done(c->s->marshal);
        return 0;
    }
    lua_getglobal(L, "transform");
    rules_marshal_push(c->s->marshal, L, c->ev, c->s->mem);
    lua_call(L, 1, 1);
    int res = lua_gettop(L);
    if (lua_isnil(L, res))
        return 0;
    if (lua_istable(L, res) && lua_getfield(L, res, "op") == LUA_TNIL) {
        size_t count = lua_rawlen(L, res);   /* a list of events ({} drops too) */
        if (count > RULES_MAX_SPLIT) {
            err_setf(c->err, sizeof c->err, "transform returned %zu events, more than %d", count, RULES_MAX_SPLIT);
            c->failed = 1;
            return 0;
        }
        for (size_t k = 0; k < count; k++) {
            lua_rawgeti(L, res, (lua_Integer)k + 1);
            if (set_take(c, L, lua_gettop(L), k) < 0) {
                char why[1024];
                snprintf(why, sizeof why, "%s", c->err);
                err_setf(c->err, sizeof c->err, "event %zu of the list: %.900s", k + 1, why);
                c->failed = 1;
                return 0;
            }
            lua_pop(L, 1);
        }
        c->n = (long)count;
        rules_marshal_done(c->s->marshal);
        return 0;
    }
    if (set_take(c, L, res, 0) < 0) {
        c->failed = 1;
        return 0;
    }
    c->n = 1;
    rules_marshal_done(c->s->marshal);
    return 0;
}

int rules_set_apply(rules_set *s, const event *ev, const rules_output *out, char *err, size_t errlen)
{
    rule *r = set_rule_for(s, ev->table);
    if (!r)
        return out->emit(out->arg, ev, err, errlen) < 0 ? -1 : 0;
    arena_reset(s->mem);
    transform_ctx c = {.s = s, .r = r, .ev = ev};
    event stepped;
    long n;
    if (r->steps && rules_steps_apply(r->steps, ev, s->defs, &stepped, s->mem, c.err, sizeof c.err) < 0) {
        n = -1;
    } else if (r->steps && !r->has_transform && !r->has_route) {   /* native only: no Lua at all */
        s->outs[0] = stepped;
        n = 1;
    } else {
        if (r->steps)
            c.ev = &stepped;
        lua_State *L = rules_vm_state(r->vm);
        int top = lua_gettop(L);
        int rc = rules_vm_pcall_c(r->vm, transform_body, &c, 0, 0, c.err, sizeof c.err);
        lua_settop(L, top);
        n = rc < 0 || c.failed ? -1 : c.n;
    }
    if (n < 0) {
        rules_dead_letter dl = {r->spec.name, r->spec.version, c.err, ev};
        return out->dead_letter(out->arg, &dl, err, errlen) < 0 ? -1 : 1;
    }
    for (long k = 0; k < n; k++)
        if (out->emit(out->arg, &s->outs[k], err, errlen) < 0)
            return -1;
    return 1;
}
