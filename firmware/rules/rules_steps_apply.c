/* rules_steps_apply: a rule's steps on one event, natively (see rules_steps.h). The columns the
 * steps change carry Lua-like scalars through the steps (what a transform would hold in its
 * variables) and are typed once at the end with the marshal's rules (rules_value.h): a value
 * equal to the one captured keeps the captured value, else it goes into its column's type when
 * it fits, or the column takes the value's own type; after decides a column's type and before
 * follows it. Every other column is the input's value, not copied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "rules/rules_steps_internal.h"

/* One touched column in one image, through the steps. */
typedef struct img_state {
    rules_scalar cur;       /* its value now */
    rules_scalar orig;      /* as captured (input columns) */
    uint8_t loaded, changed, unavail;
} img_state;

/* The state of slot i in image k (0 after, 1 before), loaded from the input at first use. */
static img_state *apply_load(const steps_table *tp, img_state *states, const value *row, int i, int k)
{
    const steps_slot *sl = &tp->slots[i];
    img_state *x = &states[sl->touched * 2 + k];
    if (x->loaded || sl->src < 0)
        return x;
    const value *v = &row[sl->src];
    x->loaded = 1;
    if (v->state == VALUE_UNAVAILABLE)
        x->unavail = 1;
    else if (v->state == VALUE_PRESENT)
        rules_value_scalar_of(sl->base, v, &x->cur);   /* the plan checked the kind */
    x->orig = x->cur;
    return x;
}

/* Run every resolved step on the images of in. 0, or -1 with err. */
static int apply_steps(const steps_table *tp, img_state *states, const value *rows[2], arena *a, char *err,
                       size_t errlen)
{
    for (int r = 0; r < tp->nrops; r++) {
        const steps_rop *rop = &tp->rops[r];
        const steps_step *st = rop->st;
        for (int k = 0; k < 2; k++) {
            if (!rows[k])
                continue;
            img_state *d = rop->dst >= 0 ? &states[tp->slots[rop->dst].touched * 2 + k] : NULL;
            if (st->op == STEP_ADD) {
                d->cur = st->konst;
                d->loaded = d->changed = 1;
                continue;
            }
            img_state *x = apply_load(tp, states, rows[k], rop->slot, k);
            if (st->op == STEP_RENAME) {
                d->cur = x->cur;
                d->unavail = x->unavail;
                d->loaded = d->changed = 1;
                continue;
            }
            if (x->unavail || x->cur.type == RULES_SCALAR_NIL)
                continue;   /* NULL stays NULL, an unchanged TOAST value stays unavailable */
            char what[160] = "";
            const column_def *base = tp->slots[rop->slot].base;
            if (x->changed || tp->slots[rop->slot].src < 0)
                snprintf(what, sizeof what, "%s", steps_scalar_what(&x->cur));
            else if (x->cur.type != RULES_SCALAR_STRING)
                snprintf(what, sizeof what, "the %s column", base->type_name ? base->type_name : "?");
            rules_scalar out;
            if (steps_value_apply(st, &x->cur, what, &out, a, err, errlen) < 0)
                return -1;
            x->cur = out;
            x->changed = 1;
        }
    }
    return 0;
}

/* The type code's (oid, kind), for comparing the types of before and after. */
static void code_type(const steps_slot *sl, int code, uint32_t *oid, value_kind *kind)
{
    static const struct {
        uint32_t oid;
        value_kind kind;
    } retyped[] = {[RULES_SCALAR_BOOL] = {16, VALUE_BOOL}, [RULES_SCALAR_INT] = {20, VALUE_INT64},
                   [RULES_SCALAR_FLOAT] = {701, VALUE_FLOAT64}, [RULES_SCALAR_STRING] = {25, VALUE_TEXT}};
    if (code == 0 || code == STEPS_UNDET) {
        *oid = sl->base->type_oid;
        *kind = sl->base->kind;
    } else {
        *oid = retyped[code].oid;
        *kind = retyped[code].kind;
    }
}

/* x (not nil) into *v as a value of the type of code (0: the slot's own); the resulting code. */
static int settle_value(const steps_slot *sl, int code, const rules_scalar *x, value *v, arena *a)
{
    column_def c = *sl->base;
    if (code != 0 && code != STEPS_UNDET) {   /* fit into the type after settled on */
        value tmp;
        rules_scalar probe = {.type = (rules_scalar_type)code, .s = ""};
        rules_value_retype_scalar(&probe, &c, &tmp, a);
    }
    if (rules_value_fit_scalar(x, &c, v, a))
        return code;
    rules_value_retype_scalar(x, &c, v, a);
    return (int)x->type;
}

static void value_set(value *v, value_state state)
{
    memset(v, 0, sizeof *v);
    v->state = (uint8_t)state;
}

/* The final values of touched live slot i into av/bv at its position; its code into *code. */
static int apply_settle(const steps_table *tp, img_state *states, const value *rows[2], value *av, value *bv, int i,
                        uint8_t *code, arena *a, char *err, size_t errlen)
{
    const steps_slot *sl = &tp->slots[i];
    int is_new = sl->src < 0, ca = STEPS_UNDET, cb = STEPS_UNDET, any = 0;
    if (av) {
        img_state *x = apply_load(tp, states, rows[0], i, 0);
        value *v = &av[sl->pos];
        if (!is_new && (!x->changed || x->unavail || rules_value_scalar_same(&x->cur, &x->orig)))
            *v = rows[0][sl->src], ca = 0;
        else if (x->unavail)
            value_set(v, VALUE_UNAVAILABLE), ca = 0;
        else if (x->cur.type == RULES_SCALAR_NIL)
            value_set(v, VALUE_IS_NULL), ca = is_new ? STEPS_UNDET : 0;
        else
            ca = settle_value(sl, 0, &x->cur, v, a);
        any |= v->state != VALUE_IS_NULL;
    }
    if (bv) {
        img_state *x = apply_load(tp, states, rows[1], i, 1);
        value *v = &bv[sl->pos];
        int bc = av && ca != STEPS_UNDET ? ca : is_new ? STEPS_UNDET : 0;
        uint32_t oid;
        value_kind kind;
        code_type(sl, bc, &oid, &kind);
        int orig_type = !is_new && oid == sl->base->type_oid && kind == sl->base->kind;
        if (orig_type && (!x->changed || x->unavail || rules_value_scalar_same(&x->cur, &x->orig)))
            *v = rows[1][sl->src], cb = bc;
        else if (x->unavail)
            value_set(v, VALUE_UNAVAILABLE), cb = bc == STEPS_UNDET ? 0 : bc;
        else if (x->cur.type == RULES_SCALAR_NIL)
            value_set(v, VALUE_IS_NULL), cb = bc;
        else
            cb = settle_value(sl, bc, &x->cur, v, a);
        any |= v->state != VALUE_IS_NULL;
        if (av && ca != STEPS_UNDET && v->state == VALUE_PRESENT && cb != ca) {
            uint32_t ao, bo;
            value_kind ak, bk;
            code_type(sl, ca, &ao, &ak);
            code_type(sl, cb, &bo, &bk);
            if (ao != bo || ak != bk)
                return err_setf(err, errlen, "steps: column %s: before and after hold values of different types",
                                sl->base->name);
        }
        if (!av || ca == STEPS_UNDET)
            ca = cb;
    }
    *code = (uint8_t)(is_new && !any ? STEPS_OMIT : ca == STEPS_UNDET ? 0 : ca);
    return 0;
}

/* The definition of the output columns for these codes, made once per shape. */
static const table_def *apply_shape(steps_table *tp, const uint8_t *codes, rules_defs *defs, arena *a)
{
    for (int s = 0; s < tp->nshapes; s++)
        if (memcmp(tp->shapes[s].codes, codes, (size_t)tp->ntouched) == 0)
            return tp->shapes[s].def;
    column_def *cols = arena_alloc(a, ((size_t)tp->nout + 1) * sizeof *cols);
    int n = 0;
    for (int k = 0; k < tp->nout; k++) {
        const steps_slot *sl = &tp->slots[tp->order[k]];
        int code = sl->touched < 0 ? 0 : codes[sl->touched];
        if (code == STEPS_OMIT)
            continue;
        cols[n] = *sl->base;
        if (code) {
            value tmp;
            rules_scalar probe = {.type = (rules_scalar_type)code, .s = ""};
            rules_value_retype_scalar(&probe, &cols[n], &tmp, a);
        }
        n++;
    }
    const table_def *def = rules_defs_get(defs, tp->in, cols, n);
    if (def && tp->nshapes < STEPS_SHAPES && (tp->shapes[tp->nshapes].codes = malloc((size_t)tp->ntouched + 1))) {
        memcpy(tp->shapes[tp->nshapes].codes, codes, (size_t)tp->ntouched);
        tp->shapes[tp->nshapes++].def = def;
    }
    return def;
}

int rules_steps_apply(rules_steps *p, const event *in, rules_defs *defs, event *out, arena *a, char *err,
                      size_t errlen)
{
    steps_table *tp = steps_table_get(p, in->table);
    if (!tp)
        return err_setf(err, errlen, "out of memory");
    if (tp->error)
        return err_setf(err, errlen, "%s", tp->error);
    const value *rows[2] = {in->after, in->before};
    img_state *states = arena_alloc(a, ((size_t)tp->ntouched * 2 + 1) * sizeof *states);
    memset(states, 0, ((size_t)tp->ntouched * 2 + 1) * sizeof *states);
    if (apply_steps(tp, states, rows, a, err, errlen) < 0)
        return -1;
    value *av = rows[0] ? arena_alloc(a, ((size_t)tp->nout + 1) * sizeof *av) : NULL;
    value *bv = rows[1] ? arena_alloc(a, ((size_t)tp->nout + 1) * sizeof *bv) : NULL;
    uint8_t *codes = arena_alloc(a, (size_t)tp->ntouched + 1);
    int plain = tp->same_shape, omitted = 0;
    memset(codes, 0, (size_t)tp->ntouched + 1);
    for (int k = 0; k < tp->nout; k++) {
        int i = tp->order[k];
        const steps_slot *sl = &tp->slots[i];
        if (sl->touched >= 0) {
            if (apply_settle(tp, states, rows, av, bv, i, &codes[sl->touched], a, err, errlen) < 0)
                return -1;
            plain &= codes[sl->touched] == 0;
            omitted |= codes[sl->touched] == STEPS_OMIT;
            continue;
        }
        if (av)
            av[k] = rows[0][sl->src];
        if (bv)
            bv[k] = rows[1][sl->src];
    }
    if (omitted) {   /* added columns NULL everywhere are left out (they are last) */
        int n = 0;
        for (int k = 0; k < tp->nout; k++) {
            const steps_slot *sl = &tp->slots[tp->order[k]];
            if (sl->touched >= 0 && codes[sl->touched] == STEPS_OMIT)
                continue;
            if (av)
                av[n] = av[k];
            if (bv)
                bv[n] = bv[k];
            n++;
        }
    }
    *out = *in;
    out->after = av;
    out->before = bv;
    out->before_key_only = in->before_key_only && bv != NULL;
    if (plain)
        out->table = in->table;
    else if (!(out->table = apply_shape(tp, codes, defs, a)))
        return err_setf(err, errlen, "out of memory");
    return 0;
}
