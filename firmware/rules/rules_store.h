/* rules_store: transformation rules in the store: every version of every rule (source, author,
 * time, comment), which version of each is active and in which order rules match, the dead
 * letters rules produce, and the reference tables sluice.lookup() reads. A generation counter
 * (meta key rules_generation) moves whenever the active rules change, so the pipeline notices a
 * change with one cheap query and reloads at a transaction boundary. Replaying dead letters is
 * rules_replay.h.
 * Ownership: specs returned by rules_store_active are freed with rules_store_specs_free. */
#ifndef SLUICE_RULES_RULES_STORE_H
#define SLUICE_RULES_RULES_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rules/rules_engine.h"
#include "rules/rules_vm.h"
#include "store/store.h"

/* Add a new version of rule name (created, at the end of the matching order, if new; the pattern
 * is updated). It is not active until rules_store_activate. *version gets its number.
 * 0, or -1 with the reason in err. */
int rules_store_add_version(store *st, const char *name, const char *pattern, const char *source,
                            const char *author, const char *comment, uint32_t *version, char *err, size_t errlen);
/* Make version the active one of name (a rollback is activating an older version); version 0
 * deactivates the rule. Moves the generation. 0, or -1 with err (unknown rule or version). */
int rules_store_activate(store *st, const char *name, uint32_t version, char *err, size_t errlen);

/* The generation of the active rules (0 before any activation). -1 on a store error. */
int64_t rules_store_generation(store *st);
/* The active rules in matching order (malloc'd array of specs with malloc'd strings) and the
 * generation they belong to. 0, or -1 with err. */
int rules_store_active(store *st, rule_spec **specs, size_t *n, int64_t *generation, char *err, size_t errlen);
void rules_store_specs_free(rule_spec *specs, size_t n);

/* Record a dead letter: event_json is the event as Debezium JSON, event_typed its replayable
 * form (rules_typed.h; its SHA-256 identifies the event), replay_of the dead letter whose replay
 * failed again (0: none). *id gets the dead letter's id (may be NULL). 0 recorded, 1 the same
 * event is already recorded (a transaction PostgreSQL sent again after a crash; *id is that
 * one), or -1 with err. */
int rules_store_dead_letter_add(store *st, const rules_dead_letter *dl, const char *event_json,
                                const char *event_typed, int64_t replay_of, int64_t *id, char *err, size_t errlen);

/* Lookups served from the reference_data table of st, for rules_vm_create. */
rules_lookup_ops rules_store_lookups(store *st);
/* Set (val NULL: remove) one reference entry. 0, or -1 with err. */
int rules_store_reference_set(store *st, const char *table, const char *key, const char *val, char *err,
                              size_t errlen);

#endif
