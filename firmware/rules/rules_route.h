/* rules_route: what a rule's route(event) returned, read and checked one way for the pipeline
 * (rules_engine.h) and for the dry runs and fixture tests (rules_json.h):
 *   nil                        the table's own destinations;
 *   "name"                     a destination table: shorthand for {table = "name"};
 *   {topic = "t", table = "n"} either field optional ({} is the same as nil): topic is the exact
 *                              Kafka topic, table the destination table (lake table <table>, and
 *                              Kafka topic <prefix>.<table> unless topic is given).
 * Names must pass event_route.h's checks; anything else (another type, another field, a field
 * that is not a string) is an error: the event becomes a dead letter.
 * Ownership: the strings point into Lua values reachable from the value read, valid while it
 * stays on the stack unchanged; copy them before popping it. */
#ifndef SLUICE_RULES_RULES_ROUTE_H
#define SLUICE_RULES_RULES_ROUTE_H

#include <stddef.h>

#include <lua.h>

typedef enum rules_route_form {
    RULES_ROUTE_DEFAULT = 0,   /* nil */
    RULES_ROUTE_NAME,          /* a string */
    RULES_ROUTE_FIELDS,        /* a table {topic, table} */
} rules_route_form;

typedef struct rules_route {
    rules_route_form form;
    const char *topic;         /* exact Kafka topic, or NULL */
    size_t topic_len;
    const char *table;         /* destination table, or NULL */
    size_t table_len;
} rules_route;

/* Read the value at idx (route's answer) into *out. Raw access only: no metamethod runs and
 * nothing is allocated, so no Lua error is raised. 0, or -1 with the reason in err ("route: 'a b'
 * is not a legal Kafka topic name (...)", "route must return a string, a table {topic = ...,
 * table = ...} or nil, not a number"). */
int rules_route_read(lua_State *L, int idx, rules_route *out, char *err, size_t errlen);

#endif
