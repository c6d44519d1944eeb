/* rules_steps: a rule's declarative steps, run natively. A rule may set the global `steps` to a
 * list of column operations, read once when the rule is compiled:
 *   steps = {
 *     {"rename", "email", "contact_email"},   -- both images
 *     {"cast", "amount", "double"},           -- integer|int|bigint, number|double|float,
 *                                             -- string|text, boolean|bool, decimal|numeric
 *     {"mask_phone", "phone"},                -- mask (col [, keep_start=0 [, keep_end=4 [, char]]]),
 *                                             -- mask_email, sha256, hmac_sha256 (col, key), trim,
 *                                             -- lower, upper
 *     {"add", "origin", "crm"},               -- a constant (string, integer, number, boolean)
 *     {"drop", "ssn", "notes"},
 *   }
 * and the engine applies them in C to the typed event, in order, with no Lua and no marshalling.
 * A step does exactly what the same sluice helper does in a transform (rules_text.h, rules_cast.h)
 * and the result is typed by the marshalling's rules (rules_value.h): a cast value keeps its
 * column's type when it fits it, else the column takes the value's own type; rename, as
 * sluice.rename, re-adds the column under its new name (typed by its value, after the table's
 * columns, added columns sorted by name); an added or renamed column that is NULL in every image
 * is left out. NULL stays NULL and an unchanged-TOAST value stays unavailable under every
 * operation. Per event errors (a text operation on a column that is not text, renaming a column
 * the table does not have or onto one it has, a value that does not cast) fail the event with the
 * reason ("steps[2] cast amount: 'abc' is not a valid double").
 * Columns of kinds whose Lua form is not a plain value (money, timetz, timestamptz, interval,
 * arrays) may be dropped but not changed or renamed by steps: use a transform.
 * Ownership: a plan is made from a vm and then independent of it; output events and their values
 * live in the arena passed in (or are the input's); derived table definitions come from the
 * rules_defs passed in. Not thread-safe. */
#ifndef SLUICE_RULES_RULES_STEPS_H
#define SLUICE_RULES_RULES_STEPS_H

#include <stddef.h>

#include "core/arena.h"
#include "pipeline/event.h"
#include "rules/rules_marshal.h"
#include "rules/rules_vm.h"

typedef struct rules_steps rules_steps;

/* The plan of the global `steps` of the rule loaded in vm into *out (NULL when the rule sets no
 * steps). 0, or -1 with the reason, naming the step, in err ("steps[3]: unknown operation
 * 'maks_phone'"). */
int rules_steps_compile(rules_vm *vm, rules_steps **out, char *err, size_t errlen);
void rules_steps_destroy(rules_steps *p);   /* accepts NULL */

/* The form of a rule loaded in vm: its steps, if any, compile, and it defines steps or
 * transform(event). 0, or -1 with the reason in err ("it defines neither steps nor
 * transform(event)"). *steps (may be NULL: then only checked) gets the compiled steps (NULL when
 * the rule has none; the caller destroys them); *has_transform (may be NULL) tells whether
 * transform is defined. */
int rules_steps_check(rules_vm *vm, rules_steps **steps, int *has_transform, char *err, size_t errlen);

/* Apply the steps to in into *out (its table: in's, or a derived one from defs). 0, or -1 with the
 * reason in err. */
int rules_steps_apply(rules_steps *p, const event *in, rules_defs *defs, event *out, arena *a, char *err,
                      size_t errlen);

/* Apply the steps to the event table at idx of the vm's state (a plain table, as rules_json.h
 * makes from JSON: no column types, so a NULL and a missing column look alike), in place, with
 * the same operations. Runs protected. 0, or -1 with the reason in err. */
int rules_steps_apply_lua(const rules_steps *p, rules_vm *vm, int idx, char *err, size_t errlen);

#endif
