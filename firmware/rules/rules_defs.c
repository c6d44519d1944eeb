/* rules_defs: derived table definitions for events a rule changed the columns of (added, dropped
 * or retyped): each distinct shape of each input table is made once and kept until the set of
 * them is destroyed, so that sinks may cache them by pointer (see rules_marshal.h). */
#include "rules/rules_marshal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
typedef struct defs_entry {
    char *signature;
    table_def *def;
    struct defs_entry *next;
} defs_entry;

#define DEFS_BUCKETS 256

#define DEFS_RECENT 64   /* the last derived definition of each recent input, checked first */

struct rules_defs {
    defs_entry *buckets[DEFS_BUCKETS];
    struct {
        const table_def *in;
        table_def *def;
    } recent[DEFS_RECENT];
};

rules_defs *rules_defs_create(void)
{
    return calloc(1, sizeof(rules_defs));
}

void rules_defs_destroy(rules_defs *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < DEFS_BUCKETS; i++) {
        for (defs_entry *e = d->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e->signature);
            table_def_free(e->def);
            free(e);
        }
    }
    free(d);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const table_def *defs_lookup(rules_defs *d, const table_def *in, const column_def *cols, int ncols);

/* Does def have exactly these columns (names, types)? */
static int defs_same(const table_def *def, const column_def *cols, int ncols)
{
    if (def->ncols != ncols)
        return 0;
    for (int i = 0; i < ncols; i++) {
        const column_def *x = &def->cols[i], *y = &cols[i];
        if (x->type_oid != y->type_oid || x->kind != y->kind || x->elem_kind != y->elem_kind ||
            strcmp(x->name, y->name) != 0)
            return 0;
    }
    return 1;
}

/* The definition of in's table with columns cols (made once per shape). NULL when out of memory. */
const table_def *rules_defs_get(rules_defs *d, const table_def *in, const column_def *cols, int ncols)
{
    size_t slot = ((uintptr_t)in >> 4) % DEFS_RECENT;
    if (d->recent[slot].in == in && defs_same(d->recent[slot].def, cols, ncols))
        return d->recent[slot].def;
    const table_def *found = defs_lookup(d, in, cols, ncols);
    if (found) {
        d->recent[slot].in = in;
        d->recent[slot].def = (table_def *)found;
    }
    return found;
}

/* defs_get without the recent-shape shortcut: by signature. */
static const table_def *defs_lookup(rules_defs *d, const table_def *in, const column_def *cols, int ncols)
{
    buf sig = BUF_INIT;
    buf_printf(&sig, "%p", (const void *)in);
    for (int i = 0; i < ncols; i++)
        buf_printf(&sig, "|%s:%u:%d:%d", cols[i].name, cols[i].type_oid, (int)cols[i].kind, (int)cols[i].elem_kind);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sig.len; i++)
        h = (h ^ (unsigned char)sig.data[i]) * 1099511628211ull;
    defs_entry **slot = &d->buckets[h % DEFS_BUCKETS];
    for (defs_entry *e = *slot; e; e = e->next) {
        if (strcmp(e->signature, sig.data) == 0) {
            buf_free(&sig);
            return e->def;
        }
    }
    defs_entry *e = calloc(1, sizeof *e);
    table_def *t = calloc(1, sizeof *t);
    if (!e || !t)
        goto fail;
    *t = *in;
    t->cols = NULL;
    t->ncols = 0;
    if (!(t->cols = calloc((size_t)ncols + 1, sizeof *t->cols)) || !(t->schema = dup_or_null(in->schema)) ||
        !(t->name = dup_or_null(in->name)))
        goto fail;
    for (int i = 0; i < ncols; i++) {
        t->cols[i] = cols[i];
        t->cols[i].name = dup_or_null(cols[i].name);
        t->cols[i].type_name = dup_or_null(cols[i].type_name);
        t->cols[i].enum_labels = dup_or_null(cols[i].enum_labels);
        t->ncols = i + 1;
    }
    e->signature = buf_take(&sig);
    e->def = t;
    e->next = *slot;
    *slot = e;
    return t;
fail:
    buf_free(&sig);
    table_def_free(t);
    free(e);
    return NULL;
}
