/* rules_marshal: change events to Lua tables and back.
 * An event becomes {op = "c"|"u"|"d"|"r"|"t", before = row or nil, after = row or nil,
 * source = {schema, table, db, lsn, txId, ts_ms, snapshot}}; a column's value is nil for SQL
 * NULL, else: boolean; integer (int2/4/8, oid; date as days since 1970-01-01; time, timestamp
 * and interval as microseconds); number (float4/8); string for everything else: the exact text of
 * numeric and money ("12.3400"), timestamptz and timetz as Debezium's ISO-8601 strings, bytea as
 * its raw bytes, text, json, uuid, enums, network types as their text; arrays as Lua lists with
 * their length in field n (as table.pack makes them, so NULL elements are holes); an
 * unchanged TOASTed value as "__debezium_unavailable_value".
 * Rows are lazy views: a column becomes a Lua value when the rule first reads it (indexing,
 * pairs, sluice.json_encode); the source block when it is first read. rawget and next see only
 * what was read or written so far. A view is valid until its transform call returns
 * (rules_marshal_done): using it later is a Lua error, never another event's data.
 * Back: a column whose value the rule did not change (never read, or read and left as it was)
 * keeps its original typed value exactly; a changed value is converted to the column's type when
 * it fits (an integer into an int column, a numeric string into numeric, ...), otherwise the
 * column takes the type of the new value, as a new column does (boolean -> bool, integer -> int8,
 * number -> float8, string -> text, table -> json). nil is SQL NULL for the table's columns (and
 * leaves out a new one); a row the rule made itself ({id = 1, ...}) holds exactly the columns it
 * names; a column disappears when the result lists it in its drop field (drop = {"ssn"}, as
 * sluice.drop does). The resulting table definition is the input's when nothing about the
 * columns changed, else a derived one from rules_defs (shared, stable).
 * Ownership: values of pulled events live in the arena passed in (until the caller resets it) or
 * are the input event's; the input event and the arena must outlive the views (until
 * rules_marshal_done or the next push). The marshal keeps per-state objects in each lua_State's
 * registry; call rules_marshal_done before destroying a state that holds live views. */
#ifndef SLUICE_RULES_RULES_MARSHAL_H
#define SLUICE_RULES_RULES_MARSHAL_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "core/arena.h"
#include "pipeline/event.h"

/* Derived table definitions (rules that add or retype columns): each distinct shape made once and
 * kept until rules_defs_destroy, so sinks may cache them by pointer. */
typedef struct rules_defs rules_defs;
rules_defs *rules_defs_create(void);
void rules_defs_destroy(rules_defs *d);   /* accepts NULL */
/* The definition of in's table with columns cols (copied; made once per shape). NULL when out of
 * memory. */
const table_def *rules_defs_get(rules_defs *d, const table_def *in, const column_def *cols, int ncols);

typedef struct rules_marshal rules_marshal;
rules_marshal *rules_marshal_create(void);   /* NULL when out of memory */
void rules_marshal_destroy(rules_marshal *m);

/* Push ev as a table on L's stack, with lazy row views reading from ev (scratch in a); ends the
 * previous push's views. May raise a Lua error (memory): call it inside a protected call. */
void rules_marshal_push(rules_marshal *m, lua_State *L, const event *ev, arena *a);

/* End the views of the last push: any later use of them is a Lua error. */
void rules_marshal_done(rules_marshal *m);

/* The event described by the table at idx (a result of transform for the pushed in) into *out:
 * op from its op field, values in a, table from in->table or defs. 0, or -1 with the reason in
 * err ("op must be one of c, u, d, r", "after.qty: a function cannot be a column value", ...). */
int rules_marshal_pull(rules_marshal *m, lua_State *L, int idx, const event *in, rules_defs *defs, event *out,
                       arena *a, char *err, size_t errlen);

#endif
