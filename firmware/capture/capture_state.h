/* capture_state: what the capture remembers per slot in the store (table capture_state):
 * whether the slot's initial snapshot completed and was made durable, and its consistent point.
 * A slot whose snapshot never completed is dropped and snapshotted again. */
#ifndef SLUICE_CAPTURE_CAPTURE_STATE_H
#define SLUICE_CAPTURE_CAPTURE_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

/* *done = 1 when slot's snapshot is recorded as complete, else 0 (also for unknown slots). */
int capture_state_snapshot_done(store *st, const char *slot, int *done, char *err, size_t errlen);
int capture_state_record(store *st, const char *slot, int done, uint64_t consistent_lsn, char *err,
                         size_t errlen);

#endif
