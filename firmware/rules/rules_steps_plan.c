/* rules_steps_plan: a rule's steps resolved against one input table, made at the first event of
 * each table definition and cached by its pointer: column names become slots (the table's
 * columns, and the ones the steps add), the output's columns and their order are known (the
 * table's live columns in order, then the added ones by name, as the marshal orders new
 * columns), and what cannot apply to the table (a missing column, a name taken, a kind steps do
 * not handle) becomes the reason every event of it fails with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errbuf.h"
#include "rules/rules_steps_internal.h"

#define OID_TEXT 25

void steps_table_free(steps_table *tp)
{
    if (!tp)
        return;
    free(tp->error);
    free(tp->slots);
    free(tp->rops);
    free(tp->order);
    free(tp->touched);
    for (int i = 0; i < tp->nshapes; i++)
        free(tp->shapes[i].codes);
    free(tp);
}

static const char *slot_name(const steps_slot *sl)
{
    return sl->base->name;
}

/* The live slot named name, or -1. */
static int plan_find(const steps_table *tp, const char *name)
{
    for (int i = 0; i < tp->nslots; i++)
        if (tp->slots[i].live && strcmp(slot_name(&tp->slots[i]), name) == 0)
            return i;
    return -1;
}

/* Give slot i a per-event state. */
static void plan_touch(steps_table *tp, int i)
{
    if (tp->slots[i].touched < 0) {
        tp->slots[i].touched = tp->ntouched;
        tp->touched[tp->ntouched++] = i;
    }
}

/* A new live slot for an added column called name (the step's string, which outlives the plan's
 * use of it: both belong to the rules_steps). */
static int plan_add_slot(steps_table *tp, const char *name)
{
    steps_slot *sl = &tp->slots[tp->nslots];
    memset(sl, 0, sizeof *sl);
    sl->src = -1;
    sl->live = 1;
    sl->touched = -1;
    sl->newdef.name = (char *)name;
    sl->newdef.type_oid = OID_TEXT;
    sl->newdef.type_name = (char *)"text";
    sl->newdef.kind = VALUE_TEXT;
    sl->base = &sl->newdef;
    plan_touch(tp, tp->nslots);
    return tp->nslots++;
}

/* The live slot a step names, or -1 with the reason in tp->error's buffer. */
static int plan_column(steps_table *tp, const steps_step *st, const char *name, char *why, size_t len)
{
    int i = plan_find(tp, name);
    if (i < 0)
        err_setf(why, len, "steps[%d] %s %s: %s.%s has no column %s", st->index, st->name, st->col, tp->in->schema,
                 tp->in->name, name);
    return i;
}

/* May steps read slot i's values (a plain Lua value, as the marshal pushes it)? */
static int plan_readable(const steps_table *tp, const steps_step *st, int i, char *why, size_t len)
{
    value probe = {.state = VALUE_PRESENT};
    rules_scalar x;
    if (rules_value_scalar_of(tp->slots[i].base, &probe, &x) == 0)
        return 0;
    return err_setf(why, len, "steps[%d] %s %s: a %s column cannot be changed by steps (use transform)", st->index,
                    st->name, st->col, tp->slots[i].base->type_name ? tp->slots[i].base->type_name : "?");
}

/* Resolve every step against tp->in. 0, or -1 with the reason in why. */
static int plan_resolve(steps_table *tp, const rules_steps *p, char *why, size_t len)
{
    for (int k = 0; k < p->n; k++) {
        const steps_step *st = &p->steps[k];
        steps_rop *r = &tp->rops[tp->nrops];
        int i = -1;
        r->st = st;
        r->slot = r->dst = -1;
        switch (st->op) {
        case STEP_DROP:
            for (int d = 0; d < st->ndrops; d++) {
                if ((i = plan_column(tp, st, st->drops[d], why, len)) < 0)
                    return -1;
                tp->slots[i].live = 0;
            }
            continue;   /* nothing to do per event */
        case STEP_ADD:
            if (plan_find(tp, st->col) >= 0)
                return err_setf(why, len, "steps[%d] add %s: %s.%s already has a column %s", st->index, st->col,
                                tp->in->schema, tp->in->name, st->col);
            r->dst = plan_add_slot(tp, st->col);
            break;
        case STEP_RENAME:
            if ((i = plan_column(tp, st, st->col, why, len)) < 0 || plan_readable(tp, st, i, why, len) < 0)
                return -1;
            if (plan_find(tp, st->to) >= 0)
                return err_setf(why, len, "steps[%d] rename %s: %s.%s already has a column %s", st->index, st->col,
                                tp->in->schema, tp->in->name, st->to);
            plan_touch(tp, i);
            tp->slots[i].live = 0;
            r->slot = i;
            r->dst = plan_add_slot(tp, st->to);
            break;
        default:
            if ((i = plan_column(tp, st, st->col, why, len)) < 0 || plan_readable(tp, st, i, why, len) < 0)
                return -1;
            plan_touch(tp, i);
            r->slot = i;
            break;
        }
        tp->nrops++;
    }
    return 0;
}

/* The live slots in output order: the table's, then the added ones by name. */
static void plan_order(steps_table *tp)
{
    int n = 0, first_new;
    for (int i = 0; i < tp->nslots; i++)
        if (tp->slots[i].live && tp->slots[i].src >= 0)
            tp->order[n++] = i;
    first_new = n;
    for (int i = 0; i < tp->nslots; i++)
        if (tp->slots[i].live && tp->slots[i].src < 0)
            tp->order[n++] = i;
    for (int k = first_new + 1; k < n; k++) {   /* by name: an insertion sort (steps add few) */
        int v = tp->order[k], j = k;
        for (; j > first_new && strcmp(slot_name(&tp->slots[tp->order[j - 1]]), slot_name(&tp->slots[v])) > 0; j--)
            tp->order[j] = tp->order[j - 1];
        tp->order[j] = v;
    }
    tp->nout = n;
    for (int k = 0; k < n; k++)
        tp->slots[tp->order[k]].pos = k;
    tp->same_shape = first_new == tp->in->ncols && n == first_new;
}

/* The plan of p for t; NULL when out of memory. */
static steps_table *plan_make(const rules_steps *p, const table_def *t)
{
    steps_table *tp = calloc(1, sizeof *tp);
    size_t cap = (size_t)t->ncols + (size_t)p->n + 1;   /* each step adds at most one slot */
    if (!tp)
        return NULL;
    tp->in = t;
    if (!(tp->slots = calloc(cap, sizeof *tp->slots)) || !(tp->rops = calloc(cap, sizeof *tp->rops)) ||
        !(tp->order = calloc(cap, sizeof *tp->order)) || !(tp->touched = calloc(cap, sizeof *tp->touched))) {
        steps_table_free(tp);
        return NULL;
    }
    for (int i = 0; i < t->ncols; i++)
        tp->slots[i] = (steps_slot){.src = i, .live = 1, .touched = -1, .base = &t->cols[i]};
    tp->nslots = t->ncols;
    char why[1024];
    if (plan_resolve(tp, p, why, sizeof why) < 0 && !(tp->error = strdup(why))) {
        steps_table_free(tp);
        return NULL;
    }
    plan_order(tp);
    return tp;
}

steps_table *steps_table_get(rules_steps *p, const table_def *t)
{
    size_t mask = p->cache_cap - 1;
    if (p->cache_cap) {
        for (size_t i = ((uintptr_t)t >> 4) & mask; p->cache[i]; i = (i + 1) & mask)
            if (p->cache[i]->in == t)
                return p->cache[i];
    }
    steps_table *tp = plan_make(p, t);
    if (!tp)
        return NULL;
    if ((p->cache_used + 1) * 2 > p->cache_cap) {
        size_t cap = p->cache_cap ? p->cache_cap * 2 : 16;
        steps_table **nc = calloc(cap, sizeof *nc);
        if (!nc) {
            steps_table_free(tp);
            return NULL;
        }
        for (size_t i = 0; i < p->cache_cap; i++) {
            if (!p->cache[i])
                continue;
            size_t j = ((uintptr_t)p->cache[i]->in >> 4) & (cap - 1);
            while (nc[j])
                j = (j + 1) & (cap - 1);
            nc[j] = p->cache[i];
        }
        free(p->cache);
        p->cache = nc;
        p->cache_cap = cap;
    }
    size_t j = ((uintptr_t)t >> 4) & (p->cache_cap - 1);
    while (p->cache[j])
        j = (j + 1) & (p->cache_cap - 1);
    p->cache[j] = tp;
    p->cache_used++;
    return tp;
}
