/* rules_history: read-only views of the rules in the store for the console (rules_store.h writes
 * them): the rules with their active and latest versions, one rule's version history (author,
 * time, comment, source), one version's source, and the latest dead letters. Answers are JSON
 * (jansson) in the shapes the API serves; times are unix seconds.
 * Ownership: returned values belong to the caller (json_decref, free). */
#ifndef SLUICE_RULES_RULES_HISTORY_H
#define SLUICE_RULES_RULES_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"

#define RULES_HISTORY_NO_RULE 1
#define RULES_HISTORY_NO_VERSION 2

/* [{name, pattern, position, active_version (null: inactive), latest, versions, updated_at}] in
 * matching order. NULL with err. */
json_t *rules_history_list(store *st, char *err, size_t errlen);

/* {name, pattern, position, active_version, latest, updated_at, versions: [{version, author,
 * created_at, comment, active, source}]} newest version first; only: 0 every version, else just
 * that one. 0, RULES_HISTORY_NO_RULE, RULES_HISTORY_NO_VERSION, or -1 with err. */
int rules_history_rule(store *st, const char *name, uint32_t only, json_t **out, char *err, size_t errlen);

/* The source of version (malloc'd) and the rule's pattern (malloc'd; either out may be NULL).
 * 0, RULES_HISTORY_NO_RULE, RULES_HISTORY_NO_VERSION, or -1 with err. */
int rules_history_source(store *st, const char *name, uint32_t version, char **source, char **pattern, char *err,
                         size_t errlen);

/* The latest limit dead letters, newest first: [{id, ts, rule, version, error, table, lsn, event
 * (the captured event's Debezium JSON, parsed; a string when it does not parse), replayable (a
 * replayable event is stored), replay_state ("none", "requested", "replayed"), replay_lsn (end LSN
 * of the transaction that replayed it, or null), replayed_at, replay_result (the outcome:
 * "transformed by mask v3 into 1 event(s)", "failed again with mask v3: dead letter 12", ...),
 * replay_of (the dead letter whose replay this one is, or null)}]. NULL with err. */
json_t *rules_history_dead_letters(store *st, int limit, char *err, size_t errlen);

#endif
