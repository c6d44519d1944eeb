/* rules_json: change events as JSON (jansson) to and from the Lua tables a rule sees, for the
 * places that hold events as JSON rather than as typed pipeline events: `sluice rules test`
 * (fixture files) and the console's dry runs (the sample of captured events, kept as Debezium
 * JSON). JSON objects become tables with string keys (null members are left out: nil), arrays
 * become lists as table.pack makes them (NULL elements are holes, the length is in n), strings,
 * integers, reals and booleans the Lua values of the same kind. Back, what transform returned is
 * read as an event (string keys; before, after and source are rows), a list of events (a split)
 * or nil (a drop); a value that has no JSON form (a function, NaN, a cycle, ...) is an error
 * naming its path ("result.after.x: a function cannot be a value").
 * Ownership: returned json_t values belong to the caller (json_decref). */
#ifndef SLUICE_RULES_RULES_JSON_H
#define SLUICE_RULES_RULES_JSON_H

#include <stddef.h>

#include <jansson.h>
#include <lua.h>

#include "rules/rules_vm.h"

#define RULES_JSON_NEST_MAX 100   /* tables or JSON nested deeper than this are refused (cycles) */

/* Push any JSON value as described above (unprotected: call it inside a protected call; it
 * raises a Lua error for JSON nested deeper than RULES_JSON_NEST_MAX). */
void rules_json_push_value(lua_State *L, json_t *v);

/* Push the JSON event (an object: op, before, after, source) as a table on L's stack. Runs
 * protected: 0, or -1 with the reason in err (nested too deep, out of memory) and nothing pushed. */
int rules_json_push(lua_State *L, json_t *event, char *err, size_t errlen);

/* The Lua value at idx read as transform's result: an object (an event), an array (a list of
 * events), or JSON null (nil). NULL with the reason, naming the path, in err. */
json_t *rules_json_from_lua(lua_State *L, int idx, char *err, size_t errlen);

/* 0 when ev is an event the pipeline can take (an object, op one of c u d r t, before and after
 * objects when present), after removing the columns its drop field lists from before and after
 * (and drop itself), as the pipeline does; else -1 with the reason in err, naming it as where
 * ("result[2].op ..."). */
int rules_json_event_check(json_t *ev, const char *where, char *err, size_t errlen);

/* Run the rule's steps (rules_steps.h) and then its transform (loaded in vm) on the event table
 * on top of the stack (popped) and read the result (a rule without transform: the stepped event): *result is the event (object), the list of events (array; an empty table is
 * an empty list) or null (dropped). With with_route, route is called on every resulting event and
 * *route (when route is not NULL) is its answer as the pipeline reads it (rules_route.h): null,
 * a name (string) or an object {topic, table} with the fields given, for a single event, an
 * array of them for a list. 0, or -1 with the reason in err (a Lua error, a limit, a result that
 * is not an event, a route answer the pipeline would refuse, e.g. "route: 'a b' is not a legal
 * Kafka topic name (...)"); nothing is returned then. The stack is left as before the event. */
int rules_json_transform(rules_vm *vm, int with_route, json_t **result, json_t **route, char *err, size_t errlen);

#endif
