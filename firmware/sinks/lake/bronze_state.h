/* bronze_state: what the bronze writer remembers per destination table (a captured
 * "schema.table" or a rule's route table name) in the store (table bronze_tables),
 * so that after a crash and a replay from the slot every event lands in exactly one object:
 * the watermark (position of the last event in a durable object; replayed events at or below it
 * are skipped) and the intent recorded before each upload (key and last position). An intent
 * left by a crash is settled at start by asking the object store whether the object exists.
 * Positions order events: (LSN of the transaction's commit record, sequence within it). */
#ifndef SLUICE_SINKS_LAKE_BRONZE_STATE_H
#define SLUICE_SINKS_LAKE_BRONZE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct bronze_pos {
    uint64_t lsn;   /* 0 = before everything */
    uint64_t seq;
} bronze_pos;

/* -1, 0, 1 as a is before, equal to, after b. */
int bronze_pos_cmp(bronze_pos a, bronze_pos b);

/* The watermark of source/table ({0, 0} when none). 0, or -1 with the reason in err. */
int bronze_state_watermark(store *st, const char *source, const char *table, bronze_pos *out, char *err,
                           size_t errlen);
/* Before uploading key, whose last event is at last. */
int bronze_state_intend(store *st, const char *source, const char *table, const char *key, bronze_pos last,
                        char *err, size_t errlen);
/* key is durable: the watermark moves to last and the intent is cleared. */
int bronze_state_done(store *st, const char *source, const char *table, bronze_pos last, char *err,
                      size_t errlen);

/* Does key exist in the object store? 1 yes, 0 no, -1 cannot tell (reason in err). */
typedef int (*bronze_exists_fn)(void *arg, const char *key, char *err, size_t errlen);

/* Settle the intents of source left by a crash: an object that exists moves its table's watermark
 * (its events are durable), one that does not is forgotten (they will be written again). Returns
 * the number settled, or -1 with the reason in err (then nothing may be written yet). */
int bronze_state_recover(store *st, const char *source, bronze_exists_fn exists, void *arg, char *err,
                         size_t errlen);

#endif
