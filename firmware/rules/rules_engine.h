/* rules_engine: the transformation stage between the capture and the sinks. A rule set maps
 * tables, by pattern ("public.users", "public.*", "*"; the first matching rule wins), to rules:
 * Lua chunks, each compiled in its own sandbox (rules_vm.h), defining native steps (the global
 * `steps`, rules_steps.h), transform(event) or both, and optionally route(event). For every
 * event of a table with a rule, the steps run first, in C, and the stepped event goes to transform
 * in Debezium's shape (rules_marshal.h); the result is the event (unchanged or modified), nil
 * (dropped) or a list of events (split) (a rule without transform: the stepped event), each then
 * passed to route when the rule has one. Its
 * answer (rules_route.h) is nil (the table's own destinations), a destination table name
 * ("public.users_eu": Kafka topic <prefix>.public.users_eu, lake table public.users_eu) or a
 * table {topic = "exact.topic", table = "name"} (either optional); it is checked at once
 * (event_route.h) and set on the emitted event as route_topic / route_table (event.h), which
 * the sinks follow. A rule that fails (a step's error, a Lua error, a limit, a result that is not an
 * event, a route answer that is not a legal route) produces a dead letter instead: the event does not go
 * on, and nothing of it is emitted. Events of tables without a rule pass through unchanged
 * (never routed).
 * Ownership: a set copies the specs; emitted events live until the next apply on the set;
 * derived table definitions live in the rules_defs passed in (shared across sets, so sinks can
 * keep pointers to them across reloads). Not thread-safe: one thread applies a set. */
#ifndef SLUICE_RULES_RULES_ENGINE_H
#define SLUICE_RULES_RULES_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/event.h"
#include "pipeline/sink.h"
#include "rules/rules_marshal.h"
#include "rules/rules_vm.h"

typedef struct rule_spec {
    const char *name;       /* the rule's name, for dead letters and errors */
    uint32_t version;
    const char *pattern;    /* "schema.table" glob (fnmatch) */
    const char *source;     /* the Lua chunk */
} rule_spec;

/* A dead letter: rule, version, error and the event as it entered the rule (pipeline/sink.h). */
typedef sink_dead_letter rules_dead_letter;

typedef struct rules_output {
    /* Each resulting event, in order, with its route in ev->route_topic / ev->route_table. */
    int (*emit)(void *arg, const event *ev, char *err, size_t errlen);
    /* An event a rule could not transform. */
    int (*dead_letter)(void *arg, const rules_dead_letter *dl, char *err, size_t errlen);
    void *arg;
} rules_output;

typedef struct rules_set rules_set;

/* Compile every spec (all or nothing: the first failure is the reason, naming the rule). lim and
 * lookups may be NULL. NULL with the reason in err. */
rules_set *rules_set_compile(const rule_spec *specs, size_t n, const rules_limits *lim,
                             const rules_lookup_ops *lookups, rules_defs *defs, char *err, size_t errlen);
void rules_set_destroy(rules_set *s);   /* accepts NULL */

/* The rule that applies to schema.table, or NULL. */
const rule_spec *rules_set_match(rules_set *s, const char *schema, const char *table);

/* Transform ev and hand the result to out. Returns 1 when a rule applied (also when it produced a
 * dead letter), 0 when the table has none (ev itself was emitted), or -1 with the reason in err
 * when out's callbacks failed. */
int rules_set_apply(rules_set *s, const event *ev, const rules_output *out, char *err, size_t errlen);

#endif
