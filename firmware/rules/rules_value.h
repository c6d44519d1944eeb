/* rules_value: Lua values a rule put in a row, converted to typed column values (value,
 * column_def of pipeline/event.h) for rules_marshal's pull; and the same typing rules on
 * rules_scalar, a Lua-like scalar held in C, for the native steps (rules_steps.h), which never
 * make Lua values: one set of rules for both.
 * Ownership: converted text lives in the arena passed in (a scalar's text is borrowed). Functions
 * that read tables may run metamethods, so call them inside a protected call (rules_vm_pcall_c). */
#ifndef SLUICE_RULES_RULES_VALUE_H
#define SLUICE_RULES_RULES_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "core/arena.h"
#include "core/buf.h"
#include "pipeline/event.h"

/* A Lua value that is not a table, held in C: nil, a boolean, an integer, a float or a string. */
typedef enum rules_scalar_type {
    RULES_SCALAR_NIL = 0,
    RULES_SCALAR_BOOL,
    RULES_SCALAR_INT,
    RULES_SCALAR_FLOAT,
    RULES_SCALAR_STRING,
} rules_scalar_type;

typedef struct rules_scalar {
    rules_scalar_type type;
    int b;
    int64_t i;
    double f;
    const char *s;   /* borrowed */
    size_t len;
} rules_scalar;

/* A present value of col as rules_marshal pushes it to Lua, for the kinds whose Lua form is a
 * scalar taken straight from the value: bool, the integer kinds, date, time, timestamp, the
 * floats, and the text-like kinds (text, numeric, bytea, json, uuid, inet). 0, or -1 for money,
 * timetz, timestamptz, interval and arrays (made through Debezium's text or as tables). */
int rules_value_scalar_of(const column_def *col, const value *v, rules_scalar *out);

/* The Lua value at idx as a scalar: 0, or -1 for a table, function, userdata or thread. */
int rules_value_scalar_from_lua(lua_State *L, int idx, rules_scalar *out);

/* Is a what the marshal pushed as b (same type and content; NaN equals NaN)? */
int rules_value_scalar_same(const rules_scalar *a, const rules_scalar *b);

/* x (not nil) as a value of col's type: 1 when it fits (as rules_value_convert_fitting), else 0. */
int rules_value_fit_scalar(const rules_scalar *x, const column_def *col, value *out, arena *a);

/* x (not nil) in a column of its own type (as rules_value_convert_retyped): sets col's type. */
void rules_value_retype_scalar(const rules_scalar *x, column_def *col, value *out, arena *a);

/* The metafield of a lazy row view (rules_marshal.c): a function that loads every column of the
 * row into it, called before C code reads a table as a whole (lua_next). */
#define RULES_MATERIALIZE_FIELD "__sluice_materialize"

/* Load a lazy view at idx completely (nothing for other values); may raise a Lua error (a view of
 * an event whose transform has returned). */
void rules_value_materialize(lua_State *L, int idx);

/* The shortest %g text of f that reads back as f (0.1 -> "0.1", not "0.10000000000000001") into
 * out (at least 32 bytes); its length. */
int rules_value_format_double(double f, char *out, size_t len);

/* Append the value at idx as JSON (a json column made from a table). 0, or -1 for content JSON
 * cannot hold (functions, cycles, non-string keys, infinities, depth over 32). */
int rules_value_to_json(lua_State *L, int idx, buf *out, int depth);

/* The value at idx as a value of col's type into *out: 1 when it fits (an integer into an int
 * column in range, a numeric string into numeric, an ISO-8601 string into timestamptz, a list into
 * an array, ...), 0 when the column must change type. */
int rules_value_convert_fitting(lua_State *L, int idx, const column_def *col, value *out, arena *a);

/* The value at idx in a column of its own type (a new column, or one whose type changed): *col
 * gets the type (boolean -> bool, integer -> int8, number -> float8, string -> text, table ->
 * json). 0, or -1 with "where: why" in err (functions, userdata, tables that are not JSON). */
int rules_value_convert_retyped(lua_State *L, int idx, column_def *col, value *out, arena *a, const char *where,
                                char *err, size_t errlen);

#endif
