/* rules_cast: sluice.cast's conversions on Lua-like scalars (rules_value.h), in plain C, shared by
 * the helper (rules_helpers_columns.c) and the native steps' cast (rules_steps.h): integer,
 * number, string, boolean and decimal, with Lua 5.4's own rules for reading numbers from text
 * (lua_stringtonumber) and writing them (tostring), so both paths give the same values.
 * Ownership: nothing is allocated; text made from a number goes into the caller's tmp. */
#ifndef SLUICE_RULES_RULES_CAST_H
#define SLUICE_RULES_RULES_CAST_H

#include <stddef.h>

#include "rules/rules_value.h"

typedef enum rules_cast_type {
    RULES_CAST_INTEGER,   /* "integer", "int", "bigint" */
    RULES_CAST_NUMBER,    /* "number", "float", "double" */
    RULES_CAST_STRING,    /* "string", "text" */
    RULES_CAST_BOOLEAN,   /* "boolean", "bool": t/true/y/yes/on/1, f/false/n/no/off/0 */
    RULES_CAST_DECIMAL,   /* "decimal", "numeric": exact decimal text */
} rules_cast_type;

#define RULES_CAST_TYPES "integer, number, string, boolean or decimal"
#define RULES_CAST_TMP 64   /* bytes of tmp */

/* The type a name (above) stands for: 0, or -1 for an unknown name. */
int rules_cast_type_parse(const char *name, rules_cast_type *out);
/* Its canonical name ("integer", "number", ...). */
const char *rules_cast_type_name(rules_cast_type t);

/* s[0..len) read as Lua reads a number (lua_stringtonumber): a decimal or hexadecimal integer that
 * fits (hexadecimal wraps around), else a float (strtod; not inf or nan), spaces around allowed.
 * 0 with *out an integer or float, or -1 when the text is not a number. */
int rules_cast_parse_number(const char *s, size_t len, rules_scalar *out);

/* The text Lua's tostring gives x (nil, a boolean, a number or a string): *s points to tmp or to
 * x's own text; returns the length. */
size_t rules_cast_tostring(const rules_scalar *x, char tmp[RULES_CAST_TMP], const char **s);

/* sluice.cast(in, t) into *out (nil stays nil; out->s may point to tmp or to in's text). 0, or -1
 * when in does not convert ("abc" to an integer, 3.5 to an integer, a NaN to a decimal). */
int rules_cast_apply(const rules_scalar *in, rules_cast_type t, rules_scalar *out, char tmp[RULES_CAST_TMP]);

#endif
