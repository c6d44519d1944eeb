/* rules_replay: replaying dead letters, in the store. A replay is requested (the CLI, the API)
 * by marking dead letters 'requested' and moving a counter (meta key dead_letter_replays) the
 * running rules stage checks at most once a second; the stage performs it at the commit of the
 * next streamed transaction T: it takes the requested dead letters, assigning each to T
 * (replay_lsn = T's end LSN, replay_seq = its position among T's replays, state 'replayed') in
 * one store transaction, replays them, then records each outcome (replay_result). Assigned
 * dead letters are taken again, in the same positions, when PostgreSQL sends T again (it was
 * not confirmed before a crash), so the replayed events get the same positions and the sinks'
 * watermarks skip what they already wrote. Only dead letters with a stored typed event
 * (recorded by this version or later) in state 'none' can be requested.
 * Ownership: items are freed with rules_replay_items_free. */
#ifndef SLUICE_RULES_RULES_REPLAY_H
#define SLUICE_RULES_RULES_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define RULES_REPLAY_BATCH 1000   /* newly requested dead letters one transaction takes */

typedef struct rules_replay_counts {
    long requested;      /* marked now */
    long already;        /* requested or replayed before */
    long unreplayable;   /* recorded without a typed event (before replays existed) */
    long missing;        /* ids that name no dead letter */
} rules_replay_counts;

/* Request replays: the dead letters with the nids ids given, else every one of rule, else (all
 * set) every one. Moves the counter when any was marked. 0, or -1 with err. */
int rules_replay_request(store *st, const int64_t *ids, size_t nids, const char *rule, int all,
                         rules_replay_counts *out, char *err, size_t errlen);

/* The counter requests move (0 before any). -1 on a store error. */
int64_t rules_replay_counter(store *st);

/* How many dead letters are requested and not replayed yet, or -1 when the store cannot say. */
int64_t rules_replay_requested(store *st);

/* The end LSNs transactions took replays at, ascending (malloc'd). 0, or -1 with err. */
int rules_replay_assigned(store *st, uint64_t **lsns, size_t *n, char *err, size_t errlen);

typedef struct rules_replay_item {
    int64_t id;
    int64_t seq;          /* position among the transaction's replays, from 0 */
    char *typed;          /* the stored typed event (rules_typed.h) */
    char *result;         /* set by the caller before rules_replay_done (malloc'd or NULL) */
} rules_replay_item;

/* The dead letters the transaction ending at end_lsn replays, by position: those already assigned
 * to it, then (take_new set) up to RULES_REPLAY_BATCH requested ones, assigned to it now. *more
 * is set when requested ones are left for a later transaction. 0, or -1 with err. */
int rules_replay_take(store *st, uint64_t end_lsn, int take_new, rules_replay_item **items, size_t *n, int *more,
                      char *err, size_t errlen);

/* Record each item's result. 0, or -1 with err. */
int rules_replay_done(store *st, const rules_replay_item *items, size_t n, char *err, size_t errlen);

void rules_replay_items_free(rules_replay_item *items, size_t n);

#endif
