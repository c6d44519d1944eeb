/* rules_sink: the rules stage in the pipeline, as a sink placed in front of the real ones. It
 * applies the store's active rules (rules_store.h, rules_engine.h) to every event and hands the
 * results to the downstream sinks; transactions, flushes and acknowledgements pass straight
 * through (the downstream sinks report to the ack tracker themselves; a dropped event needs no
 * acknowledgement of its own). A rule change is picked up at the next transaction boundary: at
 * most once a second it checks the store's rules generation and, when it moved, compiles the new
 * set and swaps it in before the transaction's first event; a set that fails to compile is
 * reported (component "rules" degraded) and the previous one stays. Dead letters are recorded
 * in the store with the event as Debezium JSON and in its replayable typed form (rules_typed.h),
 * then handed to each downstream sink's dead_letter op (the Kafka DLQ); the pipeline goes on.
 * Requested replays (rules_replay.h) are performed at the commit of the next streamed
 * transaction, before the commit goes downstream: each rebuilt event, re-stamped into that
 * transaction after its events (input seq from (its highest seq + 1) * RULES_SEQ_SPLIT), goes
 * through the current rules like a captured one. Every event is offered, as
 * captured, to the sample the console's dry runs use (rules_sample.h), when one is given.
 * Events a rule emits carry seq = the input's seq * RULES_SEQ_SPLIT + their index in the result,
 * so split events keep distinct, ordered positions.
 * Ownership: deps are borrowed (the downstream sinks must outlive this one). */
#ifndef SLUICE_RULES_RULES_SINK_H
#define SLUICE_RULES_RULES_SINK_H

#include <stddef.h>

#include "core/health.h"
#include "core/metrics.h"
#include "pipeline/sink.h"
#include "rules/rules_vm.h"
#include "rules/rules_sample.h"
#include "store/store.h"

#define RULES_SEQ_SPLIT 1024

typedef struct rules_sink_deps {
    store *st;
    const sink *downstream;   /* the real sinks, in order */
    size_t ndownstream;
    metrics *metrics;         /* may be NULL */
    health *health;           /* component "rules"; may be NULL */
    const char *db;           /* database name, for the dead letters' Debezium JSON */
    rules_sample *sample;     /* recent events for the console's dry runs; may be NULL */
    rules_limits limits;      /* each rule's sandbox (rules.*); zeros: the defaults */
    int replay_nudge;         /* ask for a source transaction when replays wait (sink.h
                               * wants_transaction; rules.replay_writes_transaction) */
} rules_sink_deps;

/* 0, or -1 with the reason in err (the store's active rules do not compile). */
int rules_sink_create(const rules_sink_deps *d, sink *out, char *err, size_t errlen);

#endif
