/* sink: where captured changes go (Kafka producer, lake writers, a JSON-lines file). A sink is a
 * const ops table plus its state. The capture calls begin, change (once per event), commit for
 * each transaction in commit order (begin and commit may be NULL), and flush from time to time
 * and before stopping; flush returns once everything handed over so far is durable (an
 * asynchronous sink waits for its outstanding acknowledgements).
 * Durability is also reported continuously: when everything up to a transaction's end_lsn is
 * durable, the sink calls ack_tracker_durable() (from any thread) with that LSN; the capture
 * confirms to PostgreSQL only what every sink has made durable.
 * Every op returns 0, or -1 with the reason in err (the capture then stops without confirming
 * anything further). */
#ifndef SLUICE_PIPELINE_SINK_H
#define SLUICE_PIPELINE_SINK_H

#include <stddef.h>
#include "pipeline/event.h"

typedef struct sink_ops {
    const char *name;
    int (*begin)(void *self, const tx_info *tx, char *err, size_t errlen);
    int (*change)(void *self, const event *ev, char *err, size_t errlen);
    int (*commit)(void *self, const tx_info *tx, char *err, size_t errlen);
    int (*flush)(void *self, char *err, size_t errlen);
    void (*destroy)(void *self);
} sink_ops;

typedef struct sink {
    const sink_ops *ops;
    void *self;
} sink;

#endif
