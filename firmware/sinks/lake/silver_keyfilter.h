/* silver_keyfilter: a Bloom filter of one silver table's row keys, so that the live-row index
 * (silver_state.h) answers "no such row" for a new key without a database lookup: a key the
 * filter has never seen is certainly absent; one it has seen may be present (about 1% of absent
 * keys also look present, and are looked up). Keys are only added; a removed key stays "maybe".
 * The filter is sized for a capacity; once more keys than that were added it says so
 * (silver_keyfilter_full) and the owner rebuilds a larger one from the index.
 * Ownership: create/destroy; keys are hashed, not kept. */
#ifndef SLUICE_SINKS_LAKE_SILVER_KEYFILTER_H
#define SLUICE_SINKS_LAKE_SILVER_KEYFILTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct silver_keyfilter silver_keyfilter;

/* A filter for up to capacity keys (at least 1024). NULL when out of memory. */
silver_keyfilter *silver_keyfilter_create(size_t capacity);
void silver_keyfilter_destroy(silver_keyfilter *f);   /* accepts NULL */

void silver_keyfilter_add(silver_keyfilter *f, const void *key, size_t len);
/* 0: key was never added. 1: it may have been. */
int silver_keyfilter_maybe(const silver_keyfilter *f, const void *key, size_t len);
/* 1 once more keys than its capacity were added (its false-positive rate climbs). */
int silver_keyfilter_full(const silver_keyfilter *f);
/* Keys added so far (with repeats). */
size_t silver_keyfilter_count(const silver_keyfilter *f);

#endif
