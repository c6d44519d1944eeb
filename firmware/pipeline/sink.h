/* sink: where captured changes go (Kafka producer, lake writers, a JSON-lines file). A sink is a
 * const ops table plus its state. The capture calls begin, change (once per event), commit for
 * each transaction in commit order (begin and commit may be NULL), and flush from time to time
 * and before stopping. Flush pushes out what the sink buffers. A synchronous sink (a file) is
 * durable when flush returns; an asynchronous one (Kafka) need not wait for its
 * acknowledgements, except when wait is set (the initial snapshot is complete, or the capture
 * is stopping): then it returns 0 only once everything handed over is durable, and -1 with the
 * reason when that cannot happen (a delivery failed, or it gave up waiting).
 * Durability is reported through the ack tracker: when everything up to a transaction's end_lsn
 * is durable, the sink calls ack_tracker_durable() (from any thread) with that LSN; the capture
 * confirms to PostgreSQL only what every sink has made durable, never more.
 * Dead letters: an event a transformation rule could not transform does not reach change; the
 * rules stage records it and then offers it to each sink's optional dead_letter op (NULL: the
 * sink ignores dead letters), inside the transaction it came from, so a sink that publishes it
 * (the Kafka sink's DLQ topic) counts it in that transaction's durability like a change.
 * Every op returns 0, or -1 with the reason in err (the capture then stops without confirming
 * anything further). */
#ifndef SLUICE_PIPELINE_SINK_H
#define SLUICE_PIPELINE_SINK_H

#include <stddef.h>
#include <stdint.h>
#include "pipeline/event.h"

/* An event a rule could not transform. Borrowed for the duration of the call. */
typedef struct sink_dead_letter {
    const char *rule;       /* the rule's name */
    uint32_t version;       /* the rule's version */
    const char *error;      /* "users.lua:4: attempt to index a nil value (field 'after')" */
    const event *ev;        /* the event as it entered the rule */
} sink_dead_letter;

typedef struct sink_ops {
    const char *name;
    int (*begin)(void *self, const tx_info *tx, char *err, size_t errlen);
    int (*change)(void *self, const event *ev, char *err, size_t errlen);
    int (*commit)(void *self, const tx_info *tx, char *err, size_t errlen);
    int (*flush)(void *self, int wait, char *err, size_t errlen);
    void (*destroy)(void *self);
    /* Optional (NULL: ignored): a dead letter of the open transaction. */
    int (*dead_letter)(void *self, const sink_dead_letter *dl, char *err, size_t errlen);
    /* Optional (NULL: never): 1 when the sink has work that waits for the next source transaction
     * (the rules stage's requested replays). Asked between transactions, about once a second; the
     * capture then writes a transactional logical message so that one arrives on an idle source. */
    int (*wants_transaction)(void *self);
} sink_ops;

typedef struct sink {
    const sink_ops *ops;
    void *self;
} sink;

#endif
