/* rules_steps_internal: the compiled form of a rule's steps, shared by the files of rules_steps
 * (compile, per table plan, per event apply, Lua tables). Not for use outside firmware/rules. */
#ifndef SLUICE_RULES_RULES_STEPS_INTERNAL_H
#define SLUICE_RULES_RULES_STEPS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "rules/rules_cast.h"
#include "rules/rules_steps.h"
#include "rules/rules_value.h"

typedef enum steps_op {
    STEP_RENAME,
    STEP_CAST,
    STEP_MASK,
    STEP_MASK_EMAIL,
    STEP_MASK_PHONE,
    STEP_SHA256,
    STEP_HMAC_SHA256,
    STEP_TRIM,
    STEP_LOWER,
    STEP_UPPER,
    STEP_ADD,
    STEP_DROP,
} steps_op;

typedef struct steps_step {
    steps_op op;
    int index;                 /* position in the list, from 1 */
    const char *name;          /* the operation's name */
    char *col;                 /* the column (rename: from; add: the new one; drop: the first) */
    char *to;                  /* rename */
    char **drops;              /* drop: every column */
    int ndrops;
    rules_cast_type cast;
    char *cast_name;           /* as written ("double") */
    size_t keep_start, keep_end;
    char ch[8];                /* mask's character */
    size_t chlen;
    char *key;                 /* hmac_sha256 */
    size_t keylen;
    rules_scalar konst;        /* add (its text owned in konst_s) */
    char *konst_s;
} steps_step;

/* ---- the plan for one input table (rules_steps_plan.c) ---- */

#define STEPS_UNDET 255   /* a code: an added column's type is not settled yet */
#define STEPS_OMIT 254    /* a code: an added column NULL in every image, left out */
#define STEPS_SHAPES 8    /* output shapes (derived definitions) remembered per table */

/* A column as the steps see it: one of the table's, or one they add (add, rename's new name).
 * Its code per event: 0 its own (base) type, a rules_scalar_type when a value retyped it. */
typedef struct steps_slot {
    int src;                  /* the input column, or -1 */
    int live;                 /* still in the output after every step */
    int pos;                  /* its position in the output (live ones) */
    int touched;              /* index of its per-event state, or -1: never changed */
    const column_def *base;   /* the input column's definition, or &newdef */
    column_def newdef;        /* an added column: text, as the marshal types a new column */
} steps_slot;

typedef struct steps_rop {    /* a step resolved against the table */
    const steps_step *st;
    int slot;                 /* the column it changes; rename: the old one; add: -1 */
    int dst;                  /* rename, add: the new column */
} steps_rop;

typedef struct steps_table {
    const table_def *in;
    char *error;              /* the steps do not apply to this table: every event fails with it */
    steps_slot *slots;
    int nslots;
    steps_rop *rops;
    int nrops;
    int *order;               /* [nout] the live slots in output order */
    int nout;
    int *touched;             /* [ntouched] the slot of each per-event state */
    int ntouched;
    int same_shape;           /* no column added, dropped or renamed */
    struct {
        uint8_t *codes;       /* [ntouched] */
        const table_def *def;
    } shapes[STEPS_SHAPES];
    int nshapes;
} steps_table;

struct rules_steps {
    steps_step *steps;
    int n;
    steps_table **cache;       /* open addressing by table_def pointer */
    size_t cache_cap, cache_used;
};

/* The plan for table t, made at first use and cached; NULL when out of memory. */
steps_table *steps_table_get(rules_steps *p, const table_def *t);
void steps_table_free(steps_table *tp);

/* Is st an operation on one column's values (cast and the text operations)? */
int steps_is_value_op(const steps_step *st);

/* The value operation st on x (not nil) into *out (text in a). what describes x when it is not
 * text ("an int4 column", "an integer"). 0, or -1 with "steps[2] cast amount: 'abc' is not a valid
 * double" in err. */
int steps_value_apply(const steps_step *st, const rules_scalar *x, const char *what, rules_scalar *out, arena *a,
                      char *err, size_t errlen);

/* How a scalar is described in errors: "an integer", "a number", "a boolean", "a string". */
const char *steps_scalar_what(const rules_scalar *x);

#endif
