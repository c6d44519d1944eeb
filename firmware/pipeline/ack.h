/* ack: the acknowledgement tracker. Each sink reports the LSN up to which its output is durable;
 * the LSN confirmed to PostgreSQL as flushed is the minimum over all sinks, never more.
 * Thread-safe (Kafka delivery reports arrive on librdkafka's threads). */
#ifndef SLUICE_PIPELINE_ACK_H
#define SLUICE_PIPELINE_ACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ack_tracker ack_tracker;

/* nsinks sinks, each starting durable at start_lsn (the position streaming resumes from). */
ack_tracker *ack_tracker_create(size_t nsinks, uint64_t start_lsn);
void ack_tracker_destroy(ack_tracker *a);
/* Sink i has made everything up to lsn durable. Lower values than before are ignored. */
void ack_tracker_durable(ack_tracker *a, size_t sink, uint64_t lsn);
/* The LSN every sink has made durable. */
uint64_t ack_tracker_flushed(ack_tracker *a);

#endif
